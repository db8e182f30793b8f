"""The FHIR R4 API's use cases: read, search, create and update the care register.

Security: each use case asks :func:`~bettercare.services.access.permit` first by role
(``VIEW_PATIENTS`` to read, ``EDIT_CARE_RECORDS`` to write: the care coordinator only),
then for the patient's HWB. Every access is audit-logged: ``fhir.read``, ``fhir.search``,
``fhir.create``, ``fhir.update`` with outcome ``ok``, ``denied`` (written by ``permit``),
``invalid`` (a :class:`~bettercare.services.fhir_resources.FhirError`; nothing stored) or
``conflict`` (409/412). Search parameters are strict: an unknown or repeated parameter is
400. The HTTP side (body limits, OperationOutcome answers) is ``app/fhir``'s.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from bettercare.data import nhs_numbers
from bettercare.data.care_register import plan_of, team_of, write_plan, write_team
from bettercare.data.tables import CarePatient, CarePlanRecord, CareRiskAssessment, CareTeamRecord
from bettercare.domain.access import Action
from bettercare.domain.care import CarePlanStatus
from bettercare.services import audit
from bettercare.services import fhir_resources as resources
from bettercare.services.access import Caller, permit
from bettercare.services.fhir_capability import COMMON, SEARCH, WRITABLE
from bettercare.services.fhir_resources import FhirError

MODELS: dict[str, Any] = {
    "Patient": CarePatient,
    "CarePlan": CarePlanRecord,
    "CareTeam": CareTeamRecord,
    "RiskAssessment": CareRiskAssessment,
}
RENDER: dict[str, Callable[..., dict[str, Any]]] = {
    "CarePlan": resources.care_plan,
    "CareTeam": resources.care_team,
    "RiskAssessment": resources.risk_assessment,
}
_ID = re.compile(r"[0-9]{1,18}")
_ODS = re.compile(r"[A-Z0-9]{3,10}")
MAX_COUNT, DEFAULT_COUNT, MAX_OFFSET = 1000, 100, 10**9
# ten digits, or 3-3-4 with a space (raw or URL-encoded) or dash between the groups
_NHS_IN_TEXT = re.compile(r"[0-9]{3}(?:%20|\+|-| )?[0-9]{3}(?:%20|\+|-| )?[0-9]{4}")
T = TypeVar("T")


def audit_target(text: str) -> str:
    """An audit target with anything shaped like an NHS number masked."""
    return _NHS_IN_TEXT.sub(lambda m: nhs_numbers.mask(m.group(0)), text)[:300]


def _guard(db: Session, caller: Caller, action: str, target: str, run: Callable[[], T]) -> T:
    """Run ``run``; a :class:`FhirError` is audit-logged (nothing else kept) and re-raised."""
    try:
        return run()
    except FhirError as exc:
        db.rollback()
        outcome = audit.CONFLICT if exc.status in (409, 412) else audit.INVALID
        audit.record(
            db,
            caller.principal,
            action,
            target,
            outcome,
            ip=caller.ip,
            detail=f"{exc.status} {exc.code}: {exc.diagnostics}"[:2000],
        )
        db.commit()
        raise


def refuse(db: Session, caller: Caller, action: str, target: str, exc: FhirError) -> None:
    """Audit and raise ``exc``, a request refused before it reached a use case (a bad body)."""
    permit(db, caller, Action.EDIT_CARE_RECORDS, target)

    def fail() -> None:
        raise exc

    _guard(db, caller, action, target, fail)


def _resource_id(value: str, kind: str) -> int:
    if not _ID.fullmatch(value) or int(value) > 2**63 - 1:
        raise FhirError(404, "not-found", f"{kind}/{value[:40]} is not a known resource")
    return int(value)


# --- read -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """A resource read or written: its JSON, its version (writable kinds) and id."""

    body: dict[str, Any]
    version: int | None
    resource_id: int


def read(db: Session, caller: Caller, kind: str, resource_id: str) -> Found:
    """One resource of the caller's HWB (Patient, CarePlan, CareTeam, RiskAssessment)."""
    target = audit_target(f"{kind}/{resource_id}")
    permit(db, caller, Action.VIEW_PATIENTS, target)

    def run() -> Found:
        rid = _resource_id(resource_id, kind)
        record = db.get(MODELS[kind], rid)
        if record is None:
            raise FhirError(404, "not-found", f"{kind}/{rid} is not a known resource")
        patient = record if kind == "Patient" else db.get(CarePatient, record.patient_id)
        assert patient is not None  # a foreign key: every record has its patient
        permit(db, caller, Action.VIEW_PATIENTS, target, patient.hwb_code)
        body = resources.patient(patient) if kind == "Patient" else RENDER[kind](record, patient)
        audit.record(
            db, caller.principal, "fhir.read", target, ip=caller.ip, hwb_code=patient.hwb_code
        )
        db.commit()
        return Found(body, record.version if kind in WRITABLE else None, rid)

    return _guard(db, caller, "fhir.read", target, run)


