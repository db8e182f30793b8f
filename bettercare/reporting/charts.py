"""Charts as SVG text for the board pack and the web app's pages (matplotlib, Agg).

Owns the drawing of the plan and monitoring charts a board reads: the pooled budget by
funding source and year, the risk heatmap (likelihood x impact), a metric's plan against
its actuals, the Making Data Count XmR chart, schemes' admissions avoided, payment for
performance earned against what is at stake, and a metric's funnel plot among every HWB
(:func:`funnel_svg`, :func:`funnel_png`). Each function takes domain or analytics
objects and returns one ``<svg>`` element as text, ready to be placed in a page (no XML
declaration, ``role="img"``, an ``aria-label`` and a ``<title>``); :func:`svg_data_uri`
turns one into an ``<img src>``. It does not own any figure shown: the plan, the
analytics (:mod:`bettercare.analytics.performance`, :mod:`bettercare.analytics.scheme_impact`)
and :mod:`bettercare.domain.p4p` compute them.

No global state leaks: figures are :class:`~matplotlib.figure.Figure` objects that pyplot
never sees (the XmR chart, drawn by :mod:`bettercare.reporting.spc_charts`, is closed
after use), rc settings apply only while a chart is drawn, and output is deterministic
(fixed SVG ids, no date) so the same input gives the same text.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import re
import textwrap
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from decimal import Decimal
from typing import ParamSpec

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from bettercare.analytics.peers import Funnel, Measure
from bettercare.analytics.scheme_impact import ALL_SCHEMES, P4PEarned
from bettercare.analytics.spc import XmrChart
from bettercare.domain.labels import code_label as label_of
from bettercare.domain.labels import (
    format_count,
    format_metric,
    format_period,
    unit_label,
)
from bettercare.domain.metrics import CATALOGUE, Direction
from bettercare.domain.money import format_gbp
from bettercare.domain.p4p import PerformanceSum
from bettercare.domain.periods import period_span
from bettercare.domain.plan import Plan
from bettercare.reporting.plan_report import risk_heatmap
from bettercare.reporting.spc_charts import bound_axis, xmr_figure

#: NHS identity colours, in an order where neighbours differ in lightness (stacked bars).
PALETTE = (
    "#005eb8",
    "#ffb81c",
    "#007f3b",
    "#41b6e6",
    "#ae2573",
    "#330072",
    "#ed8b00",
    "#00a499",
    "#768692",
    "#8a1538",
    "#78be20",
    "#003087",
    "#425563",
    "#da291c",
    "#aeb7bd",
)
TEXT = "#212b32"
GRID = "#d8dde0"
#: RAG colours (NHS red, warm yellow, green); the RAG is always written out too.
RAG_COLOURS = {"RED": "#d5281b", "AMBER": "#ffb81c", "GREEN": "#007f3b"}
NO_RAG = "#768692"
#: The risk bands of :mod:`bettercare.domain.risk` (NPSA 2008: 1-3 low, 4-6 moderate,
#: 8-12 high, 15-25 extreme), pale enough for dark text to keep a contrast above 7:1.
BAND_COLOURS = {"low": "#c8e6c9", "moderate": "#ffe0a3", "high": "#f4b4ae", "extreme": "#e8a0a8"}

P = ParamSpec("P")
_PROLOGUE = re.compile(r"\A(?:\s*<\?xml[^>]*\?>|\s*<!DOCTYPE[^>]*>|\s*<!--.*?-->)*\s*", re.S)


def _svg(fig: Figure, label: str) -> str:
    """The figure as one accessible ``<svg>`` element (no prologue, labelled)."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    text = _PROLOGUE.sub("", buf.getvalue(), count=1)
    label = html.escape(label, quote=True)
    text = text.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)
    return re.sub(r"(<svg\b[^>]*>)", rf"\1<title>{label}</title>", text, count=1)


def _figure(width: float, height: float) -> Figure:
    """A new figure outside pyplot (nothing to close, nothing global)."""
    return Figure(figsize=(width, height), dpi=100)


