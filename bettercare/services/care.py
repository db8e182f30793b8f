"""Care coordination in the web app: the coordinator's list, coverage, one person's records.

The coordinator's list and a person's page are patient-level data for direct care
(``VIEW_PATIENTS``: the care coordinators of the person's HWB only); every view and change
is audit-logged. Coverage is aggregate (``VIEW_METRICS``): for everyone but the HWB's
coordinators, counts of 1-7 are suppressed and the rest rounded to 5
(:func:`bettercare.analytics.care_coverage.published`). Storage is
:mod:`bettercare.data.care_register`; the rules are :mod:`bettercare.domain.care`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

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
from bettercare.data.care_register import (
    CoordinatorRow,
    coordinator_list,
    people_at_risk,
    plan_of,
    team_of,
    write_plan,
    write_team,
)
from bettercare.data.tables import CarePatient, CarePlanRecord, CareRiskAssessment, CareTeamRecord
from bettercare.domain.access import EVERY_HWB, Action, Role
from bettercare.domain.care import (
    CarePlanStatus,
    CareRecordError,
    CareTeam,
    CareTeamMember,
    JointCarePlan,
)
from bettercare.domain.dates import format_uk_date, parse_uk_date
from bettercare.errors import BadInput, NotFound
from bettercare.services import audit
from bettercare.services.access import Caller, permit

MONTHS_SHOWN = 12
_HWB = re.compile(r"[A-Za-z0-9-]{1,64}")
_ID = re.compile(r"[0-9]{1,18}")
GROUP_LABELS = {
    ALL: "Everyone at risk",
    "cohort_60_plus": "Aged 60 and over",
    "cohort_18_59_ltc3": "Aged 18-59 with 3+ long-term conditions",
    "cohort_dementia": "Dementia",
}
PLAN_FIELDS = ("status", "period_start", "period_end", "review_due", "title")
LEAD_FIELDS = ("name", "role", "organisation", "start")
_FIELD_OF = {
    "period.start": "period_start",
    "period.end": "period_end",
    "review due": "review_due",
    "participant.member": "name",
    "participant.role": "role",
    "participant.onBehalfOf": "organisation",
    "participant.period": "start",
}


# --- the coordinator's list and coverage --------------------------------------------------


#: People shown on one page of the coordinator's list.
CARE_PAGE_SIZE = 25
#: Review-due filters of the coordinator's list (value -> label).
REVIEW_FILTERS = {
    "overdue": "Review overdue",
    "due30": "Review due in the next 30 days",
    "noplan": "No joint care plan",
    "nolead": "No lead professional",
}
#: Days ahead that count as "due soon" (the ``due30`` filter and the home page).
DUE_SOON_DAYS = 30


def _review_due(row: CoordinatorRow) -> dt.date | None:
    due = row.plan.review_due if row.plan is not None else None
    return due if isinstance(due, dt.date) else None


def _matches_review(row: CoordinatorRow, review: str, today: dt.date) -> bool:
    if review == "overdue":
        return row.review_overdue
    if review == "due30":
        due = _review_due(row)
        return (
            not row.review_overdue
            and due is not None
            and today <= due <= today + dt.timedelta(days=DUE_SOON_DAYS)
        )
    if review == "noplan":
        return row.plan is None
    if review == "nolead":
        return row.lead is None
    return True


def _matches_search(row: CoordinatorRow, words: list[str]) -> bool:
    """Every word in the name, the NHS number (spaces ignored) or the register's pseudonym."""
    p = row.patient
    hay = " ".join(x.lower() for x in (p.given_name, p.family_name, p.nhs_number, p.person_id) if x)
    return all(w in hay for w in words)


@dataclass
class CareList:
    """The coordinator's people at risk: searched, filtered and one page of them."""

    rows: list[CoordinatorRow]
    total: int
    practices: list[str]
    tiers: list[str]
    practice: str
    tier: str
    today: dt.date
    q: str = ""
    lead: str = ""
    review: str = ""
    leads: list[str] = field(default_factory=list)
    reviews: dict[str, str] = field(default_factory=lambda: dict(REVIEW_FILTERS))
    matched: int = 0
    page: int = 1
    pages: int = 1
    page_size: int = CARE_PAGE_SIZE

    @property
    def filters(self) -> dict[str, str]:
        """The filters in force, as query parameters (for the pagination links)."""
        named = {
            "q": self.q,
            "practice": self.practice,
            "tier": self.tier,
            "lead": self.lead,
            "review": self.review,
        }
        return {k: v for k, v in named.items() if v}


