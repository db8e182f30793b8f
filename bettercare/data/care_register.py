"""The care coordination register in the app's database: patients, scores, plans, teams.

Owns storing and reading the register (the rules are the domain's,
:mod:`bettercare.domain.care`) and the direct-care re-identification of risk scores
(:func:`import_scores`). The synthetic demo register is
:mod:`bettercare.pipelines.care_demo`; the web app only stores and shows the register
(:mod:`bettercare.services.care`).

Re-identification for direct care: the analytics store holds pseudonyms only. A care
coordinator's list is made by pseudonymising the NHS numbers of a GP registration list
with the same key as the store (:func:`bettercare.data.pseudonymise.pseudonym`) and
matching them to the risk scores' ``person_id``. Only people in a risk tier are taken
into the register. Patient-level data is for direct care only; aggregate coverage is
computed by :mod:`bettercare.analytics.care_coverage` from rows without identifiers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bettercare.data import nhs_numbers
from bettercare.data.pseudonymise import pseudonym
from bettercare.data.tables import (
    CarePatient,
    CarePlanRecord,
    CareRiskAssessment,
    CareTeamMemberRecord,
    CareTeamRecord,
    Hwb,
    utcnow,
)
from bettercare.domain.care import (
    CarePlanStatus,
    CareTeam,
    CareTeamMember,
    JointCarePlan,
    PersonAtRisk,
)
from bettercare.errors import BadInput

#: Columns a scores file must have (the output of ``score_population``) and may have.
SCORE_REQUIRED = ("person_id", "probability")
SCORE_OPTIONAL = ("gp_practice", "hwb_code", "tier", "model")
SEXES = frozenset({"M", "F", "U"})


class RegisterError(BadInput):
    """Input the register refuses, located: file, row, field and the rule broken."""

    def __init__(
        self,
        message: str,
        *,
        file: str = "",
        row: int | None = None,
        field: str | None = None,
        rule: str = "invalid",
    ) -> None:
        where = ", ".join(
            x for x in (file, f"row {row}" if row is not None else "", field or "") if x
        )
        super().__init__(f"{where}: {message}" if where else message)
        self.file, self.row, self.field, self.rule = file, row, field, rule


# --- storing ----------------------------------------------------------------------------


def ensure_hwb(db: Session, code: str, name: str | None = None) -> None:
    """Create the HWB row when it is new (named by its code unless a name is given)."""
    if db.get(Hwb, code) is None:
        db.add(Hwb(code=code, name=name or code))
        db.flush()


def add_patient(
    db: Session,
    *,
    nhs_number: str,
    hwb_code: str,
    person_id: str | None = None,
    given_name: str | None = None,
    family_name: str | None = None,
    birth_date: dt.date | None = None,
    sex: str | None = None,
    gp_practice: str | None = None,
) -> CarePatient:
    """Add (or update the details of) the patient with this NHS number."""
    digits = nhs_numbers.normalise(nhs_number)
    if digits is None or not nhs_numbers.is_valid(digits):
        raise RegisterError(
            f"NHS number '{nhs_numbers.mask(nhs_number)}' fails the modulus 11 check",
            field="nhs_number",
            rule="nhs_number",
        )
    if sex is not None and sex not in SEXES:
        raise RegisterError(f"sex '{sex}' is not one of M, F, U", field="sex", rule="sex")
    patient = db.scalar(select(CarePatient).where(CarePatient.nhs_number == digits))
    if patient is None:
        patient = CarePatient(nhs_number=digits, hwb_code=hwb_code)
        db.add(patient)
    patient.hwb_code = hwb_code
    patient.person_id = person_id or patient.person_id
    patient.given_name, patient.family_name = given_name, family_name
    patient.birth_date, patient.sex, patient.gp_practice = birth_date, sex, gp_practice
    db.flush()
    return patient


def add_assessment(
    db: Session,
    patient: CarePatient,
    probability: float,
    tier: str | None,
    cohorts: Iterable[str],
    model: str,
    assessed_on: dt.date,
) -> CareRiskAssessment:
    """Record a risk assessment of ``patient``."""
    if not 0.0 <= probability <= 1.0:
        raise RegisterError(
            f"probability {probability} is not between 0 and 1", field="probability", rule="range"
        )
    record = CareRiskAssessment(
        patient_id=patient.id,
        probability=float(probability),
        tier=tier or None,
        cohorts=",".join(cohorts),
        model=model,
        assessed_on=assessed_on,
    )
    db.add(record)
    db.flush()
    return record


def write_plan(
    record: CarePlanRecord, patient: CarePatient, plan: JointCarePlan, actor: str
) -> CarePlanRecord:
    """Copy ``plan`` onto ``record`` (new or existing) for ``patient``."""
    record.patient_id = patient.id
    record.status = str(plan.status)
    record.title = plan.title
    record.period_start, record.period_end = plan.period_start, plan.period_end
    record.review_due = plan.review_due
    record.updated_at, record.updated_by = utcnow(), actor
    return record


def write_team(
    record: CareTeamRecord, patient: CarePatient, team: CareTeam, actor: str
) -> CareTeamRecord:
    """Copy ``team`` onto ``record`` (its members replaced) for ``patient``."""
    record.patient_id = patient.id
    record.name = team.name
    record.members = [
        CareTeamMemberRecord(
            name=m.name,
            role=m.role,
            organisation=m.organisation,
            lead=m.lead,
            start_date=m.start,
            end_date=m.end,
        )
        for m in team.members
    ]
    record.updated_at, record.updated_by = utcnow(), actor
    return record


# --- reading ----------------------------------------------------------------------------


def plan_of(record: CarePlanRecord) -> JointCarePlan:
    """The domain plan of a stored record."""
    return JointCarePlan(
        status=CarePlanStatus(record.status),
        period_start=record.period_start,
        period_end=record.period_end,
        review_due=record.review_due,
        title=record.title,
    )


def team_of(record: CareTeamRecord) -> CareTeam:
    """The domain team of a stored record."""
    return CareTeam(
        members=tuple(
            CareTeamMember(m.name, m.role, m.organisation, m.lead, m.start_date, m.end_date)
            for m in record.members
        ),
        name=record.name,
    )


def latest_assessments(db: Session, patient_ids: Sequence[int]) -> dict[int, CareRiskAssessment]:
    """The newest risk assessment of each patient."""
    out: dict[int, CareRiskAssessment] = {}
    if not patient_ids:
        return out
    rows = db.scalars(
        select(CareRiskAssessment)
        .where(CareRiskAssessment.patient_id.in_(patient_ids))
        .order_by(CareRiskAssessment.assessed_on, CareRiskAssessment.id)
    )
    for r in rows:
        out[r.patient_id] = r
    return out


_Rec = TypeVar("_Rec", CarePlanRecord, CareTeamRecord)


def _by_patient(
    db: Session, model: type[_Rec], patient_ids: Sequence[int]
) -> dict[int, list[_Rec]]:
    out: dict[int, list[_Rec]] = {i: [] for i in patient_ids}
    if patient_ids:
        for r in db.scalars(
            select(model).where(model.patient_id.in_(patient_ids)).order_by(model.id)
        ):
            out[r.patient_id].append(r)
    return out


def hwb_patients(db: Session, hwb_code: str) -> list[CarePatient]:
    """The register's patients of one HWB, by practice and name."""
    return list(
        db.scalars(
            select(CarePatient)
            .where(CarePatient.hwb_code == hwb_code)
            .order_by(CarePatient.gp_practice, CarePatient.family_name, CarePatient.id)
        )
    )


