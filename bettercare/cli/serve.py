"""``bettercare serve``: the web app on localhost (plans, metrics, sign-off, FHIR API).

The embedded default keeps everything in ``bettercare-app.db`` (SQLite) in the current
directory; ``--database postgresql+psycopg://...`` uses PostgreSQL. The example plans
are loaded on first start, and an ``admin`` user is created whose password is
``$BETTERCARE_ADMIN_PASSWORD`` or, if unset, printed once.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from bettercare.app.settings import DATABASE_ENV, AppSettings
from bettercare.cli.common import fail

out = Console()


def register(root: typer.Typer) -> None:
    """Add ``bettercare serve`` to the root command."""
    root.command("serve")(serve)


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on (localhost by default)."),
    port: int = typer.Option(8000, min=1, max=65535, help="TCP port."),
    database: str = typer.Option(
        "sqlite:///bettercare-app.db",
        envvar=DATABASE_ENV,
        help="SQLAlchemy URL of the app's database (SQLite file or postgresql+psycopg://).",
    ),
    store: Path | None = typer.Option(
        None, help="Analytics store (DuckDB) for the metrics dashboard."
    ),
    examples: Path | None = typer.Option(
        None, help="Folder of plan YAML files loaded on first start (default: examples/)."
    ),
    demo: bool = typer.Option(
        False,
        "--demo",
        help="Also create a demo user per role for Rutland (editor, analyst, coordinator, "
        "assurer) and a synthetic care register, to try every role.",
    ),
    secure_cookies: bool = typer.Option(
        False, help="Send the session cookie over HTTPS only (behind a TLS proxy)."
    ),
) -> None:
    """Run the web app: every partner plans, signs off and monitors the BCF in a browser."""
    import uvicorn
    from sqlalchemy.exc import SQLAlchemyError

    from bettercare.app.db import shown_url, url_problem, without_password
    from bettercare.app.main import create_app
    from bettercare.data.plan_files import PlanFileError

    problem = url_problem(database)
    if problem:
        raise fail(f"database {shown_url(database)}: {problem}")

    if examples is not None and not examples.is_dir():
        raise fail(f"{examples}: not a folder of plan files")
    if store is not None and not store.is_file():
        raise fail(f"{store}: no such analytics store")
    settings = AppSettings(
        database_url=database,
        store=store,
        examples_dir=examples,
        cookie_secure=secure_cookies,
        demo=demo,
    )
    try:
        app = create_app(settings)
    except PlanFileError as exc:
        raise fail(str(exc).splitlines()[0]) from None
    except (SQLAlchemyError, ImportError) as exc:
        first = without_password(str(exc).splitlines()[0], database)
        raise fail(f"database {shown_url(database)}: {first}") from None
    if app.state.generated_admin_password:
        out.print(
            "First start: user [bold]admin[/bold] created with password "
            f"[bold]{app.state.generated_admin_password}[/bold] (shown once; set "
            "$BETTERCARE_ADMIN_PASSWORD to choose it)."
        )
    if app.state.generated_demo_password:
        out.print(
            "Demo users editor, analyst, coordinator (Rutland) and assurer created with "
            f"password [bold]{app.state.generated_demo_password}[/bold] (shown once; set "
            "$BETTERCARE_DEMO_PASSWORD to choose it)."
        )
    out.print(f"bettercare web app on http://{host}:{port}/ (Ctrl+C to stop)")
    uvicorn.run(app, host=host, port=port, log_level="warning")
