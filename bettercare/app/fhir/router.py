"""The routes of the FHIR R4 API at ``/fhir`` (JSON, ``application/fhir+json``).

Interactions (http://hl7.org/fhir/R4/http.html): ``GET /fhir/metadata`` (public);
read ``GET /fhir/<type>/<id>`` and search ``GET /fhir/<type>?...`` (a searchset Bundle)
for Patient, CarePlan, CareTeam and RiskAssessment; create ``POST`` and update ``PUT``
for CarePlan and CareTeam (versioned: ``ETag: W/"<version>"``; a stale ``If-Match`` is
412, a stale ``meta.versionId`` 409).

Security: every route asks :func:`~bettercare.app.security.authorize` first by role
(``VIEW_PATIENTS`` to read, ``EDIT_CARE_RECORDS`` to write: the care coordinator only;
anonymous 401, any other role 403), then for the patient's HWB (403 outside it). Every
access is audit-logged: ``fhir.read``, ``fhir.search``, ``fhir.create``, ``fhir.update``
with outcome ``ok``, ``denied`` (written by ``authorize``), ``invalid`` (a 4xx
OperationOutcome; nothing stored) or ``conflict`` (409/412). Search parameters are
strict: an unknown or repeated parameter is 400, not silently ignored.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from bettercare.app import audit
from bettercare.app.fhir import resources
from bettercare.app.fhir.capability import COMMON, SEARCH, WRITABLE, capability_statement
from bettercare.app.fhir.errors import FHIR_JSON, FhirError, FhirResponse, error_response
from bettercare.app.models import CarePatient, CarePlanRecord, CareRiskAssessment, CareTeamRecord
from bettercare.app.security import Action, Principal, authorize, client_ip, current_principal
from bettercare.data import nhs_numbers
from bettercare.data.care_register import write_plan, write_team
from bettercare.domain.care import CarePlanStatus

router = APIRouter(prefix="/fhir", tags=["FHIR R4"])

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

_OUTCOME = {FHIR_JSON: {"schema": {"type": "object", "description": "OperationOutcome"}}}
ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"description": d, "content": _OUTCOME}
    for s, d in (
        (400, "Invalid request or resource (OperationOutcome)"),
        (401, "Sign in or send a bearer token"),
        (403, "Not a care coordinator of the patient's HWB"),
        (404, "Unknown resource"),
    )
}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    **{
        s: {"description": d, "content": _OUTCOME}
        for s, d in (
            (409, "Version conflict (meta.versionId is stale)"),
            (412, "If-Match does not match the current version"),
            (413, "Body too large"),
            (415, "Not application/fhir+json"),
            (422, "A register rule is broken (unknown patient, invalid NHS number, dates)"),
        )
    },
}
ERRORS[422] = {"description": "Invalid NHS number in a search", "content": _OUTCOME}


_TEXT = {"type": "string"}
_PERIOD = {"type": "object", "properties": {"start": _TEXT, "end": _TEXT}}
_REFERENCE = {
    "type": "object",
    "properties": {
        "reference": _TEXT,
        "display": _TEXT,
        "identifier": {"type": "object", "properties": {"system": _TEXT, "value": _TEXT}},
    },
}
_CONCEPT = {
    "type": "object",
    "properties": {
        "text": _TEXT,
        "coding": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"system": _TEXT, "code": _TEXT, "display": _TEXT},
            },
        },
    },
}
_PROPERTIES: dict[str, dict[str, Any]] = {
    "CarePlan": {
        "status": {"type": "string", "enum": ["draft", "active", "on-hold", "completed", "x"]},
        "intent": {"type": "string", "enum": ["plan", "order"]},
        "subject": _REFERENCE,
        "period": _PERIOD,
        "title": _TEXT,
        "extension": {
            "type": "array",
            "items": {"type": "object", "properties": {"url": _TEXT, "valueDate": _TEXT}},
        },
    },
    "CareTeam": {
        "subject": _REFERENCE,
        "name": _TEXT,
        "participant": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "role": {"type": "array", "items": _CONCEPT},
                    "member": _REFERENCE,
                    "onBehalfOf": _REFERENCE,
                    "period": _PERIOD,
                },
            },
        },
    },
}


def _body_schema(kind: str) -> dict[str, Any]:
    schema = {
        "type": "object",
        "required": ["resourceType"],
        "properties": {
            "resourceType": {"type": "string", "enum": [kind]},
            "id": _TEXT,
            "meta": {"type": "object", "properties": {"versionId": _TEXT}},
            **_PROPERTIES[kind],
        },
    }
    return {
        "requestBody": {
            "required": True,
            "content": {FHIR_JSON: {"schema": schema}, "application/json": {"schema": schema}},
        }
    }


async def raw_body(request: Request) -> bytes:
    """The request body, refused unless it is (FHIR) JSON of at most 1 MB.

    The size is checked as the body streams in, so a huge upload is not held in memory.
    """
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in (FHIR_JSON, "application/json"):
        raise FhirError(415, "not-supported", f"send {FHIR_JSON}, not '{ctype or 'nothing'}'")
    too_big = FhirError(413, "too-long", f"the body is larger than {resources.MAX_BODY} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > resources.MAX_BODY:
        raise too_big
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > resources.MAX_BODY:
            raise too_big
    return bytes(body)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/fhir"


# ten digits, or 3-3-4 with a space (raw or URL-encoded) or dash between the groups
_NHS_IN_TEXT = re.compile(r"[0-9]{3}(?:%20|\+|-| )?[0-9]{3}(?:%20|\+|-| )?[0-9]{4}")


def _target(text: str) -> str:
    """An audit target with anything shaped like an NHS number masked."""
    return _NHS_IN_TEXT.sub(lambda m: nhs_numbers.mask(m.group(0)), text)[:300]


def _guard(
    request: Request, principal: Principal, action: str, target: str, run: Callable[[], Response]
) -> Response:
    """Run ``run``; a :class:`FhirError` becomes its OperationOutcome, audit-logged."""
    try:
        return run()
    except FhirError as exc:
        outcome = audit.CONFLICT if exc.status in (409, 412) else audit.INVALID
        audit.record_now(
            request.app.state.sessions,
            principal,
            action,
            target,
            outcome,
            ip=client_ip(request),
            detail=f"{exc.status} {exc.code}: {exc.diagnostics}"[:2000],
        )
        return error_response(exc)


def _resource_id(value: str, kind: str) -> int:
    if not _ID.fullmatch(value) or int(value) > 2**63 - 1:
        raise FhirError(404, "not-found", f"{kind}/{value[:40]} is not a known resource")
    return int(value)


def _etag(version: int) -> dict[str, str]:
    return {"ETag": f'W/"{version}"'}


# --- metadata ---------------------------------------------------------------------------


@router.get("/metadata", response_class=FhirResponse)
def metadata(request: Request) -> Response:
    """The CapabilityStatement (public: it describes the API, not anyone's data)."""
    return FhirResponse(capability_statement(_base(request)))


# --- read -------------------------------------------------------------------------------


def _read(request: Request, principal: Principal, kind: str, resource_id: str) -> Response:
    target = _target(f"{kind}/{resource_id}")
    authorize(request, principal, Action.VIEW_PATIENTS, target)

    def run() -> Response:
        rid = _resource_id(resource_id, kind)
        with request.app.state.sessions() as db:
            record = db.get(MODELS[kind], rid)
            if record is None:
                raise FhirError(404, "not-found", f"{kind}/{rid} is not a known resource")
            patient = record if kind == "Patient" else db.get(CarePatient, record.patient_id)
            authorize(request, principal, Action.VIEW_PATIENTS, target, patient.hwb_code)
            body = (
                resources.patient(patient) if kind == "Patient" else RENDER[kind](record, patient)
            )
            audit.record(
                db, principal, "fhir.read", target, ip=client_ip(request), hwb_code=patient.hwb_code
            )
            db.commit()
        headers = _etag(record.version) if kind in WRITABLE else None
        return FhirResponse(body, headers=headers)

    return _guard(request, principal, "fhir.read", target, run)


#: Each readable resource: its route's name and what a read returns (the OpenAPI description).
_READS = {
    "Patient": (
        "read_patient",
        "Read a Patient (UK Core): NHS number, name, birth date, gender, GP practice.",
    ),
    "CarePlan": ("read_care_plan", "Read a CarePlan (the joint health and social care plan)."),
    "CareTeam": (
        "read_care_team",
        "Read a CareTeam (members and the accountable lead professional).",
    ),
    "RiskAssessment": (
        "read_risk_assessment",
        "Read a RiskAssessment (probability of an emergency admission in 12 months).",
    ),
}


def _read_route(kind: str) -> Callable[..., Response]:
    def read(
        request: Request, resource_id: str, principal: Principal = Depends(current_principal)
    ) -> Response:
        return _read(request, principal, kind, resource_id)

    read.__name__, read.__doc__ = _READS[kind]
    return read


for _kind, (_name, _doc) in _READS.items():
    router.add_api_route(
        f"/{_kind}/{{resource_id}}",
        _read_route(_kind),
        methods=["GET"],
        response_class=FhirResponse,
        responses=ERRORS,
        name=_name,
    )


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


def _search(request: Request, principal: Principal, kind: str) -> Response:
    query = request.url.query
    target = _target(f"{kind}?{query}" if query else kind)
    hwb = principal.hwb_code
    authorize(request, principal, Action.VIEW_PATIENTS, target, hwb)

    def run() -> Response:
        params = request.query_params
        allowed = {**SEARCH[kind], **COMMON}
        for name in params:
            if name not in allowed:
                raise FhirError(
                    400,
                    "not-supported",
                    f"unknown search parameter '{name[:40]}' "
                    f"for {kind} (supported: {', '.join(allowed)})",
                )
            if len(params.getlist(name)) > 1:
                raise FhirError(400, "not-supported", f"search parameter '{name}' given twice")
        model = MODELS[kind]
        q = (
            select(CarePatient)
            if kind == "Patient"
            else (select(model, CarePatient).join(CarePatient, model.patient_id == CarePatient.id))
        )
        q = q.where(CarePatient.hwb_code == hwb)
        count, offset = DEFAULT_COUNT, 0
        for name, value in params.items():
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
                known = [s.value for s in CarePlanStatus]
                if any(s not in known for s in statuses):
                    raise FhirError(
                        400, "value", f"status must be among {', '.join(known)}", [name]
                    )
                q = q.where(CarePlanRecord.status.in_(statuses))
        with request.app.state.sessions() as db:
            total = db.scalar(select(func.count()).select_from(q.subquery())) or 0
            rows = db.execute(q.order_by(model.id).offset(offset).limit(count)).all()
            if kind == "Patient":
                entries = [resources.patient(r[0]) for r in rows]
            else:
                entries = [RENDER[kind](r[0], r[1]) for r in rows]
            ids = ", ".join(f"{kind}/{e['id']}" for e in entries)
            audit.record(
                db,
                principal,
                "fhir.search",
                target,
                ip=client_ip(request),
                hwb_code=hwb,
                detail=f"{total} match(es); returned: {ids or 'none'}",
            )
            db.commit()
        next_query = None
        if offset + count < total and count:
            rest = [(k, v) for k, v in params.items() if k != "_offset"]
            next_query = urlencode([*rest, ("_offset", str(offset + count))])
        return FhirResponse(
            resources.bundle(f"{_base(request)}/{kind}", query, entries, total, next_query)
        )

    return _guard(request, principal, "fhir.search", target, run)


def _search_route(kind: str) -> Callable[..., Response]:
    def search(request: Request, principal: Principal = Depends(current_principal)) -> Response:
        return _search(request, principal, kind)

    search.__name__ = f"search_{kind.lower()}"
    search.__doc__ = f"Search {kind} in your HWB: a searchset Bundle."
    return search


for _kind in SEARCH:
    router.add_api_route(
        f"/{_kind}",
        _search_route(_kind),
        methods=["GET"],
        response_class=FhirResponse,
        responses=ERRORS,
        name=f"search_{_kind.lower()}",
        openapi_extra={
            "parameters": [
                {
                    "name": n,
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string"},
                    "description": d,
                }
                for n, (_t, d) in {**SEARCH[_kind], **COMMON}.items()
            ]
        },
    )


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
    from bettercare.data.care_register import plan_of, team_of

    domain = plan_of(record) if kind == "CarePlan" else team_of(record)
    return {"patient": record.patient_id, **dataclasses.asdict(domain)}


def _write(
    request: Request, principal: Principal, kind: str, resource_id: str | None, body: bytes
) -> Response:
    creating = resource_id is None
    action = "fhir.create" if creating else "fhir.update"
    target = _target(kind if creating else f"{kind}/{resource_id}")
    authorize(request, principal, Action.EDIT_CARE_RECORDS, target)

    def run() -> Response:
        rid = None if resource_id is None else _resource_id(resource_id, kind)
        data = resources.parse(body, kind)
        domain: Any = resources.plan_from(data) if kind == "CarePlan" else resources.team_from(data)
        subject = resources.subject_of(data, kind)
        model = MODELS[kind]
        with request.app.state.sessions() as db:
            patient = _subject_patient(db, subject, kind)
            authorize(request, principal, Action.EDIT_CARE_RECORDS, target, patient.hwb_code)
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
                        404,
                        "not-found",
                        f"{kind}/{rid} is not a known resource (create it with POST)",
                    )
                owner = db.get(CarePatient, record.patient_id)
                authorize(request, principal, Action.EDIT_CARE_RECORDS, target, owner.hwb_code)
                if record.patient_id != patient.id:
                    raise FhirError(
                        422,
                        "business-rule",
                        f"{kind}.subject cannot change (Patient/{record.patient_id})",
                        [f"{kind}.subject"],
                    )
                if_match = request.headers.get("if-match")
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
                write_plan(record, patient, domain, principal.username)
            else:
                write_team(record, patient, domain, principal.username)
            db.add(record)
            try:
                db.flush()
            except StaleDataError:
                db.rollback()
                raise FhirError(
                    409, "conflict", f"{kind}/{rid} was changed meanwhile: read it again and retry"
                ) from None
            audit.record(
                db,
                principal,
                action,
                f"{kind}/{record.id}",
                before=before,
                after=_snapshot(record, kind),
                ip=client_ip(request),
                hwb_code=patient.hwb_code,
            )
            db.commit()
            out = RENDER[kind](record, patient)
        headers = _etag(record.version)
        headers["Location"] = f"{_base(request)}/{kind}/{record.id}/_history/{record.version}"
        return FhirResponse(out, status_code=201 if creating else 200, headers=headers)

    return _guard(request, principal, action, target, run)


