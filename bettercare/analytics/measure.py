"""Measure a plan on an analytics store: metrics vs plan, scheme impact, P4P, by grain.

One composition of :func:`~bettercare.analytics.engine.compute_metrics`,
:func:`~bettercare.analytics.performance.plan_vs_actual` (RAG and SPC),
:func:`~bettercare.analytics.scheme_impact.scheme_impact` and
:func:`~bettercare.analytics.scheme_impact.p4p_earned`, turning a missing, locked or
damaged store into one line (:class:`MeasureError`). Not yet used by ``bettercare
metrics`` and the board pack: they now also measure published figures
(:mod:`bettercare.analytics.published`) and compose the steps themselves; moving them
onto this function (with the figures) is open work.
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
from bettercare.analytics.metrics import MetricDataError
from bettercare.analytics.performance import plan_vs_actual
from bettercare.analytics.scheme_impact import (
    P4PEarned,
    load_scheme_activity,
    p4p_earned,
    scheme_impact,
)
from bettercare.domain.plan import Plan
from bettercare.domain.rag import RagThresholds
from bettercare.errors import BadInput

#: The columns of an empty scheme activity table (a store without one).
_ACTIVITY = ["scheme_reference", "month", "admissions_avoided"]


class MeasureError(BadInput):
    """The plan cannot be measured on this store (one line: missing, damaged, other HWB)."""


@dataclass(frozen=True)
class Measured:
    """A plan measured on a store, by grain."""

    store: str
    hwb_code: str
    #: compute_metrics output per grain
    actuals: dict[str, pd.DataFrame]
    #: plan_vs_actual per grain (RAG with ``amber_tolerance_pct``, SPC)
    pva: dict[str, pd.DataFrame]
    #: the store's scheme activity (empty, with a warning, when it has none)
    activity: pd.DataFrame
    #: scheme_impact per grain
    schemes: dict[str, pd.DataFrame]
    #: P4P earned to date (measured at month grain; None without it)
    p4p: P4PEarned | None
    warnings: tuple[str, ...]
    amber_tolerance_pct: float


def measure_plan(
    plan: Plan,
    store: Store,
    grains: Sequence[str] = ("month", "year"),
    *,
    hwb_code: str | None = None,
    thresholds: RagThresholds | None = None,
    backend: str = "duckdb",
    period: str | None = None,
) -> Measured:
    """Measure ``plan`` on ``store`` at each of ``grains``.

    ``hwb_code``: the store's HWB to measure (default: the plan's, or the store's only
    one); ``period`` (e.g. ``2016/17``) restricts the events measured. Raises
    :class:`MeasureError` with one line for a store that cannot be measured.
    """
    name = str(store) if isinstance(store, str | Path) else "(connection)"
    thresholds = thresholds or RagThresholds()
    notes: list[str] = []
    try:
        # the store's tables first: "build the store" helps more than "it holds no HWB"
        actuals = {g: compute_metrics(store, g, backend=backend, period=period) for g in grains}
        code = resolve_hwb(plan, store_hwb_codes(store), hwb_code)
        for frame in actuals.values():
            notes += [w for w in frame.attrs.get("warnings", []) if w not in notes]
        pva = {g: plan_vs_actual(a, plan, thresholds, hwb_code=code) for g, a in actuals.items()}
        with open_store(store) as con:
            if "scheme_activity" in store_tables(con):
                activity = load_scheme_activity(con)
            else:
                activity = pd.DataFrame(columns=_ACTIVITY)
                notes.append("store has no scheme_activity table: scheme impact not measured")
        schemes = {g: scheme_impact(activity, plan, g) for g in grains}
        earned = p4p_earned(plan, actuals["month"], hwb_code=code) if "month" in grains else None
    except duckdb.Error as exc:  # a damaged store: one line, not a traceback
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise MeasureError(f"store {name} could not be read: {first}") from None
    except (MetricDataError, ValueError) as exc:
        raise MeasureError(str(exc)) from None
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
    )
