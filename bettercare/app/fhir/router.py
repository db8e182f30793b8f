"""The routes of the FHIR R4 API at ``/fhir`` (JSON, ``application/fhir+json``).

Interactions (http://hl7.org/fhir/R4/http.html): ``GET /fhir/metadata`` (public);
read ``GET /fhir/<type>/<id>`` and search ``GET /fhir/<type>?...`` (a searchset Bundle)
for Patient, CarePlan, CareTeam and RiskAssessment; create ``POST`` and update ``PUT``
for CarePlan and CareTeam (versioned: ``ETag: W/"<version>"``; a stale ``If-Match`` is
412, a stale ``meta.versionId`` 409).

The routes parse, call :mod:`bettercare.services.fhir` and answer; a refusal is an
OperationOutcome (``app/main.py`` maps the errors once). Security: every use case asks
:func:`~bettercare.services.access.permit` first by role
(``VIEW_PATIENTS`` to read, ``EDIT_CARE_RECORDS`` to write: the care coordinator only;
anonymous 401, any other role 403), then for the patient's HWB (403 outside it). Every
access is audit-logged: ``fhir.read``, ``fhir.search``, ``fhir.create``, ``fhir.update``
with outcome ``ok``, ``denied`` (written by ``permit``), ``invalid`` (a 4xx
OperationOutcome; nothing stored) or ``conflict`` (409/412). Search parameters are
strict: an unknown or repeated parameter is 400, not silently ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from bettercare.app.deps import Acting, Db
from bettercare.app.fhir import everything
from bettercare.app.fhir.errors import FHIR_JSON, FhirError, FhirResponse, error_response
from bettercare.services import fhir
from bettercare.services import fhir_resources as resources
from bettercare.services.access import Caller
from bettercare.services.fhir_capability import COMMON, SEARCH, WRITABLE, capability_statement

router = APIRouter(prefix="/fhir", tags=["FHIR R4"])

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


def _etag(version: int) -> dict[str, str]:
    return {"ETag": f'W/"{version}"'}


# --- metadata ---------------------------------------------------------------------------


@router.get("/metadata", response_class=FhirResponse)
def metadata(request: Request) -> Response:
    """The CapabilityStatement (public: it describes the API, not anyone's data)."""
    return FhirResponse(capability_statement(_base(request)))


# --- read -------------------------------------------------------------------------------


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
    def read(request: Request, resource_id: str, db: Db, caller: Acting) -> Response:
        found = fhir.read(db, caller, kind, resource_id)
        headers = _etag(found.version) if found.version is not None else None
        return FhirResponse(found.body, headers=headers)

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


def _search_route(kind: str) -> Callable[..., Response]:
    def search(request: Request, db: Db, caller: Acting) -> Response:
        query = request.url.query
        page = fhir.search(db, caller, kind, list(request.query_params.multi_items()), query)
        return FhirResponse(
            resources.bundle(
                f"{_base(request)}/{kind}", query, page.entries, page.total, page.next_query
            )
        )

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
            db: Db,
            caller: Acting,
            body: bytes | FhirError = Depends(_body_or_error),
        ) -> Response:
            return _write_checked(request, db, caller, kind, resource_id, body)

        put.__doc__ = f'Update a {kind} (If-Match: W/"<version>" guards against lost updates).'
        return put

    def post(
        request: Request,
        db: Db,
        caller: Acting,
        body: bytes | FhirError = Depends(_body_or_error),
    ) -> Response:
        return _write_checked(request, db, caller, kind, None, body)

    post.__doc__ = f"Create a {kind} for a patient of your HWB (201 with Location and ETag)."
    return post


def _write_checked(
    request: Request,
    db: Any,
    caller: Caller,
    kind: str,
    resource_id: str | None,
    body: bytes | FhirError,
) -> Response:
    if isinstance(body, FhirError):
        action = fhir.write_action(resource_id)
        fhir.refuse(db, caller, action, fhir.write_target(kind, resource_id), body)
    assert isinstance(body, bytes)
    found = fhir.write(db, caller, kind, resource_id, body, request.headers.get("if-match"))
    headers = _etag(found.version or 0)
    headers["Location"] = f"{_base(request)}/{kind}/{found.resource_id}/_history/{found.version}"
    return FhirResponse(
        found.body, status_code=201 if resource_id is None else 200, headers=headers
    )


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


# Patient/<id>/$everything (one person's journey) before the catch-all below
router.include_router(everything.router)


@router.api_route(
    "/{path:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,
)
def unknown(request: Request, path: str) -> Response:
    """An OperationOutcome for a resource type or interaction the API does not offer."""
    kind = path.split("/", 1)[0]
    if kind in fhir.MODELS:
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
