"""``bettercare demo``: the main job on embedded defaults.

1. Validate every example plan (``examples/*.yaml`` of the source tree, found from any
   working directory; ``--examples`` to name another folder).
2. Linked data for the Leicestershire 2016/17 example: generate a synthetic population
   and its feeds, ingest them into a DuckDB store (NHS numbers validated and
   pseudonymised, opt-outs excluded, social care linked), compute every BCF metric,
   compare with the plan (RAG + SPC) and track scheme impact.
3. Write a readable HTML summary of each plan under ``out/`` (all or nothing).

``--plans-only`` does 1 and 3 only.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

import bettercare
from bettercare.cli.common import shown
from bettercare.errors import BadInput

if TYPE_CHECKING:
    import pandas as pd

    from bettercare.domain.plan import Plan
    from bettercare.reporting.plan_report import PlanResult

out = Console()

#: The example the linked-data part of the demo runs on (seed 002's board table).
DEMO_PLAN = "leicestershire_2016.yaml"
DEMO_PRESET = "leicestershire"
#: 2015/16 gives the baseline year and 24 monthly points for the SPC charts.
DEMO_YEARS = ["2015/16", "2016/17"]


def register(root: typer.Typer) -> None:
    """Add the ``demo`` command to the CLI."""
    root.command("demo")(demo)


def default_examples() -> Path | None:
    """The example plans the demo runs on, whatever the working directory.

    The ``examples/`` folder of the source tree this package runs from (a checkout or an
    editable install), else ``./examples``; None when neither holds plan files.
    """
    for folder in (
        Path(bettercare.__file__).resolve().parent.parent / "examples",
        Path.cwd() / "examples",
    ):
        if folder.is_dir() and any(folder.glob("*.yaml")):
            return folder
    return None


def check_examples(examples: Path) -> list[PlanResult]:
    """Validate every plan file in ``examples`` against the models and the planning rules."""
    from bettercare.data.plan_files import validate_plan_file
    from bettercare.reporting.plan_report import PlanResult

    files = sorted(examples.glob("*.yaml"))
    if not files:
        out.print(f"[red]no plan files (*.yaml) in {shown(examples)}[/red]")
        raise typer.Exit(2)
    results = []
    for path in files:
        plan, findings = validate_plan_file(path)
        results.append(PlanResult(path, plan, findings))
    return results


def print_summary(results: list[PlanResult]) -> None:
    """Print one line per example plan: HWB, years, errors and warnings."""
    from bettercare.domain.labels import format_period

    t = Table(title="Example plans")
    for col in ("Plan", "HWB", "Years", "Errors", "Warnings"):
        t.add_column(col)
    for r in results:
        t.add_row(
            r.source.name,
            r.plan.hwb.name if r.plan else "(unreadable)",
            ", ".join(format_period(fy) for fy in r.plan.financial_years) if r.plan else "",
            str(r.errors),
            str(r.warnings),
        )
    out.print(t)


def linked_data(plan: Plan, work: Path, population: int, seed: int) -> list[tuple[str, str]]:
    """Generate, ingest, measure (:func:`run_synthetic`): the report sections for ``plan``."""
    from bettercare.analytics.engine import open_store, resolve_hwb, store_hwb_codes
    from bettercare.analytics.performance import plan_vs_actual
    from bettercare.analytics.scheme_impact import load_scheme_activity, p4p_earned, scheme_impact
    from bettercare.data.synth.presets import preset
    from bettercare.pipelines.synthetic import STEPS, run_synthetic
    from bettercare.reporting.metrics_report import LinkedDataSummary, metrics_sections

    steps = [*STEPS, "plan vs actual"]
    with Progress(
        TextColumn("[bold]{task.description:<24}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=out,
    ) as bar:
        task = bar.add_task(steps[0], total=len(steps))

        def step(name: str) -> None:
            bar.update(task, completed=steps.index(name), description=name)

        params = preset(DEMO_PRESET).with_population(population).with_plan_schemes(plan)
        run = run_synthetic(params, DEMO_YEARS, seed, work, grains=("month", "year"), step=step)
        by_grain = run.metrics

        step(steps[3])
        code = resolve_hwb(plan, store_hwb_codes(run.store))
        pva = {g: plan_vs_actual(a, plan, hwb_code=code) for g, a in by_grain.items()}
        with open_store(run.store) as con:
            schemes = scheme_impact(load_scheme_activity(con, code), plan, "month")
        earned = p4p_earned(plan, by_grain["month"], hwb_code=code)
        bar.update(task, completed=len(steps), description="done")

    loaded = run.loaded
    summary = LinkedDataSummary(
        residents=params.area.population,
        years=DEMO_YEARS,
        rows_loaded=sum(f.rows_loaded for f in loaded.feeds),
        rows_quarantined=sum(f.rows_quarantined for f in loaded.feeds),
        rows_opted_out=sum(f.rows_opted_out for f in loaded.feeds),
        linkage=loaded.linkage,
    )
    print_board(plan, pva)
    return metrics_sections(plan, pva, schemes, earned, summary)


def print_board(plan: Plan, pva: dict[str, pd.DataFrame]) -> None:
    """Print the latest judged value of each metric against the plan, with its RAG.

    Values at the metric's precision with its unit (the precision its RAG is judged at),
    periods in the BCF notation (:func:`~bettercare.reporting.metrics_report.judged_cells`).
    """
    from bettercare.domain.labels import GRAINS
    from bettercare.reporting.metrics_report import judged_cells

    t = Table(title=f"{plan.hwb.name}: latest metrics against plan")
    for col in ("Metric", "Unit", "Period", "Actual", "Plan", "RAG"):
        t.add_column(col)
    for grain, frame in pva.items():
        judged = frame[frame.rag.notna()]
        for _, grp in judged.groupby("metric"):
            cells = judged_cells(plan, grp.iloc[-1])
            t.add_row(
                escape(cells["name"]),
                escape(cells["unit"]),
                f"{cells['period']} ({GRAINS.get(grain, grain)})",
                cells["actual"],
                cells["planned"],
                cells["rag"],
            )
    out.print(t)


def published_demo(plan: Plan, work: Path, out_dir: Path, seed: int) -> None:
    """The plan among its peers on a synthetic national publication (every HWB of England).

    Generates the publication (the plan's years and the two before, the plan's metrics),
    loads it into ``work/figures.duckdb`` as ``bettercare figures load`` does, prints the
    board against England, its region and its peers, and writes a funnel plot per metric.
    """
    from bettercare.analytics.published import compare_board
    from bettercare.data.figures import read_figures
    from bettercare.data.figures.peer_groups import region_peers
    from bettercare.data.geography import hwb_by_code
    from bettercare.domain.labels import format_metric, format_period, metric_name
    from bettercare.domain.periods import fy_start_year
    from bettercare.pipelines.publication import SYNTHETIC_METRICS, load_synthetic_publication
    from bettercare.reporting.charts import funnel_png

    code = plan.hwb.ons_code
    if code is None:
        return
    first = fy_start_year(sorted(plan.financial_years)[0])
    years = [
        f"{y}/{(y + 1) % 100:02d}" for y in range(first - 2, first + len(plan.financial_years))
    ]
    wanted = {m.metric for m in plan.metrics} & set(SYNTHETIC_METRICS)
    work.mkdir(parents=True, exist_ok=True)
    csv = work / "synthetic-publication.csv"
    db = work / "figures.duckdb"
    load_synthetic_publication(csv, db, years, seed=seed, metrics=sorted(wanted))
    areas = hwb_by_code()
    peers = region_peers(areas)[code]
    rows = compare_board(read_figures(db), code, peers, areas)
    t = Table(title=f"{plan.hwb.name} among {len(peers)} peers (synthetic publication)")
    for col in ("Metric", "Period", "Board", "England", "Region", "Peer median", "Rank", "Funnel"):
        t.add_column(col)
    out_dir.mkdir(parents=True, exist_ok=True)
    names = {c: a.hwb_name for c, a in areas.items()}
    for c in rows:
        b = c.benchmark
        t.add_row(
            escape(metric_name(b.metric)),
            format_period(b.period),
            format_metric(b.value, b.metric),
            *(format_metric(x, b.metric, unit=False) for x in (b.england, b.region)),
            format_metric(b.peer_median, b.metric, unit=False),
            f"{b.rank} of {b.of}" if b.rank else "—",
            c.point.band.value if c.point else "—",
        )
        if c.funnel is not None:
            png = funnel_png(c.funnel, code, peers, names)
            (out_dir / f"funnel_{b.metric}.png").write_bytes(png)
    out.print(t)
    out.print(
        f"[green]published figures:[/green] {db} (from {csv}); funnel plots in {out_dir}; "
        f"try `bettercare report --plan examples/{DEMO_PLAN} --figures {db}`",
        soft_wrap=True,
    )
    out.print(
        f"goal options: `bettercare figures goals --plan examples/{DEMO_PLAN} --figures {db}`, "
        f"or in a metric's plan form after `bettercare serve --demo --figures {db}`",
        soft_wrap=True,
        highlight=False,
    )


def demo(
    out_dir: Path = typer.Option(Path("out"), "--out", help="Where to write the report"),
    examples: Path | None = typer.Option(
        None,
        "--examples",
        help="Plan files to check (default: the examples/ shipped with bettercare)",
    ),
    work: Path = typer.Option(
        Path("data/demo"), "--work", help="Where the synthetic feeds, store and key go"
    ),
    population: int = typer.Option(
        100_000,
        "--population",
        "-n",
        min=1000,
        help="Synthetic residents (rates per 100,000 do not depend "
        "on it; Leicestershire has ~675,000)",
    ),
    seed: int = typer.Option(42, "--seed", min=0),
    linked: bool = typer.Option(
        True, "--linked-data/--plans-only", help="Also generate, ingest and measure linked data"
    ),
    figures: bool | None = typer.Option(
        None,
        "--figures/--no-figures",
        help="Also measure the plan on a synthetic national publication: peers, funnel "
        "plots (default: with --linked-data, not with --plans-only)",
    ),
) -> None:
    """Validate the example plans, measure one on synthetic linked data, write the HTML.

    Every example plan is validated; the Leicestershire plan is measured on synthetic
    linked data; the HTML summary is out/index.html. ``--plans-only``: validate and
    report the example plans only (no synthetic data, ingest or metrics).
    """
    from bettercare.reporting.plan_report import write_report
    from bettercare.reporting.returns import write_latest_return

    if examples is None:
        examples = default_examples()
        if examples is None:
            out.print(
                "[red]error:[/red] no example plans found (examples/*.yaml); pass --examples DIR",
                soft_wrap=True,
            )
            raise typer.Exit(2)
    results = check_examples(examples)
    print_summary(results)
    if linked:
        target = next((r for r in results if r.source.name == DEMO_PLAN and r.plan), None)
        if target is None or target.plan is None:
            out.print(f"[yellow]{DEMO_PLAN} not found or invalid: linked data skipped[/yellow]")
        else:
            try:
                target.extra_sections = linked_data(target.plan, work, population, seed)
            except (BadInput, ValueError, OSError) as exc:
                out.print(f"[red]error:[/red] linked data: {escape(str(exc))}", soft_wrap=True)
                raise typer.Exit(2) from None
    index = write_report(out_dir, results)
    out.print(f"[green]report written:[/green] {shown(index)}")
    if linked if figures is None else figures:  # after the report: it replaces out/ whole
        target = next((r for r in results if r.source.name == DEMO_PLAN and r.plan), None)
        if target is not None and target.plan is not None:
            published_demo(target.plan, work, out_dir / "figures", seed)
    for r in results:  # the latest quarterly return each plan records, as XLSX
        if r.plan and (xlsx := write_latest_return(r.plan, out_dir / "returns")):
            out.print(f"[green]return written:[/green] {shown(xlsx)}")