# --- search -----------------------------------------------------------------------------


def _reference_id(value: str, name: str) -> int:
    m = re.fullmatch(r"(?:Patient/)?([0-9]{1,18})", value)
    if not m or int(m.group(1)) > 2**63 - 1:
        raise FhirError(400, "value", f"{name} '{value[:40]}' is not Patient/<id>", [name])
    return int(m.group(1))


def _practice(value: str, name: str) -> str:
    code = value.removeprefix("Organization/").removeprefix(resources.ODS_SYSTEM + "|")
    if not _ODS.fullmatch(code):
        raise FhirError(
            400, "value", f"{name} '{value[:40]}' is not a GP practice ODS code", [name]
        )
    return code


def _number(value: str, name: str, low: int, high: int) -> int:
    if not re.fullmatch(r"[0-9]{1,10}", value) or not low <= int(value) <= high:
        raise FhirError(400, "value", f"{name} must be a whole number from {low} to {high}", [name])
    return int(value)


@dataclass(frozen=True)
class Page:
    """One page of a search: the entries, how many match, the query of the next page."""

    entries: list[dict[str, Any]]
    total: int
    next_query: str | None


def search(
    db: Session, caller: Caller, kind: str, params: Sequence[tuple[str, str]], query: str
) -> Page:
    """Search ``kind`` in the caller's HWB with the FHIR search ``params`` (strictly checked)."""
    target = audit_target(f"{kind}?{query}" if query else kind)
    hwb = caller.principal.hwb_code
    permit(db, caller, Action.VIEW_PATIENTS, target, hwb)

    def run() -> Page:
        known = {**SEARCH[kind], **COMMON}
        names = [n for n, _ in params]
        for name in names:
            if name not in known:
                raise FhirError(
                    400,
                    "not-supported",
                    f"unknown search parameter '{name[:40]}' "
                    f"for {kind} (supported: {', '.join(known)})",
                )
            if names.count(name) > 1:
                raise FhirError(400, "not-supported", f"search parameter '{name}' given twice")
        model = MODELS[kind]
        q = (
            select(CarePatient)
            if kind == "Patient"
            else (select(model, CarePatient).join(CarePatient, model.patient_id == CarePatient.id))
        )
        q = q.where(CarePatient.hwb_code == hwb)
        count, offset = DEFAULT_COUNT, 0
        for name, value in params:
            if name == "_count":
                count = _number(value, name, 0, MAX_COUNT)
            elif name == "_offset":
                offset = _number(value, name, 0, MAX_OFFSET)
            elif name == "_id":
                rid = int(value) if _ID.fullmatch(value) and int(value) < 2**63 else -1
                q = q.where(model.id == rid)
            elif name == "identifier":
                system, _, number = value.rpartition("|")
                if system and system != resources.NHS_NUMBER_SYSTEM:
                    q = q.where(CarePatient.id == -1)  # an identifier system the API has not
                    continue
                if not nhs_numbers.is_valid(number):
                    raise FhirError(
                        422,
                        "value",
                        f"identifier '{nhs_numbers.mask(number)}' is "
                        "not a valid NHS number (modulus 11)",
                        [name],
                    )
                q = q.where(CarePatient.nhs_number == nhs_numbers.normalise(number))
            elif name in ("general-practitioner", "organization", "patient.general-practitioner"):
                q = q.where(CarePatient.gp_practice == _practice(value, name))
            elif name in ("patient", "subject"):
                q = q.where(CarePatient.id == _reference_id(value, name))
            elif name == "status":
                statuses = value.split(",")
                allowed = [s.value for s in CarePlanStatus]
                if any(s not in allowed for s in statuses):
                    raise FhirError(
                        400, "value", f"status must be among {', '.join(allowed)}", [name]
                    )
                q = q.where(CarePlanRecord.status.in_(statuses))
        total = db.scalar(select(func.count()).select_from(q.subquery())) or 0
        rows = db.execute(q.order_by(model.id).offset(offset).limit(count)).all()
        if kind == "Patient":
            entries = [resources.patient(r[0]) for r in rows]
        else:
            entries = [RENDER[kind](r[0], r[1]) for r in rows]
        ids = ", ".join(f"{kind}/{e['id']}" for e in entries)
        audit.record(
            db,
            caller.principal,
            "fhir.search",
            target,
            ip=caller.ip,
            hwb_code=hwb,
            detail=f"{total} match(es); returned: {ids or 'none'}",
        )
        db.commit()
        next_query = None
        if offset + count < total and count:
            rest = [(k, v) for k, v in params if k != "_offset"]
            next_query = urlencode([*rest, ("_offset", str(offset + count))])
        return Page(entries, total, next_query)

    return _guard(db, caller, "fhir.search", target, run)


