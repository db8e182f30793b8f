"""``bettercare risk``: emergency admission risk -- evaluate the model, stratify the population.

``risk evaluate`` trains on one year of the store and tests on the next (AUC, calibration,
PPV and sensitivity at the top 0.5/1/2/5%, against the age + prior admissions baseline and
published figures, by sex, age band and deprivation decile); ``risk stratify`` scores every
adult, flags the local cohorts and risk tiers and counts them by GP practice and HWB
(small counts suppressed). Patient-level lists only with ``--direct-care``. Exit code 2
with one ``error:`` line (no traceback) for a missing or foreign store, too few years or
people, an unknown model or an unwritable ``--out``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from bettercare.analytics.risk import MODELS
from bettercare.cli.common import fail, parse_date

if TYPE_CHECKING:
    from bettercare.analytics.risk.evaluate import Evaluation

out = Console(width=140)

risk_app = typer.Typer(
    help="Emergency admission risk: evaluate the model, stratify the population.",
    no_args_is_help=True,
)


def _float(x: object) -> float | None:
    """``x`` as a float, or None when missing (None, NaN, pandas NA)."""
    import pandas as pd

    if x is None or x is pd.NA:
        return None
    value = float(x)  # type: ignore[arg-type]
    return None if value != value else value


def _pct(x: object) -> str:
    value = _float(x)
    return "-" if value is None else f"{100 * value:.1f}%"


def _num(x: object, digits: int = 3) -> str:
    value = _float(x)
    return "-" if value is None else f"{value:.{digits}f}"


def _check_model(model: str) -> None:

    if model not in MODELS:
        raise fail(f"unknown --model '{model}' (known: {', '.join(MODELS)})")


def print_evaluation(e: Evaluation) -> None:
    """The evaluation's tables on stdout."""
    out.print(
        f"[bold]Risk of an emergency admission in the next 12 months[/bold]: model "
        f"[bold]{e.model}[/bold] trained on {e.train_people:,} adults at {e.train_index}, "
        f"tested on {e.test_people:,} adults at {e.test_index} "
        f"({e.excluded_deaths_test:,} who died in the test year excluded)",
        highlight=False,
    )
    head = Table(title="Discrimination and calibration (test year)")
    for col in ("", "AUC", "calibration slope", "intercept", "observed", "predicted", "O/E"):
        head.add_column(col, justify="right" if col else "left")
    for name in ("model", "baseline"):
        s = e.summaries[name]
        head.add_row(
            e.model if name == "model" else "baseline (age + prior admissions)",
            _num(s["auc"]),
            _num(s["calibration_slope"], 2),
            _num(s["calibration_intercept"], 2),
            _pct(s["observed_rate"]),
            _pct(s["mean_predicted"]),
            _num(s["observed_over_expected"], 2),
        )
    out.print(head)

    top = Table(title="Top k% flagged: positive predictive value and sensitivity")
    for col in (
        "top",
        "flagged",
        f"{e.model} PPV",
        "baseline PPV",
        f"{e.model} sens.",
        "baseline sens.",
    ):
        top.add_column(col, justify="right")
    t = e.top.set_index(["model", "top_percent"])
    for share in sorted(e.top["top_percent"].unique()):
        m, b = t.loc[("model", share)], t.loc[("baseline", share)]
        top.add_row(
            f"{share:g}%",
            f"{int(m['flagged']):,}",
            _pct(m["ppv"]),
            _pct(b["ppv"]),
            _pct(m["sensitivity"]),
            _pct(b["sensitivity"]),
        )
    out.print(top)
    wins = e.beats_baseline()
    out.print(
        f"beats the baseline on AUC: {'yes' if wins['auc'] else 'NO'}; "
        f"on PPV at the top 2%: {'yes' if wins['ppv_top2'] else 'NO'}",
        highlight=False,
    )

    pub = Table(title="Published figures (other outcomes and populations: context only)")
    for col in ("model", "outcome", "AUC", "PPV", "sensitivity", "at"):
        pub.add_column(col)
    for p in e.published:
        pub.add_row(
            p["model"],
            p["outcome"],
            _num(p["auc"], 2),
            _pct(p["ppv"]),
            _pct(p["sensitivity"]),
            p["at"] or "not confirmed: see the model card",
        )
    out.print(pub)

    sub = Table(title="By sex, age band and deprivation decile (flagging the overall top 2%)")
    for col in (
        "group",
        "value",
        "people",
        "admitted",
        "observed",
        "predicted",
        "O/E",
        "AUC",
        "flagged",
        "PPV",
        "sens.",
    ):
        sub.add_column(col, justify="left" if col in ("group", "value") else "right")
    for r in e.subgroups.itertuples(index=False):
        sub.add_row(
            str(r.group),
            str(r.value),
            f"{r.people:,}",
            f"{r.admitted:,}",
            _pct(r.observed_rate),
            _pct(r.mean_predicted),
            _num(r.observed_over_expected, 2),
            _num(r.auc),
            f"{r.flagged_top2:,}",
            _pct(r.ppv_top2),
            _pct(r.sensitivity_top2),
        )
    out.print(sub)

    if not e.coefficients.empty:
        coef = Table(title=f"{e.model} coefficients (log odds ratio per unit; before calibration)")
        for col in ("term", "coefficient", "odds ratio"):
            coef.add_column(col, justify="left" if col == "term" else "right")
        for r in e.coefficients.itertuples(index=False):
            coef.add_row(str(r.term), f"{r.coefficient:+.3f}", f"{r.odds_ratio:.2f}")
        out.print(coef)


