"""Each planning rule: passes on the consistent fixture, fails on one targeted change."""

from __future__ import annotations

import pytest

from bettercare.domain.findings import Severity
from bettercare.domain.rules import RULES, check_plan


def findings(plan, rule_id):
    return RULES[rule_id].check(plan)


def test_fixture_passes_every_rule(make_plan):
    assert check_plan(make_plan()) == []


def test_every_rule_has_a_failing_case_below():
    tested = {
        "pooled-budget-minimum",
        "funding-matches-pooled-budget",
        "scheme-spend-matches-budget",
        "funding-source-allocation",
        "protected-social-care",
        "risk-score",
        "years-and-dates",
        "sign-off",
        "national-conditions",
        "metrics",
        "payment-for-performance",
        "risk-share",
        # framework rules: failing cases in tests/domain/test_frameworks.py
        "framework",
        "nhs-minimum-social-care",
        "discharge-funding",
        "dfg-pass-through",
        "objectives",
        "involvement",
        "capacity-and-demand",
        "scheme-types",
        # rules as practised: failing cases in tests/domain/test_practised.py
        "commissioners",
        "scheme-admissions-total",
        "section-75",
        "neighbourhood-health",
    }
    assert set(RULES) == tested


# -- pooled budget ---------------------------------------------------------------
def test_pooled_budget_below_minimum_is_an_error(make_plan):
    plan = make_plan(lambda d: d["agreed_pooled_budget"].update({"2015/16": 9_500_000}))
    (f,) = findings(plan, "pooled-budget-minimum")
    assert f.severity == Severity.ERROR
    assert f.path == "agreed_pooled_budget.2015/16"
    assert "short by £500,000" in f.message


def test_missing_minimum_is_reported_not_invented(make_plan):
    plan = make_plan(lambda d: d["minimum_pooled_budget"].update({"2014/15": None}))
    (f,) = findings(plan, "pooled-budget-minimum")
    assert (f.severity, f.path) == (Severity.WARNING, "minimum_pooled_budget.2014/15")


def test_funding_not_adding_up_to_budget(make_plan):
    plan = make_plan(lambda d: d["funding"][1].update({"amount": 8_900_000}))
    msgs = [f.message for f in findings(plan, "funding-matches-pooled-budget")]
    assert msgs == [
        "funding contributions for 2015/16 total £10,400,000 but the agreed pooled "
        "budget is £10,500,000 (difference £-100,000)"
    ]


# -- scheme spend ----------------------------------------------------------------
def test_scheme_spend_difference_is_reported(make_plan):
    plan = make_plan(lambda d: d["schemes"][1]["spend"].update({"2015/16": 3_900_000}))
    (f,) = findings(plan, "scheme-spend-matches-budget")
    assert f.severity == Severity.WARNING
    assert "difference £-100,000" in f.message


def test_blank_scheme_spend_is_a_warning(make_plan):
    plan = make_plan(lambda d: d["schemes"][3]["spend"].update({"2015/16": None}))
    got = {(f.path, f.severity) for f in findings(plan, "scheme-spend-matches-budget")}
    assert ("schemes[3].spend.2015/16", Severity.WARNING) in got


# -- funding sources -------------------------------------------------------------
def test_over_committed_funding_source(make_plan):
    def change(d):
        d["schemes"][2]["spend"]["2015/16"] = 1_200_000  # DFG is £1,000,000
        d["schemes"][3]["spend"]["2015/16"] = 300_000  # keep the scheme total

    got = findings(make_plan(change), "funding-source-allocation")
    errors = [f for f in got if f.severity == Severity.ERROR]
    assert len(errors) == 1
    assert "disabled_facilities_grant is over-committed in 2015/16" in errors[0].message
    assert any("additional_la is not fully used" in f.message for f in got)


def test_scheme_funded_from_absent_source(make_plan):
    plan = make_plan(lambda d: d["schemes"][3].update({"funding_source": "care_act"}))
    got = findings(plan, "funding-source-allocation")
    assert any(f.path == "schemes[3].funding_source" and f.severity == Severity.ERROR for f in got)


# -- protection of adult social care -----------------------------------------------
def test_protected_social_care_missing(make_plan):
    plan = make_plan(lambda d: d["protected_social_care"].pop("2015/16"))
    (f,) = findings(plan, "protected-social-care")
    assert f.severity == Severity.ERROR and "not stated" in f.message


