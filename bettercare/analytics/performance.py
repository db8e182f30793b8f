"""Plan versus actual: BCF metric actuals against the plan's baselines and trajectories.

For each metric the plan sets (``Plan.metrics``), every actual period is matched to the
plan value for that period -- the planned value whose period *is* the actual period, or
else the smallest planned period that *contains* it, when that is meaningful: a rate the
plan states per month (``MetricPlan.time_basis``, e.g. seed 002's "per 100,000 per month")
applies to each month of the planned year, a percentage to any period inside it, and any
other value only to its own period (an annual rate is never compared with a month).
When a plan gives only a
count (``numerator`` set, ``value`` empty) the actual count (numerator) is compared.

**RAG status** (direction-aware, :mod:`bettercare.domain.rag`'s one enum and rule):

* GREEN -- on or better than plan;
* AMBER -- worse than plan by no more than ``amber_tolerance_pct`` percent of the plan value
  (default 2.5%);
* RED   -- worse than plan by more than that;

judged on the values rounded as they are shown (one decimal place for rates and
percentages, whole numbers for counts: :mod:`bettercare.domain.labels`).

With the default, the Leicestershire 2016/17 board table (seed 002) is reproduced for five
of its six rows (permanent admissions 630.2 vs 606.4 is 3.9% worse: RED; reablement,
patient experience and falls better than plan: GREEN; delayed transfers 64% worse: RED).
The sixth, non-elective admissions 714.78 against 724.37, is *better* than plan for a
lower-is-better metric yet marked AMBER in the seed: no direction-aware rule gives that,
and we report GREEN.

**SPC** (:mod:`bettercare.analytics.spc`): each metric's series of actuals gets an XmR
chart (NHSRplotthedots rules, see that module); every row carries its point's signal and
its segment's mean and limits, and the metric's variation icon (latest point) and
assurance icon (against the latest plan value) so boards see variation, not only RAG.
With fewer than :data:`~bettercare.analytics.spc.MIN_POINTS` values the SPC columns are
empty and ``spc_note`` says why (e.g. "2 points: too few for SPC limits and assurance").
The charts are computed once, here, and kept with the frame (:func:`spc_charts`): the
chart images show the same charts the table's SPC columns come from.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from bettercare.analytics.spc import XmrChart, too_few_points, xmr
from bettercare.domain.labels import metric_decimals
from bettercare.domain.metrics import CATALOGUE, Unit
from bettercare.domain.periods import period_span
from bettercare.domain.plan import MetricPlan, MetricValue, Plan, TimeBasis
from bettercare.domain.rag import RagStatus

# re-exported for callers of this module; defined once in the domain
from bettercare.domain.rag import RagThresholds as RagThresholds
from bettercare.domain.rag import rag_status as rag_status

#: Where :func:`plan_vs_actual` keeps each metric's XmR chart (``DataFrame.attrs``).
SPC_CHARTS = "spc_charts"


#: The one RAG enum and rule live in the domain (:mod:`bettercare.domain.rag`).
Rag = RagStatus


_BASIS_MONTHS = {TimeBasis.MONTH: 1, TimeBasis.QUARTER: 3, TimeBasis.YEAR: 12}


def _plan_value(mp: MetricPlan, period: str, unit: Unit) -> MetricValue | None:
    """The plan value an actual period is judged against, or None.

    A rate stated per month/quarter/year (``MetricPlan.time_basis``) applies to each actual
    period of that length inside the planned period; a percentage applies to any period
    inside it; any other value only to its own period (an annual rate is not a monthly one).
    """
    span = period_span(period)
    exact = [v for v in mp.planned if v.period == period]
    if mp.time_basis is not None:
        if span.months() != _BASIS_MONTHS[mp.time_basis]:
            return None
    elif exact or unit != Unit.PERCENT:
        return exact[0] if exact else None
    if exact:
        return exact[0]
    containing = [
        v
        for v in mp.planned
        if period_span(v.period).start <= span.start and span.end <= period_span(v.period).end
    ]
    return min(containing, key=lambda v: period_span(v.period).months(), default=None)


def _target(v: MetricValue | None) -> tuple[float | None, bool]:
    """The target of a plan value and whether it is a count (compare numerators)."""
    if v is None:
        return None, False
    if v.value is not None:
        return v.value, False
    if v.numerator is not None:
        return v.numerator, True
    return None, False


def _hwb(actuals: pd.DataFrame, plan: Plan, hwb_code: str | None) -> str:
    codes: list[str] = sorted(set(actuals.hwb_code))
    code = hwb_code or plan.hwb.ons_code
    if code is None:
        if len(codes) == 1:
            return codes[0]
        raise ValueError(
            f"plan {plan.plan_id} has no hwb.ons_code and the actuals cover several HWBs "
            f"({', '.join(codes)}); pass hwb_code"
        )
    if code not in codes:
        if hwb_code is None and len(codes) == 1:
            return codes[0]  # the store holds one HWB under another code (synthetic data)
        raise ValueError(f"no actuals for HWB {code} (store has {', '.join(codes) or 'none'})")
    return code


def plan_vs_actual(
    actuals: pd.DataFrame,
    plan: Plan,
    thresholds: RagThresholds | None = None,
    hwb_code: str | None = None,
) -> pd.DataFrame:
    """One row per metric and period: actual, plan, variance, RAG and SPC signals."""
    thresholds = thresholds or RagThresholds()
    hwb = _hwb(actuals, plan, hwb_code)
    act = actuals[(actuals.hwb_code == hwb) & (actuals.breakdown == "all")]
    rows = []
    charts: dict[str, XmrChart] = {}
    for key, grp in act.groupby("metric", sort=True):
        metric = str(key)
        definition = CATALOGUE[metric]
        mp = plan.metric_plan(metric)
        grp = grp.assign(_start=[period_span(p).start for p in grp.period]).sort_values("_start")
        recs: list[dict[str, Any]] = []  # one output row per period
        for period, numerator, denominator, value in zip(
            grp.period, grp.numerator, grp.denominator, grp.value, strict=True
        ):
            pv = _plan_value(mp, period, definition.unit) if mp else None
            target, counts = _target(pv)
            actual = numerator if counts else value
            rag = variance = variance_pct = None
            if target is not None:
                rag = rag_status(
                    actual,
                    target,
                    definition.direction,
                    thresholds.tolerance(metric),
                    decimals=metric_decimals(metric, count=counts),
                ).value
                variance = actual - target
                variance_pct = variance / target * 100 if target else None
            base = mp.baseline.value if mp and mp.baseline else None
            recs.append(
                {
                    "metric": metric,
                    "name": definition.name,
                    "hwb_code": hwb,
                    "period": period,
                    "actual": actual,
                    "numerator": numerator,
                    "denominator": denominator,
                    "baseline": base,
                    "planned": target,
                    "plan_period": pv.period if pv else None,
                    "variance": variance,
                    "variance_pct": variance_pct,
                    "rag": rag,
                }
            )
        series = [x["actual"] for x in recs]
        targets = [x["planned"] for x in recs if x["planned"] is not None]
        if len(series) >= 2:
            chart = charts[str(metric)] = xmr(
                series, definition.direction, targets[-1] if targets else None
            )
            note = chart.too_few_points
            for i, x in enumerate(recs):
                x["spc_note"] = note
                if note is not None:  # too few points: no limits, signals or assurance
                    continue
                seg, signal = chart.segment_of(i), chart.signal(i)
                x["spc_signal"] = signal.value if signal else None
                x["spc_mean"], x["spc_lcl"], x["spc_ucl"] = seg.mean, seg.lcl, seg.ucl
                x["spc_variation"] = chart.variation.value if chart.variation else None
                x["spc_assurance"] = chart.assurance.value if chart.assurance else None
        else:
            for x in recs:
                x["spc_note"] = too_few_points(len(series))
        rows += recs
    cols = [
        "metric",
        "name",
        "hwb_code",
        "period",
        "actual",
        "numerator",
        "denominator",
        "baseline",
        "planned",
        "plan_period",
        "variance",
        "variance_pct",
        "rag",
        "spc_signal",
        "spc_mean",
        "spc_lcl",
        "spc_ucl",
        "spc_variation",
        "spc_assurance",
        "spc_note",
    ]
    frame = pd.DataFrame(rows, columns=cols)
    frame.attrs[SPC_CHARTS] = charts
    return frame


def spc_charts(pva: pd.DataFrame) -> dict[str, XmrChart]:
    """The XmR chart of each metric with two or more periods, as :func:`plan_vs_actual` drew it.

    The charts behind the frame's SPC columns (metric id -> chart, rows in period
    order).
    """
    charts: dict[str, XmrChart] = pva.attrs.get(SPC_CHARTS, {})
    return charts


def latest(frame: pd.DataFrame) -> pd.DataFrame:
    """The most recent period of each metric (the board summary row)."""
    if frame.empty:
        return frame
    order = frame.assign(_start=[period_span(p).start for p in frame.period])
    order = order.sort_values(["metric", "_start"])
    return order.groupby("metric", sort=True).tail(1).drop(columns="_start").reset_index(drop=True)
