"""Peers and benchmarks: funnel limits, overdispersion, England/region/peer values, rank.

Owns the statistics of comparing one board with others on a published or measured
metric. It does not read files (peer lists: :mod:`bettercare.data.figures.peer_groups`;
figures: :mod:`bettercare.data.figures`) nor draw (``reporting/charts.py``: ``funnel_svg``).

**Funnel plots** (Spiegelhalter DJ, "Funnel plots for comparing institutional
performance", *Statistics in Medicine* 2005;24:1185-1202): for a target ``theta0`` and a
unit of size ``n`` (the denominator), the limits at two-sided level ``1 - 2p`` are

* proportions, normal approximation: ``theta0 +/- z * sqrt(theta0 * (1 - theta0) / n)``;
* rates (events per person, shown per 100,000), normal approximation to the Poisson:
  ``theta0 +/- z * sqrt(theta0 / n)``;
* exact variants (Spiegelhalter's appendix): the ``p``-quantile ``r_p`` of Binomial(n,
  theta0) or Poisson(n * theta0), interpolated as ``(r_p - alpha) / n`` with
  ``alpha = (F(r_p) - p) / (F(r_p) - F(r_p - 1))`` so the limits are smooth in ``n``.
  This is our reading of the paper's appendix; the paper's text was not to hand to check
  it (unconfirmed), so the normal approximation is the default.

``z`` = 1.959964 (95%) and 3.090232 (99.8%).

**Overdispersion** (Spiegelhalter DJ, "Handling over-dispersion of performance
indicators", *Quality and Safety in Health Care* 2005;14:347-351): each unit's z-score
``z_i = (y_i - theta0) / s_i``, winsorised at the 10th and 90th percentiles (values
beyond are set to those percentiles); ``phi = sum(z_i^2) / I``. With ``I * phi > I - 1``
the data are overdispersed and either

* multiplicative: limits ``theta0 +/- z * sqrt(phi) * s_i``; or
* additive (random effects): ``tau^2 = (I * phi - (I - 1)) / (sum w_i - sum w_i^2 /
  sum w_i)`` with ``w_i = 1 / s_i^2``; limits ``theta0 +/- z * sqrt(s_i^2 + tau^2)``.

A rate published as a directly standardised rate (``falls_65_dsr``) is placed on the
funnel by its value; its limits use the count and population as if it were crude (a
common approximation; the DSR's own confidence interval is the exact comparison).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from bettercare.domain.metrics import CATALOGUE, Direction, Unit

Z95 = 1.959963984540054
Z998 = 3.090232306167813
#: Winsorising percentiles for the overdispersion estimate (Spiegelhalter 2005, QSHC).
WINSOR = (10.0, 90.0)


class Measure(StrEnum):
    """What kind of indicator a funnel is drawn for."""

    PROPORTION = "proportion"  # numerator of denominator, shown as a percentage
    RATE = "rate"  # events per person, shown per 100,000


class Adjustment(StrEnum):
    """How the funnel limits allow for overdispersion."""

    NONE = "none"
    MULTIPLICATIVE = "multiplicative"
    ADDITIVE = "additive"


def measure_of(metric: str) -> Measure | None:
    """The funnel measure of a catalogue metric: percentages and rates per 100,000 only."""
    unit = CATALOGUE[metric].unit
    if unit == Unit.PERCENT:
        return Measure.PROPORTION
    if unit == Unit.PER_100K:
        return Measure.RATE
    return None


def scale_of(measure: Measure) -> float:
    """Display scale: percent for proportions, per 100,000 for rates."""
    return 100.0 if measure == Measure.PROPORTION else 100_000.0


def standard_error(theta0: float, n: float, measure: Measure) -> float:
    """The sampling SD of a unit's rate/proportion of size ``n`` under the target."""
    if n <= 0:
        return math.inf
    if measure == Measure.PROPORTION:
        return math.sqrt(theta0 * (1 - theta0) / n)
    return math.sqrt(theta0 / n)


def normal_limits(
    theta0: float, n: float, z: float, measure: Measure, phi: float = 1.0, tau2: float = 0.0
) -> tuple[float, float]:
    """(lower, upper) on the per-unit scale (proportion, or events per person)."""
    s = standard_error(theta0, n, measure)
    half = z * math.sqrt(phi * s * s + tau2)
    lo = max(theta0 - half, 0.0)
    hi = theta0 + half
    if measure == Measure.PROPORTION:
        hi = min(hi, 1.0)
    return lo, hi


