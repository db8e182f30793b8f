"""The workflow service without HTTP: version checks, rule errors block, history kept."""

from __future__ import annotations

import datetime as dt

import pytest

from bettercare.data.plan_store import get_plan, history
from bettercare.domain.workflow import Step
from bettercare.errors import NotPermitted
from bettercare.services import workflow

from .conftest import RUTLAND_PLAN, events


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
