"""A synthetic national publication: BCF metrics for every HWB of England (no real data).

Writes the bettercare figures CSV (``docs/figures.md``) for the 153 HWBs of
:func:`bettercare.data.geography.hwb_england` and England, so the demo and the tests can
show published figures, peers, funnel plots, goals and the ICB view without real data.
Seeded: the same arguments give the same file.

The model (invented, not calibrated to any publication): each HWB has a "need" effect
(log-normal, SD 0.12) shared by its admission-type metrics, a region effect (SD 0.05)
and a metric-specific effect (SD 0.06), fixed over time; a small yearly trend; counts
are Poisson draws around the expected count and percentages binomial draws, so the
areas are overdispersed relative to pure sampling variation, as real ones are. Base
rates (:data:`BASE`) are round illustrative numbers. Populations are the packaged ones
(all ages; 65+ estimated; 18+ taken as 79% of all ages: illustrative). A count under 5
or a cohort under 10 is published as ``c`` (suppressed), as disclosure control would.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bettercare.data.geography import HwbArea, hwb_england
from bettercare.domain.periods import fy_start_year

ENGLAND = ("E92000001", "England")
ADULT_SHARE = 0.79  # illustrative share aged 18+, used only by this generator


@dataclass(frozen=True)
class SynthMetric:
    """How one metric is generated: its base level, population base and kind."""

    metric: str
    base: float  # per 100,000 per year (rates) or percent (proportions) or mean (rate)
    population: str  # "all", "65", "18", or a cohort share of the 65+ population
    kind: str  # "rate" (per 100k), "percent", "mean"
    cohort_share: float = 0.0  # percent metrics: cohort size as a share of the population
    trend: float = 0.0  # relative change per year
    need_weight: float = 1.0  # how strongly the area's need effect moves it (sign: direction)


BASE: tuple[SynthMetric, ...] = (
    SynthMetric("non_elective_admissions", 9_000, "all", "rate", trend=-0.005),
    SynthMetric("emergency_admissions_65", 24_000, "65", "rate", trend=-0.01),
    SynthMetric("avoidable_admissions_acsc", 800, "all", "rate", trend=-0.01),
    SynthMetric("permanent_admissions_care_homes_65", 600, "65", "rate", trend=-0.02),
    SynthMetric("long_term_admissions_care_homes_65", 560, "65", "rate", trend=-0.02),
    SynthMetric("falls_65_dsr", 2_100, "65", "rate", trend=-0.01),
    SynthMetric("falls_65", 2_100, "65", "rate", trend=-0.01),
    SynthMetric("delayed_transfers_of_care", 4_000, "18", "rate", trend=0.02),
    SynthMetric("reablement_91_days", 82, "65", "percent", cohort_share=0.004, need_weight=-0.3),
    SynthMetric(
        "discharge_usual_residence", 93, "all", "percent", cohort_share=0.1, need_weight=-0.1
    ),
    SynthMetric(
        "dementia_diagnosis_rate", 64, "65", "percent", cohort_share=0.071, need_weight=-0.2
    ),
    SynthMetric("discharge_delay_days", 1.3, "all", "mean", cohort_share=0.06, trend=-0.03),
)
HEADLINE = (
    "emergency_admissions_65",
    "long_term_admissions_care_homes_65",
    "discharge_delay_days",
    "falls_65_dsr",
    "reablement_91_days",
    "discharge_usual_residence",
)
#: Winter months carry more admissions (illustrative seasonality, Apr..Mar).
SEASON = (0.95, 0.95, 0.93, 0.95, 0.95, 0.98, 1.02, 1.05, 1.12, 1.12, 1.0, 0.98)


def _population(area: HwbArea, base: str) -> float:
    if base == "65":
        return float(area.population_65_plus)
    if base == "18":
        return area.population * ADULT_SHARE
    return float(area.population)


def _months(fy: str) -> list[str]:
    y = fy_start_year(fy)
    return [f"{y + (m > 12)}-{(m - 1) % 12 + 1:02d}" for m in range(4, 16)]


def synthetic_publication(
    years: Sequence[str],
    *,
    seed: int = 42,
    metrics: Sequence[str] | None = None,
    monthly_years: Sequence[str] = (),
    areas: Sequence[HwbArea] | None = None,
) -> pd.DataFrame:
    """The publication as a frame in the bettercare figures CSV layout.

    ``years``: financial years (``2023/24``) published annually; ``monthly_years``: years
    also published by month (for plans judged monthly). ``metrics``: default all of
    :data:`BASE`.
    """
    rng = np.random.default_rng(seed)
    areas = list(areas if areas is not None else hwb_england())
    specs = [m for m in BASE if metrics is None or m.metric in metrics]
    regions = sorted({a.nhs_region for a in areas})
    region_fx = dict(zip(regions, rng.normal(0, 0.05, len(regions)), strict=True))
    need = rng.normal(0, 0.12, len(areas))
    rows: list[dict[str, object]] = []
    first = min(fy_start_year(y) for y in years) if years else 0
    for spec in specs:
        own = rng.normal(0, 0.06, len(areas))
        for fy in sorted(set(years) | set(monthly_years)):
            t = fy_start_year(fy) - first
            periods: list[tuple[str, float]] = []
            if fy in years:
                periods.append((fy, 1.0))
            if fy in monthly_years:
                periods += [(m, s / 12) for m, s in zip(_months(fy), SEASON, strict=True)]
            eng_num = eng_den = 0.0
            for i, area in enumerate(areas):
                effect = spec.need_weight * need[i] + region_fx[area.nhs_region] + own[i]
                level = math.exp(effect) * (1 + spec.trend) ** t
                pop = _population(area, spec.population)
                for period, share in periods:
                    num, den, row = _draw(rng, spec, pop, level, share)
                    if period == fy:
                        eng_num += num
                        eng_den += den
                    rows.append(
                        {
                            "metric": spec.metric,
                            "area_code": area.hwb_code,
                            "area_name": area.hwb_name,
                            "period": period,
                            **row,
                        }
                    )
            if fy in years and eng_den:
                rows.append(
                    {
                        "metric": spec.metric,
                        "area_code": ENGLAND[0],
                        "area_name": ENGLAND[1],
                        "period": fy,
                        "numerator": f"{eng_num:.0f}",
                        "denominator": f"{eng_den:.0f}",
                        "value": f"{_value(spec, eng_num, eng_den):.2f}",
                    }
                )
    columns = ["metric", "area_code", "area_name", "period", "numerator", "denominator", "value"]
    return pd.DataFrame(rows, columns=columns)


def _value(spec: SynthMetric, num: float, den: float) -> float:
    if spec.kind == "rate":
        return num / den * 100_000
    if spec.kind == "percent":
        return num / den * 100
    return num / den


def _draw(
    rng: np.random.Generator, spec: SynthMetric, pop: float, level: float, share: float
) -> tuple[int, int, dict[str, str]]:
    """(true numerator, true denominator, the published cells)."""
    if spec.kind == "rate":
        den = round(pop)
        num = int(rng.poisson(spec.base / 100_000 * level * pop * share))
    elif spec.kind == "percent":
        den = round(pop * spec.cohort_share * share)
        # the area's effect moves the log-odds: percentages stay inside 0..100
        logit = math.log(spec.base / (100 - spec.base)) + math.log(level)
        p = 1 / (1 + math.exp(-logit))
        num = int(rng.binomial(den, p)) if den > 0 else 0
    else:  # mean days per discharge
        den = round(pop * spec.cohort_share * share)
        num = int(rng.poisson(spec.base * level * den))
    if num < 5 or den < 10:
        return num, den, {"numerator": "c", "denominator": str(den), "value": "c"}
    cells = {
        "numerator": str(num),
        "denominator": str(den),
        "value": f"{_value(spec, num, den):.2f}",
    }
    return num, den, cells


def write_publication(path: Path, frame: pd.DataFrame) -> Path:
    """Write the publication CSV whole (a temp file moved into place)."""
    from bettercare.data.atomic import staged_file

    with staged_file(path, ".csv") as staged:
        frame.to_csv(staged, index=False)
    return path