async def _body_or_error(request: Request) -> bytes | FhirError:
    try:
        return await raw_body(request)
    except FhirError as exc:
        return exc


def _write_route(kind: str, update: bool) -> Callable[..., Response]:
    if update:

        def put(
            request: Request,
            resource_id: str,
            body: bytes | FhirError = Depends(_body_or_error),
            principal: Principal = Depends(current_principal),
        ) -> Response:
            return _write_checked(request, principal, kind, resource_id, body)

        put.__doc__ = f'Update a {kind} (If-Match: W/"<version>" guards against lost updates).'
        return put

    def post(
        request: Request,
        body: bytes | FhirError = Depends(_body_or_error),
        principal: Principal = Depends(current_principal),
    ) -> Response:
        return _write_checked(request, principal, kind, None, body)

    post.__doc__ = f"Create a {kind} for a patient of your HWB (201 with Location and ETag)."
    return post


def _write_checked(
    request: Request,
    principal: Principal,
    kind: str,
    resource_id: str | None,
    body: bytes | FhirError,
) -> Response:
    if isinstance(body, FhirError):
        target = _target(kind if resource_id is None else f"{kind}/{resource_id}")
        authorize(request, principal, Action.EDIT_CARE_RECORDS, target)
        exc = body

        def fail() -> Response:
            raise exc

        action = "fhir.create" if resource_id is None else "fhir.update"
        return _guard(request, principal, action, target, fail)
    return _write(request, principal, kind, resource_id, body)


for _kind in sorted(WRITABLE):
    router.add_api_route(
        f"/{_kind}",
        _write_route(_kind, False),
        methods=["POST"],
        response_class=FhirResponse,
        status_code=201,
        responses=WRITE_ERRORS,
        name=f"create_{_kind.lower()}",
        openapi_extra=_body_schema(_kind),
    )
    router.add_api_route(
        f"/{_kind}/{{resource_id}}",
        _write_route(_kind, True),
        methods=["PUT"],
        response_class=FhirResponse,
        responses=WRITE_ERRORS,
        name=f"update_{_kind.lower()}",
        openapi_extra=_body_schema(_kind),
    )


# --- anything else under /fhir ----------------------------------------------------------


@router.api_route(
    "/{path:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,
)
def unknown(request: Request, path: str) -> Response:
    """An OperationOutcome for a resource type or interaction the API does not offer."""
    kind = path.split("/", 1)[0]
    if kind in MODELS:
        return error_response(
            FhirError(
                405, "not-supported", f"{request.method} is not supported on /fhir/{path[:60]}"
            )
        )
    return error_response(
        FhirError(
            404,
            "not-supported",
            f"/fhir/{path[:60]} is not a resource type or operation of this server",
        )
    )
