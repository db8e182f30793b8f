"""The evaluation's inputs read from the analytics store: monthly panels and cohorts.

Owns the SQL that turns the store's person-level tables into (a) one row per unit
(GP practice or HWB) and calendar month: events and residents, and (b) one row per adult
at an enrolment date: the risk model's features (:mod:`bettercare.analytics.risk.features`,
the one definition of prior use), the risk model's score
(:mod:`bettercare.analytics.risk.model`) and the emergency admissions in the 12 months
after.

Metrics (per 1,000 residents per month): :data:`METRICS`. Residents in a month: people
in ``residents`` born before the month and alive on its first day. Months: the whole
financial years the store's hospital spells cover
(:func:`~bettercare.analytics.risk.features.coverage`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import numpy as np
import pandas as pd

from bettercare.analytics.engine import store_tables
from bettercare.analytics.evaluation.results import EvaluationDataError
from bettercare.analytics.risk.features import (
    EMERGENCY_SQL,
    RiskDataError,
    coverage,
    features_from,
    years_after,
    years_before,
)
from bettercare.analytics.risk.model import fit


@dataclass(frozen=True)
class MetricSource:
    """Where a metric's events come from: a table, its date column and a filter."""

    label: str
    table: str
    date_column: str
    where: str


#: Metrics an evaluation can be run on; each a rate per 1,000 residents per month.
METRICS: dict[str, MetricSource] = {
    "emergency_admissions": MetricSource(
        "emergency admissions", "hospital_spells", "admission_date", EMERGENCY_SQL
    ),
    "ae_attendances": MetricSource("A&E attendances", "ae_attendances", "arrival_date", "TRUE"),
}

#: The unit columns of ``residents`` an evaluation can compare.
LEVELS: dict[str, str] = {"practice": "gp_practice", "hwb": "hwb_code"}

#: Covariates of the matched cohort (from the risk features; sex as 1 = female).
COHORT_COVARIATES: tuple[str, ...] = (
    "age",
    "female",
    "imd_decile",
    "ltc_count",
    "dementia",
    "prior_emergency_admissions",
    "prior_bed_days",
    "prior_falls_admissions",
    "social_care",
)
#: Counts of prior use entered as log(1 + x) in the matched cohort's outcome model.
COUNT_COVARIATES: tuple[str, ...] = (
    "prior_emergency_admissions",
    "prior_bed_days",
    "prior_falls_admissions",
)


def units_of(metric: str) -> str:
    """The units of a metric's values."""
    return f"{METRICS[metric].label} per 1,000 residents per month"


def check_store(con: duckdb.DuckDBPyConnection, metric: str) -> None:
    """Raise :class:`EvaluationDataError` when the store lacks the metric's tables."""
    if metric not in METRICS:
        raise EvaluationDataError(f"unknown metric '{metric}' (known: {', '.join(METRICS)})")
    need = {"residents", "hospital_spells", METRICS[metric].table}
    missing = sorted(need - store_tables(con))
    if missing:
        raise EvaluationDataError(f"store has no table(s) {', '.join(missing)}")


def monthly_panel(con: duckdb.DuckDBPyConnection, metric: str, level: str) -> pd.DataFrame:
    """One row per unit and month: ``unit, month, events, residents, value`` (per 1,000).

    Months are the whole financial years of the store's hospital spells.
    """
    check_store(con, metric)
    if level not in LEVELS:
        raise EvaluationDataError(f"unknown level '{level}' (known: {', '.join(LEVELS)})")
    try:
        cov = coverage(con)
    except ValueError as exc:
        raise EvaluationDataError(str(exc)) from None
    src, unit = METRICS[metric], LEVELS[level]
    sql = f"""
    WITH months AS (
        SELECT CAST(range AS DATE) AS month
        FROM range(CAST($lo AS DATE), CAST($hi AS DATE), INTERVAL 1 MONTH)
    ),
    pop AS (
        SELECT r.{unit} AS unit, m.month, count(*) AS residents
        FROM residents r JOIN months m
          ON r.birth_month < m.month AND (r.date_of_death IS NULL OR r.date_of_death >= m.month)
        WHERE r.{unit} IS NOT NULL
        GROUP BY ALL
    ),
    ev AS (
        SELECT r.{unit} AS unit,
               CAST(date_trunc('month', e.{src.date_column}) AS DATE) AS month,
               count(*) AS events
        FROM {src.table} e JOIN residents r USING (person_id)
        WHERE {src.where} AND e.{src.date_column} >= $lo AND e.{src.date_column} < $hi
        GROUP BY ALL
    )
    SELECT pop.unit, pop.month, coalesce(ev.events, 0) AS events, pop.residents
    FROM pop LEFT JOIN ev USING (unit, month)
    ORDER BY pop.unit, pop.month
    """
    frame = con.execute(sql, {"lo": cov.start, "hi": cov.end}).fetchdf()
    frame["month"] = pd.to_datetime(frame["month"])
    frame["events"] = frame["events"].astype(float)
    frame["residents"] = frame["residents"].astype(float)
    frame["value"] = frame["events"] / frame["residents"] * 1000
    return frame


#: Name of the risk score covariate: the log odds of the risk model's probability.
RISK_SCORE = "risk_score"


