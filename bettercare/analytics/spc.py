"""Statistical process control for BCF metrics: XmR charts with the Making Data Count rules.

By default this reproduces NHSRplotthedots 0.2.2 (NHS-R Community, MIT licence,
https://github.com/nhs-r-community/NHSRplotthedots), the R implementation of NHS England's
"Making Data Count" (MDC) "plot the dots" method; the files named below are in its ``R/``
folder and its own test cases are ported in ``tests/analytics/test_spc_reference.py``.

* **Limits** (``ptd_spc_standard.R``), per segment: centre line = mean of the values;
  moving range MR_i = |x_i - x_{i-1}|; with ``screen_outliers`` (the default) the moving
  ranges not below 3.267 x their mean are excluded and the mean moving range recomputed
  (Nelson 1982); process limits = mean +/- 2.66 x mean MR; the near-limit (2 sigma) lines
  = mean +/- (2/3) x 2.66 x mean MR. ``screen_outliers=False`` is the MDC Excel tool's
  behaviour (the reference's vignette ``deviations.Rmd``). ``fix_after_n_points`` bases
  each segment's mean and moving ranges on its first n periods only.
* **Rebasing** (``ptd_add_rebase_column.R``): ``rebase`` lists the positions where a new
  segment starts; each segment has its own mean and limits, and the rules below look only
  at points of the same segment.
* **Special-cause rules** (``ptd_calculate_point_type.R``), in this priority order, one
  type per point:
  1. a point above the upper or below the lower process limit;
  2. a *trend*: 7 points in a row each higher (or each lower) than the one before -- all 7
     are flagged; a point ending one trend and starting another takes the later one's
     direction (the reference labels it "Decreasing" whenever that next step is not a
     rise, even when it is level);
  3. *two in three*: 2 of 3 consecutive points between a 2-sigma line and the process
     limit, with all 3 on the same side of the mean -- only those 2 (or 3) are flagged,
     not a point outside the limits;
  4. a *shift*: 7 points in a row on the same side of the mean (a point on the mean
     breaks the run) -- all 7 are flagged.
* **Point type and variation icon**: a special cause above the mean or rising is "high";
  with a direction of good it is *improvement* or *concern*, without one (the
  reference's ``improvement_direction = "neutral"``) it is *neutral* high or low. The
  variation icon is the latest point's (``geom_ptd_icon.R``).
* **Assurance icon** (``ptd_calculate_assurance_type.R``) from the latest segment's limits:
  target above the upper limit -> consistently fail when higher is better, consistently
  pass when lower is better; below the lower limit -> the reverse; otherwise hit and miss.
  None without a target or a direction of good.
* **Trial limits** (``ptd_add_short_group_warnings.R``): a segment of fewer than 13
  periods has trial limits (:attr:`Segment.trial_limits`).
* **Too few points** (ours, a stated minimum): limits, signals and assurance are *shown*
  only when the latest segment has at least :data:`MIN_POINTS` (12) values; with fewer,
  every caller says so instead (:attr:`XmrChart.too_few_points`). The reference's
  vignette "How many points are required for robust control limits?"
  (nhs-r-community.github.io/NHSRplotthedots/articles/number-of-points-required.html)
  calls limits from fewer than 12 points "trial" limits, useful rather than robust, and
  locks them "once we have enough (i.e. >=12 data points)"; it cites the Health Care
  Data Guide's 20 to 30 for an I chart and Wheeler's "as few as five or six values". A
  board is never given "assurance" from two annual points. Making Data Count's own
  suggested number (often quoted as 15 to 20) could not be confirmed here.

Missing values (NaN or None; the reference needs a complete series) keep their position
but are skipped: they are left out of the mean, no moving range spans them, no rule
window containing one fires, and they get no point type. This is what the reference's R
NA arithmetic gives wherever it does not stop with an error. The variation icon is the
latest point with a value (the reference would read a missing last point as common
cause).

One deliberate deviation: when every moving range of a segment is 0 (a flat series) no
range is screened; the reference's strict ``mr < 3.267 x mean MR`` would drop them all
and leave the segment without limits.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from bettercare.domain.metrics import Direction

LIMIT = 2.66  # 3 / d2 with d2 = 1.128, as the reference rounds it
NEAR_LIMIT = 2 * LIMIT / 3  # the "2 sigma" lines
SCREEN = 3.267  # D4 for ranges of two: moving ranges >= 3.267 x mean MR are screened out
RUN = 7  # points in a trend or a shift
TRIAL_LIMITS_BELOW = 13  # reference: getOption("ptd_spc.warning_threshold", 13)
MIN_FIX_POINTS = 12  # reference: fix_after_n_points must be >= 12
#: Fewest values in the latest segment for limits, signals and assurance to be shown
#: (NHSRplotthedots vignette "number of points required": >= 12 points; see above).
MIN_POINTS = 12


def too_few_points(points: int) -> str | None:
    """What to say instead of limits and assurance for ``points`` values (None: enough)."""
    if points >= MIN_POINTS:
        return None
    return (
        f"{points} point{'s' if points != 1 else ''}: too few for SPC limits and assurance "
        f"(at least {MIN_POINTS})"
    )


class SpecialCause(StrEnum):
    """Why a point is (or is not) a special cause (reference ``special_cause_type``)."""

    ABOVE_UCL = "above_ucl"
    BELOW_LCL = "below_lcl"
    TREND_INCREASING = "trend_increasing"
    TREND_DECREASING = "trend_decreasing"
    TWO_IN_THREE_ABOVE = "two_in_three_above"
    TWO_IN_THREE_BELOW = "two_in_three_below"
    SHIFT_ABOVE = "shift_above"
    SHIFT_BELOW = "shift_below"
    COMMON_CAUSE = "common_cause"

    @property
    def label(self) -> str:
        """The reference's wording, e.g. "7 Point Trend (Increasing)"."""
        return _LABELS[self]

    @property
    def side(self) -> int:
        """+1 high (above or increasing), -1 low, 0 common cause."""
        if self == SpecialCause.COMMON_CAUSE:
            return 0
        return 1 if self in _HIGH else -1


