"""``bettercare serve``: the web app on localhost (plans, metrics, sign-off, FHIR API).

The embedded default keeps everything in ``bettercare-app.db`` (SQLite) in the current
directory; ``--database postgresql+psycopg://...`` uses PostgreSQL. The example plans
are loaded on first start, and an ``admin`` user is created whose password is
``$BETTERCARE_ADMIN_PASSWORD`` or, if unset, printed once.

Before the server starts, this process upgrades the database (as ``bettercare db
upgrade``) and seeds a first run; then uvicorn starts ``--workers`` processes, each
building the app from the environment (:func:`bettercare.app.main.create_app` as a
factory). What the workers share lives in the database or in files; the caches that live
in a worker's memory are listed in docs/operators.md.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from bettercare.cli.common import fail

out = Console()


def register(root: typer.Typer) -> None:
    """Add ``bettercare serve`` to the root command."""
    root.command("serve")(serve)


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on (localhost by default)."),
    port: int = typer.Option(8000, min=1, max=65535, help="TCP port."),
    database: str | None = typer.Option(
        None,
        help="SQLAlchemy URL of the app's database (SQLite file or postgresql+psycopg://); "
        "default: $BETTERCARE_DATABASE_URL, else sqlite:///bettercare-app.db.",
    ),
    store: Path | None = typer.Option(
        None, help="Analytics store (DuckDB) for the metrics dashboard ($BETTERCARE_STORE)."
    ),
    figures: Path | None = typer.Option(
        None,
        help="Figures database of published figures (`bettercare figures load`) for the "
        "peers, goals and boards-side-by-side pages.",
    ),
    peers: Path | None = typer.Option(
        None,
        help="Peer file (group,hwb_code or hwb_code,peer_code) for benchmarks and goals "
        "(default: each board's NHS region).",
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
    workers: int = typer.Option(
        1, min=1, max=64, help="Server processes (each with its own per-worker caches)."
    ),
) -> None:
    """Run the web app: every partner plans, signs off and monitors the BCF in a browser."""
    import uvicorn
    from sqlalchemy.exc import SQLAlchemyError

    from bettercare.app.db import shown_url, url_problem, without_password
    from bettercare.app.settings import SECRET_ENV, AppSettings, to_environment
    from bettercare.app.startup import prepare, with_defaults
    from bettercare.data.plan_files import PlanFileError

    if examples is not None and not examples.is_dir():
        raise fail(f"{examples}: not a folder of plan files")
    if store is not None and not store.is_file():
        raise fail(f"{store}: no such analytics store")
    if figures is not None and not figures.is_file():
        raise fail(f"{figures}: no such figures database")
    if peers is not None:
        from bettercare.data.figures.peer_groups import read_peer_groups
        from bettercare.errors import BettercareError

        try:
            read_peer_groups(peers)  # a bad file is one line now, not a broken page later
        except BettercareError as exc:
            raise fail(str(exc)) from None
    # the options given win over the environment ($BETTERCARE_*), which wins over defaults
    given: dict[str, Any] = {"database_url": database, "store": store, "examples_dir": examples}
    given |= {"figures": figures, "peers": peers}
    given |= {"cookie_secure": secure_cookies or None, "demo": demo or None}
    settings = AppSettings(**{k: v for k, v in given.items() if v is not None})
    database = settings.database_url
    problem = url_problem(database)
    if problem:
        raise fail(f"database {shown_url(database)}: {problem}")
    from bettercare.app.preparation import start_demo_stores

    # the demo's synthetic stores are built alongside the seeding (a process of their own)
    start_demo_stores(with_defaults(settings))
    try:
        first = prepare(settings)
    except PlanFileError as exc:
        raise fail(str(exc).splitlines()[0]) from None
    except (SQLAlchemyError, ImportError) as exc:
        line = without_password(str(exc).splitlines()[0], database)
        raise fail(f"database {shown_url(database)}: {line}") from None
    if first.admin_password:
        out.print(
            "First start: user [bold]admin[/bold] created with password "
            f"[bold]{first.admin_password}[/bold] (shown once; set "
            "$BETTERCARE_ADMIN_PASSWORD to choose it)."
        )
    if first.demo_password:
        out.print(
            "Demo users editor, analyst, coordinator (Rutland) and assurer created with "
            f"password [bold]{first.demo_password}[/bold] (shown once; set "
            "$BETTERCARE_DEMO_PASSWORD to choose it)."
        )
    # the workers build the app from the environment: the same settings, one session key
    os.environ.update(to_environment(settings))
    os.environ[SECRET_ENV] = settings.resolved_secret()
    out.print(f"bettercare web app on http://{host}:{port}/ (Ctrl+C to stop)")
    uvicorn.run(
        "bettercare.app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
    )
