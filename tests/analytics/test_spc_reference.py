"""NHSRplotthedots' own test cases, ported: bettercare's SPC must give the same answers.

Source: https://github.com/nhs-r-community/NHSRplotthedots (v0.2.2, commit 050b07d,
MIT licence, (c) 2021 NHS-R Community). Each test names the file its inputs and expected
outputs come from (``tests/testthat/...`` or ``vignettes/...``); no reference code is
copied. Cases that only check R plumbing (mocks of dplyr calls, argument validation,
plotting) have no counterpart here.

Several reference cases draw their data with R's ``set.seed(123); rnorm(n)``.
:func:`r_rnorm` reproduces R's default generators (Mersenne-Twister seeded by
``set.seed``'s linear congruential scrambling, normals by inversion with R's 2^27
two-draw construction) so those datasets are exact; it is checked against the values the
reference's snapshot prints.
"""

from __future__ import annotations

import random
from statistics import NormalDist

import numpy as np
import pytest

from bettercare.analytics.spc import (
    Assurance,
    PointType,
    SpecialCause,
    Variation,
    assurance_icon,
    part_of_seven,
    seven_point_trend,
    seven_points_one_side,
    special_causes,
    two_in_three,
    xmr,
)
from bettercare.domain.metrics import Direction

INCREASE, DECREASE, NEUTRAL = Direction.HIGHER_IS_BETTER, Direction.LOWER_IS_BETTER, None


class RNorm:
    """R's ``set.seed(seed)`` then successive ``rnorm(n, mean, sd)`` calls."""

    def __init__(self, seed: int) -> None:
        s = seed & 0xFFFFFFFF
        for _ in range(50):  # R's initial scrambling
            s = (69069 * s + 1) & 0xFFFFFFFF
        state = []
        for _ in range(625):  # mti slot, then the 624 Mersenne-Twister words
            s = (69069 * s + 1) & 0xFFFFFFFF
            state.append(s)
        self._mt = random.Random()
        self._mt.setstate((3, (*state[1:], 624), None))  # 624: regenerate on first draw

    def _unif(self) -> float:
        return self._mt.getrandbits(32) * 2.3283064365386963e-10

    def __call__(self, n: int, mean: float = 0.0, sd: float = 1.0) -> list[float]:
        big = 134217728  # 2^27
        out = []
        for _ in range(n):
            u = int(big * self._unif()) + self._unif()
            out.append(mean + sd * NormalDist().inv_cdf(u / big))
        return out


def r_rnorm(n: int, seed: int = 123) -> list[float]:
    return RNorm(seed)(n)


def _v(xs) -> np.ndarray:
    return np.asarray(xs, dtype=float)


def test_r_rnorm_reproduces_the_reference_data():
    # tests/testthat/_snaps/ptd_spc_standard.md prints the first values of rnorm(20).
    y = r_rnorm(20)
    assert y[:4] == pytest.approx([-0.56047565, -0.23017749, 1.55870831, 0.07050839], abs=5e-9)


# tests/testthat/test-ptd_calculate_point_type.R ----------------------------------------


def test_seven_point_one_side_mean():
    assert list(seven_points_one_side(_v([]))) == []
    assert list(seven_points_one_side(_v([1] * 6))) == [0] * 6
    assert list(seven_points_one_side(_v([1] * 6 + [-1]))) == [0] * 7
    assert list(seven_points_one_side(_v([1] * 8 + [-1]))) == [0] * 6 + [1, 1, 0]
    assert list(seven_points_one_side(_v([-1] * 8 + [1]))) == [0] * 6 + [1, 1, 0]


def test_part_of_seven_trend():
    assert list(part_of_seven(_v([]))) == []
    assert list(part_of_seven(_v([0] * 6))) == [0] * 6
    assert list(part_of_seven(_v([0] * 6 + [1, 0]))) == [1] * 7 + [0]
    assert list(part_of_seven(_v([0] * 7 + [1, 0]))) == [0] + [1] * 7 + [0]
    assert list(part_of_seven(_v([0] * 6 + [-1, 0]))) == [1] * 7 + [0]
    assert list(part_of_seven(_v([0] * 7 + [-1, 0]))) == [0] + [1] * 7 + [0]