_LABELS = {
    SpecialCause.ABOVE_UCL: "Above UCL",
    SpecialCause.BELOW_LCL: "Below LCL",
    SpecialCause.TREND_INCREASING: "7 Point Trend (Increasing)",
    SpecialCause.TREND_DECREASING: "7 Point Trend (Decreasing)",
    SpecialCause.TWO_IN_THREE_ABOVE: "2 in 3 Above CL",
    SpecialCause.TWO_IN_THREE_BELOW: "2 in 3 Below CL",
    SpecialCause.SHIFT_ABOVE: "7 Points Above CL",
    SpecialCause.SHIFT_BELOW: "7 Points Below CL",
    SpecialCause.COMMON_CAUSE: "Common Cause",
}
_HIGH = {
    SpecialCause.ABOVE_UCL,
    SpecialCause.TREND_INCREASING,
    SpecialCause.TWO_IN_THREE_ABOVE,
    SpecialCause.SHIFT_ABOVE,
}


class PointType(StrEnum):
    """The reference's ``point_type`` (what colours the dot)."""

    COMMON_CAUSE = "common_cause"
    IMPROVEMENT = "special_cause_improvement"
    CONCERN = "special_cause_concern"
    NEUTRAL_HIGH = "special_cause_neutral_high"
    NEUTRAL_LOW = "special_cause_neutral_low"


