"""The funnel plot of one metric: every area against the England target and its limits.

Draws a :class:`~bettercare.analytics.peers.Funnel` (the analytics layer computes the
target, the 95% and 99.8% limits and each area's band; Spiegelhalter 2005) as SVG text
(accessible, deterministic: the helpers of :mod:`bettercare.reporting.charts`) or PNG
bytes for the CLI. Peers are drawn darker than the other areas, the board itself
highlighted and labelled.
"""

from __future__ import annotations

import io
from collections.abc import Collection

from matplotlib.figure import Figure

from bettercare.analytics.peers import Funnel, Measure
from bettercare.domain.metrics import CATALOGUE
from bettercare.reporting.charts import PALETTE, TEXT, _figure, _styled, _svg

_LIMIT_STYLE = {"95": ("#768692", "--"), "998": ("#425563", ":")}


def _draw(f: Funnel, hwb_code: str | None, peers: Collection[str], names: dict[str, str]) -> Figure:
    fig = _figure(7.5, 4.2)
    ax = fig.add_subplot(1, 1, 1)
    n = list(f.curve_n)
    for level, label in (("95", "95% limits"), ("998", "99.8% limits")):
        colour, dash = _LIMIT_STYLE[level]
        ax.plot(n, f.curve[f"upper{level}"], dash, color=colour, linewidth=1, label=label)
        ax.plot(n, f.curve[f"lower{level}"], dash, color=colour, linewidth=1)
    ax.axhline(f.target, color=TEXT, linewidth=1, label=f"England {f.target:,.1f}")
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
    ax.set_ylabel(unit)
    adj = (
        ""
        if f.adjustment.value == "none"
        else f"; limits widened for overdispersion ({f.adjustment.value})"
    )
    ax.set_title(f"{CATALOGUE[f.metric].name}, {f.period}{adj}", fontsize=9, loc="left")
    ax.legend(fontsize=7, loc="best", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def _label(f: Funnel, hwb_code: str | None, names: dict[str, str]) -> str:
    board = f.point(hwb_code) if hwb_code else None
    where = (
        f" {names.get(board.code, board.code)}: {board.value:,.1f}, {board.band.value}."
        if board
        else ""
    )
    return (
        f"Funnel plot of {CATALOGUE[f.metric].name}, {f.period}: {len(f.points)} areas "
        f"against England {f.target:,.1f} with 95% and 99.8% limits.{where}"
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
    return _svg(_draw(f, hwb_code, peers, names), _label(f, hwb_code, names))


def funnel_png(
    f: Funnel,
    hwb_code: str | None = None,
    peers: Collection[str] = (),
    names: dict[str, str] | None = None,
) -> bytes:
    """The funnel as PNG bytes (for files the CLI writes)."""
    names = names or {}
    buf = io.BytesIO()
    _draw(f, hwb_code, peers, names).savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()