def test_seven_point_trend():
    assert list(seven_point_trend(_v([]))) == []
    assert list(seven_point_trend(_v(range(1, 7)))) == [0] * 6
    assert list(seven_point_trend(_v([1, 2, 3, 3, 4, 5, 6]))) == [0] * 7
    assert list(seven_point_trend(_v(range(1, 8)))) == [0] * 6 + [1]
    assert list(seven_point_trend(_v([2, *range(1, 8), 3]))) == [0] * 7 + [1, 0]
    assert list(seven_point_trend(_v(range(7, 0, -1)))) == [0] * 6 + [-1]
    assert list(seven_point_trend(_v([2, *range(7, 0, -1), 3]))) == [0] * 7 + [-1, 0]


def test_two_in_three():
    assert list(two_in_three(_v([]), _v([]))) == []
    for close in ([1, 0, 1], [0, 1, 1], [1, 1, 0]):
        assert list(two_in_three(_v(close), _v([1, 1, 1]))) == [1, 1, 1]
    same = _v([1] * 7)
    assert list(two_in_three(_v([0, 0, 1, 0, 1, 0, 0]), same)) == [0, 0, 1, 1, 1, 0, 0]
    assert list(two_in_three(_v([0, 0, 1, 1, 0, 0, 0]), same)) == [0, 1, 1, 1, 1, 0, 0]


def test_two_in_three_opposite_sides_of_the_mean():
    for close in ([1, 0, 1], [0, 1, 1], [1, 1, 0]):
        assert not two_in_three(_v(close), _v([1, -1, 1])).any()
    assert not two_in_three(_v([0, 0, 1, 0, 1, 0, 0]), _v([1, -1, 1, -1, 1, -1, 1])).any()
    assert not two_in_three(_v([0, 0, 1, 1, 0, 0, 0]), _v([-1, 1, -1, 1, -1, 1, -1])).any()


@pytest.mark.parametrize(
    ("close", "expected"),
    [
        ([1, 0, 1], [1, 0, 1]),
        ([0, 1, 1], [0, 1, 1]),
        ([1, 1, 0], [1, 1, 0]),
        ([0, 0, 1, 0, 1, 0, 0], [0, 0, 1, 0, 1, 0, 0]),
        ([1, 0, 0, 1], [0, 0, 0, 0]),
        ([1, 0, 0, 1, 1], [0, 0, 0, 1, 1]),
    ],
)
def test_part_of_two_in_three(close, expected):
    # Only the points near a limit are flagged, all on one side of the mean here.
    c = _v(close).astype(bool)
    assert list(two_in_three(c, _v([1] * len(close))) & c) == [bool(e) for e in expected]


def test_special_cause_type_priority():
    # The reference mocks the rule results; the same flags give the same types, in the
    # priority outside limits > trend > two in three > shift.
    y = _v(range(1, 9))
    rtm = _v([1] * 4 + [-1] * 4)
    outside = _v([0, 0, 0, 0, 0, 1, -1, 0]) != 0
    trend = _v([1, -1, 0, 0, 0, 0, 0, 0]) != 0
    shift = _v([0, 0, 1, -1, 0, 0, 0, 0]) != 0
    two3 = _v([0, 0, 0, 0, 1, 0, 0, 0]) != 0
    got = special_causes(y, rtm, outside, trend, two3, shift)
    assert [c.label for c in got] == [
        "7 Point Trend (Increasing)",
        "7 Point Trend (Increasing)",
        "7 Points Above CL",
        "7 Points Above CL",
        "2 in 3 Below CL",
        "Below LCL",
        "Below LCL",
        "Common Cause",
    ]


# tests/testthat/test-ptd_spc_standard.R and _snaps/ptd_spc_standard.md ---------------


