"""Local cohorts and risk tiers of the scored population.

Owns who is in which cohort and tier, the population scoring the web app and the care
coordination register call (:func:`score_population`), and the aggregate counts by GP
practice and HWB with small-number suppression (:func:`counts_by`). It does not own the
model (:mod:`.model`) or what is printed or written (``cli/risk.py``).

Cohorts (seed 000, Leicester's Better Care Fund plan 2014: "those aged 60 and over",
"those who are 18-59 with three or more health conditions", "those with dementia"):

* ``cohort_60_plus``: aged 60+ on the index date;
* ``cohort_18_59_ltc3``: aged 18-59 with 3 or more long-term conditions (the store's
  ``ltc_count``; Leicester's own list of conditions "that should be treated out of
  hospital" is not in the store);
* ``cohort_dementia``: on the dementia register before the index date.

Risk tiers: the adults with the highest predicted risk, ``round(share x N)`` of the ``N``
scored adults of the store (all HWBs together) for each share of :data:`TIER_SHARES`,
nested (the top 0.5% are also in the top 2% and 5%). ``tier`` names the narrowest tier
a person is in ("top 0.5%", "top 2%", "top 5%") or is empty. Seeds 000 and 004 target
2% (Leicester: about 7,200 people, 2% of 360,000 residents, with the ACG tool).

Opt-outs: people on the national data opt-out list were excluded at ingest and are not in
the store, so they are neither scored nor counted in any aggregate.

Aggregate counts follow the HES small-number rule (NHS Digital, HES Analysis Guide): a
count of 1 to 7 is suppressed (shown empty, ``*`` in printed tables) and every other
count is rounded to the nearest 5, so suppressed cells cannot be recovered from
totals. 0 stays 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from bettercare.analytics.risk import MODELS
from bettercare.analytics.risk.evaluate import rank_order, top_count
from bettercare.analytics.risk.features import (
    RiskDataError,
    coverage,
    features_from,
    risk_store,
    years_after,
    years_before,
)
from bettercare.analytics.risk.model import fit

#: Tier shares, narrowest first, and their labels.
TIER_SHARES: tuple[float, ...] = (0.005, 0.02, 0.05)
TIER_LABELS: tuple[str, ...] = ("top 0.5%", "top 2%", "top 5%")
#: Cohort flag columns.
COHORTS: tuple[str, ...] = ("cohort_60_plus", "cohort_18_59_ltc3", "cohort_dementia")
#: Counts from 1 to this are suppressed in aggregates.
SUPPRESS_MAX = 7
ROUND_TO = 5

#: Columns of :func:`score_population`'s table, in order.
SCORED_COLUMNS: tuple[str, ...] = (
    "person_id",
    "gp_practice",
    "hwb_code",
    "age_band",
    *COHORTS,
    "probability",
    "tier",
)


def cohort_flags(features: pd.DataFrame) -> pd.DataFrame:
    """The :data:`COHORTS` flags of each feature row (``age``, ``ltc_count``, ``dementia``)."""
    age = features["age"].to_numpy()
    return pd.DataFrame(
        {
            "cohort_60_plus": age >= 60,
            "cohort_18_59_ltc3": (age >= 18)
            & (age <= 59)
            & (features["ltc_count"].to_numpy() >= 3),
            "cohort_dementia": features["dementia"].to_numpy(bool),
        },
        index=features.index,
    )


def assign_tiers(p: np.ndarray) -> np.ndarray:
    """The narrowest :data:`TIER_LABELS` tier of each probability, or ``None``."""
    tiers = np.full(len(p), None, dtype=object)
    order = rank_order(p)
    for share, label in reversed(list(zip(TIER_SHARES, TIER_LABELS, strict=True))):
        tiers[order[: top_count(len(p), share)]] = label
    return tiers


@dataclass(frozen=True)
class Scored:
    """A scored population and how it was scored."""

    table: pa.Table  # :data:`SCORED_COLUMNS`
    index_date: date
    trained_on: date  # index date of the training people (outcome in the following year)
    model: str


def score(
    store: str | Path | duckdb.DuckDBPyConnection,
    model: str = "logistic",
    index_date: date | None = None,
    seed: int = 0,
) -> Scored:
    """:func:`score_population` with the dates it used."""
    if model not in MODELS:
        raise RiskDataError(f"unknown model '{model}' (known: {', '.join(MODELS)})")
    with risk_store(store) as con:
        cover = coverage(con)
        if cover.years < 2:
            raise RiskDataError(
                f"store spells cover {cover.years} financial year(s) "
                f"({cover.start}..{cover.end}); scoring needs 2 (a year of history and a "
                "training year)"
            )
        trained_on = years_before(cover.end)
        when = index_date or cover.end
        if not (cover.start <= years_before(when) and when <= cover.end):
            raise RiskDataError(
                f"index date {when} is outside the store's data: it needs 12 months of "
                f"spells before it, so it must lie between {years_after(cover.start)} and "
                f"{cover.end}"
            )
        train = features_from(con, trained_on, outcome=True)
        people = features_from(con, when, outcome=False)
    fitted = fit(train, model, seed)
    if people.empty:
        raise RiskDataError(f"no adults alive on {when} in the store to score")
    p = fitted.predict(people)
    flags = cohort_flags(people)
    frame = pd.DataFrame(
        {
            "person_id": people["person_id"].astype(str),
            "gp_practice": people["gp_practice"].astype(str),
            "hwb_code": people["hwb_code"].astype(str),
            "age_band": people["age_band"].astype(str),
            **{c: flags[c].to_numpy(bool) for c in COHORTS},
            "probability": p.astype(np.float64),
            "tier": assign_tiers(p),
        }
    )
    return Scored(pa.Table.from_pandas(frame, preserve_index=False), when, trained_on, model)


def score_population(
    store_path: str | Path,
    model: str = "logistic",
    index_date: date | None = None,
    seed: int = 0,
) -> pa.Table:
    """Every adult of the store alive on ``index_date``, scored, with cohorts and tier.

    The model is trained on the store's latest full year (features at its start, outcome
    in it) and applied to everyone alive on ``index_date`` (default: the day after the
    store's last full financial year, i.e. "now"). Columns: :data:`SCORED_COLUMNS`
    (person pseudonym, GP practice, HWB, age band, the three cohort flags, calibrated
    probability of an emergency admission in the next 12 months, tier label or null).
    An earlier ``index_date`` (a look back) is scored with the same latest-year model,
    whose training outcomes may then overlap the period scored.
    Patient-level: for direct care only. Raises :class:`RiskDataError` for a missing or
    foreign store, an unknown model, or too little data.
    """
    return score(store_path, model, index_date, seed).table


def suppress(count: int) -> int | None:
    """A count for an aggregate output: 0, ``None`` for 1-7, else rounded to 5."""
    if count == 0:
        return 0
    if count <= SUPPRESS_MAX:
        return None
    return int(ROUND_TO * math.floor(count / ROUND_TO + 0.5))


def counts_by(scored: pa.Table, keys: tuple[str, ...], safe: bool = True) -> pd.DataFrame:
    """Adults, cohort members and tier members per ``keys`` (e.g. HWB, GP practice).

    Tier counts are cumulative (``top_2pct`` includes the top 0.5%). With ``safe`` every
    count goes through :func:`suppress`.
    """
    frame = scored.select([*keys, *COHORTS, "tier"]).to_pandas()
    tiers = frame["tier"]
    cols = {
        "adults": np.ones(len(frame), dtype=np.int64),
        **{c: frame[c].to_numpy(np.int64) for c in COHORTS},
        "top_0_5pct": tiers.isin(TIER_LABELS[:1]).to_numpy(np.int64),
        "top_2pct": tiers.isin(TIER_LABELS[:2]).to_numpy(np.int64),
        "top_5pct": tiers.isin(TIER_LABELS).to_numpy(np.int64),
    }
    counts = pd.DataFrame({**{k: frame[k] for k in keys}, **cols})
    out = counts.groupby(list(keys), sort=True).sum().reset_index()
    if safe:
        for c in cols:
            out[c] = pd.array([suppress(int(v)) for v in out[c]], dtype="Int64")
    return out
