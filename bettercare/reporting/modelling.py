"""Charts and HTML for the models: scheme impact and discharge pathways.

Owns the pictures of :mod:`bettercare.analytics.modelling` results -- the distribution of
admissions avoided against the target, the tornado chart of which schemes matter most,
each partner's shortfall, the waiting-time distribution, delays and occupancy by pathway
with their 95% intervals, and a capacity sweep -- as PNG bytes or SVG text (matplotlib,
Agg), and the HTML sections and pages that show them. All aggregate: no person-level data.
It does not compute anything it shows.
"""

from __future__ import annotations

import io
from typing import Any, Literal

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from bettercare.analytics.modelling.impact import PERCENTILES, ImpactResult
from bettercare.analytics.modelling.pathway import (
    WAIT_PERCENTILES,
    PathwayResult,
    SweepResult,
)
from bettercare.domain.money import format_gbp
from bettercare.reporting.rendering import environment

BLUE = "#005eb8"
GREY = "#a6a6a6"
RED = "#d5281b"
GREEN = "#007f3b"
ORANGE = "#e46c0a"
Format = Literal["png", "svg"]


def _render(fig: Figure, fmt: Format) -> bytes:
    try:
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt)
        return buf.getvalue()
    finally:
        plt.close(fig)


def _png_or_svg(fig: Figure, fmt: Format) -> bytes | str:
    data = _render(fig, fmt)
    return data.decode("utf-8") if fmt == "svg" else data


# -- scheme impact -------------------------------------------------------------------


