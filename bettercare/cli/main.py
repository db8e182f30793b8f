"""The ``bettercare`` command line (Typer + Rich).

Each command group lives in its own module ``bettercare.cli.<name>`` exposing
``register(app)``; add the module's name to :data:`COMMAND_MODULES`.
"""

from __future__ import annotations

import importlib
import os

import typer

from bettercare import __version__

app = typer.Typer(
    name="bettercare",
    help="Run a Better Care Fund: plans, linked data, metrics and reports.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

COMMAND_MODULES: list[str] = [
    "plan",
    "demo",
    "ingest",
    "synth",
    "metrics",
    "returns",
    "serve",
    "risk",
    "register",
    "model",
    "report",
    "evaluate",
    "journeys",
]


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"bettercare {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_show_version,
        is_eager=True,
        help="Print the version and exit.",
    ),
) -> None:
    """Run a Better Care Fund: plans, linked data, metrics and reports."""


for _name in COMMAND_MODULES:
    importlib.import_module(f"bettercare.cli.{_name}").register(app)


def run() -> None:
    """Entry point: files this process creates are private to its user (0600/0700).

    Stores, reports and outputs can hold person-level data, so the default is closed;
    share a file on purpose with ``chmod``.
    """
    os.umask(0o077)
    app()
