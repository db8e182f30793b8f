"""The BCF as practised: frameworks 2019/20-2026/27, ICB commissioners, Section 75,
sign-off roles and order, and the corrected rules, each against its cited source.

Sources are cited per test; figures are hand-worked from the example plans.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pydantic
import pytest
import yaml

from bettercare.domain.findings import Finding, Severity
from bettercare.domain.frameworks import BY_ID, framework_for_year
from bettercare.domain.metrics import CATALOGUE
from bettercare.domain.plan import Plan
from bettercare.domain.rules import check_plan, rules_for
from bettercare.domain.workflow import (
    EARLY_SUBMIT,
    LATE_APPROVAL,
    State,
    Step,
    WorkflowError,
    next_steps,
    take_step,
    target_state,
)

EXAMPLES = Path(__file__).parent.parent.parent / "examples"
DAY = dt.date(2026, 3, 31)


def _data(name: str) -> dict[str, Any]:
    return yaml.safe_load((EXAMPLES / name).read_text())


@pytest.fixture(scope="module")
def base_2026() -> dict[str, Any]:
    return _data("marlbury_2026.yaml")


@pytest.fixture
def make_2026(base_2026: dict[str, Any]) -> Callable[..., Plan]:
    def make(change: Callable[[dict[str, Any]], object] | None = None) -> Plan:
        d = copy.deepcopy(base_2026)
        if change:
            change(d)
        return Plan.model_validate(d)

    return make


def found(plan: Plan, rule: str, severity: Severity | None = None) -> list[Finding]:
    return [
        f
        for f in check_plan(plan)
        if f.rule == rule and (severity is None or f.severity is severity)
    ]


def moved(d: dict[str, Any], fy: str) -> dict[str, Any]:
    """The 2026/27 example re-dated to ``fy`` (as the acceptance check does with sed)."""
    a = int(fy[:4])
    text = yaml.safe_dump(d)
    text = text.replace("2026/27", fy).replace("2026-27", f"{a}-{fy[-2:]}")
    text = text.replace("'2027-", f"'{a + 1}-").replace("'2026-", f"'{a}-")
    return yaml.safe_load(text)


# -- frameworks --------------------------------------------------------------------


def test_every_year_2014_to_2026_has_its_own_framework():
    years = [f"{y}/{(y + 1) % 100:02d}" for y in range(2014, 2027)]
    ids = [framework_for_year(fy).id for fy in years]  # type: ignore[union-attr]
    assert ids == [
        "2014-16", "2014-16", "2016-17", "2017-19", "2017-19", "2019-20", "2020-21",
        "2021-22", "2022-23", "2023-25", "2023-25", "2025-26", "2026-27",
    ]  # fmt: skip


def test_new_frameworks_cite_sources_and_say_what_is_unconfirmed():
    for fid in ("2019-20", "2020-21", "2021-22", "2022-23", "2026-27"):
        fw = BY_ID[fid]
        assert fw.sources and fw.unconfirmed, fid
        assert set(fw.metric_ids()) <= set(CATALOGUE), fid


def test_2020_21_plans_were_not_submitted():
    """Policy statement 2020 to 2021, para 2: no formal plans submitted for approval."""
    fw = BY_ID["2020-21"]
    assert not fw.plans_submitted and "metrics" not in fw.rules
    assert fw.funding_sources[:3] == ("ccg_minimum", "improved_bcf", "disabled_facilities_grant")


def test_2021_22_conditions_as_published():
    """2021-22 framework: condition 4 is a plan for improving discharge outcomes."""
    assert BY_ID["2021-22"].condition_ids()[3] == "discharge_outcomes"
    assert "non_elective_admissions" not in BY_ID["2021-22"].national_metrics


@pytest.mark.parametrize("fy", ["2019/20", "2020/21", "2021/22", "2022/23", "2026/27"])
def test_a_plan_of_each_new_year_is_checked_by_its_framework(make_2026, base_2026, fy):
    plan = Plan.model_validate(moved(base_2026, fy))
    findings = check_plan(plan)
    assert not [f for f in findings if "no BCF policy framework" in f.message]
    assert all(f.path for f in findings)  # located


def test_the_2026_example_has_warnings_only(make_2026):
    assert [f for f in check_plan(make_2026()) if f.severity is Severity.ERROR] == []


# -- commissioners (CCGs abolished and ICBs established 1 July 2022) ----------------


def test_icb_commissions_in_2026(make_2026):
    assert found(make_2026(), "commissioners") == []


def test_ccg_commissioning_in_2026_is_an_error_naming_the_ccg(make_2026):
    plan = make_2026(lambda d: d["schemes"][2].update(commissioner="ccg"))
    [f] = found(plan, "commissioners", Severity.ERROR)
    assert f.path == "schemes[2].commissioner" and "CCG" in f.message


def test_ccg_in_2022_23_is_a_warning_and_icb_before_it_an_error(base_2026):
    d = moved(base_2026, "2022/23")
    d["schemes"][2]["commissioner"] = "ccg"
    [f] = found(Plan.model_validate(d), "commissioners")
    assert f.severity is Severity.WARNING
    d = moved(base_2026, "2021/22")
    [f] = found(Plan.model_validate(d), "commissioners", Severity.ERROR)
    assert "ICBs were established on 1 July 2022" in f.message


def test_joint_split_adds_up_to_100(make_2026):
    with pytest.raises(pydantic.ValidationError, match="add up to 100"):
        make_2026(lambda d: d["schemes"][0].update(joint_split={"nhs": 60, "council": 30}))


# -- scheme admissions avoided against the plan's figure (seed 002) -----------------


def test_leicestershire_scheme_targets_against_the_plan_total():
    """Seed 002: five schemes target 396 + 240 + 120 + 3,258 + 66 = 4,080 admissions
    avoided in 2016/17 (002:390-407), the plan 1,517 (002:156, 002:379)."""
    from bettercare.data.plan_files import load_plan

    plan = load_plan(EXAMPLES / "leicestershire_2016.yaml")
    [f] = found(plan, "scheme-admissions-total")
    assert "4,080" in f.message and "1,517" in f.message
    assert f.path == "performance.planned_reduction"


def test_scheme_targets_matching_the_total_are_not_flagged(make_2026):
    def agree(d: dict[str, Any]) -> None:
        d["schemes"][0]["admissions_avoided"] = {"2026/27": 300}
        d["schemes"][2]["admissions_avoided"] = {"2026/27": 200}
        d["admissions_avoided_total"] = {"2026/27": 500}

    assert found(make_2026(agree), "scheme-admissions-total") == []
    plan = make_2026(lambda d: (agree(d), d["admissions_avoided_total"].update({"2026/27": 450})))
    [f] = found(plan, "scheme-admissions-total")
    assert "sum to 500" in f.message and "450" in f.message


# -- corrected rules ---------------------------------------------------------------


def test_2014_15_has_no_protection_amount_of_its_own():
    """The fund was pooled from 2015/16; the 2014 template asks one protection total."""
    from bettercare.data.plan_files import load_plan

    plan = load_plan(EXAMPLES / "leicester_city_2014.yaml")
    paths = {f.path for f in found(plan, "protected-social-care")}
    assert "protected_social_care.2014/15" not in paths
    assert "protected_social_care.2015/16" in paths  # 000:561: "agreed" but never stated


def test_dfg_part_kept_with_the_districts_agreement_is_accepted(make_2026):
    """DFG grant conditions: part may be kept by the county with the districts' agreement."""

    def keep(d: dict[str, Any], agreed: list[str]) -> None:
        d["funding"][2]["pass_through"] = {
            "north_marlbury_dc": 2_500_000,
            "south_marlbury_dc": 2_000_000,
        }
        d["funding"][2]["retained"] = 500_000
        d["funding"][2]["retention_agreed_by"] = agreed

    both = ["north_marlbury_dc", "south_marlbury_dc"]
    assert found(make_2026(lambda d: keep(d, both)), "dfg-pass-through") == []
    [f] = found(make_2026(lambda d: keep(d, ["north_marlbury_dc"])), "dfg-pass-through")
    assert f.severity is Severity.WARNING and "South Marlbury District Council" in f.message


