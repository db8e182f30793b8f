"""Synthetic control: a weighted mix of comparison units that tracks the treated unit.

Abadie, Diamond & Hainmueller (JASA 2010): non-negative donor weights summing to one
that minimise the squared pre-change gap between the treated series and the weighted
donors; the effect is the mean post-change gap. Written here (constrained least squares
with ``scipy.optimize.minimize``, SLSQP) rather than with a library: with the pre-change
outcomes as the only predictors the fit is this one constrained least squares, and the
maintained packages (pysyncon, scpi-pkg) would add a dependency and a nested
predictor-weight optimisation that this use does not need.

Interval: placebo-in-space (Abadie et al. 2010). Each donor in turn is treated as if it
were the treated unit (synthetic from the other donors); its mean post-change gap is one
draw of the estimate's error under no effect. The 95% interval is the estimate minus the
97.5th and 2.5th percentiles of those draws; the p-value the share of placebos at least
as extreme. When the treated unit is larger (less noisy) than the donors, as a group of
practices against single practices, the interval is conservative. Scaling each draw by
the ratio of pre-change fits (RMSPE) was tried and rejected: on the synthetic benchmark
with no effect it claimed one in 20% of seeds (benchmarks/README.md).
With fewer than :data:`MIN_DONORS` donors: "cannot be estimated".
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from scipy.optimize import minimize  # type: ignore[import-untyped]

from bettercare.analytics.evaluation.results import CONFIDENCE, Effect, estimated, not_estimable

METHOD = "synthetic control"
#: Fewest comparison units (donors): fewer give too few placebos for a 95% interval.
MIN_DONORS = 10
#: Fewest pre-change months to fit the weights.
MIN_PRE = 12
#: Placebos whose pre-change RMSPE exceeds this multiple of the treated unit's are left out.
POOR_FIT = 5.0


def donor_weights(treated_pre: np.ndarray, donors_pre: np.ndarray) -> np.ndarray:
    """Weights ``w >= 0``, ``sum(w) = 1`` minimising ``|treated_pre - donors_pre @ w|^2``."""
    j = donors_pre.shape[1]
    scale = float(np.abs(treated_pre).mean()) or 1.0
    a, b = donors_pre / scale, treated_pre / scale

    def loss(w: np.ndarray) -> float:
        r = b - a @ w
        return float(r @ r)

    def grad(w: np.ndarray) -> np.ndarray:
        return np.asarray(-2 * a.T @ (b - a @ w), dtype=float)

    res = minimize(
        loss,
        np.full(j, 1 / j),
        jac=grad,
        method="SLSQP",
        bounds=[(0.0, 1.0)] * j,
        constraints=[{"type": "eq", "fun": lambda w: float(w.sum() - 1)}],
        options={"maxiter": 500, "ftol": 1e-12},
    )
    w = np.clip(np.asarray(res.x, dtype=float), 0, None)
    return np.asarray(w / w.sum(), dtype=float)


def _gap(y1: np.ndarray, y0: np.ndarray, pre: np.ndarray) -> tuple[float, float, np.ndarray]:
    """(mean post gap, pre RMSPE, weights) of one synthetic control fit."""
    w = donor_weights(y1[pre], y0[pre])
    gap = y1 - y0 @ w
    return float(gap[~pre].mean()), float(np.sqrt(np.mean(gap[pre] ** 2))), w


def synthetic_control(
    treated: pd.Series,
    donors: pd.DataFrame,
    change: date,
    *,
    units: str,
    scale: pd.Series | None = None,
) -> Effect:
    """Synthetic control of monthly ``treated`` from ``donors`` (one column per unit).

    Both indexed by month start. ``scale``: admissions per unit of the metric in each
    month of the treated unit, for the admissions avoided.
    """
    donors = donors.dropna(axis=1)
    j = donors.shape[1]
    if j < MIN_DONORS:
        return not_estimable(METHOD, units, f"too few comparison units: {j} (need {MIN_DONORS})")
    idx = treated.index.intersection(donors.index).sort_values()
    y1 = treated.reindex(idx).to_numpy(dtype=float)
    y0 = donors.reindex(idx).to_numpy(dtype=float)
    pre = np.asarray(idx < pd.Timestamp(change))
    if int(pre.sum()) < MIN_PRE:
        return not_estimable(
            METHOD, units, f"too few months before the change: {int(pre.sum())} (need {MIN_PRE})"
        )
    if int((~pre).sum()) == 0:
        return not_estimable(METHOD, units, "no months after the change")
    effect, rmspe, w = _gap(y1, y0, pre)
    placebo = []
    exact = rmspe <= 1e-6 * max(float(np.abs(y1).mean()), 1.0)  # a perfect fit: no cut-off
    limit = float("inf") if exact else POOR_FIT * rmspe
    for k in range(j):
        others = np.delete(y0, k, axis=1)
        g, r, _ = _gap(y0[:, k], others, pre)
        # Abadie et al. (2010) leave out placebos fitted more than 5 times worse than the
        # treated unit (their gaps say more about the fit than about an effect); a donor
        # its peers fit exactly carries no information about noise.
        if 0 < r <= limit:
            placebo.append(g)
    draws = np.asarray(placebo)
    if len(draws) < MIN_DONORS:
        return not_estimable(
            METHOD,
            units,
            f"only {len(draws)} comparison units fit well enough to serve as placebos "
            f"(need {MIN_DONORS})",
        )
    alpha = 1 - CONFIDENCE
    lo = effect - float(np.quantile(draws, 1 - alpha / 2))
    hi = effect - float(np.quantile(draws, alpha / 2))
    p_value = float((1 + np.sum(np.abs(draws) >= abs(effect))) / (1 + len(draws)))
    avoided: tuple[float | None, float | None, float | None] = (None, None, None)
    if scale is not None:
        total = float(scale.reindex(idx).to_numpy(dtype=float)[~pre].sum())
        avoided = (-effect * total, -hi * total, -lo * total)
    weights = {str(c): float(v) for c, v in zip(donors.columns, w, strict=True) if v > 1e-3}
    return estimated(
        METHOD,
        units,
        effect,
        (lo, hi),
        p_value,
        avoided,
        details={
            "donors": j,
            "pre_rmspe": rmspe,
            "weights": dict(sorted(weights.items(), key=lambda kv: -kv[1])),
            "months_before": int(pre.sum()),
            "months_after": int((~pre).sum()),
        },
    )
