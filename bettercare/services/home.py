"""The home page: a task list for the signed-in user's role.

- partner editor: for each plan of their HWB, the next workflow step and what blocks it
  (the workflow's own checks, :func:`bettercare.domain.workflow.take_step`, grouped by the
  section of the plan to fix);
- assurer: plans awaiting assurance, with the deadline where the framework records one
  (none does yet: "no deadline recorded", never a guessed date);
- care coordinator: care-plan reviews overdue or due soon, people without a joint care
  plan or a lead professional (counts, each a link to the filtered register);
- analyst: quarterly returns not yet recorded for plans in monitoring;
- admin: users locked out of signing in (with an unlock), and the returns due.

Every role also gets the list of plans it may see. The workflow is not changed here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from typing import Any

from sqlalchemy.orm import Session

from bettercare.data.plan_store import plan_of
from bettercare.data.tables import PlanRecord
from bettercare.domain.access import Action, Role
from bettercare.domain.dates import format_uk_date
from bettercare.domain.plan import Plan
from bettercare.domain.workflow import Outcome, State, WorkflowError, next_steps, take_step
from bettercare.services import care, users
from bettercare.services.access import Caller, may
from bettercare.services.plans import finding_groups, visible_plans

#: Status texts (and the NHS task list style each takes).
TO_FIX = "To fix"
READY = "Ready"
WAITING = "Waiting"
DONE = "Done"


@dataclass
class Task:
    """One row of the NHS task list: a name (linked), a hint, a status and sub-links."""

    name: str
    href: str | None
    status: str
    hint: str | None = None
    status_class: str = ""  # "" (a tag), "completed" or "cannot-start-yet"
    details: list[tuple[str, str | None]] = field(default_factory=list)


@dataclass
class TaskGroup:
    """A heading and its tasks (``empty`` is shown when there are none)."""

    id: str
    heading: str
    tasks: list[Task]
    empty: str
    intro: str | None = None


@dataclass
class HomePage:
    """The home page's model: the caller's task groups and the plans they can see."""

    groups: list[TaskGroup]
    plans: list[PlanRecord]
    role: str | None
    locked: list[tuple[str, dt.datetime]] = field(default_factory=list)

    def context(self) -> dict[str, Any]:
        """The template's context."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _outcome(record: PlanRecord) -> Outcome | None:
    return Outcome(record.assurance_outcome) if record.assurance_outcome else None


def _editor_task(caller: Caller, record: PlanRecord, plan: Plan) -> Task:
    """What the plan needs before its next workflow step (as the workflow checks it)."""
    state = State(record.state)
    href = f"/plans/{record.id}"
    steps = [
        t
        for t in next_steps(state, _outcome(record), plan)
        if may(caller, Action(t.action), record.hwb_code)
    ]
    if not steps:
        waiting = {
            State.SUBMITTED: "Waiting for NHS England's assurance",
            State.MONITORING: "In monitoring: quarterly returns",
        }.get(state, f"No step for you from '{state.value.replace('_', ' ')}'")
        return Task(record.title, href, WAITING, waiting, "cannot-start-yet")
    step = steps[0]
    try:
        # no date yet: the user enters it when taking the step (never today's by default)
        errors = take_step(plan, state, step.step, None, None).errors
    except WorkflowError as exc:
        return Task(record.title, href, WAITING, str(exc), "cannot-start-yet")
    if not errors:
        hint = f"Nothing blocks the next step: {step.label}"
        return Task(record.title, f"{href}#workflow", READY, hint)
    groups = finding_groups(record.id, errors)
    details: list[tuple[str, str | None]] = [
        (
            f"{g.title}: {g.errors} to fix",
            next((link for _, link in g.items if link), f"{href}#{g.slug}"),
        )
        for g in groups
    ]
    hint = f"{len(errors)} thing{'s' if len(errors) != 1 else ''} to fix before: {step.label}"
    return Task(record.title, href, TO_FIX, hint, details=details)


def _assurer_task(record: PlanRecord, plan: Plan) -> Task:
    submitted = format_uk_date(plan.date_submitted, "date not recorded")
    # No framework module records an assurance deadline yet (bettercare.domain.frameworks):
    # say so rather than guess one.
    hint = f"Submitted {submitted} · deadline: no deadline recorded"
    return Task(record.title, f"/plans/{record.id}#workflow", "Awaiting assurance", hint)