def test_spc_standard_snapshot_and_outlier_screening():
    y = r_rnorm(20)
    r1 = xmr(y)
    assert r1.mean == pytest.approx(0.1416238, abs=5e-8)
    assert r1.lcl == pytest.approx(-3.01138, abs=5e-6)
    assert r1.ucl == pytest.approx(3.294627, abs=5e-7)
    rtm = np.sign(r1.values - r1.mean)
    assert list(rtm[:14]) == [-1, -1, 1, -1, -1, 1, 1, -1, -1, -1, 1, 1, 1, -1]
    assert not r1.outside.any()

    y[14] = 10  # data$y[15] <- 10
    r2 = xmr(y)
    assert r2.mean == pytest.approx(0.6694159, abs=5e-8)
    assert r2.lcl == pytest.approx(-2.383666, abs=5e-7)
    assert r2.ucl == pytest.approx(3.722497, abs=5e-7)
    rtm = np.sign(r2.values - r2.mean)
    assert list(rtm[:14]) == [-1, -1, 1, -1, -1, 1, -1, -1, -1, -1, 1, -1, -1, -1]

    r3 = xmr(y, screen_outliers=False)
    assert r3.mean == pytest.approx(0.6694159, abs=5e-8)
    assert r3.lcl == pytest.approx(-4.596625, abs=5e-7)
    assert r3.ucl == pytest.approx(5.935457, abs=5e-7)
    assert r3.ucl - r3.lcl > r2.ucl - r2.lcl


def test_rebase_group():
    y = r_rnorm(20)
    assert [(s.start, s.stop) for s in xmr(y).segments] == [(0, 20)]
    assert [(s.start, s.stop) for s in xmr(y, rebase=[10]).segments] == [(0, 10), (10, 20)]


def test_fix_after_n_points_changes_the_limits():
    y = r_rnorm(20)
    s0, s1 = xmr(y), xmr(y, fix_after_n_points=12)
    assert s1.lcl != s0.lcl and s1.ucl != s0.ucl


def test_two_in_three_only_on_the_same_side():
    data = [1.0, -1.0] * 8
    data[14], data[15] = 5.5, -5.5
    s = xmr(data, INCREASE)
    assert s.point_types[-2:] == [PointType.COMMON_CAUSE, PointType.COMMON_CAUSE]


# tests/testthat/test-ptd_spc.R and _snaps/ptd_spc.md (summary) ------------------------


def test_summary():
    y = r_rnorm(20)
    for s in (xmr(y), xmr(y, rebase=[0])):  # rebasing on the first date changes nothing
        assert (round(s.mean, 3), round(s.lcl, 2), round(s.ucl, 2)) == (0.142, -3.01, 3.29)
        assert s.point_types.count(PointType.COMMON_CAUSE) == 20
        assert s.variation == Variation.COMMON_CAUSE
    # facet_field: the first and last 10 points as separate charts
    assert [
        (round(s.mean, 4), round(s.lcl, 2), round(s.ucl, 2))
        for s in (
            xmr(y[:10]),
            xmr(y[10:]),
        )
    ] == [(0.0746, -2.60, 2.75), (0.2086, -3.28, 3.70)]
    assert not xmr(y[:10]).special.any() and not xmr(y[10:]).special.any()
    assert xmr(y, INCREASE, target=0.5).assurance == Assurance.HIT_AND_MISS


# tests/testthat/test-geom_ptd_icon.R (ptd_get_icons) ---------------------------------


def test_icons():
    rnorm = RNorm(123)
    d = rnorm(24)

    def icons(values, direction, target=None):
        s = xmr(values, direction, target)
        return s.variation, s.assurance

    assert icons(d, INCREASE) == (Variation.COMMON_CAUSE, None)
    assert icons(d, INCREASE, 0.5) == (Variation.COMMON_CAUSE, Assurance.HIT_AND_MISS)
    # facet = "f": each half of 12 on its own
    for half in (d[:12], d[12:]):
        assert icons(half, INCREASE, 0.5) == (Variation.COMMON_CAUSE, Assurance.HIT_AND_MISS)

    d[12:] = rnorm(12, 5)  # d$y[d$f == 1] <- rnorm(12, 5)
    assert icons(d, INCREASE, -3) == (Variation.IMPROVEMENT_HIGH, Assurance.CONSISTENTLY_PASS)
    assert icons(d, DECREASE, -3) == (Variation.CONCERN_HIGH, Assurance.CONSISTENTLY_FAIL)

    d[12:] = rnorm(12, -5)  # d$y[d$f == 1] <- rnorm(12, -5)
    assert icons(d, INCREASE, 3) == (Variation.CONCERN_LOW, Assurance.CONSISTENTLY_FAIL)
    assert icons(d, DECREASE, 3) == (Variation.IMPROVEMENT_LOW, Assurance.CONSISTENTLY_PASS)
    assert icons(d, NEUTRAL, 3) == (Variation.NEUTRAL_LOW, None)


