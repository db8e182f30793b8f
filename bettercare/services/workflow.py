"""The sign-off workflow in the web app: take one step on a stored plan.

The steps, their checks and their order are the domain's
(:mod:`bettercare.domain.workflow`); this module adds scope, the plan version the page
showed (optimistic locking), storing the step in the plan's history and the audit log.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from bettercare.data.plan_store import plan_of, record_transition, save_plan
from bettercare.domain.access import Action
from bettercare.domain.findings import Finding
from bettercare.domain.workflow import TRANSITIONS, Outcome, State, Step, WorkflowError, take_step
from bettercare.services import audit
from bettercare.services.access import Caller, permit
from bettercare.services.plans import PlanOverview, load_record, overview_of


@dataclass(frozen=True)
class StepResult:
    """A step taken (``refused`` None) or refused: the overview to show again, with why."""

    plan_id: str
    refused: PlanOverview | None = None
    status: int = 303


def take(
    db: Session,
    caller: Caller,
    plan_id: str,
    step: Step,
    outcome: Outcome | None,
    note_text: str,
    version: int,
    today: dt.date | None = None,
) -> StepResult:
    """Take ``step`` on the plan (an assurance needs its ``outcome``); all or nothing."""
    note = note_text.strip() or None
    transition = TRANSITIONS[step]
    record = load_record(db, plan_id)
    target = f"plan:{plan_id}"
    permit(db, caller, Action(transition.action), target, record.hwb_code)
    plan = plan_of(record)

    def refuse(status: int, outcome_code: str, message: str, blocking: list[Finding]) -> StepResult:
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
        return StepResult(plan_id, view, status)

    if version != record.version:
        return refuse(
            409,
            audit.CONFLICT,
            "The plan changed since you opened this page "
            f"(now version {record.version}, by {record.updated_by}): check it and try again.",
            [],
        )
    try:
        result = take_step(
            plan, State(record.state), step, outcome, today or dt.datetime.now(dt.UTC).date()
        )
    except WorkflowError as exc:
        return refuse(409, audit.INVALID, f"Not possible: {exc}.", [])
    if not result.allowed:
        return refuse(
            409,
            audit.INVALID,
            f"'{transition.label}' refused: the plan has {len(result.errors)} planning rule "
            "error(s). Fix them in draft first.",
            result.errors,
        )
    before = {"state": record.state, "outcome": record.assurance_outcome}
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
            after={"state": str(result.target), "outcome": outcome and str(outcome), "note": note},
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
