"""The evaluation page's use case: scope, form errors and the effects."""

from __future__ import annotations

from datetime import date

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
        ("2024-13-01", ["C82001"], "Change date: '2024-13-01' has no month 13"),
        ("31/02/2024", ["C82001"], "Change date: "),
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


def test_a_staggered_rollout_gives_practices_their_own_start(db, store):
    # C82001 is cut from the change date; C82004 is said to start six months earlier
    page = evaluation_page(
        db,
        ANALYST,
        store,
        hwb=None,
        change_date=CHANGE.isoformat(),
        treated=["C82001", "C82004"],
        starts={"C82004": "2023-10-01", "C82001": " "},
    )
    assert page.error == "" and page.starts == {"C82004": "2023-10-01"}
    assert page.evaluation.spec.starts == {"C82004": date(2023, 10, 1)}
    by = {e.method: e for e in page.evaluation.effects}
    assert "staggered" in by["interrupted time series"].reason
    assert "staggered" in by["synthetic control"].reason
    did = by["difference-in-differences"]
    assert did.estimable
    assert [c["start"] for c in did.details["cohorts"]] == ["2023-10-01", "2024-04-01"]


@pytest.mark.parametrize(
    ("starts", "message"),
    [
        ({"C82004": "2023-10-01"}, "Practice C82004 has a start date but is not ticked"),
        ({"C82001": "1/13/2023"}, "Start date of practice C82001: '1/13/2023' has no month 13"),
    ],
)
def test_staggered_start_errors(db, store, starts, message):
    page = evaluation_page(
        db,
        ANALYST,
        store,
        hwb=None,
        change_date=CHANGE.isoformat(),
        treated=["C82001"],
        starts=starts,
    )
    assert message in page.error and page.evaluation is None


def test_dates_are_taken_as_every_form_takes_them(db, store):
    typed = f"{CHANGE.day} {CHANGE.strftime('%B')} {CHANGE.year}"  # e.g. 1 April 2024
    page = evaluation_page(
        db,
        ANALYST,
        store,
        hwb=None,
        change_date=typed,
        treated=["C82001", "C82004"],
        starts={"C82004": "1/10/2023"},
    )
    assert page.error == ""
    assert page.evaluation.spec.change_date == CHANGE
    assert page.evaluation.spec.starts == {"C82004": date(2023, 10, 1)}
