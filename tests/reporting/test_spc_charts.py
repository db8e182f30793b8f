from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

from bettercare.analytics.spc import xmr
from bettercare.domain.metrics import Direction
from bettercare.reporting.spc_charts import (
    COMMON,
    CONCERN,
    IMPROVEMENT,
    NEUTRAL,
    point_colours,
    xmr_chart_png,
    xmr_figure,
)

LABELS = [f"2016-{m:02d}" for m in range(1, 13)] + [f"2017-{m:02d}" for m in range(1, 13)]


def test_png_and_colours():
    # [10,12]x6 then 20: the 20 is above the UCL (see test_spc) -> concern when lower is better
    chart = xmr([10, 12] * 6 + [20], Direction.LOWER_IS_BETTER, target=11)
    png = xmr_chart_png(chart, LABELS[:13], "Falls 65+")
    assert png.startswith(b"\x89PNG")
    assert point_colours(chart)[-1] == CONCERN
    assert point_colours(chart)[0] == COMMON
    better = xmr([10, 12] * 6 + [20], Direction.HIGHER_IS_BETTER)
    assert point_colours(better)[-1] == IMPROVEMENT
    assert point_colours(xmr([10, 12] * 6 + [20]))[-1] == NEUTRAL
    with pytest.raises(ValueError, match="one label per point"):
        xmr_chart_png(chart, ["a"])


def _hlines(fig) -> list[tuple[float, float, float]]:
    """(x from, x to, y) of every horizontal line segment drawn with hlines."""
    out = []
    for coll in fig.axes[0].collections:
        for seg in getattr(coll, "get_segments", lambda: [])():
            (x0, y0), (x1, y1) = seg
            if y0 == y1:
                out.append((float(x0), float(x1), round(float(y0), 2)))
    return sorted(out)


def test_rebased_chart_draws_each_segments_limits():
    # Segments 10,12 x6 (11, 5.68 .. 16.32) and 20,22 x6 (21, 15.68 .. 26.32).
    chart = xmr([10, 12] * 6 + [20, 22] * 6, Direction.LOWER_IS_BETTER, rebase=[12])
    fig = xmr_figure(chart, LABELS)
    try:
        assert _hlines(fig) == [
            (0.0, 11.0, 5.68),
            (0.0, 11.0, 11.0),
            (0.0, 11.0, 16.32),
            (12.0, 23.0, 15.68),
            (12.0, 23.0, 21.0),
            (12.0, 23.0, 26.32),
        ]
    finally:
        plt.close(fig)


def test_missing_value_is_not_drawn():
    values = [10, 12] * 6
    values[5] = None
    chart = xmr(values, Direction.LOWER_IS_BETTER)
    assert point_colours(chart)[5] is None
    fig = xmr_figure(chart, LABELS[:12])
    try:
        points = fig.axes[0].collections[-1].get_offsets()
        assert len(points) == 11 and 5 not in list(points[:, 0])
    finally:
        plt.close(fig)
    assert xmr_chart_png(chart, LABELS[:12]).startswith(b"\x89PNG")


def test_drawing_stays_within_the_measures_bounds():
    """A percentage near 100 and a small rate near 0: limits drawn at the bounds only."""
    # 96, 99 alternating: mean 97.5, mean moving range 3, limits 97.5 +- 7.98 -> 89.52-105.48
    pct = xmr([96.0, 99.0] * 6, Direction.HIGHER_IS_BETTER)
    seg = pct.segments[0]
    assert seg.ucl == pytest.approx(105.48) and seg.lcl == pytest.approx(89.52)
    fig = xmr_figure(pct, LABELS[:12], metric="reablement_91_days")
    try:
        ys = [y for _, _, y in _hlines(fig)]
        assert max(ys) == 100.0 and min(ys) == pytest.approx(89.52)  # UCL drawn at 100%
        low, high = fig.axes[0].get_ylim()
        assert low >= 0 and high <= 100
        assert fig.axes[0].get_ylabel().startswith("% of people 65+")
        assert next(t.get_text() for t in fig.axes[0].get_xticklabels()) == "January 2016"
    finally:
        plt.close(fig)
    assert pct.segments[0].ucl == pytest.approx(105.48)  # the computed limit is unchanged
    # 1, 4 alternating: mean 2.5, limits 2.5 +- 7.98 -> LCL -5.48 drawn at 0
    rate = xmr([1.0, 4.0] * 6, Direction.LOWER_IS_BETTER)
    fig = xmr_figure(rate, LABELS[:12], metric="delayed_transfers_of_care")
    try:
        assert min(y for _, _, y in _hlines(fig)) == 0.0
        assert fig.axes[0].get_ylim()[0] >= 0
    finally:
        plt.close(fig)
    assert rate.segments[0].lcl == pytest.approx(-5.48)
