"""Policy frameworks as data: chosen by year, and the 2025-26 rules on the example plan.

Each framework rule has a case that fails on one targeted change to the fictional
2025-26 example (examples/marlbury_2025.yaml), whose figures were worked by hand:
ICB minimum £40m = MB01 8 + MB02 5 + MB03 15 + MB05 2 + MB06 6 + MB07 4 (£m).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from bettercare.cli.main import app
from bettercare.data.plan_files import load_plan, locate, plan_line_index
from bettercare.domain.findings import Severity
from bettercare.domain.frameworks import BY_ID, FRAMEWORKS, framework_for_year
from bettercare.domain.metrics import CATALOGUE
from bettercare.domain.plan import Plan
from bettercare.domain.rules import RULES, check_plan, rules_for

EXAMPLE = Path(__file__).parents[2] / "examples" / "marlbury_2025.yaml"


@pytest.fixture(scope="module")
def example_data() -> dict:
    return yaml.safe_load(EXAMPLE.read_text())


@pytest.fixture
def make_2025(example_data) -> Callable[[Callable[[dict], None] | None], Plan]:
    def build(change: Callable[[dict], None] | None = None) -> Plan:
        data = copy.deepcopy(example_data)
        if change:
            change(data)
        return Plan.model_validate(data)

    return build


def errors(plan: Plan, rule: str) -> list:
    return [f for f in check_plan(plan) if f.rule == rule and f.severity == Severity.ERROR]


# -- the frameworks ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("fy", "framework"),
    [
        ("2014/15", "2014-16"),
        ("2015/16", "2014-16"),
        ("2016/17", "2016-17"),
        ("2017/18", "2017-19"),
        ("2018/19", "2017-19"),
        ("2019/20", "2019-20"),
        ("2020/21", "2020-21"),
        ("2021/22", "2021-22"),
        ("2022/23", "2022-23"),
        ("2023/24", "2023-25"),
        ("2024/25", "2023-25"),
        ("2025/26", "2025-26"),
        ("2026/27", "2026-27"),
    ],
)
def test_framework_is_chosen_by_year(fy, framework):
    assert framework_for_year(fy).id == framework


def test_years_without_a_modelled_framework():
    """Every year from 2014/15 to 2026/27 has a framework; none before or after."""
    assert framework_for_year("2013/14") is None
    assert framework_for_year("2027/28") is None


def test_condition_counts_follow_the_frameworks():
    """Six conditions to 2015/16, eight in 2016/17, four from 2017-19 on."""
    assert [len(f.conditions) for f in FRAMEWORKS] == [6, 8, 4, 4, 4, 4, 4, 4, 4, 4]


def test_every_framework_names_real_rules_and_catalogue_metrics():
    for fw in FRAMEWORKS:
        assert set(fw.rules) <= set(RULES), fw.id
        assert set(fw.metric_ids()) <= set(CATALOGUE), fw.id
        assert fw.sources, fw.id


def test_2025_26_framework_content():
    fw = BY_ID["2025-26"]
    assert fw.condition_ids() == (
        "plans_jointly_agreed",
        "implementing_objectives",
        "grant_and_funding_conditions",
        "oversight_and_support",
    )
    assert all(c.assurance for c in fw.conditions)
    assert fw.objective_ids() == ("sickness_to_prevention", "hospital_to_home")
    assert fw.national_metrics == (
        "emergency_admissions_65",
        "discharge_delay_days",
        "long_term_admissions_care_homes_65",
    )
    assert BY_ID["2023-25"].national_metrics[:3] == (
        "avoidable_admissions_acsc",
        "falls_65_dsr",
        "discharge_usual_residence",
    )


# -- the example plan under 2025-26 rules ---------------------------------------


def test_example_uses_2025_26_rules_and_none_of_2016_17s(make_2025):
    plan = make_2025()
    applied = set(rules_for(plan))
    assert {"objectives", "dfg-pass-through", "nhs-minimum-social-care"} <= applied
    assert "payment-for-performance" not in applied
    assert "protected-social-care" not in applied
    text = " ".join(str(f) for f in check_plan(plan)).lower()
    for old in ("seven_day", "seven day", "delayed transfer", "patient_experience", "dtoc"):
        assert old not in text
    assert [f.rule for f in check_plan(plan)] == ["capacity-and-demand"]


def test_seed_era_plan_is_not_asked_for_2025_26_rules(make_plan):
    assert "objectives" not in rules_for(make_plan())
    assert "payment-for-performance" in rules_for(make_plan())


def test_example_is_marked_illustrative():
    assert load_plan(EXAMPLE).illustrative is True
    assert "ILLUSTRATIVE" in EXAMPLE.read_text()


# -- bad input: findings naming file, line, rule and framework -----------------


def test_plan_spanning_two_frameworks_is_a_located_finding(tmp_path, example_data):
    data = copy.deepcopy(example_data)
    data["financial_years"] = ["2024/25", "2025/26"]
    path = tmp_path / "span.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    plan = load_plan(path)
    found = [
        f for f in locate(check_plan(plan), path, plan_line_index(path)) if f.rule == "framework"
    ]
    [span] = [f for f in found if f.path == "financial_years[1]"]
    assert span.severity == Severity.ERROR
    assert "2025-26" in span.message and "2023-25" in span.message
    assert span.file == str(path) and span.line is not None
    assert str(path) in str(span) and "[error: framework]" in str(span)


def test_year_outside_every_framework(make_2025):
    plan = make_2025(lambda d: d.update(financial_years=["2027/28"]))
    [f] = errors(plan, "framework")
    assert "no BCF policy framework for 2027/28" in f.message


def test_condition_of_another_framework_is_a_finding(make_2025):
    def add(d):
        d["national_conditions"].append({"id": "seven_day_services", "status": "met"})

    [f] = errors(make_2025(add), "national-conditions")
    assert f.path == "national_conditions[4].id"
    assert "not a national condition of the 2025-26 framework" in f.message


def test_metric_of_another_framework_is_a_finding(make_2025):
    def add(d):
        d["metrics"].append({"metric": "delayed_transfers_of_care"})

    [f] = errors(make_2025(add), "metrics")
    assert f.path == "metrics[3].metric"
    assert "not a metric of the 2025-26 framework" in f.message


def test_funding_stream_of_another_framework_is_a_finding(make_2025):
    def change(d):
        d["funding"][1]["source"] = "improved_bcf"

    found = errors(make_2025(change), "framework")
    assert [f.path for f in found] == ["funding[1].source"]
    assert "not a funding stream of the 2025-26 framework" in found[0].message


# -- funding: multi-source schemes, NHS minimum to social care, DFG, discharge ----


def test_multi_source_scheme_funded_beyond_its_sources(make_2025):
    def change(d):
        d["schemes"][0]["spend"]["2025/26"] = 12_500_000  # sources give 8m + 4m

    found = errors(make_2025(change), "funding-source-allocation")
    [f] = [f for f in found if f.path == "schemes[0].spend.2025/26"]
    assert "beyond its sources £12,000,000 (short by £500,000)" in f.message


def test_multi_source_draws_count_against_each_source(make_2025):
    def change(d):  # MB02 draws £1m more from the ICB minimum, £1m less from the LA grant
        d["schemes"][1]["sources"][0]["amount"] = 8_000_000
        d["schemes"][1]["sources"][1]["amount"] = 6_000_000

    found = errors(make_2025(change), "funding-source-allocation")
    assert [f.message for f in found] == [
        "icb_minimum is over-committed in 2025/26: schemes spend £41,000,000 of "
        "£40,000,000 (over by £1,000,000)"
    ]


def test_nhs_minimum_to_social_care_not_met(make_2025):
    """ICB-minimum social care spend is MB01 £8m + MB02 £5m = £13m."""
    plan = make_2025(lambda d: d["nhs_minimum_social_care"].update({"2025/26": 13_500_000}))
    [f] = errors(plan, "nhs-minimum-social-care")
    assert "£13,000,000" in f.message and "short by £500,000" in f.message
    plan = make_2025(lambda d: d.pop("nhs_minimum_social_care"))
    assert "not stated" in errors(plan, "nhs-minimum-social-care")[0].message


def test_dfg_pass_through_in_two_tier_area(make_2025):
    # part not passed is a warning, not a refusal: the districts may agree to part kept
    plan = make_2025(lambda d: d["funding"][2]["pass_through"].update(south_marlbury_dc=1_000_000))
    assert errors(plan, "dfg-pass-through") == []
    [f] = [x for x in check_plan(plan) if x.rule == "dfg-pass-through"]
    assert "£3,800,000 is passed" in f.message and "£1,200,000 is neither" in f.message
    plan = make_2025(lambda d: d["partners"][3].update(housing_authority=False))
    [f] = errors(plan, "dfg-pass-through")
    assert "not marked as a housing authority" in f.message
    plan = make_2025(lambda d: d["hwb"].update(two_tier=False))  # unitary: nothing to pass
    assert errors(plan, "dfg-pass-through") == []


def test_discharge_funding_within_its_stream(make_2025):
    plan = make_2025(lambda d: d["funding"][1].update(discharge_funding=16_000_000))
    [f] = errors(plan, "discharge-funding")
    assert f.path == "funding[1].discharge_funding"


# -- objectives, involvement, scheme types --------------------------------------


def test_scheme_objectives(make_2025):
    plan = make_2025(lambda d: d["schemes"][0].update(objectives=["right_care_right_place"]))
    [f] = errors(plan, "objectives")
    assert f.path == "schemes[0].objectives[0]" and "2025-26" in f.message
    plan = make_2025(lambda d: d["schemes"][0].update(objectives=[]))
    [w] = RULES["objectives"].check(plan)
    assert w.severity == Severity.WARNING


def test_involvement_of_housing_and_providers(make_2025):
    def change(d):
        for p in d["partners"]:
            if p["type"] in ("nhs_trust", "provider"):
                p.pop("involvement", None)

    [f] = RULES["involvement"].check(make_2025(change))
    assert f.message == "no provider's involvement in the plan is recorded"


def test_scheme_types_and_outputs(make_2025):
    def change(d):
        d["schemes"][0]["scheme_type"] = "Work stream 1"
        d["schemes"][1].pop("planned_outputs")

    found = RULES["scheme-types"].check(make_2025(change))
    assert [f.path for f in found] == ["schemes[0].scheme_type", "schemes[1].planned_outputs"]
    assert all(f.severity == Severity.WARNING for f in found)


# -- capacity and demand --------------------------------------------------------


def test_capacity_and_demand_gaps(make_2025):
    def change(d):
        cd = d["capacity_demand"][0]
        del cd["demand"]["2025-07"]
        cd["capacity"]["2025-08"] = None
        cd["demand"]["2025-09"] = 400  # capacity 330
        cd["capacity"]["2026-04"] = 330  # outside 2025/26

    found = [f for f in RULES["capacity-and-demand"].check(make_2025(change)) if "[0]" in f.path]
    by_path = {f.path: f for f in found}
    assert "2025-07" in by_path["capacity_demand[0].demand"].message
    assert by_path["capacity_demand[0].capacity.2026-04"].severity == Severity.ERROR
    short = [f for f in found if "above planned capacity" in f.message]
    assert "2025-09 (400 > 330, short by 70)" in short[0].message
    gaps = [f for f in found if "no capacity figure" in f.message]
    assert "1 month(s): 2025-08" in gaps[0].message


def test_pathway_1_winter_gap_in_the_example(make_2025):
    [f] = RULES["capacity-and-demand"].check(make_2025())
    assert f.path == "capacity_demand[1].capacity"
    assert "2025-12 (157 > 150, short by 7)" in f.message


def test_no_capacity_and_demand_plan(make_2025):
    [f] = RULES["capacity-and-demand"].check(make_2025(lambda d: d.pop("capacity_demand")))
    assert "no capacity and demand plan" in f.message


def test_plan_validate_cli_on_the_example():
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, ["plan", "validate", str(EXAMPLE)])
    assert result.exit_code == 0
    assert "valid, 1 warning" in result.output


def test_scheme_source_label(make_2025):
    plan = make_2025()
    assert plan.schemes[0].source_label() == "icb_minimum, local_authority_bcf_grant"
    assert plan.schemes[2].source_label() == "icb_minimum"


def test_2017_19_plan_gets_four_conditions_and_no_p4p(make_plan):
    def change(d):
        d["financial_years"] = ["2017/18", "2018/19"]

    plan = make_plan(change)
    assert "payment-for-performance" not in rules_for(plan)
    conds = check_plan(plan, rules=["national-conditions"])
    # of the fixture's six 2014-16 conditions only plans_jointly_agreed is a 2017-19 one
    assert sorted(f.message.split("'")[1] for f in conds if f.severity == Severity.ERROR) == [
        "data_sharing_nhs_number",
        "impact_on_acute_sector",
        "joint_assessment_lead_professional",
        "protect_social_care",
        "seven_day_services",
    ]
    missing = [f.message for f in conds if "not addressed" in f.message]
    assert missing == [
        "national condition 'nhs_contribution_social_care' is not addressed",
        "national condition 'nhs_out_of_hospital_services' is not addressed",
        "national condition 'managing_transfers_of_care' is not addressed",
    ]
