"""The sign-off workflow: the domain rules (pure) and the pages with the right roles."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from bettercare.app.models import AuditEvent, PlanRecord, PlanTransition
from bettercare.app.plans import plan_of
from bettercare.app.security import Role
from bettercare.app.seed import create_user
from bettercare.data.plan_files import load_plan
from bettercare.domain.plan import PlanStatus
from bettercare.domain.rules import check_plan
from bettercare.domain.workflow import (
    Outcome,
    State,
    Step,
    WorkflowError,
    apply_step,
    editable,
    next_steps,
    take_step,
    target_state,
)

from .conftest import EXAMPLES, PASSWORD, csrf_of

MARLBURY = "marlbury-health-and-wellbeing-board"  # no ONS code: a slug of the HWB's name
DAY = dt.date(2026, 11, 27)


# --- domain ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "state", "outcome", "expected"),
    [
        (Step.AGREE, State.DRAFT, None, State.AGREED),
        (Step.APPROVE, State.AGREED, None, State.HWB_APPROVED),
        (Step.SUBMIT, State.HWB_APPROVED, None, State.SUBMITTED),
        (Step.ASSURE, State.SUBMITTED, Outcome.APPROVED_WITH_SUPPORT, State.ASSURED),
        (Step.ASSURE, State.SUBMITTED, Outcome.NOT_APPROVED, State.DRAFT),
        (Step.MONITOR, State.ASSURED, None, State.MONITORING),
    ],
)
def test_target_state(step, state, outcome, expected) -> None:
    assert target_state(step, state, outcome) is expected


@pytest.mark.parametrize(
    ("step", "state", "outcome"),
    [
        (Step.SUBMIT, State.DRAFT, None),  # skips agreement and HWB approval
        (Step.ASSURE, State.SUBMITTED, None),  # an assurance needs an outcome
        (Step.AGREE, State.DRAFT, Outcome.APPROVED),  # only assurance has one
        (Step.AGREE, State.MONITORING, None),
    ],
)
def test_impossible_steps(step, state, outcome) -> None:
    with pytest.raises(WorkflowError):
        target_state(step, state, outcome)


def test_only_a_draft_is_editable_and_a_rejected_plan_moves_no_further() -> None:
    assert [s for s in State if editable(s)] == [State.DRAFT]
    assert next_steps(State.ASSURED, Outcome.NOT_APPROVED) == []
    assert [t.step for t in next_steps(State.ASSURED, Outcome.APPROVED)] == [Step.MONITOR]
    assert [t.action for t in next_steps(State.DRAFT)] == ["agree_plan"]


def test_plan_status_and_dates_follow_the_workflow() -> None:
    plan = load_plan(EXAMPLES / "rutland_2014.yaml").model_copy(
        update={"date_agreed": None, "date_submitted": None}
    )
    approved = apply_step(plan, Step.APPROVE, None, DAY)
    assert (approved.status, approved.date_agreed) == (PlanStatus.AGREED, DAY)
    submitted = apply_step(approved, Step.SUBMIT, None, DAY + dt.timedelta(days=3))
    assert submitted.date_submitted == DAY + dt.timedelta(days=3)
    assert submitted.status is PlanStatus.AGREED
    assured = apply_step(submitted, Step.ASSURE, Outcome.APPROVED_WITH_CONDITIONS, DAY)
    assert assured.status is PlanStatus.APPROVED
    rejected = apply_step(submitted, Step.ASSURE, Outcome.NOT_APPROVED, DAY)
    assert rejected.status is PlanStatus.DRAFT
    assert apply_step(plan, Step.AGREE, None, DAY) is plan  # no field for partners' agreement


def test_rule_errors_block_a_step_but_not_a_return_to_draft() -> None:
    rutland = load_plan(EXAMPLES / "rutland_2014.yaml")  # 5 rule errors
    blocked = take_step(rutland, State.DRAFT, Step.AGREE, None, DAY)
    assert not blocked.allowed
    assert {f.rule for f in blocked.errors} >= {"risk-score", "pooled-budget-minimum"}
    back = take_step(rutland, State.SUBMITTED, Step.ASSURE, Outcome.NOT_APPROVED, DAY)
    assert back.allowed and back.target is State.DRAFT
    marlbury = load_plan(EXAMPLES / "marlbury_2025.yaml")  # no rule errors
    assert take_step(marlbury, State.DRAFT, Step.AGREE, None, DAY).allowed


def test_agreement_checks_what_hwb_approval_will_need() -> None:
    """A draft may lack sign-offs (a warning), but the partners' agreement already asks
    for them: the HWB approval that follows needs them and editing ends at agreement."""
    marlbury = load_plan(EXAMPLES / "marlbury_2025.yaml")
    draft = marlbury.model_copy(update={"status": PlanStatus.DRAFT, "sign_offs": []})
    assert not [f for f in check_plan(draft) if f.severity == "error"]  # a draft is fine
    result = take_step(draft, State.DRAFT, Step.AGREE, None, None)
    assert not result.allowed and {f.rule for f in result.errors} == {"sign-off"}
    assert all("needed before" in f.message for f in result.errors)
    result = take_step(draft, State.AGREED, Step.APPROVE, None, dt.date(2025, 3, 20))
    assert not result.allowed and {f.rule for f in result.errors} == {"sign-off"}


# --- pages -----------------------------------------------------------------------------


@pytest.fixture
def marlbury_editor(app) -> str:
    with app.state.sessions() as db:
        create_user(db, "editor_marlbury", PASSWORD, Role.PARTNER_EDITOR, MARLBURY)
        db.commit()
    return "editor_marlbury"


def _state(app, plan_id: str) -> tuple[str, str | None]:
    with app.state.sessions() as db:
        r = db.get(PlanRecord, plan_id)
        return r.state, r.assurance_outcome


def _step(
    client,
    plan_id: str,
    step: str,
    outcome: str | None = None,
    note: str = "",
    date: str | None = None,
):
    """Post a step's form as the page shows it: its date field as filled, unless ``date``."""
    page = client.get(f"/plans/{plan_id}").text
    version = page.split('name="version" value="')[1].split('"')[0] if "version" in page else ""
    data = {"csrf_token": csrf_of(page), "step": step, "note": note, "version": version}
    if outcome:
        data["outcome"] = outcome
    shown = re.search(rf'id="date-{step}" name="date" value="([^"]*)"', page)
    if date is not None:
        data["date"] = date
    elif shown:
        data["date"] = shown.group(1)
    return client.post(f"/plans/{plan_id}/workflow", data=data, follow_redirects=False)