def test_dfg_passed_beyond_the_grant_is_an_error(make_2026):
    plan = make_2026(lambda d: d["funding"][2]["pass_through"].update(south_marlbury_dc=2_700_000))
    [f] = found(plan, "dfg-pass-through", Severity.ERROR)
    assert "more than the grant (£5,000,000)" in f.message


def test_no_risk_share_asked_in_2025_26_it_belongs_to_the_section_75(make_2026):
    plan = make_2026(lambda d: d.pop("risk_share", None))
    assert "risk-share" not in rules_for(plan) and found(plan, "risk-share") == []
    [f] = found(make_2026(lambda d: d.pop("section_75")), "section-75")
    assert f.severity is Severity.WARNING and f.path == "section_75"


def test_section_75_host_must_be_a_partner(make_2026):
    with pytest.raises(pydantic.ValidationError, match=r"section_75\.host"):
        make_2026(lambda d: d["section_75"].update(host="nobody"))


def test_neighbourhood_health_alignment_2026(make_2026):
    [f] = found(make_2026(lambda d: d.pop("narrative")), "neighbourhood-health")
    assert f.path == "narrative.neighbourhood_health"


def test_metric_specifications_corrected():
    composite = CATALOGUE["avoidable_emergency_admissions"].specification
    assert all(k in composite for k in ("2.3i", "2.3ii", "3a", "3.2"))
    dtoc = CATALOGUE["delayed_transfers_of_care"].specification
    assert "delayed days" in dtoc and "not ASCOF 2C(1)" in dtoc