# tests/testthat/test-ptd_calculate_assurance_type.R ----------------------------------

LIMITS = [(1, 3), (5, 7), (1, 5)]  # (lpl, upl) of facets a, b, c; target 4


@pytest.mark.parametrize(
    ("direction", "expected"),
    [
        (INCREASE, ["consistently_fail", "consistently_pass", "hit_and_miss"]),
        (DECREASE, ["consistently_pass", "consistently_fail", "hit_and_miss"]),
        (NEUTRAL, [None, None, None]),
    ],
)
def test_assurance_type(direction, expected):
    got = [assurance_icon(4, lo, hi, direction) for lo, hi in LIMITS]
    assert [a.value if a else None for a in got] == expected


def test_assurance_type_without_target_or_after_rebase():
    assert xmr(r_rnorm(20), INCREASE).assurance is None
    # The reference judges the last row's limits, i.e. the latest segment's (its test
    # reorders rows): 10,12 x6 has limits 5.68 .. 16.32, 30,32 x6 has 25.68 .. 36.32;
    # a target of 20 is above the first and below the second.
    s = xmr([10, 12] * 6 + [30, 32] * 6, DECREASE, target=20, rebase=[12])
    assert s.assurance == Assurance.CONSISTENTLY_FAIL
    s = xmr([30, 32] * 6 + [10, 12] * 6, DECREASE, target=20, rebase=[12])
    assert s.assurance == Assurance.CONSISTENTLY_PASS


# tests/testthat/test-ptd_add_short_group_warnings.R ----------------------------------


def test_short_group_warnings():
    # Groups shorter than the threshold (13 periods by default) have trial limits.
    y = r_rnorm(80)
    # facet a: rebase groups of 35 and 5 points; facet b: 20 and 20
    a = xmr(y[:40], rebase=[35])
    b = xmr(y[40:], rebase=[20])
    assert [s.trial_limits for s in a.segments] == [False, True]
    assert [s.trial_limits for s in b.segments] == [False, False]
    assert a.few_points and not b.few_points


# tests/testthat/test-ptd_add_rebase_column.R -----------------------------------------


def test_rebase_dates_mark_segment_starts():
    # Dates 2020-01-02 .. 2020-01-11; rebasing on 2020-01-03 and 2020-01-08 starts
    # segments at positions 1 and 6.
    s = xmr(r_rnorm(10), rebase=[1, 6])
    assert [(g.start, g.stop) for g in s.segments] == [(0, 1), (1, 6), (6, 10)]
    assert np.isnan(s.segments[0].ucl)  # one point: no moving range, no limits
    assert s.causes[0] == SpecialCause.COMMON_CAUSE


# vignettes/deviations.Rmd ------------------------------------------------------------


def test_deviation_from_excel_outlier_screening():
    data = [1, 2, 1, 2, 10, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1]
    for screen, limits in ((True, (4.6, 1.94, -0.72)), (False, (6.95, 1.94, -3.06))):
        s = xmr(data, INCREASE, screen_outliers=screen)
        assert (round(s.ucl, 2), round(s.mean, 2), round(s.lcl, 2)) == limits
        # "four grey common cause points followed by a single blue special cause
        # improvement point followed by a further 12 grey common cause points" (the
        # caption miscounts: 13 of the 18 points follow the 10)
        assert (
            s.point_types
            == [PointType.COMMON_CAUSE] * 4
            + [PointType.IMPROVEMENT]
            + [PointType.COMMON_CAUSE] * 13
        )
