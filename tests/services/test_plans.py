"""The plans service without HTTP: scope, refusals audited, import, publish, saving a form."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bettercare.data.plan_store import get_plan, plan_of
from bettercare.errors import NotFound, NotPermitted
from bettercare.services import plans

from .conftest import RUTLAND_PLAN, events


def test_an_editor_sees_the_plans_of_their_hwb_only(db, editor) -> None:
    assert [r.id for r in plans.visible_plans(db, editor)] == [RUTLAND_PLAN]


def test_the_public_sees_published_plans_only(db, editor, public) -> None:
    assert plans.visible_plans(db, public) == []
    plans.publish(db, editor, RUTLAND_PLAN, True)
    assert [r.id for r in plans.visible_plans(db, public)] == [RUTLAND_PLAN]


def test_another_hwbs_plan_is_refused_and_the_refusal_audited(db, leicester_editor) -> None:
    with pytest.raises(NotPermitted):
        plans.overview(db, leicester_editor, RUTLAND_PLAN)
    [denied] = events(db, outcome="denied")
    assert (denied.actor, denied.target, denied.action) == (
        "editor_leicester",
        f"plan:{RUTLAND_PLAN}",
        "view_plan",
    )
    assert denied.ip == "192.0.2.1"


def test_an_unknown_plan_is_not_found(db, editor) -> None:
    with pytest.raises(NotFound, match="no plan 'nope'"):
        plans.overview(db, editor, "nope")


def test_overview_offers_the_steps_the_role_may_take(db, editor) -> None:
    view = plans.overview(db, editor, RUTLAND_PLAN)
    assert view.can_edit and view.editable
    assert [t.step for t in view.steps] == ["agree"]  # a draft is agreed next


def test_import_refuses_an_existing_plan_id(db, editor) -> None:
    text = plans.export(db, editor, RUTLAND_PLAN).text.encode()
    result = plans.import_file(db, editor, text, "rutland.yaml")
    assert result.plan_id is None and result.status == 409
    assert events(db, action="import_plan", outcome="conflict")


def test_import_of_a_broken_file_names_the_file_and_saves_nothing(db, editor) -> None:
    result = plans.import_file(db, editor, b"plan_id: [unclosed", "broken.yaml")
    assert result.status == 422 and result.findings
    assert all(str(f).startswith("broken.yaml") for f in result.findings)


def test_a_save_with_a_stale_version_is_refused_and_the_input_kept(db, editor) -> None:
    record = get_plan(db, RUTLAND_PLAN)
    form = plans.open_form(db, editor, RUTLAND_PLAN, "schemes", 0)
    values = {**form.values, "name": "Renamed", "version": str(record.version - 1)}
    result = plans.save_form(db, editor, RUTLAND_PLAN, "schemes", 0, values)
    assert result.status == 409 and result.form is not None
    assert result.form.values["name"] == "Renamed"
    assert plan_of(get_plan(db, RUTLAND_PLAN)).schemes[0].name == "Community Agents"


def test_a_save_stores_the_item_and_moves_the_version_on(db, editor) -> None:
    version = get_plan(db, RUTLAND_PLAN).version
    form = plans.open_form(db, editor, RUTLAND_PLAN, "schemes", 0)
    values = {**form.values, "name": "Community Agents (extended)", "version": str(version)}
    result = plans.save_form(db, editor, RUTLAND_PLAN, "schemes", 0, values)
    assert result.redirect == f"/plans/{RUTLAND_PLAN}/schemes/0?saved=true"
    record = get_plan(db, RUTLAND_PLAN)
    assert plan_of(record).schemes[0].name == "Community Agents (extended)"
    assert record.version == version + 1


def test_an_item_past_the_end_is_not_found(db, editor) -> None:
    with pytest.raises(NotFound, match="no scheme 999"):
        plans.open_form(db, editor, RUTLAND_PLAN, "schemes", 999)


def test_typed_money_is_read_as_en_gb(db, editor) -> None:
    version = get_plan(db, RUTLAND_PLAN).version
    form = plans.open_form(db, editor, RUTLAND_PLAN, "schemes", 0)
    refused = plans.save_form(
        db,
        editor,
        RUTLAND_PLAN,
        "schemes",
        0,
        {**form.values, "spend.2014/15": "12.345", "version": str(version)},
    )
    assert refused.status == 422 and refused.form is not None
    assert "3 decimal places" in str(refused.form.notes.by_field["spend.2014/15"][0])
    saved = plans.save_form(
        db,
        editor,
        RUTLAND_PLAN,
        "schemes",
        0,
        {**form.values, "spend.2014/15": "£1,234.50", "version": str(version)},
    )
    assert saved.redirect is not None
    assert plan_of(get_plan(db, RUTLAND_PLAN)).schemes[0].spend["2014/15"] == Decimal("1234.50")
