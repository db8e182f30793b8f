"""``bettercare db upgrade``: the web app's database schema to the newest version (Alembic).

Run it after installing a new release, before starting the server (``bettercare serve``
also runs it at start). Idempotent: an up-to-date database is left as it is.
"""

from __future__ import annotations

import typer
from rich.console import Console

from bettercare.cli.common import fail

out = Console()

db_app = typer.Typer(help="The web app's database: schema upgrades.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    """Add ``bettercare db`` to the root command."""
    root.add_typer(db_app, name="db")


@db_app.command("upgrade")
def upgrade(
    database: str | None = typer.Option(
        None,
        help="SQLAlchemy URL of the web app's database (default: $BETTERCARE_DATABASE_URL, "
        "else sqlite:///bettercare-app.db).",
    ),
) -> None:
    """Upgrade the database schema to the newest version (Alembic migrations)."""
    from sqlalchemy.exc import SQLAlchemyError

    from bettercare.app.settings import AppSettings
    from bettercare.app.startup import upgrade_database

    url = database or AppSettings().database_url
    try:
        upgrade_database(url)
    except SQLAlchemyError as exc:
        raise fail(f"database {url}: {str(exc).splitlines()[0]}") from None
    out.print(f"database {_shown(url)}: schema up to date")


def _shown(url: str) -> str:
    """``url`` without its password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
