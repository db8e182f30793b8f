"""The workflow never dead-ends: each step checks what the later steps need, per framework.

Plans are the 2026/27 example re-dated to each framework's first year (as
tests/domain/test_practised.py does), with sign-offs removed or left incomplete; the walk
enters only what each step asks for (a date, an outcome).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bettercare.domain import rules, workflow
from bettercare.domain.access import Role
from bettercare.domain.dates import parse_uk_date
from bettercare.domain.findings import Severity
from bettercare.domain.frameworks import BY_ID
from bettercare.domain.plan import Plan, PlanStatus
from bettercare.domain.workflow import (
    EARLY_SUBMIT,
    LATE_APPROVAL,
    TRANSITIONS,
    UNASSURED_MONITOR,
    Outcome,
    State,
    Step,
    StepDateError,
    WorkflowError,
    apply_step,
    blockers,
    check_step_date,
    date_window,
    next_steps,
    reopen,
)
from bettercare.errors import BadInput

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
#: The rules whose findings depend on the workflow (status, dates, sign-offs' dates).
STATE_RULES = ("years-and-dates", "sign-off")


def _moved(fy: str) -> dict[str, Any]:
    """The 2026/27 example re-dated to ``fy``, as a draft with no approval or submission."""
    a = int(fy[:4])
    text = (EXAMPLES / "marlbury_2026.yaml").read_text()
    text = text.replace("2026/27", fy).replace("2026-27", f"{a}-{fy[-2:]}")
    text = text.replace("'2026-", f"'{a}-").replace("'2027-", f"'{a + 1}-")
    d = yaml.safe_load(text)
    d.update(status="draft", date_agreed=None, date_submitted=None)
    return dict(d)


def _variants(d: dict[str, Any]) -> Iterator[tuple[str, Plan]]:
    """The plan, and the plan with each sign-off dropped, undated or unnamed."""
    yield "as is", Plan.model_validate(d)
    yield "no sign-offs", Plan.model_validate({**d, "sign_offs": []})
    for i in range(len(d["sign_offs"])):
        for change in ("dropped", "date", "person"):
            v = copy.deepcopy(d)
            if change == "dropped":
                del v["sign_offs"][i]
            else:
                v["sign_offs"][i][change] = None
            yield f"sign-off {i} {change}", Plan.model_validate(v)


def _entered(plan: Plan) -> dt.date:
    """What a user enters for a step's date: the day of the last signature, else the
    first day of the window (what the form allows)."""
    dates = [s.date for s in plan.sign_offs if s.date]
    return max(dates) if dates else date_window(plan)[0]


def _walk(plan: Plan, state: State, path: list[str]) -> list[str]:
    """Take every step forward from ``state`` with only the inputs it asks for; return
    the refusals (empty: every path reaches monitoring)."""
    refusals: list[str] = []
    today = date_window(plan)[1] + dt.timedelta(days=400)
    forward = [t for t in next_steps(state, None, plan) if t.step is not Step.REOPEN]
    if state is not State.MONITORING and not forward:
        return [f"{' > '.join(path)}: no step forward from {state}"]
    for t in forward:
        on = None
        if t.records:
            on = check_step_date(plan, t, _entered(plan), today)  # raises if refused
        outcome = Outcome.APPROVED if t.step is Step.ASSURE else None
        result = blockers(plan, state, t.step, outcome, on)
        here = [*path, t.label]
        if not result.allowed:
            refusals.append(f"{' > '.join(here)}: {[str(f) for f in result.errors]}")
        else:
            refusals += _walk(result.plan, result.target, here)
    return refusals


@pytest.fixture
def state_rules_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The workflow checks only the rules that depend on it (the others are the same at
    every step: test_other_rules_do_not_change_along_the_workflow)."""
    monkeypatch.setattr(
        workflow, "check_plan", lambda plan: rules.check_plan(plan, list(STATE_RULES))
    )


@pytest.mark.parametrize("fid", sorted(BY_ID))
def test_a_plan_the_partners_agree_reaches_monitoring(fid: str, state_rules_only: None) -> None:
    """Per framework: agreement passes => every order the framework allows reaches
    monitoring with only a date per dated step and an outcome; and agreement does refuse
    a plan a later step would refuse (the old dead end)."""
    d = _moved(BY_ID[fid].financial_years[0])
    agreed, refused = [], []
    for name, plan in _variants(d):
        result = blockers(plan, State.DRAFT, Step.AGREE, None, None)
        if result.allowed:
            agreed.append(name)
            assert _walk(result.plan, State.AGREED, ["agreed"]) == [], (fid, name)
        else:
            refused.append(name)
            assert all(f.severity is Severity.ERROR for f in result.errors)
    assert "as is" in agreed and "no sign-offs" in refused, (fid, agreed, refused)
    # the HWB's own sign-off may wait for the approval step, which dates it
    hwb_undated = [n for n in agreed if n.endswith("date")]
    assert hwb_undated, (fid, agreed)