def test_whole_workflow_with_the_right_roles(app, client, login, marlbury_editor) -> None:
    plan_id = "marlbury_2025"
    login(marlbury_editor)
    for step, state in (("agree", "agreed"), ("approve", "hwb_approved"), ("submit", "submitted")):
        assert _step(client, plan_id, step, note=f"{step} at the board").status_code == 303
        assert _state(app, plan_id)[0] == state
    # the editor may not record NHS England's assurance (and is told so, and audited)
    page = client.get(f"/plans/{plan_id}").text
    assert 'id="do-assure"' not in page
    r = client.post(
        f"/plans/{plan_id}/workflow",
        data={"csrf_token": csrf_of(page), "step": "assure", "outcome": "approved", "version": "0"},
    )
    assert r.status_code == 403
    login("assurer")
    assert 'id="do-assure"' in client.get(f"/plans/{plan_id}").text
    r = _step(client, plan_id, "assure", "approved_with_conditions", "conditions: DFG plan")
    assert r.status_code == 303
    assert _state(app, plan_id) == ("assured", "approved_with_conditions")
    login(marlbury_editor)
    assert _step(client, plan_id, "monitor").status_code == 303
    assert _state(app, plan_id)[0] == "monitoring"
    page = client.get(f"/plans/{plan_id}").text
    assert page.count("<tr><td>20") == 5  # five rows in the history table
    assert "conditions: DFG plan" in page
    with app.state.sessions() as db:
        rows = list(db.scalars(select(PlanTransition).order_by(PlanTransition.id)))
        plan = plan_of(db.get(PlanRecord, plan_id))
        audit = list(db.scalars(select(AuditEvent).where(AuditEvent.action == "assure_plan")))
    assert [(r.from_state, r.to_state, r.actor) for r in rows] == [
        ("draft", "agreed", marlbury_editor),
        ("agreed", "hwb_approved", marlbury_editor),
        ("hwb_approved", "submitted", marlbury_editor),
        ("submitted", "assured", "assurer"),
        ("assured", "monitoring", marlbury_editor),
    ]
    assert plan.status is PlanStatus.APPROVED
    assert plan.date_agreed == dt.date(2025, 3, 20)  # the plan's own date is kept
    assert [a.outcome for a in audit] == ["denied", "ok"]


