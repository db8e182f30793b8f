"""``bettercare model impact`` and ``bettercare model pathway``: the two models.

Parse, call :mod:`bettercare.analytics.modelling`, print, write. ``impact``: the
probability that a plan's schemes meet its target, P4P earned and each partner's share of
a shortfall (Monte Carlo). ``pathway``: discharge delays waiting for reablement, beds and
care homes (SimPy), with a capacity sweep. Exit code 2 with one ``error:`` line naming
the file and field for bad input (a plan without schemes, a negative capacity, a
distribution with no mass); nothing is run or written then. ``--out`` writes an HTML
page and PNG charts whole or not at all.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bettercare.cli.common import err, fail
from bettercare.errors import BadInput

if TYPE_CHECKING:
    import pandas as pd

    from bettercare.analytics.modelling.impact import ImpactResult
    from bettercare.analytics.modelling.pathway import (
        Estimate,
        PathwayConfig,
        PathwayResult,
        SweepResult,
    )

out = Console(width=160)

app = typer.Typer(
    help="Models: scheme impact under uncertainty, discharge pathway simulation.",
    no_args_is_help=True,
)


def register(root: typer.Typer) -> None:
    """Add the ``model`` command group to the CLI."""
    root.add_typer(app, name="model")


def _note(message: str) -> None:
    err.print(f"[yellow]note:[/yellow] {escape(message)}", highlight=False, soft_wrap=True)


def _check_out(out_dir: Path | None) -> None:
    if out_dir is not None and out_dir.exists() and not out_dir.is_dir():
        raise fail(f"--out {out_dir} is a file, not a directory")


def _options(path: Path | None, overrides: dict[str, Any]) -> dict[str, Any]:
    """A parameters file (JSON or YAML) with the command line's options on top."""
    from bettercare.data.param_files import ParamsError, read_params_file

    try:
        data = read_params_file(path) if path is not None else {}
    except ParamsError as exc:
        raise fail(str(exc)) from None
    data.update({k: v for k, v in overrides.items() if v is not None})
    return data


def _store_error(store: Path, exc: Exception) -> typer.Exit:
    import duckdb

    if isinstance(exc, duckdb.Error):
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return fail(f"store {store} could not be read: {first}")
    return fail(str(exc))


def _write_charts(charts: dict[str, Any], staged: Path) -> dict[str, str]:
    """Write each chart as ``<stem>.png`` into ``staged``; the file name by stem."""
    names = {}
    for stem, png in charts.items():
        assert isinstance(png, bytes)
        (staged / f"{stem}.png").write_bytes(png)
        names[stem] = f"{stem}.png"
    return names


# -- impact --------------------------------------------------------------------------


def _gbp(x: float) -> str:
    from bettercare.domain.money import format_gbp

    return format_gbp(round(x))


def print_impact(result: ImpactResult) -> None:
    """The probability of meeting the target, percentiles, shortfall shares, tornado."""
    from bettercare.analytics.modelling.impact import PERCENTILES
    from bettercare.domain.money import format_gbp

    out.print(
        f"[bold]{escape(result.hwb_name)}[/bold] {result.financial_year}: target "
        f"{result.target:,} admissions avoided ({escape(result.target_basis)})",
        highlight=False,
    )
    out.print(
        f"[bold]Probability of meeting the target: {result.probability_meeting_target:.0%}[/bold]"
        f" ({result.params.draws:,} draws, seed {result.params.seed})",
        highlight=False,
    )
    if result.linked_sum is not None:
        kind = "linked to performance" if result.national_scheme else "value of the reduction"
        out.print(f"Performance-linked sum: {format_gbp(result.linked_sum)} ({kind})")
    table = Table(title="Distribution over the draws")
    table.add_column("quantity")
    for col in ("mean", *[f"P{p}" for p in PERCENTILES]):
        table.add_column(col, justify="right")
    for r in result.summary_rows():
        fmt = _gbp if r["unit"] == "£" else (lambda v: f"{v:,.0f}")
        table.add_row(
            escape(r["quantity"]), fmt(r["mean"]), *[fmt(r[f"p{p}"]) for p in PERCENTILES]
        )
    out.print(table)
    if result.shortfall is not None and float(result.shortfall.max()) > 0:
        p_short = float((result.shortfall > 0).mean())
        out.print(f"Probability of a shortfall: {p_short:.0%}", highlight=False)
    from bettercare.domain.labels import format_number

    tornado = Table(title="Which schemes matter most (probability of meeting the target)")
    for col in ("scheme", "P10 admissions", "P90 admissions", "at P10", "at P90"):
        tornado.add_column(col, justify="left" if col == "scheme" else "right")
    for b in result.tornado[:10]:
        tornado.add_row(
            escape(f"{b.reference} {b.name}"),
            format_number(b.p10_admissions),  # admissions: whole numbers
            format_number(b.p90_admissions),
            f"{b.low:.0%}",
            f"{b.high:.0%}",
        )
    out.print(tornado)
    for n in result.notes:
        _note(n)


