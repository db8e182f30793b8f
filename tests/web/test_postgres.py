"""The app's database on a real PostgreSQL server: migrations, the append-only audit log
and optimistic locking (the other web tests run on both engines; these are PostgreSQL's own).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.exc import StaleDataError

from bettercare.app.db import alembic_config, make_engine, migrate, session_factory
from bettercare.app.models import AuditEvent, PlanRecord

from .pgserver import PostgresServer

TABLES = {"hwbs", "users", "api_tokens", "login_attempts", "plans", "audit_events"}


@pytest.fixture
def database_url(postgres_server: PostgresServer) -> Iterator[str]:
    """PostgreSQL only: a new database on the session's server."""
    name = postgres_server.create_database()
    try:
        yield postgres_server.url(name)
    finally:
        postgres_server.drop_database(name)


def test_migrations_reach_head_and_go_back_down(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        assert engine.dialect.name == "postgresql"
        migrate(engine)
        migrate(engine)  # idempotent: a second start changes nothing
        head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
        with engine.connect() as con:
            assert con.execute(text("SELECT version_num FROM alembic_version")).scalar() == head
            triggers = con.execute(
                text("SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_events'::regclass")
            ).scalars()
            assert "audit_events_no_change" in set(triggers)
        assert set(inspect(engine).get_table_names()) >= TABLES

        cfg = alembic_config(database_url)
        with engine.begin() as con:
            cfg.attributes["connection"] = con
            command.downgrade(cfg, "base")
        assert not TABLES & set(inspect(engine).get_table_names())
        migrate(engine)  # and back up again from nothing
        assert set(inspect(engine).get_table_names()) >= TABLES
    finally:
        engine.dispose()


def test_app_starts_on_postgresql_with_examples(app) -> None:
    assert app.state.engine.dialect.name == "postgresql"
    with app.state.sessions() as db:
        plans = db.scalars(select(PlanRecord.id)).all()
        assert "rutland-2014" in plans
        event = db.scalars(select(AuditEvent).order_by(AuditEvent.id)).first()
        assert event is not None and event.at.tzinfo is not None  # timestamptz round trip


@pytest.mark.parametrize(
    "sql", ["UPDATE audit_events SET actor = 'someone else'", "DELETE FROM audit_events"]
)
def test_audit_log_refuses_update_and_delete(app, sql: str) -> None:
    with app.state.engine.connect() as con:
        before = con.execute(text("SELECT count(*), min(actor) FROM audit_events")).one()
        assert before[0] > 0
        with pytest.raises(DBAPIError, match="append-only"):
            con.execute(text(sql))
        con.rollback()
        after = con.execute(text("SELECT count(*), min(actor) FROM audit_events")).one()
    assert after == before
    with app.state.sessions() as db:  # nor through the ORM
        event = db.scalars(select(AuditEvent)).first()
        assert event is not None
        db.delete(event)
        with pytest.raises(DBAPIError, match="append-only"):
            db.commit()


def test_optimistic_locking_refuses_the_second_save(app) -> None:
    first, second = app.state.sessions(), app.state.sessions()
    try:
        mine = first.get(PlanRecord, "rutland-2014")
        theirs = second.get(PlanRecord, "rutland-2014")
        assert mine.version == theirs.version
        mine.updated_by = "editor"
        first.commit()
        theirs.updated_by = "editor_other"
        with pytest.raises(StaleDataError):
            second.commit()
        second.rollback()
    finally:
        first.close()
        second.close()
    with session_factory(app.state.engine)() as db:
        saved = db.get(PlanRecord, "rutland-2014")
        assert saved.updated_by == "editor"  # the first save stands, nothing half-written
        assert saved.version == mine.version
