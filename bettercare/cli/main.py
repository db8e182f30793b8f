"""The ``bettercare`` command line (Typer + Rich).

Each command group lives in its own module ``bettercare.cli.<name>`` exposing
``register(app)``; add the module's name to :data:`COMMAND_MODULES`.
"""

from __future__ import annotations

import importlib

import typer

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
]

for _name in COMMAND_MODULES:
    importlib.import_module(f"bettercare.cli.{_name}").register(app)


def run() -> None:
    app()
