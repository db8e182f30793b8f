"""The care service without HTTP: direct care only, saves checked, every view audited."""

from __future__ import annotations

import datetime as dt

import pytest

from bettercare.data import care_register
from bettercare.errors import NotFound, NotPermitted
from bettercare.services import care

from .conftest import RUTLAND, events

NHS = "9997258401"  # a valid number of the 999 test range (modulus 11)


@pytest.fixture
def person(db) -> int:
    patient = care_register.add_patient(
        db, nhs_number=NHS, hwb_code=RUTLAND, given_name="Ann", family_name="Test"
    )
    care_register.add_assessment(db, patient, 0.4, "top 5%", [], "m", dt.date(2026, 1, 1))
    db.commit()
    return patient.id


def test_the_list_is_for_care_coordinators_and_audited(db, coordinator, editor, person) -> None:
    found = care.care_list(db, coordinator, None, None, dt.date(2026, 6, 1))
    assert [r.patient.id for r in found.rows] == [person] and found.total == 1
    assert events(db, action="view_care_list")[-1].actor == "coordinator"
    with pytest.raises(NotPermitted):
        care.care_list(db, editor, None, None, dt.date(2026, 6, 1))


def test_an_unknown_person_is_not_found(db, coordinator) -> None:
    with pytest.raises(NotFound):
        care.patient_page(db, coordinator, "999999")


def test_a_plan_with_a_bad_date_is_refused_by_field(db, coordinator, person) -> None:
    form = {
        "status": "active",
        "period_start": "1 May",
        "period_end": "",
        "review_due": "",
        "title": "",
        "version": "",
    }
    saved = care.save_care_plan(db, coordinator, str(person), form)
    assert saved.page is not None and saved.page.status == 422
    assert saved.page.errors == {
        "period_start": "Started: '1 May' is not a date: write it as 12/03/2026 or 12 March 2026."
    }
    assert events(db, action="edit_care_plan", outcome="invalid")


def test_a_plan_is_saved_then_a_stale_version_refused(db, coordinator, person) -> None:
    form = {
        "status": "active",
        "period_start": "2026-05-01",
        "period_end": "",
        "review_due": "2026-11-01",
        "title": "Joint plan",
        "version": "",
    }
    assert care.save_care_plan(db, coordinator, str(person), form).page is None
    page = care.patient_page(db, coordinator, str(person))
    assert (
        page.plan is not None and page.plan_form["review_due"] == "1 November 2026"
    )  # shown as typed in the UK
    stale = {**form, "version": str(page.plan.version + 1)}
    refused = care.save_care_plan(db, coordinator, str(person), stale)
    assert refused.page is not None and refused.page.status == 409
