"""The app's own database: engine, sessions and Alembic migrations.

SQLite is the embedded default; PostgreSQL is supported with the same models and
migrations (``postgresql+psycopg://user@host/db``). The schema is created and upgraded
only by Alembic (``migrations/``), never by ``create_all``, so both engines stay on one
history.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from fastapi import Request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from bettercare.data.tables import Base

__all__ = [
    "Base",
    "database_ok",
    "get_db",
    "make_engine",
    "migrate",
    "session_factory",
    "session_scope",
    "shown_url",
    "url_problem",
    "without_password",
]

MIGRATIONS = Path(__file__).parent / "migrations"


#: The database drivers the app is tested on (SQLAlchemy URL schemes).
SUPPORTED_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg")


def url_problem(url: str) -> str | None:
    """One line saying why ``url`` cannot be the app's database, or None."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        scheme = make_url(url).drivername
    except ArgumentError:
        return "not a database URL: use sqlite:///file.db or postgresql+psycopg://user@host/db"
    if scheme not in SUPPORTED_SCHEMES:
        return (
            f"'{scheme}' databases are not supported: use sqlite:///file.db or "
            "postgresql+psycopg://user@host/db"
        )
    return None


def shown_url(url: str) -> str:
    """``url`` as it may be printed or logged: the password replaced by ``***``."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<the database URL>"


def without_password(text: str, url: str) -> str:
    """``text`` (an error message) with ``url``'s password, if any, replaced by ``***``."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        password = make_url(url).password
    except ArgumentError:
        return text.replace(url, "<the database URL>")
    return text.replace(url, shown_url(url)).replace(str(password), "***") if password else text


def database_ok(engine: Engine) -> bool:
    """True when ``engine``'s database answers a trivial query now (the health check)."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with engine.connect() as con:
            con.execute(text("SELECT 1"))
        return True
    except SQLAlchemyError:
        return False


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys on and one writer at a time."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_con, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_con.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(url: str) -> Config:
    """Alembic configuration pointing at the packaged migrations."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(engine: Engine) -> None:
    """Upgrade the database to the newest schema (idempotent)."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to ``engine`` (objects stay readable after commit)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One session per request: committed by the caller, always closed."""
    db = factory()
    try:
        yield db
    finally:
        db.close()


def get_db(request: Request) -> Iterator[Session]:
    """FastAPI dependency: the request's one database session (closed after the answer).

    FastAPI caches a dependency within a request, so the principal's lookup and the route
    share this session.
    """
    for db in session_scope(request.app.state.sessions):
        request.state.db = db  # for the page header's HWB names (templating.hwb_label)
        yield db
