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
        ["2016/17"], "--years", "-y", help="Financial year(s), repeatable: --years 2015-16"
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
    england: bool = typer.Option(
        False,
        "--england",
        help="Every HWB area of England (data/defaults/hwb_england.csv) at --scale, into "
        "one feed directory; each area is the --hwb preset with its own code, name and "
        "population (docs/synthetic-england.md)",
    ),
    scale: float = typer.Option(
        0.01, "--scale", help="With --england: share of each area's population (0 < scale <= 1)"
    ),
    effect: list[str] = typer.Option(
        [],
        "--effect",
        help="Inject a known scheme effect into the emergency admissions, repeatable: "
        "START:CHANGE:practices=CODE[,CODE...] or START:CHANGE:people=FILE.csv (an nhs_number "
        "column), e.g. 2024-04-01:-15%:practices=C82001,C82004; the truth goes to "
        "_truth/injected_effects.parquet (docs/evaluation.md)",
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
    from bettercare.data.synth.effects import EffectSyntaxError, parse_effect
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
    try:
        effects = [parse_effect(text) for text in effect]
    except EffectSyntaxError as exc:
        raise fail(f"--effect {exc}") from None
    if print_params:
        typer.echo(params.model_dump_json(indent=2))
        return
    if england:
        if fmt != "internal" or plan_file or params_file or population is not None or effect:
            raise fail("--england takes --hwb, --scale, --years, --seed and --out only")
        _england(hwb.strip().lower(), scale, years, seed, out)
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
            result = generate(params, years, seed, out, progress=step, fmt=fmt, effects=effects)
        except EffectSyntaxError as exc:
            raise fail(f"--effect {exc}") from None
        except ValueError as exc:
            raise fail(str(exc)) from None
        bar.advance(task)
        bar.update(task, description="done")

    rows = sum(result.row_counts.values())
    typer.echo(
        f"wrote {len(result.row_counts)} feeds ({rows:,} rows) for {params.area.name} "
        f"({params.area.population:,} residents, {', '.join(years)}, seed {seed}) to {out}"
    )


def _england(base: str, scale: float, years: list[str], seed: int, out: Path) -> None:
    """``synth --england``: every HWB area of England, with a bar by area."""
    from bettercare.data.synth.england import generate_england

    if not 0 < scale <= 1:
        raise fail(f"--scale {scale}: expected a share of the population, 0 < scale <= 1")
    with Progress(
        TextColumn("[bold]{task.description:<36}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} areas"),
        TimeElapsedColumn(),
        console=_err,
        transient=False,
    ) as bar:
        task = bar.add_task("starting", total=None)

        def step(name: str, done: int, total: int) -> None:
            bar.update(task, description=name, completed=done, total=total)

        result = generate_england(scale, years, seed, out, base=base, progress=step)
    rows = sum(result.row_counts.values())
    typer.echo(
        f"wrote {len(result.row_counts)} feeds ({rows:,} rows) for {result.areas} HWB areas "
        f"of England ({result.residents:,} residents, scale {scale:g}, {', '.join(years)}, "
        f"seed {seed}) to {out}"
    )


def register(app: typer.Typer) -> None:
    """Add the ``synth`` command to the CLI."""
    app.command("synth")(synth)
