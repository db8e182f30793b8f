"""Payment for performance: known answers worked by hand, all from bettercare.domain.p4p."""

from decimal import Decimal

import pytest

from bettercare.domain.p4p import (
    P4PError,
    admissions_avoided,
    earned_to_date,
    performance_sum,
    performance_sum_or_reason,
    planned_reduction,
    risk_exposure,
)
from bettercare.domain.rules import check_plan


def _rutland_like(make_plan):
    """The Rutland figures (seed 003:1588-1590) on the fixture plan: 103 admissions avoided,
    pot £591,000, risk shared 50:50 with no contingency fund."""

    def change(d):
        d["performance"].update(
            {"planned_reduction": 103, "performance_pot": 591_000, "stated_p4p_amount": 154_000}
        )
        d["risk_share"]["contingency_reserve"] = 0

    return performance_sum(make_plan(change))


# -- the planned sum -------------------------------------------------------------------
def test_from_baseline_and_percentage(make_plan):
    r = performance_sum(make_plan())
    # 3.5% of 8,000 = 280 admissions; 280 x £1,490 = £417,200; pot £500,000 leaves £82,800
    assert r.planned_reduction == 280
    assert r.performance_linked_sum == Decimal(417_200)
    assert r.released_up_front == Decimal(82_800)
    assert not r.capped and r.minimum_reduction_met and r.national_scheme
    # contingency £200,000 meets the shortfall first: (417,200 - 200,000) / 2 = £108,600 each
    assert r.maximum_exposure == {
        "exampleshire_council": Decimal(108_600),
        "exampleshire_ccg": Decimal(108_600),
    }


def test_rutland(make_plan):
    r = _rutland_like(make_plan)
    assert r.performance_linked_sum == Decimal(153_470)  # 103 x £1,490
    assert r.released_up_front == Decimal(437_530)  # £591,000 - £153,470
    assert r.maximum_exposure["exampleshire_council"] == Decimal(76_735)  # 50% of £153,470


def test_issue_example_rounds_half_up_and_the_rule_agrees(make_plan):
    """baseline 8,300 at 3.5% = 290.5 admissions. round() gave 290 (£432,100) in
    the rule and ROUND_HALF_UP 291 (£433,590) in the calculation; now both give 291."""

    def change(d):
        d["performance"].update({"baseline_admissions": 8300, "stated_p4p_amount": 433_590})

    plan = make_plan(change)
    r = performance_sum(plan)
    assert (r.planned_reduction, r.performance_linked_sum) == (291, Decimal(433_590))
    assert [f for f in check_plan(plan) if f.rule == "payment-for-performance"] == []


@pytest.mark.parametrize(
    ("baseline", "pct", "expected"),
    [
        (8300, 3.5, 291),  # 290.5: half up (round() gives 290)
        (8100, 3.5, 284),  # 283.5
        (1000, 1.15, 12),  # 11.5 exactly in decimal; 1000 * 1.15 / 100 in floats is 11.4999...
        (8000, 3.5, 280),
        (0, 3.5, 0),
    ],
)
def test_admissions_avoided_rounding(baseline, pct, expected):
    assert admissions_avoided(baseline, pct) == expected


def test_rule_never_disputes_the_modules_own_figure(make_plan):
    """Whatever the baseline and percentage, a plan stating the module's sum gets no warning."""
    for baseline in range(7990, 8400, 7):
        for pct in (3.5, 3.25, 4.15, 5.0):

            def change(d, baseline=baseline, pct=pct):
                d["performance"].update(
                    {
                        "baseline_admissions": baseline,
                        "planned_reduction_pct": pct,
                        "performance_pot": None,
                    }
                )

            own = performance_sum(make_plan(change)).performance_linked_sum

            def stated(d, change=change, own=own):
                change(d)
                d["performance"]["stated_p4p_amount"] = own

            findings = check_plan(make_plan(stated))
            assert not [f for f in findings if f.path == "performance.stated_p4p_amount"]


def test_stated_reduction_wins_and_pot_caps(make_plan):
    r = performance_sum(
        make_plan(
            lambda d: d["performance"].update(
                {"planned_reduction": 400, "performance_pot": 500_000}
            )
        )
    )
    # 400 x £1,490 = £596,000, more than the £500,000 pot: capped, nothing released up front
    assert (r.performance_linked_sum, r.capped, r.released_up_front) == (500_000, True, 0)
    assert planned_reduction(make_plan().performance).basis.startswith("3.5% of 8,000")