class Variation(StrEnum):
    """The Making Data Count variation icon of a point."""

    COMMON_CAUSE = "common_cause"
    IMPROVEMENT_HIGH = "special_cause_improvement_high"
    IMPROVEMENT_LOW = "special_cause_improvement_low"
    CONCERN_HIGH = "special_cause_concern_high"
    CONCERN_LOW = "special_cause_concern_low"
    NEUTRAL_HIGH = "special_cause_neutral_high"
    NEUTRAL_LOW = "special_cause_neutral_low"

    @property
    def is_improvement(self) -> bool:
        """A special cause in the improving direction."""
        return self in (Variation.IMPROVEMENT_HIGH, Variation.IMPROVEMENT_LOW)

    @property
    def is_concern(self) -> bool:
        """A special cause in the worsening direction."""
        return self in (Variation.CONCERN_HIGH, Variation.CONCERN_LOW)

    @property
    def is_neutral(self) -> bool:
        """A special cause of a metric with no better direction."""
        return self in (Variation.NEUTRAL_HIGH, Variation.NEUTRAL_LOW)


#: Each variation in a word or two, for table cells (the CLI and the web dashboard).
VARIATION_SHORT_LABEL: dict[str, str] = {
    Variation.COMMON_CAUSE: "common cause",
    Variation.IMPROVEMENT_HIGH: "improvement (high)",
    Variation.IMPROVEMENT_LOW: "improvement (low)",
    Variation.CONCERN_HIGH: "concern (high)",
    Variation.CONCERN_LOW: "concern (low)",
    Variation.NEUTRAL_HIGH: "special cause (high)",
    Variation.NEUTRAL_LOW: "special cause (low)",
}


class Assurance(StrEnum):
    """The assurance icon (reference: consistent_pass / inconsistent / consistent_fail)."""

    CONSISTENTLY_PASS = "consistently_pass"
    HIT_AND_MISS = "hit_and_miss"
    CONSISTENTLY_FAIL = "consistently_fail"


@dataclass(frozen=True)
class Segment:
    """Points ``start`` to ``stop - 1`` of a chart, with their own mean and limits.

    Limits are NaN when the segment has fewer than two values one period apart.
    """

    start: int
    stop: int
    mean: float
    mr_bar: float  # mean moving range after screening
    lcl: float
    ucl: float
    lower_2s: float
    upper_2s: float
    screened: int  # moving ranges excluded by screening

    @property
    def periods(self) -> int:
        """Number of points in the segment."""
        return self.stop - self.start

    @property
    def trial_limits(self) -> bool:
        """Fewer than 13 periods: the reference warns the limits are trial limits."""
        return self.periods < TRIAL_LIMITS_BELOW


