"""``bettercare synth``: generate a synthetic population and every feed as Parquet."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from bettercare.cli.common import fail
from bettercare.data.synth import NOISE_LEVEL_NAMES, PRESETS

_err = Console(stderr=True)


def synth(
    hwb: str = typer.Option("leicestershire", "--hwb", help=f"HWB preset: {', '.join(PRESETS)}"),
    population: int | None = typer.Option(
        None, "--population", "-n", help="Residents at the first 1 April (default: preset's)"
    ),
    years: list[str] = typer.Option(
        ["2016/17"], "--years", "-y", help="Financial year(s), repeatable: --years 2015/16"
    ),
    seed: int = typer.Option(42, "--seed", min=0, help="Random seed (same seed => same files)"),
    out: Path = typer.Option(Path("data/synth"), "--out", "-o", help="Output directory"),
    params_file: Path | None = typer.Option(
        None, "--params", "-p", help="JSON/YAML parameters merged over the preset"
    ),
    plan_file: Path | None = typer.Option(
        None, "--plan", help="BCF plan file: generate activity for its schemes' targets"
    ),
    noise: str | None = typer.Option(
        None,
        "--noise",
        help="Identifier error level of the social care records: "
        f"{', '.join(NOISE_LEVEL_NAMES)} (replaces the parameters' noise section)",
    ),
    fmt: str = typer.Option(
        "internal",
        "--format",
        help="File layout: internal (<feed>.parquet) or national (the national datasets' "
        "layouts: gp_registrations, apc_episodes, ecds, cld, ons_population and the "
        "national data opt-out check's ndop_request/ndop_response files; docs/datasets/)",
    ),
    print_schema: bool = typer.Option(
        False, "--print-schema", help="Print the parameters' JSON Schema and exit"
    ),
    print_params: bool = typer.Option(
        False, "--print-params", help="Print the effective parameters (JSON) and exit"
    ),
) -> None:
    """Generate a synthetic HWB population and all person-level feeds (Parquet)."""
    from pydantic import ValidationError

    from bettercare.data.param_files import format_validation_error
    from bettercare.data.plan_files import PlanFileError, load_plan
    from bettercare.data.synth import (
        STEPS,
        ParamsError,
        generate,
        json_schema,
        load_params,
    )
    from bettercare.data.synth.generator import FORMATS, check_years
    from bettercare.data.synth.params import NOISE_LEVELS

    if print_schema:
        typer.echo(json.dumps(json_schema(), indent=2))
        return
    if fmt not in FORMATS:
        raise fail(f"unknown --format '{fmt}' (known: {', '.join(FORMATS)})")
    if hwb.strip().lower() not in PRESETS:
        raise fail(f"unknown --hwb '{hwb}' (known: {', '.join(PRESETS)})")
    if noise is not None and noise not in NOISE_LEVELS:
        raise fail(f"unknown --noise '{noise}' (known: {', '.join(NOISE_LEVELS)})")
    try:
        params = load_params(params_file, preset=hwb)
        if population is not None:
            params = params.with_population(population)
        if plan_file is not None:
            params = params.with_plan_schemes(load_plan(plan_file))
        if noise is not None:
            params = params.model_copy(update={"noise": NOISE_LEVELS[noise]})
    except PlanFileError as exc:
        raise fail("; ".join(str(f) for f in exc.findings)) from None
    except ParamsError as exc:
        raise fail(str(exc)) from None
    except ValidationError as exc:  # --population out of range
        raise fail(format_validation_error(exc, "--population")) from None
    try:
        years = check_years(years)
    except ValueError as exc:
        raise fail(f"--years: {exc}") from None
    if print_params:
        typer.echo(params.model_dump_json(indent=2))
        return

    with Progress(
        TextColumn("[bold]{task.description:<22}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=_err,
        transient=False,
    ) as bar:
        task = bar.add_task("starting", total=len(STEPS))
        seen: list[str] = []

        def step(name: str) -> None:
            if seen:
                bar.advance(task)
            seen.append(name)
            bar.update(task, description=name)

        try:
            result = generate(params, years, seed, out, progress=step, fmt=fmt)
        except ValueError as exc:
            raise fail(str(exc)) from None
        bar.advance(task)
        bar.update(task, description="done")

    rows = sum(result.row_counts.values())
    typer.echo(
        f"wrote {len(result.row_counts)} feeds ({rows:,} rows) for {params.area.name} "
        f"({params.area.population:,} residents, {', '.join(years)}, seed {seed}) to {out}"
    )


def register(app: typer.Typer) -> None:
    """Add the ``synth`` command to the CLI."""
    app.command("synth")(synth)
