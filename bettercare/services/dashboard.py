"""The metrics dashboard of a plan in the web app: who may see it, and what it shows.

Everything shown is computed by the analytics layer exactly as ``bettercare metrics``
and the board pack compute it (the plan measured on its store) and drawn by
:mod:`bettercare.reporting.charts`; when the store is measured is the app's
(:mod:`bettercare.app.analytics_store`, which calls :func:`draw_charts` once per measured
plan version). Aggregate figures only: no person-level row reaches the dashboard.
"""

from __future__ import annotations

import itertools
import math
import re
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.orm import Session

from bettercare.analytics.spc import VARIATION_SHORT_LABEL
from bettercare.data.plan_store import plan_for_reading
from bettercare.data.tables import PlanRecord
from bettercare.domain.access import Action
from bettercare.domain.labels import format_period
from bettercare.domain.metrics import CATALOGUE
from bettercare.domain.p4p import performance_sum_or_reason
from bettercare.domain.plan import Plan
from bettercare.services.access import Caller
from bettercare.services.plans import authorized_record

if TYPE_CHECKING:
    import pandas as pd

    from bettercare.reporting.board_pack import LinkedData

# pandas, matplotlib and the analytics engine are imported where used, not here: they
# take seconds to load and the server must start fast (the metrics are built lazily).

#: One drawing at a time: matplotlib's pyplot and style context are global.
CHARTS_LOCK = threading.Lock()

_ID = re.compile(r'\bid="([^"]+)"')
_REF = re.compile(r'(url\(#|href="#)([^)"]+)')
_chart_ids = itertools.count(1)


def scoped_svg(svg: str, prefix: str) -> str:
    """The SVG with its element ids (and references to them) prefixed.

    matplotlib names clip paths and glyphs by content, so two charts inlined in one page
    would otherwise repeat ids; a page must not.
    """
    svg = _ID.sub(lambda m: f'id="{prefix}-{m[1]}"', svg)
    return _REF.sub(lambda m: f"{m[1]}{prefix}-{m[2]}", svg)


@dataclass
class MetricCharts:
    """One metric's charts and the rows they draw (the table fallback)."""

    metric: str
    name: str
    grain: str
    plan_svg: str
    xmr_svg: str | None
    rows: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class DashboardCharts:
    """Every chart and table row of the dashboard, made once per measured plan version."""

    metrics: list[MetricCharts]
    schemes_svg: str | None
    p4p_svg: str | None
    #: :func:`~bettercare.reporting.metrics_report.board_rows` (slow: pandas per metric)
    board: list[dict[str, Any]] = field(default_factory=list)
    schemes: list[Any] = field(default_factory=list)


def _frame_for(linked: LinkedData, metric: str) -> tuple[str, pd.DataFrame]:
    """The finest grain at which the metric was measured, and its rows."""
    import pandas as pd

    for grain in ("month", "quarter", "year"):
        frame = linked.pva.get(grain)
        if frame is not None and not frame.empty and (frame.metric == metric).any():
            return grain, frame
    return "", pd.DataFrame()


def _num(x: Any) -> float | None:
    if x is None:
        return None
    value = float(x)
    return None if math.isnan(value) else value


def draw_charts(plan: Plan, linked: LinkedData) -> DashboardCharts:
    """Draw the dashboard's charts (called once, in the background, under CHARTS_LOCK)."""
    from bettercare.reporting import charts

    out = []
    page = next(_chart_ids)
    for mp in plan.metrics:
        if mp.metric not in CATALOGUE:
            continue
        grain, frame = _frame_for(linked, mp.metric)
        if not grain:
            continue
        rows = frame[frame.metric == mp.metric]
        spc = (
            charts.xmr_chart_svg(
                frame.attrs["spc_charts"][mp.metric],
                [str(p) for p in rows.period],
                CATALOGUE[mp.metric].name,
                metric=mp.metric,
            )
            if mp.metric in frame.attrs.get("spc_charts", {})
            else None
        )
        prefix = f"c{page}-{mp.metric}"
        out.append(
            MetricCharts(
                metric=mp.metric,
                name=CATALOGUE[mp.metric].name,
                grain=grain,
                plan_svg=scoped_svg(charts.metric_plan_vs_actual_svg(frame, mp.metric), prefix),
                xmr_svg=scoped_svg(spc, prefix + "-xmr") if spc else None,
                rows=[
                    {
                        "period": str(r.period),
                        "actual": _num(r.actual),
                        "planned": _num(r.planned),
                        "rag": r.rag if isinstance(r.rag, str) else None,
                        "signal": VARIATION_SHORT_LABEL.get(str(r.spc_signal), "")
                        if isinstance(r.spc_signal, str)
                        else "",
                        "source": str(getattr(r, "source", "store")),
                    }
                    for r in rows.itertuples()
                ],
            )
        )
    schemes = (
        scoped_svg(charts.scheme_admissions_svg(linked.schemes), f"c{page}-schemes")
        if not linked.schemes.empty
        else None
    )
    at_stake, _ = performance_sum_or_reason(plan)
    p4p = (
        scoped_svg(charts.p4p_svg(at_stake, linked.p4p), f"c{page}-p4p")
        if at_stake is not None
        else None
    )
    from bettercare.reporting.metrics_report import board_rows

    return DashboardCharts(out, schemes, p4p, board_rows(plan, linked.pva), scheme_rows(linked))


