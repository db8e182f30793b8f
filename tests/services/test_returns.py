"""The returns service without HTTP: quarters in URLs, downloads, recording checked."""

from __future__ import annotations

import pytest

from bettercare.data.plan_store import get_plan, plan_of
from bettercare.data.returns import ReturnError
from bettercare.errors import NotFound, NotPermitted
from bettercare.services import returns

from .conftest import RUTLAND_PLAN, events


def test_a_quarter_in_a_url_and_back() -> None:
    assert returns.quarter_slug("2025/26", 2) == "2025-26-Q2"
    assert returns.parse_quarter_slug("2025-26-Q2") == ("2025/26", 2)
    with pytest.raises(ReturnError, match="write it as 2025-26-Q2"):
        returns.parse_quarter_slug("2025/26 Q2")


def test_a_quarter_outside_the_plan_is_not_found(db, editor) -> None:
    with pytest.raises(NotFound):
        returns.workbook(db, editor, RUTLAND_PLAN, "2030-31-Q1")


def test_the_workbook_is_named_by_plan_and_quarter(db, editor) -> None:
    book = returns.workbook(db, editor, RUTLAND_PLAN, "2014-15-Q3")
    assert book.filename == "rutland-2014_2014-15-Q3.xlsx"
    assert book.content[:2] == b"PK"  # an XLSX is a zip file


def test_another_hwb_may_not_upload(db, leicester_editor) -> None:
    with pytest.raises(NotPermitted):
        returns.may_upload(db, leicester_editor, RUTLAND_PLAN)


def test_a_return_not_read_by_this_server_is_not_recorded(db, editor) -> None:
    version = get_plan(db, RUTLAND_PLAN).version
    done = returns.record_return(db, editor, RUTLAND_PLAN, "{}", version, signed=False)
    assert done.refused is not None and done.refused.status == 422
    assert plan_of(get_plan(db, RUTLAND_PLAN)).quarterly_reports == []
    assert events(db, action="record_return", outcome="invalid")


def test_a_malformed_return_is_refused_with_its_first_line(db, editor) -> None:
    version = get_plan(db, RUTLAND_PLAN).version
    done = returns.record_return(db, editor, RUTLAND_PLAN, "{}", version, signed=True)
    assert done.refused is not None and done.refused.status == 422
    assert (done.refused.error or "").startswith("Not recorded:")
