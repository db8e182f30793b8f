"""The sign-off workflow of a BCF plan: draft to assured to quarterly monitoring.

The seeds 000-004: partners agree the draft, the Health and Wellbeing Board
approves it, it is submitted to NHS England, which assures it with one of four outcomes;
an assured plan moves on to quarterly returns. "Not approved" returns the plan to draft
for resubmission. Each step names the permission it needs (the value of
:class:`bettercare.domain.access.Action`) and is refused when the plan, as it would be
after the step *or at any later step*, breaks a planning rule
(:func:`bettercare.domain.rules.check_plan`): see :func:`blockers`.

The plan document's own fields follow the workflow (see :func:`apply_step`):

==================  ==========================================================
workflow state      the plan's ``status`` / dates
==================  ==========================================================
draft               ``status: draft``; a return to draft clears both dates
agreed              unchanged (partners' agreement has no field of its own)
hwb_approved        ``status: agreed``; ``date_agreed`` the date the user enters;
                    an HWB sign-off without a date takes it
submitted           ``date_submitted`` the date the user enters
assured (approved)  ``status: approved`` for any of the three "approved" outcomes
monitoring          unchanged
==================  ==========================================================

Where the plan's framework allows it (``sign_off.submit_before_hwb`` in
:mod:`bettercare.domain.frameworks`: 2023-25, 2025-26 and 2026-27), a plan agreed by the
partners may be submitted before the HWB approves it, the approval recorded after:

==================  ==========================================================
early submission    ``agreed`` -> ``submitted``; ``status: submitted``,
                    ``date_submitted`` the date entered
late HWB approval   ``submitted`` -> ``submitted``; ``status: agreed``,
                    ``date_agreed`` the date entered (assurance follows as usual)
==================  ==========================================================

Where the framework had no national assurance (``plans_submitted`` false: 2020-21), an
HWB-approved plan moves straight on to monitoring (the year-end reconciliation).

A plan goes back to draft, with a reason, by the way back (:data:`REOPEN_ROLES`): the
HWB's partner editors before NHS England's outcome (the HWB delegated amendments and
resubmitted: seeds 001 and 003), the assurer once it is submitted or assured, the
administrator from any state.

The ``sign-off`` rule reads the same framework data, so a step the workflow offers is
one the rules accept: the chief executives and S151 officer (2025-26) must have signed
before an early submission, and an assured plan needs its HWB approval recorded.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from bettercare.domain.access import Role
from bettercare.domain.dates import format_uk_date
from bettercare.domain.findings import Finding, Severity
from bettercare.domain.periods import fy_start_year
from bettercare.domain.plan import Plan, PlanStatus
from bettercare.domain.rules import check_plan, is_hwb_sign_off, plan_framework, sign_off_rules
from bettercare.errors import BadInput, Conflict


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
    """A move from one state to another."""

    AGREE = "agree"
    APPROVE = "approve"
    SUBMIT = "submit"
    ASSURE = "assure"
    MONITOR = "monitor"
    REOPEN = "reopen"  # back to draft, with a reason


#: The plan dates a step records, and how a form asks for them.
DATE_LABELS: dict[str, str] = {
    "date_agreed": "Date the Health and Wellbeing Board approved the plan",
    "date_submitted": "Date the plan was submitted to NHS England",
}


@dataclass(frozen=True)
class Transition:
    """One step: from which state, to which, the permission it needs and what it is called.

    ``records`` names the plan date the step records (``date_agreed``, ``date_submitted``):
    the user enters it (:func:`check_step_date`); it is never today's date by default.
    """

    step: Step
    source: State
    target: State
    action: str  # the value of bettercare.domain.access.Action that grants it
    label: str
    records: str | None = None

    @property
    def date_label(self) -> str:
        """The question the step's date field asks ('' when it records no date)."""
        return DATE_LABELS.get(self.records or "", "")


