"""Help setting a metric goal: trajectory, peer median and best quartile, in people.

Owns the goal options offered for each headline metric of a board (the user decides):

* **trajectory**: where the board's own series is heading. From its XmR chart
  (:func:`bettercare.analytics.spc.xmr`): with no special cause the process is stable
  and the projection is the latest segment's mean; with a run or trend signal it is the
  least-squares line over the series, one period on. Either way the process limits
  (mean +/- 2.66 x mean moving range) are given as the range to expect.
* **peer median** and **peer best quartile** (the upper quartile for a
  higher-is-better metric, the lower for lower-is-better): from
  :func:`bettercare.analytics.published.benchmark`.

Each option is also said in the units people plan with: admissions, placements, delayed
days, people (:data:`COUNTED`), for the board's own denominator (its population or
cohort): ``(goal - latest) x denominator / scale``, signed so that a negative number of
admissions is fewer admissions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bettercare.analytics.published import benchmark, grain_of, latest_period
from bettercare.analytics.spc import Variation, xmr
from bettercare.data.geography import HwbArea
from bettercare.domain.metrics import CATALOGUE, Unit
from bettercare.domain.periods import period_span

#: What one unit of each metric's numerator is, in words (plural).
COUNTED: dict[str, str] = {
    "non_elective_admissions": "non-elective admissions",
    "emergency_admissions_65": "emergency admissions of people 65+",
    "avoidable_admissions_acsc": "avoidable admissions",
    "avoidable_emergency_admissions": "avoidable emergency admissions",
    "permanent_admissions_care_homes_65": "care home placements (65+)",
    "long_term_admissions_care_homes_65": "care home placements (65+)",
    "falls_65": "falls admissions (65+)",
    "falls_65_dsr": "falls admissions (65+)",
    "delayed_transfers_of_care": "delayed days",
    "discharge_delay_days": "days of discharge delay",
    "reablement_91_days": "people at home 91 days after reablement",
    "discharge_usual_residence": "discharges to the usual place of residence",
    "dementia_diagnosis_rate": "people with a dementia diagnosis",
    "patient_experience": "positive answers",
}
#: The BCF 2025-26 headline metrics (domain/metrics.py), offered first.
HEADLINE = ("emergency_admissions_65", "discharge_delay_days", "long_term_admissions_care_homes_65")


@dataclass(frozen=True)
class GoalOption:
    """One possible goal for a metric and what it would mean for the board."""

    basis: str  # "trajectory", "peer median", "peer best quartile"
    value: float
    change: float  # goal - latest, in the metric's unit
    change_count: float | None  # in COUNTED units for the board's denominator
    note: str = ""


@dataclass(frozen=True)
class GoalAdvice:
    """The goal options for one metric of one board."""

    metric: str
    counted: str
    latest_period: str
    latest: float
    denominator: float | None
    options: tuple[GoalOption, ...]
    trajectory_range: tuple[float, float] | None  # XmR process limits


def _scale(metric: str) -> float:
    unit = CATALOGUE[metric].unit
    return {Unit.PER_100K: 100_000.0, Unit.PERCENT: 100.0}.get(unit, 1.0)


def _count(metric: str, change: float, denominator: float | None) -> float | None:
    if denominator is None or not np.isfinite(denominator):
        return None
    if CATALOGUE[metric].unit == Unit.COUNT:
        return change
    return change * denominator / _scale(metric)


def trajectory(series: Sequence[float], metric: str) -> tuple[float, tuple[float, float], str]:
    """(projected next value, process limits, how) from the board's own series."""
    chart = xmr(list(series), CATALOGUE[metric].direction, None)
    seg = chart.segment_of(len(series) - 1)
    special = [s for s in chart.signals if s not in (None, Variation.COMMON_CAUSE)]
    if special:
        x = np.arange(len(series), dtype=float)
        slope, intercept = np.polyfit(x, np.asarray(series, dtype=float), 1)
        projected = float(slope * len(series) + intercept)
        how = "special-cause variation: the least-squares line, one period on"
    else:
        projected = float(seg.mean)
        how = "common-cause variation: the process mean"
    return projected, (float(seg.lcl), float(seg.ucl)), how


def goal_advice(
    figures: pd.DataFrame,
    hwb_code: str,
    peers: Sequence[str],
    areas: Mapping[str, HwbArea],
    metrics: Iterable[str] | None = None,
    grain: str = "year",
) -> list[GoalAdvice]:
    """Goal options for each metric (default: every metric held, headline ones first)."""
    rows = figures[
        (figures.area_code == hwb_code)
        & (figures.area_type == "hwb")
        & ~figures.suppressed.astype(bool)
    ]
    held = [m for m in sorted(set(rows.metric)) if m in CATALOGUE]
    wanted = list(metrics) if metrics is not None else held
    wanted = sorted((m for m in wanted if m in held), key=lambda m: (m not in HEADLINE, m))
    out = []
    for metric in wanted:
        period = latest_period(figures, metric, grain)
        if period is None:
            continue
        mine = rows[(rows.metric == metric) & (rows.period.map(grain_of) == grain)]
        mine = mine.assign(_start=[period_span(str(p)).start for p in mine.period])
        mine = mine.sort_values("_start")
        values = [
            float(v) if pd.notna(v) else float(n) / float(d) * _scale(metric)
            for v, n, d in zip(mine.value, mine.numerator, mine.denominator, strict=True)
        ]
        if not values or mine.period.iloc[-1] != period:
            continue
        latest = values[-1]
        den = mine.denominator.iloc[-1]
        denominator = float(den) if pd.notna(den) else None
        options: list[GoalOption] = []
        limits = None
        if len(values) >= 2:
            projected, limits, how = trajectory(values, metric)
            change = projected - latest
            options.append(
                GoalOption(
                    "trajectory", projected, change, _count(metric, change, denominator), how
                )
            )
        b = benchmark(figures, metric, period, hwb_code, peers, areas)
        for basis, goal in (
            ("peer median", b.peer_median),
            ("peer best quartile", b.peer_best_quartile),
        ):
            if goal is not None:
                change = goal - latest
                options.append(
                    GoalOption(
                        basis,
                        goal,
                        change,
                        _count(metric, change, denominator),
                        f"{b.peers} peers, {period}",
                    )
                )
        out.append(
            GoalAdvice(
                metric,
                COUNTED.get(metric, "events"),
                period,
                latest,
                denominator,
                tuple(options),
                limits,
            )
        )
    return out
