"""Evaluation methods on hand-worked known answers, and on a store with an injected effect."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bettercare.analytics.evaluation import EvaluationSpec, evaluate_store
from bettercare.analytics.evaluation.did import difference_in_differences
from bettercare.analytics.evaluation.its import interrupted_time_series, newey_west_lags
from bettercare.analytics.evaluation.matched import matched_cohort, smd
from bettercare.analytics.evaluation.store import cohort
from bettercare.analytics.evaluation.synthetic import donor_weights, synthetic_control
from bettercare.data.synth.effects import InjectedEffect, inject

from .synthetic_store import CHANGE, tables, write_store

MONTHS = pd.date_range("2021-04-01", periods=36, freq="MS")
SEASON = np.array([3, 1, 0, -1, -2, -1, 0, 1, 2, 4, 2, 1], dtype=float)


def _series(step: float, slope: float = 0.5) -> pd.Series:
    t = np.arange(36)
    y = 100 + slope * t + SEASON[t % 12] + np.where(MONTHS >= "2023-04-01", step, 0.0)
    return pd.Series(y, index=MONTHS)


# --- interrupted time series ---------------------------------------------------------


def test_its_noiseless_step_of_minus_5_is_recovered():
    e = interrupted_time_series(_series(-5), date(2023, 4, 1), units="x")
    assert e.estimable
    assert e.effect == pytest.approx(-5, abs=1e-9)
    assert e.details["level_change"] == pytest.approx(-5, abs=1e-9)
    assert e.details["slope_change"] == pytest.approx(0, abs=1e-9)
    assert e.details["seasonality"] is True


def test_its_admissions_avoided_scale_the_effect_by_the_post_months():
    # 12 post months, 2 admissions per unit of the metric: 5 * 2 * 12 = 120 avoided.
    scale = pd.Series(2.0, index=MONTHS)
    e = interrupted_time_series(_series(-5), date(2023, 4, 1), units="x", scale=scale)
    assert e.admissions_avoided == pytest.approx(120, abs=1e-6)


def test_its_slope_change_is_averaged_over_the_post_months():
    # After the change the series falls 1 a month more: effects 0, -1, ..., -11 -> mean -5.5
    t = np.arange(36)
    y = pd.Series(50 + 0.2 * t - np.where(t >= 24, t - 24, 0), index=MONTHS, dtype=float)
    e = interrupted_time_series(y, date(2023, 4, 1), units="x", seasonality=False)
    assert e.effect == pytest.approx(-5.5, abs=1e-9)


def test_its_interval_covers_a_noisy_step():
    rng = np.random.default_rng(5)
    y = _series(-5) + rng.normal(0, 1, 36)
    e = interrupted_time_series(y, date(2023, 4, 1), units="x")
    assert e.ci_low < -5 < e.ci_high and e.ci_high < 0


def test_its_too_few_pre_months():
    y = _series(-5).iloc[18:]
    e = interrupted_time_series(y, date(2023, 4, 1), units="x")
    assert not e.estimable and "too few months before the change: 6" in e.reason


def test_its_without_two_years_before_drops_seasonality_with_a_note():
    y = _series(-5, slope=0).iloc[6:]
    e = interrupted_time_series(y, date(2023, 4, 1), units="x")
    assert e.estimable and e.details["seasonality"] is False
    assert any("month-of-year" in n for n in e.notes)


def test_newey_west_lags():
    assert newey_west_lags(100) == 4
    assert newey_west_lags(36) == 3


# --- difference-in-differences ---------------------------------------------------------


def _panel(values: dict[str, tuple[list[float], list[float]]], treated: set[str]) -> pd.DataFrame:
    rows = []
    for unit, (pre, post) in values.items():
        for i, v in enumerate(pre):
            rows.append((unit, date(2023, 1 + i, 1), v))
        for i, v in enumerate(post):
            rows.append((unit, date(2024, 1 + i, 1), v))
    p = pd.DataFrame(rows, columns=["unit", "month", "value"])
    p["treated"] = p["unit"].isin(treated)
    return p


def test_did_2x2_by_hand():
    # treated 10 -> 7 (-3), comparison 8 -> 9 (+1): effect -3 - 1 = -4
    p = _panel({"T": ([10], [7]), "C": ([8], [9])}, {"T"})
    e = difference_in_differences(p, date(2024, 1, 1), units="x")
    assert e.effect == pytest.approx(-4)
    assert e.ci_low is None and any("too few units" in n for n in e.notes)


def test_did_interval_by_hand():
    # Changes: treated -3, -5 (mean -4); comparison +1, +3 (mean +2): effect -6.
    # Residuals +-1 in each group: s^2 = 4 / (4 - 2) = 2; SE = sqrt(2 (1/2 + 1/2)) = sqrt(2).
    p = _panel(
        {"T1": ([10], [7]), "T2": ([10], [5]), "C1": ([8], [9]), "C2": ([8], [11])},
        {"T1", "T2"},
    )
    e = difference_in_differences(p, date(2024, 1, 1), units="x")
    half = stats.t.ppf(0.975, 2) * math.sqrt(2)
    assert e.effect == pytest.approx(-6)
    assert e.ci_low == pytest.approx(-6 - half) and e.ci_high == pytest.approx(-6 + half)


def test_did_weights_are_the_units_populations():
    # Treated change -4; comparisons +1 (weight 3) and +5 (weight 1): mean +2 -> effect -6
    p = _panel({"T": ([10], [6]), "C1": ([8], [9]), "C2": ([8], [13])}, {"T"})
    p["w"] = p["unit"].map({"T": 1.0, "C1": 3.0, "C2": 1.0})
    e = difference_in_differences(p, date(2024, 1, 1), units="x", weight="w")
    assert e.effect == pytest.approx(-6)


def test_did_flags_diverging_pre_trends():
    pre_t = [10 + 2 * i for i in range(6)]
    pre_c = [10 + 0.1 * ((-1) ** i) for i in range(6)]
    p = _panel(
        {
            "T1": (pre_t, [22, 24]),
            "T2": ([v + 1 for v in pre_t], [23, 25]),
            "C1": (pre_c, [10, 10]),
            "C2": ([v + 1 for v in pre_c], [11, 11]),
        },
        {"T1", "T2"},
    )
    e = difference_in_differences(p, date(2024, 1, 1), units="x")
    assert e.details["trend_difference_per_month"] == pytest.approx(2, abs=0.05)
    assert any("pre-change trends differ" in n for n in e.notes)
    assert e.details["event_study"][5]["gap_vs_last_pre_month"] == pytest.approx(0)


def test_did_without_comparison_units():
    p = _panel({"T": ([10], [7])}, {"T"})
    e = difference_in_differences(p, date(2024, 1, 1), units="x")
    assert not e.estimable and e.reason == "no comparison units"


# --- matched cohort --------------------------------------------------------------------


def test_smd_by_hand():
    # means 2 and 3 over an sd of 1: -1
    assert smd(np.array([1.0, 2, 3]), np.array([2.0, 3, 4]), 1.0) == pytest.approx(-1)


def test_matched_cohort_recovers_a_known_effect_and_balances():
    rng = np.random.default_rng(1)
    n = 4000
    x = rng.normal(0, 1, n)
    enrolled = rng.random(n) < 1 / (1 + np.exp(-(x * 1.5 - 3)))
    # outcome depends on x (confounding); enrolment lowers it by exactly 2
    y = 5 + 3 * x - 2 * enrolled + rng.normal(0, 0.5, n)
    people = pd.DataFrame({"x": x, "enrolled": enrolled, "y": y})
    e = matched_cohort(people, ["x"], outcome="y", units="x")
    naive = y[enrolled].mean() - y[~enrolled].mean()
    assert naive > 0  # confounded: the enrolled look worse without matching
    assert e.ci_low < -2 < e.ci_high
    bal = e.details["balance"][0]
    assert abs(bal["smd_before"]) > 1 and abs(bal["smd_after"]) < 0.1
    assert e.admissions_avoided == pytest.approx(-e.effect * e.details["matched_pairs"])


def test_matched_cohort_without_enrolled_people():
    people = pd.DataFrame({"x": [1.0, 2.0], "enrolled": [False, False], "y": [0.0, 1.0]})
    e = matched_cohort(people, ["x"], outcome="y", units="x")
    assert not e.estimable and "no enrolled people" in e.reason


# --- synthetic control -----------------------------------------------------------------


def test_donor_weights_recover_a_convex_mix():
    rng = np.random.default_rng(2)
    donors = rng.normal(0, 1, (24, 5)).cumsum(axis=0) + 50
    treated = donors @ np.array([0.3, 0.7, 0, 0, 0])
    w = donor_weights(treated, donors)
    assert w == pytest.approx([0.3, 0.7, 0, 0, 0], abs=1e-4)


def test_synthetic_control_recovers_a_step():
    rng = np.random.default_rng(3)
    donors = pd.DataFrame(
        rng.normal(0, 1, (36, 12)).cumsum(axis=0) + 50,
        index=MONTHS,
        columns=[f"D{i}" for i in range(12)],
    )
    treated = 0.5 * donors["D0"] + 0.5 * donors["D1"] + np.where(MONTHS >= "2023-04-01", -2, 0)
    e = synthetic_control(treated, donors, date(2023, 4, 1), units="x")
    assert e.effect == pytest.approx(-2, abs=1e-3)
    assert set(e.details["weights"]) == {"D0", "D1"}


def test_synthetic_control_needs_ten_donors():
    donors = pd.DataFrame(np.ones((36, 4)), index=MONTHS)
    e = synthetic_control(donors[0], donors.iloc[:, 1:], date(2023, 4, 1), units="x")
    assert not e.estimable and "too few comparison units: 3" in e.reason


# --- on a store with an injected effect ------------------------------------------------


@pytest.fixture(scope="module")
def generated():
    return tables()


def test_store_evaluation_finds_an_injected_cut(generated):
    practices = sorted(set(generated["residents"]["gp_practice"].to_pylist()))
    big = ["C82001", "C82004"]
    assert set(big) <= set(practices)
    cut, info = inject(
        generated, InjectedEffect(start=CHANGE, relative_change=-0.5, practices=big), seed=3
    )
    assert info.changed_spells < 0
    con = write_store(cut)
    spec = EvaluationSpec(change_date=CHANGE, treated=big, methods=["its", "did", "synthetic"])
    ev = evaluate_store(con, spec)
    by = {e.method: e for e in ev.effects}
    assert set(by) == {"interrupted time series", "difference-in-differences", "synthetic control"}
    for e in by.values():
        assert e.estimable, e.reason
        assert e.effect < 0 and e.admissions_avoided > 0
    # a 50% cut is found by the time series and DiD; the synthetic control's placebo
    # interval is conservative here (single, some tiny, practices against a group of two)
    assert by["interrupted time series"].ci_high < 0
    assert by["difference-in-differences"].ci_high < 0


def test_store_evaluation_says_why_not(generated):
    con = write_store(generated)
    spec = EvaluationSpec(change_date=CHANGE, treated=["C82001"], methods=["matched"])
    (e,) = evaluate_store(con, spec).effects
    assert not e.estimable and e.reason == "no enrolled people"
    late = EvaluationSpec(change_date=date(2025, 1, 1), enrolled=["x"], methods=["matched"])
    (e,) = evaluate_store(con, late).effects
    assert not e.estimable and "12 months of follow-up" in e.reason


def test_store_matched_cohort_names_unknown_pseudonyms_and_shows_balance(generated):
    con = write_store(generated)
    ids = [
        r[0]
        for r in con.execute(
            "SELECT person_id FROM residents WHERE ltc_count >= 2 AND birth_month < '1980-01-01'"
            " AND (date_of_death IS NULL OR date_of_death > '2024-04-01')"
            " ORDER BY person_id LIMIT 60"
        ).fetchall()
    ]
    spec = EvaluationSpec(change_date=CHANGE, enrolled=[*ids, "not-a-person"], methods=["matched"])
    (e,) = evaluate_store(con, spec).effects
    assert e.estimable, e.reason
    assert any("1 enrolled pseudonyms are not adults" in n for n in e.notes)
    assert {b["covariate"] for b in e.details["balance"]} >= {"age", "prior_emergency_admissions"}
    assert e.ci_low < e.effect < e.ci_high


def test_synthetic_control_needs_placebos_that_vary():
    # Flat donors fit each other exactly (pre-change RMSPE 0): no placebo draws.
    donors = pd.DataFrame(np.ones((36, 12)), index=MONTHS)
    e = synthetic_control(donors[0] * 2, donors.iloc[:, 1:], date(2023, 4, 1), units="x")
    assert not e.estimable and "placebos" in e.reason


# --- small-sample cluster-robust intervals and staggered roll-outs ---------------------


def test_did_interval_allows_each_group_its_own_variance():
    # Changes: treated -3, -5 (mean -4, s^2 = 2); comparison +1, +3, +8 (mean 4, s^2 = 13).
    # Effect -8. CR2 (HC2 with one row per unit) in a two-group design is the Welch
    # variance: SE^2 = 2/2 + 13/3. Bell-McCaffrey df under equal variances:
    # (1/2 + 1/3)^2 / (1/(2^2 * 1) + 1/(3^2 * 2)) = (25/36) / (11/36) = 25/11.
    p = _panel(
        {
            "T1": ([10], [7]),
            "T2": ([10], [5]),
            "C1": ([8], [9]),
            "C2": ([8], [11]),
            "C3": ([8], [16]),
        },
        {"T1", "T2"},
    )
    e = difference_in_differences(p, date(2024, 1, 1), units="x")
    assert e.effect == pytest.approx(-8)
    assert e.details["degrees_of_freedom"] == pytest.approx(25 / 11)
    half = stats.t.ppf(0.975, 25 / 11) * math.sqrt(1 + 13 / 3)
    assert e.ci_low == pytest.approx(-8 - half) and e.ci_high == pytest.approx(-8 + half)


def test_did_one_treated_unit_borrows_the_comparison_spread():
    # Treated change -4; comparisons +1, +2, +3 (mean 2): effect -6. The treated unit's
    # own variance cannot be estimated: WLS with s^2 = (1 + 0 + 1) / (4 - 2) = 1,
    # SE = sqrt(1 * (1 + 1/3)), t with 2 df, and a note saying so.
    p = _panel({"T": ([10], [6]), "C1": ([8], [9]), "C2": ([8], [10]), "C3": ([8], [11])}, {"T"})
    e = difference_in_differences(p, date(2024, 1, 1), units="x")
    half = stats.t.ppf(0.975, 2) * math.sqrt(4 / 3)
    assert e.effect == pytest.approx(-6)
    assert e.ci_low == pytest.approx(-6 - half) and e.ci_high == pytest.approx(-6 + half)
    assert any("single treated or comparison unit" in n for n in e.notes)


def _staggered_panel() -> pd.DataFrame:
    """Months Oct 2023 - Jun 2024. Comparisons flat at 8. Units starting in January fall
    by 4 and 6, units starting in March by 2 and 4."""
    months = pd.date_range("2023-10-01", "2024-06-01", freq="MS")
    drops = {"A1": ("2024-01-01", 4), "A2": ("2024-01-01", 6)}
    drops |= {"B1": ("2024-03-01", 2), "B2": ("2024-03-01", 4)}
    rows = []
    for m in months:
        for c in ("C1", "C2", "C3"):
            rows.append((c, m, 8.0, False, pd.NaT))
        for u, (start, drop) in drops.items():
            rows.append((u, m, 10.0 - drop * (m >= pd.Timestamp(start)), True, start))
    return pd.DataFrame(rows, columns=["unit", "month", "value", "treated", "start"])


def test_staggered_did_by_hand():
    # Stack January: A1, A2 change -4, -6 against flat comparisons: -5, over 2 units x 6
    # post months = 12 unit-months. Stack March: -2, -4 -> -3, over 2 x 4 = 8. Overall
    # (12 x -5 + 8 x -3) / 20 = -4.2. Had A1, A2 (already treated) served as comparisons
    # for March, their own fall would have biased that stack.
    e = difference_in_differences(_staggered_panel(), date(2024, 1, 1), units="x")
    assert e.effect == pytest.approx(-4.2)
    cohorts = {c["start"]: c for c in e.details["cohorts"]}
    assert cohorts["2024-01-01"]["effect"] == pytest.approx(-5)
    assert cohorts["2024-03-01"]["effect"] == pytest.approx(-3)
    assert cohorts["2024-03-01"]["months_before"] == 5
    assert e.details["staggered"].startswith("stacked")
    assert e.ci_low < -4.2 < e.ci_high


def test_staggered_did_admissions_sum_the_cohorts():
    # scale 2 per row: January 12 unit-months x 2 x 5 avoided + March 8 x 2 x 3 = 168
    p = _staggered_panel()
    p["scale"] = 2.0
    e = difference_in_differences(p, date(2024, 1, 1), units="x", scale="scale")
    assert e.admissions_avoided == pytest.approx(168)


def test_spec_starts_must_name_treated_units():
    with pytest.raises(ValueError, match="not in treated"):
        EvaluationSpec(change_date=CHANGE, treated=["A"], starts={"B": CHANGE})
    spec = EvaluationSpec(change_date=CHANGE, treated=["A", "B"], starts={"B": date(2024, 6, 1)})
    assert spec.staggered and spec.unit_start("A") == CHANGE


def test_store_staggered_rollout(generated):
    early, late = ["C82001"], ["C82004"]
    cut = generated
    for k, (start, group) in enumerate(((date(2023, 10, 1), early), (CHANGE, late))):
        cut, _ = inject(
            cut, InjectedEffect(start=start, relative_change=-0.5, practices=group), 3, k
        )
    spec = EvaluationSpec(
        change_date=CHANGE,
        treated=early + late,
        starts={"C82001": date(2023, 10, 1)},
        methods=["its", "did", "synthetic"],
    )
    by = {e.method: e for e in evaluate_store(write_store(cut), spec).effects}
    assert "staggered" in by["interrupted time series"].reason
    assert "staggered" in by["synthetic control"].reason
    did = by["difference-in-differences"]
    assert did.estimable and did.effect < 0
    assert [c["start"] for c in did.details["cohorts"]] == ["2023-10-01", "2024-04-01"]


# --- matched cohort: index dates, bias correction, risk score ----------------------------


def test_matched_cohort_matches_within_each_index_date():
    # Two index dates whose outcomes differ by 100 for everyone; enrolment lowers the
    # outcome by exactly 2. Matching across dates would mix the levels.
    rng = np.random.default_rng(2)
    frames = []
    for level, when in ((0.0, "2024-01-01"), (100.0, "2024-02-01")):
        n = 1500
        x = rng.normal(0, 1, n)
        enrolled = rng.random(n) < 1 / (1 + np.exp(-(x - 3 + (level > 0) * 1.0)))
        y = level + 3 * x - 2 * enrolled + rng.normal(0, 0.3, n)
        frames.append(pd.DataFrame({"x": x, "enrolled": enrolled, "y": y, "d": when}))
    people = pd.concat(frames, ignore_index=True)
    e = matched_cohort(people, ["x"], outcome="y", units="x", strata="d")
    assert e.ci_low < -2 < e.ci_high and abs(e.effect + 2) < 0.2


def test_bias_correction_removes_what_matching_leaves_by_hand():
    # y = 2 x exactly for controls; enrolled y = 2 x - 1. Every enrolled person's
    # nearest control sits 0.1 lower in x: raw pair differences 2 (0.1) - 1 = -0.8.
    # The outcome model fitted on the controls is y = 2 x, so each pair is corrected by
    # 2 (0.1) = 0.2 and the effect is exactly -1.
    xt = np.arange(10, dtype=float)
    xc = np.concatenate([xt - 0.1, xt + 50])  # far-away controls for the fit only
    x = np.concatenate([xt, xc])
    enrolled = np.r_[np.ones(10, bool), np.zeros(20, bool)]
    y = 2 * x - enrolled
    people = pd.DataFrame({"x": x, "enrolled": enrolled, "y": y})
    e = matched_cohort(people, ["x"], outcome="y", units="x")
    assert e.details["matched_pairs"] == 10
    assert e.details["unadjusted_effect"] == pytest.approx(-0.8)
    assert e.effect == pytest.approx(-1)


def _adults(con, n: int) -> list[str]:
    rows = con.execute(
        "SELECT person_id FROM residents WHERE ltc_count >= 2 AND birth_month < '1980-01-01'"
        " AND date_of_death IS NULL ORDER BY person_id LIMIT $n",
        {"n": n},
    ).fetchall()
    return [r[0] for r in rows]


def test_store_matched_cohort_uses_the_risk_score(generated):
    # spells from April 2022: the risk model trains on 2023/24 (features from 2022/23)
    con = write_store(generated)
    spec = EvaluationSpec(change_date=CHANGE, enrolled=_adults(con, 60), methods=["matched"])
    (e,) = evaluate_store(con, spec).effects
    assert e.estimable, e.reason
    assert "risk_score" in {b["covariate"] for b in e.details["balance"]}
    assert not any("no risk score" in n for n in e.notes)


def test_store_matched_cohort_uses_each_persons_own_date(generated):
    con = write_store(generated)
    ids = _adults(con, 80)
    dates = {p: date(2024, 2, 1) for p in ids[:40]}
    spec = EvaluationSpec(
        change_date=CHANGE, enrolled=ids, enrolment_dates=dates, methods=["matched"]
    )
    (e,) = evaluate_store(con, spec).effects
    assert e.estimable, e.reason
    assert e.details["enrolled"] == 80 and set(e.sample) <= set(ids)
    # February 2024 has no two years of spells before it for the risk model: said so
    assert any("no risk score" in n for n in e.notes)
    early = spec.model_copy(update={"enrolment_dates": {ids[0]: date(2023, 1, 1)}})
    (e2,) = evaluate_store(con, early).effects
    assert not e2.estimable and "no full year of prior use before 2023-01-01" in e2.reason


def test_store_cohort_takes_the_not_yet_enrolled_as_controls(generated):
    # Risk-set matching: at February's date the person enrolled in April is a candidate
    # control (not yet enrolled); at April's date the person enrolled in February is not.
    con = write_store(generated)
    feb, apr = date(2024, 2, 1), CHANGE
    early, late, never = _adults(con, 3)
    found = cohort(con, {early: feb, late: apr}, risk_score=False)
    rows = found.people.set_index(["index_date", "person_id"])["enrolled"]
    at_feb, at_apr = rows.loc[pd.Timestamp(feb)], rows.loc[pd.Timestamp(apr)]
    assert at_feb[early] and not at_feb[late] and not at_feb[never]
    assert at_apr[late] and not at_apr[never]
    assert early not in at_apr.index
    assert found.missing == 0


# --- matched cohort: the interval about the sample effect ---------------------------------


def _clusters(treated_y: float) -> pd.DataFrame:
    """10 enrolled people at x = 0, 10, ..., 90, each with 4 controls just above.

    Cluster k's controls sit 0.001-0.004 above it with outcomes 1 + a, 1 - a, 1 - a,
    1 + a (a = k + 1), and 4 far controls at x = 200-203 (outcomes 2, 0, 0, 2) steer the
    propensity score. The controls' outcomes have mean 1 and no covariance with x, so the
    outcome model fitted on them predicts exactly 1 and each control's residual is ±a.
    """
    x, y, enrolled = [], [], []
    pattern = np.array([1.0, -1.0, -1.0, 1.0])
    for k in range(10):
        x.append(10.0 * k)
        y.append(treated_y)
        enrolled.append(True)
        x.extend(10.0 * k + np.array([0.001, 0.002, 0.003, 0.004]))
        y.extend(1 + (k + 1) * pattern)
        enrolled.extend([False] * 4)
    x.extend([200.0, 201, 202, 203])
    y.extend(1 + pattern)
    enrolled.extend([False] * 4)
    return pd.DataFrame({"x": x, "y": y, "enrolled": enrolled})


def test_matched_cohort_standard_error_by_hand():
    # Each enrolled person is matched to the control 0.001 above (residual +a). Their own
    # residual without the scheme is unseen: their control's squared residual, a^2,
    # stands in for it. Per pair a^2 + a^2; over the 10 pairs
    # se = sqrt(2 * (1 + 4 + ... + 100)) / 10 = sqrt(770) / 10.
    e = matched_cohort(_clusters(0.5), ["x"], outcome="y", units="x")
    assert e.details["matched_pairs"] == 10
    assert e.effect == pytest.approx(-6)  # 0.5 - mean(1 + a), a = 1..10; no correction (mu = 1)
    se = math.sqrt(770) / 10
    assert e.details["standard_error"] == pytest.approx(se)
    q = stats.t.ppf(0.975, 9)
    assert (e.ci_low, e.ci_high) == pytest.approx((-6 - q * se, -6 + q * se))
    # the paired t error of the same pairs is reported beside it
    diffs = 0.5 - (1 + np.arange(1, 11))
    assert e.details["standard_error_paired"] == pytest.approx(
        np.std(diffs, ddof=1) / math.sqrt(10)
    )


def test_matched_cohort_interval_does_not_narrow_when_the_enrolled_outcomes_do():
    # The interval is about the admissions the matched enrolled people avoided, whose
    # error depends on their outcomes *without* the scheme, not on the ones observed:
    # the same width whatever the enrolled people's own outcomes.
    a = matched_cohort(_clusters(0.5), ["x"], outcome="y", units="x")
    b = matched_cohort(_clusters(7.0), ["x"], outcome="y", units="x")
    assert b.effect == pytest.approx(a.effect + 6.5)
    assert b.ci_high - b.ci_low == pytest.approx(a.ci_high - a.ci_low)


def _thinned_cohort(rng: np.random.Generator, n: int = 3000, cut: float = 0.6):
    """People with Poisson-gamma counts, enrolment rising with prior use, and a cut that
    removes each enrolled person's admission with probability ``cut`` (as the benchmark's
    injection does); returns (people, outcome without, outcome with the scheme)."""
    age = rng.normal(0, 1, n)
    frailty = rng.gamma(1.0, 1.0, n)
    prior = rng.poisson(frailty * np.exp(0.3 * age))
    p = 1 / (1 + np.exp(-(-4 + 0.8 * np.minimum(prior, 5) + 0.5 * age)))
    enrolled = rng.random(n) < p
    y0 = rng.poisson(frailty * np.exp(0.3 * age))
    y1 = rng.binomial(y0, 1 - cut)
    people = pd.DataFrame(
        {
            "person_id": [str(i) for i in range(n)],
            "age": age,
            "prior": prior.astype(float),
            "enrolled": enrolled,
            "y": np.where(enrolled, y1, y0).astype(float),
        }
    )
    return people, y0, y1


@pytest.mark.slow
def test_matched_cohort_interval_covers_the_sample_effect_of_a_relative_cut():
    # A 60% cut of overdispersed counts shrinks the enrolled people's spread, so the
    # paired t error (which sees only their outcomes with the scheme) is too small for
    # the effect they had; the interval's error should match the estimates' spread.
    rng = np.random.default_rng(7)
    covers, paired, errors, ses = [], [], [], []
    for _ in range(200):
        people, y0, y1 = _thinned_cohort(rng)
        e = matched_cohort(
            people, ["age", "prior"], outcome="y", units="x", log_covariates=("prior",)
        )
        idx = np.array([int(i) for i in e.sample])
        truth = float(np.mean(y1[idx] - y0[idx]))
        q = stats.t.ppf(0.975, len(idx) - 1)
        covers.append(e.covers(truth))
        paired.append(abs(e.effect - truth) <= q * e.details["standard_error_paired"])
        errors.append(e.effect - truth)
        ses.append(e.details["standard_error"])
    spread = float(np.std(errors, ddof=1))
    # 200 runs: a true 95% reads 95% ± 1.5%; the spread's ratio is known to about ± 5%
    assert 0.91 <= np.mean(covers) <= 0.99
    assert 0.9 <= np.mean(ses) / spread <= 1.1
    assert np.mean(paired) < np.mean(covers)
