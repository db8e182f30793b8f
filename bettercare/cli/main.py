"""The ``bettercare`` command line (Typer + Rich).

Each command group lives in its own module and is registered here.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="bettercare",
    help="Run a Better Care Fund: plans, linked data, metrics and reports.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _register() -> None:
    from bettercare.cli import plan as plan_cli

    app.add_typer(plan_cli.app, name="plan")
    plan_cli.register_top_level(app)


# registered once the plan commands exist
# _register()


def run() -> None:
    app()