def test_not_approved_returns_the_plan_to_draft(app, client, login, marlbury_editor) -> None:
    with app.state.sessions() as db:
        db.get(PlanRecord, "marlbury_2025").state = "submitted"
        db.commit()
    login("assurer")
    assert _step(client, "marlbury_2025", "assure", "not_approved").status_code == 303
    # back in draft; the last outcome stays visible until the plan is assured again
    assert _state(app, "marlbury_2025") == ("draft", "not_approved")
    login(marlbury_editor)
    page = client.get("/plans/marlbury_2025").text
    assert 'id="add-scheme"' in page and 'id="do-agree"' in page
    with app.state.sessions() as db:
        plan = plan_of(db.get(PlanRecord, "marlbury_2025"))
    assert plan.status is PlanStatus.DRAFT


def test_a_plan_with_rule_errors_is_refused_with_its_findings(app, client, login) -> None:
    login("editor")
    r = _step(client, "rutland-2014", "agree")
    assert r.status_code == 409
    assert "planning rule error(s)" in r.text and "risk-score" in r.text
    assert _state(app, "rutland-2014")[0] == "draft"
    with app.state.sessions() as db:
        refused = db.scalars(select(AuditEvent).where(AuditEvent.action == "agree_plan")).one()
        assert db.scalar(select(PlanTransition)) is None
    assert refused.outcome == "invalid"


def test_roles_without_the_action_are_refused(app, client, login) -> None:
    login("analyst")
    page = client.get("/plans/rutland-2014").text
    assert 'id="do-agree"' not in page
    r = client.post(
        "/plans/rutland-2014/workflow",
        data={"csrf_token": csrf_of(page), "step": "agree", "version": "1"},
    )
    assert r.status_code == 403
    r = client.post(
        "/plans/rutland-2014/workflow", data={"csrf_token": csrf_of(page), "step": "fly"}
    )
    assert r.status_code == 422


def test_a_stale_workflow_step_is_refused(app, client, login, marlbury_editor) -> None:
    login(marlbury_editor)
    page = client.get("/plans/marlbury_2025").text
    r = client.post(
        "/plans/marlbury_2025/workflow",
        data={"csrf_token": csrf_of(page), "step": "agree", "version": "999"},
    )
    assert r.status_code == 409 and "changed since you opened" in r.text
    assert _state(app, "marlbury_2025")[0] == "draft"


def _form_fields(html: str) -> dict[str, str]:
    from .test_plans import _form

    return _form(html, "item-form")


def test_fixing_the_rule_errors_in_the_forms_unblocks_the_workflow(app, client, login) -> None:
    """Rutland's five errors are fixed through the budget and risk forms; then it is agreed."""
    login("editor")
    plan_url = "/plans/rutland-2014"
    data = _form_fields(client.get(f"{plan_url}/budget").text)
    assert data["minimum_pooled_budget.2015/16"] == "2226000"  # the stored figures, prefilled
    data.update(
        {
            "agreed_pooled_budget.2014/15": "£1,000,000",
            "agreed_pooled_budget.2015/16": "2226000",
            "protected_social_care.2014/15": "0",
        }
    )
    r = client.post(f"{plan_url}/budget", data=data)
    assert r.status_code == 200 and 'id="form-saved"' in r.text
    for n in (1, 2):  # R2 and R3: score 3 for likelihood x impact 2
        data = _form_fields(client.get(f"{plan_url}/risks/{n}").text)
        data["score"] = "2"
        assert client.post(f"{plan_url}/risks/{n}", data=data).status_code == 200
    assert "Planning rules: 0 errors" in client.get(plan_url).text
    # no errors in draft, but agreement also checks what the HWB's approval will need
    r = _step(client, "rutland-2014", "agree")
    assert r.status_code == 409 and "needed before &#39;Approved by the HWB&#39;" in r.text
    for n, change in (
        (0, {"date": "2014-09-05"}),  # the CCG's and the council's sign-off dates
        (1, {"date": "2014-09-05"}),
        (2, {"person": "R. Chair", "role": "HWB chair"}),  # its date: the approval's
    ):
        data = _form_fields(client.get(f"{plan_url}/sign_offs/{n}").text)
        data.update(change)
        assert client.post(f"{plan_url}/sign_offs/{n}", data=data).status_code == 200, n
    assert _step(client, "rutland-2014", "agree").status_code == 303
    assert _state(app, "rutland-2014")[0] == "agreed"
    with app.state.sessions() as db:
        plan = plan_of(db.get(PlanRecord, "rutland-2014"))
        budget_event = db.scalars(
            select(AuditEvent).where(AuditEvent.target == "plan:rutland-2014/budget")
        ).one()
    assert plan.agreed_pooled_budget["2014/15"] == 1_000_000
    assert "schemes" not in budget_event.after  # the budget's fields, not the whole plan
    assert '"agreed_pooled_budget"' in budget_event.after


