"""``bettercare figures``: published figures in, peers and benchmarks, goals.

Thin: parse, call the data / analytics / reporting function, print. Bad input (a
malformed figures file, a missing database, an unknown metric) ends with one ``error:``
line and exit code 2; a figures file is loaded whole or not at all.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from bettercare.cli.common import fail
from bettercare.errors import BettercareError

app = typer.Typer(
    help="Published figures: load, peers and funnel plots, goals.", no_args_is_help=True
)
out = Console(width=160)

FIGURES_DB_HELP = "Figures database (DuckDB file), default ./bettercare-figures.duckdb"


def register(root: typer.Typer) -> None:
    """Add the ``figures`` command group to the CLI."""
    root.add_typer(app, name="figures")


@app.command("load")
def load(
    file: Path = typer.Argument(..., help="Fingertips CSV export or bettercare figures CSV"),
    figures_db: Path = typer.Option(
        Path("bettercare-figures.duckdb"), "--figures-db", "--store", help=FIGURES_DB_HELP
    ),
) -> None:
    """Load a published-figures file into the figures database (all or nothing)."""
    from bettercare.data.figures import load_figures, read_figures_file

    try:
        result = read_figures_file(file)
        summary = load_figures(result, figures_db, str(file))
    except BettercareError as exc:
        raise fail(str(exc)) from None
    out.print(
        f"loaded {summary.loaded} figure(s) from {escape(str(file))} ({summary.layout} layout; "
        f"{summary.suppressed} suppressed, {summary.replaced} replaced) into "
        f"{escape(str(summary.database))}: {summary.total} figure(s) in all",
        highlight=False,
    )
    for why, n in sorted(summary.skipped.items()):
        out.print(f"skipped {n} row(s): {escape(why)}", highlight=False)
