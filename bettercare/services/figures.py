"""Published figures in the web app: a board among its peers, and the ICB's/region's view.

Use cases without HTTP, returning view models; the routes in ``app/pages/figures.py``
authorise (``app.security``), gather the plans the user may see and render. The
services take no session or principal here because they need neither: the figures are
a file, and the layer rules keep services from importing the app (where the models and
the principal live today).

* :func:`board_figures`: one HWB's published figures against England, its NHS region
  and its peers, funnel plots, and goal options;
* :func:`icb_view`: several boards side by side (plans, spend by funding stream,
  metrics against plan from published figures, returns submitted, assurance status),
  grouped by NHS region;
* :func:`~bettercare.reporting.boards.icb_csv`: the same as a CSV report (re-exported).

The figures themselves are the analytics layer's (:mod:`bettercare.analytics.published`,
:mod:`bettercare.analytics.goals`); the charts reporting's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from bettercare.data.geography import hwb_by_code
from bettercare.domain.access import Action, Principal, allowed
from bettercare.domain.metrics import CATALOGUE
from bettercare.errors import BettercareError

if TYPE_CHECKING:
    import pandas as pd

    from bettercare.analytics.goals import GoalAdvice
    from bettercare.analytics.peers import Benchmark
    from bettercare.reporting.boards import IcbView, PlanEntry

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
    figures: Path | None,
    hwb_code: str | None,
    peers: Sequence[str] | None = None,
) -> BoardFigures:
    """The board ``hwb_code`` among its peers (the caller has checked the user may see it)."""
    code = hwb_code
    areas = hwb_by_code()
    if code is None:
        return BoardFigures("", "", "Choose a board: /figures?hwb=CODE")
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


# -- the ICB's and the region's view: reporting/boards.py, scoped here ---------------


def icb_view(
    entries: Iterable[PlanEntry],
    figures: Path | None,
    region: str | None = None,
    scope: str = "",
) -> IcbView:
    """The plans given (those the user may see), side by side by NHS region."""
    # pandas and the analytics load here, not at server start
    from bettercare.reporting.boards import boards_side_by_side

    frame = None
    message = ""
    if figures is not None:
        try:
            frame = _read(figures)
        except BettercareError as exc:
            message = str(exc)
    else:
        message = NO_FIGURES
    return boards_side_by_side(entries, frame, region, message, scope)


def icb_csv(view: IcbView) -> str:
    """The view across boards as a CSV report (:func:`bettercare.reporting.boards.icb_csv`)."""
    from bettercare.reporting.boards import icb_csv as to_csv

    return to_csv(view)


def visible_plans(db: Session, principal: Principal) -> list[PlanEntry]:
    """The plans ``principal`` may see, as entries of the view across boards."""
    from bettercare.data.plan_store import list_plans, plan_of
    from bettercare.reporting.boards import PlanEntry

    return [
        PlanEntry(plan_of(r), r.id, r.title, r.hwb_code, r.state, r.assurance_outcome or "")
        for r in list_plans(db)
        if allowed(principal, Action.VIEW_PLAN, r.hwb_code)
    ]
