"""The workflow service without HTTP: version checks, rule errors block, history kept."""

from __future__ import annotations

import datetime as dt

import pytest

from bettercare.data.plan_store import get_plan, history, plan_of
from bettercare.domain.access import Role
from bettercare.domain.workflow import Step
from bettercare.errors import NotPermitted
from bettercare.services import workflow

from .conftest import RUTLAND_PLAN, events, user


def test_a_step_on_a_stale_page_is_refused(db, editor) -> None:
    version = get_plan(db, RUTLAND_PLAN).version
    result = workflow.take(db, editor, RUTLAND_PLAN, Step.AGREE, None, "", version + 1)
    assert result.status == 409 and result.refused is not None
    assert "changed since you opened this page" in (result.refused.message or "")
    assert get_plan(db, RUTLAND_PLAN).state == "draft"
    assert events(db, action="agree_plan", outcome="conflict")


def test_rule_errors_block_agreement_and_are_shown(db, editor) -> None:
    version = get_plan(db, RUTLAND_PLAN).version
    result = workflow.take(db, editor, RUTLAND_PLAN, Step.AGREE, None, "", version)
    assert result.status == 409 and result.refused is not None
    assert result.refused.blocking
    assert all(f.severity == "error" for f in result.refused.blocking)
    assert get_plan(db, RUTLAND_PLAN).state == "draft" and history(db, RUTLAND_PLAN) == []


def test_agreeing_moves_the_plan_on_and_records_the_step(db, admin) -> None:
    plan_id = "marlbury_2025"  # the example without rule errors
    version = get_plan(db, plan_id).version
    today = dt.date(2025, 9, 1)
    result = workflow.take(db, admin, plan_id, Step.AGREE, None, " agreed ", version, today)
    assert result.refused is None
    assert get_plan(db, plan_id).state == "agreed"
    [step] = history(db, plan_id)
    assert (step.from_state, step.to_state, step.actor, step.note) == (
        "draft",
        "agreed",
        "admin",
        "agreed",
    )


def test_an_assurer_only_step_is_refused_to_an_editor(db, editor) -> None:
    version = get_plan(db, RUTLAND_PLAN).version
    with pytest.raises(NotPermitted):
        workflow.take(db, editor, RUTLAND_PLAN, Step.ASSURE, None, "", version)


# --- dates entered, the way back to draft ----------------------------------------------

MARLBURY = "marlbury-health-and-wellbeing-board"
TODAY = dt.date(2026, 12, 4)


@pytest.fixture
def marlbury_editor(db):
    return user(db, "editor_marlbury", Role.PARTNER_EDITOR, MARLBURY)


@pytest.fixture
def assurer(db):
    return user(db, "assurer", Role.ASSURER)


def _take(db, caller, step, *, note="", date=None, outcome=None, plan_id="marlbury_2025"):
    version = get_plan(db, plan_id).version
    return workflow.take(db, caller, plan_id, step, outcome, note, version, TODAY, date)


def test_the_hwb_approval_and_submission_record_the_dates_entered(db, marlbury_editor) -> None:
    assert _take(db, marlbury_editor, Step.AGREE).refused is None
    assert _take(db, marlbury_editor, Step.APPROVE, date="21 March 2025").refused is None
    assert _take(db, marlbury_editor, Step.SUBMIT, date="31/03/2025").refused is None
    plan = plan_of(get_plan(db, "marlbury_2025"))
    assert (plan.date_agreed, plan.date_submitted) == (dt.date(2025, 3, 21), dt.date(2025, 3, 31))
    [event] = events(db, action="submit_plan", outcome="ok")
    assert '"date_submitted": "2025-03-31"' in (event.after or "")


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "Enter the date the plan was submitted"),
        ("31/02/2025", "not a date that exists"),
        ("03/31/2025", "the day comes first"),
        ("4 December 2026", "between 1 April 2024 and 31 March 2026"),  # today: old default
        ("5 December 2026", "cannot be in the future"),
    ],
)
def test_a_date_not_allowed_is_refused_saying_what_is(db, marlbury_editor, typed, says) -> None:
    _take(db, marlbury_editor, Step.AGREE)
    _take(db, marlbury_editor, Step.APPROVE, date="20/03/2025")
    result = _take(db, marlbury_editor, Step.SUBMIT, date=typed)
    assert result.status == 422 and result.refused is not None
    assert says in (result.refused.message or "")
    assert result.refused.step_errors == {"date-submit": result.refused.message}
    assert result.refused.step_dates["submit"].value == typed  # kept to correct
    assert get_plan(db, "marlbury_2025").state == "hwb_approved"
    assert events(db, action="submit_plan", outcome="invalid")


