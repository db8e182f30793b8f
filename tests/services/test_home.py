"""The home page's task lists, one per role, without HTTP."""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime, timedelta

from bettercare.data.plan_store import get_plan, plan_of
from bettercare.data.tables import LoginAttempt
from bettercare.domain.access import Role
from bettercare.domain.findings import Severity
from bettercare.domain.rules import check_plan
from bettercare.domain.workflow import State, Step, take_step
from bettercare.pipelines.care_demo import demo_register
from bettercare.services import care, home, users

from .conftest import RUTLAND, RUTLAND_PLAN, events, user

TODAY = dt.date(2026, 12, 4)
LIMITS = users.LoginLimits(window_seconds=900, per_user=5, per_ip=100)


def _set_state(db, state: str) -> None:
    record = get_plan(db, RUTLAND_PLAN)
    assert record is not None
    record.state = state
    db.commit()


def test_the_editor_sees_what_blocks_the_next_step(db, editor) -> None:
    page = home.home(db, editor, TODAY)
    [group] = page.groups
    [task] = group.tasks
    record = get_plan(db, RUTLAND_PLAN)
    assert record is not None
    plan = plan_of(record)
    now = [f for f in check_plan(plan) if f.severity is Severity.ERROR]
    # the workflow's own checks: the errors now, and what the later steps will need
    # (Rutland's sign-offs lack dates and a name: needed before the HWB's approval)
    errors = take_step(plan, State.DRAFT, Step.AGREE, None, None).errors
    assert task.name == record.title
    assert now and set(now) < set(errors)  # each is a thing to fix
    assert task.status == home.TO_FIX
    assert task.hint == f"{len(errors)} things to fix before: Agreed by partners"
    assert sum(int(text.split(": ")[1].split()[0]) for text, _ in task.details) == len(errors)


def test_a_submitted_plan_waits_for_the_assurer_with_no_invented_deadline(db, editor) -> None:
    assurer = user(db, "assurer", Role.ASSURER)
    _set_state(db, "submitted")
    page = home.home(db, assurer, TODAY)
    [group] = page.groups
    assert group.heading == "Plans awaiting assurance"
    [task] = [t for t in group.tasks if t.href == f"/plans/{RUTLAND_PLAN}#workflow"]
    assert task.hint is not None and task.hint.endswith("deadline: no deadline recorded")
    [editor_task] = home.home(db, editor, TODAY).groups[0].tasks
    assert editor_task.status == home.WAITING  # the editor waits for the outcome


def test_the_analyst_sees_returns_due_for_a_plan_in_monitoring(db) -> None:
    analyst = user(db, "analyst", Role.ANALYST, RUTLAND)
    assert home.home(db, analyst, TODAY).groups[0].tasks == []
    _set_state(db, "monitoring")
    [task] = home.home(db, analyst, TODAY).groups[0].tasks
    # 2014/15 and 2015/16, four quarters each, all ended before 2026, none recorded
    assert task.status == "8 due" and task.href == f"/plans/{RUTLAND_PLAN}/returns"
    assert (
        task.hint
        == "No return recorded for 2014/15 Q1, 2014/15 Q2, 2014/15 Q3, 2014/15 Q4 and 4 more"
    )


def test_the_coordinator_sees_reviews_due_as_counts(db, coordinator) -> None:
    demo_register(db, RUTLAND, 40, TODAY, seed=3)
    db.commit()
    [group] = home.home(db, coordinator, TODAY).groups
    assert group.intro == "40 people at risk on your register."
    for task in group.tasks:
        key = (task.href or "").split("review=")[1]
        listed = care.care_list(db, coordinator, None, None, TODAY, review=key)
        assert task.status == (str(listed.matched) if listed.matched else "None"), key


def test_the_admin_sees_locked_users_and_unlocks_them(db, admin) -> None:
    now = datetime.now(UTC)
    for minutes in (9, 7, 5, 3, 1):
        db.add(
            LoginAttempt(
                username="editor",
                ip="192.0.2.7",
                success=False,
                at=now - timedelta(minutes=minutes),
            )
        )
    db.add(LoginAttempt(username="analyst", ip="192.0.2.7", success=False, at=now))
    db.commit()
    page = home.home(db, admin, TODAY, LIMITS)
    [(name, until)] = page.locked  # four more failures would lock the analyst too
    assert name == "editor"
    assert abs((until - (now - timedelta(minutes=9) + timedelta(seconds=900))).total_seconds()) < 2
    users.unlock(db, admin, "editor")
    assert home.home(db, admin, TODAY, LIMITS).locked == []
    [event] = events(db, action="unlock_user")
    assert (event.actor, event.target) == ("admin", "user:editor")


def test_the_public_gets_no_tasks(db, public) -> None:
    page = home.home(db, public, TODAY)
    assert page.groups == [] and page.plans == []