@dataclass(frozen=True)
class XmrChart:
    """An XmR chart: segments with their limits, and each point's special cause.

    ``outside``, ``trend``, ``two_in_three`` and ``shift`` say which points each rule
    flags before the priority is applied; ``causes`` holds the one cause each point is
    given (None for a missing value).
    """

    values: np.ndarray
    segments: tuple[Segment, ...]
    causes: tuple[SpecialCause | None, ...]
    outside: np.ndarray
    trend: np.ndarray
    two_in_three: np.ndarray
    shift: np.ndarray
    moving_ranges: np.ndarray  # NaN where not computed (first point, gaps) or screened
    direction: Direction | None = None
    target: float | None = None
    screen_outliers: bool = True

    def segment_of(self, i: int) -> Segment:
        """The segment point ``i`` belongs to."""
        for seg in self.segments:
            if seg.start <= i < seg.stop:
                return seg
        raise IndexError(f"point {i} is outside the chart (0..{len(self.values) - 1})")

    @property
    def current(self) -> Segment:
        """The latest segment: the process as it is now."""
        return self.segments[-1]

    # The latest segment's figures, for callers that show one set of limits.
    @property
    def mean(self) -> float:
        """The latest segment's mean."""
        return self.current.mean

    @property
    def mr_bar(self) -> float:
        """The latest segment's mean moving range (after screening)."""
        return self.current.mr_bar

    @property
    def ucl(self) -> float:
        """The latest segment's upper process limit (mean + 2.66 x mR-bar)."""
        return self.current.ucl

    @property
    def lcl(self) -> float:
        """The latest segment's lower process limit (mean - 2.66 x mR-bar)."""
        return self.current.lcl

    @property
    def upper_2s(self) -> float:
        """The latest segment's upper two-sigma line (used by two-in-three)."""
        return self.current.upper_2s

    @property
    def lower_2s(self) -> float:
        """The latest segment's lower two-sigma line (used by two-in-three)."""
        return self.current.lower_2s

    @property
    def few_points(self) -> bool:
        """Some segment has trial limits (the reference's short-group warning)."""
        return any(s.trial_limits for s in self.segments)

    @property
    def points(self) -> int:
        """Values (not missing) in the latest segment: what its limits rest on."""
        cur = self.current
        return int(np.count_nonzero(~np.isnan(self.values[cur.start : cur.stop])))

    @property
    def too_few_points(self) -> str | None:
        """Why limits, signals and assurance are not shown (None: enough points)."""
        return too_few_points(self.points)

    @property
    def special(self) -> np.ndarray:
        """True where a point is a special cause."""
        return np.array([c is not None and c.side != 0 for c in self.causes], dtype=bool)

    def point_type(self, i: int) -> PointType | None:
        """The reference's point type of point ``i`` (None for a missing value)."""
        cause = self.causes[i]
        if cause is None:
            return None
        if cause.side == 0:
            return PointType.COMMON_CAUSE
        if self.direction is None:
            return PointType.NEUTRAL_HIGH if cause.side > 0 else PointType.NEUTRAL_LOW
        good = 1 if self.direction == Direction.HIGHER_IS_BETTER else -1
        return PointType.IMPROVEMENT if cause.side * good > 0 else PointType.CONCERN

    def signal(self, i: int) -> Variation | None:
        """The variation icon point ``i`` would give (None for a missing value)."""
        cause = self.causes[i]
        if cause is None:
            return None
        if cause.side == 0:
            return Variation.COMMON_CAUSE
        high = cause.side > 0
        if self.direction is None:
            return Variation.NEUTRAL_HIGH if high else Variation.NEUTRAL_LOW
        if high == (self.direction == Direction.HIGHER_IS_BETTER):
            return Variation.IMPROVEMENT_HIGH if high else Variation.IMPROVEMENT_LOW
        return Variation.CONCERN_HIGH if high else Variation.CONCERN_LOW

    @property
    def point_types(self) -> list[PointType | None]:
        """The reference's point type of every point (:meth:`point_type`)."""
        return [self.point_type(i) for i in range(len(self.values))]

    @property
    def signals(self) -> list[Variation | None]:
        """The variation icon of every point (:meth:`signal`)."""
        return [self.signal(i) for i in range(len(self.values))]

    @property
    def variation(self) -> Variation | None:
        """The variation icon: the latest point with a value (None if there is none)."""
        for i in range(len(self.values) - 1, -1, -1):
            if self.causes[i] is not None:
                return self.signal(i)
        return None

    @property
    def assurance(self) -> Assurance | None:
        """The assurance icon: ``target`` against the latest segment's process limits."""
        if self.target is None:
            return None
        return assurance_icon(self.target, self.current.lcl, self.current.ucl, self.direction)


def assurance_icon(
    target: float, lcl: float, ucl: float, direction: Direction | None
) -> Assurance | None:
    """Target against process limits (reference ``ptd_calculate_assurance_type``).

    None without a direction of good (reference: "neutral") or without limits (NaN).
    """
    if direction is None or np.isnan(lcl) or np.isnan(ucl):
        return None
    increasing = direction == Direction.HIGHER_IS_BETTER
    if target > ucl:
        return Assurance.CONSISTENTLY_FAIL if increasing else Assurance.CONSISTENTLY_PASS
    if target < lcl:
        return Assurance.CONSISTENTLY_PASS if increasing else Assurance.CONSISTENTLY_FAIL
    return Assurance.HIT_AND_MISS