def test_agreement_refuses_what_only_approval_checked_before() -> None:
    """The dead end of the issue: a draft with no sign-offs had no error in draft and was
    agreed, then its HWB approval was refused with editing locked."""
    plan = Plan.model_validate({**_moved("2025/26"), "sign_offs": []})
    assert not [f for f in rules.check_plan(plan) if f.severity is Severity.ERROR]
    result = blockers(plan, State.DRAFT, Step.AGREE, None, None)
    assert not result.allowed
    assert {f.rule for f in result.errors} == {"sign-off"}
    assert any("needed before 'Approved by the HWB'" in f.message for f in result.errors)


@pytest.mark.parametrize("fid", sorted(BY_ID))
def test_other_rules_do_not_change_along_the_workflow(fid: str) -> None:
    """Rules outside STATE_RULES give the same findings in draft and after each step, so
    agreement refusing them is enough (2014-16's metrics depend on the submission date
    and are left out: a metric revision of July 2014)."""
    fw = BY_ID[fid]
    plan = Plan.model_validate(_moved(fw.financial_years[0]))
    others = [r for r in rules.rules_for(plan) if r not in STATE_RULES]
    if fw.metric_revision is not None:
        others.remove("metrics")
    before = rules.check_plan(plan, others)
    on = _entered(plan)
    doc, state = plan, State.DRAFT
    while state is not State.MONITORING:
        t = next(t for t in next_steps(state, None, doc) if t.step is not Step.REOPEN)
        outcome = Outcome.APPROVED if t.step is Step.ASSURE else None
        after = apply_step(doc, t.step, outcome, on if t.records else None, state)
        state, doc = workflow.target_state(t.step, state, outcome, doc), after
        assert rules.check_plan(doc, others) == before, (fid, t.label)


def test_the_real_examples_walk_with_every_rule() -> None:
    """No rules left out: the 2025/26 and 2026/27 examples, returned to draft, are agreed
    and reach monitoring in every order their framework allows."""
    for name in ("marlbury_2025.yaml", "marlbury_2026.yaml"):
        plan = Plan.model_validate(yaml.safe_load((EXAMPLES / name).read_text()))
        draft = apply_step(plan, Step.REOPEN, None, None, State.MONITORING)
        result = blockers(draft, State.DRAFT, Step.AGREE, None, None)
        assert result.allowed, (name, result.errors)
        assert _walk(result.plan, State.AGREED, ["agreed"]) == [], name


# --- the order each framework allows ----------------------------------------------------


def test_orders_offered_per_framework() -> None:
    seed_era = Plan.model_validate(_moved("2016/17"))
    assert [t.step for t in next_steps(State.AGREED, plan=seed_era)] == [Step.APPROVE]
    now = Plan.model_validate(_moved("2025/26"))
    assert next_steps(State.AGREED, plan=now) == [TRANSITIONS[Step.APPROVE], EARLY_SUBMIT]
    submitted = apply_step(now, Step.SUBMIT, None, dt.date(2025, 3, 31), State.AGREED)
    # the assurance waits for the HWB's approval: only that is offered
    assert next_steps(State.SUBMITTED, plan=submitted) == [LATE_APPROVAL]
    covid = Plan.model_validate(_moved("2020/21"))  # no plans submitted in 2020-21
    assert next_steps(State.HWB_APPROVED, plan=covid) == [UNASSURED_MONITOR]
    with pytest.raises(WorkflowError, match="not submitted to NHS England"):
        workflow.target_state(Step.SUBMIT, State.HWB_APPROVED, None, covid)


def test_the_approval_dates_the_hwb_sign_off() -> None:
    d = _moved("2025/26")
    hwb = next(i for i, s in enumerate(d["sign_offs"]) if s["capacity"] == "hwb_chair")
    d["sign_offs"][hwb]["date"] = None
    plan = Plan.model_validate(d)
    approved = apply_step(plan, Step.APPROVE, None, dt.date(2025, 4, 23), State.AGREED)
    assert approved.sign_offs[hwb].date == dt.date(2025, 4, 23)
    assert approved.date_agreed == dt.date(2025, 4, 23)
    others = [s.date for i, s in enumerate(approved.sign_offs) if i != hwb]
    assert others == [s.date for i, s in enumerate(plan.sign_offs) if i != hwb]


