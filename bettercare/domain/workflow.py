"""The sign-off workflow of a BCF plan: draft to assured to quarterly monitoring.

The seeds 000-004: partners agree the draft, the Health and Wellbeing Board
approves it, it is submitted to NHS England, which assures it with one of four outcomes;
an assured plan moves on to quarterly returns. "Not approved" returns the plan to draft
for resubmission. Each step names the permission it needs (the value of the web app's
``Action``; this layer knows nothing of users) and is refused when the plan, as it would
be after the step, breaks a planning rule (:func:`bettercare.domain.rules.check_plan`).

The plan document's own fields follow the workflow (see :func:`apply_step`):

==================  ==========================================================
workflow state      the plan's ``status`` / dates
==================  ==========================================================
draft               ``status: draft`` (a "not approved" outcome sets it back)
agreed              unchanged (partners' agreement has no field of its own)
hwb_approved        ``status: agreed``; ``date_agreed`` set if it was empty
submitted           ``date_submitted`` set if empty; ``status`` stays ``agreed``
assured (approved)  ``status: approved`` for any of the three "approved" outcomes
monitoring          unchanged
==================  ==========================================================

``status: submitted`` of the plan model describes a plan submitted before its HWB had
agreed it (the 2014 draft submissions); the workflow never sets it, because here a plan
is submitted only after HWB approval.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from bettercare.domain.findings import Finding, Severity
from bettercare.domain.plan import Plan, PlanStatus
from bettercare.domain.rules import check_plan
from bettercare.errors import Conflict


class State(StrEnum):
    """Where a plan is in the workflow."""

    DRAFT = "draft"
    AGREED = "agreed"  # agreed by the partners
    HWB_APPROVED = "hwb_approved"
    SUBMITTED = "submitted"  # to NHS England
    ASSURED = "assured"
    MONITORING = "monitoring"  # quarterly returns


class Outcome(StrEnum):
    """NHS England's assurance outcome (BCF planning requirements, assurance)."""

    APPROVED = "approved"
    APPROVED_WITH_SUPPORT = "approved_with_support"
    APPROVED_WITH_CONDITIONS = "approved_with_conditions"
    NOT_APPROVED = "not_approved"


class Step(StrEnum):
    """A move from one state to the next."""

    AGREE = "agree"
    APPROVE = "approve"
    SUBMIT = "submit"
    ASSURE = "assure"
    MONITOR = "monitor"


@dataclass(frozen=True)
class Transition:
    """One step: from which state, to which, the permission it needs and what it is called."""

    step: Step
    source: State
    target: State
    action: str  # the value of bettercare.app.security.Action that grants it
    label: str


TRANSITIONS: dict[Step, Transition] = {
    t.step: t
    for t in (
        Transition(Step.AGREE, State.DRAFT, State.AGREED, "agree_plan", "Agreed by partners"),
        Transition(
            Step.APPROVE, State.AGREED, State.HWB_APPROVED, "approve_plan", "Approved by the HWB"
        ),
        Transition(
            Step.SUBMIT, State.HWB_APPROVED, State.SUBMITTED, "submit_plan", "Submitted to NHSE"
        ),
        Transition(Step.ASSURE, State.SUBMITTED, State.ASSURED, "assure_plan", "Assurance outcome"),
        Transition(
            Step.MONITOR,
            State.ASSURED,
            State.MONITORING,
            "upload_return",
            "Start quarterly returns",
        ),
    )
}


class WorkflowError(Conflict):
    """A step that cannot be taken from the plan's state (or without an outcome)."""


def editable(state: State) -> bool:
    """Only a draft is edited; any later state must go back to draft first."""
    return state is State.DRAFT


def next_steps(state: State, outcome: Outcome | None = None) -> list[Transition]:
    """The steps open from ``state`` (an assured plan moves on only if it was approved)."""
    if state is State.ASSURED and outcome is Outcome.NOT_APPROVED:
        return []
    return [t for t in TRANSITIONS.values() if t.source is state]


def target_state(step: Step, state: State, outcome: Outcome | None = None) -> State:
    """The state ``step`` leads to from ``state``; raise :class:`WorkflowError` if it can't."""
    transition = TRANSITIONS[step]
    if transition.source is not state:
        raise WorkflowError(
            f"'{transition.label}' needs a plan in state '{transition.source}', "
            f"this plan is '{state}'"
        )
    if step is Step.ASSURE:
        if outcome is None:
            raise WorkflowError("an assurance needs an outcome")
        if outcome is Outcome.NOT_APPROVED:
            return State.DRAFT  # returned for resubmission
    elif outcome is not None:
        raise WorkflowError(f"only an assurance has an outcome, not '{transition.label}'")
    return transition.target


def apply_step(plan: Plan, step: Step, outcome: Outcome | None, on: dt.date) -> Plan:
    """The plan document as it is after ``step`` (status and dates; see the module table)."""
    update: dict[str, object] = {}
    if step is Step.APPROVE:
        update["status"] = PlanStatus.AGREED
        if plan.date_agreed is None:
            update["date_agreed"] = on
    elif step is Step.SUBMIT:
        if plan.date_submitted is None:
            update["date_submitted"] = on
    elif step is Step.ASSURE:
        update["status"] = (
            PlanStatus.DRAFT if outcome is Outcome.NOT_APPROVED else PlanStatus.APPROVED
        )
    if not update:
        return plan
    # model_validate (not model_copy) so the changed plan is checked like any other
    return Plan.model_validate({**plan.model_dump(), **update})


@dataclass(frozen=True)
class StepResult:
    """What a step would do: the new state and plan, and the rule errors that block it."""

    target: State
    plan: Plan
    errors: list[Finding]

    @property
    def allowed(self) -> bool:
        """True when no planning rule error blocks the step."""
        return not self.errors


def take_step(
    plan: Plan, state: State, step: Step, outcome: Outcome | None, on: dt.date
) -> StepResult:
    """Check a step: the state it leads to, the updated plan and any blocking rule errors.

    Every step forward needs a plan without rule errors, checked as the plan would be
    after the step (an HWB-approved plan must have its sign-offs). Returning a plan to
    draft ("not approved") is never blocked: that is how a plan with errors goes back.
    """
    target = target_state(step, state, outcome)
    after = apply_step(plan, step, outcome, on)
    if target is State.DRAFT:
        return StepResult(target, after, [])
    errors = [f for f in check_plan(after) if f.severity is Severity.ERROR]
    return StepResult(target, after, errors)
