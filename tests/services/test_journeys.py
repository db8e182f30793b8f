"""One person's journey as a service: who may see it, what it shows, the audit trail."""

from __future__ import annotations

from pathlib import Path

import pytest
from analytics.synthetic_store import tables, write_store
from sqlalchemy import select

from bettercare.app.db import make_engine, migrate, session_factory
from bettercare.app.models import AuditEvent
from bettercare.app.security import Principal, Role
from bettercare.data import care_register
from bettercare.errors import NotFound, NotPermitted
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