def _lead_name(row: CoordinatorRow) -> str:
    return row.lead.name if row.lead is not None and row.lead.name else ""


def care_list(
    db: Session,
    caller: Caller,
    practice: str | None,
    tier: str | None,
    today: dt.date,
    *,
    q: str | None = None,
    lead: str | None = None,
    review: str | None = None,
    page: int = 1,
) -> CareList:
    """The caller's HWB's people at risk (care coordinators only; direct care), audited.

    Searched by name, NHS number or pseudonym (``q``, every word must match), filtered by
    practice, risk tier, lead professional and review due (:data:`REVIEW_FILTERS`), then
    :data:`CARE_PAGE_SIZE` to a page (a page past the last shows the last).
    """
    hwb = caller.principal.hwb_code
    permit(db, caller, Action.VIEW_PATIENTS, "care:list", hwb)
    assert hwb is not None  # a care coordinator always has an HWB
    rows = coordinator_list(db, hwb, today)
    practices = sorted({r.patient.gp_practice for r in rows if r.patient.gp_practice})
    tiers = sorted({r.assessment.tier for r in rows if r.assessment and r.assessment.tier})
    leads = sorted({_lead_name(r) for r in rows} - {""})
    review = review if review in REVIEW_FILTERS else ""
    words = [w for w in re.split(r"\s+", (q or "").strip().lower()) if w]
    digits = "".join(words) if all(w.isdigit() for w in words) else None
    shown = [
        r
        for r in rows
        if (not practice or r.patient.gp_practice == practice)
        and (not tier or (r.assessment is not None and r.assessment.tier == tier))
        and (not lead or _lead_name(r) == lead)
        and _matches_review(r, review, today)
        and (
            not words
            or _matches_search(r, words)
            or (digits is not None and digits in r.patient.nhs_number)
        )
    ]
    pages = max(1, -(-len(shown) // CARE_PAGE_SIZE))
    page = min(max(1, page), pages)
    start = (page - 1) * CARE_PAGE_SIZE
    audit.record(
        db,
        caller.principal,
        "view_care_list",
        f"hwb:{hwb}",
        ip=caller.ip,
        detail=(
            f"{len(shown)} people; practice={practice or 'all'} tier={tier or 'all'} "
            f"lead={'chosen' if lead else 'all'} review={review or 'all'} "
            f"search={'yes' if words else 'no'} page={page}"
        ),
    )
    db.commit()
    return CareList(
        rows=shown[start : start + CARE_PAGE_SIZE],
        total=len(rows),
        practices=practices,
        tiers=tiers,
        practice=practice or "",
        tier=tier or "",
        today=today,
        q=(q or "").strip(),
        lead=lead or "",
        review=review,
        leads=leads,
        matched=len(shown),
        page=page,
        pages=pages,
    )


@dataclass(frozen=True)
class ReviewCounts:
    """The coordinator's work at a glance: counts only (the list holds the people)."""

    overdue: int
    due_soon: int
    no_plan: int
    no_lead: int
    total: int


def review_counts(db: Session, caller: Caller, today: dt.date) -> ReviewCounts:
    """How many care-plan reviews are overdue or due soon, and who lacks a plan or lead.

    Care coordinators of the HWB only (``VIEW_PATIENTS``); counts, not people, so not
    a view of anyone's record.
    """
    hwb = caller.principal.hwb_code
    permit(db, caller, Action.VIEW_PATIENTS, "care:counts", hwb)
    assert hwb is not None
    rows = coordinator_list(db, hwb, today)
    return ReviewCounts(
        overdue=sum(_matches_review(r, "overdue", today) for r in rows),
        due_soon=sum(_matches_review(r, "due30", today) for r in rows),
        no_plan=sum(_matches_review(r, "noplan", today) for r in rows),
        no_lead=sum(_matches_review(r, "nolead", today) for r in rows),
        total=len(rows),
    )


@dataclass
class Coverage:
    """Coverage of one HWB: the trend, the latest month by group and by practice."""

    hwb: str | None
    trend: list[tuple[CoverageRow, dict[str, int | float | None]]]
    latest_groups: list[tuple[CoverageRow, dict[str, int | float | None]]]
    by_practice: list[tuple[CoverageRow, dict[str, int | float | None]]]
    latest: dt.date
    exact: bool
    labels: dict[str, str] = field(default_factory=lambda: dict(GROUP_LABELS))


def care_coverage(db: Session, caller: Caller, hwb: str | None, today: dt.date) -> Coverage:
    """Coverage of joint care plans and lead professionals by practice and month."""
    principal = caller.principal
    code = hwb if principal.role in EVERY_HWB and hwb and _HWB.fullmatch(hwb) else None
    code = code or principal.hwb_code
    permit(db, caller, Action.VIEW_METRICS, "care:coverage", code)
    months = last_months(today, MONTHS_SHOWN)
    rows: list[CoverageRow] = coverage(people_at_risk(db, code), months) if code else []
    exact = principal.role is Role.CARE_COORDINATOR
    latest = months[-1]
    return Coverage(
        hwb=code,
        trend=[(r, published(r, exact)) for r in rows if r.gp_practice == ALL and r.group == ALL],
        latest_groups=[
            (r, published(r, exact)) for r in rows if r.gp_practice == ALL and r.month == latest
        ],
        by_practice=[
            (r, published(r, exact))
            for r in rows
            if r.gp_practice != ALL and r.month == latest and r.group == ALL
        ],
        latest=latest,
        exact=exact,
    )


# --- one person ---------------------------------------------------------------------------


def _patient(db: Session, caller: Caller, patient_id: str, action: Action) -> CarePatient:
    """The patient of ``patient_id`` if the caller may act on them (NotPermitted / NotFound)."""
    target = f"care:patient/{patient_id[:40]}"
    permit(db, caller, action, target)
    patient = db.get(CarePatient, int(patient_id)) if _ID.fullmatch(patient_id) else None
    if patient is None:
        raise NotFound("no such person in the register")
    permit(db, caller, action, target, patient.hwb_code)
    return patient


def _plans(db: Session, patient: CarePatient) -> list[CarePlanRecord]:
    q = select(CarePlanRecord).where(CarePlanRecord.patient_id == patient.id)
    return list(db.scalars(q.order_by(CarePlanRecord.id)))


def _main_plan(db: Session, patient: CarePatient) -> CarePlanRecord | None:
    """The plan the page shows and edits: the newest active one, else the newest."""
    plans = _plans(db, patient)
    active = [p for p in plans if p.status == CarePlanStatus.ACTIVE]
    chosen = active or plans
    return chosen[-1] if chosen else None


@dataclass
class PatientPage:
    """One person: risk history, plans and care team, and the two forms (with errors)."""

    patient: CarePatient
    plans: list[CarePlanRecord]
    teams: list[CareTeamRecord]
    scores: list[CareRiskAssessment]
    plan: CarePlanRecord | None
    plan_form: dict[str, str]
    lead_form: dict[str, str]
    errors: dict[str, str]
    status: int = 200
    statuses: list[str] = field(default_factory=lambda: [s.value for s in CarePlanStatus])
    labels: dict[str, str] = field(default_factory=lambda: dict(GROUP_LABELS))

    def context(self) -> dict[str, Any]:
        """The template's context."""
        return {
            f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "status"
        }


def _page(
    db: Session,
    patient: CarePatient,
    status: int = 200,
    plan_form: dict[str, str] | None = None,
    lead_form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> PatientPage:
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
        plan_form = {f: _shown(None if plan is None else getattr(plan, f)) for f in PLAN_FIELDS}
        plan_form["version"] = str(plan.version) if plan else ""
    if lead_form is None:
        lead_form = {
            "name": lead.name if lead else "",
            "role": lead.role if lead else "",
            "organisation": (lead.organisation or "") if lead else "",
            "start": _shown(lead.start_date) if lead else "",
        }
    return PatientPage(
        patient=patient,
        plans=_plans(db, patient),
        teams=teams,
        scores=scores,
        plan=plan,
        plan_form=plan_form,
        lead_form=lead_form,
        errors=errors or {},
        status=status,
    )


def patient_page(db: Session, caller: Caller, patient_id: str) -> PatientPage:
    """One person's records, for the care coordinators of their HWB; the view is audited."""
    patient = _patient(db, caller, patient_id, Action.VIEW_PATIENTS)
    audit.record(
        db,
        caller.principal,
        "view_patient",
        f"care:patient/{patient.id}",
        ip=caller.ip,
        hwb_code=patient.hwb_code,
    )
    db.commit()
    return _page(db, patient)


def _sentence(message: str) -> str:
    """A rule's message as a sentence for the page."""
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def _shown(value: object) -> str:
    """A stored value as a form shows it (a date as "12 March 2026", read back the same)."""
    if value is None:
        return ""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return format_uk_date(value)
    return str(value)


#: The care forms' date fields, as their labels name them (messages name the field).
DATE_LABELS = {
    "period_start": "Started",
    "period_end": "Ended",
    "review_due": "Review due",
    "start": "Lead since",
}


def _date_field(form: dict[str, str], name: str, errors: dict[str, str]) -> dt.date | None:
    """A UK date (``12/03/2026``, ``12 March 2026`` or ISO); a message by the field if not."""
    value = form.get(name, "").strip()
    if not value:
        return None
    try:
        return parse_uk_date(value)
    except BadInput as exc:
        errors[name] = f"{DATE_LABELS.get(name, name)}: {exc}."
        return None


def _record_invalid(
    db: Session,
    caller: Caller,
    action: str,
    target: str,
    patient: CarePatient,
    errors: dict[str, str],
) -> None:
    """Audit-log (and commit) a refused save whose form had ``errors``; nothing is saved."""
    audit.record(
        db,
        caller.principal,
        action,
        target,
        audit.INVALID,
        ip=caller.ip,
        hwb_code=patient.hwb_code,
        detail="; ".join(f"{k}: {v}" for k, v in errors.items()),
    )
    db.commit()


def _record_saved(
    db: Session,
    caller: Caller,
    action: str,
    target: str,
    patient: CarePatient,
    before: dict[str, Any] | None,
    after: JointCarePlan | CareTeam,
) -> None:
    """Audit-log a saved plan or care team (before and after) and commit both together."""
    audit.record(
        db,
        caller.principal,
        action,
        target,
        before=before,
        after=dataclasses.asdict(after),
        ip=caller.ip,
        hwb_code=patient.hwb_code,
    )
    db.commit()


@dataclass(frozen=True)
class Saved:
    """A save: ``page`` is None when saved (go to the person's page), else the refusal."""

    patient_id: int
    page: PatientPage | None = None


def save_care_plan(db: Session, caller: Caller, patient_id: str, form: dict[str, str]) -> Saved:
    """Record the joint care plan (new, or a new version of the current one)."""
    patient = _patient(db, caller, patient_id, Action.EDIT_CARE_RECORDS)
    target = f"care:patient/{patient.id}/plan"
    errors: dict[str, str] = {}
    dates = {f: _date_field(form, f, errors) for f in ("period_start", "period_end", "review_due")}
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
            caller.principal,
            "edit_care_plan",
            target,
            audit.CONFLICT,
            ip=caller.ip,
            hwb_code=patient.hwb_code,
            detail=f"stale version {form['version']}",
        )
        db.commit()
        errors = {
            "status": "Someone else saved this plan meanwhile: the form now shows "
            "their version. Check it and save again."
        }
        return Saved(patient.id, _page(db, patient, 409, None, None, errors))
    if errors or plan is None:
        _record_invalid(db, caller, "edit_care_plan", target, patient, errors)
        return Saved(patient.id, _page(db, patient, 422, form, None, errors))
    before = dataclasses.asdict(plan_of(record)) if record is not None else None
    record = write_plan(record or CarePlanRecord(), patient, plan, caller.username)
    db.add(record)
    try:
        db.flush()
    except StaleDataError:
        db.rollback()
        errors["status"] = "Someone else saved this plan meanwhile: reload and try again."
        return Saved(patient.id, _page(db, patient, 409, form, None, errors))
    _record_saved(db, caller, "edit_care_plan", f"CarePlan/{record.id}", patient, before, plan)
    return Saved(patient.id)


def save_lead(db: Session, caller: Caller, patient_id: str, form: dict[str, str]) -> Saved:
    """Name the accountable lead professional (in the person's care team)."""
    patient = _patient(db, caller, patient_id, Action.EDIT_CARE_RECORDS)
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
        _record_invalid(db, caller, "edit_care_team", target, patient, errors)
        return Saved(patient.id, _page(db, patient, 422, None, form, errors))
    before = dataclasses.asdict(team_of(team_record)) if team_record is not None else None
    record = write_team(team_record or CareTeamRecord(), patient, team, caller.username)
    db.add(record)
    db.flush()
    _record_saved(db, caller, "edit_care_team", f"CareTeam/{record.id}", patient, before, team)
    return Saved(patient.id)
