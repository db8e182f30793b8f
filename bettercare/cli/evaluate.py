"""``bettercare evaluate``: did a scheme or a dated change work? Effects against a counterfactual.

Reads the analytics store and an evaluation spec (``--spec FILE``, JSON or YAML; or the
options ``--change-date``, ``--treated``, ``--enrolled``) and prints, for each method the
data allow (interrupted time series, difference-in-differences, matched control cohort,
synthetic control), the effect with its 95% interval in the metric's units and in
admissions avoided, or why it cannot be estimated. ``--out FILE.json`` writes it all.
Bad input: one ``error:`` line, exit code 2. Heavy libraries are imported inside the
command so the CLI starts fast.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from bettercare.cli.common import fail, parse_date

if TYPE_CHECKING:
    from bettercare.analytics.evaluation import Evaluation, EvaluationSpec


def _read_enrolled(path: Path) -> tuple[list[str], dict[str, date]]:
    """Pseudonyms from the ``person_id`` column of a CSV file (one per row).

    An optional ``enrolment_date`` column (YYYY-MM-DD; blank: the change date) gives each
    person their own enrolment date, their index date in the matched cohort.
    """
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames is None or "person_id" not in reader.fieldnames:
                raise fail(f"--enrolled {path}: no 'person_id' column in the header")
            ids = []
            dates: dict[str, date] = {}
            for row_no, row in enumerate(reader, start=2):
                value = (row.get("person_id") or "").strip()
                if not value:
                    raise fail(f"--enrolled {path}: row {row_no}: 'person_id' is empty")
                ids.append(value)
                when = (row.get("enrolment_date") or "").strip()
                if when:
                    dates[value] = parse_date(
                        when, f"--enrolled {path}: row {row_no}: 'enrolment_date'"
                    )
            return ids, dates
    except OSError as exc:
        raise fail(f"cannot read --enrolled {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise fail(f"--enrolled {path} is not UTF-8 text") from None


def _fmt(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:,.{digits}f}"


def print_evaluation(evaluation: Evaluation) -> None:
    """The evaluation as a table and its notes on stdout."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(width=150)
    spec = evaluation.spec
    when = f"on {spec.change_date.isoformat()}"
    if spec.starts or spec.enrolment_dates:
        dates = {*spec.starts.values(), *spec.enrolment_dates.values(), spec.change_date}
        when = f"rolled out from {min(dates).isoformat()} to {max(dates).isoformat()}"
    console.print(
        f"[bold]{escape(spec.name)}[/bold]: effect on {spec.metric.replace('_', ' ')} of the "
        f"change {when} (observed minus counterfactual, 95% intervals)",
        highlight=False,
    )
    table = Table()
    for col in ("method", "effect", "95% CI", "p", "admissions avoided", "95% CI", "units"):
        table.add_column(col, justify="left" if col in ("method", "units") else "right")
    for e in evaluation.effects:
        if not e.estimable:
            table.add_row(e.method, "cannot be estimated", e.reason, "", "", "", e.units)
            continue
        table.add_row(
            e.method,
            _fmt(e.effect, 3),
            f"{_fmt(e.ci_low, 3)} to {_fmt(e.ci_high, 3)}",
            _fmt(e.p_value, 3),
            _fmt(e.admissions_avoided, 0),
            f"{_fmt(e.avoided_ci_low, 0)} to {_fmt(e.avoided_ci_high, 0)}",
            e.units,
        )
    console.print(table)
    for e in evaluation.effects:
        for note in e.notes:
            console.print(f"{e.method}: {note}", highlight=False)
        balance = e.details.get("balance")
        if balance:
            bt = Table(title="Balance of the matched cohort (standardised mean differences)")
            for col in ("covariate", "before matching", "after matching"):
                bt.add_column(col, justify="left" if col == "covariate" else "right")
            for row in balance:
                bt.add_row(row["covariate"], _fmt(row["smd_before"]), _fmt(row["smd_after"]))
            console.print(bt)