# --- create and update ------------------------------------------------------------------


def _subject_patient(db: Session, subject: dict[str, Any], kind: str) -> CarePatient:
    where = [f"{kind}.subject"]
    reference = subject.get("reference")
    if reference:
        m = re.fullmatch(r"(?:.*/)?Patient/([0-9]{1,18})", str(reference))
        if not m:
            raise FhirError(
                422,
                "business-rule",
                f"{kind}.subject must be Patient/<id>, not '{str(reference)[:60]}'",
                where,
            )
        patient = db.get(CarePatient, int(m.group(1))) if int(m.group(1)) < 2**63 else None
        if patient is None:
            raise FhirError(
                422,
                "business-rule",
                f"{kind}.subject {reference} is not a patient of the register",
                where,
            )
        return patient
    ident = subject.get("identifier") or {}
    if ident.get("system") != resources.NHS_NUMBER_SYSTEM:
        raise FhirError(
            422,
            "business-rule",
            f"{kind}.subject.identifier.system must be {resources.NHS_NUMBER_SYSTEM}",
            where,
        )
    number = ident.get("value")
    if not nhs_numbers.is_valid(number):
        raise FhirError(
            422,
            "value",
            f"{kind}.subject.identifier '{nhs_numbers.mask(number)}' "
            "is not a valid NHS number (modulus 11)",
            where,
        )
    found = db.scalar(
        select(CarePatient).where(CarePatient.nhs_number == nhs_numbers.normalise(number))
    )
    if found is None:
        raise FhirError(
            422,
            "business-rule",
            f"no patient of the register has NHS number {nhs_numbers.mask(number)}",
            where,
        )
    return found


def _snapshot(record: Any, kind: str) -> dict[str, Any]:
    domain = plan_of(record) if kind == "CarePlan" else team_of(record)
    return {"patient": record.patient_id, **dataclasses.asdict(domain)}


def write_action(resource_id: str | None) -> str:
    """The audit action of a write: ``fhir.create`` or ``fhir.update``."""
    return "fhir.create" if resource_id is None else "fhir.update"


def write_target(kind: str, resource_id: str | None) -> str:
    """The audit target of a write."""
    return audit_target(kind if resource_id is None else f"{kind}/{resource_id}")


