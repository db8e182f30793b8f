"""Scheme impact: admissions avoided by each BCF scheme and the P4P earned to date.

Non-elective admissions avoided by each BCF scheme against its target, and the payment
for performance *earned to date* from the actual reduction.

Admissions avoided (``scheme_activity`` feed, one row per board, scheme and month; a
plan sees only its own board's rows, matched on its scheme references):

* target per month = the scheme's ``admissions_avoided[financial year] / 12`` (pro rata;
  a quarter is 3 months' worth, a year 12);
* cumulative figures run from the start of each financial year to the period;
* ``on_track`` when avoided to date >= target to date.

Seed 002 (Leicestershire 2016/17): five schemes targeted to avoid 1,517 admissions in the
year had avoided 2,138 by December -- i.e. the "all schemes" cumulative row for 2016-12.

P4P earned to date: this module only finds the months elapsed and the actual admissions;
the arithmetic (baseline pro rata, the cap at the performance-linked sum pro rata, the
amount retained for the extra acute activity, the partners' exposure) is
:func:`bettercare.domain.p4p.earned_to_date`, the one payment-for-performance module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

import pandas as pd

from bettercare.analytics.metrics.base import label_for
from bettercare.data.schema import require_current
from bettercare.domain.p4p import (
    EarnedToDate,
    P4PError,
    baseline_to_date,
    earned_to_date,
    performance_sum,
)
from bettercare.domain.periods import fy_of, fy_span, period_span
from bettercare.domain.plan import Plan

if TYPE_CHECKING:
    import duckdb

ALL_SCHEMES = "all schemes"


def _months(start: date, end: date) -> list[date]:
    out, y, m = [], start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append(date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def scheme_impact(activity: pd.DataFrame, plan: Plan, grain: str = "month") -> pd.DataFrame:
    """Admissions avoided per scheme per period vs the pro-rata target, cumulative in year.

    ``activity`` has the ``scheme_activity`` columns (scheme_reference, month,
    admissions_avoided). Months run from the start of the first financial year with
    activity to the last month with activity; schemes with a target but no activity count
    zero. Rows for scheme ``'all schemes'`` total every scheme.
    """
    cols = [
        "scheme_reference",
        "scheme_name",
        "financial_year",
        "period",
        "avoided",
        "target",
        "avoided_to_date",
        "target_to_date",
        "target_year",
        "variance_to_date",
        "on_track",
    ]
    if activity.empty:
        return pd.DataFrame(columns=cols)
    act = activity.assign(month=pd.to_datetime(activity.month).dt.date)
    first = fy_span(fy_of(min(act.month))).start
    months = _months(first, max(act.month))
    names = {s.reference: s.name for s in plan.schemes}
    targets = {s.reference: s.admissions_avoided for s in plan.schemes}
    refs = sorted(set(act.scheme_reference) | {r for r, t in targets.items() if any(t.values())})
    got = act.groupby(["scheme_reference", "month"]).admissions_avoided.sum().to_dict()
    grid = []
    for ref in refs:
        for m in months:
            fy = fy_of(m)
            year_target = targets.get(ref, {}).get(fy)
            grid.append(
                {
                    "scheme_reference": ref,
                    "financial_year": fy,
                    "period": label_for(m, grain),
                    "month": m,
                    "avoided": float(got.get((ref, m), 0)),
                    "target": year_target / 12 if year_target is not None else float("nan"),
                    "target_year": year_target,
                }
            )
    g = pd.DataFrame(grid)
    tot = g.groupby(["financial_year", "period", "month"], as_index=False).agg(
        avoided=("avoided", "sum"),
        target=("target", lambda s: s.sum(min_count=1)),
        target_year=("target_year", lambda s: s.sum(min_count=1)),
    )
    g = pd.concat([g, tot.assign(scheme_reference=ALL_SCHEMES)], ignore_index=True)
    out = g.groupby(
        ["scheme_reference", "financial_year", "period"], as_index=False, sort=False
    ).agg(
        avoided=("avoided", "sum"),
        target=("target", lambda s: s.sum(min_count=1)),
        target_year=("target_year", "first"),
        month=("month", "min"),
    )
    out = out.sort_values(["scheme_reference", "month"])
    keys = ["scheme_reference", "financial_year"]
    out["avoided_to_date"] = out.groupby(keys).avoided.cumsum()
    out["target_to_date"] = out.groupby(keys).target.cumsum()
    out["variance_to_date"] = out.avoided_to_date - out.target_to_date
    out["on_track"] = (out.avoided_to_date >= out.target_to_date).where(out.target_to_date.notna())
    out["scheme_name"] = out.scheme_reference.map(names)
    return out[cols].reset_index(drop=True)


def load_scheme_activity(con: duckdb.DuckDBPyConnection, hwb_code: str) -> pd.DataFrame:
    """One board's ``scheme_activity`` from the store: admissions avoided per scheme and month.

    Only HWB ``hwb_code``'s rows: a store may hold several boards, and scheme references
    are each plan's own (two boards may both have a scheme ``S1``). A store whose table
    predates the ``hwb_code`` column raises
    :class:`~bettercare.data.schema.StoreOutdated` (its rows cannot be told apart by
    board; the message says how to re-ingest).
    """
    require_current(con, "scheme_activity")
    sql = (
        "SELECT scheme_reference, month, admissions_avoided FROM scheme_activity "
        "WHERE hwb_code = ? ORDER BY scheme_reference, month"
    )
    frame: pd.DataFrame = con.execute(sql, [hwb_code]).df()
    return frame


@dataclass(frozen=True)
class P4PEarned:
    """P4P earned to date for a plan, or why it cannot be computed (``reason``)."""

    financial_year: str | None
    to_date: EarnedToDate | None = None
    reason: str = ""

    @property
    def earned(self) -> Decimal | None:
        """P4P earned to date (None when it cannot be computed)."""
        return self.to_date.earned if self.to_date else None

    @property
    def retained(self) -> Decimal | None:
        """The linked sum retained to date to pay for acute activity (None when unknown)."""
        return self.to_date.retained if self.to_date else None


def p4p_earned(plan: Plan, actuals: pd.DataFrame, hwb_code: str | None = None) -> P4PEarned:
    """P4P earned to date from monthly non-elective admission actuals (see module doc).

    ``actuals`` is :func:`~bettercare.analytics.engine.compute_metrics` output at month
    grain (the ``non_elective_admissions`` numerator is the admissions count).
    """
    perf = plan.performance
    if perf is None:
        return P4PEarned(None, reason=f"plan {plan.plan_id} has no performance (P4P) section")
    if perf.baseline_admissions is None:
        return P4PEarned(
            perf.financial_year,
            reason="the plan states no baseline admissions (performance.baseline_admissions), "
            "so the reduction achieved cannot be measured",
        )
    try:
        planned = performance_sum(plan)
    except P4PError as exc:
        return P4PEarned(perf.financial_year, reason=str(exc))
    span = fy_span(perf.financial_year)
    nea = actuals[(actuals.metric == "non_elective_admissions") & (actuals.breakdown == "all")]
    codes = sorted(set(nea.hwb_code))
    code = hwb_code or plan.hwb.ons_code
    if code not in codes and len(codes) == 1 and hwb_code is None:
        code = codes[0]
    nea = nea[nea.hwb_code == code]
    nea = nea[nea.period.str.fullmatch(r"\d{4}-\d{2}")]
    in_year = nea[[span.start <= period_span(p).start <= span.end for p in nea.period]]
    if in_year.empty:
        return P4PEarned(
            perf.financial_year,
            reason=f"no monthly non-elective admissions for HWB {code} in {perf.financial_year}",
        )
    last = max(period_span(p).start for p in in_year.period)
    months = (last.year - span.start.year) * 12 + last.month - span.start.month + 1
    actual = Decimal(str(float(in_year.numerator.sum())))
    result = earned_to_date(planned, months, baseline_to_date(perf, months), actual)
    return P4PEarned(perf.financial_year, result, result.explain())
