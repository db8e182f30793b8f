"""Difference-in-differences against comparison units (practices or boards).

Estimate (Angrist & Pischke, *Mostly Harmless Econometrics*, ch. 5; Keeble et al., BMJ
Open 2019 for an English integrated care evaluation): each unit's change from its
pre-change mean to its post-change mean, ``d_i = mean_post_i - mean_pre_i``, and the
effect is the weighted mean change of the treated units minus that of the comparison
units: weighted least squares of ``d_i`` on a treated indicator, weights the units'
populations (a rate's variance falls with its population). Collapsing each unit to one
before/after difference keeps the interval honest when errors are correlated over time
(Bertrand, Duflo & Mullainathan, QJE 2004); the interval uses the t distribution with
``units - 2`` degrees of freedom, so one treated unit against several comparison units
still has one (it assumes the comparison units' spread applies to the treated).

Parallel trends are checked on the pre-change months: the difference in linear trend
between treated and comparison units (unit and month fixed effects plus a treated x
month term, the same weights), and an event study of the treated-minus-comparison gap
in each month relative to the last pre-change month.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm

from bettercare.analytics.evaluation.results import CONFIDENCE, Effect, not_estimable

METHOD = "difference-in-differences"
#: Fewest pre-change months for the parallel-trends check (the estimate needs one).
TREND_PRE = 3
#: Trend-difference p-value under which the parallel-trends assumption is flagged.
TREND_ALPHA = 0.05


def _check_panel(panel: pd.DataFrame) -> None:
    missing = {"unit", "month", "value", "treated"} - set(panel.columns)
    if missing:
        raise ValueError(f"panel lacks column(s) {', '.join(sorted(missing))}")


def difference_in_differences(
    panel: pd.DataFrame,
    change: date,
    *,
    units: str,
    weight: str | None = None,
    scale: str | None = None,
) -> Effect:
    """DiD of ``panel`` (columns unit, month, value, treated; one row per unit and month).

    ``weight``: a column of unit weights (e.g. population; equal weights without it).
    ``scale``: a column of admissions per unit of the metric per row (population / 1,000
    for a rate per 1,000), for the admissions avoided by the treated units.
    """
    _check_panel(panel)
    p = panel.copy()
    p["month"] = pd.to_datetime(p["month"])
    p["post"] = p["month"] >= pd.Timestamp(change)
    p["w"] = p[weight].astype(float) if weight else 1.0
    treated_units = sorted(p.loc[p["treated"].astype(bool), "unit"].unique())
    control_units = sorted(p.loc[~p["treated"].astype(bool), "unit"].unique())
    if not treated_units:
        return not_estimable(METHOD, units, "no treated units")
    if not control_units:
        return not_estimable(METHOD, units, "no comparison units")
    n_pre = p.loc[~p["post"], "month"].nunique()
    n_post = p.loc[p["post"], "month"].nunique()
    if n_pre == 0:
        return not_estimable(METHOD, units, "no months before the change")
    if n_post == 0:
        return not_estimable(METHOD, units, "no months after the change")
    per_unit = p.groupby(["unit", "post"])["value"].mean().unstack("post")
    if per_unit.isna().any(axis=None):
        return not_estimable(METHOD, units, "a unit has no months before or after the change")
    info = p.groupby("unit").agg(treated=("treated", "first"), w=("w", "mean"))
    d = (per_unit[True] - per_unit[False]).reindex(info.index)
    x = sm.add_constant(info["treated"].astype(float).to_numpy(), has_constant="add")
    fit = sm.WLS(d.to_numpy(dtype=float), x, weights=info["w"].to_numpy(dtype=float)).fit()
    effect = float(fit.params[1])
    notes: list[str] = []
    details: dict[str, Any] = {
        "treated_units": len(treated_units),
        "comparison_units": len(control_units),
        "months_before": int(n_pre),
        "months_after": int(n_post),
    }
    lo = hi = p_value = None
    if fit.df_resid >= 1:
        ci = np.asarray(fit.conf_int(alpha=1 - CONFIDENCE))
        lo, hi = float(ci[1, 0]), float(ci[1, 1])
        p_value = float(fit.pvalues[1])
    else:
        notes.append("no interval: too few units (need at least 3)")
    trend = parallel_trends(p, weight_col="w")
    details.update(trend)
    if trend.get("trend_p_value") is not None and trend["trend_p_value"] < TREND_ALPHA:
        notes.append(
            "pre-change trends differ between treated and comparison units "
            f"(p = {trend['trend_p_value']:.3f}): the estimate may be biased"
        )
    avoided: tuple[float | None, float | None, float | None] = (None, None, None)
    if scale:
        post_treated = p[p["post"] & p["treated"].astype(bool)]
        total_scale = float(post_treated[scale].sum() / post_treated["month"].nunique() * n_post)
        avoided = (
            -effect * total_scale,
            None if hi is None else -hi * total_scale,
            None if lo is None else -lo * total_scale,
        )
    return Effect(
        method=METHOD,
        units=units,
        estimable=True,
        effect=effect,
        ci_low=lo,
        ci_high=hi,
        p_value=p_value,
        admissions_avoided=avoided[0],
        avoided_ci_low=avoided[1],
        avoided_ci_high=avoided[2],
        notes=tuple(notes),
        details=details,
    )


def parallel_trends(panel: pd.DataFrame, weight_col: str = "w") -> dict[str, Any]:
    """The pre-change trend check and the event study of a prepared panel.

    ``panel`` has unit, month, value, treated, post and ``weight_col``. Returns
    ``trend_difference_per_month`` and ``trend_p_value`` (None with fewer than
    :data:`TREND_PRE` pre-change months) and ``event_study``: one row per month with the
    weighted treated-minus-comparison gap relative to the last pre-change month.
    """
    out: dict[str, Any] = {"trend_difference_per_month": None, "trend_p_value": None}
    pre = panel[~panel["post"]]
    months = sorted(panel["month"].unique())
    pre_months = sorted(pre["month"].unique())
    if len(pre_months) >= TREND_PRE:
        t_index = {m: i for i, m in enumerate(pre_months)}
        t = pre["month"].map(t_index).astype(float)
        x = pd.concat(
            [
                pd.get_dummies(pre["unit"], prefix="u", dtype=float),
                pd.get_dummies(pre["month"], prefix="m", drop_first=True, dtype=float),
                (t * pre["treated"].astype(float)).rename("treated_trend"),
            ],
            axis=1,
        )
        fit = sm.WLS(
            pre["value"].to_numpy(dtype=float),
            x.to_numpy(),
            weights=pre[weight_col].to_numpy(dtype=float),
        ).fit()
        if fit.df_resid >= 1:
            out["trend_difference_per_month"] = float(fit.params[-1])
            out["trend_p_value"] = float(fit.pvalues[-1])
    gaps = []
    for m in months:
        rows = panel[panel["month"] == m]
        tr = rows[rows["treated"].astype(bool)]
        co = rows[~rows["treated"].astype(bool)]
        if tr.empty or co.empty:
            continue
        gap = float(np.average(tr["value"], weights=tr[weight_col])) - float(
            np.average(co["value"], weights=co[weight_col])
        )
        gaps.append((pd.Timestamp(m), gap))
    if pre_months and gaps:
        ref = dict(gaps).get(pd.Timestamp(pre_months[-1]), 0.0)
        out["event_study"] = [
            {"month": m.date().isoformat(), "gap_vs_last_pre_month": g - ref} for m, g in gaps
        ]
    return out
