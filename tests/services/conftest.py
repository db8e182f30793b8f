"""A SQLite database with the example plans for the services' tests (no HTTP, no server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from bettercare.app.db import make_engine, migrate, session_factory
from bettercare.data.plan_store import import_plan_file
from bettercare.data.tables import AuditEvent, User
from bettercare.domain.access import ANONYMOUS, Principal, Role
from bettercare.services.access import Caller

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
RUTLAND = "E06000017"
LEICESTER = "E06000016"
RUTLAND_PLAN = "rutland-2014"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Session]:
    """A migrated SQLite database holding the example plans, and a session on it."""
    engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    migrate(engine)
    sessions = session_factory(engine)
    with sessions() as session:
        for path in sorted(EXAMPLES.glob("*.yaml")):
            import_plan_file(session, path, "system")
        session.commit()
        yield session
    engine.dispose()


def user(db: Session, name: str, role: Role, hwb: str | None = None) -> Caller:
    """A stored user (no password: these tests never sign in) and the caller they act as."""
    row = User(username=name, password_hash="-", role=str(role), hwb_code=hwb, active=True)
    db.add(row)
    db.commit()
    principal = Principal(username=name, role=role, hwb_code=hwb, user_id=row.id)
    return Caller(principal, "192.0.2.1", "TEST")


@pytest.fixture
def editor(db: Session) -> Caller:
    """A partner editor of Rutland."""
    return user(db, "editor", Role.PARTNER_EDITOR, RUTLAND)


@pytest.fixture
def leicester_editor(db: Session) -> Caller:
    """A partner editor of Leicester (not Rutland)."""
    return user(db, "editor_leicester", Role.PARTNER_EDITOR, LEICESTER)


@pytest.fixture
def admin(db: Session) -> Caller:
    """The administrator."""
    return user(db, "admin", Role.ADMIN)


@pytest.fixture
def coordinator(db: Session) -> Caller:
    """A care coordinator of Rutland."""
    return user(db, "coordinator", Role.CARE_COORDINATOR, RUTLAND)


@pytest.fixture
def public() -> Caller:
    """Someone not signed in."""
    return Caller(ANONYMOUS, "192.0.2.9", "TEST")


def events(db: Session, **where: str) -> list[AuditEvent]:
    """Audit events matching ``where`` (column = value), oldest first."""
    q = db.query(AuditEvent)
    for column, value in where.items():
        q = q.filter(getattr(AuditEvent, column) == value)
    return list(q.order_by(AuditEvent.id))