def _hwb_register(
    db: Session, hwb_code: str
) -> tuple[
    list[CarePatient],
    dict[int, CareRiskAssessment],
    dict[int, list[CarePlanRecord]],
    dict[int, list[CareTeamRecord]],
]:
    """One HWB's patients with their latest assessment, plans and care teams (by patient id)."""
    patients = hwb_patients(db, hwb_code)
    ids = [p.id for p in patients]
    return (
        patients,
        latest_assessments(db, ids),
        _by_patient(db, CarePlanRecord, ids),
        _by_patient(db, CareTeamRecord, ids),
    )


@dataclass(frozen=True)
class CoordinatorRow:
    """One line of a care coordinator's list."""

    patient: CarePatient
    assessment: CareRiskAssessment | None
    plan: CarePlanRecord | None  # the most relevant plan: active, else the newest
    lead: CareTeamMemberRecord | None
    review_overdue: bool


def _main_plan(plans: list[CarePlanRecord]) -> CarePlanRecord | None:
    active = [p for p in plans if p.status == CarePlanStatus.ACTIVE]
    chosen = active or plans
    return chosen[-1] if chosen else None


def coordinator_list(db: Session, hwb_code: str, today: dt.date) -> list[CoordinatorRow]:
    """The coordinator's people at risk: tier, plan status, review due, lead professional.

    Sorted by risk (highest probability first).
    """
    patients, scores, plans, teams = _hwb_register(db, hwb_code)
    rows = []
    for p in patients:
        plan = _main_plan(plans[p.id])
        lead = next((m for t in teams[p.id] for m in t.members if m.lead), None)
        overdue = plan is not None and plan_of(plan).review_overdue(today)
        rows.append(CoordinatorRow(p, scores.get(p.id), plan, lead, overdue))
    rows.sort(key=lambda r: -(r.assessment.probability if r.assessment else 0.0))
    return rows


def people_at_risk(db: Session, hwb_code: str) -> list[PersonAtRisk]:
    """The register's people of one HWB as coverage rows (no identifiers)."""
    patients, scores, plans, teams = _hwb_register(db, hwb_code)
    out = []
    for p in patients:
        score = scores.get(p.id)
        if score is None:
            continue
        out.append(
            PersonAtRisk(
                gp_practice=p.gp_practice or "unknown",
                assessed_on=score.assessed_on,
                tier=score.tier,
                cohorts=tuple(c for c in score.cohorts.split(",") if c),
                plans=tuple(plan_of(r) for r in plans[p.id]),
                teams=tuple(team_of(r) for r in teams[p.id]),
            )
        )
    return out