def _styled(draw: Callable[P, str]) -> Callable[P, str]:
    """Draw with the house style; matplotlib's settings are restored after."""

    @functools.wraps(draw)
    def styled(*args: P.args, **kwargs: P.kwargs) -> str:
        with matplotlib.rc_context(
            {
                "svg.hashsalt": "bettercare",  # stable ids: same input, same SVG
                "svg.fonttype": "none",  # text stays text: searchable, small, fast to render
                "font.size": 9,
                "axes.edgecolor": TEXT,
                "axes.labelcolor": TEXT,
                "xtick.color": TEXT,
                "ytick.color": TEXT,
                "text.color": TEXT,
            }
        ):
            return draw(*args, **kwargs)

    return styled


@_styled
def _message(text: str, label: str) -> str:
    """A small chart that says why there is nothing to draw."""
    fig = _figure(6, 0.8)
    fig.text(0.5, 0.5, text, ha="center", va="center", fontsize=10, color=TEXT)
    return _svg(fig, f"{label}: {text}")


def svg_data_uri(svg: str) -> str:
    """An SVG as a ``data:image/svg+xml;base64,...`` URI, for ``<img src>`` (HTML and PDF)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def code_label(code: str, capitalise: bool = True, family: str | None = None) -> str:
    """A code as a reader sees it: :func:`bettercare.domain.labels.code_label`.

    ``capitalise=False`` for use mid-sentence (an acronym such as "NHS" keeps its case).
    """
    text = label_of(code, family)
    if capitalise or not text[1:2].islower():
        return text
    return text[:1].lower() + text[1:]


# -- the pooled budget -------------------------------------------------------------------------


def funding_by_source(plan: Plan) -> dict[str, dict[str, Decimal]]:
    """Funding stream -> financial year -> amount (contributions with no amount left out)."""
    by: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for f in plan.funding:
        if f.amount is not None:
            by[str(f.source)][f.financial_year] += f.amount
    return {source: dict(years) for source, years in sorted(by.items())}


@_styled
def budget_by_source_svg(plan: Plan) -> str:
    """Stacked bars: the pooled budget's funding by source for each of the plan's years."""
    title = f"{plan.hwb.name}: pooled budget by funding source"
    by = funding_by_source(plan)
    if not by:
        return _message("The plan states no funding amounts.", title)
    years = list(plan.financial_years)
    totals = [sum((by[s].get(fy, Decimal(0)) for s in by), Decimal(0)) for fy in years]
    scale, unit = (1e6, "£ million") if max(totals) >= 1_000_000 else (1e3, "£ thousand")
    fig = _figure(6.4, 3.2)
    ax = fig.subplots()
    bottom = [0.0] * len(years)
    for i, (source, amounts) in enumerate(by.items()):
        values = [float(amounts.get(fy, 0)) / scale for fy in years]
        ax.bar(
            [format_period(fy) for fy in years],
            values,
            0.55,
            bottom=bottom,
            label=code_label(source, family="funding_source"),
            color=PALETTE[i % len(PALETTE)],
            edgecolor="white",
            linewidth=0.6,
        )
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    stated = {fy for amounts in by.values() for fy in amounts}
    for x, (fy, total) in enumerate(zip(years, totals, strict=True)):
        ax.annotate(
            format_gbp(total) if fy in stated else "not stated",
            (x, float(total) / scale),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            fontsize=8,
        )
    ax.set_ylabel(unit)
    ax.set_ylim(0, max(float(t) for t in totals) / scale * 1.15)
    ax.set_title("Pooled budget by funding source", fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)
    parts = "; ".join(
        f"{format_period(fy)} {format_gbp(t) if fy in stated else 'not stated'}"
        for fy, t in zip(years, totals, strict=True)
    )
    return _svg(fig, f"{title} (funding stated: {parts})")


# -- risks -------------------------------------------------------------------------------------


def _refs_text(ids: Sequence[str], width: int = 14) -> str:
    """Risk refs wrapped to fit a heatmap cell (at most three lines, then '+n more')."""
    lines: list[str] = []
    line = ""
    for i, ref in enumerate(ids):
        piece = ref if not line else f"{line}, {ref}"
        if line and len(piece) > width:
            lines.append(line + ",")
            line = ref
        else:
            line = piece
        if len(lines) == 3:
            return "\n".join(lines) + f"\n+{len(ids) - i} more"
    return "\n".join([*lines, line] if line else lines)


@_styled
def risk_heatmap_svg(plan: Plan) -> str:
    """The risk register on a 5 x 5 likelihood x impact grid: each cell's count and refs.

    Scales as the NPSA 5 x 5 risk matrix words them (likelihood rare .. almost certain,
    consequence negligible .. catastrophic); bands as :mod:`bettercare.domain.risk`'s
    (15+ extreme, 8-12 high, 4-6 moderate, 1-3 low).
    """
    title = f"{plan.hwb.name}: risk heatmap"
    grid = risk_heatmap(plan)  # rows impact 5..1, columns likelihood 1..5
    placed = sum(len(c["ids"]) for row in grid for c in row)
    fig = _figure(6.4, 4.4)
    ax = fig.subplots()
    for r, row in enumerate(grid):
        impact = 5 - r
        for c, cell in enumerate(row):
            likelihood = c + 1
            ax.add_patch(
                Rectangle(
                    (likelihood - 0.5, impact - 0.5),
                    1,
                    1,
                    facecolor=BAND_COLOURS[cell["band"]],
                    edgecolor="white",
                    linewidth=2,
                )
            )
            ax.text(
                likelihood + 0.42,
                impact + 0.42,
                str(cell["score"]),
                ha="right",
                va="top",
                fontsize=6.5,
                color="#425563",
            )
            if cell["ids"]:
                ax.text(
                    likelihood,
                    impact + 0.12,
                    str(len(cell["ids"])),
                    ha="center",
                    va="center",
                    fontsize=12,
                    fontweight="bold",
                )
                ax.text(
                    likelihood,
                    impact - 0.2,
                    _refs_text(cell["ids"]),
                    ha="center",
                    va="center",
                    fontsize=6.5,
                    linespacing=1.1,
                )
    ax.set_xlim(0.5, 5.5)
    ax.set_ylim(0.5, 5.5)
    ax.set_xticks(
        range(1, 6), ["1 Rare", "2 Unlikely", "3 Possible", "4 Likely", "5 Almost\ncertain"]
    )
    ax.set_yticks(
        range(1, 6), ["1 Negligible", "2 Minor", "3 Moderate", "4 Major", "5 Catastrophic"]
    )
    ax.set_xlabel("Likelihood")
    ax.set_ylabel("Impact")
    ax.tick_params(length=0, labelsize=7.5)
    ax.spines[:].set_visible(False)
    ax.set_aspect("equal")
    ax.set_title(f"Risk heatmap: {placed} scored risk(s); cell: count and refs", fontsize=10)
    cells = [
        f"likelihood {c + 1} impact {5 - r}: {', '.join(cell['ids'])}"
        for r, row in enumerate(grid)
        for c, cell in enumerate(row)
        if cell["ids"]
    ]
    summary = "; ".join(cells) if cells else "no scored risks"
    return _svg(fig, f"{title} ({summary})")


# -- metrics -----------------------------------------------------------------------------------


def _direction_note(metric: str) -> str:
    definition = CATALOGUE.get(metric)
    if definition is None:
        return ""
    better = "lower" if definition.direction == Direction.LOWER_IS_BETTER else "higher"
    return f" ({better} is better)"


def _ordered(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in period order (period labels sort wrongly as text across years)."""
    return (
        frame.assign(_start=[period_span(p).start for p in frame.period])
        .sort_values("_start")
        .drop(columns="_start")
    )


