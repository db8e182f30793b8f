"""Evaluation measures against hand-worked small examples; tiers and suppression."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bettercare.analytics.risk.cohorts import TIER_LABELS, assign_tiers, suppress
from bettercare.analytics.risk.evaluate import (
    auc,
    calibration_bins,
    calibration_slope,
    rank_order,
    subgroups,
    top_count,
    top_k,
)

# Ten people, highest predicted risk first; admitted: 1st, 3rd, 4th and 8th.
P = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05])
Y = np.array([1, 0, 1, 1, 0, 0, 0, 1, 0, 0], dtype=bool)


def test_top_k_ppv_and_sensitivity_by_hand():
    # top 20% of 10 = 2 people (0.9, 0.8): 1 admitted -> PPV 1/2, sensitivity 1/4
    t = top_k(Y, P, 0.2)
    assert (t.flagged, t.true_positives, t.events) == (2, 1, 4)
    assert t.ppv == pytest.approx(0.5) and t.sensitivity == pytest.approx(0.25)
    # top 40% = 4 people: admitted 1st, 3rd, 4th -> PPV 3/4, sensitivity 3/4
    t = top_k(Y, P, 0.4)
    assert t.ppv == pytest.approx(0.75) and t.sensitivity == pytest.approx(0.75)
    # top 1% of 10 rounds to 0 people: no PPV
    t = top_k(Y, P, 0.01)
    assert t.flagged == 0 and t.ppv is None and t.sensitivity == 0.0


def test_top_k_order_does_not_depend_on_row_order():
    perm = np.array([9, 3, 0, 7, 5, 1, 8, 2, 6, 4])
    assert top_k(Y[perm], P[perm], 0.4) == top_k(Y, P, 0.4)


def test_ties_keep_table_order():
    assert list(rank_order(np.array([0.5, 0.9, 0.5, 0.9]))) == [1, 3, 0, 2]


def test_top_count_rounds_half_up():
    assert [top_count(n, 0.02) for n in (0, 24, 25, 26, 100, 15280)] == [0, 0, 1, 1, 2, 306]
    assert top_count(360_000, 0.02) == 7_200  # Leicester's 2% (seed 000)


def test_auc_by_hand():
    # positives 0.35, 0.8; negatives 0.1, 0.4: pairs won 0.35>0.1, 0.8>0.1, 0.8>0.4 -> 3/4
    assert auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])) == pytest.approx(0.75)
    assert auc(np.array([1, 1]), np.array([0.1, 0.2])) is None


def _groups(p_pred: list[float], p_obs: list[float], n: int = 10):
    """n people per group; round(p_obs x n) of them admitted."""
    y, p = [], []
    for pred, obs in zip(p_pred, p_obs, strict=True):
        k = round(obs * n)
        y += [1] * k + [0] * (n - k)
        p += [pred] * n
    return np.array(y), np.array(p)


def test_calibration_slope_one_when_observed_matches_predicted():
    y, p = _groups([0.2, 0.5, 0.8], [0.2, 0.5, 0.8])
    slope, intercept = calibration_slope(y, p)
    assert slope == pytest.approx(1.0, abs=1e-4) and intercept == pytest.approx(0.0, abs=1e-4)


def test_calibration_slope_half_when_predictions_twice_too_extreme():
    # predicted logit = 2 x observed logit: 0.2 -> 0.04/0.68, 0.8 -> 0.64/0.68
    y, p = _groups([0.04 / 0.68, 0.5, 0.64 / 0.68], [0.2, 0.5, 0.8])
    slope, intercept = calibration_slope(y, p)
    assert slope == pytest.approx(0.5, abs=1e-4) and intercept == pytest.approx(0.0, abs=1e-4)


def test_calibration_bins_by_hand():
    bins = calibration_bins(Y, P, bins=2)
    # lower half 0.05, 0.1, 0.2, 0.3, 0.4 (mean 1.05/5): 1 admitted of 5;
    # upper half 0.5 .. 0.9 (mean 3.5/5): 3 of 5
    assert list(bins["people"]) == [5, 5]
    assert list(bins["observed"]) == pytest.approx([0.2, 0.6])
    assert list(bins["mean_predicted"]) == pytest.approx([0.21, 0.7])


def test_subgroups_by_hand():
    # 50 people; the top 2% is 1 person: the highest p, a man, admitted
    frame = pd.DataFrame(
        {
            "sex": ["M"] * 25 + ["F"] * 25,
            "age_band": ["60-64"] * 50,
            "imd_decile": [1] * 50,
        }
    )
    p = np.linspace(0.01, 0.5, 50)[::-1].copy()
    y = np.zeros(50, dtype=bool)
    y[[0, 30, 31]] = True
    t = subgroups(frame, y, p).set_index(["group", "value"])
    assert t.loc[("sex", "M"), "flagged_top2"] == 1 and t.loc[("sex", "F"), "flagged_top2"] == 0
    assert t.loc[("sex", "M"), "ppv_top2"] == 1.0
    assert t.loc[("sex", "F"), "sensitivity_top2"] == 0.0
    assert t.loc[("sex", "F"), "admitted"] == 2
    assert t.loc[("age_band", "60-64"), "people"] == 50


def test_tier_counts_match_the_percentages():
    rng = np.random.default_rng(1)
    for n in (1000, 15_280, 360_000):
        tiers = assign_tiers(rng.random(n))
        counts = pd.Series(tiers).value_counts()
        top05, top2, top5 = (top_count(n, s) for s in (0.005, 0.02, 0.05))
        assert counts.get(TIER_LABELS[0], 0) == top05
        assert counts.get(TIER_LABELS[1], 0) == top2 - top05
        assert counts.get(TIER_LABELS[2], 0) == top5 - top2
        assert pd.isna(tiers).sum() == n - top5
    assert top_count(360_000, 0.02) == 7200


def test_tiers_are_the_highest_probabilities():
    p = np.array([0.1] * 190 + [0.9, 0.8, 0.7, 0.6, 0.5, 0.45, 0.44, 0.43, 0.42, 0.41])
    tiers = assign_tiers(p)
    # n = 200: top 0.5% = 1 person, top 2% = 4, top 5% = 10
    assert tiers[190] == "top 0.5%"
    assert list(tiers[191:194]) == ["top 2%"] * 3
    assert list(tiers[194:200]) == ["top 5%"] * 6
    assert all(t is None for t in tiers[:190])


def test_small_counts_are_suppressed_and_others_rounded():
    assert [suppress(c) for c in (0, 1, 7, 8, 12, 13, 7200)] == [0, None, None, 10, 10, 15, 7200]
