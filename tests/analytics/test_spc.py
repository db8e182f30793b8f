"""XmR charts with the NHSRplotthedots rules on series worked by hand.

Each rule where bettercare used to disagree with NHSRplotthedots has a test
here that the old behaviour fails; the reference's own cases are in
``tests/analytics/test_spc_reference.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from bettercare.analytics.spc import (
    Assurance,
    PointType,
    SpecialCause,
    Variation,
    xmr,
)
from bettercare.domain.metrics import Direction

LOWER = Direction.LOWER_IS_BETTER
HIGHER = Direction.HIGHER_IS_BETTER
STABLE = [10, 12] * 6  # mean 11, every moving range 2
C = SpecialCause


def test_limits_use_2_66():
    # mean 11; mean MR 2; limits 11 +/- 2.66 x 2 = 5.68 .. 16.32 (not 3/1.128 = 2.6596);
    # 2-sigma lines 11 +/- (2/3) x 2.66 x 2 = 7.4533 .. 14.5467
    c = xmr(STABLE, LOWER)
    assert c.mean == 11 and c.mr_bar == 2
    assert c.ucl == pytest.approx(16.32, abs=1e-12)
    assert c.lcl == pytest.approx(5.68, abs=1e-12)
    assert c.upper_2s == pytest.approx(11 + 2 * 2.66 * 2 / 3, abs=1e-12)
    assert not c.special.any()
    assert c.variation == Variation.COMMON_CAUSE
    assert c.point_types == [PointType.COMMON_CAUSE] * 12
    assert c.few_points  # 12 periods < 13: trial limits


def test_moving_range_screening_and_excel_option():
    # The reference's vignette deviations.Rmd series (checked by hand):
    # mean 35/18 = 1.9444; 17 moving ranges 1,1,1,8,9 and twelve 1s = 32 -> 1.8824.
    # Screening: 8 and 9 are >= 3.267 x 1.8824 = 6.15, so mean MR = 15/15 = 1 and the
    # limits are 1.9444 +/- 2.66 = -0.72 .. 4.60. Without screening (the Making Data
    # Count Excel tool): 1.9444 +/- 2.66 x 1.8824 = -3.06 .. 6.95.
    data = [1, 2, 1, 2, 10, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1]
    c = xmr(data, HIGHER)
    assert c.mr_bar == 1 and c.current.screened == 2
    assert c.ucl == pytest.approx(35 / 18 + 2.66)
    assert c.lcl == pytest.approx(35 / 18 - 2.66)
    assert np.isnan(c.moving_ranges[[4, 5]]).all()  # the screened ranges
    excel = xmr(data, HIGHER, screen_outliers=False)
    assert excel.mr_bar == pytest.approx(32 / 17) and excel.current.screened == 0
    assert excel.ucl == pytest.approx(35 / 18 + 2.66 * 32 / 17)
    for chart in (c, excel):  # the 10 is above the upper limit either way
        assert chart.causes[4] == C.ABOVE_UCL
        assert chart.point_types.count(PointType.IMPROVEMENT) == 1


def test_flat_series_keeps_its_limits():
    # Every moving range 0: nothing is screened (see the module docstring), limits = mean.
    c = xmr([11] * 12)
    assert c.mr_bar == 0 and c.ucl == c.lcl == 11
    assert c.variation == Variation.COMMON_CAUSE


def test_trend_is_seven_points_not_six():
    # 10,12 x4 then 9..14: six rising points (five rises) -- no longer a trend.
    # mean 157/14 = 11.21; MR (7x2 + 3 + 5x1)/13 = 1.69; limits 6.71 .. 15.72,
    # 2-sigma 8.21 .. 14.22: nothing else fires either.
    six = xmr([10, 12] * 4 + [9, 10, 11, 12, 13, 14], HIGHER)
    assert not six.trend.any() and not six.special.any()
    # 8..14: seven rising points -> a trend; mean 165/15 = 11, MR 24/14 = 1.714,
    # limits 6.44 .. 15.56, 2-sigma 7.96 .. 14.04: no point outside or near a limit.
    seven = xmr([10, 12] * 4 + [8, 9, 10, 11, 12, 13, 14], HIGHER)
    assert list(seven.trend) == [False] * 8 + [True] * 7
    assert seven.causes[8:] == (C.TREND_INCREASING,) * 7
    assert seven.variation == Variation.IMPROVEMENT_HIGH


def test_shift_of_seven():
    # 16,8 x5 then seven 13s: mean 211/17 = 12.41, the 13s are the only run on one side.
    # MR nine 8s, 5, six 0s = 77/16 = 4.81; no range >= 3.267 x 4.81 = 15.7 is screened;
    # limits -0.39 .. 25.21, 2-sigma 3.88 .. 20.95.
    c = xmr([16, 8] * 5 + [13] * 7, LOWER)
    assert c.mr_bar == pytest.approx(77 / 16)
    assert list(c.shift) == [False] * 10 + [True] * 7
    assert c.causes[10:] == (C.SHIFT_ABOVE,) * 7
    assert c.variation == Variation.CONCERN_HIGH
    assert not xmr([16, 8] * 5 + [13] * 6).shift.any()  # six in a row is not a shift


def test_two_in_three_needs_all_three_on_one_side():
    # STABLE + 17, 11, 17: mean 11.8, MR 39/14 = 2.786: 2-sigma 16.74 < 17 < UCL 19.21.
    # The 11 is below the mean, so the window is not all on one side: no signal
    # (the old rule flagged the two 17s).
    c = xmr([*STABLE, 17, 11, 17], LOWER)
    assert c.upper_2s == pytest.approx(11.8 + 2 / 3 * 2.66 * 39 / 14)
    assert not c.two_in_three.any() and not c.special.any()
    # STABLE + 17, 12, 17: mean 178/15 = 11.867, MR 37/14 = 2.643: 2-sigma 16.55,
    # UCL 18.90; the 12 is above the mean -> the two 17s (not the 12) are flagged.
    same = xmr([*STABLE, 17, 12, 17], LOWER)
    assert list(same.two_in_three) == [False] * 12 + [True, False, True]
    assert same.causes[12:] == (C.TWO_IN_THREE_ABOVE, C.COMMON_CAUSE, C.TWO_IN_THREE_ABOVE)
    assert same.variation == Variation.CONCERN_HIGH


def test_two_in_three_does_not_count_points_outside_the_limits():
    # 10,12 x10 then 17, 13, 25: mean 275/23 = 11.957; MRs nineteen 2s, 5, 4, 12 = 59/22 =
    # 2.68; 12 >= 3.267 x 2.68 = 8.76 is screened -> 47/21 = 2.238; 2-sigma 15.93, UCL
    # 17.91. The 17 is near the limit, the 25 outside it: only one point *near* a limit
    # in the window, so the 17 is common cause (the old rule counted the 25 too).
    c = xmr([10, 12] * 10 + [17, 13, 25], LOWER)
    assert c.mr_bar == pytest.approx(47 / 21)
    assert c.causes[-3:] == (C.COMMON_CAUSE, C.COMMON_CAUSE, C.ABOVE_UCL)
    assert not c.two_in_three.any()


def test_trend_takes_priority_over_shift():
    # 0,20 x6 then 18 down to 12: mean 225/19 = 11.84; MR eleven 20s, 2, six 1s = 228/18
    # = 12.67 (none screened); limits -21.85 .. 45.54. The 20,18,...,12 are 8 falling
    # points, all above the mean: both a trend (down) and a shift (above). The reference
    # ranks the trend first, so the signal is low: concern when higher is better (the old
    # order, shift before trend, said improvement high).
    c = xmr([0, 20] * 6 + [18, 17, 16, 15, 14, 13, 12], HIGHER)
    assert c.trend[-8:].all() and c.shift[-8:].all()
    assert c.causes[-8:] == (C.TREND_DECREASING,) * 8
    assert c.variation == Variation.CONCERN_LOW


def test_point_between_two_trends_follows_the_reference():
    # 1..7 then 7..13 after 0,20 x6: two rising trends of 7 meeting at a level step. The
    # reference labels the first 7 by the (level) step after it: "Decreasing".
    c = xmr([0, 20] * 6 + [1, 2, 3, 4, 5, 6, 7, 7, 8, 9, 10, 11, 12, 13], HIGHER)
    assert (
        c.causes[12:]
        == (C.TREND_INCREASING,) * 6 + (C.TREND_DECREASING,) + (C.TREND_INCREASING,) * 7
    )


def test_rebase_gives_each_segment_its_own_limits_and_rules():
    # Without rebasing: mean 16, MR 2 (the jump of 8 is screened), limits 10.68 .. 21.32:
    # every point is a special cause (outside the limits, two in three or a shift).
    series = STABLE + [20, 22] * 6
    whole = xmr(series, LOWER)
    assert whole.mean == 16 and whole.mr_bar == 2 and whole.special.all()
    # Rebased at position 12: 11 +/- 5.32 then 21 +/- 5.32, all common cause.
    c = xmr(series, LOWER, target=18, rebase=[12])
    assert [(s.start, s.stop, s.mean, s.mr_bar) for s in c.segments] == [
        (0, 12, 11, 2),
        (12, 24, 21, 2),
    ]
    assert c.segment_of(3).ucl == pytest.approx(16.32)
    assert c.segment_of(12).lcl == pytest.approx(15.68)
    assert c.mean == 21 and c.ucl == pytest.approx(26.32)  # the current process
    assert not c.special.any()
    # Moving range 12 -> 20 crosses the rebase: it belongs to no segment.
    assert np.isnan(c.moving_ranges[12])
    # Assurance from the latest segment: target 18 lies inside 15.68 .. 26.32.
    assert c.assurance == Assurance.HIT_AND_MISS
    assert xmr(series, LOWER, target=18).assurance == Assurance.HIT_AND_MISS
    assert xmr(series, LOWER, target=14, rebase=[12]).assurance == Assurance.CONSISTENTLY_FAIL
    assert xmr(series, rebase=[0]).segments == xmr(series).segments  # 0 starts anyway
    with pytest.raises(ValueError, match="outside the chart"):
        xmr(series, rebase=[24])


def test_missing_value_is_skipped():
    # STABLE with its 6th value (12) missing: mean 120/11; the moving ranges either side of
    # the gap are not computed, the other nine are 2 -> mean MR 2.
    series: list[float | None] = list(STABLE)
    series[5] = None
    c = xmr(series, LOWER)
    assert c.mean == pytest.approx(120 / 11) and c.mr_bar == 2
    assert np.isnan(c.moving_ranges[[0, 5, 6]]).all()
    assert c.causes[5] is None and c.signal(5) is None and c.point_type(5) is None
    assert c.signals[4] == Variation.COMMON_CAUSE
    assert math.isnan(c.values[5])
    # NaN is missing too; the variation icon is the latest point with a value.
    tail = xmr([*STABLE, 20, float("nan")], LOWER)
    assert tail.causes[-1] is None and tail.causes[-2] == C.ABOVE_UCL
    assert tail.variation == Variation.CONCERN_HIGH


def test_missing_value_breaks_a_run():
    # 10,12 x5 then eight 13s: the 12 before them and the 13s are a shift above.
    full = xmr([10, 12] * 5 + [13] * 8)
    assert full.causes[9:] == (C.SHIFT_ABOVE,) * 9
    # With the 4th 13 missing no window of 7 consecutive periods is complete: no shift.
    gap = xmr([10, 12] * 5 + [13, 13, 13, None, 13, 13, 13, 13])
    assert not gap.shift.any() and not gap.special.any()


def test_fix_after_n_points():
    # Mean and limits from the first 12 periods only: the later 20s are outside them.
    c = xmr([*STABLE, 20, 20], LOWER, fix_after_n_points=12)
    assert c.mean == 11 and c.ucl == pytest.approx(16.32)
    assert c.causes[-2:] == (C.ABOVE_UCL, C.ABOVE_UCL)
    with pytest.raises(ValueError, match="at least 12"):
        xmr(STABLE, fix_after_n_points=11)


def test_trial_limits_below_13_periods():
    assert xmr(STABLE).current.trial_limits  # 12
    assert not xmr([*STABLE, 10]).current.trial_limits  # 13
    assert not xmr([*STABLE, 10]).few_points


def test_direction_neutral_and_assurance():
    # STABLE + 20: mean 152/13 = 11.69; MRs eleven 2s and 8 -> 2.5 (8 < 3.267 x 2.5 = 8.17
    # is kept); UCL 11.69 + 2.66 x 2.5 = 18.34 < 20.
    series = [*STABLE, 20]
    assert xmr(series).mr_bar == 2.5
    assert xmr(series).variation == Variation.NEUTRAL_HIGH
    assert xmr(series).point_type(12) == PointType.NEUTRAL_HIGH
    assert xmr(series, LOWER).variation == Variation.CONCERN_HIGH
    assert xmr(series, HIGHER).variation == Variation.IMPROVEMENT_HIGH
    # STABLE limits 5.68 .. 16.32
    assert xmr(STABLE, LOWER, target=20).assurance == Assurance.CONSISTENTLY_PASS
    assert xmr(STABLE, LOWER, target=3).assurance == Assurance.CONSISTENTLY_FAIL
    assert xmr(STABLE, LOWER, target=11).assurance == Assurance.HIT_AND_MISS
    assert xmr(STABLE, HIGHER, target=3).assurance == Assurance.CONSISTENTLY_PASS
    assert xmr(STABLE, HIGHER, target=20).assurance == Assurance.CONSISTENTLY_FAIL
    assert xmr(STABLE, HIGHER).assurance is None
    assert xmr(STABLE, None, target=20).assurance is None  # neutral: no assurance


def test_bad_input():
    with pytest.raises(ValueError, match="at least 2 points"):
        xmr([1.0])
    with pytest.raises(ValueError, match="finite"):
        xmr([1.0, float("inf"), 2.0])