def test_risk_share_form_sets_and_clears_the_risk_share(app, client, login) -> None:
    login("editor")
    data = _form_fields(client.get("/plans/rutland-2014/risk_share").text)
    assert data["shares.rutland_county_council"] == "50.0"
    data.update({"contingency_reserve": "75000", "shares.rutland_county_council": "150"})
    r = client.post("/plans/rutland-2014/risk_share", data=data)
    assert r.status_code == 422 and 'id="f-shares-rutland-county-council-error"' in r.text
    data["shares.rutland_county_council"] = "50"
    assert client.post("/plans/rutland-2014/risk_share", data=data).status_code == 200
    with app.state.sessions() as db:
        plan = plan_of(db.get(PlanRecord, "rutland-2014"))
    assert plan.risk_share is not None and plan.risk_share.contingency_reserve == 75000


def test_2026_plan_may_be_submitted_before_hwb_approval(app, client, login, marlbury_editor):
    """2026-27 (sign-off order carried from 2025-26): submission may precede the HWB."""
    plan_id = "marlbury_2026"
    login(marlbury_editor)
    assert _step(client, plan_id, "agree").status_code == 303
    page = client.get(f"/plans/{plan_id}").text
    assert "Record: Submitted to NHS England (HWB approval to follow)" in page
    assert _step(client, plan_id, "submit").status_code == 303
    assert _state(app, plan_id)[0] == "submitted"


# --- the confused user's cases ---------------------------------------------------------


def _clear_dates(app, plan_id: str) -> None:
    """The plan as a lead would have it: no approval or submission date recorded yet."""
    from bettercare.data.plan_store import save_plan

    with app.state.sessions() as db:
        record = db.get(PlanRecord, plan_id)
        plan = plan_of(record).model_copy(update={"date_agreed": None, "date_submitted": None})
        save_plan(db, record, plan, "system")
        db.commit()


def test_agreed_then_approved_needs_nothing_new(app, client, login, marlbury_editor) -> None:
    """Agreement checked all the HWB approval needs: the approval asks only its date."""
    _clear_dates(app, "marlbury_2025")
    login(marlbury_editor)
    assert _step(client, "marlbury_2025", "agree").status_code == 303
    page = client.get("/plans/marlbury_2025").text
    assert 'id="date-approve" name="date" value=""' in page  # not today's date
    assert "Between 1 April 2024 and 31 March 2026" in page
    r = _step(client, "marlbury_2025", "approve", date="20 March 2025")
    assert r.status_code == 303
    assert _state(app, "marlbury_2025")[0] == "hwb_approved"


def test_a_plan_stuck_at_hwb_approved_is_submitted_with_the_date_entered(
    app, client, login, marlbury_editor
) -> None:
    """The issue: the submission date was filled with today's date and refused as
    outside the plan's years. Now the form asks; an empty date is a clear message."""
    _clear_dates(app, "marlbury_2025")
    with app.state.sessions() as db:
        db.get(PlanRecord, "marlbury_2025").state = "hwb_approved"
        db.commit()
    login(marlbury_editor)
    r = _step(client, "marlbury_2025", "submit", date="")
    assert r.status_code == 422
    assert "Enter the date the plan was submitted to NHS England" in r.text
    assert 'href="#date-submit"' in r.text  # the error summary links to the field
    r = _step(client, "marlbury_2025", "submit", date="31/03/2025")
    assert r.status_code == 303
    assert _state(app, "marlbury_2025")[0] == "submitted"
    with app.state.sessions() as db:
        assert plan_of(db.get(PlanRecord, "marlbury_2025")).date_submitted == dt.date(2025, 3, 31)


