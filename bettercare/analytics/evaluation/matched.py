"""Matched control cohort for person-level schemes: enrolled people against similar people.

The Improvement Analytics Unit's approach (Health Foundation / NHS England; Lloyd et al.,
BMJ Open 2021) in its simplest form: a propensity score (logistic regression of
enrolment on the covariates, scikit-learn) and, for each enrolled person in turn, the
nearest not-enrolled person on the logit of the score (scikit-learn ``NearestNeighbors``)
within a caliper of 0.2 standard deviations of the logit (Austin, Pharm Stat 2011),
without replacement. Enrolled people with no control within the caliper are left out
and counted. The effect on the enrolled (ATT) is the mean of the matched pairs'
outcome differences, with a paired t interval (Austin, Stat Med 2011: matched samples
are not independent samples).

Balance is shown as standardised mean differences (SMD) of each covariate before and
after matching, both over the pre-matching pooled standard deviation; |SMD| above 0.1
is the usual sign of imbalance.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.neighbors import NearestNeighbors  # type: ignore[import-untyped]
from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped]

from bettercare.analytics.evaluation.results import CONFIDENCE, Effect, not_estimable

METHOD = "matched control cohort"
#: Caliper, in standard deviations of the logit of the propensity score.
CALIPER_SD = 0.2
#: Absolute SMD above which a covariate is flagged as imbalanced after matching.
SMD_FLAG = 0.1
#: Fewest matched pairs for an interval.
MIN_PAIRS = 10
#: Candidates looked at per enrolled person before giving up (all taken or too far).
_CANDIDATES = 50


def smd(treated: np.ndarray, control: np.ndarray, sd: float) -> float:
    """Standardised mean difference of two samples over ``sd`` (0 when ``sd`` is 0)."""
    if sd == 0:
        return 0.0
    return float((np.mean(treated) - np.mean(control)) / sd)


def pooled_sd(treated: np.ndarray, control: np.ndarray) -> float:
    """sqrt((var_t + var_c) / 2), the usual SMD denominator."""
    vt = float(np.var(treated, ddof=1)) if len(treated) > 1 else 0.0
    vc = float(np.var(control, ddof=1)) if len(control) > 1 else 0.0
    return float(np.sqrt((vt + vc) / 2))


def greedy_match(logit_t: np.ndarray, logit_c: np.ndarray, caliper: float) -> list[tuple[int, int]]:
    """Pairs (enrolled index, control index): nearest unused control within ``caliper``.

    Enrolled people are matched in descending order of score (the hardest to match
    first), each to the nearest control not yet used.
    """
    nn = NearestNeighbors(n_neighbors=min(_CANDIDATES, len(logit_c))).fit(logit_c.reshape(-1, 1))
    dist, idx = nn.kneighbors(logit_t.reshape(-1, 1))
    used: set[int] = set()
    pairs: list[tuple[int, int]] = []
    for i in np.argsort(-logit_t, kind="stable"):
        for d, j in zip(dist[i], idx[i], strict=True):
            if d > caliper:
                break
            if int(j) not in used:
                used.add(int(j))
                pairs.append((int(i), int(j)))
                break
    return pairs


def matched_cohort(
    people: pd.DataFrame,
    covariates: list[str],
    *,
    outcome: str,
    units: str,
    seed: int = 0,
) -> Effect:
    """ATT of enrolment on ``outcome`` (a count per person, e.g. admissions in 12 months).

    ``people``: one row per person with a boolean ``enrolled``, the numeric
    ``covariates`` and ``outcome``.
    """
    enrolled = people["enrolled"].astype(bool).to_numpy()
    n_t, n_c = int(enrolled.sum()), int((~enrolled).sum())
    if n_t == 0:
        return not_estimable(METHOD, units, "no enrolled people in the store")
    if n_c < n_t:
        return not_estimable(
            METHOD, units, f"fewer people not enrolled ({n_c}) than enrolled ({n_t})"
        )
    x = people[covariates].to_numpy(dtype=float)
    y = people[outcome].to_numpy(dtype=float)
    xs = StandardScaler().fit_transform(x)
    model = LogisticRegression(max_iter=2000, random_state=seed).fit(xs, enrolled)
    ps = np.clip(model.predict_proba(xs)[:, 1], 1e-9, 1 - 1e-9)
    logit = np.log(ps / (1 - ps))
    caliper = CALIPER_SD * float(np.std(logit, ddof=1))
    t_idx, c_idx = np.flatnonzero(enrolled), np.flatnonzero(~enrolled)
    pairs = greedy_match(logit[t_idx], logit[c_idx], caliper)
    if len(pairs) < MIN_PAIRS:
        return not_estimable(
            METHOD,
            units,
            f"only {len(pairs)} enrolled people have a similar person not enrolled "
            f"(need {MIN_PAIRS})",
        )
    mt = t_idx[[a for a, _ in pairs]]
    mc = c_idx[[b for _, b in pairs]]
    diff = y[mt] - y[mc]
    n = len(diff)
    att = float(diff.mean())
    se = float(diff.std(ddof=1) / np.sqrt(n))
    q = float(stats.t.ppf(1 - (1 - CONFIDENCE) / 2, n - 1))
    lo, hi = att - q * se, att + q * se
    p_value = float(2 * stats.t.sf(abs(att / se), n - 1)) if se > 0 else 0.0
    balance: list[dict[str, Any]] = []
    flagged = []
    for k, name in enumerate(covariates):
        sd = pooled_sd(x[t_idx, k], x[c_idx, k])
        before = smd(x[t_idx, k], x[c_idx, k], sd)
        after = smd(x[mt, k], x[mc, k], sd)
        balance.append({"covariate": name, "smd_before": before, "smd_after": after})
        if abs(after) > SMD_FLAG:
            flagged.append(name)
    notes = []
    if n < n_t:
        notes.append(f"{n_t - n} of {n_t} enrolled people had no match within the caliper")
    if flagged:
        notes.append(f"imbalanced after matching (|SMD| > {SMD_FLAG}): {', '.join(flagged)}")
    return Effect(
        method=METHOD,
        units=units,
        estimable=True,
        effect=att,
        ci_low=lo,
        ci_high=hi,
        p_value=p_value,
        admissions_avoided=-att * n,
        avoided_ci_low=-hi * n,
        avoided_ci_high=-lo * n,
        notes=tuple(notes),
        details={
            "enrolled": n_t,
            "matched_pairs": n,
            "controls_available": n_c,
            "caliper_logit": caliper,
            "balance": balance,
        },
    )
