"""The evaluation page's use case: scope, form errors and the effects."""

from __future__ import annotations

import pytest
from analytics.synthetic_store import CHANGE, tables, write_store
from sqlalchemy import select

from bettercare.app.db import make_engine, migrate, session_factory
from bettercare.app.models import AuditEvent
from bettercare.app.security import Principal, Role
from bettercare.data.synth.effects import InjectedEffect, inject
from bettercare.errors import NotPermitted
from bettercare.services.evaluation import evaluation_page

RUTLAND, LEICESTER = "E06000017", "E06000016"
ANALYST = Principal("analyst", Role.ANALYST, RUTLAND, user_id=1)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("evaluation-page") / "store.duckdb"
    cut, _ = inject(
        tables(), InjectedEffect(start=CHANGE, relative_change=-0.5, practices=["C82001"]), 3
    )
    write_store(cut, path).close()
    return path


@pytest.fixture()
def db(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    migrate(engine)
    with session_factory(engine)() as session:
        yield session
    engine.dispose()


def test_the_form_lists_the_hwb_practices(db, store):
    page = evaluation_page(db, ANALYST, store, hwb=None)
    assert page.hwb == RUTLAND and "C82001" in page.practices and page.evaluation is None


def test_a_cut_in_one_practice_is_found(db, store):
    page = evaluation_page(
        db, ANALYST, store, hwb=None, change_date=CHANGE.isoformat(), treated=["C82001"]
    )
    assert page.error == ""
    by = {e.method: e for e in page.evaluation.effects}
    assert set(by) == {"interrupted time series", "difference-in-differences", "synthetic control"}
    assert by["difference-in-differences"].ci_high < 0


@pytest.mark.parametrize(
    ("date", "treated", "message"),
    [
        ("2024-13-01", ["C82001"], "is not a date"),
        ("2024-04-01", ["Z99999"], "not a practice of this HWB"),
        ("2024-04-01", [], "Choose the practices"),
    ],
)
def test_form_errors(db, store, date, treated, message):
    page = evaluation_page(db, ANALYST, store, hwb=None, change_date=date, treated=treated)
    assert message in page.error and page.evaluation is None


def test_no_store(db):
    assert "No analytics store" in evaluation_page(db, ANALYST, None, hwb=None).error


def test_another_hwb_and_the_public_are_refused(db, store):
    with pytest.raises(NotPermitted):
        evaluation_page(db, ANALYST, store, hwb=LEICESTER)
    with pytest.raises(NotPermitted):
        evaluation_page(db, Principal("anonymous", Role.PUBLIC), store, hwb=RUTLAND)
    outcomes = [e.outcome for e in db.scalars(select(AuditEvent))]
    assert outcomes == ["denied", "denied"]
    # an assurer reads every HWB
    page = evaluation_page(db, Principal("a", Role.ASSURER, None, user_id=2), store, hwb=RUTLAND)
    assert page.practices