def test_needs_its_inputs(make_plan):
    with pytest.raises(P4PError, match="planned_reduction"):
        performance_sum(make_plan(lambda d: d["performance"].pop("baseline_admissions")))
    with pytest.raises(P4PError, match="no performance"):
        performance_sum(make_plan(lambda d: d.pop("performance")))


def test_outside_2015_16_is_a_value_not_a_payment(make_plan):
    def change(d):
        d["financial_years"] = ["2016/17"]
        d["performance"]["financial_year"] = "2016/17"

    r = performance_sum(make_plan(change))
    assert not r.national_scheme and "not a payment" in r.basis
    assert "2016/17 is outside the national scheme" in earned_to_date(r, 1, B, B).explain()


def test_risk_exposure_after_contingency(make_plan):
    rs = make_plan().risk_share  # 50:50, contingency £200,000
    assert risk_exposure(Decimal(150_000), rs) == {"exampleshire_council": 0, "exampleshire_ccg": 0}
    assert risk_exposure(Decimal("200001.01"), rs)["exampleshire_ccg"] == Decimal("0.51")
    assert risk_exposure(Decimal(1), None) == {}


# -- earned to date ----------------------------------------------------------------------
# Rutland-like plan: linked sum £153,470 for 103 admissions; a notional baseline of 2,943.
B = Decimal(2943)


def test_earned_on_target(make_plan):
    r = earned_to_date(_rutland_like(make_plan), 12, B, B - 103)
    assert (r.earned, r.retained) == (Decimal("153470.00"), 0)
    assert r.exposure == {"exampleshire_council": 0, "exampleshire_ccg": 0}


def test_earned_under_achievement(make_plan):
    r = earned_to_date(_rutland_like(make_plan), 12, B, B - 40)
    # 40 x £1,490 = £59,600 earned; £153,470 - £59,600 = £93,870 retained, half each
    assert (r.earned, r.retained) == (Decimal("59600.00"), Decimal("93870.00"))
    assert r.exposure["exampleshire_council"] == Decimal("46935.00")
    assert "£93,870.00 of £153,470.00 linked to date retained" in r.explain()


def test_earned_no_change_or_worse(make_plan):
    planned = _rutland_like(make_plan)
    for actual in (B, B + 250):  # no reduction, or more admissions: nothing earned
        r = earned_to_date(planned, 12, B, actual)
        assert (r.admissions_avoided, r.earned, r.retained) == (0, 0, Decimal("153470.00"))
        assert r.exposure["exampleshire_ccg"] == Decimal("76735.00")


def test_over_achievement_earns_only_the_linked_sum(make_plan):
    """400 avoided against 103 planned earns £153,470, not the £591,000 pot --
    the other £437,530 was released up front and must not be counted twice."""
    r = earned_to_date(_rutland_like(make_plan), 12, B, B - 400)
    assert r.value_of_reduction == Decimal("596000.00")  # 400 x £1,490
    assert r.capped and r.earned == Decimal("153470.00") and r.retained == 0
    assert "capped at the performance-linked sum pro rata" in r.explain()


def test_earned_is_capped_pro_rata(make_plan):
    # 3 months: cap £153,470 x 3/12 = £38,367.50; 30 avoided x £1,490 = £44,700 -> capped
    r = earned_to_date(_rutland_like(make_plan), 3, Decimal("735.75"), Decimal("705.75"))
    assert (r.linked_to_date, r.earned, r.retained) == (Decimal("38367.50"), Decimal("38367.50"), 0)
    with pytest.raises(P4PError, match="1 to 12"):
        earned_to_date(_rutland_like(make_plan), 13, B, B)


def test_sum_or_reason(make_plan):
    plan = make_plan()
    assert performance_sum_or_reason(plan) == (performance_sum(plan), None)

    def no_section(d):
        del d["performance"]

    assert performance_sum_or_reason(make_plan(no_section)) == (
        None,
        "The plan has no payment-for-performance section.",
    )

    def no_reduction(d):
        d["performance"].pop("baseline_admissions", None)
        d["performance"].pop("planned_reduction", None)

    value, reason = performance_sum_or_reason(make_plan(no_reduction))
    assert value is None and reason
    with pytest.raises(P4PError, match=reason.split(":")[-1].strip()[:20]):
        performance_sum(make_plan(no_reduction))
