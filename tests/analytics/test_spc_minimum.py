"""SPC limits and assurance only with enough points (at least 12 in the latest segment).

Two annual points used to give a board "assurance"; now the chart says it has too few
points, the plan-vs-actual frame leaves its SPC columns empty with a note, and the chart
image draws no limits. The minimum and its source are in bettercare.analytics.spc.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pytest

from bettercare.analytics.spc import MIN_POINTS, too_few_points, xmr
from bettercare.domain.metrics import Direction
from bettercare.reporting.spc_charts import COMMON, point_colours, xmr_figure


def test_the_stated_minimum_is_twelve():
    assert MIN_POINTS == 12
    assert too_few_points(12) is None
    assert too_few_points(1) == "1 point: too few for SPC limits and assurance (at least 12)"


@pytest.mark.parametrize(
    ("values", "points"),
    [
        ([650.0, 610.0], 2),  # two annual points
        ([1.0] * 11, 11),
        ([1.0, None, 2.0, math.nan] + [3.0] * 9, 11),  # missing values do not count
    ],
)
def test_too_few_points_are_named(values, points):
    chart = xmr(values, Direction.LOWER_IS_BETTER, target=600.0)
    assert chart.points == points
    assert chart.too_few_points == too_few_points(points)


def test_only_the_latest_segment_counts():
    """After a rebase the limits rest on the new segment's points alone."""
    chart = xmr([5.0] * 12 + [6.0] * 4, rebase=[12])
    assert chart.points == 4 and chart.too_few_points is not None
    assert xmr([5.0] * 12).too_few_points is None


def test_chart_with_too_few_points_draws_no_limits_and_says_so():
    chart = xmr([700.0, 400.0, 710.0], Direction.LOWER_IS_BETTER, target=600.0)
    assert point_colours(chart) == [COMMON] * 3  # no point called a special cause
    fig = xmr_figure(chart, ["2023/24", "2024/25", "2025/26"])
    try:
        (ax,) = fig.axes
        assert not ax.collections[:-1]  # the scatter of values only: no mean or limit lines
        assert [t.get_text() for t in ax.texts] == [
            "3 points: too few for SPC limits and assurance (at least 12)"
        ]
    finally:
        plt.close(fig)
