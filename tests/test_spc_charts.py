from __future__ import annotations

import pytest

from bettercare.analytics.spc import xmr
from bettercare.domain.metrics import Direction
from bettercare.reporting.spc_charts import CONCERN, IMPROVEMENT, point_colours, xmr_chart_png


def test_png_and_colours():
    # [10,12]x6 then 20: the 20 is above the UCL (see test_spc) -> concern when lower is better
    chart = xmr([10, 12] * 6 + [20], Direction.LOWER_IS_BETTER, target=11)
    png = xmr_chart_png(chart, [f"2016-{m:02d}" for m in range(1, 14)], "Falls 65+")
    assert png.startswith(b"\x89PNG")
    assert point_colours(chart)[-1] == CONCERN
    better = xmr([10, 12] * 6 + [20], Direction.HIGHER_IS_BETTER)
    assert point_colours(better)[-1] == IMPROVEMENT
    with pytest.raises(ValueError, match="one label per point"):
        xmr_chart_png(chart, ["a"])