TRANSITIONS: dict[Step, Transition] = {
    t.step: t
    for t in (
        Transition(Step.AGREE, State.DRAFT, State.AGREED, "agree_plan", "Agreed by partners"),
        Transition(
            Step.APPROVE,
            State.AGREED,
            State.HWB_APPROVED,
            "approve_plan",
            "Approved by the HWB",
            "date_agreed",
        ),
        Transition(
            Step.SUBMIT,
            State.HWB_APPROVED,
            State.SUBMITTED,
            "submit_plan",
            "Submitted to NHS England",
            "date_submitted",
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
    "Submitted to NHS England (HWB approval to follow)",
    "date_submitted",
)
#: The HWB's approval of a plan already submitted, recorded after submission.
LATE_APPROVAL = Transition(
    Step.APPROVE,
    State.SUBMITTED,
    State.SUBMITTED,
    "approve_plan",
    "Approved by the HWB (after submission)",
    "date_agreed",
)
#: Monitoring straight after HWB approval, where plans were not submitted for assurance.
UNASSURED_MONITOR = Transition(
    Step.MONITOR,
    State.HWB_APPROVED,
    State.MONITORING,
    "upload_return",
    "Start monitoring (no national assurance this year)",
)

#: Who may return a plan to draft, by the state it is in. The partner editors of the
#: plan's HWB before NHS England's outcome (the HWB delegates amendments before final
#: submission, seed 001; Rutland resubmitted its plan, seed 003); the assurer once it is
#: submitted (returned for changes) or assured; the administrator always. Roles are the
#: domain's (:class:`bettercare.domain.access.Role`); the scope rule (own HWB) is the
#: :data:`REOPEN_ACTION` permission's.
REOPEN_ROLES: dict[State, frozenset[Role]] = {
    State.AGREED: frozenset({Role.PARTNER_EDITOR, Role.ADMIN}),
    State.HWB_APPROVED: frozenset({Role.PARTNER_EDITOR, Role.ADMIN}),
    State.SUBMITTED: frozenset({Role.PARTNER_EDITOR, Role.ASSURER, Role.ADMIN}),
    State.ASSURED: frozenset({Role.ASSURER, Role.ADMIN}),
    State.MONITORING: frozenset({Role.ADMIN}),
}
#: The permission (Action value) a return to draft needs, besides :data:`REOPEN_ROLES`.
REOPEN_ACTION = "reopen_plan"


def reopen(state: State) -> Transition:
    """The way back to draft from ``state`` (a reason is required)."""
    if state is State.DRAFT:
        raise WorkflowError("the plan is already a draft")
    return Transition(Step.REOPEN, state, State.DRAFT, REOPEN_ACTION, "Return to draft")


def may_reopen(role: Role, state: State) -> bool:
    """Whether ``role`` may return a plan in ``state`` to draft (scope aside)."""
    return role in REOPEN_ROLES.get(state, frozenset())


def reopen_roles_text(state: State) -> str:
    """Who may return a plan in ``state`` to draft, in words for a message."""
    names = {
        Role.PARTNER_EDITOR: "a partner editor of the plan's HWB",
        Role.ASSURER: "an assurer",
        Role.ADMIN: "an administrator",
    }
    who = [names[r] for r in names if r in REOPEN_ROLES.get(state, frozenset())]
    return " or ".join(who) if who else "nobody"


def _submits_early(plan: Plan | None) -> bool:
    """Whether the plan's framework lets it be submitted before HWB approval."""
    return plan is not None and sign_off_rules(plan).submit_before_hwb


def _assured_nationally(plan: Plan | None) -> bool:
    """Whether plans of the plan's framework go to NHS England (2020-21: they did not)."""
    fw = plan_framework(plan) if plan is not None else None
    return fw is None or fw.plans_submitted


def _awaits_hwb(plan: Plan | None) -> bool:
    """A submitted plan whose HWB approval is not yet recorded."""
    return plan is not None and plan.date_agreed is None and _submits_early(plan)


class WorkflowError(Conflict):
    """A step that cannot be taken from the plan's state (or without an outcome)."""


class StepDateError(BadInput):
    """A date entered for a step that is missing, unreadable or not allowed for the plan."""


def editable(state: State) -> bool:
    """Only a draft is edited; any later state must go back to draft first."""
    return state is State.DRAFT


def next_steps(
    state: State, outcome: Outcome | None = None, plan: Plan | None = None, role: Role | None = None
) -> list[Transition]:
    """The steps open from ``state`` (an assured plan moves on only if it was approved).

    Given the ``plan``, its framework's sign-off order adds submission before HWB
    approval (from ``agreed``) and the HWB's approval after it (from ``submitted``); a
    framework without national assurance goes from ``hwb_approved`` to monitoring. Given
    the caller's ``role``, the way back to draft is added where that role may take it.
    """
    steps: list[Transition] = []
    if not (state is State.ASSURED and outcome is Outcome.NOT_APPROVED):
        steps = [t for t in TRANSITIONS.values() if t.source is state]
        if state is State.AGREED and _submits_early(plan):
            steps.append(EARLY_SUBMIT)
        if state is State.SUBMITTED and _awaits_hwb(plan):
            steps = [LATE_APPROVAL]  # the assurance waits for it (target_state)
        if state is State.HWB_APPROVED and not _assured_nationally(plan):
            steps = [UNASSURED_MONITOR]
    if role is not None and state is not State.DRAFT and may_reopen(role, state):
        steps.append(reopen(state))
    return steps


def transition_for(step: Step, state: State, plan: Plan | None = None) -> Transition:
    """The transition ``step`` takes from ``state`` (the framework's order, given a plan)."""
    if step is Step.REOPEN:
        return reopen(state)
    if step is Step.SUBMIT and state is State.AGREED and _submits_early(plan):
        return EARLY_SUBMIT
    if step is Step.APPROVE and state is State.SUBMITTED and _awaits_hwb(plan):
        return LATE_APPROVAL
    if step is Step.MONITOR and state is State.HWB_APPROVED and not _assured_nationally(plan):
        return UNASSURED_MONITOR
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
    if step is Step.SUBMIT and not _assured_nationally(plan):
        fw = plan_framework(plan) if plan is not None else None
        raise WorkflowError(
            f"plans of the {fw.id if fw else ''} framework were not submitted to NHS England: "
            "start monitoring once the HWB approves"
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
    plan: Plan,
    step: Step,
    outcome: Outcome | None,
    on: dt.date | None,
    state: State | None = None,
) -> Plan:
    """The plan document as it is after ``step`` (status and dates; see the module tables).

    ``on`` is the date the step records (the HWB approval, the submission), as the user
    entered it; None keeps the date the plan already carries. ``state`` is the state the
    step is taken from; given ``agreed`` for a submission, the plan is submitted before
    HWB approval (``status: submitted``). A return to draft clears both dates: the plan
    is approved and submitted again.
    """
    update: dict[str, object] = {}
    if step is Step.APPROVE:
        update["status"] = PlanStatus.AGREED
        if on is not None:
            update["date_agreed"] = on
        when = on or plan.date_agreed
        if when is not None and any(
            s.date is None and is_hwb_sign_off(plan, s) for s in plan.sign_offs
        ):
            update["sign_offs"] = [
                s.model_copy(update={"date": when})
                if s.date is None and is_hwb_sign_off(plan, s)
                else s
                for s in plan.sign_offs
            ]
    elif step is Step.SUBMIT:
        if state is State.AGREED:
            update["status"] = PlanStatus.SUBMITTED
        if on is not None:
            update["date_submitted"] = on
    elif step is Step.ASSURE:
        if outcome is Outcome.NOT_APPROVED:
            update.update(status=PlanStatus.DRAFT, date_agreed=None, date_submitted=None)
        else:
            update["status"] = PlanStatus.APPROVED
    elif step is Step.REOPEN:
        update.update(status=PlanStatus.DRAFT, date_agreed=None, date_submitted=None)
    if not update:
        return plan
    # model_validate (not model_copy) so the changed plan is checked like any other
    return Plan.model_validate({**plan.model_dump(), **update})


# --- dates the user enters ---------------------------------------------------------------


def date_window(plan: Plan) -> tuple[dt.date, dt.date]:
    """The dates a plan may be approved or submitted on: the year before it to its end.

    The ``years-and-dates`` rule: a date after the plan's last year is an error, one more
    than a year before it starts a warning; a date entered in a form keeps within both.
    """
    first = fy_start_year(plan.financial_years[0])
    last = fy_start_year(plan.financial_years[-1])
    return dt.date(first - 1, 4, 1), dt.date(last + 1, 3, 31)


def check_step_date(
    plan: Plan, transition: Transition, on: dt.date | None, today: dt.date
) -> dt.date:
    """The date a step records, checked; :class:`StepDateError` saying what is allowed.

    ``on`` is the date the user entered (None: none entered, refused). It may not be in
    the future, must fall within :func:`date_window`, and a submission may not precede
    the HWB's approval where the framework asks for the approval first.
    """
    field = transition.records
    if field is None:
        raise StepDateError(f"'{transition.label}' records no date")
    what = DATE_LABELS[field]
    if on is None:
        raise StepDateError(f"Enter the {what[0].lower()}{what[1:]}, for example 12/03/2026")
    start, end = date_window(plan)
    years = " and ".join(dict.fromkeys((plan.financial_years[0], plan.financial_years[-1])))
    if on > today:
        raise StepDateError(
            f"{what} cannot be in the future: {format_uk_date(on)} is after today "
            f"({format_uk_date(today)})"
        )
    if not start <= on <= end:
        raise StepDateError(
            f"{what} must be between {format_uk_date(start)} and {format_uk_date(end)} "
            f"(the plan is for {years}): {format_uk_date(on)} is outside"
        )
    if (
        field == "date_submitted"
        and not _submits_early(plan)
        and plan.date_agreed is not None
        and on < plan.date_agreed
    ):
        fw = plan_framework(plan)
        raise StepDateError(
            f"{what} cannot be before the HWB's approval ({format_uk_date(plan.date_agreed)}): "
            f"the {fw.id if fw else 'modelled'} framework asks for the HWB's approval first"
        )
    return on


@dataclass
class DateField:
    """A workflow form's date field: its question, its hint and the value shown in it."""

    label: str
    hint: str
    value: str


def date_field(plan: Plan, transition: Transition) -> DateField | None:
    """The date field of a step's form (None for a step that records no date).

    Filled with the date the plan already carries (as ``12/03/2026``), else empty: never
    today's date by default.
    """
    if transition.records is None:
        return None
    start, end = date_window(plan)
    current: dt.date | None = getattr(plan, transition.records)
    hint = (
        f"For example 12/03/2026 or 12 March 2026. Between {format_uk_date(start)} and "
        f"{format_uk_date(end)}, and not after today."
    )
    if transition.records == "date_submitted" and not _submits_early(plan) and plan.date_agreed:
        hint += f" Not before the HWB's approval ({format_uk_date(plan.date_agreed)})."
    deadline = sign_off_rules(plan).submission_deadline
    if transition.records == "date_submitted" and deadline is not None:
        hint += f" The national deadline was {format_uk_date(deadline)}."
    value = current.strftime("%d/%m/%Y") if current else ""
    return DateField(transition.date_label, hint, value)


def late_note(plan: Plan, transition: Transition, on: dt.date | None) -> str | None:
    """A note for the history when a submission is dated after the framework's deadline.

    Recorded, not refused: the date says what happened (the deadline is
    ``sign_off.submission_deadline``, where a source gives it).
    """
    deadline = sign_off_rules(plan).submission_deadline
    if transition.records != "date_submitted" or on is None or deadline is None or on <= deadline:
        return None
    return f"Submitted after the national deadline ({format_uk_date(deadline)})."


# --- what each step checks -------------------------------------------------------------

#: Plan fields a step fills in itself: findings on them at a later step are not the user's
#: to fix now (the step's own date is checked when it is entered).
STEP_FILLED = frozenset(DATE_LABELS)


def _future_date(plan: Plan, on: dt.date | None) -> dt.date:
    """A stand-in for the dates later steps will record: the latest date known so far.

    The latest of the date entered, the plan's dates and the sign-offs' dates (so no
    sign-off looks late), else the day before the plan's first year starts.
    """
    known = [d for d in (on, plan.date_agreed, plan.date_submitted) if d is not None]
    known += [s.date for s in plan.sign_offs if s.date is not None]
    if known:
        return max(known)
    return dt.date(fy_start_year(plan.financial_years[0]), 3, 31)


def _forward(state: State, plan: Plan) -> list[Transition]:
    """The steps forward from ``state`` (no way back, assurance as approved)."""
    return [t for t in next_steps(state, None, plan) if t.step is not Step.REOPEN]


def _later_errors(plan: Plan, state: State, on: dt.date | None) -> list[tuple[Finding, str]]:
    """Rule errors at every state reachable from ``state``, with the step that meets them.

    Each later step is simulated with only what it asks for: a stand-in for its date
    (:func:`_future_date`) and an "approved" outcome. Findings on the fields those steps
    fill (:data:`STEP_FILLED`) are left out.
    """
    found: list[tuple[Finding, str]] = []
    seen: set[tuple[str, str, str]] = set()
    stand_in = _future_date(plan, on)

    def walk(current: State, doc: Plan, depth: int) -> None:
        if depth > len(State) + 1:  # the graph has no cycle; a bound all the same
            return
        for t in _forward(current, doc):
            outcome = Outcome.APPROVED if t.step is Step.ASSURE else None
            date = None
            if t.records is not None and getattr(doc, t.records) is None:
                date = stand_in
            after = apply_step(doc, t.step, outcome, date, current)
            for f in check_plan(after):
                key = (f.rule, f.path, f.message)
                if f.severity is Severity.ERROR and f.path not in STEP_FILLED and key not in seen:
                    seen.add(key)
                    found.append((f, t.label))
            target = target_state(t.step, current, outcome, doc)
            if (target, after) != (current, doc):
                walk(target, after, depth + 1)

    walk(state, plan, 0)
    return found


@dataclass(frozen=True)
class StepResult:
    """What a step would do: the new state and plan, and the rule errors that block it.

    ``errors`` are the plan's errors after the step and those a later step would meet
    (their message says which step needs them), all fixable before this step.
    """

    target: State
    plan: Plan
    errors: list[Finding]

    @property
    def allowed(self) -> bool:
        """True when no planning rule error blocks the step."""
        return not self.errors


def blockers(
    plan: Plan, state: State, step: Step, outcome: Outcome | None, on: dt.date | None
) -> StepResult:
    """Check a step against everything it and the steps after it will need.

    One list of checks per step, from the framework: the plan's rule errors as it would
    be after the step, then those any later step would meet (simulated with only the
    inputs each step asks for), except on the fields later steps fill in themselves (a
    date another step records is checked when that step is taken).
    So a plan the partners agree can always be approved, submitted, assured and
    monitored by entering dates and an outcome; nothing is left that only draft could fix.
    A return to draft ("not approved", or the way back) is never blocked.
    """
    target = target_state(step, state, outcome, plan)
    after = apply_step(plan, step, outcome, on, state)
    if target is State.DRAFT:
        return StepResult(target, after, [])
    # the step's own date, once entered, is checked with the rest; not yet entered (None:
    # a preview of what blocks the step), it is left out like the later steps' dates
    own = transition_for(step, state, plan).records if on is not None else None
    errors = [
        f
        for f in check_plan(after)
        if f.severity is Severity.ERROR and (f.path not in STEP_FILLED or f.path == own)
    ]
    seen = {_problem(f) for f in errors}
    for f, label in _later_errors(after, target, on):
        if _problem(f) not in seen:
            seen.add(_problem(f))
            needed = f"{f.message} (needed before '{label}')"
            errors.append(Finding(f.rule, f.severity, f.path, needed, f.file, f.line))
    return StepResult(target, after, errors)


def _problem(f: Finding) -> tuple[str, str, str]:
    """One problem, whatever state it is reported in: rule, path, message up to ':'.

    (The ``sign-off`` rule words the same missing date "required a plan with status
    'agreed'" and then "... 'approved'": the user has one thing to fix.)
    """
    return f.rule, f.path, f.message.split(":", 1)[0]


def take_step(
    plan: Plan, state: State, step: Step, outcome: Outcome | None, on: dt.date | None
) -> StepResult:
    """Check a step: the state it leads to, the updated plan and any blocking rule errors.

    The same as :func:`blockers` (the name the callers of earlier versions use).
    """
    return blockers(plan, state, step, outcome, on)
