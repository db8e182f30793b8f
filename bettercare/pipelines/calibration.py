"""How close the BCF metrics measured on a synthetic store come to the rates it was made from.

The synthetic generator (:mod:`bettercare.data.synth`) is parameterised by the seed plans'
figures (e.g. seed 002, Leicestershire 2016/17: 714.78 non-elective admissions per 100,000
per month, 630.2 permanent admissions 65+ per 100,000). After ingestion (opt-outs
excluded, social care linked) the metrics engine should measure those figures back, up to
sampling noise. :func:`calibration_table` lines the annual metric rows up against the
parameters and gives each a z-score, so a drift (e.g. a later year sinking below the rate)
shows as |z| well above 3 rather than as a judgement call. The synthetic run itself is
:func:`bettercare.pipelines.synthetic.run_synthetic`'s; this module owns only the comparison.

Sampling noise (the ``se`` column):

* counts (admissions, falls): Poisson, ``sqrt(expected)``;
* delayed transfer days: a compound Poisson of geometric delay lengths with mean ``m``
  days, variance ``expected x (2m - 1)``;
* proportions (reablement, experience): binomial, ``sqrt(p(1 - p) / n)``.

The dementia diagnosis rate is listed without a z-score: its denominator is the CFAS II
*estimate* of prevalence, not the generator's own prevalence, so the measured rate is the
configured diagnosis rate only where the two prevalences agree.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from bettercare.analytics.metrics.base import ALL
from bettercare.data.synth.params import SynthParams

COLUMNS = ("metric", "period", "target", "measured", "difference_pct", "z", "numerator")


@dataclass(frozen=True)
class _Target:
    value: Callable[[SynthParams], float]  # per 100,000 per year, or percent
    kind: str  # "count" | "days" | "proportion" | "estimate"


TARGETS: dict[str, _Target] = {
    "non_elective_admissions": _Target(
        lambda p: p.event_rates.non_elective_per_100k_per_month * 12, "count"
    ),
    "delayed_transfers_of_care": _Target(
        lambda p: p.event_rates.dtoc_days_per_100k_18_per_month * 12, "days"
    ),
    "permanent_admissions_care_homes_65": _Target(
        lambda p: p.event_rates.permanent_admissions_65_per_100k_per_year, "count"
    ),
    "falls_65": _Target(lambda p: p.event_rates.falls_65_per_100k_per_month * 12, "count"),
    "reablement_91_days": _Target(
        lambda p: p.event_rates.reablement_at_home_91_days * 100, "proportion"
    ),
    "patient_experience": _Target(
        lambda p: p.event_rates.survey_positive_share * 100, "proportion"
    ),
    "dementia_diagnosis_rate": _Target(
        lambda p: p.demography.dementia_diagnosis_rate * 100, "estimate"
    ),
}


def _z(
    kind: str, target: float, numerator: float, denominator: float, value: float, p: SynthParams
) -> float:
    """The z-score of a measured row (the metric output columns) against ``target``."""
    if kind == "estimate" or denominator <= 0:
        return math.nan
    if kind == "proportion":
        share = target / 100
        se = math.sqrt(share * (1 - share) / denominator) * 100
        return (value - target) / se if se > 0 else math.nan
    expected = target * denominator / 1e5
    spread = 2 * p.event_rates.dtoc_mean_days_per_delay - 1 if kind == "days" else 1.0
    se = math.sqrt(expected * spread)
    return (numerator - expected) / se if se > 0 else math.nan


def calibration_table(annual: pd.DataFrame, params: SynthParams) -> pd.DataFrame:
    """One row per metric and financial year: target, measured, % difference, z-score.

    ``annual`` is :func:`bettercare.analytics.engine.compute_metrics` output at the
    ``year`` grain for the generator's HWB; only the headline (``all``) rows are used.
    """
    head = annual[(annual.breakdown == ALL) & annual.metric.isin(list(TARGETS))]
    cols = ["metric", "period", "numerator", "denominator", "value"]
    rows = []
    for metric, period, num, den, val in head[cols].itertuples(index=False, name=None):
        spec = TARGETS[str(metric)]
        target = spec.value(params)
        numerator, denominator, value = float(num), float(den), float(val)
        rows.append(
            {
                "metric": metric,
                "period": period,
                "target": target,
                "measured": value,
                "difference_pct": (value - target) / target * 100 if target else math.nan,
                "z": _z(spec.kind, target, numerator, denominator, value, params),
                "numerator": numerator,
            }
        )
    return pd.DataFrame(rows, columns=list(COLUMNS)).sort_values(
        ["metric", "period"], ignore_index=True
    )