def _nanmean(a: np.ndarray) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # empty slice -> NaN, as in R
        return float(np.nanmean(a)) if len(a) else float("nan")


def _limits(
    y: np.ndarray, start: int, fix_after_n_points: int | None, screen: bool
) -> tuple[Segment, np.ndarray]:
    """One segment's mean and limits, and its moving ranges (NaN where not used)."""
    fixed = y.copy()
    if fix_after_n_points is not None:
        fixed[fix_after_n_points:] = np.nan
    mean = _nanmean(fixed)
    mr = np.concatenate([[np.nan], np.abs(np.diff(fixed))])  # NaN beside a gap
    amr = _nanmean(mr)
    screened = 0
    if screen and amr > 0:
        keep = mr < SCREEN * amr
        screened = int((~keep & ~np.isnan(mr)).sum())
        mr = np.where(keep, mr, np.nan)
        amr = _nanmean(mr)
    seg = Segment(
        start=start,
        stop=start + len(y),
        mean=mean,
        mr_bar=amr,
        lcl=mean - LIMIT * amr,
        ucl=mean + LIMIT * amr,
        lower_2s=mean - NEAR_LIMIT * amr,
        upper_2s=mean + NEAR_LIMIT * amr,
        screened=screened,
    )
    return seg, mr


def seven_point_trend(y: np.ndarray) -> np.ndarray:
    """Mark +1 / -1 at the 7th point of 7 each higher / lower than the one before.

    Reference ``ptd_seven_point_trend``; a missing value (NaN) breaks the run.
    """
    ends = np.zeros(len(y), dtype=int)
    with np.errstate(invalid="ignore"):
        step = np.sign(np.diff(y))
    for i in range(RUN - 1, len(y)):
        steps = step[i - RUN + 1 : i]
        if (steps == 1).all():
            ends[i] = 1
        elif (steps == -1).all():
            ends[i] = -1
    return ends


def seven_points_one_side(relative_to_mean: np.ndarray) -> np.ndarray:
    """Mark True at the 7th point of 7 on the same side of the mean.

    Reference ``ptd_seven_point_one_side_mean``; 0 (on the mean, or missing) breaks the run.
    """
    rtm = relative_to_mean
    ends = np.zeros(len(rtm), dtype=bool)
    for i in range(RUN - 1, len(rtm)):
        window = rtm[i - RUN + 1 : i + 1]
        ends[i] = rtm[i] != 0 and bool((window == rtm[i]).all())
    return ends


def part_of_seven(ends: np.ndarray) -> np.ndarray:
    """Each point of a 7-point run whose last point is non-zero in ``ends``.

    Reference ``ptd_part_of_seven_trend``.
    """
    part = np.zeros(len(ends), dtype=bool)
    for i in np.flatnonzero(ends):
        part[i - RUN + 1 : i + 1] = True
    return part


def two_in_three(close: np.ndarray, relative_to_mean: np.ndarray) -> np.ndarray:
    """Points in a window of 3 with at least 2 near a limit, all 3 on one side of the mean.

    Reference ``ptd_two_in_three``.
    """
    n = len(close)
    fires = np.zeros(n, dtype=bool)
    for a in range(n - 2):
        w = slice(a, a + 3)
        if close[w].sum() >= 2 and abs(relative_to_mean[w].sum()) == 3:
            fires[w] = True
    return fires


