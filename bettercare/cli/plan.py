"""``bettercare plan ...``: validate and show BCF plan files."""

from __future__ import annotations

import typer

app = typer.Typer(help="BCF plan files: validate and show.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="plan")
