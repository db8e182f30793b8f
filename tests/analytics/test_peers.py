import math

import pytest

from bettercare.analytics.peers import (
    Z95,
    Z998,
    Adjustment,
    AreaFigure,
    Band,
    Measure,
    exact_limit,
    funnel,
    normal_limits,
    overdispersion,
    quartiles,
    rank_among,
)
from bettercare.domain.metrics import Direction


def test_proportion_limits_by_hand():
    # p0 = 0.1, n = 100: se = sqrt(0.1 * 0.9 / 100) = 0.03
    # 95%:   0.1 +/- 1.959964 * 0.03 = 0.1 +/- 0.0587989 -> 0.0412011 .. 0.1587989
    # 99.8%: 0.1 +/- 3.090232 * 0.03 = 0.1 +/- 0.0927070 -> 0.0072930 .. 0.1927070
    lo, hi = normal_limits(0.1, 100, Z95, Measure.PROPORTION)
    assert lo == pytest.approx(0.0412011, abs=1e-7)
    assert hi == pytest.approx(0.1587989, abs=1e-7)
    lo, hi = normal_limits(0.1, 100, Z998, Measure.PROPORTION)
    assert lo == pytest.approx(0.0072930, abs=1e-7)
    assert hi == pytest.approx(0.1927070, abs=1e-7)


def test_rate_limits_by_hand():
    # r0 = 0.02 events per person (2,000 per 100,000), n = 10,000 people:
    # se = sqrt(0.02 / 10000) = 0.00141421; 95% half-width 1.959964 * se = 0.00277181
    # -> 0.01722819 .. 0.02277181 (1,722.8 .. 2,277.2 per 100,000)
    lo, hi = normal_limits(0.02, 10_000, Z95, Measure.RATE)
    assert lo * 1e5 == pytest.approx(1722.819, abs=1e-3)
    assert hi * 1e5 == pytest.approx(2277.181, abs=1e-3)


def test_exact_binomial_limit_interpolated_by_hand():
    # Binomial(20, 0.5): F(5) = 21700 / 2^20 = 0.0206947, F(6) = 60460 / 2^20 = 0.0576591.
    # The 0.025 quantile is r = 6; alpha = (0.0576591 - 0.025) / (0.0576591 - 0.0206947)
    # = 0.883529; limit = (6 - 0.883529) / 20 = 0.2558236.
    assert exact_limit(0.5, 20, 0.025, Measure.PROPORTION) == pytest.approx(0.2558236, abs=1e-6)
    # Upper: F(13) = 1 - F(6) = 0.9423409, F(14) = 1 - F(5) = 0.9793053; r = 14;
    # alpha = (0.9793053 - 0.975) / (0.9793053 - 0.9423409) = 0.116471;
    # limit = (14 - 0.116471) / 20 = 0.6941765 (the interpolation is not symmetric).
    assert exact_limit(0.5, 20, 0.975, Measure.PROPORTION) == pytest.approx(0.6941765, abs=1e-6)


def test_exact_poisson_limit_by_hand():
    # Poisson(mean 2) (theta0 = 0.02, n = 100): F(0) = e^-2 = 0.1353353, F(1) = 3e^-2 =
    # 0.4060058. The 0.025 quantile is r = 0; F(-1) = 0, alpha = (0.1353353 - 0.025) /
    # 0.1353353 = 0.8152718; limit (0 - 0.815) / 100 < 0 -> clipped to 0.
    assert exact_limit(0.02, 100, 0.025, Measure.RATE) == 0.0
    # upper: the 0.975 quantile is 5 (F(4) = 0.9473470, F(5) = 0.9834364);
    # alpha = (0.9834364 - 0.975) / (0.9834364 - 0.9473470) = 0.2337667;
    # limit = (5 - 0.2337667) / 100 = 0.04766233
    assert exact_limit(0.02, 100, 0.975, Measure.RATE) == pytest.approx(0.04766233, abs=1e-6)


def _ten_units():
    # theta0 = 0.1, n = 100 each (s = 0.03); z-scores -3 -2 -1 -0.5 0 0 0.5 1 2 3
    zs = [-3, -2, -1, -0.5, 0, 0, 0.5, 1, 2, 3]
    return [0.1 + 0.03 * z for z in zs]


def test_overdispersion_winsorised_by_hand():
    # numpy's linear percentiles of the sorted z: 10th at position 0.9 -> -3 + 0.9 = -2.1,
    # 90th at 8.1 -> 2 + 0.1 = 2.1. Winsorised z: -2.1 -2 -1 -.5 0 0 .5 1 2 2.1;
    # sum of squares 4.41 + 4 + 1 + .25 + .25 + 1 + 4 + 4.41 = 19.32; phi = 1.932.
    # tau^2: w = 1 / 0.0009 = 1111.1 each; sum w - sum w^2 / sum w = 11111.1 - 1111.1
    # = 10000; tau^2 = (10 * 1.932 - 9) / 10000 = 0.001032.
    od = overdispersion(_ten_units(), [100] * 10, 0.1, Measure.PROPORTION)
    assert od.phi == pytest.approx(1.932, abs=1e-9)
    assert od.tau2 == pytest.approx(0.001032, abs=1e-9)
    assert od.overdispersed


def test_funnel_adjusted_limits_by_hand():
    units = [AreaFigure(f"E0600000{i}", 100 * y, 100) for i, y in enumerate(_ten_units())]
    # reablement_91_days is a percentage, higher is better
    f = funnel("reablement_91_days", "2023/24", units, target=10.0, adjustment=Adjustment.ADDITIVE)
    p = f.points[0]
    # additive: 10 +/- 100 * 1.959964 * sqrt(0.0009 + 0.001032) = 10 +/- 8.61493
    assert p.upper95 == pytest.approx(18.61493, abs=1e-4)
    assert p.lower95 == pytest.approx(1.38507, abs=1e-4)
    f = funnel("reablement_91_days", "2023/24", units, target=10.0)
    assert f.adjustment is Adjustment.MULTIPLICATIVE  # chosen because overdispersed
    # multiplicative: 10 +/- 100 * 1.959964 * sqrt(1.932) * 0.03 = 10 +/- 8.17283
    assert f.points[0].upper95 == pytest.approx(18.17283, abs=1e-4)
    f = funnel("reablement_91_days", "2023/24", units, target=10.0, adjustment=Adjustment.NONE)
    # unadjusted, z = -3 lies below 95% (4.12) but above 99.8% (0.73): a worse outlier
    low = f.points[0]
    assert low.value == pytest.approx(1.0)
    assert low.band is Band.BELOW_95 and low.better is False
    high = f.points[-1]  # z = +3: 19.0 > 15.88 and < 19.27
    assert high.band is Band.ABOVE_95 and high.better is True


def test_rank_and_quartiles():
    assert rank_among(5, [1, 2, 8], Direction.LOWER_IS_BETTER) == 3
    assert rank_among(5, [1, 2, 8], Direction.HIGHER_IS_BETTER) == 2
    # [1, 2, 3, 4]: positions 0.75, 1.5, 2.25 -> 1.75, 2.5, 3.25
    assert quartiles([4, 1, 3, 2]) == (1.75, 2.5, 3.25)


def test_funnel_needs_three_areas():
    with pytest.raises(ValueError, match="3 or more"):
        funnel("reablement_91_days", "2023/24", [AreaFigure("a", 1, 10), AreaFigure("b", 2, 10)])
    assert not math.isnan(Z95)