def _interpolated(quantile: float, cdf_at: float, cdf_below: float, p: float, n: float) -> float:
    alpha = (cdf_at - p) / (cdf_at - cdf_below) if cdf_at > cdf_below else 0.0
    return (quantile - alpha) / n


def exact_limit(theta0: float, n: int, p: float, measure: Measure) -> float:
    """Spiegelhalter's interpolated exact limit at tail probability ``p`` (per-unit scale).

    ``p`` = 0.025 and 0.975 give the 95% limits; 0.001 and 0.999 the 99.8% ones.
    """
    from scipy import stats  # type: ignore[import-untyped]

    dist = stats.binom(n, theta0) if measure == Measure.PROPORTION else stats.poisson(n * theta0)
    r = float(dist.ppf(p))
    return max(_interpolated(r, float(dist.cdf(r)), float(dist.cdf(r - 1)), p, n), 0.0)


@dataclass(frozen=True)
class AreaFigure:
    """One unit on a funnel: an area's numerator and denominator (and its published value)."""

    code: str
    numerator: float
    denominator: float
    value: float | None = None  # as published (per 100,000 / percent); default y/n*scale


@dataclass(frozen=True)
class Overdispersion:
    """The winsorised overdispersion estimate over a set of units."""

    phi: float
    tau2: float
    units: int
    overdispersed: bool


def overdispersion(
    y: Sequence[float], n: Sequence[float], theta0: float, measure: Measure
) -> Overdispersion:
    """Spiegelhalter's winsorised phi and the additive tau^2 (QSHC 2005).

    ``y`` are per-unit proportions or rates (not scaled), ``n`` their denominators.
    """
    s = np.array([standard_error(theta0, float(ni), measure) for ni in n])
    z = (np.asarray(y, dtype=float) - theta0) / s
    lo, hi = np.percentile(z, WINSOR)
    zw = np.clip(z, lo, hi)
    units = len(zw)
    phi = float(np.sum(zw**2) / units)
    w = 1.0 / s**2
    denom = float(np.sum(w) - np.sum(w**2) / np.sum(w))
    excess = units * phi - (units - 1)
    tau2 = max(excess / denom, 0.0) if denom > 0 else 0.0
    return Overdispersion(phi, tau2, units, excess > 0)


class Band(StrEnum):
    """Where a unit lies against the funnel."""

    WITHIN = "within 95% limits"
    ABOVE_95 = "above 95% limit"
    ABOVE_998 = "above 99.8% limit"
    BELOW_95 = "below 95% limit"
    BELOW_998 = "below 99.8% limit"


@dataclass(frozen=True)
class FunnelPoint:
    """A unit placed on the funnel (values on the display scale)."""

    code: str
    denominator: float
    value: float
    lower95: float
    upper95: float
    lower998: float
    upper998: float
    band: Band
    better: bool | None  # outside the 95% limits on the good side (None: within)


@dataclass(frozen=True)
class Funnel:
    """A funnel plot: target, limits for each unit and a curve to draw."""

    metric: str
    period: str
    measure: Measure
    scale: float
    target: float  # display scale
    adjustment: Adjustment
    dispersion: Overdispersion
    points: tuple[FunnelPoint, ...]
    curve_n: tuple[float, ...] = field(default=())
    curve: dict[str, tuple[float, ...]] = field(default_factory=dict)

    def point(self, code: str) -> FunnelPoint | None:
        """The point of ``code``, if it is on the funnel."""
        return next((p for p in self.points if p.code == code), None)


def _band(value: float, lo95: float, hi95: float, lo998: float, hi998: float) -> Band:
    if value > hi998:
        return Band.ABOVE_998
    if value > hi95:
        return Band.ABOVE_95
    if value < lo998:
        return Band.BELOW_998
    if value < lo95:
        return Band.BELOW_95
    return Band.WITHIN