def write(
    db: Session,
    caller: Caller,
    kind: str,
    resource_id: str | None,
    body: bytes,
    if_match: str | None = None,
) -> Found:
    """Create (``resource_id`` None) or update a CarePlan or CareTeam from a FHIR body."""
    action = write_action(resource_id)
    target = write_target(kind, resource_id)
    permit(db, caller, Action.EDIT_CARE_RECORDS, target)

    def run() -> Found:
        rid = None if resource_id is None else _resource_id(resource_id, kind)
        data = resources.parse(body, kind)
        domain: Any = resources.plan_from(data) if kind == "CarePlan" else resources.team_from(data)
        subject = resources.subject_of(data, kind)
        model = MODELS[kind]
        patient = _subject_patient(db, subject, kind)
        permit(db, caller, Action.EDIT_CARE_RECORDS, target, patient.hwb_code)
        before = None
        if rid is None:
            record = model()
        else:
            if data.get("id") != resource_id:
                raise FhirError(
                    400,
                    "invalid",
                    f"the resource's id must be '{resource_id}' (the id in the URL)",
                    [f"{kind}.id"],
                )
            record = db.get(model, rid)
            if record is None:
                raise FhirError(
                    404, "not-found", f"{kind}/{rid} is not a known resource (create it with POST)"
                )
            owner = db.get(CarePatient, record.patient_id)
            assert owner is not None  # a foreign key: every record has its patient
            permit(db, caller, Action.EDIT_CARE_RECORDS, target, owner.hwb_code)
            if record.patient_id != patient.id:
                raise FhirError(
                    422,
                    "business-rule",
                    f"{kind}.subject cannot change (Patient/{record.patient_id})",
                    [f"{kind}.subject"],
                )
            if if_match is not None and if_match.strip() not in (
                f'W/"{record.version}"',
                f'"{record.version}"',
            ):
                raise FhirError(
                    412,
                    "conflict",
                    f"If-Match {if_match[:40]} does not match "
                    f'the current version W/"{record.version}"',
                )
            sent = (data.get("meta") or {}).get("versionId")
            if sent is not None and sent != str(record.version):
                raise FhirError(
                    409,
                    "conflict",
                    f"meta.versionId {sent} is stale: the current version is {record.version}",
                    [f"{kind}.meta.versionId"],
                )
            before = _snapshot(record, kind)
        if kind == "CarePlan":
            write_plan(record, patient, domain, caller.username)
        else:
            write_team(record, patient, domain, caller.username)
        db.add(record)
        try:
            db.flush()
        except StaleDataError:
            raise FhirError(
                409, "conflict", f"{kind}/{rid} was changed meanwhile: read it again and retry"
            ) from None
        audit.record(
            db,
            caller.principal,
            action,
            f"{kind}/{record.id}",
            before=before,
            after=_snapshot(record, kind),
            ip=caller.ip,
            hwb_code=patient.hwb_code,
        )
        db.commit()
        return Found(RENDER[kind](record, patient), record.version, record.id)

    return _guard(db, caller, action, target, run)


# --- Patient/$everything: the care-date range ---------------------------------------------

#: A FHIR ``date`` (http://hl7.org/fhir/R4/datatypes.html#date): YYYY, YYYY-MM or YYYY-MM-DD.
_FHIR_DATE = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")
#: The parameters of Patient/$everything this server supports.
EVERYTHING_PARAMETERS = ("start", "end")


def _care_date(value: str, name: str) -> dt.date:
    """The first (``start``) or last (``end``) day a FHIR date covers; 400 otherwise."""
    m = _FHIR_DATE.fullmatch(value.strip())
    bad = FhirError(
        400,
        "invalid",
        f"{name} '{value[:40]}' is not a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD)",
        [name],
    )
    if m is None:
        raise bad
    year = int(m[1])
    month = int(m[2]) if m[2] else (1 if name == "start" else 12)
    try:
        if m[3]:
            return dt.date(year, month, int(m[3]))
        if name == "start":
            return dt.date(year, month, 1)
        following = dt.date(year + (month == 12), month % 12 + 1, 1)
        return following - dt.timedelta(days=1)
    except ValueError:
        raise bad from None


def everything_period(params: Sequence[tuple[str, str]]) -> tuple[dt.date | None, dt.date | None]:
    """The care-date range of a Patient/$everything request: (start, end), each optional.

    FHIR R4 Patient/$everything
    (https://hl7.org/fhir/R4/patient-operation-everything.html): ``start`` and ``end``
    (0..1, ``date``) bound the care dates of the records returned, not when they were
    recorded; without ``start`` everything up to ``end`` is in scope, without ``end``
    everything from ``start``. A partial date covers its whole month or year. Raises a
    400 :class:`FhirError` for an unsupported or repeated parameter, a value that is not
    a FHIR date, or ``start`` after ``end``.
    """
    seen: dict[str, str] = {}
    for name, value in params:
        if name not in EVERYTHING_PARAMETERS:
            raise FhirError(
                400,
                "not-supported",
                f"parameter '{name[:40]}' is not supported by Patient/$everything "
                f"(supported: {', '.join(EVERYTHING_PARAMETERS)})",
                [name[:40]],
            )
        if name in seen:
            raise FhirError(400, "invalid", f"parameter '{name}' given more than once", [name])
        seen[name] = value
    start = _care_date(seen["start"], "start") if "start" in seen else None
    end = _care_date(seen["end"], "end") if "end" in seen else None
    if start is not None and end is not None and start > end:
        raise FhirError(
            400,
            "invalid",
            f"start ({seen['start']}) is after end ({seen['end']})",
            ["start", "end"],
        )
    return start, end