@dataclass(frozen=True)
class Cohort:
    """The matched cohort's people and what could not be used.

    ``people``: one row per adult and index date (``index_date``): the features,
    ``enrolled``, ``admissions_12m`` and, when the store allows, :data:`RISK_SCORE`.
    ``missing``: enrolled pseudonyms not among the adults alive on their date.
    ``risk_note``: why there is no risk score ("" when there is one).
    """

    people: pd.DataFrame
    missing: int
    risk_note: str = ""


def _risk_scores(
    con: duckdb.DuckDBPyConnection, first: date, cov_start: date, frames: list[pd.DataFrame]
) -> str:
    """Add :data:`RISK_SCORE` to each frame in place; "" or why it cannot be.

    The risk model (:mod:`bettercare.analytics.risk.model`, the transparent logistic
    model) is trained on the year before the first index date (outcome in
    ``[first - 1 year, first)``, features from the year before that), so the score uses no
    information from after any enrolment.
    """
    trained_on = years_before(first)
    if years_before(trained_on) < cov_start:
        return (
            f"no risk score: the store's spells start {cov_start.isoformat()}, and the risk "
            f"model needs two years before {first.isoformat()} (a year of history and a "
            "training year)"
        )
    train = features_from(con, trained_on, outcome=True)
    try:
        model = fit(train, "logistic", seed=0)
    except RiskDataError as exc:
        return f"no risk score: {exc}"
    for frame in frames:
        prob = np.clip(model.predict(frame), 1e-6, 1 - 1e-6)
        frame[RISK_SCORE] = np.log(prob / (1 - prob))
    return ""


def cohort(
    con: duckdb.DuckDBPyConnection, enrolled: dict[str, date], *, risk_score: bool = True
) -> Cohort:
    """Adults at each enrolled person's index date, with features and 12-month outcome.

    ``enrolled``: pseudonym -> enrolment date (the index date). For each distinct date
    the table holds the people enrolled on it and every adult alive on it who is not yet
    enrolled (the candidate controls: never enrolled, or enrolled at a later date), with
    the risk model's features at that date and their emergency admissions in the 12
    months from it.

    Taking the not-yet-enrolled as controls is risk-set matching (Li, Propert & Rosenbaum,
    "Balanced risk set matching", JASA 96(455), 2001): a person enrolled later was, at the
    earlier date, a person like the others not enrolled then. Leaving them out would
    select controls on the future: the later batches are chosen for their recent
    admissions, i.e. admissions in the earlier dates' follow-up, so the control pool would
    lose exactly the people about to be admitted and the estimate would lean towards no
    effect. The price: a later-enrolled control's 12 months are not censored at their own
    enrolment, so any effect of enrolment after it is counted in their outcome; the
    estimate is then of enrolling now against not now (perhaps later), and with an effect
    it leans slightly towards none (measured in benchmarks/README.md). Raises
    :class:`EvaluationDataError` when the store does not cover the 12 months after the
    last date or the year before the first.
    """
    check_store(con, "emergency_admissions")
    if "social_care_services" not in store_tables(con):
        raise EvaluationDataError("store has no table social_care_services")
    if not enrolled:
        raise EvaluationDataError("no enrolled people")
    try:
        cov = coverage(con)
    except ValueError as exc:
        raise EvaluationDataError(str(exc)) from None
    dates = sorted(set(enrolled.values()))
    if years_after(dates[-1]) > cov.end:
        raise EvaluationDataError(
            f"the store's spells end {cov.end.isoformat()}: 12 months of follow-up after "
            f"{dates[-1].isoformat()} are not complete"
        )
    if dates[0] < years_after(cov.start):
        raise EvaluationDataError(
            f"the store's spells start {cov.start.isoformat()}: no full year of prior use "
            f"before {dates[0].isoformat()}"
        )
    by_date: dict[date, set[str]] = {}
    for person, when in enrolled.items():
        by_date.setdefault(when, set()).add(person)
    frames = []
    found = 0
    for when in dates:
        people = features_from(con, when, outcome=False)
        before = {p for p, d in enrolled.items() if d < when}  # out of the risk set
        people = people[~people["person_id"].isin(before)].reset_index(drop=True)
        after = con.execute(
            f"""SELECT person_id, count(*) AS n FROM hospital_spells
            WHERE {EMERGENCY_SQL} AND admission_date >= $d AND admission_date < $e
            GROUP BY person_id""",
            {"d": when, "e": years_after(when)},
        ).fetchdf()
        people = people.merge(after, on="person_id", how="left")
        people["admissions_12m"] = people["n"].fillna(0).astype(float)
        people["enrolled"] = people["person_id"].isin(by_date[when])
        people["index_date"] = pd.Timestamp(when)
        found += int(people["enrolled"].sum())
        frames.append(people.drop(columns=["n"]))
    note = _risk_scores(con, dates[0], cov.start, frames) if risk_score else "no risk score"
    table = pd.concat(frames, ignore_index=True)
    table["female"] = (table["sex"] == "F").astype(float)
    for col in ("dementia", "social_care"):
        table[col] = table[col].astype(float)
    return Cohort(table, len(enrolled) - found, note)


def practices_by_hwb(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Each GP practice of the store's residents and its HWB (the most common one)."""
    check_store(con, "emergency_admissions")
    rows = con.execute(
        """SELECT gp_practice, mode(hwb_code) FROM residents
        WHERE gp_practice IS NOT NULL AND hwb_code IS NOT NULL GROUP BY gp_practice"""
    ).fetchall()
    return {str(p): str(h) for p, h in rows}
