"""One person's journey for direct care: hospital, A&E, reablement, social care, death.

The use case behind ``/care/patients/<id>/journey`` and FHIR ``Patient/<id>/$everything``:
the care coordinators of the person's HWB only (``VIEW_PATIENTS`` in the person's HWB);
every view and every refusal is audit-logged. The person is re-identified only through
the care register: the register's patient record holds the pseudonym its import linked
(:func:`bettercare.data.care_register.import_scores`), and the store is read by that
pseudonym (:func:`bettercare.analytics.journeys.person_timeline`). A register entry with
no pseudonym, or no store, gives an empty timeline with the reason.

A use case: session and principal in, view model out; no HTTP.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from bettercare.data.tables import CarePatient
from bettercare.domain.access import Action, Principal, allowed
from bettercare.errors import NotFound
from bettercare.services import audit
from bettercare.services.access import AccessRefused

if TYPE_CHECKING:
    from bettercare.analytics.journeys import JourneyEvent

# The analytics (DuckDB, pandas) are imported where used: the server must start fast.

_ID = re.compile(r"[0-9]{1,18}")


@dataclass(frozen=True)
class PersonJourney:
    """A register patient and their linked events (empty with ``message`` when none)."""

    patient: CarePatient
    events: list[JourneyEvent] = field(default_factory=list)
    message: str = ""


def _permit(
    db: Session,
    principal: Principal,
    target: str,
    hwb_code: str | None,
    ip: str | None,
) -> None:
    """Raise :class:`AccessRefused` after auditing the refusal, unless the caller may view."""
    if allowed(principal, Action.VIEW_PATIENTS, hwb_code):
        return
    audit.record(
        db, principal, str(Action.VIEW_PATIENTS), target, audit.DENIED, ip=ip, hwb_code=hwb_code
    )
    db.commit()
    raise AccessRefused(principal, str(Action.VIEW_PATIENTS), target)


def in_period(event: JourneyEvent, start: date | None, end: date | None) -> bool:
    """True when ``event``'s care dates overlap ``[start, end]`` (either end open)."""
    if end is not None and event.start > end:
        return False
    last = event.end if event.end is not None else (event.start if event.kind == "death" else None)
    return start is None or last is None or last >= start


def _range_text(start: date | None, end: date | None) -> str:
    if start is None and end is None:
        return ""
    return f" ({start.isoformat() if start else '...'} to {end.isoformat() if end else '...'})"


def register_patient(
    db: Session, principal: Principal, patient_id: str, *, ip: str | None = None
) -> CarePatient:
    """The register's patient ``patient_id`` if the caller may view them.

    :class:`AccessRefused` (audited) for another role or HWB; :class:`NotFound` for an
    unknown id.
    """
    target = f"care:patient/{patient_id[:40]}/journey"
    _permit(db, principal, target, None, ip)
    patient = (
        db.get(CarePatient, int(patient_id))
        if _ID.fullmatch(patient_id) and int(patient_id) < 2**63
        else None
    )
    if patient is None:
        raise NotFound("no such person in the register")
    _permit(db, principal, target, patient.hwb_code, ip)
    return patient


def person_journey(
    db: Session,
    principal: Principal,
    patient_id: str,
    store: Path | None,
    *,
    ip: str | None = None,
    via: str = "page",
    start: date | None = None,
    end: date | None = None,
) -> PersonJourney:
    """One register patient's timeline from the linked store, audit-logged as viewed.

    ``start``/``end`` (inclusive, each optional): only events whose care dates overlap
    the range (an event still open has no end; a death is a single day), as FHIR
    Patient/$everything's ``start`` and ``end`` ask.
    """
    from bettercare.analytics.engine import open_store
    from bettercare.analytics.journeys import JourneyDataError, person_timeline
    from bettercare.analytics.metrics import MetricDataError

    patient = register_patient(db, principal, patient_id, ip=ip)
    events: list[JourneyEvent] = []
    message = ""
    if store is None:
        message = "No analytics store is configured (bettercare serve --store FILE)."
    elif not patient.person_id:
        message = "The register holds no pseudonym for this person: no linked records."
    else:
        try:
            with open_store(store) as con:
                events = person_timeline(con, patient.person_id)
        except (JourneyDataError, MetricDataError) as exc:
            message = f"The analytics store cannot be read: {exc}"
        events = [e for e in events if in_period(e, start, end)]
        if not events and not message:
            message = "No linked hospital, A&E or social care records in the store."
            if start or end:
                message = "No linked records with care dates in the range asked for."
    audit.record(
        db,
        principal,
        "view_journey" if via == "page" else "fhir.everything",
        f"care:patient/{patient.id}/journey",
        ip=ip,
        hwb_code=patient.hwb_code,
        detail=f"{len(events)} events" + _range_text(start, end),
    )
    db.commit()
    return PersonJourney(patient, events, message)
