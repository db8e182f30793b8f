"""``bettercare demo``: the main job on embedded defaults.

Validates every example plan and writes a readable HTML summary of each under ``out/``.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from bettercare.cli.plan import validate_file
from bettercare.reporting.plan_report import PlanResult, write_report

out = Console()


def register(root: typer.Typer) -> None:
    root.command("demo")(demo)


def check_examples(examples: Path) -> list[PlanResult]:
    files = sorted(examples.glob("*.yaml"))
    if not files:
        out.print(f"[red]no plan files (*.yaml) in {examples}[/red]")
        raise typer.Exit(2)
    results = []
    for path in files:
        plan, findings = validate_file(path)
        results.append(PlanResult(path, plan, findings))
    return results


def print_summary(results: list[PlanResult]) -> None:
    t = Table(title="Example plans")
    for col in ("Plan", "HWB", "Years", "Errors", "Warnings"):
        t.add_column(col)
    for r in results:
        t.add_row(r.source.name, r.plan.hwb.name if r.plan else "(unreadable)",
                  ", ".join(r.plan.financial_years) if r.plan else "",
                  str(r.errors), str(r.warnings))
    out.print(t)


def demo(
    out_dir: Path = typer.Option(Path("out"), "--out", help="Where to write the report"),
    examples: Path = typer.Option(Path("examples"), "--examples", help="Plan files to check"),
) -> None:
    """Validate every example plan and write the HTML summary (out/index.html)."""
    results = check_examples(examples)
    print_summary(results)
    index = write_report(out_dir, results)
    out.print(f"[green]report written:[/green] {index}")