def test_a_date_outside_the_plan_years_gets_a_clear_message(
    app, client, login, marlbury_editor
) -> None:
    login(marlbury_editor)
    assert _step(client, "marlbury_2025", "agree").status_code == 303
    r = _step(client, "marlbury_2025", "approve", date="12/03/2024")
    assert r.status_code == 422
    assert "must be between 1 April 2024 and 31 March 2026 (the plan is for 2025/26)" in r.text
    assert 'id="date-approve-error"' in r.text and 'value="12/03/2024"' in r.text
    assert _state(app, "marlbury_2025")[0] == "agreed"
    with app.state.sessions() as db:
        refused = db.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "approve_plan", AuditEvent.outcome == "invalid"
            )
        ).one()
    assert "31 March 2026" in (refused.detail or "")


def test_back_to_draft_needs_a_reason(app, client, login, marlbury_editor) -> None:
    login(marlbury_editor)
    assert _step(client, "marlbury_2025", "agree").status_code == 303
    page = client.get("/plans/marlbury_2025").text
    assert 'id="do-reopen"' in page and 'href="#step-reopen"' in page
    r = _step(client, "marlbury_2025", "reopen", note="  ")
    assert r.status_code == 422 and 'href="#reason-reopen"' in r.text
    assert _state(app, "marlbury_2025")[0] == "agreed"
    r = _step(client, "marlbury_2025", "reopen", note="HWB asked for a carers scheme")
    assert r.status_code == 303
    assert _state(app, "marlbury_2025")[0] == "draft"
    page = client.get("/plans/marlbury_2025").text
    assert "HWB asked for a carers scheme" in page  # in the history table
    assert 'id="add-scheme"' in page  # editable again
    assert _step(client, "marlbury_2025", "agree").status_code == 303  # and forward again


def test_a_wrong_role_may_not_return_a_plan_to_draft(app, client, login, marlbury_editor) -> None:
    with app.state.sessions() as db:
        db.get(PlanRecord, "marlbury_2025").state = "monitoring"
        db.commit()
    login(marlbury_editor)
    page = client.get("/plans/marlbury_2025").text
    assert 'id="do-reopen"' not in page
    assert "Only an administrator can return it to draft" in page
    r = client.post(
        "/plans/marlbury_2025/workflow",
        data={"csrf_token": csrf_of(page), "step": "reopen", "note": "undo", "version": "1"},
    )
    assert r.status_code == 403
    login("analyst")  # no way back at all, on Rutland's agreed plan
    with app.state.sessions() as db:
        db.get(PlanRecord, "rutland-2014").state = "agreed"
        db.commit()
    page = client.get("/plans/rutland-2014").text
    r = client.post(
        "/plans/rutland-2014/workflow",
        data={"csrf_token": csrf_of(page), "step": "reopen", "note": "x", "version": "1"},
    )
    assert r.status_code == 403
    assert _state(app, "marlbury_2025")[0] == "monitoring"
    with app.state.sessions() as db:
        denied = list(
            db.scalars(
                select(AuditEvent).where(
                    AuditEvent.action == "reopen_plan", AuditEvent.outcome == "denied"
                )
            )
        )
    assert [(e.actor, e.target) for e in denied] == [
        (marlbury_editor, "plan:marlbury_2025"),
        ("analyst", "plan:rutland-2014"),
    ]
    login("admin")
    assert _step(client, "marlbury_2025", "reopen", note="reissued").status_code == 303
    assert _state(app, "marlbury_2025") == ("draft", None)


def test_the_page_never_says_fix_in_draft_without_the_way_back(app, client, login) -> None:
    """Rutland (rule errors) stuck past draft: the page offers the way back to those who
    may take it and names who may to the others."""
    with app.state.sessions() as db:
        db.get(PlanRecord, "rutland-2014").state = "agreed"
        db.commit()
    login("editor")
    page = client.get("/plans/rutland-2014").text
    assert 'href="#step-reopen">return it to draft</a> with a reason to fix them' in page
    assert "fixed in draft" not in page
    with app.state.sessions() as db:
        db.get(PlanRecord, "rutland-2014").state = "assured"
        db.commit()
    page = client.get("/plans/rutland-2014").text
    assert 'id="do-reopen"' not in page
    assert "only an assurer or an administrator can return it to draft to fix them" in page
