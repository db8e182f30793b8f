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

Where the plan's framework allows it (``sign_off.submit_before_hwb`` in
:mod:`bettercare.domain.frameworks`: 2023-25, 2025-26 and 2026-27), a plan agreed by the
partners may be submitted before the HWB approves it, the approval recorded after:

==================  ==========================================================
early submission    ``agreed`` -> ``submitted``; ``status: submitted``,
                    ``date_submitted`` set if empty
late HWB approval   ``submitted`` -> ``submitted``; ``status: agreed``,
                    ``date_agreed`` set if empty (assurance follows as usual)
==================  ==========================================================

The ``sign-off`` rule reads the same framework data, so a step the workflow offers is
one the rules accept: the chief executives and S151 officer (2025-26) must have signed
before an early submission, and an assured plan needs its HWB approval recorded.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from bettercare.domain.findings import Finding, Severity
from bettercare.domain.plan import Plan, PlanStatus
from bettercare.domain.rules import check_plan, sign_off_rules
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


#: Submission before HWB approval, where the plan's framework allows it.
EARLY_SUBMIT = Transition(
    Step.SUBMIT,
    State.AGREED,
    State.SUBMITTED,
    "submit_plan",
    "Submitted to NHSE (HWB approval to follow)",
)
#: The HWB's approval of a plan already submitted, recorded after submission.
LATE_APPROVAL = Transition(
    Step.APPROVE,
    State.SUBMITTED,
    State.SUBMITTED,
    "approve_plan",
    "Approved by the HWB (after submission)",
)


def _submits_early(plan: Plan | None) -> bool:
    """Whether the plan's framework lets it be submitted before HWB approval."""
    return plan is not None and sign_off_rules(plan).submit_before_hwb


def _awaits_hwb(plan: Plan | None) -> bool:
    """A submitted plan whose HWB approval is not yet recorded."""
    return plan is not None and plan.date_agreed is None and _submits_early(plan)


class WorkflowError(Conflict):
    """A step that cannot be taken from the plan's state (or without an outcome)."""


def editable(state: State) -> bool:
    """Only a draft is edited; any later state must go back to draft first."""
    return state is State.DRAFT


def next_steps(
    state: State, outcome: Outcome | None = None, plan: Plan | None = None
) -> list[Transition]:
    """The steps open from ``state`` (an assured plan moves on only if it was approved).

    Given the ``plan``, its framework's sign-off order adds submission before HWB
    approval (from ``agreed``) and the HWB's approval after it (from ``submitted``).
    """
    if state is State.ASSURED and outcome is Outcome.NOT_APPROVED:
        return []
    steps = [t for t in TRANSITIONS.values() if t.source is state]
    if state is State.AGREED and _submits_early(plan):
        steps.append(EARLY_SUBMIT)
    if state is State.SUBMITTED and _awaits_hwb(plan):
        steps.insert(0, LATE_APPROVAL)
    return steps


def transition_for(step: Step, state: State, plan: Plan | None = None) -> Transition:
    """The transition ``step`` takes from ``state`` (the framework's order, given a plan)."""
    if step is Step.SUBMIT and state is State.AGREED and _submits_early(plan):
        return EARLY_SUBMIT
    if step is Step.APPROVE and state is State.SUBMITTED and _awaits_hwb(plan):
        return LATE_APPROVAL
    return TRANSITIONS[step]


def target_state(
    step: Step, state: State, outcome: Outcome | None = None, plan: Plan | None = None
) -> State:
    """The state ``step`` leads to from ``state``; raise :class:`WorkflowError` if it can't."""
    transition = transition_for(step, state, plan)
    if step is Step.ASSURE and state is State.SUBMITTED and _awaits_hwb(plan):
        raise WorkflowError(
            "the HWB's approval of this plan is not yet recorded: record it before the "
            "assurance outcome"
        )
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


def apply_step(
    plan: Plan, step: Step, outcome: Outcome | None, on: dt.date, state: State | None = None
) -> Plan:
    """The plan document as it is after ``step`` (status and dates; see the module tables).

    ``state`` is the state the step is taken from; given ``agreed`` for a submission, the
    plan is submitted before HWB approval (``status: submitted``).
    """
    update: dict[str, object] = {}
    if step is Step.APPROVE:
        update["status"] = PlanStatus.AGREED
        if plan.date_agreed is None:
            update["date_agreed"] = on
    elif step is Step.SUBMIT:
        if state is State.AGREED:
            update["status"] = PlanStatus.SUBMITTED
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
    after the step (an HWB-approved plan must have its sign-offs; a plan submitted before
    HWB approval, the sign-offs its framework asks before submission). Returning a plan to
    draft ("not approved") is never blocked: that is how a plan with errors goes back.
    """
    target = target_state(step, state, outcome, plan)
    after = apply_step(plan, step, outcome, on, state)
    if target is State.DRAFT:
        return StepResult(target, after, [])
    errors = [f for f in check_plan(after) if f.severity is Severity.ERROR]
    return StepResult(target, after, errors)
