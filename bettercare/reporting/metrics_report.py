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
from bettercare.domain.labels import (
    MISSING,
    SPC_ASSURANCE,
    SPC_VARIATION,
    Kind,
    format_metric,
    format_period,
    metric_display,
    metric_name,
    unit_label,
)
from bettercare.domain.metrics import CATALOGUE
from bettercare.domain.plan import MetricPlan, Plan
from bettercare.reporting.rendering import data_uri, environment
from bettercare.reporting.spc_charts import xmr_chart_png

#: What each Making Data Count icon tells a board (NHS England, "Making Data Count"):
#: the words are the domain's one table (:mod:`bettercare.domain.labels`).
VARIATION_MEANING = SPC_VARIATION
ASSURANCE_MEANING = SPC_ASSURANCE


@dataclass
class LinkedDataSummary:
    """What the demo loaded: shown so a reader knows the basis of the numbers."""

    residents: int
    years: list[str]
    rows_loaded: int
    rows_quarantined: int
    rows_opted_out: int
    linkage: dict[str, float]


def is_count(mp: MetricPlan | None, plan_period: object) -> bool:
    """Whether the plan states the value judged in ``plan_period`` as a count (numerator)."""
    if mp is None or not isinstance(plan_period, str):
        return False
    return any(
        v.period == plan_period and v.value is None and v.numerator is not None for v in mp.planned
    )


def judged_cells(plan: Plan, row: Any) -> dict[str, str]:
    """A plan-vs-actual row as people read it: period, actual, plan and the unit.

    The one place a row's figures become text, for the board pack, the web dashboard,
    the demo report and the CLI: the metric's precision (:mod:`bettercare.domain.labels`,
    the precision its RAG is judged at), a count shown whole, the BCF period notation.
    """
    metric = str(row.metric)
    mp = plan.metric_plan(metric)
    count = is_count(mp, getattr(row, "plan_period", None))
    planned = getattr(row, "planned", None)
    # a rate's unit is long: it goes with the metric's name (``unit``), not in each cell;
    # a percentage, days and a count keep theirs ("62.2%", "3.0 days", "12 admissions")
    short = metric_display(metric).kind is not Kind.RATE
    return {
        "metric": metric,
        "name": metric_name(metric, mp.name if mp else None),
        "period": format_period(row.period),
        "actual": format_metric(row.actual, metric, count=count, unit=short or count),
        "planned": format_metric(planned, metric, count=count, unit=short or count)
        if planned is not None and planned == planned
        else MISSING,
        "unit": unit_label(metric, str(mp.time_basis) if mp and mp.time_basis else None, count),
        "rag": row.rag if isinstance(row.rag, str) else MISSING,
    }


def board_rows(plan: Plan, by_grain: dict[str, pd.DataFrame]) -> list[dict[str, Any]]:
    """One row per plan metric: the latest judged period at the finest grain judged.

    Each row carries its figures as text (``cells``: :func:`judged_cells`), its unit and
    the board paper's reported value as text, so every page shows them alike.
    """
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
        cells = judged_cells(plan, chosen) if chosen is not None else None
        count = cells is not None and is_count(mp, getattr(chosen, "plan_period", None))
        rows.append(
            {
                "metric": mp.metric,
                "name": CATALOGUE[mp.metric].name,
                "basis": unit_label(
                    mp.metric, str(mp.time_basis) if mp.time_basis else None, count
                ),
                "row": chosen,
                "cells": cells,
                "reported": reported,
                "reported_text": (
                    f"{format_metric(reported.value, mp.metric)} ({format_period(reported.period)})"
                    if reported is not None and reported.value is not None
                    else MISSING
                ),
                "variation": _spc_note(chosen)
                or VARIATION_MEANING.get(str(getattr(chosen, "spc_variation", "")), ""),
                "assurance": _spc_note(chosen)
                or ASSURANCE_MEANING.get(str(getattr(chosen, "spc_assurance", "")), ""),
            }
        )
    return rows


def _is_rate(metric: str) -> bool:
    return metric_display(metric).kind is Kind.RATE


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
                charts[metric],
                list(pva.period[pva.metric == metric]),
                CATALOGUE[metric].name,
                metric=metric,
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