@_styled
def metric_plan_vs_actual_svg(pva: pd.DataFrame, metric: str) -> str:
    """One metric's actuals (points coloured by RAG) against its plan and baseline.

    ``pva`` is :func:`~bettercare.analytics.performance.plan_vs_actual` output (any grain);
    the plan line is drawn where a period has a plan value to be judged against.
    """
    name = CATALOGUE[metric].name if metric in CATALOGUE else metric
    title = f"{name}: actual against plan{_direction_note(metric)}"
    rows = pva[pva.metric == metric] if not pva.empty else pva
    if rows.empty:
        return _message(f"No actuals for {name}.", title)
    rows = _ordered(rows)
    labels = [format_period(p) for p in rows.period]
    x = list(range(len(labels)))
    actual = [float(v) for v in rows.actual]
    planned = [float(v) if pd.notna(v) else float("nan") for v in rows.planned]
    rags = [r if isinstance(r, str) else None for r in rows.rag]
    fig = _figure(6.4, 2.6)
    ax = fig.subplots()
    ax.plot(x, actual, color="#425563", linewidth=1.2, label="actual", zorder=2)
    ax.scatter(
        x,
        actual,
        c=[RAG_COLOURS.get(r or "", NO_RAG) for r in rags],
        s=26,
        zorder=3,
        edgecolors="white",
        linewidths=0.5,
    )
    if any(p == p for p in planned):
        ax.step(
            x,
            planned,
            where="mid",
            color="#005eb8",
            linestyle="--",
            linewidth=1.3,
            label="plan",
            zorder=1,
        )
    baseline = rows.baseline.dropna()
    if not baseline.empty:
        ax.axhline(
            float(baseline.iloc[0]),
            color="#768692",
            linestyle=":",
            linewidth=1,
            label=f"baseline {format_metric(float(baseline.iloc[0]), metric, unit=False)}",
        )
    step = max(1, len(x) // 12)
    ax.set_xticks(
        x[::step],
        labels[::step],
        rotation=45 if len(x) > 4 else 0,
        ha="right" if len(x) > 4 else "center",
        fontsize=7.5,
    )
    ax.set_title(textwrap.fill(f"{name}{_direction_note(metric)}", 80), fontsize=9)
    ax.set_ylabel(textwrap.fill(unit_label(metric), 30), fontsize=7.5)
    bound_axis(ax, metric)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)
    ax.legend(fontsize=7, loc="best", frameon=False)
    last = rows.iloc[-1]
    judged = f", {last.rag}" if isinstance(last.rag, str) else ""
    plan_text = (
        f" against plan {format_metric(float(last.planned), metric)}"
        if pd.notna(last.planned)
        else ""
    )
    summary = (
        f"latest {format_period(last.period)}: {format_metric(float(last.actual), metric)}"
        f"{plan_text}{judged}"
    )
    return _svg(fig, f"{title}; {summary}")


