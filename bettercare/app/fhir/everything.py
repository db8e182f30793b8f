"""``GET /fhir/Patient/<id>/$everything``: one person's journey as a FHIR R4 Bundle.

In the spirit of the Patient ``$everything`` operation
(https://hl7.org/fhir/R4/patient-operation-everything.html): a searchset Bundle of the
Patient, an Encounter per hospital spell (class ``IMP``) and A&E attendance (class
``EMER``, v3 ActCode) and an EpisodeOfCare per reablement episode, social care service
and care home placement; a death sets ``Patient.deceasedDateTime``. The use case (who may
see it, re-identification through the care register, the audit record) is
:func:`bettercare.services.journeys.person_journey`; this module only renders. Each
resource is validated with ``fhir.resources`` (R4B, R4-compatible). Never cached
(``Cache-Control: no-store``). No operation parameters (``start``, ``end``, ``_since``)
are supported yet.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.episodeofcare import EpisodeOfCare

from bettercare.app.deps import Acting, Db
from bettercare.app.fhir.errors import FhirError, FhirResponse, error_response
from bettercare.errors import NotFound
from bettercare.services import fhir_resources as resources
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
def everything(request: Request, patient_id: str, db: Db, caller: Acting) -> Response:
    """The Patient with their Encounters and EpisodesOfCare (direct care only)."""
    store = request.app.state.settings.store
    try:
        journey = person_journey(db, caller.principal, patient_id, store, ip=caller.ip, via="fhir")
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
    body = resources.bundle(base, "", entries, len(entries))
    Bundle.model_validate(body)
    return FhirResponse(body, headers=NO_STORE)
