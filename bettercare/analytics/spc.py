"""Statistical process control for BCF metrics: XmR charts and Making Data Count rules.

Method (NHS England / Improvement "Making Data Count", as implemented by the
NHSRplotthedots R package):

* **XmR chart**: centre line = mean of the points; moving range MR_i = |x_i - x_{i-1}|;
  process limits = mean +/- 2.66 x mean(MR) (2.66 = 3 / 1.128, i.e. 3 sigma with
  sigma = mean(MR) / 1.128). The 2-sigma lines are mean +/- (2/3) x 2.66 x mean(MR).
  Limits may be fixed from a baseline (the first ``baseline`` points).
* **Special-cause rules** (each flags the points that make it up):
  1. *astronomical point*: a point outside the process limits;
  2. *shift*: 7 or more consecutive points on the same side of the mean (a point on the
     mean breaks the run);
  3. *trend*: 6 or more consecutive points each higher (or each lower) than the one
     before (an equal value breaks the run);
  4. *two out of three*: 2 of 3 consecutive points beyond the same 2-sigma line.
* **Variation icons** (the most recent point): grey *common cause*; orange *special cause
  of concern* (high or low); blue *special cause of improvement* (high or low); purple
  *neither* when the metric has no direction of good. High/low is the side of the signal
  (above the mean, or an upward trend, is high); improvement vs concern comes from the
  metric's :class:`~bettercare.domain.metrics.Direction`.
* **Assurance icons** (against a target): *consistently pass* when the whole process
  (both limits) is on the good side of the target, *consistently fail* when it is all on
  the bad side, *hit and miss* when the target lies between the limits -- the process will
  sometimes meet it, sometimes not, by chance alone.

MDC recommends at least 15 points (ideally 20) before reading the rules;
:attr:`XmrChart.few_points` says when there are fewer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from bettercare.domain.metrics import Direction

D2 = 1.128  # bias-correction constant for moving ranges of two
LIMIT_FACTOR = 3 / D2  # 2.66 (to 2 d.p.)


class Variation(StrEnum):
    COMMON_CAUSE = "common_cause"
    IMPROVEMENT_HIGH = "special_cause_improvement_high"
    IMPROVEMENT_LOW = "special_cause_improvement_low"
    CONCERN_HIGH = "special_cause_concern_high"
    CONCERN_LOW = "special_cause_concern_low"
    NEITHER_HIGH = "special_cause_neither_high"
    NEITHER_LOW = "special_cause_neither_low"

    @property
    def is_improvement(self) -> bool:
        return self in (Variation.IMPROVEMENT_HIGH, Variation.IMPROVEMENT_LOW)

    @property
    def is_concern(self) -> bool:
        return self in (Variation.CONCERN_HIGH, Variation.CONCERN_LOW)


class Assurance(StrEnum):
    CONSISTENTLY_PASS = "consistently_pass"
    HIT_AND_MISS = "hit_and_miss"
    CONSISTENTLY_FAIL = "consistently_fail"


@dataclass(frozen=True)
class SpcRules:
    """Rule parameters (the Making Data Count defaults)."""

    shift_length: int = 7
    trend_length: int = 6
    two_of_three: bool = True
    min_points: int = 15


@dataclass
class XmrChart:
    values: np.ndarray
    mean: float
    mr_bar: float
    ucl: float
    lcl: float
    upper_2s: float
    lower_2s: float
    outside: np.ndarray
    shift: np.ndarray
    trend: np.ndarray
    two_of_three: np.ndarray
    side: np.ndarray  # +1 high / -1 low / 0 no signal, per point
    direction: Direction | None = None
    target: float | None = None
    few_points: bool = False
    moving_ranges: np.ndarray = field(default_factory=lambda: np.array([]))

    @property
    def special(self) -> np.ndarray:
        return self.side != 0

    def signal(self, i: int) -> Variation:
        """Variation classification of point ``i``."""
        s = int(self.side[i])
        if s == 0:
            return Variation.COMMON_CAUSE
        high = s > 0
        if self.direction is None:
            return Variation.NEITHER_HIGH if high else Variation.NEITHER_LOW
        good = high == (self.direction == Direction.HIGHER_IS_BETTER)
        if good:
            return Variation.IMPROVEMENT_HIGH if high else Variation.IMPROVEMENT_LOW
        return Variation.CONCERN_HIGH if high else Variation.CONCERN_LOW

    @property
    def signals(self) -> list[Variation]:
        return [self.signal(i) for i in range(len(self.values))]

    @property
    def variation(self) -> Variation:
        """The variation icon: the classification of the most recent point."""
        return self.signal(len(self.values) - 1)

    @property
    def assurance(self) -> Assurance | None:
        """The assurance icon against ``target`` (None without target or direction)."""
        if self.target is None or self.direction is None:
            return None
        t = self.target
        if self.direction == Direction.LOWER_IS_BETTER:
            if self.ucl < t:
                return Assurance.CONSISTENTLY_PASS
            if self.lcl > t:
                return Assurance.CONSISTENTLY_FAIL
        else:
            if self.lcl > t:
                return Assurance.CONSISTENTLY_PASS
            if self.ucl < t:
                return Assurance.CONSISTENTLY_FAIL
        return Assurance.HIT_AND_MISS


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """(start, end-exclusive) of each run of True."""
    out, start = [], None
    for i, f in enumerate(flags):
        if f and start is None:
            start = i
        elif not f and start is not None:
            out.append((start, i))
            start = None
    if start is not None:
        out.append((start, len(flags)))
    return out


def xmr(
    values: Sequence[float],
    direction: Direction | None = None,
    target: float | None = None,
    rules: SpcRules | None = None,
    baseline: int | None = None,
) -> XmrChart:
    """Compute an XmR chart and flag special causes (see the module docstring)."""
    rules = rules or SpcRules()
    x = np.asarray(values, dtype=float)
    if x.ndim != 1 or len(x) < 2:
        raise ValueError("an XmR chart needs at least 2 points")
    if np.isnan(x).any():
        raise ValueError("an XmR chart cannot have missing values")
    base = x[:baseline] if baseline else x
    if len(base) < 2:
        raise ValueError("the baseline needs at least 2 points")
    mean = float(base.mean())
    mr = np.abs(np.diff(x))
    mr_bar = float(np.abs(np.diff(base)).mean())
    half = LIMIT_FACTOR * mr_bar
    ucl, lcl = mean + half, mean - half
    up2, lo2 = mean + half * 2 / 3, mean - half * 2 / 3
    n = len(x)

    outside = (x > ucl) | (x < lcl)

    shift = np.zeros(n, bool)
    shift_side = np.zeros(n, int)
    for sgn in (1, -1):
        for a, b in _runs(np.sign(x - mean) == sgn):
            if b - a >= rules.shift_length:
                shift[a:b] = True
                shift_side[a:b] = sgn

    trend = np.zeros(n, bool)
    trend_side = np.zeros(n, int)
    d = np.sign(np.diff(x))
    for sgn in (1, -1):
        for a, b in _runs(d == sgn):  # diffs a..b-1 join points a..b
            if b - a + 1 >= rules.trend_length:
                trend[a : b + 1] = True
                trend_side[a : b + 1] = sgn

    two3 = np.zeros(n, bool)
    two3_side = np.zeros(n, int)
    if rules.two_of_three:
        for sgn, beyond in ((1, x > up2), (-1, x < lo2)):
            for i in range(n - 2):
                if beyond[i : i + 3].sum() >= 2:
                    idx = [j for j in range(i, i + 3) if beyond[j]]
                    two3[idx] = True
                    two3_side[idx] = sgn

    side = np.zeros(n, int)
    # priority: astronomical point > two-of-three > shift > trend
    for flags, sides in ((trend, trend_side), (shift, shift_side), (two3, two3_side)):
        side = np.where(flags, sides, side)
    side = np.where(outside, np.sign(x - mean).astype(int), side)

    return XmrChart(
        values=x, mean=mean, mr_bar=mr_bar, ucl=ucl, lcl=lcl, upper_2s=up2, lower_2s=lo2,
        outside=outside, shift=shift, trend=trend, two_of_three=two3, side=side,
        direction=direction, target=target, few_points=n < rules.min_points,
        moving_ranges=mr,
    )