def test_protected_social_care_underfunded(make_plan):
    plan = make_plan(lambda d: d["protected_social_care"].update({"2015/16": 5_500_000}))
    (f,) = findings(plan, "protected-social-care")
    assert "spend £5,000,000 in 2015/16, below the protected amount £5,500,000" in f.message


# -- risks -----------------------------------------------------------------------
def test_risk_score_must_be_likelihood_times_impact(make_plan):
    plan = make_plan(lambda d: d["risks"][0].update({"score": 10}))
    (f,) = findings(plan, "risk-score")
    assert (f.severity, f.path) == (Severity.ERROR, "risks[0].score")
    assert "3 x impact 4 = 12" in f.message


def test_risk_without_owner(make_plan):
    plan = make_plan(lambda d: d["risks"][0].pop("owner"))
    (f,) = findings(plan, "risk-score")
    assert (f.severity, f.path) == (Severity.WARNING, "risks[0].owner")


def test_risk_share_must_total_100(make_plan):
    plan = make_plan(lambda d: d["risk_share"]["shares"].update({"exampleshire_ccg": 40}))
    (f,) = findings(plan, "risk-share")
    assert f.severity == Severity.ERROR and "90%" in f.message


# -- years and dates ---------------------------------------------------------------
def test_spend_outside_plan_years(make_plan):
    plan = make_plan(lambda d: d["schemes"][0]["spend"].update({"2016/17": 1}))
    (f,) = findings(plan, "years-and-dates")
    assert f.path == "schemes[0].spend.2016/17"


def test_years_must_be_consecutive(make_plan):
    plan = make_plan(lambda d: d.update({"financial_years": ["2014/15", "2016/17"]}))
    assert any(f.path == "financial_years" for f in findings(plan, "years-and-dates"))


def test_agreed_after_submitted(make_plan):
    plan = make_plan(lambda d: d.update({"date_agreed": "2014-10-01"}))
    assert [f.path for f in findings(plan, "years-and-dates")] == ["date_agreed"]


# -- sign-off --------------------------------------------------------------------
def test_agreed_plan_needs_every_sign_off(make_plan):
    plan = make_plan(lambda d: d["sign_offs"].pop(0))
    (f,) = findings(plan, "sign-off")
    assert f.severity == Severity.ERROR
    assert "no sign-off by NHS Exampleshire CCG" in f.message


def test_draft_plan_blank_sign_off_is_a_warning(make_plan):
    def change(d):
        d["status"] = "draft"
        d["sign_offs"][1] = {"body": "exampleshire_council"}

    (f,) = findings(make_plan(change), "sign-off")
    assert f.severity == Severity.WARNING and "has no person, role, date" in f.message


# -- national conditions and metrics --------------------------------------------------
def test_condition_not_met_is_an_error(make_plan):
    plan = make_plan(lambda d: d["national_conditions"][2].update({"status": "not_met"}))
    (f,) = findings(plan, "national-conditions")
    assert f.severity == Severity.ERROR and "seven_day_services" in f.message


def test_2016_plans_need_eight_conditions(make_plan):
    def change(d):
        d["financial_years"] = ["2016/17"]
        for key in ("minimum_pooled_budget", "agreed_pooled_budget", "protected_social_care"):
            d[key] = {"2016/17": d[key]["2015/16"]}

    missing = {f.message for f in findings(make_plan(change), "national-conditions")}
    assert missing == {
        "national condition 'nhs_out_of_hospital_services' is not addressed",
        "national condition 'delayed_transfers_action_plan' is not addressed",
    }


def test_national_metric_without_plan(make_plan):
    plan = make_plan(lambda d: d["metrics"].pop(1))
    (f,) = findings(plan, "metrics")
    assert "delayed_transfers_of_care" in f.message


def test_unknown_local_metric_needs_a_name(make_plan):
    plan = make_plan(
        lambda d: d["metrics"].append(
            {
                "metric": "carers_assessed",
                "baseline": {"period": "2013/14", "value": 1},
                "planned": [{"period": "2015/16", "value": 2}],
            }
        )
    )
    (f,) = findings(plan, "metrics")
    assert f.path == "metrics[5].metric"


