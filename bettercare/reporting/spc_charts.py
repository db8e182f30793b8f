"""Making Data Count style XmR charts as PNG bytes (matplotlib, Agg backend).

Colours follow NHSRplotthedots / Making Data Count: grey common cause, blue special cause
of improvement, orange special cause of concern, purple when the metric has no direction;
solid mean line, dashed process limits, red dashed target.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from bettercare.analytics.spc import XmrChart

COMMON = "#7B7D7D"
IMPROVEMENT = "#289DE0"
CONCERN = "#FAB428"
NEITHER = "#361475"
TARGET = "#DE1B1B"


def point_colours(chart: XmrChart) -> list[str]:
    out = []
    for sig in chart.signals:
        if sig.is_improvement:
            out.append(IMPROVEMENT)
        elif sig.is_concern:
            out.append(CONCERN)
        elif sig.value.startswith("special_cause_neither"):
            out.append(NEITHER)
        else:
            out.append(COMMON)
    return out


def xmr_chart_png(
    chart: XmrChart, labels: Sequence[str], title: str = "", ylabel: str = ""
) -> bytes:
    """Render the chart (points, mean, limits, target, coloured special causes) to PNG."""
    if len(labels) != len(chart.values):
        raise ValueError("one label per point is needed")
    x = list(range(len(labels)))
    fig, ax = plt.subplots(figsize=(8, 3.6), dpi=100)
    try:
        ax.plot(x, chart.values, color=COMMON, linewidth=1.2, zorder=1)
        ax.scatter(x, chart.values, c=point_colours(chart), s=36, zorder=2)
        ax.axhline(chart.mean, color="black", linewidth=1, label=f"mean {chart.mean:,.2f}")
        for v, lab in ((chart.ucl, "process limits"), (chart.lcl, None)):
            ax.axhline(v, color=COMMON, linestyle="--", linewidth=1, label=lab)
        if chart.target is not None:
            ax.axhline(chart.target, color=TARGET, linestyle="--", linewidth=1.2,
                       label=f"target {chart.target:,.2f}")
        step = max(1, len(x) // 12)
        ax.set_xticks(x[::step], [labels[i] for i in x[::step]], rotation=45, ha="right",
                      fontsize=8)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel(ylabel, fontsize=9)
        ax.legend(fontsize=7, loc="best")
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()
    finally:
        plt.close(fig)
