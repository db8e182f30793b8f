"""Care coordination pages: a coordinator's people at risk, and coverage for everyone else.

``/care``: the care coordinator's list (``VIEW_PATIENTS``, their own HWB only; direct
care): each person at risk with tier, probability, joint care plan status, review due
(overdue flagged) and the accountable lead professional. Every view is audit-logged.

``/care/coverage``: the share of people at risk with an active joint care plan, a lead
professional and both, by GP practice and month (``VIEW_METRICS``: editors, analysts,
coordinators of the HWB; the assurer and admin choose the HWB). Aggregates only; for
everyone but the HWB's coordinators, counts of 1-7 are suppressed and the rest rounded
to 5 (:func:`bettercare.analytics.care_coverage.published`).
"""

from __future__ import annotations

import datetime as dt
import re

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from bettercare.analytics.care_coverage import (
    ALL,
    CoverageRow,
    coverage,
    months_between,
    published,
)
from bettercare.app import audit
from bettercare.app.care_register import coordinator_list, people_at_risk
from bettercare.app.security import (
    EVERY_HWB,
    Action,
    Principal,
    Role,
    authorize,
    client_ip,
    current_principal,
)
from bettercare.app.templating import render

router = APIRouter()
MONTHS_SHOWN = 12
_HWB = re.compile(r"[A-Za-z0-9-]{1,64}")
_GROUP_LABELS = {
    ALL: "Everyone at risk",
    "cohort_60_plus": "Aged 60 and over",
    "cohort_18_59_ltc3": "Aged 18-59 with 3+ long-term conditions",
    "cohort_dementia": "Dementia",
}


@router.get("/care", response_class=HTMLResponse)
def care_list(
    request: Request,
    practice: str | None = None,
    tier: str | None = None,
    principal: Principal = Depends(current_principal),
) -> HTMLResponse:
    """The care coordinator's people at risk (their own HWB; direct care only)."""
    hwb = principal.hwb_code
    authorize(request, principal, Action.VIEW_PATIENTS, "care:list", hwb)
    assert hwb is not None  # a care coordinator always has an HWB
    today = dt.date.today()
    with request.app.state.sessions() as db:
        rows = coordinator_list(db, hwb, today)
        practices = sorted({r.patient.gp_practice for r in rows if r.patient.gp_practice})
        tiers = sorted({r.assessment.tier for r in rows if r.assessment and r.assessment.tier})
        shown = [
            r
            for r in rows
            if (not practice or r.patient.gp_practice == practice)
            and (not tier or (r.assessment is not None and r.assessment.tier == tier))
        ]
        audit.record(
            db,
            principal,
            "view_care_list",
            f"hwb:{hwb}",
            ip=client_ip(request),
            detail=f"{len(shown)} people; practice={practice or 'all'} tier={tier or 'all'}",
        )
        db.commit()
    return render(
        request,
        "care.html.j2",
        principal,
        rows=shown,
        total=len(rows),
        practices=practices,
        tiers=tiers,
        practice=practice or "",
        tier=tier or "",
        today=today,
    )


@router.get("/care/coverage", response_class=HTMLResponse)
def care_coverage(
    request: Request, hwb: str | None = None, principal: Principal = Depends(current_principal)
) -> HTMLResponse:
    """Coverage of joint care plans and lead professionals by practice and month."""
    code = hwb if principal.role in EVERY_HWB and hwb and _HWB.fullmatch(hwb) else None
    code = code or principal.hwb_code
    authorize(request, principal, Action.VIEW_METRICS, "care:coverage", code)
    today = dt.date.today()
    months = months_between(
        (today.replace(day=1) - dt.timedelta(days=31 * (MONTHS_SHOWN - 1))).replace(day=1), today
    )
    rows: list[CoverageRow] = []
    if code is not None:
        with request.app.state.sessions() as db:
            rows = coverage(people_at_risk(db, code), months)
    exact = principal.role is Role.CARE_COORDINATOR
    latest = months[-1]
    trend = [(r, published(r, exact)) for r in rows if r.gp_practice == ALL and r.group == ALL]
    latest_groups = [
        (r, published(r, exact)) for r in rows if r.gp_practice == ALL and r.month == latest
    ]
    by_practice = [
        (r, published(r, exact))
        for r in rows
        if r.gp_practice != ALL and r.month == latest and r.group == ALL
    ]
    return render(
        request,
        "care_coverage.html.j2",
        principal,
        hwb=code,
        trend=trend,
        latest_groups=latest_groups,
        by_practice=by_practice,
        latest=latest,
        exact=exact,
        labels=_GROUP_LABELS,
    )