def _quarter_end(fy: str, quarter: int) -> dt.date:
    """The last day of a financial year's quarter (``2015/16`` Q4: 31 March 2016)."""
    start = int(fy[:4])
    return {
        1: dt.date(start, 6, 30),
        2: dt.date(start, 9, 30),
        3: dt.date(start, 12, 31),
        4: dt.date(start + 1, 3, 31),
    }[quarter]


def _returns_task(record: PlanRecord, plan: Plan, today: dt.date) -> Task | None:
    """The quarters ended without a recorded return (a plan in monitoring), or None."""
    missing = [
        (fy, q)
        for fy in sorted(plan.financial_years)
        for q in (1, 2, 3, 4)
        if _quarter_end(fy, q) < today and plan.quarter_report(fy, q) is None
    ]
    if not missing:
        return None
    names = ", ".join(f"{fy} Q{q}" for fy, q in missing[:4])
    more = f" and {len(missing) - 4} more" if len(missing) > 4 else ""
    return Task(
        record.title,
        f"/plans/{record.id}/returns",
        f"{len(missing)} due",
        f"No return recorded for {names}{more}",
    )


def home(
    db: Session,
    caller: Caller,
    today: dt.date,
    limits: users.LoginLimits | None = None,
) -> HomePage:
    """The caller's home page (the public: published board papers only)."""
    records = visible_plans(db, caller)
    role = caller.principal.role
    groups: list[TaskGroup] = []
    if caller.principal.anonymous:
        return HomePage(groups, records, None)
    loaded = [(r, plan_of(r)) for r in records]
    if role in (Role.PARTNER_EDITOR, Role.ADMIN):
        tasks = [
            _editor_task(caller, r, p)
            for r, p in loaded
            if may(caller, Action.EDIT_PLAN, r.hwb_code)
            and (role is Role.PARTNER_EDITOR or State(r.state) is not State.MONITORING)
        ]
        if role is Role.PARTNER_EDITOR or tasks:
            groups.append(
                TaskGroup(
                    "tasks-plans",
                    "Your plans: what each needs before its next step",
                    tasks,
                    "No plans of your Health and Wellbeing Board yet: import one.",
                )
            )
    if role in (Role.ASSURER, Role.ADMIN):
        tasks = [_assurer_task(r, p) for r, p in loaded if State(r.state) is State.SUBMITTED]
        groups.append(
            TaskGroup(
                "tasks-assurance",
                "Plans awaiting assurance",
                tasks,
                "No plan is awaiting assurance.",
            )
        )
    if role is Role.CARE_COORDINATOR:
        counts = care.review_counts(db, caller, today)
        rows = [
            ("overdue", "Care-plan reviews overdue", counts.overdue),
            ("due30", f"Reviews due in the next {care.DUE_SOON_DAYS} days", counts.due_soon),
            ("noplan", "People at risk without a joint care plan", counts.no_plan),
            ("nolead", "People at risk without a lead professional", counts.no_lead),
        ]
        tasks = [
            Task(
                name,
                f"/care?review={key}",
                str(n) if n else "None",
                status_class="" if n else "completed",
            )
            for key, name, n in rows
        ]
        groups.append(
            TaskGroup(
                "tasks-care",
                "Care-plan reviews and gaps",
                tasks,
                "",
                f"{counts.total} people at risk on your register.",
            )
        )
    if role in (Role.ANALYST, Role.ADMIN):
        tasks = [
            t
            for r, p in loaded
            if State(r.state) is State.MONITORING
            for t in [_returns_task(r, p, today)]
            if t is not None
        ]
        groups.append(
            TaskGroup(
                "tasks-returns",
                "Quarterly returns due",
                tasks,
                "No quarterly return is due for the plans in monitoring.",
            )
        )
    locked: list[tuple[str, dt.datetime]] = []
    if role is Role.ADMIN and limits is not None:
        locked = users.locked_usernames(db, limits)
    return HomePage(groups, records, str(role), locked)
