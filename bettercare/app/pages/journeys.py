"""One person's journey page for direct care: ``/care/patients/<id>/journey``.

Parses the request, calls :func:`bettercare.services.journeys.person_journey` (which
checks the caller is a care coordinator of the person's HWB, re-identifies through the
care register and audit-logs the view) and renders the timeline. Patient-level: the
response is never cached (``Cache-Control: no-store``).
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from bettercare.app.deps import Acting, Db
from bettercare.app.templating import render
from bettercare.errors import NotFound
from bettercare.services.journeys import person_journey

router = APIRouter()
NO_STORE = {"Cache-Control": "no-store"}


@router.get("/care/patients/{patient_id}/journey", response_class=HTMLResponse)
def care_journey(request: Request, patient_id: str, db: Db, caller: Acting) -> HTMLResponse:
    """A register patient's hospital, A&E, reablement and social care timeline."""
    store = request.app.state.settings.store
    principal = caller.principal
    try:
        journey = person_journey(db, principal, patient_id, store, ip=caller.ip)
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from None
    response = render(request, "care_journey.html.j2", principal, journey=journey)
    response.headers.update(NO_STORE)
    return response
