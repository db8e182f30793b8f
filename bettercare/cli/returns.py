"""``bettercare return write|read``: BCF quarterly and year-end returns as XLSX.

``return write --plan P --year 2025-26 --kind q2 --out F.xlsx`` writes a quarterly (q1,
q2, q3) or the year-end (``--kind year-end``) return (:mod:`bettercare.reporting.returns`);
``--quarter '2025-26 Q2'`` still works (Q4 is the year-end return); ``--figures DB``
pre-fills the metric actuals and statuses from published figures (``bettercare figures
load``; ``--hwb CODE`` where the plan states no ONS code). ``return read F.xlsx --plan P``
reads one back (:mod:`bettercare.data.returns`), prints it and says whether it matches the
return the plan records for that quarter (``--yaml`` prints it as a
``quarterly_reports`` entry to paste into the plan file). Exit code 2 with one line
naming the file, sheet and cell for a malformed spreadsheet, a quarter outside the
plan (nothing is written) or an unreadable plan.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bettercare.cli.common import fail

if TYPE_CHECKING:
    import pandas as pd

    from bettercare.domain.plan import Plan

app = typer.Typer(help="BCF quarterly and year-end returns (XLSX).", no_args_is_help=True)
out = Console()
err = Console(stderr=True)


def register(root: typer.Typer) -> None:
    """Add ``bettercare return`` to the root command."""
    root.add_typer(app, name="return")


def _which(quarter: str | None, year: str | None, kind: str | None) -> tuple[str, int]:
    """The return asked for: ``--quarter`` or ``--year`` with ``--kind`` (not both)."""
    from bettercare.data.returns import ReturnError, parse_kind, parse_quarter

    if quarter is not None:
        if year is not None or kind is not None:
            raise ReturnError("give --quarter, or --year with --kind, not both")
        return parse_quarter(quarter)
    if year is None or kind is None:
        raise ReturnError(
            "say which return: --year 2025-26 --kind q1|q2|q3|year-end (or --quarter '2025-26 Q2')"
        )
    return parse_kind(year, kind)


@app.command("write")
def write(
    plan: Path = typer.Option(..., "--plan", help="Plan file (YAML)"),
    out_file: Path = typer.Option(..., "--out", help="XLSX file to write"),
    year: str | None = typer.Option(
        None, "--year", help="Financial year, e.g. 2025-26 (or 2025/26)"
    ),
    kind: str | None = typer.Option(
        None, "--kind", help="Kind of return: q1, q2, q3, year-end (with --year)"
    ),
    quarter: str | None = typer.Option(
        None, "--quarter", help="Or the quarter, e.g. '2025-26 Q2' (Q4: year-end)"
    ),
    figures_db: Path | None = typer.Option(
        None,
        "--figures",
        "--figures-db",
        help="Figures database (bettercare figures load): pre-fill the metric actuals",
    ),
    store: Path | None = typer.Option(
        None,
        "--store",
        help="Analytics store (DuckDB file, bettercare ingest): pre-fill the metric actuals "
        "from the linked data (with --figures too: the store's figure wins where both have one)",
    ),
    hwb: str | None = typer.Option(
        None, "--hwb", help="HWB code to measure (default: the plan's hwb.ons_code)"
    ),
) -> None:
    """Write a quarterly (Q1-Q3) or year-end return for a plan as XLSX."""
    from bettercare.cli.plan import display_path, load_or_exit
    from bettercare.data.returns import ReturnError, return_label
    from bettercare.domain.labels import format_period, metric_name
    from bettercare.reporting.returns import NO_FIGURE, write_return

    the_plan = load_or_exit(plan)
    actuals = None
    code = hwb or the_plan.hwb.ons_code
    try:
        fy, q = _which(quarter, year, kind)  # a wrong quarter before any measuring
    except ReturnError as exc:
        raise fail(str(exc)) from None
    if store is not None or figures_db is not None:
        actuals, code = _measured(the_plan, plan, store, figures_db, hwb)
    try:
        report = write_return(the_plan, fy, q, out_file, actuals=actuals, hwb_code=code)
    except (ReturnError, OSError) as exc:
        raise fail(str(exc)) from None
    if actuals is None:
        blank = "" if the_plan.quarter_report(fy, q) else " (blank: the plan records no figures)"
    else:
        where = " and ".join(
            w
            for w, given in (
                (f"the store {display_path(store)}" if store else "", store is not None),
                ("published figures", figures_db is not None),
            )
            if given
        )
        empty = [m.metric for m in report.metrics if m.actual is None]
        filled = len(report.metrics) - len(empty)
        blank = f" ({filled} metric actual(s) from {where} for {code})"
        if empty:
            what = "figure" if store else "published figure"
            # the metrics by name (the one table of labels); a name may hold a comma
            names = "; ".join(
                metric_name(m, mp.name if (mp := the_plan.metric_plan(m)) else None) for m in empty
            )
            out.print(
                f"note: no {what} for {code} in {format_period(fy)} to the end of Q{q} judged "
                f"against the plan, left empty (source '{NO_FIGURE}'): {escape(names)}",
                highlight=False,
                soft_wrap=True,
            )
    out.print(
        f"wrote {display_path(out_file)}: {format_period(fy)} {return_label(q).lower()} return for "
        f"{escape(the_plan.hwb.name)}, {len(report.actual_spend)} scheme(s), "
        f"{len(report.metrics)} metric(s){blank}",
        soft_wrap=True,
    )


def _measured(
    the_plan: Plan, plan: Path, store: Path | None, figures_db: Path | None, hwb: str | None
) -> tuple[dict[str, pd.DataFrame], str]:
    """The plan's metric actuals per grain, and the HWB measured: one ``error:`` line if not.

    Through :func:`bettercare.analytics.measure.measure_plan`, the one composition
    (``bettercare metrics`` and the board pack measure the same way), at every grain:
    the return takes, per metric, the finest grain's latest period judged against the plan.
    """
    from bettercare.analytics.measure import MeasureError, measure_plan
    from bettercare.analytics.metrics import GRAINS

    if store is None and hwb is None and the_plan.hwb.ons_code is None:
        raise fail(f"plan {plan} states no hwb.ons_code: name the board with --hwb CODE")
    if store is not None and not store.is_file():
        raise fail(f"--store {store}: no such analytics store (build one with bettercare ingest)")
    try:
        measured = measure_plan(the_plan, store, GRAINS, hwb_code=hwb, figures=figures_db)
    except MeasureError as exc:
        raise fail(str(exc)) from None
    return dict(measured.actuals), measured.hwb_code


@app.command("read")
def read(
    file: Path = typer.Argument(..., help="Return (XLSX)"),
    plan: Path = typer.Option(..., "--plan", help="Plan file the return belongs to"),
    as_yaml: bool = typer.Option(False, "--yaml", help="Print as a quarterly_reports entry"),
) -> None:
    """Read a return back into the plan's terms and compare it with the plan's record."""
    import yaml

    from bettercare.cli.plan import load_or_exit
    from bettercare.data.returns import ReturnError, read_return, return_label
    from bettercare.domain.labels import format_period
    from bettercare.reporting.returns import return_lines

    the_plan = load_or_exit(plan)
    try:
        report = read_return(file, the_plan)
    except ReturnError as exc:
        raise fail(str(exc)) from None
    if as_yaml:
        data = json.loads(report.model_dump_json(exclude_none=True))
        typer.echo(yaml.safe_dump([data], sort_keys=False, allow_unicode=True), nl=False)
        return
    fy = format_period(report.financial_year)
    title = f"{the_plan.hwb.name}: {fy} {return_label(report.quarter)} return"
    table = Table(title=escape(title))
    table.add_column("Item")
    table.add_column("Value")
    for item, value in return_lines(the_plan, report):
        table.add_row(escape(item), escape(value))
    out.print(table)
    recorded = the_plan.quarter_report(report.financial_year, report.quarter)
    if recorded is None:
        out.print("the plan records no return for this quarter: add it with --yaml")
    elif recorded == report:
        out.print("matches the return recorded in the plan")
    else:
        out.print("[yellow]differs from the return recorded in the plan[/yellow]")