@_styled
def xmr_chart_svg(
    chart: XmrChart, labels: Sequence[str], title: str = "", metric: str | None = None
) -> str:
    """The Making Data Count XmR chart of :mod:`bettercare.reporting.spc_charts` as SVG."""
    fig = xmr_figure(chart, labels, textwrap.fill(title, 90), metric=metric)
    try:
        fig.set_size_inches(6.4, 2.9)
        variation = code_label(chart.variation.value).lower() if chart.variation else "none"
        return _svg(fig, f"XmR chart: {title} (variation: {variation})")
    finally:
        plt.close(fig)


@_styled
def scheme_admissions_svg(schemes: pd.DataFrame) -> str:
    """Each scheme's non-elective admissions avoided to date against its target to date.

    ``schemes`` is :func:`~bettercare.analytics.scheme_impact.scheme_impact` output; the
    latest period of each scheme is drawn (the all-schemes total is left to the table).
    """
    title = "Non-elective admissions avoided to date, by scheme"
    if schemes.empty:
        return _message("No scheme activity in the store.", title)
    to_date = schemes[schemes.scheme_reference != ALL_SCHEMES].groupby("scheme_reference").tail(1)
    if to_date.empty:
        return _message("No scheme activity in the store.", title)
    to_date = to_date.sort_values("scheme_reference", ascending=False)
    names = [
        str(n) if isinstance(n, str) else str(r)
        for n, r in zip(to_date.scheme_name, to_date.scheme_reference, strict=True)
    ]
    names = [n if len(n) <= 38 else n[:37] + "…" for n in names]
    y = list(range(len(names)))
    avoided = [float(v) for v in to_date.avoided_to_date]
    target = [float(v) if pd.notna(v) else 0.0 for v in to_date.target_to_date]
    fig = _figure(6.4, 0.9 + 0.32 * len(names))
    ax = fig.subplots()
    ax.barh([v + 0.2 for v in y], avoided, 0.38, color="#005eb8", label="avoided to date")
    ax.barh([v - 0.2 for v in y], target, 0.38, color="#aeb7bd", label="target to date")
    ax.set_yticks(y, names, fontsize=7.5)
    ax.set_xlabel("admissions avoided")
    period = format_period(to_date.period.iloc[0])
    ax.set_title(f"Admissions avoided to {period} against target", fontsize=9)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="x", color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)
    ax.legend(fontsize=7, loc="lower right", frameon=False)
    parts = "; ".join(
        f"{n} {format_count(a)} of {format_count(t)}"
        for n, a, t in zip(reversed(names), reversed(avoided), reversed(target), strict=True)
    )
    return _svg(fig, f"{title} to {period}: {parts}")