def count_patients(db: Session, hwb_code: str) -> int:
    """How many patients of ``hwb_code`` the register holds."""
    return (
        db.scalar(
            select(func.count()).select_from(CarePatient).where(CarePatient.hwb_code == hwb_code)
        )
        or 0
    )


# --- import: re-identify risk scores for direct care -------------------------------------


def read_table(path: Path) -> pa.Table:
    """A CSV or Parquet file as an arrow table (text columns for CSV)."""
    try:
        if path.suffix.lower() == ".parquet":
            return pq.read_table(path)
        if path.suffix.lower() == ".csv":
            return pacsv.read_csv(
                path, convert_options=pacsv.ConvertOptions(strings_can_be_null=True)
            )
    except (OSError, pa.ArrowException) as exc:
        raise RegisterError(
            f"cannot be read ({exc})".splitlines()[0], file=path.name, rule="unreadable"
        ) from None
    raise RegisterError("is neither .csv nor .parquet", file=path.name, rule="format")


@dataclass(frozen=True)
class Scores:
    """Risk scores to re-identify: the tiered people of one HWB."""

    person_id: list[str]
    probability: list[float]
    tier: list[str | None]
    cohorts: list[tuple[str, ...]]
    model: list[str]
    rows: list[int]  # row of the scores file (header = 1)


COHORT_PREFIX = "cohort_"


def scores_from(table: pa.Table, file: str, hwb_code: str, default_model: str) -> Scores:
    """Check a scores table and keep its tiered rows of ``hwb_code`` (located errors)."""
    names = table.column_names
    missing = [c for c in SCORE_REQUIRED if c not in names]
    if missing:
        raise RegisterError(
            f"missing column(s) {', '.join(missing)} (a scores file has "
            f"{', '.join(SCORE_REQUIRED)})",
            file=file,
            rule="missing_column",
        )
    n = table.num_rows
    cohort_cols = [c for c in names if c.startswith(COHORT_PREFIX)]

    def col(name: str) -> list[object]:
        return table.column(name).to_pylist() if name in names else [None] * n

    pid, prob, tier, hwb, model = (
        col(c) for c in ("person_id", "probability", "tier", "hwb_code", "model")
    )
    flags = {c: col(c) for c in cohort_cols}
    out = Scores([], [], [], [], [], [])
    for i in range(n):
        row = i + 2
        if hwb[i] not in (None, hwb_code) or tier[i] in (None, ""):
            continue
        if not isinstance(pid[i], str) or not pid[i]:
            raise RegisterError(
                "person_id is empty", file=file, row=row, field="person_id", rule="required"
            )
        try:
            p = float(prob[i])  # type: ignore[arg-type]
        except (TypeError, ValueError):
            p = float("nan")
        if not 0.0 <= p <= 1.0:
            raise RegisterError(
                f"probability '{prob[i]}' is not a number from 0 to 1",
                file=file,
                row=row,
                field="probability",
                rule="range",
            )
        out.person_id.append(str(pid[i]))
        out.probability.append(p)
        out.tier.append(str(tier[i]))
        out.cohorts.append(
            tuple(c for c in cohort_cols if flags[c][i] in (True, "true", "True", "1", 1))
        )
        out.model.append(str(model[i] or default_model))
        out.rows.append(row)
    return out


@dataclass(frozen=True)
class Registration:
    """One person of the GP registration list (identified, for direct care)."""

    nhs_number: str
    given_name: str | None
    family_name: str | None
    birth_date: dt.date | None
    sex: str | None
    gp_practice: str | None


@dataclass(frozen=True)
class ImportResult:
    """What an import did."""

    tiered: int  # tiered score rows of the HWB
    matched: int  # re-identified and written
    unmatched: int  # scores with no registration (moved away, died, another list)


def import_scores(
    db: Session,
    scores: Scores,
    registrations: list[Registration],
    key: bytes,
    hwb_code: str,
    assessed_on: dt.date,
) -> ImportResult:
    """Match scores to registrations by pseudonym; add patients and their assessments.

    Everything is added to ``db``'s transaction; the caller commits (or nothing is kept).
    """
    ensure_hwb(db, hwb_code)
    by_pseudonym = {pseudonym(key, r.nhs_number): r for r in registrations}
    matched = 0
    for i, pid in enumerate(scores.person_id):
        reg = by_pseudonym.get(pid)
        if reg is None:
            continue
        patient = add_patient(
            db,
            nhs_number=reg.nhs_number,
            hwb_code=hwb_code,
            person_id=pid,
            given_name=reg.given_name,
            family_name=reg.family_name,
            birth_date=reg.birth_date,
            sex=reg.sex,
            gp_practice=reg.gp_practice,
        )
        add_assessment(
            db,
            patient,
            scores.probability[i],
            scores.tier[i],
            scores.cohorts[i],
            scores.model[i],
            assessed_on,
        )
        matched += 1
    total = len(scores.person_id)
    return ImportResult(total, matched, total - matched)


# --- the synthetic demo register ---------------------------------------------------------
