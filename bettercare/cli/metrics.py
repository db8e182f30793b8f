"""``bettercare metrics``: BCF metrics from the analytics store, against the plan.

Computes every metric (:mod:`bettercare.analytics.engine`) on DuckDB or Spark, compares
the plan's HWB with its trajectories (RAG + SPC, :mod:`bettercare.analytics.performance`),
prints a table and writes ``metrics.parquet`` / ``metrics.csv`` (every HWB, period and
breakdown; plan columns filled for the plan's HWB) and ``scheme_impact.csv``.
Exit code 2 with a one-line message (no traceback) for a bad plan, store (missing,
locked by another process, not DuckDB), grain, period, ``--out`` or ``--amber-tolerance``,
or a plan for another HWB than the store's (``--hwb`` names the one to measure).
Periods that cannot be measured and a store without ``scheme_activity`` are warnings.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bettercare.cli.common import fail
from bettercare.errors import BadInput, BettercareError

if TYPE_CHECKING:
    import pandas as pd

    from bettercare.domain.plan import Plan

EXIT_ERROR = 2
out = Console(width=160)
err = Console(stderr=True)

RAG_STYLE = {"GREEN": "green", "AMBER": "yellow", "RED": "red"}


def register(root: typer.Typer) -> None:
    """Add the ``metrics`` command to the CLI."""
    root.command("metrics", help="BCF metrics from the store vs the plan (RAG + SPC).")(metrics)


def write_charts(pva: pd.DataFrame, folder: Path) -> int:
    """One XmR chart (PNG) per metric with at least two periods."""
    from bettercare.reporting.metrics_report import metric_chart_pngs

    folder.mkdir(parents=True, exist_ok=True)
    pngs = metric_chart_pngs(pva)
    for metric, png in pngs:
        (folder / f"{metric}.png").write_bytes(png)
    return len(pngs)


def scheme_reference_notes(activity: pd.DataFrame, plan: Plan) -> list[str]:
    """Warnings when the store's scheme activity and the plan's schemes do not match.

    Scheme impact joins the plan's board's ``scheme_activity.scheme_reference`` to the
    plan's scheme references; activity under a reference the plan lacks has no target,
    and a planned target without activity counts zero avoided.
    """
    if activity.empty:
        return []
    planned = {s.reference for s in plan.schemes}
    targeted = {s.reference for s in plan.schemes if any(s.admissions_avoided.values())}
    held = set(activity.scheme_reference)
    notes = []
    if unknown := sorted(held - planned):
        notes.append(
            f"scheme_activity has scheme reference(s) not in the plan: "
            f"{', '.join(unknown)} (no target to compare with)"
        )
    if idle := sorted(targeted - held):
        notes.append(
            f"plan scheme(s) with an admissions-avoided target but no activity in "
            f"the store: {', '.join(idle)} (counted as 0 avoided)"
        )
    return notes


def _yes_no(x: object) -> str:
    """A true / false cell: ``yes``, ``no``, or ``—`` when unknown (None or NaN)."""
    import pandas as pd

    if x is None or (isinstance(x, float) and pd.isna(x)):
        return "—"
    return "yes" if x else "no"


def metrics(
    plan: Path = typer.Option(..., "--plan", help="Plan file (YAML)"),
    store: Path | None = typer.Option(None, "--store", help="Analytics store (DuckDB file)"),
    figures: Path | None = typer.Option(
        None,
        "--figures",
        help="Figures database of published figures (`bettercare figures load`): measured "
        "with the store, or alone without one; each row says its source",
    ),
    backend: str = typer.Option("duckdb", "--backend", help="duckdb | spark"),
    grain: str = typer.Option("month", "--grain", help="month | quarter | year"),
    period: str | None = typer.Option(
        None, "--period", help="Only this period, e.g. 2016-17, Q3 2016-17 or 2017-03"
    ),
    out_dir: Path = typer.Option(Path("out"), "--out", help="Directory for Parquet/CSV"),
    amber: float = typer.Option(
        2.5, "--amber-tolerance", help="% worse than plan still AMBER (beyond: RED)"
    ),
    all_periods: bool = typer.Option(
        False, "--all-periods", help="Print every period, not only the latest"
    ),
    charts: bool = typer.Option(False, "--charts", help="Also write OUT/charts/<metric>.png"),
    hwb: str | None = typer.Option(
        None,
        "--hwb",
        help="HWB code to measure against the plan (default: "
        "the plan's; required if the store lacks it)",
    ),
) -> None:
    """Compute the BCF metrics, compare with the plan and write metrics.parquet/csv."""
    import duckdb
    import pandas as pd

    from bettercare.analytics.capacity_demand import capacity_demand_from_store, compare_with_plan
    from bettercare.analytics.engine import BACKENDS
    from bettercare.analytics.measure import NO_ACTIVITY, MeasureError, measure_plan
    from bettercare.analytics.metrics import GRAINS
    from bettercare.analytics.performance import RagThresholds, latest, plan_vs_actual
    from bettercare.analytics.scheme_impact import ALL_SCHEMES
    from bettercare.analytics.spc import VARIATION_SHORT_LABEL
    from bettercare.data import safe_csv
    from bettercare.data.atomic import staged_entries
    from bettercare.data.plan_files import PlanFileError, load_plan
    from bettercare.domain.labels import format_count, format_period, humanise, metric_name
    from bettercare.domain.money import format_gbp
    from bettercare.domain.periods import parse_period
    from bettercare.reporting.metrics_report import judged_cells

    if not math.isfinite(amber) or amber < 0:
        raise fail(f"--amber-tolerance must be a finite percentage >= 0, not {amber}")
    if out_dir.exists() and not out_dir.is_dir():
        raise fail(f"--out {out_dir} is a file, not a directory")
    if grain not in GRAINS:
        raise fail(f"grain '{grain}' is not one of {', '.join(GRAINS)}")
    if backend not in BACKENDS:
        raise fail(f"backend '{backend}' is not one of {', '.join(BACKENDS)}")
    if period is not None:  # 2016-17 as the pages write it, or 2016/17
        try:
            period = parse_period(period)
        except ValueError as exc:
            raise fail(f"--period: {exc}") from None
    try:
        the_plan = load_plan(plan)
    except PlanFileError as exc:
        raise fail("; ".join(str(f) for f in exc.findings)) from None
    if store is None and figures is None:
        raise fail("give --store (linked data) and/or --figures (published figures)")
    if store is None and hwb is None and the_plan.hwb.ons_code is None:
        raise fail(
            f"plan for {the_plan.hwb.name} states no hwb.ons_code: name the board "
            "whose published figures to use with --hwb CODE"
        )
    notes: list[str] = []
    thresholds = RagThresholds(amber_tolerance_pct=amber)
    try:
        measured = measure_plan(
            the_plan,
            store,
            (grain,),
            hwb_code=hwb,
            thresholds=thresholds,
            backend=backend,
            period=period,
            figures=figures,
        )
    except MeasureError as exc:
        raise fail(str(exc)) from None
    code = measured.hwb_code
    if store is not None and hwb is None and the_plan.hwb.ons_code is None:
        notes.append(
            f"plan for {the_plan.hwb.name} states no hwb.ons_code: measuring the "
            f"store's only HWB, {code} (name it with --hwb CODE to make this explicit)"
        )
    empty = pd.DataFrame(columns=["metric", "hwb_code", "period", "breakdown"])
    actuals = measured.actuals.get(grain, empty)
    pva = measured.pva.get(grain)
    if pva is None:  # nothing measured at this grain: plan_vs_actual says why, in one line
        try:
            pva = plan_vs_actual(actuals, the_plan, thresholds, hwb_code=code)
        except (BettercareError, ValueError) as exc:
            raise fail(str(exc)) from None
    if figures is None:  # the store's figures only: no source column
        kept_a, kept_p = dict(actuals.attrs), dict(pva.attrs)
        actuals = actuals.drop(columns=["source"], errors="ignore")
        pva = pva.drop(columns=["source"], errors="ignore")
        actuals.attrs, pva.attrs = kept_a, kept_p
    else:
        warnings = list(actuals.attrs.get("warnings", []))
        if actuals.empty:
            warnings.append(f"{figures} holds no published figures for {code} at {grain} grain")
        actuals = actuals.copy()
        actuals.attrs["warnings"] = warnings
        notes += [w for w in actuals.attrs.get("warnings", []) if w not in notes]
    try:
        if store is not None:
            activity = measured.activity
            if NO_ACTIVITY in measured.warnings:
                notes.append(NO_ACTIVITY)
            schemes = measured.schemes[grain]
            capacity = capacity_demand_from_store(store, period)  # measured side (2023-25)
            notes += capacity.attrs["warnings"]
            vs_plan = compare_with_plan(capacity, the_plan.capacity_demand, code)
            notes += scheme_reference_notes(activity, the_plan)
        else:
            schemes = capacity = vs_plan = pd.DataFrame()
            notes.append("published figures only: scheme impact and capacity need the store")
    except (BettercareError, BadInput, ValueError) as exc:
        raise fail(str(exc)) from None
    except duckdb.Error as exc:  # a damaged store: one line, not a traceback
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise fail(f"store {store} could not be read: {first}") from None
    for w in [*actuals.attrs.get("warnings", []), *notes]:
        err.print(f"[yellow]warning:[/yellow] {escape(w)}", highlight=False, soft_wrap=True)

    shown = pva if all_periods else latest(pva)
    via = backend if store is not None else "published figures"
    table = Table(title=f"{the_plan.hwb.name}: BCF metrics ({grain}, {via})")
    cols = ["metric", "unit", "period", "actual", "plan", "RAG", "SPC variation", "assurance"]
    if figures is not None:
        cols.append("source")
    for col in cols:
        table.add_column(col, justify="right" if col in ("actual", "plan") else "left")
    r: Any  # a row of a results frame (pandas types its fields as any scalar)
    few: dict[str, str] = {}  # metric -> why it has no SPC limits (too few points)
    for r in shown.itertuples():
        rag = r.rag if isinstance(r.rag, str) else "—"
        note = getattr(r, "spc_note", None)
        if isinstance(note, str):
            few[str(r.metric)] = note
        cells = judged_cells(the_plan, r)  # the metric's unit, precision and period notation
        table.add_row(
            escape(cells["name"]),
            escape(cells["unit"]),
            cells["period"],
            cells["actual"],
            cells["planned"],
            f"[{RAG_STYLE.get(rag, 'white')}]{rag}[/]",
            "too few points"
            if isinstance(note, str)
            else VARIATION_SHORT_LABEL.get(r.spc_signal, "—")
            if isinstance(r.spc_signal, str)
            else "—",
            "too few points"
            if isinstance(note, str)
            else humanise(r.spc_assurance or "—")
            if isinstance(r.spc_assurance, str)
            else "—",
            *([str(getattr(r, "source", "store"))] if figures is not None else []),
        )
    out.print(table)
    for metric, note in few.items():
        out.print(f"{escape(metric_name(metric))}: {escape(note)}", highlight=False, soft_wrap=True)

    if not schemes.empty:
        to_date = schemes.groupby("scheme_reference").tail(1)
        st = Table(title="Scheme impact: non-elective admissions avoided to date")
        for col in ("scheme", "period", "avoided", "target", "on track"):
            st.add_column(col)
        for r in to_date.itertuples():
            name = r.scheme_name if isinstance(r.scheme_name, str) else r.scheme_reference
            st.add_row(
                str(name) if r.scheme_reference != ALL_SCHEMES else "All schemes",
                format_period(r.period),
                format_count(r.avoided_to_date),
                format_count(r.target_to_date),
                _yes_no(r.on_track),
            )
        out.print(st)
    if grain == "month":
        p4p = measured.p4p
        assert p4p is not None  # measured at month grain
        earned = format_gbp(p4p.earned, pence=True) if p4p.earned is not None else "not computed"
        if p4p.retained is not None:
            earned += (
                f"; retained for the extra acute activity: {format_gbp(p4p.retained, pence=True)}"
            )
        out.print(f"P4P earned to date: {earned} — {escape(p4p.reason)}", highlight=False)

    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise fail(f"cannot create --out {out_dir}: {exc.strerror or exc}") from None
    plan_cols = [c for c in pva.columns if c not in actuals.columns or c == "metric"]
    plan_cols = [c for c in plan_cols if c not in ("name",)]
    merged = actuals.merge(
        pva[["metric", "hwb_code", "period", *[c for c in plan_cols if c != "metric"]]].assign(
            breakdown="all"
        ),
        on=["metric", "hwb_code", "period", "breakdown"],
        how="left",
    )
    # all files are written to a temporary folder first, then moved: never half a result
    with staged_entries(out_dir) as staged:
        merged.to_parquet(staged / "metrics.parquet", index=False)
        safe_csv.to_csv(merged, staged / "metrics.csv")  # formula-like text escaped
        safe_csv.to_csv(schemes, staged / "scheme_impact.csv")
        safe_csv.to_csv(capacity, staged / "capacity_demand.csv")
        safe_csv.to_csv(vs_plan, staged / "capacity_demand_vs_plan.csv")
        n = write_charts(pva, staged / "charts") if charts else 0
    if charts:
        out.print(f"wrote {n} SPC chart(s) to {out_dir / 'charts'}", highlight=False)
    out.print(
        f"wrote {out_dir / 'metrics.parquet'}, {out_dir / 'metrics.csv'} and "
        f"{out_dir / 'scheme_impact.csv'} ({len(merged)} rows)",
        highlight=False,
    )