# -- sign-off as practised (North Yorkshire HWB report, 14 March 2025) ----------------


def test_chief_executive_sign_off_may_not_be_delegated(make_2026):
    plan = make_2026(lambda d: d["sign_offs"][1].update(delegated=True))
    [f] = found(plan, "sign-off", Severity.ERROR)
    assert f.path == "sign_offs[1].delegated" and "may not delegate" in f.message


def test_s151_officer_signs_before_submission(make_2026):
    plan = make_2026(lambda d: d["sign_offs"].pop(2))
    [f] = found(plan, "sign-off", Severity.ERROR)
    assert "S151" in f.message
    plan = make_2026(lambda d: d["sign_offs"][2].update(date="2026-04-02"))
    [f] = found(plan, "sign-off", Severity.ERROR)
    assert f.path == "sign_offs[2].date" and "before submission" in f.message


def test_hwb_approval_after_submission_allowed_where_the_framework_allows(make_2026, base_2026):
    plan = make_2026()
    assert plan.date_agreed and plan.date_submitted and plan.date_agreed > plan.date_submitted
    assert found(plan, "years-and-dates") == []
    d = moved(base_2026, "2018/19")  # 2017-19: HWB approval comes first
    [f] = [x for x in found(Plan.model_validate(d), "years-and-dates") if x.path == "date_agreed"]
    assert f.severity is Severity.ERROR


# -- the workflow reads the same framework data ------------------------------------------


def test_workflow_offers_submission_before_hwb_approval(make_2026, base_2026):
    draft = make_2026(lambda d: d.update(status="draft", date_agreed=None, date_submitted=None))
    assert EARLY_SUBMIT in next_steps(State.AGREED, plan=draft)
    result = take_step(draft, State.AGREED, Step.SUBMIT, None, DAY)
    assert result.allowed and result.target is State.SUBMITTED
    assert result.plan.status == "submitted" and result.plan.date_submitted == DAY
    # the HWB approves after: recorded, the plan stays submitted, assurance follows
    assert next_steps(State.SUBMITTED, plan=result.plan)[0] is LATE_APPROVAL
    with pytest.raises(WorkflowError, match="HWB's approval"):
        target_state(Step.ASSURE, State.SUBMITTED, "approved", result.plan)  # type: ignore[arg-type]
    later = take_step(result.plan, State.SUBMITTED, Step.APPROVE, None, dt.date(2026, 4, 23))
    assert later.allowed and later.target is State.SUBMITTED
    assert later.plan.date_agreed == dt.date(2026, 4, 23) and later.plan.status == "agreed"
    assert LATE_APPROVAL not in next_steps(State.SUBMITTED, plan=later.plan)
    # 2017-19 allows no such order
    old = Plan.model_validate(moved(base_2026, "2018/19"))
    assert EARLY_SUBMIT not in next_steps(State.AGREED, plan=old)
    with pytest.raises(WorkflowError):
        target_state(Step.SUBMIT, State.AGREED, None, old)


def test_early_submission_refused_without_the_chief_executives(make_2026):
    def unsigned(d: dict[str, Any]) -> None:
        d.update(status="draft", date_agreed=None, date_submitted=None)
        d["sign_offs"] = [s for s in d["sign_offs"] if s["capacity"] != "icb_chief_executive"]

    result = take_step(make_2026(unsigned), State.AGREED, Step.SUBMIT, None, DAY)
    assert not result.allowed
    assert any("ICB's chief executive" in f.message for f in result.errors)


def test_icb_partner_before_july_2022_and_years_of_new_fields(base_2026):
    d = moved(base_2026, "2021/22")
    plan = Plan.model_validate(d)
    assert any(
        f.path == "partners[1].type" and "ICB" in f.message for f in found(plan, "commissioners")
    )
    d = copy.deepcopy(base_2026)
    d["admissions_avoided_total"] = {"2025/26": 10}
    d["section_75"]["pooled_amount"]["2027/28"] = 1
    paths = {f.path for f in found(Plan.model_validate(d), "years-and-dates", Severity.ERROR)}
    assert {"admissions_avoided_total.2025/26", "section_75.pooled_amount.2027/28"} <= paths
