"""Alembic environment: runs on the connection ``bettercare.app.db.migrate`` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from bettercare.data import tables  # noqa: F401  (registers the tables)
from bettercare.data.tables import Base

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:  # the alembic command line: connect to the configured URL
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as conn:
        _run(conn)
