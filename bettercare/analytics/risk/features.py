"""Risk model features and outcome, one row per adult at an index date, from the store.

Owns what the risk model sees about a person and how the outcome is
defined; it does not own the model (:mod:`.model`), the evaluation (:mod:`.evaluate`) or
the cohorts (:mod:`.cohorts`).

Population at an index date ``d`` (a 1 April by default, the start of a financial year):
every person in ``residents`` aged 18+ on ``d`` and alive on ``d``. People who opted out
of secondary use are not in the store at all (the ingest drops them), so they are never
scored. Ages follow the metrics' convention: whole years from ``birth_month``, as if born
on the 1st (:mod:`bettercare.analytics.metrics.base`).

Features (the 12 months before ``d``: ``[d - 1 year, d)``):

* ``age_band`` (:data:`RISK_AGE_BANDS`), ``sex``, ``imd_decile`` (1 = most deprived),
  ``ltc_count`` (long-term conditions, as the GP feed gives them),
* ``dementia``: on the dementia register before ``d`` (a diagnosis without a recorded
  date counts as known before ``d``),
* ``prior_emergency_admissions``: emergency admissions admitted in the 12 months,
* ``prior_bed_days``: nights spent in those 12 months in emergency spells (a spell
  overlapping the window counts only its nights inside it; a spell not yet discharged
  counts up to ``d``),
* ``prior_falls_admissions``: emergency admissions with an injury due to a fall,
* ``social_care``: any linked adult social care service open at some time in the 12
  months (unlinked council records cannot be attributed and are left out).

Emergency admission: a hospital spell with ``admission_method = 'non_elective'``, the
definition of the BCF non-elective admissions metric
(:mod:`bettercare.analytics.metrics.non_elective_admissions`); a falls admission adds
``injury_due_to_fall`` as the falls metric does (:mod:`bettercare.analytics.metrics.falls_65`,
here at any adult age). The features are one SQL query, so :data:`EMERGENCY_SQL` writes
the metrics' shared definition (:data:`bettercare.analytics.metrics.base.EMERGENCY`) as
SQL; :data:`FALL_SQL` must change with the falls metric.

Outcome (with ``outcome=True``): ``admitted`` = at least one emergency admission in the 12
months from ``d`` (``[d, d + 1 year)``). People who die before the outcome window ends
are excluded from a labelled table (they cannot be followed for a full year); the store
has no deregistration dates, so people who moved away cannot be excluded and count as
not admitted. Excluding deaths removes some of the people at highest risk: the model
card says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from bettercare.analytics.engine import open_store, store_tables
from bettercare.analytics.metrics import MetricDataError
from bettercare.analytics.metrics.base import EMERGENCY
from bettercare.errors import BadInput

#: Age bands of the risk model and its fairness tables (adults only).
RISK_AGE_BANDS: tuple[str, ...] = (
    "18-29",
    "30-39",
    "40-49",
    "50-59",
    "60-64",
    "65-69",
    "70-74",
    "75-79",
    "80-84",
    "85-89",
    "90+",
)
_BAND_LOW = np.array([18, 30, 40, 50, 60, 65, 70, 75, 80, 85, 90])

#: The store tables the features read.
REQUIRED_TABLES: tuple[str, ...] = ("residents", "hospital_spells", "social_care_services")

#: Emergency admission, as :mod:`bettercare.analytics.metrics.non_elective_admissions`.
EMERGENCY_SQL = f"admission_method = '{EMERGENCY}'"
#: Falls admission (given an emergency admission), as :mod:`~bettercare.analytics.metrics.falls_65`.
FALL_SQL = "injury_due_to_fall"

#: Feature columns, in order, of :func:`build_features` output (besides identifiers).
FEATURE_COLUMNS: tuple[str, ...] = (
    "age",
    "age_band",
    "sex",
    "imd_decile",
    "ltc_count",
    "dementia",
    "prior_emergency_admissions",
    "prior_bed_days",
    "prior_falls_admissions",
    "social_care",
)
#: Identifier and grouping columns carried beside the features.
ID_COLUMNS: tuple[str, ...] = ("person_id", "gp_practice", "hwb_code")


class RiskDataError(BadInput):
    """The store cannot answer a risk question (missing, too short, too few people)."""


@dataclass(frozen=True)
class Coverage:
    """The financial years the store's hospital spells cover: ``[start, end)``.

    ``start`` is the first 1 April on or after the earliest admission; ``end`` the 1 April
    after the latest admission. Spells are assumed complete in between.
    """

    start: date
    end: date

    @property
    def years(self) -> int:
        """Whole financial years covered."""
        return self.end.year - self.start.year


def years_before(d: date, years: int = 1) -> date:
    """The same day ``years`` earlier (28 February for a 29 February)."""
    try:
        return d.replace(year=d.year - years)
    except ValueError:
        return d.replace(year=d.year - years, day=28)


def years_after(d: date, years: int = 1) -> date:
    """The same day ``years`` later (28 February for a 29 February)."""
    return years_before(d, -years)


def age_band_of(age: np.ndarray) -> np.ndarray:
    """The :data:`RISK_AGE_BANDS` label of each age (18+)."""
    idx = np.searchsorted(_BAND_LOW, np.asarray(age), side="right") - 1
    return np.asarray(RISK_AGE_BANDS, dtype=object)[np.clip(idx, 0, len(RISK_AGE_BANDS) - 1)]


def _check_tables(con: duckdb.DuckDBPyConnection, store: object) -> None:
    missing = [t for t in REQUIRED_TABLES if t not in store_tables(con)]
    if missing:
        raise RiskDataError(f"store {store} has no table(s) {', '.join(missing)}")


@contextmanager
def risk_store(
    store: str | Path | duckdb.DuckDBPyConnection,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The store opened read only with the risk tables checked; else :class:`RiskDataError`."""
    try:
        with open_store(store) as con:
            _check_tables(con, store)
            yield con
    except MetricDataError as exc:
        raise RiskDataError(str(exc)) from None


