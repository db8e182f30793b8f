"""``bettercare register``: the care coordination register in the web app's database.

``register import`` re-identifies risk scores for direct care: it pseudonymises the NHS
numbers of a GP registration list with the store's key and matches them to the scores'
``person_id`` (the tiered people of one HWB become the care coordinators' list).
``register coverage`` prints (and writes) the share of people at risk with a joint care
plan and a lead professional by practice and month, small counts suppressed.
``register demo`` fills an HWB's register with synthetic people at risk, plans and care
teams for the web demo. Patient-level data is for direct care only: it is read in the
web app by the care coordinators of the person's HWB (pages and the FHIR API).

Bad input (an invalid NHS number, a missing column, an unknown HWB code, a bad key):
one ``error:`` line naming file, row, field and rule, exit code 2, nothing written.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from bettercare.cli.common import fail, parse_date

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

HWB_CODE = re.compile(r"^E(06|07|08|09|10)[0-9]{6}$")
out = Console()

register_app = typer.Typer(
    help="The care coordination register (patient-level: direct care only).",
    no_args_is_help=True,
)


def register(root: typer.Typer) -> None:
    """Add ``bettercare register`` to the root command."""
    root.add_typer(register_app, name="register")


def _check_hwb(hwb: str) -> None:
    if not HWB_CODE.fullmatch(hwb):
        raise fail(f"--hwb '{hwb}' is not an HWB's ONS code (E06/E07/E08/E09/E10 + 6 digits)")


def _database(url: str | None) -> sessionmaker[Session]:
    from sqlalchemy.exc import SQLAlchemyError

    from bettercare.app.db import make_engine, migrate, session_factory
    from bettercare.app.settings import AppSettings

    url = url or AppSettings().database_url  # $BETTERCARE_DATABASE_URL, else the default

    try:
        engine = make_engine(url)
        migrate(engine)
    except SQLAlchemyError as exc:
        raise fail(f"database {url}: {str(exc).splitlines()[0]}") from None
    return session_factory(engine)


DATABASE = typer.Option(
    None,
    "--database",
    help="SQLAlchemy URL of the web app's database (as for `bettercare serve`; default: "
    "$BETTERCARE_DATABASE_URL, else sqlite:///bettercare-app.db).",
)


@register_app.command("import")
def import_(
    registrations: Path = typer.Option(
        ..., help="GP registration list: gp_registrations.csv (national) or residents layout."
    ),
    hwb: str = typer.Option(..., help="The HWB (ONS code) whose people to import."),
    scores: Path | None = typer.Option(
        None, help="Risk scores (.parquet or .csv: person_id, probability, tier, cohort_*)."
    ),
    store: Path | None = typer.Option(
        None, help="Score the analytics store now (score_population) instead of --scores."
    ),
    database: str | None = DATABASE,
    key_file: Path | None = typer.Option(
        None, help="Pseudonymisation key file (default: $BETTERCARE_PSEUDONYM_KEY)."
    ),
    assessed_on: str | None = typer.Option(
        None, help="Date of the risk assessment, YYYY-MM-DD (default: today)."
    ),
    model: str = typer.Option("logistic", help="Model name recorded with each score."),
) -> None:
    """Re-identify the tiered people of one HWB for direct care (scores x GP list)."""
    from bettercare.data.care_register import (
        RegisterError,
        import_scores,
        read_table,
        scores_from,
    )
    from bettercare.data.ingest.registrations import read_registrations
    from bettercare.data.pseudonymise import PseudonymKeyError, load_key
    from bettercare.domain.access import SYSTEM
    from bettercare.services import audit

    _check_hwb(hwb)
    if (scores is None) == (store is None):
        raise fail("give exactly one of --scores FILE or --store STORE")
    when = parse_date(assessed_on, "--assessed-on") if assessed_on else dt.date.today()
    try:
        data_dirs = [p.parent for p in (scores, store, registrations) if p is not None]
        key = load_key(key_file, data_dirs)
    except PseudonymKeyError as exc:
        raise fail(str(exc)) from None
    try:
        if scores is not None:
            if not scores.is_file():
                raise RegisterError("not found", file=str(scores), rule="missing_file")
            table = read_table(scores)
            source = scores.name
        else:
            from bettercare.analytics.risk.cohorts import score_population
            from bettercare.analytics.risk.features import RiskDataError

            assert store is not None
            try:
                table = score_population(store, model=model)
            except RiskDataError as exc:
                raise fail(f"{store}: {exc}") from None
            source = store.name
        tiered = scores_from(table, source, hwb, model)
        people = read_registrations(registrations, hwb)
    except RegisterError as exc:
        raise fail(str(exc)) from None
    sessions = _database(database)
    with sessions() as db:
        try:
            result = import_scores(db, tiered, people, key, hwb, when)
        except RegisterError as exc:
            db.rollback()
            raise fail(str(exc)) from None
        audit.record(
            db,
            SYSTEM,
            "register_import",
            f"hwb:{hwb}",
            after={
                "scores": source,
                "registrations": registrations.name,
                "tiered": result.tiered,
                "matched": result.matched,
                "unmatched": result.unmatched,
            },
        )
        db.commit()
    out.print(
        f"Imported {result.matched:,} of {result.tiered:,} people at risk in {hwb} "
        f"({result.unmatched:,} not on the registration list). Patient-level data: for "
        "direct care only (care coordinators of the HWB).",
        highlight=False,
    )


@register_app.command("demo")
def demo(
    hwb: str = typer.Option(..., help="The HWB (ONS code), e.g. E06000017 (Rutland)."),
    n: int = typer.Option(300, "--n", min=1, max=20_000, help="People at risk to create."),
    database: str | None = DATABASE,
    seed: int = typer.Option(0, help="Random seed."),
) -> None:
    """Create synthetic people at risk (999-range NHS numbers), plans and care teams."""
    import os

    from bettercare.data.care_register import count_patients
    from bettercare.data.pseudonymise import KEY_ENV, PseudonymKeyError, load_key
    from bettercare.domain.access import SYSTEM
    from bettercare.pipelines.care_demo import demo_register
    from bettercare.services import audit

    _check_hwb(hwb)
    key = None
    if os.environ.get(KEY_ENV):
        try:
            key = load_key()
        except PseudonymKeyError as exc:
            raise fail(str(exc)) from None
    sessions = _database(database)
    with sessions() as db:
        existing = count_patients(db, hwb)
        if existing:
            raise fail(
                f"the register already holds {existing:,} people of {hwb}: the demo "
                "fills an empty HWB only"
            )
        made = demo_register(db, hwb, n, dt.date.today(), seed=seed, key=key)
        audit.record(db, SYSTEM, "register_demo", f"hwb:{hwb}", after={"people": made})
        db.commit()
    out.print(
        f"Created {made:,} synthetic people at risk in {hwb} with plans and care teams. "
        "Sign in as a care coordinator of this HWB to see them (/care, /fhir).",
        highlight=False,
    )


@register_app.command("coverage")
def coverage_(
    hwb: str = typer.Option(..., help="The HWB (ONS code)."),
    database: str | None = DATABASE,
    months: int = typer.Option(12, min=1, max=120, help="Months up to --as-of."),
    as_of: str | None = typer.Option(None, help="Last month, YYYY-MM-DD (default: today)."),
    out: Path | None = typer.Option(None, help="Also write every row as CSV to this file."),
) -> None:
    """Share of people at risk with a joint care plan and a lead professional (aggregates)."""
    import csv

    from rich.table import Table

    from bettercare.analytics.care_coverage import ALL, coverage, last_months, published
    from bettercare.data.atomic import staged_file
    from bettercare.data.care_register import people_at_risk

    _check_hwb(hwb)
    last = parse_date(as_of, "--as-of") if as_of else dt.date.today()
    span = last_months(last, months)
    sessions = _database(database)
    with sessions() as db:
        rows = coverage(people_at_risk(db, hwb), span)
    if not rows:
        raise fail(f"the register holds nobody at risk in {hwb}")
    table = Table(
        title=f"Care coordination coverage, {hwb}, all practices (counts of 1-7 "
        "suppressed, others rounded to 5)"
    )
    for col in ("month", "at risk", "with a plan", "with a lead", "with both"):
        table.add_column(col, justify="left" if col == "month" else "right")

    def pct(x: float | int | None) -> str:
        return "*" if x is None else f"{100 * x:.0f}%"

    for r in rows:
        if r.gp_practice == ALL and r.group == ALL:
            p = published(r)
            at_risk = "*" if p["at_risk"] is None else str(p["at_risk"])
            table.add_row(
                f"{r.month:%b %Y}",
                at_risk,
                pct(p["plan_share"]),
                pct(p["lead_share"]),
                pct(p["both_share"]),
            )
    out_console = Console(width=120)
    out_console.print(table)
    if out is not None:
        fields = [
            "gp_practice",
            "month",
            "group",
            "at_risk",
            "with_plan",
            "with_lead",
            "with_both",
            "plan_share",
            "lead_share",
            "both_share",
        ]
        try:
            with staged_file(out) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
                writer = csv.DictWriter(fh, fieldnames=fields)
                writer.writeheader()
                for r in rows:
                    writer.writerow(
                        {
                            "gp_practice": r.gp_practice,
                            "month": r.month.isoformat(),
                            "group": r.group,
                            **published(r),
                        }
                    )
        except OSError as exc:
            raise fail(f"--out {out}: {exc.strerror or exc}") from None
        out_console.print(f"wrote {out} (aggregates; small counts suppressed)", highlight=False)
