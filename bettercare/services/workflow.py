"""The sign-off workflow in the web app: take one step on a stored plan, or go back to draft.

The steps, their checks, their order and who may return a plan to draft are the domain's
(:mod:`bettercare.domain.workflow`); this module adds scope, the plan version the page
showed (optimistic locking), the date the user entered (read with
:func:`bettercare.domain.dates.parse_uk_date`, never today's date by default), storing the
step in the plan's history and the audit log.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from bettercare.data.plan_store import plan_of, record_transition, save_plan
from bettercare.data.tables import PlanRecord
from bettercare.domain.access import Action, Principal
from bettercare.domain.dates import parse_uk_date
from bettercare.domain.findings import Finding
from bettercare.domain.workflow import (
    STEP_FILLED,
    Outcome,
    State,
    Step,
    StepDateError,
    Transition,
    WorkflowError,
    blockers,
    check_step_date,
    late_note,
    may_reopen,
    reopen_roles_text,
    transition_for,
)
from bettercare.errors import BadInput
from bettercare.services import audit
from bettercare.services.access import AccessRefused, Caller, permit
from bettercare.services.plans import PlanOverview, load_record, overview_of

#: The longest reason or note kept (the form field's limit).
MAX_NOTE = 2000


@dataclass(frozen=True)
class StepResult:
    """A step taken (``refused`` None) or refused: the overview to show again, with why."""

    plan_id: str
    refused: PlanOverview | None = None
    status: int = 303


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def blocked_message(
    transition: Transition, state: State, errors: list[Finding], principal: Principal
) -> str:
    """Why a step is refused, and the one thing the user can do about it.

    Never points to an impossible action: in draft, fix the plan; later, a date the step
    records can be entered again, other problems need the way back to draft, offered to
    the user only if their role may take it (else it names who may).
    """
    head = f"'{transition.label}' refused: the plan has {len(errors)} planning rule error(s)."
    if state is State.DRAFT:
        return f"{head} Fix them in the plan's forms (the findings link to them), then try again."
    own_date = [f for f in errors if f.path in STEP_FILLED]
    if own_date and len(own_date) == len(errors):
        return f"{head} Enter a different date and try again."
    if may_reopen(principal.role, state):
        way = "return the plan to draft (with a reason, below) to fix them"
    else:
        way = f"only {reopen_roles_text(state)} can return it to draft to fix them"
    if transition.records:  # a signature dated after the date entered, for instance
        return f"{head} Check the date you entered; otherwise {way}."
    return f"{head} {way[0].upper()}{way[1:]}."


def take(
    db: Session,
    caller: Caller,
    plan_id: str,
    step: Step,
    outcome: Outcome | None,
    note_text: str,
    version: int,
    today: dt.date | None = None,
    date_text: str | None = None,
) -> StepResult:
    """Take ``step`` on the plan; all or nothing.

    An assurance needs its ``outcome``; a step that records a date (HWB approval,
    submission) needs ``date_text`` as the user typed it (``12/03/2026``, ``12 March
    2026`` or ISO), checked against the plan's years and the framework's order; a return
    to draft (:attr:`Step.REOPEN`) needs a reason in ``note_text``. ``today`` is the date
    a recorded date may not be after (default: today, UTC).
    """
    note = note_text.strip()[:MAX_NOTE] or None
    record = load_record(db, plan_id)
    plan = plan_of(record)
    state = State(record.state)
    target = f"plan:{plan_id}"
    try:
        transition = transition_for(step, state, plan)
    except WorkflowError:  # a way back from draft: checked below, after the permission
        transition = Transition(step, state, State.DRAFT, Action.REOPEN_PLAN.value, "Return")
    permit(db, caller, Action(transition.action), target, record.hwb_code)
    if (
        step is Step.REOPEN
        and state is not State.DRAFT
        and not may_reopen(caller.principal.role, state)
    ):
        _deny(db, caller, record, transition.action, state)

    def refuse(
        status: int,
        outcome_code: str,
        message: str,
        blocking: list[Finding],
        field_id: str | None = None,
    ) -> StepResult:
        audit.record(
            db,
            caller.principal,
            str(transition.action),
            target,
            outcome_code,
            detail=message[:2000],
            ip=caller.ip,
            hwb_code=record.hwb_code,
        )
        db.commit()
        view = overview_of(db, caller, record, plan)
        view.message = message
        view.blocking = blocking
        if field_id:
            view.step_errors = {field_id: message}
        if date_text is not None and step.value in view.step_dates:
            view.step_dates[step.value].value = date_text[:40]  # as typed, to correct
        return StepResult(plan_id, view, status)

    if version != record.version:
        return refuse(
            409,
            audit.CONFLICT,
            "The plan changed since you opened this page "
            f"(now version {record.version}, by {record.updated_by}): check it and try again.",
            [],
        )
    if step is Step.REOPEN and note is None:
        return refuse(
            422,
            audit.INVALID,
            "Give the reason for returning the plan to draft.",
            [],
            field_id(step, "reason"),
        )
    on: dt.date | None = None
    try:
        if transition.records is not None and transition.source is state:
            on = check_step_date(plan, transition, _typed(transition, date_text), today or _today())
        result = blockers(plan, state, step, outcome, on)
    except BadInput as exc:
        message = str(exc).rstrip(".") + "."
        return refuse(422, audit.INVALID, message, [], field_id(step, "date"))
    except WorkflowError as exc:
        return refuse(409, audit.INVALID, f"Not possible: {exc}.", [])
    if not result.allowed:
        message = blocked_message(transition, state, result.errors, caller.principal)
        return refuse(409, audit.INVALID, message, result.errors)
    late = late_note(plan, transition, on)
    if late:
        note = f"{note} ({late})" if note else late
    before = {"state": record.state, "outcome": record.assurance_outcome}
    after: dict[str, str | None] = {
        "state": str(result.target),
        "outcome": outcome and str(outcome),
        "note": note,
    }
    if on is not None and transition.records:
        after[transition.records] = on.isoformat()
    try:
        if result.plan != plan:
            save_plan(db, record, result.plan, caller.username)
        record_transition(db, record, result.target, outcome, caller.username, note)
        audit.record(
            db,
            caller.principal,
            str(transition.action),
            target,
            before=before,
            after=after,
            ip=caller.ip,
            hwb_code=record.hwb_code,
        )
        db.commit()
    except StaleDataError:
        db.rollback()
        return refuse(
            409,
            audit.CONFLICT,
            "Someone else changed the plan at the same moment: check it and try again.",
            [],
        )
    return StepResult(plan_id)


def field_id(step: Step, name: str) -> str:
    """The id of a workflow form's field (``date-submit``, ``reason-reopen``)."""
    return f"{name}-{step.value}"


def _typed(transition: Transition, text: str | None) -> dt.date | None:
    """The date the user typed for the step (None if nothing), read the UK way."""
    if text is None or not text.strip():
        return None
    try:
        return parse_uk_date(text)
    except BadInput as exc:
        raise StepDateError(f"{transition.date_label}: {exc}") from None


def _deny(db: Session, caller: Caller, record: PlanRecord, action: str, state: State) -> None:
    """Audit and raise the refusal of a way back this role may not take from ``state``."""
    target = f"plan:{record.id}"
    audit.record(
        db,
        caller.principal,
        action,
        target,
        audit.DENIED,
        ip=caller.ip,
        hwb_code=record.hwb_code,
        detail=f"a {caller.principal.role} may not return a plan in state '{state}' to draft",
    )
    db.commit()
    raise AccessRefused(caller.principal, action, target)
