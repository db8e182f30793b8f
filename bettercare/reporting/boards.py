"""Boards side by side: the ICB's and the region's view of several BCF plans.

Owns what the view across boards shows for each plan (funding by stream and pooled
budget in its latest funded year, metrics against plan on published figures, returns
submitted, workflow state and assurance outcome), grouped by NHS region, and its CSV
report. Pure: it takes plans (with the state and assurance the caller holds) and a
published-figures frame; the web service (``services/figures.py``, which decides whose
plans a user may see) and the CLI (``bettercare figures boards``) both call it.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd

from bettercare.analytics.performance import latest
from bettercare.analytics.published import plan_vs_published, published_actuals
from bettercare.data.geography import hwb_by_code
from bettercare.domain.plan import Plan

NOT_IN_ENGLAND = "(not an HWB of England)"


@dataclass(frozen=True)
class PlanEntry:
    """A plan to show, with what the caller knows of it beyond the plan itself."""

    plan: Plan
    plan_id: str
    title: str
    hwb_code: str
    state: str
    assurance: str = ""


@dataclass
class BoardRow:
    """One plan in the view across boards."""

    plan_id: str
    title: str
    hwb_code: str
    hwb_name: str
    nhs_region: str
    state: str
    assurance: str
    financial_year: str
    funding: dict[str, Decimal]  # funding stream -> amount, in financial_year
    funding_total: Decimal
    pooled_budget: Decimal | None  # agreed (else minimum) pooled budget in financial_year
    scheme_total: Decimal
    returns: list[str]  # quarters reported, e.g. "2025/26 Q1"
    rag: dict[str, int]  # RAG -> metrics, latest judged period, from published figures
    metrics_note: str = ""


@dataclass
class IcbView:
    """Boards side by side, grouped by NHS region."""

    regions: list[tuple[str, list[BoardRow]]]
    streams: list[str]
    message: str = ""
    scope: str = ""


def _rag_counts(
    plan_rows: pd.DataFrame | None, plan: Plan, code: str
) -> tuple[dict[str, int], str]:
    """RAG -> number of plan metrics at their latest judged period, and a note."""
    if plan_rows is None:
        return {}, "no published figures"
    try:
        pva = plan_vs_published(published_actuals(plan_rows, [code]), plan, hwb_code=code)
    except ValueError as exc:
        return {}, str(exc)
    counts: Counter[str] = Counter()
    judged: set[str] = set()
    for grain in ("month", "quarter", "year"):
        frame = pva.get(grain)
        if frame is None or frame.empty:
            continue
        rows = latest(frame[frame.rag.notna()])
        for metric, rag in zip(rows.metric, rows.rag, strict=True):
            if metric not in judged:
                judged.add(metric)
                counts[str(rag)] += 1
    return dict(counts), "" if judged else "no plan metric judged on the published figures"


def boards_side_by_side(
    entries: Iterable[PlanEntry],
    figures: pd.DataFrame | None,
    region: str | None = None,
    message: str = "",
    scope: str = "",
) -> IcbView:
    """The plans side by side by NHS region (``region``: that region only)."""
    areas = hwb_by_code()
    by_region: dict[str, list[BoardRow]] = defaultdict(list)
    streams: set[str] = set()
    for e in entries:
        plan = e.plan
        area = areas.get(e.hwb_code)
        nhs_region = area.nhs_region if area else NOT_IN_ENGLAND
        if region is not None and nhs_region != region:
            continue
        funded = sorted({f.financial_year for f in plan.funding if f.amount is not None})
        fy = funded[-1] if funded else sorted(plan.financial_years)[-1]
        funding: dict[str, Decimal] = defaultdict(Decimal)
        for f in plan.funding:
            if f.financial_year == fy and f.amount is not None:
                funding[str(f.source)] += f.amount
        streams.update(funding)
        hwb_rows = None
        if figures is not None and area is not None:
            hwb_rows = figures[figures.area_code == e.hwb_code]
        rag, note = _rag_counts(hwb_rows, plan, e.hwb_code) if area else ({}, "")
        by_region[nhs_region].append(
            BoardRow(
                plan_id=e.plan_id,
                title=e.title,
                hwb_code=e.hwb_code,
                hwb_name=area.hwb_name if area else plan.hwb.name,
                nhs_region=nhs_region,
                state=e.state,
                assurance=e.assurance,
                financial_year=fy,
                funding=dict(funding),
                funding_total=sum(funding.values(), Decimal(0)),
                pooled_budget=plan.agreed_pooled_budget.get(fy)
                or plan.minimum_pooled_budget.get(fy),
                scheme_total=plan.scheme_total(fy),
                returns=[f"{q.financial_year} Q{q.quarter}" for q in plan.quarterly_reports],
                rag=rag,
                metrics_note=note,
            )
        )
    return IcbView(sorted(by_region.items()), sorted(streams), message, scope)


def icb_csv(view: IcbView) -> str:
    """The view across boards as a CSV report (one row per plan)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(
        [
            "nhs_region",
            "hwb_code",
            "hwb_name",
            "plan_id",
            "state",
            "assurance",
            "financial_year",
            *[f"funding_{s}" for s in view.streams],
            "funding_total",
            "pooled_budget",
            "scheme_total",
            "returns_submitted",
            "metrics_green",
            "metrics_amber",
            "metrics_red",
        ]
    )
    for region, rows in view.regions:
        for r in rows:
            writer.writerow(
                [
                    region,
                    r.hwb_code,
                    _safe(r.hwb_name),
                    r.plan_id,
                    r.state,
                    r.assurance,
                    r.financial_year,
                    *[r.funding.get(s, "") for s in view.streams],
                    r.funding_total,
                    r.pooled_budget if r.pooled_budget is not None else "",
                    r.scheme_total,
                    " ".join(r.returns),
                    r.rag.get("GREEN", 0),
                    r.rag.get("AMBER", 0),
                    r.rag.get("RED", 0),
                ]
            )
    return buf.getvalue()


def _safe(text: str) -> str:
    """Text a spreadsheet will not run as a formula (OWASP CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
