"""Plan vs actual (RAG + SPC), scheme impact and P4P earned to date, worked by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd
import pytest

from bettercare.analytics.performance import (
    Rag,
    RagThresholds,
    latest,
    plan_vs_actual,
    rag_status,
    spc_charts,
)
from bettercare.analytics.scheme_impact import ALL_SCHEMES, p4p_earned, scheme_impact
from bettercare.domain.metrics import Direction
from bettercare.reporting import metrics_report

LOWER, HIGHER = Direction.LOWER_IS_BETTER, Direction.HIGHER_IS_BETTER


@pytest.mark.parametrize(
    ("target", "actual", "direction", "seed_status", "ours"),
    [
        # Seed 002 board table, 2016/17 (Target, Current, Status).
        (606.4, 630.2, LOWER, "RED", Rag.RED),  # 3.9% worse than plan
        (84.2, 88.0, HIGHER, "GREEN", Rag.GREEN),
        (214.66, 351.1, LOWER, "RED", Rag.RED),  # 63.6% worse
        (724.37, 714.78, LOWER, "AMBER", Rag.GREEN),  # better than plan: seed inconsistent
        (62.2, 63.6, HIGHER, "GREEN", Rag.GREEN),
        (139.76, 118.05, LOWER, "GREEN", Rag.GREEN),
    ],
)
def test_rag_reproduces_seed_002_where_consistent(target, actual, direction, seed_status, ours):
    assert rag_status(actual, target, direction) == ours
    if ours.value != seed_status:
        assert (target, seed_status) == (724.37, "AMBER")


def test_rag_tolerance_is_configurable():
    # 285 vs 280 (lower better) is 5/280 = 1.79% worse: AMBER at 2.5%, RED at 1%.
    assert rag_status(285, 280, LOWER) == Rag.AMBER
    assert rag_status(285, 280, LOWER, 1.0) == Rag.RED
    assert rag_status(280, 280, LOWER) == Rag.GREEN
    # Higher is better: 83 vs 85 is 2.35% worse -> AMBER; 82 is 3.5% worse -> RED.
    assert rag_status(83, 85, HIGHER) == Rag.AMBER
    assert rag_status(82, 85, HIGHER) == Rag.RED
    assert RagThresholds(per_metric={"x": 10}).tolerance("x") == 10


def _actuals(metric, hwb, periods, values, numerators=None):
    n = len(periods)
    return pd.DataFrame(
        {
            "metric": [metric] * n,
            "hwb_code": [hwb] * n,
            "period": periods,
            "breakdown": ["all"] * n,
            "numerator": numerators or values,
            "denominator": [1.0] * n,
            "value": values,
        }
    )


def _dtoc(make_plan):
    """Delayed transfers: baseline 300 (2013/14), plan 280 per month for 2015/16; three
    months of actuals, out of order."""
    plan = make_plan(lambda d: d["metrics"][1].update({"time_basis": "month"}))
    act = _actuals(
        "delayed_transfers_of_care",
        "E06000099",
        ["2015-06", "2015-04", "2015-05"],
        [300.0, 270.0, 285.0],
    )
    return plan, act


def test_plan_vs_actual(make_plan):
    plan, act = _dtoc(make_plan)
    df = plan_vs_actual(act, plan)
    assert list(df.period) == ["2015-04", "2015-05", "2015-06"]  # in time order
    assert list(df.rag) == ["GREEN", "AMBER", "RED"]
    assert list(df.planned) == [280.0] * 3 and set(df.plan_period) == {"2015/16"}
    assert df.baseline.iloc[0] == 300.0
    assert df.variance_pct.iloc[2] == pytest.approx(20 / 280 * 100)
    # SPC: three months are too few for limits or assurance (at least 12): said, not shown
    assert set(df.spc_note) == {"3 points: too few for SPC limits and assurance (at least 12)"}
    assert df.spc_signal.isna().all() and df.spc_assurance.isna().all()
    assert df.spc_ucl.isna().all()
    assert latest(df).period.tolist() == ["2015-06"]
    # Outside the plan's years: no plan value, no RAG.
    df2 = plan_vs_actual(
        _actuals("delayed_transfers_of_care", "E06000099", ["2016-04"], [1.0]), plan
    )
    assert df2.rag.isna().all() and df2.planned.isna().all()


MONTHS_2015 = [f"2015-{m:02d}" for m in range(4, 13)] + ["2016-01", "2016-02", "2016-03"]


def test_twelve_months_give_limits_signals_and_assurance(make_plan):
    """Hand-worked: 270, 290 alternating for 12 months -> mean 280, every moving range 20,
    limits 280 +/- 2.66 x 20 = 226.8 to 333.2, two-sigma lines 280 +/- 35.47; no point
    outside them, no run of 7 on one side, no trend: common cause. The plan 280 lies
    inside the limits -> hit and miss."""
    plan = make_plan(lambda d: d["metrics"][1].update({"time_basis": "month"}))
    values = [270.0, 290.0] * 6
    df = plan_vs_actual(
        _actuals("delayed_transfers_of_care", "E06000099", MONTHS_2015, values), plan
    )
    assert df.spc_note.isna().all()
    assert set(df.spc_signal) == {"common_cause"}
    assert df.spc_lcl.iloc[0] == pytest.approx(226.8) and df.spc_ucl.iloc[0] == pytest.approx(333.2)
    assert set(df.spc_assurance) == {"hit_and_miss"}
    # eleven months: one short of the minimum
    short = plan_vs_actual(
        _actuals("delayed_transfers_of_care", "E06000099", MONTHS_2015[:11], values[:11]), plan
    )
    assert set(short.spc_note) == {"11 points: too few for SPC limits and assurance (at least 12)"}


def test_spc_is_computed_once_and_reused_by_the_charts(make_plan, monkeypatch):
    plan, act = _dtoc(make_plan)
    df = plan_vs_actual(act, plan)
    (chart,) = spc_charts(df).values()
    # the chart behind the SPC columns: values in period order, mean 285, target 280
    assert list(chart.values) == [270.0, 285.0, 300.0] and chart.target == 280.0
    assert chart.segments[0].mean == pytest.approx(285.0)
    assert chart.too_few_points == df.spc_note.iloc[0]
    # the chart images draw those very charts (nothing recomputed)
    drawn = []
    monkeypatch.setattr(
        metrics_report,
        "xmr_chart_png",
        lambda c, labels, title, **kw: drawn.append((c, labels)) or b"",
    )
    metrics_report.metric_chart_pngs(df)
    assert len(drawn) == 1 and drawn[0][0] is chart
    assert drawn[0][1] == ["2015-04", "2015-05", "2015-06"]
    # one period: no chart
    assert spc_charts(plan_vs_actual(act.head(1), plan)) == {}


def test_plan_time_basis_decides_which_periods_compare(make_plan):
    months = ["2015-04", "2015-05"]
    # No time basis: the 2015/16 rate of 280 is for the year, never compared with a month...
    df = plan_vs_actual(
        _actuals("delayed_transfers_of_care", "E06000099", months, [300.0, 270.0]), make_plan()
    )
    assert df.rag.isna().all()
    # ...but it is compared with the year itself: 270 is better than 280 -> GREEN.
    df = plan_vs_actual(
        _actuals("delayed_transfers_of_care", "E06000099", ["2015/16"], [270.0]), make_plan()
    )
    assert df.rag.tolist() == ["GREEN"]
    # A yearly basis is not applied to quarters.
    plan = make_plan(lambda d: d["metrics"][1].update({"time_basis": "year"}))
    df = plan_vs_actual(
        _actuals("delayed_transfers_of_care", "E06000099", ["2015/16 Q1"], [270.0]), plan
    )
    assert df.rag.isna().all()
    # A percentage target applies to every period inside its year: reablement plan 85%.
    df = plan_vs_actual(
        _actuals("reablement_91_days", "E06000099", ["2015/16 Q3"], [80.0]), make_plan()
    )
    assert df.rag.tolist() == ["RED"]


def test_plan_vs_actual_needs_the_hwb(make_plan):
    plan = make_plan()
    act = pd.concat(
        [
            _actuals("falls_65", "E10000018", ["2015-04"], [1.0]),
            _actuals("falls_65", "E06000016", ["2015-04"], [1.0]),
        ]
    )
    with pytest.raises(ValueError, match="no actuals for HWB E06000099"):
        plan_vs_actual(act, plan)


@pytest.fixture
def scheme_plan(make_plan):
    def change(d):
        d["schemes"][1]["reference"] = "ICRS"
        d["schemes"][1]["admissions_avoided"] = {"2016/17": 1200}  # 100 a month
        d["schemes"][3]["reference"] = "OPU"
        d["schemes"][3]["admissions_avoided"] = {"2016/17": 240}  # 20 a month

    return make_plan(change)


ACTIVITY = pd.DataFrame(
    {
        "scheme_reference": ["ICRS", "ICRS", "ICRS", "OPU", "OPU"],
        "month": [
            date(2016, 4, 1),
            date(2016, 5, 1),
            date(2016, 6, 1),
            date(2016, 4, 1),
            date(2016, 6, 1),
        ],
        "admissions_avoided": [30, 40, 150, 10, 5],
    }
)


def test_scheme_impact_monthly(scheme_plan):
    df = scheme_impact(ACTIVITY, scheme_plan).set_index(["scheme_reference", "period"])
    # ICRS: 30, 40, 150 against 100 a month -> to date 30/100, 70/200, 220/300.
    icrs = df.loc["ICRS"]
    assert list(icrs.avoided_to_date) == [30, 70, 220]
    assert list(icrs.target_to_date) == [100, 200, 300]
    assert list(icrs.on_track) == [False, False, False]
    # OPU: May has no activity -> 0; to date 10/20, 10/40, 15/60.
    assert list(df.loc["OPU"].avoided) == [10, 0, 5]
    assert list(df.loc["OPU"].target_to_date) == [20, 40, 60]
    # All schemes: 40, 40, 155 -> 235 by June against 360.
    tot = df.loc[ALL_SCHEMES]
    assert list(tot.avoided_to_date) == [40, 80, 235]
    assert list(tot.target_to_date) == [120, 240, 360]
    assert tot.target_year.iloc[0] == 1440
    assert df.loc[("ICRS", "2016-04"), "scheme_name"] == "Integrated crisis response"


def test_scheme_impact_quarterly(scheme_plan):
    df = scheme_impact(ACTIVITY, scheme_plan, "quarter").set_index(["scheme_reference", "period"])
    # Q1: ICRS 220 vs 3 x 100; on track False. EX01 etc. have no target: no rows.
    assert df.loc[("ICRS", "2016/17 Q1"), "avoided"] == 220
    assert df.loc[("ICRS", "2016/17 Q1"), "target"] == 300
    assert set(df.index.get_level_values(0)) == {"ICRS", "OPU", ALL_SCHEMES}


def test_p4p_earned_to_date(make_plan):
    # Baseline 8,000 admissions over 2013-04..2014-03 (12 months) = 666.67 a month.
    # Apr-Jun 2015 actual 600 + 650 + 700 = 1,950 vs baseline 2,000: 50 avoided
    # x £1,490 = £74,500; cap = performance-linked sum (280 x £1,490 = £417,200) x 3/12
    # = £104,300 (not binding); £29,800 retained, all met by the £200,000 contingency.
    plan = make_plan()
    act = _actuals(
        "non_elective_admissions",
        "E06000099",
        ["2015-04", "2015-05", "2015-06"],
        [240.0, 260.0, 280.0],
        [600.0, 650.0, 700.0],
    )
    r = p4p_earned(plan, act)
    assert r.to_date.months_to_date == 3
    assert r.to_date.baseline_to_date == 2000
    assert r.to_date.admissions_avoided == 50
    assert r.earned == Decimal("74500.00")
    assert r.to_date.linked_to_date == Decimal("104300.00")
    assert r.retained == Decimal("29800.00")
    assert r.to_date.exposure == {"exampleshire_council": 0, "exampleshire_ccg": 0}
    assert "£29,800.00 of £104,300.00 linked to date retained" in r.reason
    # More admissions than baseline: nothing earned, never negative; all retained.
    worse = _actuals("non_elective_admissions", "E06000099", ["2015-04"], [1.0], [900.0])
    w = p4p_earned(plan, worse)
    assert (w.earned, w.retained) == (Decimal("0.00"), Decimal("34766.67"))  # 417,200 / 12


def test_p4p_earned_over_achievement_capped_at_linked_sum(make_plan):
    # Apr-Jun 1,800 vs baseline 2,000: 200 avoided x £1,490 = £298,000, but at most the
    # performance-linked sum pro rata £104,300 -- not the pot pro rata (£125,000): the
    # rest of the pot was released up front for out-of-hospital services.
    act = _actuals(
        "non_elective_admissions",
        "E06000099",
        ["2015-04", "2015-05", "2015-06"],
        [240.0, 260.0, 280.0],
        [600.0, 600.0, 600.0],
    )
    r = p4p_earned(make_plan(), act)
    assert r.to_date.value_of_reduction == Decimal("298000.00")
    assert (r.earned, r.retained) == (Decimal("104300.00"), Decimal("0.00"))


def test_p4p_earned_explains_what_is_missing(make_plan):
    no_perf = make_plan(lambda d: d.pop("performance"))
    assert "no performance (P4P) section" in p4p_earned(no_perf, pd.DataFrame()).reason

    def drop_baseline(d):
        d["performance"]["baseline_admissions"] = None

    r = p4p_earned(make_plan(drop_baseline), pd.DataFrame())
    assert r.earned is None and "no baseline admissions" in r.reason


def test_report_shows_p4p_retained_and_exposure(make_plan):
    # 900 admissions in April vs 666.67 baseline: nothing earned; the month's share of the
    # linked sum (£417,200 / 12 = £34,766.67) is retained; the contingency covers it.
    from bettercare.reporting.metrics_report import metrics_sections

    plan = make_plan()
    worse = _actuals("non_elective_admissions", "E06000099", ["2015-04"], [1.0], [900.0])
    ((_, html),) = metrics_sections(plan, {}, pd.DataFrame(), p4p_earned(plan, worse))
    assert "retained</strong> to pay for the extra acute activity: £34,767" in html
    assert "Exampleshire Council bears £0" in html
