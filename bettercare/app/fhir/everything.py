"""``GET /fhir/Patient/<id>/$everything``: one person's journey as a FHIR R4 Bundle.

In the spirit of the Patient ``$everything`` operation
(https://hl7.org/fhir/R4/patient-operation-everything.html): a searchset Bundle of the
Patient, an Encounter per hospital spell (class ``IMP``) and A&E attendance (class
``EMER``, v3 ActCode) and an EpisodeOfCare per reablement episode, social care service
and care home placement; a death sets ``Patient.deceasedDateTime``. The use case (who may
see it, re-identification through the care register, the audit record) is
:func:`bettercare.services.journeys.person_journey`; this module only renders. Each
resource is validated with ``fhir.resources`` (R4B, R4-compatible). Never cached
(``Cache-Control: no-store``). The operation's ``start`` and ``end`` parameters (care
dates, :func:`bettercare.services.fhir.everything_period`) limit the records to those
whose care overlaps the range; a bad date, ``start`` after ``end`` or any other
parameter is a 400 OperationOutcome.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.episodeofcare import EpisodeOfCare

from bettercare.app.deps import Acting, Db
from bettercare.app.fhir.errors import FhirError, FhirResponse, error_response
from bettercare.errors import NotFound
from bettercare.services import fhir_resources as resources
from bettercare.services.fhir import everything_period
from bettercare.services.journeys import person_journey

if TYPE_CHECKING:
    from bettercare.analytics.journeys import JourneyEvent

router = APIRouter()
NO_STORE = {"Cache-Control": "no-store"}
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
_CLASS = {"hospital spell": ("IMP", "inpatient encounter"), "A&E attendance": ("EMER", "emergency")}
_PREFIX = {
    "hospital spell": "spell",
    "A&E attendance": "ae",
    "reablement": "reablement",
    "social care service": "service",
    "care home placement": "service",
}


def _id(event: JourneyEvent) -> str:
    safe = re.sub(r"[^A-Za-z0-9.-]", "-", event.source_id)
    return f"{_PREFIX[event.kind]}-{safe}"[:64]


def _period(event: JourneyEvent) -> dict[str, str]:
    period = {"start": event.start.isoformat()}
    if event.end is not None:
        period["end"] = event.end.isoformat()
    return period


def encounter(event: JourneyEvent, patient_id: int) -> dict[str, Any]:
    """A hospital spell or A&E attendance as an Encounter."""
    code, display = _CLASS[event.kind]
    finished = event.end is not None or event.kind == "A&E attendance"
    res = {
        "resourceType": "Encounter",
        "id": _id(event),
        "status": "finished" if finished else "in-progress",
        "class": {"system": ACT_CODE, "code": code, "display": display},
        "type": [{"text": event.kind}],
        "subject": {"reference": f"Patient/{patient_id}"},
        "period": _period(event),
        "reasonCode": [{"text": event.detail}],
    }
    Encounter.model_validate(res)
    return res


def episode_of_care(event: JourneyEvent, patient_id: int) -> dict[str, Any]:
    """A reablement episode, social care service or care home placement as an EpisodeOfCare."""
    res = {
        "resourceType": "EpisodeOfCare",
        "id": _id(event),
        "status": "finished" if event.end is not None else "active",
        "type": [{"text": f"{event.kind}: {event.detail}"}],
        "patient": {"reference": f"Patient/{patient_id}"},
        "period": _period(event),
    }
    EpisodeOfCare.model_validate(res)
    return res


@router.get("/Patient/{patient_id}/$everything", response_class=FhirResponse)
def everything(
    request: Request,
    patient_id: str,
    db: Db,
    caller: Acting,
    start: str | None = Query(None, description="Care date start: YYYY, YYYY-MM or YYYY-MM-DD"),
    end: str | None = Query(None, description="Care date end: YYYY, YYYY-MM or YYYY-MM-DD"),
) -> Response:
    """The Patient with their Encounters and EpisodesOfCare (direct care only).

    ``start``/``end`` are read again from the raw query (with any repeats or other
    parameters) by :func:`everything_period`; they are declared for the OpenAPI document.
    """
    del start, end
    store = request.app.state.settings.store
    try:
        first, last = everything_period(list(request.query_params.multi_items()))
    except FhirError as exc:
        return error_response(exc, headers=NO_STORE)
    try:
        journey = person_journey(
            db, caller.principal, patient_id, store, ip=caller.ip, via="fhir", start=first, end=last
        )
    except NotFound:
        return error_response(
            FhirError(404, "not-found", f"Patient/{patient_id[:40]} is not a known resource"),
            headers=NO_STORE,
        )
    patient = resources.patient(journey.patient)
    pid = journey.patient.id
    entries: list[dict[str, Any]] = [patient]
    for e in journey.events:
        if e.kind == "death":
            patient["deceasedDateTime"] = e.start.isoformat()
        elif e.kind in _CLASS:
            entries.append(encounter(e, pid))
        else:
            entries.append(episode_of_care(e, pid))
    base = str(request.base_url).rstrip("/") + f"/fhir/Patient/{pid}/$everything"
    query = urlencode(
        [(k, v.isoformat()) for k, v in (("start", first), ("end", last)) if v is not None]
    )
    body = resources.bundle(base, query, entries, len(entries))
    Bundle.model_validate(body)
    return FhirResponse(body, headers=NO_STORE)
