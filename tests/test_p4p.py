from decimal import Decimal

import pytest

from bettercare.analytics.p4p import P4PError, payment_for_performance


def test_p4p_from_baseline_and_percentage(make_plan):
    r = payment_for_performance(make_plan())
    # 3.5% of 8,000 = 280 admissions; 280 x £1,490 = £417,200; pot £500,000 leaves £82,800
    assert r.planned_reduction == 280
    assert r.p4p_amount == Decimal(417_200)
    assert r.out_of_hospital_remainder == Decimal(82_800)
    assert r.risk_exposure == {"exampleshire_council": Decimal(208_600),
                               "exampleshire_ccg": Decimal(208_600)}
    assert r.minimum_reduction_met


def test_stated_reduction_wins_and_pot_caps(make_plan):
    r = payment_for_performance(make_plan(lambda d: d["performance"].update(
        {"planned_reduction": 400, "performance_pot": 500_000})))
    # 400 x £1,490 = £596,000, more than the £500,000 pot: capped, nothing left over
    assert (r.p4p_amount, r.capped, r.out_of_hospital_remainder) == (500_000, True, 0)


def test_p4p_needs_its_inputs(make_plan):
    with pytest.raises(P4PError, match="planned_reduction"):
        payment_for_performance(make_plan(lambda d: d["performance"].pop("baseline_admissions")))
    with pytest.raises(P4PError, match="no performance"):
        payment_for_performance(make_plan(lambda d: d.pop("performance")))


def test_outside_2015_16_is_a_value_not_a_payment(make_plan):
    def change(d):
        d["financial_years"] = ["2016/17"]
        d["performance"]["financial_year"] = "2016/17"

    r = payment_for_performance(make_plan(change))
    assert not r.national_scheme and "not a payment" in r.basis
    assert payment_for_performance(make_plan()).national_scheme
