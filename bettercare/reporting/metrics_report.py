"""HTML sections for a plan's metrics from linked data: board table, SPC charts, schemes.

The board table shows, per metric, the latest period that the plan can be judged on (the
grain the plan states the metric in), its RAG status and the Making Data Count variation
and assurance icons' meaning, next to what the board paper reported. Each metric's
monthly XmR chart follows. All aggregate: no person-level data reaches a report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from bettercare.analytics.performance import latest, spc_charts
from bettercare.analytics.scheme_impact import ALL_SCHEMES, P4PEarned
from bettercare.domain.metrics import CATALOGUE
from bettercare.domain.plan import Plan
from bettercare.reporting.rendering import data_uri, environment
from bettercare.reporting.spc_charts import xmr_chart_png

#: What each Making Data Count icon tells a board (NHS England, "Making Data Count").
VARIATION_MEANING = {
    "common_cause": "Common cause: no significant change",
    "special_cause_improvement_high": "Special cause: improvement (higher)",
    "special_cause_improvement_low": "Special cause: improvement (lower)",
    "special_cause_concern_high": "Special cause: concern (higher)",
    "special_cause_concern_low": "Special cause: concern (lower)",
    "special_cause_neutral_high": "Special cause: higher (neither better nor worse)",
    "special_cause_neutral_low": "Special cause: lower (neither better nor worse)",
}
ASSURANCE_MEANING = {
    "consistently_pass": "Will consistently hit the target",
    "hit_and_miss": "Hit and miss: the target lies inside the process limits",
    "consistently_fail": "Will consistently fail the target unless the process changes",
}


@dataclass
class LinkedDataSummary:
    """What the demo loaded: shown so a reader knows the basis of the numbers."""

    residents: int
    years: list[str]
    rows_loaded: int
    rows_quarantined: int
    rows_opted_out: int
    linkage: dict[str, float]


def board_rows(plan: Plan, by_grain: dict[str, pd.DataFrame]) -> list[dict[str, Any]]:
    """One row per plan metric: the latest judged period at the finest grain judged."""
    rows = []
    for mp in plan.metrics:
        if mp.metric not in CATALOGUE:
            continue
        chosen = None
        for grain in ("month", "quarter", "year"):
            frame = by_grain.get(grain)
            if frame is None or frame.empty:
                continue
            judged = frame[(frame.metric == mp.metric) & frame.rag.notna()]
            if not judged.empty:
                chosen = latest(judged).iloc[0]
                break
        if chosen is None:
            for grain in ("year", "month"):
                frame = by_grain.get(grain)
                if frame is not None and not frame[frame.metric == mp.metric].empty:
                    chosen = latest(frame[frame.metric == mp.metric]).iloc[0]
                    break
        reported = mp.reported[-1] if mp.reported else None
        rows.append(
            {
                "name": CATALOGUE[mp.metric].name,
                "basis": f"per {mp.time_basis}" if mp.time_basis else "",
                "row": chosen,
                "reported": reported,
                "variation": _spc_note(chosen)
                or VARIATION_MEANING.get(str(getattr(chosen, "spc_variation", "")), ""),
                "assurance": _spc_note(chosen)
                or ASSURANCE_MEANING.get(str(getattr(chosen, "spc_assurance", "")), ""),
            }
        )
    return rows


def _spc_note(row: Any) -> str:
    """Why a row has no SPC variation or assurance (too few points), else ''."""
    note = getattr(row, "spc_note", None)
    return note if isinstance(note, str) else ""


def metric_chart_pngs(pva: pd.DataFrame) -> list[tuple[str, bytes]]:
    """(metric id, XmR chart PNG) for each metric with at least two periods.

    From a plan-vs-actual frame: the charts
    :func:`~bettercare.analytics.performance.plan_vs_actual` computed (target line: the
    latest plan value), labelled with the frame's periods.
    """
    charts = spc_charts(pva)
    return [
        (
            metric,
            xmr_chart_png(
                charts[metric], list(pva.period[pva.metric == metric]), CATALOGUE[metric].name
            ),
        )
        for metric in sorted(charts)
    ]


def chart_images(monthly: pd.DataFrame) -> list[tuple[str, str]]:
    """(metric name, PNG data URI) for each metric with at least two months."""
    return [(CATALOGUE[m].name, data_uri(png)) for m, png in metric_chart_pngs(monthly)]


def metrics_sections(
    plan: Plan,
    by_grain: dict[str, pd.DataFrame],
    schemes: pd.DataFrame,
    p4p: P4PEarned | None,
    summary: LinkedDataSummary | None = None,
) -> list[tuple[str, str]]:
    """The (title, html) sections added to the plan's page."""
    to_date = schemes.groupby("scheme_reference").tail(1) if not schemes.empty else schemes
    to_date = (
        to_date.assign(_all=to_date.scheme_reference == ALL_SCHEMES).sort_values(
            ["_all", "scheme_reference"]
        )
        if not to_date.empty
        else to_date
    )
    html = (
        environment()
        .get_template("metrics.html.j2")
        .render(
            rows=board_rows(plan, by_grain),
            charts=chart_images(by_grain.get("month", pd.DataFrame(columns=["metric"]))),
            schemes=list(to_date.itertuples()) if not to_date.empty else [],
            all_schemes=ALL_SCHEMES,
            p4p=p4p,
            partner_names={p.id: p.name for p in plan.partners},
            summary=summary,
        )
    )
    return [("Metrics from linked data", html)]