def scheme_rows(linked: LinkedData) -> list[Any]:
    """The latest row of each scheme, the all-schemes total last (as the board pack)."""
    from bettercare.analytics.scheme_impact import ALL_SCHEMES

    if linked.schemes.empty:
        return []
    to_date = linked.schemes.groupby("scheme_reference").tail(1)
    to_date = to_date.assign(_all=to_date.scheme_reference == ALL_SCHEMES)
    return list(to_date.sort_values(["_all", "scheme_reference"]).itertuples())


def reported_returns(plan: Plan) -> list[dict[str, Any]]:
    """Each metric's status in the plan's own quarterly returns (latest quarter first)."""
    from bettercare.data.returns import STATUS_LABELS, return_label

    out = []
    for r in sorted(plan.quarterly_reports, key=lambda r: (r.financial_year, r.quarter)):
        out.append(
            {
                "quarter": f"{return_label(r.quarter)} {format_period(r.financial_year)}",
                "metrics": [
                    {
                        "name": CATALOGUE[m.metric].name if m.metric in CATALOGUE else m.metric,
                        "status": STATUS_LABELS[m.status],
                        "key": str(m.status),
                        "narrative": m.narrative or "",
                    }
                    for m in r.metrics
                ],
            }
        )
    return out[::-1]


def number(x: Any, digits: int = 2) -> str:
    """A figure for a table cell (``—`` when missing)."""
    value = _num(x) if isinstance(x, float | int | None) else x
    return "—" if value is None else f"{value:,.{digits}f}"


def metrics_plan(db: Session, caller: Caller, plan_id: str) -> tuple[PlanRecord, Plan]:
    """The plan whose metrics the caller may see (analysts, editors, coordinators; assurers)."""
    target = f"plan:{plan_id}:metrics"
    record = authorized_record(db, caller, plan_id, Action.VIEW_METRICS, target)
    return record, plan_for_reading(record)  # shared: read only


class MeasuredStatus(Protocol):
    """What the dashboard reads of the app's measuring of a plan (a ``StoreStatus``)."""

    @property
    def charts(self) -> DashboardCharts | None:
        """The charts, once drawn."""

    @property
    def linked(self) -> LinkedData | None:
        """The measured figures, once measured."""


def dashboard_context(plan: Plan, status: MeasuredStatus) -> dict[str, Any]:
    """What the dashboard shows of a measured (or not yet measured) plan, by template name."""
    from bettercare.analytics.scheme_impact import ALL_SCHEMES

    linked = status.linked
    at_stake, p4p_note = performance_sum_or_reason(plan)
    board = status.charts.board if status.charts is not None else []
    return {
        "board": board,
        "rag_counts": {
            k: sum(1 for r in board if r["row"] is not None and r["row"].rag == k)
            for k in ("GREEN", "AMBER", "RED")
        },
        "charts": status.charts,
        "schemes": status.charts.schemes if status.charts is not None else [],
        "at_stake": at_stake,
        "p4p_note": p4p_note,
        "p4p": linked.p4p if linked is not None else None,
        "partner_names": {p.id: p.name for p in plan.partners},
        "reported": reported_returns(plan),
        "all_schemes": ALL_SCHEMES,
    }
