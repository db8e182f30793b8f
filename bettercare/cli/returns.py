"""``bettercare return write|read``: BCF quarterly and year-end returns as XLSX.

``return write --plan P --quarter '2025/26 Q2' --out F.xlsx`` writes the quarter's
return (:mod:`bettercare.reporting.returns`); ``return read F.xlsx --plan P`` reads one
back (:mod:`bettercare.data.returns`), prints it and says whether it matches the
return the plan records for that quarter (``--yaml`` prints it as a
``quarterly_reports`` entry to paste into the plan file). Exit code 2 with one line
naming the file, sheet and cell for a malformed spreadsheet, a quarter outside the
plan (nothing is written) or an unreadable plan.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bettercare.cli.common import fail

app = typer.Typer(help="BCF quarterly and year-end returns (XLSX).", no_args_is_help=True)
out = Console()
err = Console(stderr=True)


def register(root: typer.Typer) -> None:
    """Add ``bettercare return`` to the root command."""
    root.add_typer(app, name="return")


@app.command("write")
def write(
    plan: Path = typer.Option(..., "--plan", help="Plan file (YAML)"),
    quarter: str = typer.Option(..., "--quarter", help="Quarter, e.g. '2025/26 Q2' (Q4: year-end)"),
    out_file: Path = typer.Option(..., "--out", help="XLSX file to write"),
) -> None:
    """Write a quarter's return for a plan as XLSX."""
    from bettercare.cli.plan import display_path, load_or_exit
    from bettercare.data.returns import ReturnError, parse_quarter
    from bettercare.reporting.returns import write_return

    the_plan = load_or_exit(plan)
    try:
        fy, q = parse_quarter(quarter)
        report = write_return(the_plan, fy, q, out_file)
    except (ReturnError, OSError) as exc:
        raise fail(str(exc)) from None
    blank = "" if the_plan.quarter_report(fy, q) else " (blank: the plan records no figures)"
    out.print(
        f"wrote {display_path(out_file)}: {fy} Q{q} return for {escape(the_plan.hwb.name)}, "
        f"{len(report.actual_spend)} scheme(s), {len(report.metrics)} metric(s){blank}",
        soft_wrap=True,
    )


@app.command("read")
def read(
    file: Path = typer.Argument(..., help="Return (XLSX)"),
    plan: Path = typer.Option(..., "--plan", help="Plan file the return belongs to"),
    as_yaml: bool = typer.Option(False, "--yaml", help="Print as a quarterly_reports entry"),
) -> None:
    """Read a return back into the plan's terms and compare it with the plan's record."""
    import yaml

    from bettercare.cli.plan import load_or_exit
    from bettercare.data.returns import STATUS_LABELS, ReturnError, read_return
    from bettercare.domain.money import format_gbp

    the_plan = load_or_exit(plan)
    try:
        report = read_return(file, the_plan)
    except ReturnError as exc:
        raise fail(str(exc)) from None
    if as_yaml:
        data = json.loads(report.model_dump_json(exclude_none=True))
        typer.echo(yaml.safe_dump([data], sort_keys=False, allow_unicode=True), nl=False)
        return
    table = Table(title=f"{the_plan.hwb.name}: {report.financial_year} Q{report.quarter} return")
    table.add_column("Item")
    table.add_column("Value")
    for ref, amount in report.actual_spend.items():
        table.add_row(f"spend {ref}", format_gbp(amount))
    for m in report.metrics:
        table.add_row(m.metric, STATUS_LABELS[m.status])
    for c in report.conditions:
        answer = "not answered" if c.confirmed is None else ("confirmed" if c.confirmed else "no")
        table.add_row(c.id, answer)
    out.print(table)
    recorded = the_plan.quarter_report(report.financial_year, report.quarter)
    if recorded is None:
        out.print("the plan records no return for this quarter: add it with --yaml")
    elif recorded == report:
        out.print("matches the return recorded in the plan")
    else:
        out.print("[yellow]differs from the return recorded in the plan[/yellow]")