def test_a_partner_editor_returns_an_agreed_plan_to_draft_with_a_reason(
    db, marlbury_editor
) -> None:
    _take(db, marlbury_editor, Step.AGREE)
    _take(db, marlbury_editor, Step.APPROVE, date="20/03/2025")
    refused = _take(db, marlbury_editor, Step.REOPEN, note="   ")
    assert refused.status == 422 and refused.refused is not None
    assert refused.refused.step_errors == {"reason-reopen": refused.refused.message}
    assert get_plan(db, "marlbury_2025").state == "hwb_approved"
    assert events(db, action="reopen_plan", outcome="invalid")
    result = _take(db, marlbury_editor, Step.REOPEN, note="Board asked for the DFG figures")
    assert result.refused is None
    record = get_plan(db, "marlbury_2025")
    assert record.state == "draft"
    plan = plan_of(record)
    assert (plan.status, plan.date_agreed, plan.date_submitted) == ("draft", None, None)
    last = history(db, "marlbury_2025")[-1]
    assert (last.from_state, last.to_state, last.note) == (
        "hwb_approved",
        "draft",
        "Board asked for the DFG figures",
    )
    [event] = events(db, action="reopen_plan", outcome="ok")
    assert "Board asked for the DFG figures" in (event.after or "")


def test_the_way_back_is_refused_to_roles_that_may_not_take_it(
    db, marlbury_editor, assurer, coordinator
) -> None:
    _take(db, marlbury_editor, Step.AGREE)
    with pytest.raises(NotPermitted):  # an assurer does not reopen an agreed plan
        _take(db, assurer, Step.REOPEN, note="no")
    record = get_plan(db, "marlbury_2025")
    record.state = "assured"  # as NHS England's outcome would leave it
    db.commit()
    with pytest.raises(NotPermitted):  # nor the editor an assured one
        _take(db, marlbury_editor, Step.REOPEN, note="change")
    denied = events(db, action="reopen_plan", outcome="denied")
    assert [e.actor for e in denied] == ["assurer", "editor_marlbury"]
    assert _take(db, assurer, Step.REOPEN, note="conditions not met").refused is None
    assert get_plan(db, "marlbury_2025").state == "draft"


def test_a_blocked_step_after_draft_never_says_fix_them_in_draft(db, admin) -> None:
    """Rutland (rule errors) stuck at 'agreed' from before: the message names the way back."""
    record = get_plan(db, RUTLAND_PLAN)
    record.state = "agreed"
    db.commit()
    result = workflow.take(
        db, admin, RUTLAND_PLAN, Step.APPROVE, None, "", record.version, TODAY, "17/09/2014"
    )
    assert result.status == 409 and result.refused is not None
    assert "return the plan to draft (with a reason" in (result.refused.message or "")
    assert "Fix them in draft first" not in (result.refused.message or "")


def test_a_submission_after_the_national_deadline_is_recorded_as_late(db, marlbury_editor) -> None:
    """2025-26: 'the final submission deadline of 31 March 2025' (North Yorkshire Council
    HWB report, 14 March 2025, cited in the framework module). Late is recorded, not refused."""
    _take(db, marlbury_editor, Step.AGREE)
    page = workflow.overview_of(
        db, marlbury_editor, get_plan(db, "marlbury_2025"), plan_of(get_plan(db, "marlbury_2025"))
    )
    assert "The national deadline was 31 March 2025" in page.step_dates["submit"].hint
    assert _take(db, marlbury_editor, Step.SUBMIT, date="1 April 2025").refused is None
    assert history(db, "marlbury_2025")[-1].note == (
        "Submitted after the national deadline (31 March 2025)."
    )


def test_a_blocked_step_names_who_may_return_the_plan_when_the_user_may_not(db, editor) -> None:
    record = get_plan(db, RUTLAND_PLAN)
    record.state = "assured"  # with rule errors, from before these checks
    db.commit()
    result = workflow.take(db, editor, RUTLAND_PLAN, Step.MONITOR, None, "", record.version, TODAY)
    assert result.status == 409 and result.refused is not None
    assert result.refused.message.endswith(  # type: ignore[union-attr]
        "Only an assurer or an administrator can return it to draft to fix them."
    )
    assert not [t for t in result.refused.steps if t.step is Step.REOPEN]


def test_the_home_page_preview_asks_no_date_before_the_user_enters_it(db, marlbury_editor) -> None:
    """The editor's home lists what blocks the next step; a plan agreed with no approval
    date yet is ready for the HWB's approval (the date is asked on the step's form), not
    blocked by a date the preview made up (it used to pass today's)."""
    from bettercare.data.plan_store import save_plan
    from bettercare.services import home

    record = get_plan(db, "marlbury_2025")
    plan = plan_of(record).model_copy(update={"date_agreed": None, "date_submitted": None})
    save_plan(db, record, plan, "system")
    record.state = "agreed"
    db.commit()
    [task] = [
        t
        for g in home.home(db, marlbury_editor, TODAY).groups
        for t in g.tasks
        if t.href and "marlbury_2025" in t.href
    ]
    assert task.status == home.READY, task.hint
    assert task.hint == "Nothing blocks the next step: Approved by the HWB"
