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
    peer_basis: str = ""  # who the peers are, in words
    benchmarks: list[Benchmark] = field(default_factory=list)
    bands: dict[str, str] = field(default_factory=dict)
    funnels: list[tuple[str, str]] = field(default_factory=list)  # (metric name, SVG)
    goals: list[GoalAdvice] = field(default_factory=list)


def peers_from_file(peers: Path | None, hwb_code: str | None) -> list[str] | None:
    """The board's peers from a peer file (``serve --peers``; None: its NHS region's).

    A board the file names no peers for, or a file that cannot be read (it was checked
    when the server started), also gives None: the region's boards are the peers.
    """
    if peers is None or hwb_code is None:
        return None
    from bettercare.data.figures.peer_groups import read_peer_groups

    try:
        return read_peer_groups(peers).get(hwb_code)
    except BettercareError:
        return None


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
    view.peer_basis = (
        f"the other {len(peer_codes)} HWBs of the board's NHS region"
        if peers is None
        else f"the {len(peer_codes)} boards the peer file names (serve --peers)"
    )
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


# -- goal options for one metric of a plan (the plan form offers them) ---------------

#: The plan form's words for each goal option of :func:`bettercare.analytics.goals.goal_advice`.
_GOAL_LABELS = {
    "trajectory": ("trajectory", "Continue the trajectory"),
    "peer median": ("peer_median", "Reach the peer median"),
    "peer best quartile": ("peer_best_quartile", "Reach the peers' best quartile"),
}
_UNIT_WORDS = {"per_100k": " per 100,000", "percent": "%"}
NO_FIGURES_FOR_GOALS = (
    "No published figures are loaded, so no goal options can be offered. Load a "
    "publication with `bettercare figures load FILE` and start the server with "
    "`bettercare serve --figures PATH` (the figures database it made). You can still "
    "type your own goal."
)


@dataclass(frozen=True)
class GoalOptionView:
    """One goal option as the plan form offers it: its value and what it means."""

    basis: str  # a GoalBasis value (trajectory, peer_median, peer_best_quartile)
    label: str
    value: float  # rounded as shown and saved (one decimal place)
    meaning: str


@dataclass
class GoalChoice:
    """The goal options for one metric of one board (the user decides)."""

    metric: str
    message: str = ""  # why there are no options, and how to get them
    latest: float | None = None
    latest_period: str = ""
    unit: str = ""  # " per 100,000", "%" or ""
    peers: str = ""  # who the peers are
    options: list[GoalOptionView] = field(default_factory=list)


def _number(value: float, unit: str) -> str:
    return f"{value:,.1f}{unit}"


def goal_options(
    figures: Path | None,
    hwb_code: str | None,
    metric: str,
    peers: Sequence[str] | None = None,
) -> GoalChoice:
    """The goal options for ``metric`` of the board ``hwb_code``, from published figures.

    The options are :func:`bettercare.analytics.goals.goal_advice`'s (the same as the
    figures page and ``bettercare figures goals``; peers default to the board's NHS
    region, as there): continue the trajectory, reach the peer median, reach the peers'
    best quartile, each with its value and what it would mean for the board. Without
    figures, or without figures for this board and metric, ``message`` says why and how
    to load them.
    """
    choice = GoalChoice(metric)
    if figures is None:
        choice.message = NO_FIGURES_FOR_GOALS
        return choice
    if metric not in CATALOGUE:
        choice.message = f"'{metric}' is not a metric of the catalogue: no published figures."
        return choice
    areas = hwb_by_code()
    if hwb_code is None or hwb_code not in areas:
        choice.message = (
            "The plan states no ONS code of an HWB of England (hwb.ons_code): "
            "no published figures to set goals from."
        )
        return choice
    from bettercare.analytics.goals import goal_advice
    from bettercare.data.figures.peer_groups import region_peers

    try:
        frame = _read(figures)
    except BettercareError as exc:
        choice.message = str(exc)
        return choice
    peer_codes = list(peers) if peers is not None else region_peers(areas).get(hwb_code, [])
    advice = goal_advice(frame, hwb_code, peer_codes, areas, [metric])
    if not advice:
        choice.message = (
            f"The figures database holds no yearly figures of {CATALOGUE[metric].name} for "
            f"{areas[hwb_code].hwb_name} ({hwb_code}): no goal options. Load them with "
            "`bettercare figures load FILE`."
        )
        return choice
    a = advice[0]
    unit = _UNIT_WORDS.get(CATALOGUE[metric].unit.value, "")
    choice.latest, choice.latest_period, choice.unit = a.latest, a.latest_period, unit
    choice.peers = (
        f"the other boards of the {areas[hwb_code].nhs_region} NHS region"
        if peers is None
        else f"the {len(peer_codes)} boards of the peer file"
    )
    for o in a.options:
        basis, label = _GOAL_LABELS[o.basis]
        if basis == "peer_best_quartile":
            higher = CATALOGUE[metric].direction.value == "higher_is_better"
            label += (
                " (their upper quartile: higher is better)"
                if higher
                else (" (their lower quartile: lower is better)")
            )
        value = round(o.value, 1)
        meaning = f"{o.change:+,.1f}{unit} on {a.latest_period} ({_number(a.latest, unit)})"
        if o.change_count is not None and round(o.change_count) != 0:
            more = "more" if o.change_count > 0 else "fewer"
            meaning += f": about {abs(o.change_count):,.0f} {more} {a.counted} a year"
        elif o.change_count is not None:
            meaning += f": about the same number of {a.counted}"
        if o.note:
            meaning += f" ({o.note})"
        if basis == "trajectory" and a.trajectory_range is not None:
            low, high = a.trajectory_range
            meaning += f"; expected range {_number(low, unit)} to {_number(high, unit)}"
        choice.options.append(GoalOptionView(basis, label, value, meaning))
    return choice


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
