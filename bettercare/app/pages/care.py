"""Care coordination pages: a coordinator's people at risk, and coverage for everyone else.

``/care``: the care coordinator's list (``VIEW_PATIENTS``, their own HWB only; direct
care): each person at risk with tier, probability, joint care plan status, review due
(overdue flagged) and the accountable lead professional. ``/care/patients/<id>``: one
person's risk history, plans and care team, with forms to record the joint care plan
(optimistic locking on its version) and the lead professional (``EDIT_CARE_RECORDS``).
Every view and change is audit-logged.

``/care/coverage``: the share of people at risk with an active joint care plan, a lead
professional and both, by GP practice and month (``VIEW_METRICS``: editors, analysts,
coordinators of the HWB; the assurer and admin choose the HWB). Aggregates only; for
everyone but the HWB's coordinators, counts of 1-7 are suppressed and the rest rounded
to 5 (:func:`bettercare.analytics.care_coverage.published`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from bettercare.analytics.care_coverage import (
    ALL,
    CoverageRow,
    coverage,
    last_months,
    published,
)
from bettercare.app import audit
from bettercare.app.care_register import (
    coordinator_list,
    people_at_risk,
    plan_of,
    team_of,
    write_plan,
    write_team,
)
from bettercare.app.models import CarePatient, CarePlanRecord, CareRiskAssessment, CareTeamRecord
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
from bettercare.domain.care import (
    CarePlanStatus,
    CareRecordError,
    CareTeam,
    CareTeamMember,
    JointCarePlan,
)

router = APIRouter()
MONTHS_SHOWN = 12
_HWB = re.compile(r"[A-Za-z0-9-]{1,64}")
_ID = re.compile(r"[0-9]{1,18}")
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
    months = last_months(today, MONTHS_SHOWN)
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


# --- one person: details, and the forms to record the plan and the lead professional ----

_PLAN_FIELDS = ("status", "period_start", "period_end", "review_due", "title")
_LEAD_FIELDS = ("name", "role", "organisation", "start")
_FIELD_OF = {
    "period.start": "period_start",
    "period.end": "period_end",
    "review due": "review_due",
    "participant.member": "name",
    "participant.role": "role",
    "participant.onBehalfOf": "organisation",
    "participant.period": "start",
}


def _patient_or_404(
    request: Request, db: Session, principal: Principal, patient_id: str, action: Action
) -> CarePatient:
    """The patient of ``patient_id`` if the caller may act on them (403 / 404 otherwise)."""
    target = f"care:patient/{patient_id[:40]}"
    authorize(request, principal, action, target)
    patient = db.get(CarePatient, int(patient_id)) if _ID.fullmatch(patient_id) else None
    if patient is None:
        raise HTTPException(404, "no such person in the register")
    authorize(request, principal, action, target, patient.hwb_code)
    return patient


def _main_plan(db: Session, patient: CarePatient) -> CarePlanRecord | None:
    """The plan the page shows and edits: the newest active one, else the newest."""
    plans = list(
        db.scalars(
            select(CarePlanRecord)
            .where(CarePlanRecord.patient_id == patient.id)
            .order_by(CarePlanRecord.id)
        )
    )
    active = [p for p in plans if p.status == CarePlanStatus.ACTIVE]
    chosen = active or plans
    return chosen[-1] if chosen else None


def _patient_page(
    request: Request,
    db: Session,
    principal: Principal,
    patient: CarePatient,
    status_code: int = 200,
    plan_form: dict[str, str] | None = None,
    lead_form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    plans = list(
        db.scalars(
            select(CarePlanRecord)
            .where(CarePlanRecord.patient_id == patient.id)
            .order_by(CarePlanRecord.id)
        )
    )
    teams = list(
        db.scalars(
            select(CareTeamRecord)
            .where(CareTeamRecord.patient_id == patient.id)
            .order_by(CareTeamRecord.id)
        )
    )
    scores = list(
        db.scalars(
            select(CareRiskAssessment)
            .where(CareRiskAssessment.patient_id == patient.id)
            .order_by(CareRiskAssessment.assessed_on.desc())
        )
    )
    plan = _main_plan(db, patient)
    lead = next((m for t in teams for m in t.members if m.lead), None)
    if plan_form is None:
        plan_form = {
            f: "" if plan is None or getattr(plan, f) is None else str(getattr(plan, f))
            for f in _PLAN_FIELDS
        }
        plan_form["version"] = str(plan.version) if plan else ""
    if lead_form is None:
        lead_form = {
            "name": lead.name if lead else "",
            "role": lead.role if lead else "",
            "organisation": (lead.organisation or "") if lead else "",
            "start": str(lead.start_date or "") if lead else "",
        }
    return render(
        request,
        "care_patient.html.j2",
        principal,
        status_code=status_code,
        patient=patient,
        plans=plans,
        teams=teams,
        scores=scores,
        plan=plan,
        plan_form=plan_form,
        lead_form=lead_form,
        errors=errors or {},
        statuses=[s.value for s in CarePlanStatus],
        labels=_GROUP_LABELS,
    )


@router.get("/care/patients/{patient_id}", response_class=HTMLResponse)
def care_patient(
    request: Request, patient_id: str, principal: Principal = Depends(current_principal)
) -> HTMLResponse:
    """One person: risk, joint care plans and care team, with forms to record them."""
    with request.app.state.sessions() as db:
        patient = _patient_or_404(request, db, principal, patient_id, Action.VIEW_PATIENTS)
        audit.record(
            db,
            principal,
            "view_patient",
            f"care:patient/{patient.id}",
            ip=client_ip(request),
            hwb_code=patient.hwb_code,
        )
        db.commit()
        return _patient_page(request, db, principal, patient)


def _sentence(message: str) -> str:
    """A rule's message as a sentence for the page."""
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def _date_field(form: dict[str, str], name: str, errors: dict[str, str]) -> dt.date | None:
    value = form.get(name, "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        errors[name] = "Enter a date as YYYY-MM-DD."
        return None


def _record_invalid(
    request: Request,
    db: Session,
    principal: Principal,
    action: str,
    target: str,
    patient: CarePatient,
    errors: dict[str, str],
) -> None:
    """Audit-log (and commit) a refused save whose form had ``errors``; nothing is saved."""
    audit.record(
        db,
        principal,
        action,
        target,
        audit.INVALID,
        ip=client_ip(request),
        hwb_code=patient.hwb_code,
        detail="; ".join(f"{k}: {v}" for k, v in errors.items()),
    )
    db.commit()


def _record_saved(
    request: Request,
    db: Session,
    principal: Principal,
    action: str,
    target: str,
    patient: CarePatient,
    before: dict[str, Any] | None,
    after: JointCarePlan | CareTeam,
) -> None:
    """Audit-log a saved plan or care team (before and after) and commit both together."""
    audit.record(
        db,
        principal,
        action,
        target,
        before=before,
        after=dataclasses.asdict(after),
        ip=client_ip(request),
        hwb_code=patient.hwb_code,
    )
    db.commit()


async def _form(request: Request, fields: tuple[str, ...]) -> dict[str, str]:
    data = await request.form()
    return {f: str(data.get(f, ""))[:200] for f in (*fields, "version")}


@router.post("/care/patients/{patient_id}/plan", response_class=HTMLResponse)
async def save_care_plan(
    request: Request, patient_id: str, principal: Principal = Depends(current_principal)
) -> Response:
    """Record the joint care plan (new, or a new version of the current one)."""
    form = await _form(request, _PLAN_FIELDS)
    with request.app.state.sessions() as db:
        patient = _patient_or_404(request, db, principal, patient_id, Action.EDIT_CARE_RECORDS)
        target = f"care:patient/{patient.id}/plan"
        errors: dict[str, str] = {}
        dates = {
            f: _date_field(form, f, errors) for f in ("period_start", "period_end", "review_due")
        }
        if form["status"] not in {s.value for s in CarePlanStatus}:
            errors["status"] = "Choose a status."
        plan = None
        if not errors:
            try:
                plan = JointCarePlan(
                    CarePlanStatus(form["status"]),
                    dates["period_start"],
                    dates["period_end"],
                    dates["review_due"],
                    form["title"].strip() or None,
                )
            except CareRecordError as exc:
                errors[_FIELD_OF.get(exc.field, "status")] = _sentence(exc.message)
        record = _main_plan(db, patient) if form["version"] else None
        if record is not None and str(record.version) != form["version"]:
            audit.record(
                db,
                principal,
                "edit_care_plan",
                target,
                audit.CONFLICT,
                ip=client_ip(request),
                hwb_code=patient.hwb_code,
                detail=f"stale version {form['version']}",
            )
            db.commit()
            errors = {
                "status": "Someone else saved this plan meanwhile: the form now shows "
                "their version. Check it and save again."
            }
            return _patient_page(request, db, principal, patient, 409, None, None, errors)
        if errors or plan is None:
            _record_invalid(request, db, principal, "edit_care_plan", target, patient, errors)
            return _patient_page(request, db, principal, patient, 422, form, None, errors)
        before = dataclasses.asdict(plan_of(record)) if record is not None else None
        record = write_plan(record or CarePlanRecord(), patient, plan, principal.username)
        db.add(record)
        try:
            db.flush()
        except StaleDataError:
            db.rollback()
            errors["status"] = "Someone else saved this plan meanwhile: reload and try again."
            return _patient_page(request, db, principal, patient, 409, form, None, errors)
        _record_saved(
            request, db, principal, "edit_care_plan", f"CarePlan/{record.id}", patient, before, plan
        )
    return RedirectResponse(f"/care/patients/{patient.id}", status_code=303)


@router.post("/care/patients/{patient_id}/lead", response_class=HTMLResponse)
async def save_lead(
    request: Request, patient_id: str, principal: Principal = Depends(current_principal)
) -> Response:
    """Name the accountable lead professional (in the person's care team)."""
    form = await _form(request, _LEAD_FIELDS)
    with request.app.state.sessions() as db:
        patient = _patient_or_404(request, db, principal, patient_id, Action.EDIT_CARE_RECORDS)
        target = f"care:patient/{patient.id}/lead"
        errors: dict[str, str] = {}
        start = _date_field(form, "start", errors)
        team_record = db.scalar(
            select(CareTeamRecord)
            .where(CareTeamRecord.patient_id == patient.id)
            .order_by(CareTeamRecord.id)
        )
        team = None
        if not errors:
            try:
                lead = CareTeamMember(
                    form["name"].strip(),
                    form["role"].strip(),
                    form["organisation"].strip() or None,
                    True,
                    start,
                )
                others = team_of(team_record).members if team_record is not None else ()
                team = CareTeam(
                    (lead, *(m for m in others if not m.lead)),
                    team_record.name if team_record is not None else "Care team",
                )
            except CareRecordError as exc:
                errors[_FIELD_OF.get(exc.field, "name")] = _sentence(exc.message)
        if errors or team is None:
            _record_invalid(request, db, principal, "edit_care_team", target, patient, errors)
            return _patient_page(request, db, principal, patient, 422, None, form, errors)
        before = dataclasses.asdict(team_of(team_record)) if team_record is not None else None
        record = write_team(team_record or CareTeamRecord(), patient, team, principal.username)
        db.add(record)
        db.flush()
        _record_saved(
            request, db, principal, "edit_care_team", f"CareTeam/{record.id}", patient, before, team
        )
    return RedirectResponse(f"/care/patients/{patient.id}", status_code=303)