def special_causes(
    y: np.ndarray,
    relative_to_mean: np.ndarray,
    outside: np.ndarray,
    trend: np.ndarray,
    two_of_three: np.ndarray,
    shift: np.ndarray,
) -> list[SpecialCause | None]:
    """One cause per point, by priority: outside limits > trend > two in three > shift.

    Reference ``ptd_special_cause_type``; None for a missing value.
    """
    n = len(y)
    with np.errstate(invalid="ignore"):
        step = np.sign(np.diff(y))
    causes: list[SpecialCause | None] = []
    for i in range(n):
        above = relative_to_mean[i] > 0
        if np.isnan(y[i]):
            causes.append(None)
        elif outside[i]:
            causes.append(SpecialCause.ABOVE_UCL if above else SpecialCause.BELOW_LCL)
        elif trend[i]:
            # The reference takes the step after the point when the next point is also in
            # a trend, else the step before it; anything but a rise reads "Decreasing".
            d = step[i] if i + 1 < n and trend[i + 1] else (step[i - 1] if i else 0)
            causes.append(
                SpecialCause.TREND_INCREASING if d == 1 else SpecialCause.TREND_DECREASING
            )
        elif two_of_three[i]:
            causes.append(
                SpecialCause.TWO_IN_THREE_ABOVE if above else SpecialCause.TWO_IN_THREE_BELOW
            )
        elif shift[i]:
            causes.append(SpecialCause.SHIFT_ABOVE if above else SpecialCause.SHIFT_BELOW)
        else:
            causes.append(SpecialCause.COMMON_CAUSE)
    return causes


def _causes(
    y: np.ndarray, seg: Segment
) -> tuple[list[SpecialCause | None], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The rules within one segment (``ptd_spc_standard.R``, ``ptd_calculate_point_type.R``)."""
    seen = ~np.isnan(y)
    with np.errstate(invalid="ignore"):
        outside = seen & ((y > seg.ucl) | (y < seg.lcl))
        close = seen & ~outside & ((y < seg.lower_2s) | (y > seg.upper_2s))
        rtm = np.where(seen, np.sign(y - seg.mean), 0).astype(int)  # relative to mean
    trend = part_of_seven(seven_point_trend(y))
    shift = part_of_seven(seven_points_one_side(rtm))
    two3 = two_in_three(close, rtm) & close
    return special_causes(y, rtm, outside, trend, two3, shift), outside, trend, two3, shift


def xmr(
    values: Sequence[float | None],
    direction: Direction | None = None,
    target: float | None = None,
    *,
    rebase: Sequence[int] = (),
    fix_after_n_points: int | None = None,
    screen_outliers: bool = True,
) -> XmrChart:
    """Compute an XmR chart and its special causes as NHSRplotthedots does.

    ``direction`` None is the reference's "neutral". ``rebase``: positions where a new
    segment starts (0 is the start anyway). ``screen_outliers=False`` gives the Making
    Data Count Excel limits. See the module docstring for the method.
    """
    x = np.array([np.nan if v is None else v for v in values], dtype=float)
    if x.ndim != 1 or len(x) < 2:
        raise ValueError("an XmR chart needs at least 2 points")
    if np.isinf(x).any():
        raise ValueError("an XmR chart needs finite values (or missing ones)")
    if fix_after_n_points is not None and fix_after_n_points < MIN_FIX_POINTS:
        raise ValueError(f"fix_after_n_points must be at least {MIN_FIX_POINTS}")
    bad = [r for r in rebase if not 0 <= r < len(x)]
    if bad:
        raise ValueError(f"rebase positions {bad} are outside the chart (0..{len(x) - 1})")
    starts = sorted({0, *rebase})
    bounds = list(zip(starts, [*starts[1:], len(x)], strict=True))

    segments: list[Segment] = []
    causes: list[SpecialCause | None] = []
    mrs, flags = [], []
    for a, b in bounds:
        seg, mr = _limits(x[a:b], a, fix_after_n_points, screen_outliers)
        seg_causes, *seg_flags = _causes(x[a:b], seg)
        segments.append(seg)
        causes += seg_causes
        mrs.append(mr)
        flags.append(seg_flags)
    outside, trend, two3, shift = (np.concatenate(f) for f in zip(*flags, strict=True))
    return XmrChart(
        values=x,
        segments=tuple(segments),
        causes=tuple(causes),
        outside=outside,
        trend=trend,
        two_in_three=two3,
        shift=shift,
        moving_ranges=np.concatenate(mrs),
        direction=direction,
        target=target,
        screen_outliers=screen_outliers,
    )