def write_impact(result: ImpactResult, out_dir: Path) -> None:
    """``impact.html``, the PNG charts and ``impact_summary.csv``, all or nothing."""
    import pandas as pd

    from bettercare.data import safe_csv
    from bettercare.data.atomic import staged_entries
    from bettercare.reporting.modelling import impact_charts, impact_section_html, page_html

    charts = impact_charts(result)
    with staged_entries(out_dir) as staged:
        names = _write_charts(charts, staged)
        section = impact_section_html(result, names)
        title = f"{result.hwb_name}: scheme impact under uncertainty"
        (staged / "impact.html").write_text(page_html(title, section), encoding="utf-8")
        safe_csv.to_csv(pd.DataFrame(result.summary_rows()), staged / "impact_summary.csv")
    out.print(f"wrote {out_dir / 'impact.html'} and {len(charts)} chart(s)", highlight=False)


@app.command()
def impact(
    plan: Path = typer.Option(..., "--plan", help="Plan file (YAML)"),
    store: Path | None = typer.Option(
        None, "--store", help="Analytics store: fit schemes to their performance to date"
    ),
    params: Path | None = typer.Option(None, "--params", help="Parameters file (JSON/YAML)"),
    draws: int | None = typer.Option(None, "--draws", help="Monte Carlo draws (default 10,000)"),
    seed: int | None = typer.Option(None, "--seed", help="Random seed"),
    default_sd: float | None = typer.Option(
        None,
        "--default-relative-sd",
        help="Assumed sd of a scheme's effect / its expected value, where no range is stated",
    ),
    out_dir: Path | None = typer.Option(None, "--out", help="Write impact.html and charts here"),
) -> None:
    """Probability that the schemes meet the target; P4P earned; who bears a shortfall."""
    import duckdb
    from pydantic import ValidationError

    from bettercare.analytics.modelling.errors import ModellingInputError
    from bettercare.analytics.modelling.impact import ImpactParams, modelled_year, run_impact
    from bettercare.analytics.modelling.store_inputs import fitted_from_store
    from bettercare.data.param_files import format_validation_error
    from bettercare.data.plan_files import PlanFileError, load_plan

    _check_out(out_dir)
    try:
        the_plan = load_plan(plan)
    except PlanFileError as exc:
        raise fail("; ".join(str(f) for f in exc.findings)) from None
    data = _options(params, {"draws": draws, "seed": seed, "default_relative_sd": default_sd})
    try:
        the_params = ImpactParams.model_validate(data)
    except ValidationError as exc:
        raise fail(format_validation_error(exc, str(params or "options"))) from None
    fitted = None
    if not the_plan.schemes:
        raise fail(f"{plan}: schemes: the plan has no schemes, so there is nothing to model")
    if store is not None:
        try:
            fitted, notes = fitted_from_store(store, the_plan, modelled_year(the_plan, the_params))
        except (BadInput, ValueError, duckdb.Error) as exc:
            raise _store_error(store, exc) from None
        for n in notes:
            _note(n)
    try:
        result = run_impact(the_plan, the_params, fitted)
    except ModellingInputError as exc:
        raise fail(
            f"{params if str(exc).startswith('schemes.') and params else plan}: {exc}"
        ) from None
    print_impact(result)
    if out_dir is not None:
        write_impact(result, out_dir)


# -- pathway -------------------------------------------------------------------------


def _ci(e: Estimate, fmt: str = "{:,.2f}") -> str:
    return f"{fmt.format(e.mean)} ({fmt.format(e.low)}–{fmt.format(e.high)})"


