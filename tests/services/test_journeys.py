"""One person's journey as a service: who may see it, what it shows, the audit trail."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from analytics.synthetic_store import tables, write_store
from sqlalchemy import select

from bettercare.analytics.journeys import JourneyEvent
from bettercare.app.db import make_engine, migrate, session_factory
from bettercare.app.models import AuditEvent
from bettercare.app.security import Principal, Role
from bettercare.data import care_register
from bettercare.errors import NotFound, NotPermitted
from bettercare.services import journeys
from bettercare.services.journeys import person_journey

RUTLAND, LEICESTER = "E06000017", "E06000016"
COORDINATOR = Principal("coord", Role.CARE_COORDINATOR, RUTLAND, user_id=1)


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("journey") / "store.duckdb"
    con = write_store(tables(population=1500), path)
    person = con.execute(
        """SELECT person_id FROM hospital_spells JOIN social_care_services USING (person_id)
        GROUP BY person_id ORDER BY count(*) DESC, person_id LIMIT 1"""
    ).fetchone()[0]
    con.close()
    return path, person


@pytest.fixture()
def db(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    migrate(engine)
    with session_factory(engine)() as session:
        yield session
    engine.dispose()


def _patient(db, person_id: str | None, number: str, hwb: str = RUTLAND) -> int:
    care_register.ensure_hwb(db, hwb)
    p = care_register.add_patient(db, nhs_number=number, hwb_code=hwb, person_id=person_id)
    db.commit()
    return p.id


def _audit(db) -> list[tuple[str, str, str]]:
    return [
        (e.actor, e.action, e.outcome)
        for e in db.scalars(select(AuditEvent).order_by(AuditEvent.id))
    ]


def test_the_coordinator_sees_the_linked_events_and_the_view_is_audited(db, store):
    path, person = store
    pid = _patient(db, person, person)  # synthetic store: the NHS number is the pseudonym
    journey = person_journey(db, COORDINATOR, str(pid), path)
    kinds = {e.kind for e in journey.events}
    assert "hospital spell" in kinds and kinds & {"social care service", "care home placement"}
    starts = [e.start for e in journey.events]
    assert starts == sorted(starts)
    assert _audit(db)[-1] == ("coord", "view_journey", "ok")


def test_no_pseudonym_or_no_store_says_why(db, store):
    path, _ = store
    pid = _patient(db, None, "9997258401")
    assert "no pseudonym" in person_journey(db, COORDINATOR, str(pid), path).message
    assert "No analytics store" in person_journey(db, COORDINATOR, str(pid), None).message


@pytest.mark.parametrize(
    "principal",
    [
        Principal("analyst", Role.ANALYST, RUTLAND, user_id=2),
        Principal("admin", Role.ADMIN, None, user_id=3),
        Principal("other", Role.CARE_COORDINATOR, LEICESTER, user_id=4),
    ],
)
def test_others_are_refused_and_the_refusal_is_audited(db, store, principal):
    path, person = store
    pid = _patient(db, person, person)
    with pytest.raises(NotPermitted):
        person_journey(db, principal, str(pid), path)
    assert _audit(db)[-1] == (principal.username, "view_patients", "denied")


def test_unknown_patient(db, store):
    with pytest.raises(NotFound):
        person_journey(db, COORDINATOR, "424242", store[0])
    with pytest.raises(NotFound):
        person_journey(db, COORDINATOR, "not-a-number", store[0])


# --- the care-date range of Patient/$everything -----------------------------------------


def _event(kind: str, start: date, end: date | None) -> JourneyEvent:
    return JourneyEvent(kind, start, end, "", "x")


@pytest.mark.parametrize(
    ("start", "end", "inside"),
    [
        # a spell 10-20 March 2024 overlaps any range touching those days
        (date(2024, 3, 20), None, True),
        (date(2024, 3, 21), None, False),
        (None, date(2024, 3, 10), True),
        (None, date(2024, 3, 9), False),
        (date(2024, 3, 12), date(2024, 3, 13), True),  # inside the stay
        (date(2024, 1, 1), date(2024, 2, 1), False),
    ],
)
def test_in_period_is_overlap_of_care_dates(start, end, inside) -> None:
    spell = _event("hospital spell", date(2024, 3, 10), date(2024, 3, 20))
    assert journeys.in_period(spell, start, end) is inside


def test_in_period_open_events_and_deaths() -> None:
    still_in = _event("hospital spell", date(2024, 3, 10), None)  # not yet discharged
    assert journeys.in_period(still_in, date(2030, 1, 1), None)
    assert not journeys.in_period(still_in, None, date(2024, 3, 9))
    death = _event("death", date(2024, 3, 10), None)  # a single day
    assert not journeys.in_period(death, date(2024, 3, 11), None)
    assert journeys.in_period(death, date(2024, 3, 10), date(2024, 3, 10))