# --- dates the user enters --------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("12/03/2026", dt.date(2026, 3, 12)),  # day first
        ("12 March 2026", dt.date(2026, 3, 12)),
        ("2026-03-12", dt.date(2026, 3, 12)),
    ],
)
def test_uk_dates(typed: str, expected: dt.date) -> None:
    assert parse_uk_date(typed) == expected


@pytest.mark.parametrize("typed", ["03/13/2026", "31/02/2026", "yesterday", "12/03/26"])
def test_dates_not_read_for_sure_are_refused(typed: str) -> None:
    with pytest.raises(BadInput):
        parse_uk_date(typed)


def test_a_step_date_is_checked_against_the_plan_years_and_today() -> None:
    plan = Plan.model_validate(_moved("2025/26"))
    submit = EARLY_SUBMIT
    today = dt.date(2026, 12, 4)
    # the window: 1 April of the year before the plan to the end of its last year
    assert date_window(plan) == (dt.date(2024, 4, 1), dt.date(2026, 3, 31))
    assert check_step_date(plan, submit, dt.date(2025, 3, 31), today) == dt.date(2025, 3, 31)
    with pytest.raises(StepDateError, match=r"between 1 April 2024 and 31 March 2026"):
        check_step_date(plan, submit, dt.date(2026, 12, 4), today)  # the old default: today
    with pytest.raises(StepDateError, match="cannot be in the future"):
        check_step_date(plan, submit, dt.date(2025, 3, 31), dt.date(2025, 3, 1))
    with pytest.raises(StepDateError, match="Enter the date the plan was submitted"):
        check_step_date(plan, submit, None, today)


def test_submission_before_approval_only_where_the_framework_allows() -> None:
    today = dt.date(2026, 12, 4)
    old = Plan.model_validate({**_moved("2016/17"), "date_agreed": "2016-03-20"})
    submit = TRANSITIONS[Step.SUBMIT]
    with pytest.raises(StepDateError, match="2016-17 framework asks for the HWB's approval"):
        check_step_date(old, submit, dt.date(2016, 3, 19), today)
    assert check_step_date(old, submit, dt.date(2016, 3, 20), today)
    now = Plan.model_validate({**_moved("2025/26"), "date_agreed": "2025-04-23"})
    assert check_step_date(now, submit, dt.date(2025, 3, 31), today)


# --- the way back to draft --------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "roles"),
    [
        (State.DRAFT, set()),
        (State.AGREED, {Role.PARTNER_EDITOR, Role.ADMIN}),
        (State.HWB_APPROVED, {Role.PARTNER_EDITOR, Role.ADMIN}),
        (State.SUBMITTED, {Role.PARTNER_EDITOR, Role.ASSURER, Role.ADMIN}),
        (State.ASSURED, {Role.ASSURER, Role.ADMIN}),
        (State.MONITORING, {Role.ADMIN}),
    ],
)
def test_who_may_return_a_plan_to_draft(state: State, roles: set[Role]) -> None:
    plan = Plan.model_validate(_moved("2025/26"))
    offered = {
        r for r in Role if any(t.step is Step.REOPEN for t in next_steps(state, None, plan, r))
    }
    assert offered == roles


def test_a_return_to_draft_clears_the_dates_and_is_never_blocked() -> None:
    plan = Plan.model_validate(yaml.safe_load((EXAMPLES / "rutland_2014.yaml").read_text()))
    assert plan.date_agreed is not None
    result = blockers(plan, State.HWB_APPROVED, Step.REOPEN, None, None)
    assert result.allowed and result.target is State.DRAFT  # Rutland has rule errors
    assert result.plan.status is PlanStatus.DRAFT
    assert (result.plan.date_agreed, result.plan.date_submitted) == (None, None)
    with pytest.raises(WorkflowError, match="already a draft"):
        reopen(State.DRAFT)


@pytest.mark.parametrize("fid", sorted(BY_ID))
def test_the_steps_offered_are_the_steps_accepted(fid: str) -> None:
    """Per framework and state: every step offered is one target_state accepts, and every
    step not offered is refused (no button that always fails, no hidden way round)."""
    plan = Plan.model_validate(_moved(BY_ID[fid].financial_years[0]))
    early = apply_step(plan, Step.SUBMIT, None, _entered(plan), State.AGREED)
    for doc in (plan, early):
        for state in State:
            offered = {t.step for t in next_steps(state, None, doc, Role.ADMIN)}
            for step in Step:
                outcome = Outcome.APPROVED if step is Step.ASSURE else None
                try:
                    workflow.target_state(step, state, outcome, doc)
                    accepted = True
                except WorkflowError:
                    accepted = False
                assert accepted == (step in offered), (fid, state, step, offered)