def print_pathway(result: PathwayResult, sweep: SweepResult | None) -> None:
    """Per pathway: delays, occupancy, waiting-time percentiles; the sweep; notes."""
    from bettercare.analytics.modelling.pathway import WAIT_PERCENTILES

    c = result.config
    out.print(
        f"[bold]{escape(c.name or 'Discharge pathways')}[/bold]: {c.replications} replications "
        f"of {c.days} days from {c.start} ({c.warm_up_days} warm-up), seed {c.seed}; "
        "mean (95% confidence interval)",
        highlight=False,
    )
    table = Table(title="Discharge delays by pathway")
    cols = (
        "pathway",
        "places",
        "days/wk",
        "arrivals/day",
        "mean delay (days)",
        "delayed days/month",
        "share delayed",
        "occupancy",
        *[f"wait P{p}" for p in WAIT_PERCENTILES],
    )
    for col in cols:
        table.add_column(col, justify="left" if col == "pathway" else "right")
    for p in result.pathways:
        table.add_row(
            escape(p.name),
            str(p.capacity),
            str(p.working_days),
            f"{p.arrivals_per_day:.2f}",
            _ci(p.mean_wait),
            _ci(p.delayed_days_per_month, "{:,.0f}"),
            f"{p.share_delayed.mean:.0%}",
            _ci(p.occupancy, "{:.0%}"),
            *[f"{q:.1f}" for q in p.wait_percentiles().values()],
        )
    out.print(table)
    total = result.total_delayed_days
    out.print(
        f"Delayed days, all pathways, {result.pathways[0].window_days} days measured: "
        f"{_ci(total, '{:,.0f}')}",
        highlight=False,
    )
    if sweep is not None:
        st = Table(title=f"Capacity sweep: pathway {sweep.pathway_id}")
        for col in ("places", "mean delay (days)", "occupancy", "meets target"):
            st.add_column(col, justify="right")
        for row in sweep.rows:
            ok = row.mean_wait.mean <= sweep.target_delay_days
            st.add_row(
                str(row.capacity),
                _ci(row.mean_wait),
                _ci(row.occupancy, "{:.0%}"),
                "yes" if ok else "no",
            )
        out.print(st)
        if sweep.smallest_capacity is not None:
            out.print(
                f"[bold]Smallest capacity meeting a mean delay of {sweep.target_delay_days:g} "
                f"day(s): {sweep.smallest_capacity} places[/bold]",
                highlight=False,
            )
        else:
            _note(sweep.note)
    for n in result.notes:
        _note(n)


def _capacity_frame(
    config: PathwayConfig, result: PathwayResult, sweep: SweepResult | None
) -> pd.DataFrame:
    import pandas as pd

    from bettercare.analytics.modelling.pathway import capacity_demand_entries

    rows = []
    for e in capacity_demand_entries(config, result, sweep):
        for month in sorted(e.demand):
            rows.append(
                {
                    "month": month,
                    "service": e.service.value,
                    "service_type": e.service_type,
                    "demand": e.demand[month],
                    "capacity": e.capacity.get(month),
                    "note": e.note,
                }
            )
    return pd.DataFrame(
        rows, columns=["month", "service", "service_type", "demand", "capacity", "note"]
    )


def _summary_frame(result: PathwayResult) -> pd.DataFrame:
    import pandas as pd

    rows = []
    for p in result.pathways:
        row: dict[str, Any] = {"pathway": p.id, "name": p.name, "places": p.capacity}
        for name, est in (
            ("mean_delay_days", p.mean_wait),
            ("delayed_days_per_month", p.delayed_days_per_month),
            ("share_delayed", p.share_delayed),
            ("occupancy", p.occupancy),
        ):
            row |= {name: est.mean, f"{name}_ci_low": est.low, f"{name}_ci_high": est.high}
        row |= {f"wait_p{q}": v for q, v in p.wait_percentiles().items()}
        rows.append(row)
    return pd.DataFrame(rows)


