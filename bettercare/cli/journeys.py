"""``bettercare journeys``: pathways through health and social care, as aggregate flows.

``journeys flows --store FILE --out DIR`` reads the linked store and writes, for each
pathway (emergency discharge -> destination -> reablement -> status at 91 days; A&E ->
admission; readmission within 30 days), the flows (CSV), the counts by period, cohort
and GP practice (CSV), lengths of stay and times between steps (CSV) and a Sankey
diagram (SVG). Small counts are suppressed (1-7) and others rounded to 5. Bad input:
one ``error:`` line, exit code 2. Heavy libraries are imported inside the command.
"""

from __future__ import annotations

from pathlib import Path

import typer

from bettercare.cli.common import fail

journeys_app = typer.Typer(
    help="Pathways through hospital, A&E, reablement and social care (aggregate flows).",
    no_args_is_help=True,
)

_PATHWAYS = ("discharge", "readmission", "ae")
_OPT_IN = ("tiers",)  # trains the risk model: only when asked for


@journeys_app.command("flows")
def flows(
    store: Path = typer.Option(..., "--store", help="Analytics store (DuckDB)"),
    out_dir: Path = typer.Option(..., "--out", help="Folder for the CSV and SVG files"),
    pathway: list[str] = typer.Option(
        [],
        "--pathway",
        help="discharge, readmission, ae, tiers (repeatable; default: all but tiers, "
        "which trains the risk model)",
    ),
) -> None:
    """Write each pathway's flows, tables, timings and Sankey diagram (suppressed counts)."""
    if not store.is_file():
        raise fail(f"store file not found: {store}")
    unknown = [p for p in pathway if p not in (*_PATHWAYS, *_OPT_IN)]
    if unknown:
        known = ", ".join((*_PATHWAYS, *_OPT_IN))
        raise fail(f"unknown --pathway '{unknown[0]}' (known: {known})")
    import pandas as pd
    from rich.console import Console
    from rich.table import Table

    from bettercare.analytics.engine import open_store
    from bettercare.analytics.journeys import PATHWAYS, JourneyDataError, tier_pathway
    from bettercare.analytics.metrics import MetricDataError
    from bettercare.reporting.journeys import write_pathways

    try:
        with open_store(store) as con:
            results = [
                tier_pathway(con) if name == "tiers" else PATHWAYS[name](con)
                for name in (pathway or _PATHWAYS)
            ]
    except (JourneyDataError, MetricDataError) as exc:
        raise fail(str(exc)) from None
    console = Console(width=140)
    for p in results:
        table = Table(title=p.title)
        for col in ("from", "to", "people"):
            table.add_column(col, justify="right" if col == "people" else "left")
        for r in p.flows.to_dict("records"):
            count = "*" if pd.isna(r["count"]) else f"{int(r['count']):,}"
            table.add_row(
                str(r["source"]).replace("_", " "), str(r["target"]).replace("_", " "), count
            )
        console.print(table)
    console.print("Counts 1-7 suppressed (*), others rounded to 5.", highlight=False)
    try:
        paths = write_pathways(results, out_dir)
    except OSError as exc:
        raise fail(f"cannot write --out {out_dir}: {exc.strerror or exc}") from None
    typer.echo(f"wrote {len(paths)} files to {out_dir}")


def register(app: typer.Typer) -> None:
    """Add ``journeys`` to the ``bettercare`` app."""
    app.add_typer(journeys_app, name="journeys")