# -- payment for performance -------------------------------------------------------------------


@_styled
def p4p_svg(planned: PerformanceSum, earned: P4PEarned | None = None) -> str:
    """Payment for performance: the pot, the sum at stake, and (from data) earned and retained.

    ``planned`` is :func:`bettercare.domain.p4p.performance_sum`; ``earned`` is
    :func:`bettercare.analytics.scheme_impact.p4p_earned` (omitted: no linked data).
    """
    title = f"Payment for performance {planned.financial_year}"
    bars: list[tuple[str, Decimal, str]] = []
    if planned.performance_pot is not None:
        bars.append(("Performance pot", planned.performance_pot, "#aeb7bd"))
    bars.append(("At stake (linked to\nperformance)", planned.performance_linked_sum, "#005eb8"))
    to_date = earned.to_date if earned is not None else None
    if to_date is not None:
        months = f"{to_date.months_to_date} month(s)"
        bars += [
            (f"Linked to date\n({months})", to_date.linked_to_date, "#41b6e6"),
            ("Earned to date", to_date.earned, "#007f3b"),
            ("Retained to date", to_date.retained, "#d5281b"),
        ]
    fig = _figure(6.4, 0.8 + 0.42 * len(bars))
    ax = fig.subplots()
    bars = bars[::-1]  # first bar at the top
    y = list(range(len(bars)))
    values = [float(v) for _, v, _ in bars]
    ax.barh(y, values, 0.6, color=[c for _, _, c in bars])
    top = max(values) if max(values) > 0 else 1.0
    for i, (_, v, _) in enumerate(bars):
        ax.text(float(v) + top * 0.01, i, format_gbp(v), va="center", fontsize=8)
    ax.set_yticks(y, [name for name, _, _ in bars], fontsize=7.5)
    ax.set_xlim(0, top * 1.25)
    ax.xaxis.set_visible(False)
    ax.spines[["top", "right", "bottom"]].set_visible(False)
    kind = "payment" if planned.national_scheme else "value of the planned reduction"
    ax.set_title(f"{title}: {kind}", fontsize=9)
    parts = "; ".join(f"{n.replace(chr(10), ' ')} {format_gbp(v)}" for n, v, _ in bars[::-1])
    return _svg(fig, f"{title}: {parts}")