@app.command()
def pathway(
    config: Path = typer.Option(..., "--config", help="Pathway configuration (YAML/JSON)"),
    store: Path | None = typer.Option(
        None, "--store", help="Analytics store: estimate arrivals and pathway shares from it"
    ),
    replications: int | None = typer.Option(None, "--replications", help="Replications"),
    seed: int | None = typer.Option(None, "--seed", help="Random seed"),
    sweep: str | None = typer.Option(
        None, "--sweep", help="Pathway id: find the fewest places meeting --target-delay"
    ),
    target_delay: float | None = typer.Option(
        None, "--target-delay", help="Mean discharge delay (days) the sweep must meet"
    ),
    out_dir: Path | None = typer.Option(None, "--out", help="Write pathway.html, charts, CSVs"),
) -> None:
    """Simulate discharges waiting for pathway capacity; optionally sweep capacity."""
    import duckdb
    from pydantic import ValidationError

    from bettercare.analytics.capacity_demand import capacity_demand_from_store, compare_with_plan
    from bettercare.analytics.modelling.errors import ModellingInputError
    from bettercare.analytics.modelling.pathway import (
        PathwayConfig,
        capacity_demand_entries,
        run_pathway,
        sweep_capacity,
    )
    from bettercare.analytics.modelling.store_inputs import arrivals_from_store, config_from_store
    from bettercare.data import safe_csv
    from bettercare.data.atomic import staged_entries
    from bettercare.data.param_files import format_validation_error
    from bettercare.reporting.modelling import page_html, pathway_charts, pathway_section_html

    _check_out(out_dir)
    data = _options(
        config,
        {"replications": replications, "seed": seed, "target_delay_days": target_delay},
    )
    try:
        cfg = PathwayConfig.model_validate(data)
    except ValidationError as exc:
        raise fail(format_validation_error(exc, str(config))) from None
    if sweep is not None:
        if sweep not in {p.id for p in cfg.pathways}:
            known = ", ".join(p.id for p in cfg.pathways)
            raise fail(f"--sweep {sweep}: no pathway with that id in {config} ({known})")
        if cfg.target_delay_days is None:
            raise fail("--sweep needs a target: --target-delay DAYS (or target_delay_days)")
    measured = None
    hwb = None
    if store is not None:
        try:
            found = arrivals_from_store(store, cfg)
            cfg = config_from_store(cfg, found)
            measured = capacity_demand_from_store(store)
        except ModellingInputError as exc:
            raise fail(f"{config}: {exc}") from None
        except (BadInput, ValueError, duckdb.Error) as exc:
            raise _store_error(store, exc) from None
        hwb = found.hwb_code
        _note(
            f"arrivals estimated from {store} for HWB {hwb} ({found.months[0]} to "
            f"{found.months[-1]}): {found.arrivals.per_day:.2f} a day needing support"
        )
        for n in found.notes:
            _note(n)
        if found.observed_delayed_days:
            months = len(found.observed_delayed_days)
            mean = sum(found.observed_delayed_days.values()) / months
            _note(f"delayed days recorded in the store: {mean:,.0f} a month over {months} month(s)")
    result = run_pathway(cfg)
    the_sweep = None
    if sweep is not None and cfg.target_delay_days is not None:
        the_sweep = sweep_capacity(cfg, sweep, cfg.target_delay_days)
    print_pathway(result, the_sweep)
    cap = _capacity_frame(cfg, result, the_sweep)
    vs = None
    if measured is not None and hwb is not None:
        vs = compare_with_plan(measured, capacity_demand_entries(cfg, result, the_sweep), hwb)
    if out_dir is not None:
        charts = pathway_charts(result, the_sweep)
        with staged_entries(out_dir) as staged:
            names = _write_charts(charts, staged)
            section = pathway_section_html(result, names, the_sweep)
            page = page_html(cfg.name or "Discharge pathway simulation", section)
            (staged / "pathway.html").write_text(page, encoding="utf-8")
            safe_csv.to_csv(_summary_frame(result), staged / "pathway_summary.csv")
            safe_csv.to_csv(cap, staged / "capacity_demand.csv")
            if vs is not None:
                safe_csv.to_csv(vs, staged / "capacity_demand_vs_measured.csv")
        out.print(f"wrote {out_dir / 'pathway.html'} and {len(charts)} chart(s)", highlight=False)


@app.command()
def schema(
    kind: str = typer.Argument(..., help="impact | pathway"),
) -> None:
    """Print the JSON Schema of the impact parameters or the pathway configuration."""
    from bettercare.analytics.modelling.impact import ImpactParams
    from bettercare.analytics.modelling.pathway import PathwayConfig

    models: dict[str, Any] = {"impact": ImpactParams, "pathway": PathwayConfig}
    if kind not in models:
        raise fail(f"schema kind '{kind}' is not one of impact, pathway")
    typer.echo(json.dumps(models[kind].model_json_schema(), indent=2))
