"""``bettercare plan ...`` and ``bettercare p4p``: validate, show and cost BCF plan files.

Exit codes: 0 the plan is valid (warnings allowed); 2 the file cannot be read or a
planning rule fails with an error. Errors name the file, line, path in the plan and rule.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from bettercare.cli.common import shown
from bettercare.domain.text import printable

if TYPE_CHECKING:
    from bettercare.domain.findings import Finding
    from bettercare.domain.plan import Plan

app = typer.Typer(help="BCF plan files: validate, show, schema.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)

EXIT_INVALID = 2


def register(root: typer.Typer) -> None:
    """Add the ``plan`` command group and ``p4p`` to the CLI."""
    root.add_typer(app, name="plan")
    root.command("p4p", help="Payment-for-performance sum of a plan (2015/16 rules).")(p4p)


def load_or_exit(path: Path) -> Plan:
    """The plan in ``path``; print its findings and exit 2 when it cannot be read."""
    from bettercare.data.plan_files import PlanFileError, load_plan

    try:
        return load_plan(path)
    except PlanFileError as exc:
        print_findings(exc.findings)
        err.print(f"[red]{shown(display_path(path))}: not a valid plan file[/red]")
        raise typer.Exit(EXIT_INVALID) from None


def display_path(path: Path) -> str:
    """A file name as printed: control characters escaped, no rich markup."""
    return escape(printable(str(path)))


def print_findings(findings: list[Finding]) -> None:
    """One line per finding on stderr; built as one text (a big plan has thousands)."""
    from bettercare.domain.findings import Severity

    lines = Text()
    for f in findings:
        lines.append(f"{f.severity.upper():7}", "red" if f.severity == Severity.ERROR else "yellow")
        lines.append(f" {printable(str(f))}\n")
    if findings:
        err.print(lines, end="", highlight=False, soft_wrap=True)


@app.command()
def validate(
    files: list[Path] = typer.Argument(..., help="Plan files (YAML)", exists=False),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print errors only"),
) -> None:
    """Check plan files against the models and the BCF planning rules."""
    from bettercare.data.plan_files import validate_plan_file
    from bettercare.domain.findings import Severity

    worst = 0
    for path in files:
        plan, findings = validate_plan_file(path)
        shown = [f for f in findings if not quiet or f.severity == Severity.ERROR]
        print_findings(shown)
        errors = sum(f.severity == Severity.ERROR for f in findings)
        warnings = len(findings) - errors
        if plan is None or errors:
            worst = EXIT_INVALID
            out.print(
                f"[red]✗[/red] {display_path(path)}: {errors} error(s), {warnings} warning(s)",
                soft_wrap=True,
            )
        else:
            out.print(
                f"[green]✓[/green] {display_path(path)}: valid, {warnings} warning(s)",
                soft_wrap=True,
            )
    raise typer.Exit(worst)


@app.command()
def schema(
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file"),
) -> None:
    """Print (or write) the JSON Schema of plan files."""
    from bettercare.data.plan_files import plan_json_schema

    text = plan_json_schema()
    if output:
        output.write_text(text + "\n", encoding="utf-8")
        out.print(f"wrote {shown(output)}")
    else:
        typer.echo(text)


@app.command()
def show(file: Path = typer.Argument(..., help="Plan file (YAML)")) -> None:
    """Show a plan: budget, funding, schemes, metrics, risks and sign-offs.

    Codes in words, partner ids as the partners' names, years as ``2016-17`` and metric
    values at their precision with their unit (:mod:`bettercare.domain.labels`).
    """
    from bettercare.domain.labels import (
        code_label,
        format_count,
        format_metric_value,
        format_period,
        metric_name,
        unit_label,
    )
    from bettercare.domain.money import format_gbp

    plan = load_or_exit(file)
    names = {p.id: p.name for p in plan.partners}
    years = ", ".join(format_period(fy) for fy in plan.financial_years)
    out.print(
        f"[bold]{shown(plan.hwb.name)}[/bold] — BCF plan "
        f"{shown(years)} ({shown(code_label(plan.status, 'plan_status'))})"
    )
    budget = Table(title="Pooled budget")
    budget.add_column("Financial year")
    for col in ("Minimum required", "Agreed", "Funding total", "Scheme total", "Protected ASC"):
        budget.add_column(col, justify="right")
    for fy in plan.financial_years:
        budget.add_row(
            shown(format_period(fy)),
            format_gbp(plan.minimum_pooled_budget.get(fy)),
            format_gbp(plan.agreed_pooled_budget.get(fy)),
            format_gbp(plan.funding_total(fy)),
            format_gbp(plan.scheme_total(fy)),
            format_gbp(plan.protected_social_care.get(fy)),
        )
    out.print(budget)

    funding = Table(title="Funding by source")
    for col in ("Source", "Year", "Contributor"):
        funding.add_column(col)
    funding.add_column("Amount", justify="right")
    for f in plan.funding:
        funding.add_row(
            shown(code_label(f.source, "funding_source")),
            shown(format_period(f.financial_year)),
            shown(code_label(f.contributor, partners=names)),
            format_gbp(f.amount),
        )
    out.print(funding)

    schemes = Table(title="Schemes")
    for col in ("Ref", "Scheme", "Commissioner", "Provider", "Source"):
        schemes.add_column(col)
    for fy in plan.financial_years:
        schemes.add_column(format_period(fy), justify="right")
    schemes.add_column("Admissions avoided", justify="right")
    for s in plan.schemes:
        avoided = ", ".join(format_count(v) for v in s.admissions_avoided.values() if v is not None)
        sources = s.source_label().split(", ") if s.source_label() else []
        schemes.add_row(
            shown(s.reference),
            shown(s.name),
            shown(code_label(s.commissioner, "commissioner")),
            shown(code_label(s.provider, partners=names)),
            shown(", ".join(code_label(x, "funding_source") for x in sources)),
            *[format_gbp(s.spend.get(fy)) for fy in plan.financial_years],
            avoided,
        )
    out.print(schemes)

    metrics = Table(title="Metrics")
    for col in ("Metric", "Unit", "Baseline", "Planned"):
        metrics.add_column(col)
    for m in plan.metrics:
        base = (
            f"{format_metric_value(m.baseline, m.metric, unit=False)} "
            f"({format_period(m.baseline.period)})"
            if m.baseline and m.baseline.value is not None
            else "—"
        )
        planned = "; ".join(
            f"{format_period(v.period)}: {format_metric_value(v, m.metric, unit=False)}"
            for v in m.planned
            if v.value is not None or v.numerator is not None
        )
        metrics.add_row(
            shown(metric_name(m.metric, m.name)),
            shown(unit_label(m.metric, str(m.time_basis) if m.time_basis else None)),
            shown(base),
            shown(planned or "—"),
        )
    out.print(metrics)

    risks = Table(title="Risk register")
    for col in ("Id", "Risk", "L", "I", "Score", "Owner"):
        risks.add_column(col)
    for r in plan.risks:
        risks.add_row(
            shown(r.id),
            shown(r.description),
            *(str(v) if v is not None else "—" for v in (r.likelihood, r.impact)),
            f"{r.risk_score} ({r.band.label})" if r.risk_score and r.band else "—",
            shown(code_label(r.owner, partners=names)),
        )
    out.print(risks)

    signs = Table(title="Sign-off")
    for col in ("Body", "Person", "Role", "Date"):
        signs.add_column(col)
    for sign in plan.sign_offs:
        signs.add_row(
            shown(plan.partner(sign.body).name),
            shown(sign.person or "—"),
            shown(sign.role or "—"),
            str(sign.date) if sign.date else "—",
        )
    out.print(signs)


def p4p(file: Path = typer.Argument(..., help="Plan file (YAML)")) -> None:
    """Print the performance-linked sum, what is released up front and the risk exposure."""
    from bettercare.domain.labels import format_period
    from bettercare.domain.money import format_gbp
    from bettercare.domain.p4p import P4PError, performance_sum

    plan = load_or_exit(file)
    try:
        r = performance_sum(plan)
    except P4PError as exc:
        err.print(f"[red]{file}: {escape(str(exc))}[/red]")
        raise typer.Exit(EXIT_INVALID) from None
    t = Table(title=f"{plan.hwb.name}: payment for performance {format_period(r.financial_year)}")
    t.add_column("Item")
    t.add_column("Value", justify="right")
    t.add_row(
        "Baseline non-elective admissions",
        f"{r.baseline_admissions:,}" if r.baseline_admissions is not None else "—",
    )
    t.add_row("Planned reduction (admissions)", f"{r.planned_reduction:,}")
    t.add_row(
        "Planned reduction (%)",
        f"{r.planned_reduction_pct:.2f}%" if r.planned_reduction_pct is not None else "—",
    )
    t.add_row("Unit cost", format_gbp(r.unit_cost))
    t.add_row(
        "Performance-linked sum" + (" (capped at pot)" if r.capped else ""),
        format_gbp(r.performance_linked_sum),
    )
    t.add_row("Performance-related element (pot)", format_gbp(r.performance_pot))
    t.add_row("Released up front for NHS out-of-hospital services", format_gbp(r.released_up_front))
    t.add_row("Stated in the plan", format_gbp(r.stated_sum))
    if r.risk_share is not None:
        t.add_row("Contingency reserve", format_gbp(r.contingency_reserve))
    for partner_id, amount in r.maximum_exposure.items():
        pct = r.risk_share.shares[partner_id] if r.risk_share else 0
        t.add_row(
            f"Exposure of {plan.partner(partner_id).name} ({pct:g}%) if none is earned",
            format_gbp(amount),
        )
    out.print(t)
    met = {True: "yes", False: "no", None: "unknown"}[r.minimum_reduction_met]
    out.print(f"Basis: {escape(r.basis)}. Minimum 3.5% reduction met: {met}", highlight=False)
