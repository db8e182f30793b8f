"""Published figures in the web app: a board among its peers, and the ICB's/region's view.

Use cases without HTTP (functions take a database session and the acting principal and
return view models; the routes in ``app/pages/figures.py`` only parse and render):

* :func:`board_figures`: one HWB's published figures against England, its NHS region
  and its peers, funnel plots, and goal options (analysts, editors, coordinators of
  that HWB; assurers and admins for any);
* :func:`icb_view`: several boards side by side (plans, spend by funding stream,
  metrics against plan from published figures, returns submitted, assurance status),
  grouped by NHS region; assurers and admins see every board, others only their own;
* :func:`icb_csv`: the same as a CSV report.

The figures themselves are the analytics layer's (:mod:`bettercare.analytics.published`,
:mod:`bettercare.analytics.goals`); the charts reporting's.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from bettercare.app.plans import list_plans, plan_of
from bettercare.app.security import EVERY_HWB, Action, Principal, allowed
from bettercare.data.geography import hwb_by_code
from bettercare.domain.metrics import CATALOGUE
from bettercare.errors import BettercareError, NotPermitted

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.orm import Session

    from bettercare.analytics.goals import GoalAdvice
    from bettercare.analytics.peers import Benchmark

NO_FIGURES = (
    "No published figures are configured: start the server with --figures PATH (a figures "
    "database made by `bettercare figures load`)."
)


@dataclass
class BoardFigures:
    """One board among its peers, as the page shows it."""

    hwb_code: str
    hwb_name: str
    message: str = ""
    peers: int = 0
    benchmarks: list[Benchmark] = field(default_factory=list)
    bands: dict[str, str] = field(default_factory=dict)
    funnels: list[tuple[str, str]] = field(default_factory=list)  # (metric name, SVG)
    goals: list[GoalAdvice] = field(default_factory=list)


def _read(figures: Path) -> pd.DataFrame:
    from bettercare.data.figures import read_figures

    return read_figures(figures)


def board_figures(
    db: Session,
    principal: Principal,
    figures: Path | None,
    hwb_code: str | None = None,
    peers: Sequence[str] | None = None,
) -> BoardFigures:
    """The board ``hwb_code`` (default: the principal's) among its peers.

    Raises :class:`NotPermitted` when the principal may not see that HWB's metrics.
    """
    del db  # published figures need no record of the app database
    code = hwb_code or principal.hwb_code
    areas = hwb_by_code()
    if code is None:
        return BoardFigures("", "", "Choose a board: /figures?hwb=CODE")
    if not allowed(principal, Action.VIEW_METRICS, code):
        raise NotPermitted(f"{principal.username} may not see the metrics of {code}")
    area = areas.get(code)
    name = area.hwb_name if area else code
    if figures is None:
        return BoardFigures(code, name, NO_FIGURES)
    if area is None:
        return BoardFigures(code, name, f"{code} is not an HWB of England: no published figures")
    from bettercare.analytics.goals import goal_advice
    from bettercare.analytics.published import compare_board
    from bettercare.data.figures.peer_groups import region_peers
    from bettercare.reporting.charts import funnel_svg

    try:
        frame = _read(figures)
    except BettercareError as exc:
        return BoardFigures(code, name, str(exc))
    peer_codes = list(peers) if peers is not None else region_peers(areas).get(code, [])
    comparisons = compare_board(frame, code, peer_codes, areas)
    names = {c: a.hwb_name for c, a in areas.items()}
    view = BoardFigures(code, name, peers=len(peer_codes))
    view.benchmarks = [c.benchmark for c in comparisons]
    view.bands = {
        c.benchmark.metric: c.point.band.value if c.point else c.note for c in comparisons
    }
    view.funnels = [
        (CATALOGUE[c.benchmark.metric].name, funnel_svg(c.funnel, code, peer_codes, names))
        for c in comparisons
        if c.funnel is not None
    ]
    view.goals = goal_advice(frame, code, peer_codes, areas)
    if not comparisons:
        view.message = f"The figures database holds no figures for {name} ({code})."
    return view


# -- the ICB's and the region's view ----------------------------------------------------------


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
    plan_rows: pd.DataFrame | None, plan: object, code: str
) -> tuple[dict[str, int], str]:
    from bettercare.analytics.performance import latest
    from bettercare.analytics.published import plan_vs_published, published_actuals
    from bettercare.domain.plan import Plan

    assert isinstance(plan, Plan)
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


def icb_view(
    db: Session, principal: Principal, figures: Path | None, region: str | None = None
) -> IcbView:
    """The plans the principal may see, side by side, by NHS region (``region`` only)."""
    areas = hwb_by_code()
    frame = None
    message = ""
    if figures is not None:
        try:
            frame = _read(figures)
        except BettercareError as exc:
            message = str(exc)
    else:
        message = NO_FIGURES
    by_region: dict[str, list[BoardRow]] = defaultdict(list)
    streams: set[str] = set()
    for record in list_plans(db):
        if not allowed(principal, Action.VIEW_PLAN, record.hwb_code):
            continue
        plan = plan_of(record)
        area = areas.get(record.hwb_code)
        nhs_region = area.nhs_region if area else "(not an HWB of England)"
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
        if frame is not None and area is not None:
            hwb_rows = frame[frame.area_code == record.hwb_code]
        rag, note = _rag_counts(hwb_rows, plan, record.hwb_code) if area else ({}, "")
        by_region[nhs_region].append(
            BoardRow(
                plan_id=record.id,
                title=record.title,
                hwb_code=record.hwb_code,
                hwb_name=area.hwb_name if area else plan.hwb.name,
                nhs_region=nhs_region,
                state=record.state,
                assurance=record.assurance_outcome or "",
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
    scope = "every board" if principal.role in EVERY_HWB else "your board"
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
