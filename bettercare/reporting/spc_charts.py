"""Making Data Count style XmR charts as PNG bytes (matplotlib, Agg backend).

Colours are NHSRplotthedots' defaults (``R/ptd_spc_colours.R``): grey common cause, blue
special cause of improvement, orange special cause of concern, purple special cause when
the metric has no direction of good; solid black mean, dashed grey process limits, red
dashed target. As in the reference's default (``break_lines = "both"``), a rebased chart
draws each segment's mean and limits over that segment only and breaks the line of values
between segments; a missing value leaves a gap. A chart with too few points for limits
(:data:`~bettercare.analytics.spc.MIN_POINTS`) draws its values grey, with no mean or
limits, and says so on the chart.

Given the metric, the chart is drawn within the measure's natural bounds
(:mod:`bettercare.domain.labels`: a rate or count is never below 0, a percentage never
above 100): process limits beyond a bound are drawn at the bound and the axis stays
inside it. Only the drawing is clamped; the computed limits (NHSRplotthedots-exact) stay
as they are in the data and CSV outputs.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from bettercare.analytics.spc import XmrChart
from bettercare.domain.labels import (
    clamp_to_bounds,
    format_metric,
    format_period,
    metric_display,
    unit_label,
)

COMMON = "#a6a6a6"
IMPROVEMENT = "#00b0f0"
CONCERN = "#e46c0a"
NEUTRAL = "#490092"
MEAN = "#000000"
TARGET = "#de1b1b"
#: matplotlib's label for a line left out of the legend
NO_LEGEND = "_nolegend_"


def point_colours(chart: XmrChart) -> list[str | None]:
    """Each point's colour (None for a missing value, which is not drawn).

    With too few points every value is grey: no point is called a special cause.
    """
    if chart.too_few_points:
        return [None if v != v else COMMON for v in chart.values]  # v != v: NaN
    out: list[str | None] = []
    for sig in chart.signals:
        if sig is None:
            out.append(None)
        elif sig.is_improvement:
            out.append(IMPROVEMENT)
        elif sig.is_concern:
            out.append(CONCERN)
        elif sig.is_neutral:
            out.append(NEUTRAL)
        else:
            out.append(COMMON)
    return out


def bound_axis(ax: Axes, metric: str | None) -> None:
    """Keep the y axis within the metric's natural bounds (no axis below 0 or above 100%)."""
    if metric is None:
        return
    d = metric_display(metric)
    low, high = ax.get_ylim()
    if d.lower is not None and low < d.lower:
        low = d.lower
    if d.upper is not None and high > d.upper:
        high = d.upper
    if high > low:
        ax.set_ylim(low, high)


def xmr_figure(
    chart: XmrChart,
    labels: Sequence[str],
    title: str = "",
    ylabel: str = "",
    metric: str | None = None,
) -> Figure:
    """Draw the chart (points, per-segment mean and limits, target); the caller closes it.

    With ``metric``: the y axis says its unit, values read at its precision, periods in
    the BCF notation, and limits and axis stay within its natural bounds (drawing only).
    """
    if len(labels) != len(chart.values):
        raise ValueError("one label per point is needed")
    labels = [format_period(p) for p in labels]
    if metric is not None and not ylabel:
        ylabel = unit_label(metric)

    def value(v: float) -> str:
        return format_metric(v, metric, unit=False) if metric is not None else f"{v:,.2f}"

    def drawn(v: float) -> float:
        return clamp_to_bounds(v, metric) if metric is not None else v

    x = list(range(len(labels)))
    colours = point_colours(chart)
    shown = [i for i in x if colours[i] is not None]
    fig, ax = plt.subplots(figsize=(8, 3.6), dpi=100)
    few = chart.too_few_points
    for k, seg in enumerate(chart.segments):
        xs = x[seg.start : seg.stop]
        ax.plot(xs, chart.values[seg.start : seg.stop], color=COMMON, linewidth=1.2, zorder=1)
        # A one-period segment still gets a visible stub of its lines.
        lo, hi = (xs[0] - 0.4, xs[-1] + 0.4) if len(xs) == 1 else (xs[0], xs[-1])
        last = k == len(chart.segments) - 1
        if few:  # no mean or limits from too few points
            continue
        ax.hlines(
            seg.mean,
            lo,
            hi,
            color=MEAN,
            linewidth=1,
            label=f"mean {value(seg.mean)}" if last else NO_LEGEND,
        )
        for v, lab in ((seg.ucl, "process limits" if last else NO_LEGEND), (seg.lcl, NO_LEGEND)):
            ax.hlines(drawn(v), lo, hi, color=COMMON, linestyle="--", linewidth=1, label=lab)
    shown_colours = [c for c in colours if c is not None]  # the colours of ``shown``
    ax.scatter(shown, chart.values[shown], c=shown_colours, s=36, zorder=2)
    if chart.target is not None:
        ax.axhline(
            chart.target,
            color=TARGET,
            linestyle="--",
            linewidth=1.2,
            label=f"target {value(chart.target)}",
        )
    if few:
        ax.text(
            0.5,
            0.95,
            few,
            transform=ax.transAxes,
            ha="center",
            va="top",
            fontsize=8,
            color="#444444",
        )
    step = max(1, len(x) // 12)
    ax.set_xticks(x[::step], [labels[i] for i in x[::step]], rotation=45, ha="right", fontsize=8)
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(ylabel, fontsize=9)
    bound_axis(ax, metric)
    if ax.get_legend_handles_labels()[0]:  # nothing labelled when there are too few points
        ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    return fig


def xmr_chart_png(
    chart: XmrChart,
    labels: Sequence[str],
    title: str = "",
    ylabel: str = "",
    metric: str | None = None,
) -> bytes:
    """The chart of :func:`xmr_figure` as PNG bytes."""
    fig = xmr_figure(chart, labels, title, ylabel, metric)
    try:
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()
    finally:
        plt.close(fig)