# -- funnel plots (Spiegelhalter 2005; limits computed by analytics/peers.py) ----------

_LIMIT_STYLE = {"95": ("#768692", "--"), "998": ("#425563", ":")}


def _funnel_figure(
    f: Funnel, hwb_code: str | None, peers: Collection[str], names: dict[str, str]
) -> Figure:
    fig = _figure(7.5, 4.2)
    ax = fig.add_subplot(1, 1, 1)
    n = list(f.curve_n)
    for level, label in (("95", "95% limits"), ("998", "99.8% limits")):
        colour, dash = _LIMIT_STYLE[level]
        ax.plot(n, f.curve[f"upper{level}"], dash, color=colour, linewidth=1, label=label)
        ax.plot(n, f.curve[f"lower{level}"], dash, color=colour, linewidth=1)
    ax.axhline(
        f.target, color=TEXT, linewidth=1, label=f"England {format_metric(f.target, f.metric)}"
    )
    others = [p for p in f.points if p.code not in peers and p.code != hwb_code]
    mine = [p for p in f.points if p.code in peers and p.code != hwb_code]
    ax.scatter(
        [p.denominator for p in others],
        [p.value for p in others],
        s=12,
        color="#aeb7bd",
        label="other areas",
        zorder=2,
    )
    if mine:
        ax.scatter(
            [p.denominator for p in mine],
            [p.value for p in mine],
            s=18,
            color=PALETTE[0],
            label="peers",
            zorder=3,
        )
    board = f.point(hwb_code) if hwb_code else None
    if board is not None:
        ax.scatter(
            [board.denominator],
            [board.value],
            s=60,
            color=PALETTE[4],
            zorder=4,
            label=names.get(board.code, board.code),
            marker="D",
        )
        ax.annotate(
            names.get(board.code, board.code),
            (board.denominator, board.value),
            xytext=(6, 6),
            textcoords="offset points",
            fontsize=8,
        )
    ax.set_xscale("log")
    unit = "%" if f.measure == Measure.PROPORTION else "per 100,000"
    ax.set_xlabel("Denominator (population or cohort), log scale")
    ax.set_ylabel(unit_label(f.metric) if f.metric in CATALOGUE else unit)
    bound_axis(ax, f.metric)  # limits drawn within 0-100% / >= 0; computed limits unchanged
    adj = (
        ""
        if f.adjustment.value == "none"
        else f"; limits widened for overdispersion ({f.adjustment.value})"
    )
    ax.set_title(
        f"{CATALOGUE[f.metric].name}, {format_period(f.period)}{adj}", fontsize=9, loc="left"
    )
    ax.legend(fontsize=7, loc="best", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def _funnel_label(f: Funnel, hwb_code: str | None, names: dict[str, str]) -> str:
    board = f.point(hwb_code) if hwb_code else None
    where = (
        f" {names.get(board.code, board.code)}: {format_metric(board.value, f.metric)}, "
        f"{label_of(board.band.value)}."
        if board
        else ""
    )
    return (
        f"Funnel plot of {CATALOGUE[f.metric].name}, {format_period(f.period)}: "
        f"{len(f.points)} areas against England {format_metric(f.target, f.metric)} with 95% "
        f"and 99.8% limits.{where}"
    )


@_styled
def funnel_svg(
    f: Funnel,
    hwb_code: str | None = None,
    peers: Collection[str] = (),
    names: dict[str, str] | None = None,
) -> str:
    """The funnel as one accessible ``<svg>`` element."""
    names = names or {}
    return _svg(_funnel_figure(f, hwb_code, peers, names), _funnel_label(f, hwb_code, names))


def funnel_png(
    f: Funnel,
    hwb_code: str | None = None,
    peers: Collection[str] = (),
    names: dict[str, str] | None = None,
) -> bytes:
    """The funnel as PNG bytes (for files the CLI writes)."""
    names = names or {}
    buf = io.BytesIO()
    _funnel_figure(f, hwb_code, peers, names).savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()