def coverage(con: duckdb.DuckDBPyConnection) -> Coverage:
    """The financial years the store's hospital spells cover."""
    first, last = con.execute(
        "SELECT min(admission_date), max(admission_date) FROM hospital_spells"
    ).fetchone() or (None, None)
    if first is None or last is None:
        raise RiskDataError("store has no hospital spells")
    start = date(first.year if first <= date(first.year, 4, 1) else first.year + 1, 4, 1)
    end = date(last.year if last < date(last.year, 4, 1) else last.year + 1, 4, 1)
    return Coverage(start, max(start, end))


_FEATURES_SQL = f"""
WITH adults AS (
    SELECT person_id, gp_practice, hwb_code, sex, imd_decile, ltc_count, date_of_death,
           year($idx) - year(birth_month)
               - CASE WHEN month($idx) < month(birth_month) THEN 1 ELSE 0 END AS age,
           coalesce(dementia_diagnosis, false)
               AND (dementia_diagnosis_date IS NULL OR dementia_diagnosis_date < $idx)
               AS dementia
    FROM residents
    WHERE birth_month < $idx AND (date_of_death IS NULL OR date_of_death >= $idx)
),
em AS (
    SELECT person_id, admission_date,
           coalesce(discharge_date, $idx) AS discharge_date,
           coalesce({FALL_SQL}, false) AS fall
    FROM hospital_spells
    WHERE {EMERGENCY_SQL}
),
prior AS (
    SELECT person_id,
           count(*) FILTER (WHERE admission_date >= $lo) AS prior_emergency_admissions,
           count(*) FILTER (WHERE admission_date >= $lo AND fall) AS prior_falls_admissions,
           sum(greatest(0, date_diff('day', greatest(admission_date, $lo),
                                     least(discharge_date, $idx)))) AS prior_bed_days
    FROM em
    WHERE admission_date < $idx AND discharge_date >= $lo
    GROUP BY person_id
),
care AS (
    SELECT DISTINCT person_id
    FROM social_care_services
    WHERE person_id IS NOT NULL AND start_date < $idx
      AND (end_date IS NULL OR end_date >= $lo)
),
outcome AS (
    SELECT DISTINCT person_id FROM em WHERE admission_date >= $idx AND admission_date < $hi
)
SELECT a.person_id, a.gp_practice, a.hwb_code, a.age, a.sex, a.imd_decile, a.ltc_count,
       a.dementia,
       coalesce(p.prior_emergency_admissions, 0) AS prior_emergency_admissions,
       coalesce(p.prior_bed_days, 0) AS prior_bed_days,
       coalesce(p.prior_falls_admissions, 0) AS prior_falls_admissions,
       c.person_id IS NOT NULL AS social_care,
       o.person_id IS NOT NULL AS admitted,
       a.date_of_death IS NOT NULL AND a.date_of_death < $hi AS dies_in_window
FROM adults a
LEFT JOIN prior p USING (person_id)
LEFT JOIN care c USING (person_id)
LEFT JOIN outcome o USING (person_id)
WHERE a.age >= 18
ORDER BY a.person_id
"""


def features_from(con: duckdb.DuckDBPyConnection, index_date: date, outcome: bool) -> pd.DataFrame:
    """:func:`build_features` on an open store connection."""
    params = {
        "idx": index_date,
        "lo": years_before(index_date),
        "hi": years_after(index_date),
    }
    frame = con.execute(_FEATURES_SQL, params).fetchdf()
    frame["age"] = frame["age"].astype(np.int64)
    frame["age_band"] = age_band_of(frame["age"].to_numpy())
    for col in ("imd_decile", "ltc_count", "prior_emergency_admissions", "prior_falls_admissions"):
        frame[col] = frame[col].astype(np.int64)
    frame["prior_bed_days"] = frame["prior_bed_days"].astype(np.int64)
    for col in ("dementia", "social_care", "admitted"):
        frame[col] = frame[col].astype(bool)
    if outcome:
        frame = frame[~frame["dies_in_window"].astype(bool)].reset_index(drop=True)
        cols = [*ID_COLUMNS, *FEATURE_COLUMNS, "admitted"]
    else:
        cols = [*ID_COLUMNS, *FEATURE_COLUMNS]
    return frame[cols]


def build_features(
    store: str | Path | duckdb.DuckDBPyConnection, index_date: date, outcome: bool = False
) -> pd.DataFrame:
    """One row per adult alive on ``index_date``: :data:`ID_COLUMNS` + :data:`FEATURE_COLUMNS`.

    With ``outcome`` the table also has ``admitted`` (any emergency admission in the 12
    months from ``index_date``) and leaves out people who die within those 12 months.
    Raises :class:`RiskDataError` for a missing or foreign store or a missing table.
    """
    with risk_store(store) as con:
        return features_from(con, index_date, outcome)