def test_a_goal_that_is_not_the_planned_value_is_a_warning(make_plan):
    # metrics[1]: delayed transfers, planned 280.0 for 2015/16 in the valid fixture
    def goal(value: float, period: str = "2015/16"):
        def change(d):
            d["metrics"][1]["goal"] = {"basis": "peer_median", "period": period, "value": value}

        return make_plan(change)

    assert findings(goal(280.0), "metrics") == []
    (f,) = findings(goal(250.0), "metrics")
    assert f.path == "metrics[1].goal" and f.severity is Severity.WARNING
    assert "peer median, 250" in f.message and "for 2015/16 (280)" in f.message
    (f,) = findings(goal(250.0, "2014/15"), "metrics")
    assert "for 2014/15 (none)" in f.message


# -- payment for performance ---------------------------------------------------------
def test_p4p_below_minimum_reduction(make_plan):
    plan = make_plan(
        lambda d: d["performance"].update(
            {"planned_reduction_pct": 2.0, "stated_p4p_amount": 238_400}
        )
    )  # 160 x £1,490
    (f,) = findings(plan, "payment-for-performance")
    assert "2.00% is below the 3.5% minimum" in f.message


@pytest.mark.parametrize("field", ["baseline_admissions", "planned_reduction_pct"])
def test_p4p_inputs_missing(make_plan, field):
    plan = make_plan(lambda d: d["performance"].pop(field))
    assert findings(plan, "payment-for-performance")


def test_protected_amount_counts_part_of_a_scheme(make_plan):
    def change(d):
        d["schemes"][0]["protects_social_care"] = False
        d["schemes"][0]["protected_amount"] = {"2014/15": 400_000, "2015/16": 2_900_000}

    (f,) = findings(make_plan(change), "protected-social-care")
    assert "spend £2,900,000 in 2015/16, below the protected amount £3,000,000" in f.message


def test_consulted_partner_need_not_sign(make_plan):
    def change(d):
        d["partners"].append(
            {"id": "next_ccg", "name": "Next CCG", "type": "ccg", "signatory": False}
        )

    assert findings(make_plan(change), "sign-off") == []
    with pytest.raises(AssertionError):  # but a signatory CCG must sign

        def change2(d):
            d["partners"].append({"id": "next_ccg", "name": "Next CCG", "type": "ccg"})

        assert findings(make_plan(change2), "sign-off") == []


def test_early_2014_template_asks_for_avoidable_admissions(make_plan):
    def change(d):
        d["date_submitted"] = "2014-02-14"
        d["date_agreed"] = "2014-01-30"
        for s in d["sign_offs"]:
            s["date"] = "2014-01-30"

    (f,) = findings(make_plan(change), "metrics")
    assert f.message == "national metric 'avoidable_emergency_admissions' has no plan"


def test_p4p_stated_sum_must_match_within_rounding(make_plan):
    assert (
        findings(
            make_plan(lambda d: d["performance"].update({"stated_p4p_amount": 418_000})),
            "payment-for-performance",
        )
        == []
    )  # £800 off: rounding
    (f,) = findings(
        make_plan(lambda d: d["performance"].update({"stated_p4p_amount": 450_000})),
        "payment-for-performance",
    )
    assert "differs from 280 admissions x £1,490 = £417,200" in f.message


def test_p4p_rule_rounds_like_the_calculation(make_plan):
    """8,300 at 3.5% = 290.5 admissions -> 291 (half up) in the rule too, so the
    module's own £433,590 is accepted and the 290-admission £432,100 is not."""

    def stated(amount):
        return lambda d: d["performance"].update(
            {"baseline_admissions": 8300, "stated_p4p_amount": amount}
        )

    assert findings(make_plan(stated(433_590)), "payment-for-performance") == []
    (f,) = findings(make_plan(stated(432_100)), "payment-for-performance")
    assert "differs from 291 admissions x £1,490 = £433,590" in f.message


def test_p4p_rule_compares_with_the_capped_sum(make_plan):
    # 400 x £1,490 = £596,000 capped at the £500,000 pot: a plan stating £500,000 is right
    plan = make_plan(
        lambda d: d["performance"].update({"planned_reduction": 400, "stated_p4p_amount": 500_000})
    )
    assert findings(plan, "payment-for-performance") == []
    (f,) = findings(
        make_plan(
            lambda d: d["performance"].update(
                {"planned_reduction": 400, "stated_p4p_amount": 596_000}
            )
        ),
        "payment-for-performance",
    )
    assert "capped at the pot £500,000" in f.message
