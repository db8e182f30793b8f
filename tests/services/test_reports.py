"""The dashboard and board pack services without HTTP: who may see what."""

from __future__ import annotations

import pytest

from bettercare.errors import NotPermitted
from bettercare.services import board_pack, dashboard, plans

from .conftest import RUTLAND_PLAN


def test_the_public_reads_the_pack_of_a_published_plan_only(db, editor, public) -> None:
    with pytest.raises(NotPermitted):
        board_pack.pack_plan(db, public, RUTLAND_PLAN)
    plans.publish(db, editor, RUTLAND_PLAN, True)
    assert board_pack.pack_plan(db, public, RUTLAND_PLAN).id == RUTLAND_PLAN


def test_the_dashboard_is_refused_to_the_public_even_when_published(db, editor, public) -> None:
    plans.publish(db, editor, RUTLAND_PLAN, True)
    with pytest.raises(NotPermitted):
        dashboard.metrics_plan(db, public, RUTLAND_PLAN)
    record, plan = dashboard.metrics_plan(db, editor, RUTLAND_PLAN)
    assert record.id == plan.plan_id == RUTLAND_PLAN


def test_scoped_svg_prefixes_ids_and_their_references() -> None:
    svg = '<svg><clipPath id="p1"/><g clip-path="url(#p1)"/><use href="#p1"/></svg>'
    assert dashboard.scoped_svg(svg, "c1") == (
        '<svg><clipPath id="c1-p1"/><g clip-path="url(#c1-p1)"/><use href="#c1-p1"/></svg>'
    )


def test_numbers_for_table_cells() -> None:
    assert [dashboard.number(x) for x in (1234.5, None, float("nan"))] == ["1,234.50", "—", "—"]


def test_the_dashboard_counts_rows_by_rag(db, editor) -> None:
    from types import SimpleNamespace

    _, plan = dashboard.metrics_plan(db, editor, RUTLAND_PLAN)
    rows = [SimpleNamespace(rag=r) for r in ("GREEN", "RED", "GREEN", None)]
    charts = SimpleNamespace(board=[{"row": r} for r in rows] + [{"row": None}], schemes=[])
    context = dashboard.dashboard_context(plan, SimpleNamespace(charts=charts, linked=None))
    assert context["rag_counts"] == {"GREEN": 2, "AMBER": 0, "RED": 1}
    assert context["p4p"] is None  # not measured yet


def test_a_plan_not_yet_measured_shows_no_board(db, editor) -> None:
    from types import SimpleNamespace

    _, plan = dashboard.metrics_plan(db, editor, RUTLAND_PLAN)
    context = dashboard.dashboard_context(plan, SimpleNamespace(charts=None, linked=None))
    assert context["board"] == [] and context["schemes"] == []