def evaluate(
    store: Path | None = typer.Option(None, "--store", help="Analytics store (DuckDB)"),
    spec_file: Path | None = typer.Option(
        None, "--spec", help="Evaluation spec (JSON/YAML); the options below otherwise"
    ),
    change_date: str | None = typer.Option(
        None, "--change-date", help="First day of the change (YYYY-MM-DD)"
    ),
    treated: list[str] = typer.Option(
        [],
        "--treated",
        help="Code of an exposed practice or HWB (repeatable); CODE=YYYY-MM-DD gives it its "
        "own start date (a staggered roll-out)",
    ),
    comparison: list[str] = typer.Option(
        [], "--comparison", help="Code of a comparison unit (repeatable; default: all others)"
    ),
    level: str = typer.Option("practice", "--level", help="Units: practice or hwb"),
    metric: str = typer.Option(
        "emergency_admissions", "--metric", help="emergency_admissions or ae_attendances"
    ),
    enrolled: Path | None = typer.Option(
        None,
        "--enrolled",
        help="CSV with a person_id column: people enrolled on the change date, or on their "
        "own date in an optional enrolment_date column",
    ),
    method: list[str] = typer.Option(
        [], "--method", help="its, did, matched, synthetic (repeatable; default: all)"
    ),
    name: str = typer.Option("change", "--name", help="What changed (for the output)"),
    out_file: Path | None = typer.Option(None, "--out", help="Write the evaluation as JSON"),
    print_schema: bool = typer.Option(
        False, "--print-schema", help="Print the spec's JSON Schema and exit"
    ),
) -> None:
    """Estimate the effect of a scheme or a dated change on a metric against a counterfactual."""
    if print_schema:
        from bettercare.analytics.evaluation.spec import EvaluationSpec as Spec

        typer.echo(json.dumps(Spec.model_json_schema(), indent=2))
        raise typer.Exit()
    if store is None:
        raise fail("give --store FILE (the analytics store)")
    if not store.is_file():
        raise fail(f"store file not found: {store}")
    from pydantic import ValidationError

    from bettercare.analytics.evaluation import (
        EvaluationDataError,
        EvaluationSpec,
        evaluate_store,
        load_spec,
    )

    try:
        if spec_file is not None:
            spec: EvaluationSpec = load_spec(spec_file)
        else:
            if change_date is None:
                raise fail("give --change-date (or --spec FILE)")
            codes, starts = [], {}
            for item in treated:
                code, _, when = item.partition("=")
                codes.append(code.strip())
                if when:
                    starts[code.strip()] = parse_date(when.strip(), f"--treated {item}")
            people, enrolment_dates = _read_enrolled(enrolled) if enrolled else ([], {})
            fields: dict[str, object] = {
                "name": name,
                "change_date": parse_date(change_date, "--change-date"),
                "metric": metric,
                "level": level,
                "treated": codes,
                "starts": starts,
                "comparison": comparison or None,
                "enrolled": people,
                "enrolment_dates": enrolment_dates,
            }
            if method:
                fields["methods"] = method
            try:
                spec = EvaluationSpec.model_validate(fields)
            except ValidationError as exc:
                err = exc.errors()[0]
                where = ".".join(str(p) for p in err["loc"])
                raise fail(f"--{where.split('.')[0].replace('_', '-')}: {err['msg']}") from None
        evaluation = evaluate_store(store, spec)
    except EvaluationDataError as exc:
        raise fail(str(exc)) from None
    print_evaluation(evaluation)
    if out_file is not None:
        try:
            out_file.write_text(json.dumps(evaluation.as_dict(), indent=2) + "\n", "utf-8")
        except OSError as exc:
            raise fail(f"cannot write --out {out_file}: {exc.strerror or exc}") from None
        typer.echo(f"wrote {out_file}")


def register(app: typer.Typer) -> None:
    """Add ``evaluate`` to the ``bettercare`` app."""
    app.command("evaluate")(evaluate)
