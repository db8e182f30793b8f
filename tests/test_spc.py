"""Making Data Count rules on textbook series, each worked by hand."""

from __future__ import annotations

import pytest

from bettercare.analytics.spc import Assurance, Variation, xmr
from bettercare.domain.metrics import Direction

LOWER = Direction.LOWER_IS_BETTER
HIGHER = Direction.HIGHER_IS_BETTER
STABLE = [10, 12] * 6  # mean 11, every moving range 2


def test_xmr_limits_common_cause():
    # mean 11; mean MR 2; limits 11 +/- 2.66 x 2 = 5.68 .. 16.32 (3/1.128 = 2.6596)
    c = xmr(STABLE, LOWER)
    assert c.mean == 11 and c.mr_bar == 2
    assert c.ucl == pytest.approx(11 + 2 * 3 / 1.128) == pytest.approx(16.3191, abs=1e-4)
    assert c.lcl == pytest.approx(5.6809, abs=1e-4)
    assert c.upper_2s == pytest.approx(11 + 2 * 2 / 1.128)
    assert not c.special.any()
    assert c.variation == Variation.COMMON_CAUSE
    assert c.few_points  # 12 < 15


def test_point_outside_limits():
    # + 20: mean = (132 + 20) / 13 = 11.692; MRs eleven 2s and |20-12| = 8 -> 30/12 = 2.5
    # UCL = 11.692 + 2.66 x 2.5 = 18.34 < 20 -> astronomical high point
    c = xmr([*STABLE, 20], LOWER)
    assert c.mr_bar == pytest.approx(2.5)
    assert c.ucl == pytest.approx(152 / 13 + 2.5 * 3 / 1.128)
    assert list(c.outside).index(True) == 12 and c.outside.sum() == 1
    assert c.variation == Variation.CONCERN_HIGH  # high is bad when lower is better
    assert xmr([*STABLE, 20], HIGHER).variation == Variation.IMPROVEMENT_HIGH
    assert xmr([*STABLE, 20]).variation == Variation.NEITHER_HIGH


def test_shift_of_seven():
    # 16,8 x5 (alternating about 12) then seven 13s: mean = (120 + 91)/17 = 12.41;
    # only the 13s form a run on one side (above; the 8 before them is below) -> shift.
    # MR: nine 8s, |13-8| = 5, six 0s -> 77/16 = 4.8125: limits -0.39 .. 25.21, 2-sigma
    # 3.88 .. 20.95 -> nothing else fires; no trend (diffs alternate, then 0).
    series = [16, 8] * 5 + [13] * 7
    c = xmr(series, LOWER)
    assert c.mr_bar == pytest.approx(77 / 16)
    assert list(c.shift) == [False] * 10 + [True] * 7
    assert not c.outside.any() and not c.trend.any() and not c.two_of_three.any()
    assert c.variation == Variation.CONCERN_HIGH
    # Six in a row is not a shift.
    assert not xmr([16, 8] * 5 + [13] * 6).shift.any()


def test_trend_of_six():
    # 10,12 x4 then 9,10,11,12,13,14: five rising steps join six points -> trend up.
    # mean = (88 + 69)/14 = 11.21; MR = (7x2 + 3 + 5x1)/13 = 1.692; UCL 15.71, +2s 14.21:
    # nothing outside, no 2-of-3; at most 3 points in a row above the mean.
    c = xmr([10, 12] * 4 + [9, 10, 11, 12, 13, 14], HIGHER)
    assert list(c.trend) == [False] * 8 + [True] * 6
    assert not c.outside.any() and not c.shift.any() and not c.two_of_three.any()
    assert c.variation == Variation.IMPROVEMENT_HIGH
    # Five rising points (four steps) is not a trend; a falling run of six is, low.
    assert not xmr([10, 12] * 4 + [10, 11, 12, 13, 14]).trend.any()
    down = xmr([10, 12] * 4 + [14, 13, 12, 11, 10, 9], HIGHER)
    assert down.trend[-6:].all() and down.variation == Variation.CONCERN_LOW


def test_two_of_three_beyond_two_sigma():
    # STABLE + 17, 11, 17: mean 177/15 = 11.8; MR (22 + 5 + 6 + 6)/14 = 2.786;
    # sigma = 2.786/1.128 = 2.470: +2s = 16.74 < 17 < UCL 19.21.
    # The two 17s (2 of the last 3) are flagged; 11 is not.
    c = xmr([*STABLE, 17, 11, 17], LOWER)
    assert c.upper_2s == pytest.approx(11.8 + 2 * (39 / 14) / 1.128)
    assert list(c.two_of_three) == [False] * 12 + [True, False, True]
    assert not c.outside.any()
    assert c.variation == Variation.CONCERN_HIGH
    # A single 17 is not enough.
    assert not xmr([*STABLE, 17, 11, 11]).two_of_three.any()


def test_assurance_icons():
    # STABLE limits 5.68 .. 16.32
    assert xmr(STABLE, LOWER, target=20).assurance == Assurance.CONSISTENTLY_PASS
    assert xmr(STABLE, LOWER, target=3).assurance == Assurance.CONSISTENTLY_FAIL
    assert xmr(STABLE, LOWER, target=11).assurance == Assurance.HIT_AND_MISS
    assert xmr(STABLE, HIGHER, target=3).assurance == Assurance.CONSISTENTLY_PASS
    assert xmr(STABLE, HIGHER, target=20).assurance == Assurance.CONSISTENTLY_FAIL
    assert xmr(STABLE, HIGHER).assurance is None


def test_baseline_limits_and_bad_input():
    # Limits from the first 12 points only: the later 20 is outside them.
    c = xmr([*STABLE, 20, 20], LOWER, baseline=12)
    assert c.mean == 11 and c.outside[-2:].all()
    with pytest.raises(ValueError, match="at least 2 points"):
        xmr([1.0])
    with pytest.raises(ValueError, match="missing values"):
        xmr([1.0, float("nan"), 2.0])
