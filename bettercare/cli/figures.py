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
from bettercare.domain.labels import (
    format_metric,
    format_period,
    metric_name,
    unit_label,
)
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
    from bettercare.data.figures import AreaType
    from bettercare.data.geography import hwb_by_code

    current = hwb_by_code()
    unknown = sorted(
        {r.area_code for r in result.rows if r.area_type is AreaType.HWB} - set(current)
    )
    if unknown:
        shown = ", ".join(unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        out.print(
            f"note: {len(unknown)} HWB code(s) not among England's current 153 HWBs (former "
            f"authorities, or typing errors?), loaded as given: {shown}",
            highlight=False,
        )


def _figures_frame(figures_db: Path):  # type: ignore[no-untyped-def]
    from bettercare.data.figures import read_figures

    try:
        return read_figures(figures_db)
    except BettercareError as exc:
        raise fail(str(exc)) from None


def _board(plan: Path | None, hwb: str | None) -> tuple[str, str]:
    """(HWB code, name) from --hwb or the plan's ONS code."""
    from bettercare.data.geography import hwb_by_code
    from bettercare.data.plan_files import PlanFileError, load_plan

    name = ""
    if plan is not None:
        try:
            the_plan = load_plan(plan)
        except PlanFileError as exc:
            raise fail("; ".join(str(f) for f in exc.findings)) from None
        hwb = hwb or the_plan.hwb.ons_code
        name = the_plan.hwb.name
        if hwb is None:
            raise fail(f"plan {plan} states no hwb.ons_code: name the board with --hwb CODE")
    if hwb is None:
        raise fail("name the board with --hwb CODE or --plan FILE")
    area = hwb_by_code().get(hwb)
    if area is None:
        raise fail(f"--hwb '{hwb}' is not an HWB of England (data/defaults/hwb_england.csv)")
    return hwb, name or area.hwb_name


def _peers_of(hwb: str, peers_file: Path | None) -> list[str]:
    from bettercare.data.figures.peer_groups import read_peer_groups, region_peers
    from bettercare.data.geography import hwb_by_code

    if peers_file is None:
        return region_peers(hwb_by_code())[hwb]
    try:
        peers = read_peer_groups(peers_file)
    except BettercareError as exc:
        raise fail(str(exc)) from None
    if hwb not in peers:
        raise fail(f"{peers_file} names no peers for {hwb}")
    return peers[hwb]


@app.command("peers")
def peers(
    plan: Path | None = typer.Option(None, "--plan", help="Plan file: its HWB is the board"),
    hwb: str | None = typer.Option(None, "--hwb", help="HWB ONS code (instead of --plan)"),
    figures_db: Path = typer.Option(
        Path("bettercare-figures.duckdb"), "--figures-db", "--figures", help=FIGURES_DB_HELP
    ),
    peers_file: Path | None = typer.Option(
        None, "--peers", help="Peer file (group,hwb_code or hwb_code,peer_code); default: region"
    ),
    metric: list[str] | None = typer.Option(None, "--metric", help="Only this metric (repeat)"),
    period: str | None = typer.Option(
        None, "--period", help="Period, e.g. 2023-24 or Q2 2024-25 (default: latest year)"
    ),
    out_dir: Path | None = typer.Option(None, "--out", help="Write funnel PNGs and peers.csv"),
    exact: bool = typer.Option(
        False, "--exact", help="Exact binomial/Poisson funnel limits (no overdispersion adjustment)"
    ),
) -> None:
    """The board against England, its region and its peers, with funnel plots."""
    import pandas as pd
    from rich.table import Table

    from bettercare.analytics.published import compare_board
    from bettercare.data import safe_csv
    from bettercare.data.atomic import staged_entries
    from bettercare.data.geography import hwb_by_code
    from bettercare.domain.metrics import CATALOGUE
    from bettercare.domain.periods import parse_period
    from bettercare.reporting.charts import funnel_png

    code, name = _board(plan, hwb)
    for m in metric or []:
        if m not in CATALOGUE:
            raise fail(f"--metric '{m}' is not a bettercare metric id")
    if period is not None:  # 2023-24 as the pages write it, or 2023/24
        try:
            period = parse_period(period)
        except ValueError as exc:
            raise fail(f"--period: {exc}") from None
    frame = _figures_frame(figures_db)
    peer_codes = _peers_of(code, peers_file)
    areas = hwb_by_code()
    rows = compare_board(frame, code, peer_codes, areas, metric or None, period, exact=exact)
    if not rows:
        raise fail(f"{figures_db} holds no HWB figures for the metric(s) asked")
    table = Table(title=f"{name} ({code}) among {len(peer_codes)} peers")
    for col in (
        "metric",
        "period",
        "value",
        "England",
        "region",
        "peer median",
        "best quartile",
        "rank",
        "funnel",
    ):
        table.add_column(col, justify="left" if col in ("metric", "period", "funnel") else "right")
    records = []
    for c in rows:
        b = c.benchmark
        band = c.point.band.value if c.point else (c.note or "—")
        table.add_row(
            escape(f"{metric_name(b.metric)} ({unit_label(b.metric)})"),
            format_period(b.period),
            *(
                format_metric(x, b.metric, unit=False)
                for x in (b.value, b.england, b.region, b.peer_median, b.peer_best_quartile)
            ),
            f"{b.rank} of {b.of}" if b.rank else "—",
            band,
        )
        records.append(
            {
                **b.__dict__,
                "funnel_band": band,
                "funnel_adjustment": c.funnel.adjustment.value if c.funnel else None,
            }
        )
    out.print(table)
    if out_dir is not None:
        names = {k: a.hwb_name for k, a in areas.items()}
        try:
            with staged_entries(out_dir) as staged:
                safe_csv.to_csv(pd.DataFrame(records), staged / "peers.csv")
                for c in rows:
                    if c.funnel is not None:
                        png = funnel_png(c.funnel, code, peer_codes, names)
                        (staged / f"funnel_{c.benchmark.metric}.png").write_bytes(png)
        except OSError as exc:
            raise fail(f"cannot write --out {out_dir}: {exc.strerror or exc}") from None
        out.print(f"wrote {out_dir / 'peers.csv'} and the funnel plots", highlight=False)


@app.command("synth")
def synth(
    out_file: Path = typer.Option(Path("synthetic-publication.csv"), "--out"),
    years: list[str] = typer.Option(
        ["2022/23", "2023/24", "2024/25"], "--year", help="Financial year, e.g. 2022-23 (repeat)"
    ),
    monthly: list[str] = typer.Option(
        [], "--monthly-year", help="Years also given by month, e.g. 2024-25"
    ),
    seed: int = typer.Option(42, "--seed"),
) -> None:
    """Write a synthetic national publication for every HWB of England (no real data)."""
    from bettercare.domain.periods import parse_financial_year
    from bettercare.pipelines.publication import write_synthetic_publication

    try:  # 2022-23 as the pages write it, or 2022/23
        years = [parse_financial_year(y) for y in years]
        monthly = [parse_financial_year(y) for y in monthly]
    except ValueError as exc:
        raise fail(str(exc)) from None
    _, n, areas = write_synthetic_publication(out_file, years, seed=seed, monthly_years=monthly)
    out.print(f"wrote {n} figure(s) for {areas} areas to {out_file}")


@app.command("goals")
def goals(
    plan: Path | None = typer.Option(None, "--plan", help="Plan file: its HWB and metrics"),
    hwb: str | None = typer.Option(None, "--hwb", help="HWB ONS code (instead of --plan)"),
    figures_db: Path = typer.Option(
        Path("bettercare-figures.duckdb"), "--figures-db", "--figures", help=FIGURES_DB_HELP
    ),
    peers_file: Path | None = typer.Option(
        None, "--peers", help="Peer file (group,hwb_code or hwb_code,peer_code); default: region"
    ),
    metric: list[str] | None = typer.Option(None, "--metric", help="Only this metric (repeat)"),
) -> None:
    """Goal options per metric: trajectory (SPC), peer median and best quartile, in people."""
    from rich.table import Table

    from bettercare.analytics.goals import goal_advice
    from bettercare.data.geography import hwb_by_code

    code, name = _board(plan, hwb)
    frame = _figures_frame(figures_db)
    wanted = list(metric) if metric else None
    if wanted is None and plan is not None:
        from bettercare.data.plan_files import load_plan

        wanted = [m.metric for m in load_plan(plan).metrics] or None
    advice = goal_advice(frame, code, _peers_of(code, peers_file), hwb_by_code(), wanted)
    if not advice:
        raise fail(f"{figures_db} holds no yearly figures for {code} to set goals from")
    table = Table(title=f"{name} ({code}): goal options (the board decides)")
    for col in ("metric", "latest", "option", "goal", "change", "for the board"):
        table.add_column(
            col, justify="left" if col in ("metric", "option", "for the board") else "right"
        )
    for a in advice:
        first = True
        for o in a.options:
            people = (
                f"{o.change_count:+,.0f} {a.counted} a year" if o.change_count is not None else "—"
            )
            table.add_row(
                escape(f"{metric_name(a.metric)} ({unit_label(a.metric)})") if first else "",
                f"{format_metric(a.latest, a.metric, unit=False)} "
                f"({format_period(a.latest_period)})"
                if first
                else "",
                o.basis,
                format_metric(o.value, a.metric, unit=False),
                f"{o.change:+,.1f}",
                people,
            )
            first = False
    out.print(table)


@app.command("boards")
def boards(
    plan: list[Path] = typer.Option(..., "--plan", help="Plan file (repeat for each board)"),
    figures_db: Path | None = typer.Option(
        None, "--figures-db", "--figures", help="Figures database: metrics against plan"
    ),
    region: str | None = typer.Option(None, "--region", help="Only this NHS region"),
    out_file: Path | None = typer.Option(None, "--out", help="Write the report as CSV"),
) -> None:
    """Several boards side by side (the ICB's or region's view) from their plan files."""
    from rich.table import Table

    from bettercare.data.atomic import staged_file
    from bettercare.data.plan_files import PlanFileError, load_plan
    from bettercare.reporting.boards import PlanEntry, boards_side_by_side, icb_csv

    entries = []
    for path in plan:
        try:
            p = load_plan(path)
        except PlanFileError as exc:
            raise fail("; ".join(str(f) for f in exc.findings)) from None
        code = p.hwb.ons_code or p.hwb.name
        title = f"{p.hwb.name} BCF plan {', '.join(p.financial_years)}"
        entries.append(PlanEntry(p, p.plan_id, title, code, str(p.status)))
    frame = _figures_frame(figures_db) if figures_db is not None else None
    view = boards_side_by_side(entries, frame, region)
    table = Table(title=f"Boards side by side{f': {region}' if region else ''}")
    for col in (
        "region",
        "board",
        "year",
        "funding",
        "pooled budget",
        "metrics G/A/R",
        "returns",
        "status",
    ):
        table.add_column(col)
    for name, rows in view.regions:
        for r in rows:
            table.add_row(
                name,
                f"{r.hwb_name} ({r.hwb_code})",
                format_period(r.financial_year),
                f"£{r.funding_total:,.0f}",
                f"£{r.pooled_budget:,.0f}" if r.pooled_budget is not None else "—",
                "/".join(str(r.rag.get(k, 0)) for k in ("GREEN", "AMBER", "RED"))
                if r.rag
                else (r.metrics_note or "—"),
                ", ".join(r.returns) or "none",
                r.state,
            )
    out.print(table)
    if out_file is not None:
        try:
            with staged_file(out_file, ".csv") as staged:
                staged.write_text(icb_csv(view), encoding="utf-8")
        except OSError as exc:
            raise fail(f"cannot write --out {out_file}: {exc.strerror or exc}") from None
        out.print(f"wrote {out_file}", highlight=False)