def funnel(
    metric: str,
    period: str,
    units: Iterable[AreaFigure],
    *,
    target: float | None = None,
    adjustment: Adjustment | None = None,
    exact: bool = False,
    curve_points: int = 60,
) -> Funnel:
    """The funnel of ``metric`` in ``period`` over ``units``.

    ``target`` (display scale, e.g. the England value): default the pooled value of the
    units (sum of numerators / sum of denominators). ``adjustment``: default
    multiplicative when the units are overdispersed, none otherwise. ``exact`` uses the
    interpolated binomial / Poisson limits (not combinable with an adjustment).
    """
    measure = measure_of(metric)
    if measure is None:
        raise ValueError(f"metric {metric} is neither a percentage nor a rate per 100,000")
    scale = scale_of(measure)
    usable = [u for u in units if u.denominator > 0]
    if len(usable) < 3:
        raise ValueError(f"{metric} {period}: a funnel needs 3 or more areas with a denominator")
    theta0 = (
        target / scale
        if target is not None
        else sum(u.numerator for u in usable) / sum(u.denominator for u in usable)
    )
    if measure == Measure.PROPORTION and not 0 < theta0 < 1:
        raise ValueError(f"{metric} {period}: target {theta0 * scale:g}% leaves no funnel")
    if theta0 <= 0:
        raise ValueError(f"{metric} {period}: a target of 0 leaves no funnel")
    ys = [(u.value / scale if u.value is not None else u.numerator / u.denominator) for u in usable]
    disp = overdispersion(ys, [u.denominator for u in usable], theta0, measure)
    if adjustment is None:
        overdispersed = disp.overdispersed and not exact
        adjustment = Adjustment.MULTIPLICATIVE if overdispersed else Adjustment.NONE
    phi = disp.phi if adjustment == Adjustment.MULTIPLICATIVE else 1.0
    tau2 = disp.tau2 if adjustment == Adjustment.ADDITIVE else 0.0
    if exact and adjustment != Adjustment.NONE:
        raise ValueError("exact limits cannot be adjusted for overdispersion")

    def limits(n: float) -> tuple[float, float, float, float]:
        if exact:
            k = max(round(n), 1)
            return (
                exact_limit(theta0, k, 0.025, measure) * scale,
                exact_limit(theta0, k, 0.975, measure) * scale,
                exact_limit(theta0, k, 0.001, measure) * scale,
                exact_limit(theta0, k, 0.999, measure) * scale,
            )
        lo95, hi95 = normal_limits(theta0, n, Z95, measure, phi, tau2)
        lo998, hi998 = normal_limits(theta0, n, Z998, measure, phi, tau2)
        return lo95 * scale, hi95 * scale, lo998 * scale, hi998 * scale

    good_high = CATALOGUE[metric].direction == Direction.HIGHER_IS_BETTER
    points = []
    for u, y in zip(usable, ys, strict=True):
        lo95, hi95, lo998, hi998 = limits(u.denominator)
        value = y * scale
        band = _band(value, lo95, hi95, lo998, hi998)
        better = None if band == Band.WITHIN else (value > hi95) == good_high
        points.append(
            FunnelPoint(u.code, u.denominator, value, lo95, hi95, lo998, hi998, band, better)
        )
    n_min = min(u.denominator for u in usable)
    n_max = max(u.denominator for u in usable)
    grid = tuple(float(x) for x in np.geomspace(max(n_min * 0.8, 1.0), n_max * 1.1, curve_points))
    rows = [limits(n) for n in grid]
    curve = {
        name: tuple(r[i] for r in rows)
        for i, name in enumerate(("lower95", "upper95", "lower998", "upper998"))
    }
    return Funnel(
        metric, period, measure, scale, theta0 * scale, adjustment, disp, tuple(points), grid, curve
    )


# -- benchmarks: England, region, peers, rank -------------------------------------------------


@dataclass(frozen=True)
class Benchmark:
    """One board's value on a metric and period beside England, its region and its peers."""

    metric: str
    period: str
    hwb_code: str
    value: float | None
    england: float | None
    england_basis: str  # "published" or "computed from the HWB figures"
    region: float | None
    region_name: str
    peer_median: float | None
    peer_lower_quartile: float | None
    peer_upper_quartile: float | None
    #: the quartile on the "better" side (upper for higher-is-better, lower otherwise)
    peer_best_quartile: float | None
    peers: int
    rank: int | None  # 1 = best among the board and its peers
    of: int


def weighted_value(values: Sequence[float], weights: Sequence[float]) -> float | None:
    """Denominator-weighted mean of area values (= the pooled rate for crude measures)."""
    total = float(sum(weights))
    if not values or total <= 0:
        return None
    return float(sum(v * w for v, w in zip(values, weights, strict=True)) / total)


def quartiles(values: Sequence[float]) -> tuple[float, float, float] | None:
    """(lower quartile, median, upper quartile), linear interpolation (numpy default)."""
    if not values:
        return None
    q1, q2, q3 = np.percentile(np.asarray(values, dtype=float), [25.0, 50.0, 75.0])
    return float(q1), float(q2), float(q3)


def rank_among(value: float, others: Sequence[float], direction: Direction) -> int:
    """1-based rank of ``value`` among itself and ``others``, best first (ties share)."""
    if direction == Direction.HIGHER_IS_BETTER:
        return 1 + sum(1 for o in others if o > value)
    return 1 + sum(1 for o in others if o < value)
