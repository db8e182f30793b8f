"""``bettercare report``: the Health and Wellbeing Board pack of one plan, as HTML and PDF.

Reads and checks the plan file, measures it on the analytics store when ``--store`` is
given and/or on published figures when ``--figures`` is (each figure says its source),
and writes ``board-pack.html`` and/or ``board-pack.pdf`` into ``--out``
(:func:`bettercare.reporting.board_pack.build_board_pack`). Both files are rendered
before either is moved into place, so a failure leaves what was there. Bad input (a
plan file missing or not a valid plan, a store missing or unreadable, an unknown
``--format``, ``--out`` a file): one ``error:`` line, exit code 2, nothing written. A plan
that breaks planning rules still gets its pack: the board sees the findings.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape

from bettercare.cli.common import err, fail

if TYPE_CHECKING:
    from bettercare.analytics.care_coverage import CoverageRow
    from bettercare.domain.plan import Plan

FORMATS = ("html", "pdf", "both")
HTML_NAME = "board-pack.html"
PDF_NAME = "board-pack.pdf"

out = Console()


def register(root: typer.Typer) -> None:
    """Add the ``report`` command to the CLI."""
    root.command("report", help="The Health and Wellbeing Board pack of a plan (HTML, PDF).")(
        report
    )


def _care_coverage(url: str, plan: Plan) -> list[CoverageRow]:
    """Coverage of the plan's HWB from the app database's care coordination register."""
    import datetime as dt

    from sqlalchemy.exc import SQLAlchemyError

    from bettercare.analytics.care_coverage import coverage, last_months
    from bettercare.app.db import make_engine, session_factory
    from bettercare.data.care_register import people_at_risk
    from bettercare.data.plan_store import hwb_code

    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///") :]).is_file():
        raise fail(f"--register-database {url}: no such database file")
    try:
        engine = make_engine(url)
        with session_factory(engine)() as db:
            people = people_at_risk(db, hwb_code(plan))
    except (SQLAlchemyError, ValueError) as exc:
        raise fail(f"--register-database {url}: {str(exc).splitlines()[0]}") from None
    return coverage(people, last_months(dt.date.today(), 12))


def report(
    plan: Path = typer.Option(..., "--plan", help="Plan file (YAML)"),
    store: Path | None = typer.Option(
        None, "--store", help="Analytics store (DuckDB) to measure the plan on"
    ),
    out_dir: Path = typer.Option(Path("out"), "--out", help="Directory to write the pack into"),
    fmt: str = typer.Option("both", "--format", help="html | pdf | both"),
    hwb: str | None = typer.Option(
        None, "--hwb", help="HWB code to measure (default: the plan's; see `metrics --hwb`)"
    ),
    figures: Path | None = typer.Option(
        None,
        "--figures",
        help="Figures database of published figures (`bettercare figures load`): measures "
        "the plan on them (with or without --store) and compares the board with its peers",
    ),
    peers_file: Path | None = typer.Option(
        None, "--peers", help="Peer file for --figures (default: the board's NHS region)"
    ),
    register_database: str | None = typer.Option(
        None,
        "--register-database",
        help="The web app's database (SQLAlchemy URL): adds the care coordination "
        "register's coverage for the plan's HWB over the last 12 months (aggregates only)",
    ),
    evaluation_spec: Path | None = typer.Option(
        None,
        "--evaluation",
        help="Evaluation spec (JSON/YAML, see `bettercare evaluate`): shows the effect of a "
        "scheme or change against a counterfactual (needs --store)",
    ),
) -> None:
    """Write the board pack of a plan: board-pack.html and board-pack.pdf."""
    from bettercare.data.atomic import staged_entries
    from bettercare.data.plan_files import validate_plan_file
    from bettercare.domain.findings import Severity
    from bettercare.reporting.board_pack import BoardPackError, build_board_pack

    if fmt not in FORMATS:
        raise fail(f"--format '{fmt}' is not one of {', '.join(FORMATS)}")
    if out_dir.exists() and not out_dir.is_dir():
        raise fail(f"--out {out_dir} is a file, not a directory")
    for what, path in (
        ("plan file", plan),
        ("store file", store),
        ("figures database", figures),
        ("peer file", peers_file),
    ):
        if path is not None and not path.is_file():
            raise fail(f"{what} {'is not a file' if path.exists() else 'not found'}: {path}")
    the_plan, findings = validate_plan_file(plan)
    if the_plan is None:
        raise fail("; ".join(str(f) for f in findings))
    coverage = _care_coverage(register_database, the_plan) if register_database else None
    peers = None
    if peers_file is not None:
        from bettercare.data.figures.peer_groups import read_peer_groups
        from bettercare.errors import BettercareError

        code = hwb or the_plan.hwb.ons_code
        try:
            peers = read_peer_groups(peers_file).get(code or "")
        except BettercareError as exc:
            raise fail(str(exc)) from None
        if peers is None:
            raise fail(f"--peers {peers_file} names no peers for {code}")
    evaluation = None
    if evaluation_spec is not None:
        if store is None:
            raise fail("--evaluation needs --store (the evaluation reads the store)")
        from bettercare.analytics.evaluation import EvaluationDataError, evaluate_store, load_spec

        try:
            evaluation = evaluate_store(store, load_spec(evaluation_spec))
        except EvaluationDataError as exc:
            raise fail(str(exc)) from None
    try:
        pack = build_board_pack(
            the_plan,
            store=store,
            findings=findings,
            hwb_code=hwb,
            care_coverage=coverage,
            figures=figures,
            peers=peers,
            evaluation=evaluation,
        )
        pdf = pack.pdf() if fmt in ("pdf", "both") else None
    except BoardPackError as exc:
        raise fail(str(exc)) from None
    for w in pack.warnings:
        err.print(f"[yellow]warning:[/yellow] {escape(w)}", highlight=False, soft_wrap=True)
    errors = sum(f.severity == Severity.ERROR for f in findings)
    if errors:
        err.print(
            f"[yellow]warning:[/yellow] {escape(str(plan))} breaks {errors} planning rule(s); "
            "the pack lists them (Appendix A)",
            highlight=False,
            soft_wrap=True,
        )
    try:
        with staged_entries(out_dir) as staged:  # both files whole, or neither replaced
            written = []
            if fmt in ("html", "both"):
                (staged / HTML_NAME).write_text(pack.html, encoding="utf-8")
                written.append(out_dir / HTML_NAME)
            if pdf is not None:
                (staged / PDF_NAME).write_bytes(pdf)
                written.append(out_dir / PDF_NAME)
    except OSError as exc:
        raise fail(f"cannot write to --out {out_dir}: {exc.strerror or exc}") from None
    out.print(f"wrote {' and '.join(str(p) for p in written)}", highlight=False, soft_wrap=True)