def impact_distribution_figure(result: ImpactResult) -> Figure:
    """Histogram of total admissions avoided with the target; the caller closes it."""
    fig, ax = plt.subplots(figsize=(7.5, 3.6), dpi=100)
    total = result.total
    lo, hi = int(total.min()), int(total.max())
    bins: int | list[float] = (np.arange(lo, hi + 2) - 0.5).tolist() if hi - lo <= 80 else 60
    meets = total >= result.target
    ax.hist(total[~meets], bins=bins, color=ORANGE, label="below target")
    ax.hist(total[meets], bins=bins, color=BLUE, label="meets target")
    ax.axvline(result.target, color=RED, linestyle="--", label=f"target {result.target:,}")
    ax.set_title(
        f"{result.hwb_name} {result.financial_year}: probability of meeting the target "
        f"{result.probability_meeting_target:.0%}",
        fontsize=10,
    )
    ax.set_xlabel("Non-elective admissions avoided in the year")
    ax.set_ylabel(f"Draws (of {len(total):,})")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def tornado_figure(result: ImpactResult, top: int = 15) -> Figure:
    """Tornado chart: P(meeting the target) with each scheme at its 10th / 90th percentile."""
    bars = result.tornado[:top][::-1]
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(bars) + 1.4), dpi=100)
    base = result.probability_meeting_target
    y = np.arange(len(bars))
    ax.barh(y, [b.low - base for b in bars], left=base, color=ORANGE, label="scheme at its P10")
    ax.barh(y, [b.high - base for b in bars], left=base, color=BLUE, label="scheme at its P90")
    ax.axvline(base, color="black", linewidth=1)
    labels = [f"{b.reference} {b.name}"[:40] for b in bars]
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_xlabel("Probability of meeting the target")
    ax.set_title("Which schemes matter most", fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def shortfall_figure(result: ImpactResult) -> Figure:
    """Each partner's shortfall: mean and 90th percentile, in pounds."""
    fig, ax = plt.subplots(figsize=(7.5, 3.2), dpi=100)
    names = [result.partner_names.get(p, p)[:35] for p in result.partner_shortfall]
    means = [float(np.mean(d)) for d in result.partner_shortfall.values()]
    p90 = [float(np.percentile(d, 90)) for d in result.partner_shortfall.values()]
    y = np.arange(len(names))
    ax.barh(y - 0.2, means, height=0.4, color=BLUE, label="expected")
    ax.barh(y + 0.2, p90, height=0.4, color=ORANGE, label="1 year in 10 (P90)")
    ax.set_yticks(y, names, fontsize=8)
    ax.set_xlabel("Share of the P4P shortfall (£)")
    ax.set_title("Shortfall each partner bears under the risk share", fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def impact_charts(result: ImpactResult, fmt: Format = "png") -> dict[str, bytes | str]:
    """The impact charts by file stem: PNG bytes, or SVG text for ``fmt='svg'``."""
    charts = {
        "admissions_avoided": _png_or_svg(impact_distribution_figure(result), fmt),
        "tornado": _png_or_svg(tornado_figure(result), fmt),
    }
    if result.partner_shortfall:
        charts["partner_shortfall"] = _png_or_svg(shortfall_figure(result), fmt)
    return charts


def impact_context(result: ImpactResult) -> dict[str, Any]:
    """What the impact section template shows, formatted for reading."""
    rows = []
    for r in result.summary_rows():
        fmt = (lambda v: format_gbp(round(v))) if r["unit"] == "£" else (lambda v: f"{v:,.0f}")
        rows.append(
            {"quantity": r["quantity"], "mean": fmt(r["mean"])}
            | {f"p{p}": fmt(r[f"p{p}"]) for p in PERCENTILES}
        )
    return {
        "r": result,
        "rows": rows,
        "percentiles": PERCENTILES,
        "probability": f"{result.probability_meeting_target:.0%}",
        "linked": format_gbp(result.linked_sum) if result.linked_sum is not None else None,
    }


def impact_section_html(result: ImpactResult, image_src: dict[str, str]) -> str:
    """The impact section (HTML) with charts at ``image_src`` (file names or data URIs)."""
    tpl = environment().get_template("modelling_impact.html.j2")
    return tpl.render(**impact_context(result), images=image_src)


# -- discharge pathways --------------------------------------------------------------


def waiting_time_figure(result: PathwayResult) -> Figure:
    """The distribution of discharge delays per pathway (share of discharges by days waited)."""
    fig, ax = plt.subplots(figsize=(7.5, 3.6), dpi=100)
    top = max(
        (float(np.percentile(p.waits, 99)) for p in result.pathways if len(p.waits)), default=1
    )
    bins = np.linspace(0, max(top, 1.0), 40).tolist()
    for p in result.pathways:
        if len(p.waits):
            w = np.clip(p.waits, 0, bins[-1])
            ax.hist(
                w,
                bins=bins,
                histtype="step",
                linewidth=1.5,
                density=False,
                weights=np.full(len(w), 1 / len(w)),
                label=p.name,
            )
    ax.set_xlabel(
        "Days waiting in hospital for the pathway (99th percentile and above in the last bin)"
    )
    ax.set_ylabel("Share of discharges")
    ax.set_title("Waiting time for discharge support", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def pathway_measures_figure(result: PathwayResult) -> Figure:
    """Mean discharge delay and occupancy per pathway with 95% intervals."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(8.5, 3.2), dpi=100)
    names = [p.name[:25] for p in result.pathways]
    y = np.arange(len(names))
    for ax, get, label, colour in (
        (a1, lambda p: p.mean_wait, "Mean discharge delay (days)", BLUE),
        (a2, lambda p: p.occupancy, "Occupancy", GREEN),
    ):
        est = [get(p) for p in result.pathways]
        means = np.array([e.mean for e in est])
        err = np.array([[e.mean - e.low for e in est], [e.high - e.mean for e in est]])
        ax.barh(y, means, xerr=np.nan_to_num(err), color=colour, capsize=3)
        ax.set_yticks(y, names, fontsize=8)
        ax.set_xlabel(label, fontsize=9)
    a2.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    a2.set_yticks(y, [""] * len(names))
    fig.suptitle("Mean and 95% confidence interval over replications", fontsize=9)
    fig.tight_layout()
    return fig


def sweep_figure(sweep: SweepResult) -> Figure:
    """Mean discharge delay against capacity, with 95% intervals and the target."""
    fig, ax = plt.subplots(figsize=(7.5, 3.4), dpi=100)
    caps = [r.capacity for r in sweep.rows]
    means = [r.mean_wait.mean for r in sweep.rows]
    lows = [r.mean_wait.low for r in sweep.rows]
    highs = [r.mean_wait.high for r in sweep.rows]
    ax.fill_between(caps, lows, highs, color=BLUE, alpha=0.2, label="95% interval")
    ax.plot(caps, means, marker="o", color=BLUE, label="mean discharge delay")
    ax.axhline(
        sweep.target_delay_days,
        color=RED,
        linestyle="--",
        label=f"target {sweep.target_delay_days:g} day(s)",
    )
    if sweep.smallest_capacity is not None:
        ax.axvline(
            sweep.smallest_capacity,
            color=GREEN,
            linestyle=":",
            label=f"smallest meeting it: {sweep.smallest_capacity}",
        )
    ax.set_yscale("symlog", linthresh=1)
    ax.set_xlabel(f"Places on pathway {sweep.pathway_id}")
    ax.set_ylabel("Mean delay (days)")
    ax.set_title("Capacity sweep", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def pathway_charts(
    result: PathwayResult, sweep: SweepResult | None = None, fmt: Format = "png"
) -> dict[str, bytes | str]:
    """The pathway charts by file stem: PNG bytes, or SVG text for ``fmt='svg'``."""
    charts = {
        "waiting_time": _png_or_svg(waiting_time_figure(result), fmt),
        "pathway_measures": _png_or_svg(pathway_measures_figure(result), fmt),
    }
    if sweep is not None:
        charts["capacity_sweep"] = _png_or_svg(sweep_figure(sweep), fmt)
    return charts


def pathway_section_html(
    result: PathwayResult, image_src: dict[str, str], sweep: SweepResult | None = None
) -> str:
    """The discharge pathway section (HTML) with charts at ``image_src``."""
    tpl = environment().get_template("modelling_pathway.html.j2")
    return tpl.render(r=result, sweep=sweep, images=image_src, wait_percentiles=WAIT_PERCENTILES)


def page_html(title: str, section: str) -> str:
    """A standalone page around one section."""
    tpl = environment().get_template("modelling_page.html.j2")
    return tpl.render(title=title, section=section)


__all__ = [
    "impact_charts",
    "impact_context",
    "impact_distribution_figure",
    "impact_section_html",
    "page_html",
    "pathway_charts",
    "pathway_measures_figure",
    "pathway_section_html",
    "shortfall_figure",
    "sweep_figure",
    "tornado_figure",
    "waiting_time_figure",
]