MODEL = typer.Option("logistic", "--model", help=f"Model: {', '.join(MODELS)}")
SEED = typer.Option(0, "--seed", min=0, help="Random seed of the calibration split")


@risk_app.command("evaluate")
def evaluate(
    store: Path = typer.Option(
        ..., "--store", help="Analytics store (DuckDB) with 3 financial years"
    ),
    model: str = MODEL,
    out_dir: Path | None = typer.Option(
        None, "--out", help="Folder for evaluation.json, CSVs and calibration.png"
    ),
    seed: int = SEED,
) -> None:
    """Train on one year, test on the next: AUC, calibration, PPV/sensitivity, fairness."""
    from bettercare.analytics.risk.evaluate import evaluate_store
    from bettercare.analytics.risk.features import RiskDataError
    from bettercare.reporting.risk import write_evaluation

    _check_model(model)
    try:
        evaluation = evaluate_store(store, model, seed)
    except RiskDataError as exc:
        raise fail(str(exc)) from None
    print_evaluation(evaluation)
    if out_dir is not None:
        try:
            paths = write_evaluation(evaluation, out_dir)
        except OSError as exc:
            raise fail(f"cannot write --out {out_dir}: {exc.strerror or exc}") from None
        out.print(f"wrote {len(paths)} files to {out_dir}", highlight=False)


def _count(x: object) -> str:
    value = _float(x)
    return "*" if value is None else f"{int(value):,}"


@risk_app.command("stratify")
def stratify(
    store: Path = typer.Option(
        ..., "--store", help="Analytics store (DuckDB) with 2 financial years"
    ),
    model: str = MODEL,
    out_dir: Path | None = typer.Option(
        None, "--out", help="Folder for by_practice.csv, by_hwb.csv and stratify.json"
    ),
    direct_care: bool = typer.Option(
        False,
        "--direct-care",
        help="Also write direct_care_list.csv: person pseudonyms, practice, tier, cohorts, "
        "probability (for direct care only; needs --out)",
    ),
    index_date: str | None = typer.Option(
        None,
        "--index-date",
        help="Score people alive on this date (YYYY-MM-DD; default: "
        "the day after the store's last full financial year)",
    ),
    seed: int = SEED,
) -> None:
    """Cohorts (60+, 18-59 with 3+ LTCs, dementia) and risk tiers by GP practice and HWB."""
    from bettercare.analytics.risk.cohorts import counts_by, score
    from bettercare.analytics.risk.features import RiskDataError
    from bettercare.reporting.risk import write_stratification

    _check_model(model)
    if direct_care and out_dir is None:
        raise fail("--direct-care writes a patient-level file: give --out")
    when = None if index_date is None else parse_date(index_date, "--index-date")
    try:
        scored = score(store, model, when, seed)
    except RiskDataError as exc:
        raise fail(str(exc)) from None
    out.print(
        f"scored {scored.table.num_rows:,} adults alive on {scored.index_date} with "
        f"[bold]{model}[/bold] (trained on {scored.trained_on}); people who opted out are "
        "not in the store. Counts 1-7 suppressed (*), others rounded to 5.",
        highlight=False,
    )
    for keys, title in ((("hwb_code",), "By HWB"), (("hwb_code", "gp_practice"), "By GP practice")):
        frame = counts_by(scored.table, keys)
        table = Table(title=title)
        for col in frame.columns:
            table.add_column(col, justify="left" if col in keys else "right")
        for row in frame.itertuples(index=False):
            table.add_row(
                *[
                    str(v) if c in keys else _count(v)
                    for c, v in zip(frame.columns, row, strict=True)
                ]
            )
        out.print(table)
    if out_dir is not None:
        try:
            paths = write_stratification(scored, out_dir, direct_care)
        except OSError as exc:
            raise fail(f"cannot write --out {out_dir}: {exc.strerror or exc}") from None
        out.print(f"wrote {', '.join(p.name for p in paths)} to {out_dir}", highlight=False)
        if direct_care:
            out.print(
                "direct_care_list.csv holds patient-level pseudonyms: for direct care only",
                highlight=False,
            )


def register(app: typer.Typer) -> None:
    """Add the ``risk`` command group to the CLI."""
    app.add_typer(risk_app, name="risk")
