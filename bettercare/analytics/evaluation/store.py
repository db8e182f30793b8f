"""The evaluation's inputs read from the analytics store: monthly panels and cohorts.

Owns the SQL that turns the store's person-level tables into (a) one row per unit
(GP practice or HWB) and calendar month: events and residents, and (b) one row per adult
at an enrolment date: the risk model's features (:mod:`bettercare.analytics.risk.features`,
the one definition of prior use) and the emergency admissions in the 12 months after.

Metrics (per 1,000 residents per month): :data:`METRICS`. Residents in a month: people
in ``residents`` born before the month and alive on its first day. Months: the whole
financial years the store's hospital spells cover
(:func:`~bettercare.analytics.risk.features.coverage`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from bettercare.analytics.engine import store_tables
from bettercare.analytics.evaluation.results import EvaluationDataError
from bettercare.analytics.risk.features import (
    EMERGENCY_SQL,
    coverage,
    features_from,
    years_after,
)


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


def cohort(
    con: duckdb.DuckDBPyConnection, enrolled: set[str], enrolment: date
) -> tuple[pd.DataFrame, int]:
    """Adults alive on ``enrolment`` with features, ``enrolled`` and ``admissions_12m``.

    Returns the table and the number of ``enrolled`` pseudonyms not found among them.
    Raises :class:`EvaluationDataError` when the store does not cover the 12 months
    after ``enrolment`` or the year before it.
    """
    check_store(con, "emergency_admissions")
    if "social_care_services" not in store_tables(con):
        raise EvaluationDataError("store has no table social_care_services")
    try:
        cov = coverage(con)
    except ValueError as exc:
        raise EvaluationDataError(str(exc)) from None
    end = years_after(enrolment)
    if end > cov.end:
        raise EvaluationDataError(
            f"the store's spells end {cov.end.isoformat()}: 12 months of follow-up after "
            f"{enrolment.isoformat()} are not complete"
        )
    if enrolment < years_after(cov.start):
        raise EvaluationDataError(
            f"the store's spells start {cov.start.isoformat()}: no full year of prior use "
            f"before {enrolment.isoformat()}"
        )
    people = features_from(con, enrolment, outcome=False)
    after = con.execute(
        f"""SELECT person_id, count(*) AS n FROM hospital_spells
        WHERE {EMERGENCY_SQL} AND admission_date >= $d AND admission_date < $e
        GROUP BY person_id""",
        {"d": enrolment, "e": end},
    ).fetchdf()
    people = people.merge(after, on="person_id", how="left")
    people["admissions_12m"] = people["n"].fillna(0).astype(float)
    people["female"] = (people["sex"] == "F").astype(float)
    for col in ("dementia", "social_care"):
        people[col] = people[col].astype(float)
    people["enrolled"] = people["person_id"].isin(enrolled)
    missing = len(enrolled) - int(people["enrolled"].sum())
    return people.drop(columns=["n"]), missing


def practices_by_hwb(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Each GP practice of the store's residents and its HWB (the most common one)."""
    check_store(con, "emergency_admissions")
    rows = con.execute(
        """SELECT gp_practice, mode(hwb_code) FROM residents
        WHERE gp_practice IS NOT NULL AND hwb_code IS NOT NULL GROUP BY gp_practice"""
    ).fetchall()
    return {str(p): str(h) for p, h in rows}
