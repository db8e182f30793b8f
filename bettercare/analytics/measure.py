"""Measure a plan on an analytics store and/or published figures: the one composition.

Metrics vs plan, scheme impact, P4P and peer comparisons, by grain. One composition of
:func:`~bettercare.analytics.engine.compute_metrics` (the store),
:func:`~bettercare.analytics.published.published_actuals` and
:func:`~bettercare.analytics.published.combine` (published figures, each row with its
``source``: the store's figure wins where both have one),
:func:`~bettercare.analytics.published.plan_vs_published` (RAG and SPC per grain),
:func:`~bettercare.analytics.published.compare_board` (England, region and peers, with
:mod:`bettercare.analytics.peers`), :func:`~bettercare.analytics.scheme_impact.scheme_impact`
and :func:`~bettercare.analytics.scheme_impact.p4p_earned`, turning a missing, locked or
damaged store or figures database into one line (:class:`MeasureError`). Used by
``bettercare metrics`` (one grain, DuckDB or Spark) and by the board pack
(:func:`bettercare.reporting.board_pack.measure`, a thin adapter), and through the board
pack by the web app's dashboard and metrics pages
(:mod:`bettercare.app.analytics_store`): none of them composes the steps itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from bettercare.analytics.engine import (
    compute_metrics,
    open_store,
    resolve_hwb,
    store_hwb_codes,
    store_tables,
)
from bettercare.analytics.engine.backends import Store
from bettercare.analytics.published import (
    Comparison,
    combine,
    compare_board,
    plan_vs_published,
    published_actuals,
)
from bettercare.analytics.scheme_impact import (
    P4PEarned,
    load_scheme_activity,
    p4p_earned,
    scheme_impact,
)
from bettercare.data.figures import read_figures
from bettercare.data.figures.peer_groups import region_peers
from bettercare.data.geography import hwb_by_code
from bettercare.domain.periods import period_span
from bettercare.domain.plan import Plan
from bettercare.domain.rag import RagThresholds
from bettercare.errors import BadInput, BettercareError

#: The columns of an empty scheme activity table (a store without one).
_ACTIVITY = ["scheme_reference", "month", "admissions_avoided"]
#: The note when only published figures are measured.
PUBLISHED_ONLY = "published figures only: scheme impact needs the store's scheme activity"
#: The note when the store has no scheme activity.
NO_ACTIVITY = "store has no scheme_activity table: scheme impact not measured"


class MeasureError(BadInput):
    """The plan cannot be measured on this input (one line: missing, damaged, other HWB)."""


@dataclass(frozen=True)
class Measured:
    """A plan measured on a store and/or published figures, by grain."""

    #: the store's path, ``(connection)``, or ``published figures PATH`` without a store
    store: str
    hwb_code: str
    #: the actuals per grain (store and/or published; each row with its ``source``)
    actuals: dict[str, pd.DataFrame]
    #: plan_vs_published per grain (RAG with ``amber_tolerance_pct``, SPC, ``source``)
    pva: dict[str, pd.DataFrame]
    #: the store's scheme activity (empty, with a warning, when it has none)
    activity: pd.DataFrame
    #: scheme_impact per grain
    schemes: dict[str, pd.DataFrame]
    #: P4P earned to date (measured at month grain; None without it)
    p4p: P4PEarned | None
    warnings: tuple[str, ...]
    amber_tolerance_pct: float
    #: where the figures came from: "store", "published" or "store and published"
    source: str = "store"
    #: the board among its peers, per plan metric (published figures only)
    comparisons: tuple[Comparison, ...] = ()
    #: the peers compared with (HWB codes)
    peer_codes: tuple[str, ...] = ()


def _in_period(published: dict[str, pd.DataFrame], period: str) -> dict[str, pd.DataFrame]:
    """The published actuals whose periods start within ``period``."""
    window = period_span(period)
    return {
        g: f[
            pd.Series(  # a Series, not a list: an empty list would select no columns
                [window.start <= period_span(p).start <= window.end for p in f.period],
                index=f.index,
                dtype=bool,
            )
        ]
        for g, f in published.items()
    }


def measure_plan(
    plan: Plan,
    store: Store | None = None,
    grains: Sequence[str] = ("month", "year"),
    *,
    hwb_code: str | None = None,
    thresholds: RagThresholds | None = None,
    backend: str = "duckdb",
    period: str | None = None,
    figures: Path | None = None,
    peers: Sequence[str] | None = None,
    hwb_first: bool = False,
) -> Measured:
    """Measure ``plan`` on ``store`` at each of ``grains`` and/or on published ``figures``.

    ``hwb_code``: the HWB to measure (default: the plan's, or the store's only one);
    ``period`` (e.g. ``2016/17``) restricts the events and figures measured. With
    ``figures`` (a figures database, ``bettercare figures load``) the HWB's published
    figures are measured too (at every grain published), or alone without a store, and
    the board is compared with England, its region and ``peers`` (default: its NHS
    region). ``hwb_first``: check that the store holds the HWB before its tables (the
    board pack's order of errors; by default a store without tables says so first).
    Raises :class:`MeasureError` with one line for a store or figures database that
    cannot be measured, or for nothing to measure.
    """
    if store is None and figures is None:
        raise MeasureError("nothing to measure the plan on: give a store or published figures")
    if store is None:
        name = f"published figures {figures}"
    else:
        name = str(store) if isinstance(store, str | Path) else "(connection)"
    thresholds = thresholds or RagThresholds()
    notes: list[str] = []
    comparisons: tuple[Comparison, ...] = ()
    peer_codes: list[str] = []
    try:
        store_actuals: dict[str, pd.DataFrame] | None = None
        code = hwb_code or plan.hwb.ons_code
        if store is not None:
            # by default the store's tables first: "build the store" helps more than
            # "it holds no HWB"
            if hwb_first:
                code = resolve_hwb(plan, store_hwb_codes(store), hwb_code)
            store_actuals = {
                g: compute_metrics(store, g, backend=backend, period=period) for g in grains
            }
            code = resolve_hwb(plan, store_hwb_codes(store), hwb_code)
        published = None
        if figures is not None:
            if code is None:
                raise MeasureError(
                    f"plan {plan.plan_id} states no hwb.ons_code: name the HWB whose "
                    "published figures to use (hwb_code)"
                )
            frame = read_figures(figures)
            published = published_actuals(frame, [code])
            if period is not None:
                published = _in_period(published, period)
            areas = hwb_by_code()
            peer_codes = list(peers) if peers is not None else region_peers(areas).get(code, [])
            comparisons = tuple(
                compare_board(frame, code, peer_codes, areas, [m.metric for m in plan.metrics])
            )
            if not any(not a.empty for a in published.values()):
                notes.append(f"{figures} holds no published figures for HWB {code}")
        actuals = combine(store_actuals, published)
        for frame_ in actuals.values():
            notes += [w for w in frame_.attrs.get("warnings", []) if w not in notes]
        assert code is not None  # resolved above or refused
        pva = plan_vs_published(actuals, plan, thresholds, hwb_code=code)
        activity = pd.DataFrame(columns=_ACTIVITY)
        if store is not None:
            with open_store(store) as con:
                if "scheme_activity" in store_tables(con):
                    activity = load_scheme_activity(con, code)
                else:
                    notes.append(NO_ACTIVITY)
        else:
            notes.append(PUBLISHED_ONLY)
        schemes = {g: scheme_impact(activity, plan, g) for g in grains}
        month = actuals.get("month", pd.DataFrame(columns=["metric", "hwb_code", "breakdown"]))
        earned = p4p_earned(plan, month, hwb_code=code) if "month" in grains else None
    except duckdb.Error as exc:  # a damaged store: one line, not a traceback
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise MeasureError(f"store {name} could not be read: {first}") from None
    except MeasureError:
        raise
    except (BettercareError, ValueError) as exc:  # NotFound (figures), MetricDataError, ...
        raise MeasureError(str(exc)) from None
    source = " and ".join(
        s
        for s, given in (("store", store is not None), ("published", figures is not None))
        if given
    )
    return Measured(
        name,
        code,
        actuals,
        pva,
        activity,
        schemes,
        earned,
        tuple(notes),
        thresholds.amber_tolerance_pct,
        source,
        comparisons,
        tuple(peer_codes),
    )
