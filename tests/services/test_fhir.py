"""The FHIR service without HTTP: strict search, scope, refusals audited."""

from __future__ import annotations

import datetime as dt

import pytest

from bettercare.data import care_register
from bettercare.errors import NotPermitted
from bettercare.services import fhir
from bettercare.services.fhir_resources import FhirError

from .conftest import RUTLAND, events

NHS = "9997258401"  # a valid number of the 999 test range (modulus 11)


@pytest.fixture
def person(db) -> int:
    patient = care_register.add_patient(db, nhs_number=NHS, hwb_code=RUTLAND, family_name="Test")
    care_register.add_assessment(db, patient, 0.4, "top 5%", [], "m", dt.date(2026, 1, 1))
    db.commit()
    return patient.id


def test_search_by_nhs_number_finds_the_patient(db, coordinator, person) -> None:
    page = fhir.search(db, coordinator, "Patient", [("identifier", NHS)], f"identifier={NHS}")
    assert page.total == 1 and [e["id"] for e in page.entries] == [str(person)]
    # the audit target masks the NHS number
    assert NHS not in events(db, action="fhir.search")[-1].target


def test_an_unknown_search_parameter_is_400_and_audited(db, coordinator) -> None:
    with pytest.raises(FhirError) as caught:
        fhir.search(db, coordinator, "Patient", [("colour", "red")], "colour=red")
    assert (caught.value.status, caught.value.code) == (400, "not-supported")
    assert events(db, action="fhir.search", outcome="invalid")


def test_an_invalid_nhs_number_is_422(db, coordinator) -> None:
    with pytest.raises(FhirError) as caught:
        fhir.search(db, coordinator, "Patient", [("identifier", "9997258402")], "")
    assert caught.value.status == 422


def test_a_read_is_for_care_coordinators_only(db, editor, coordinator, person) -> None:
    found = fhir.read(db, coordinator, "Patient", str(person))
    assert found.body["resourceType"] == "Patient"
    with pytest.raises(NotPermitted):
        fhir.read(db, editor, "Patient", str(person))


def test_an_unknown_resource_is_404(db, coordinator) -> None:
    with pytest.raises(FhirError) as caught:
        fhir.read(db, coordinator, "CarePlan", "424242")
    assert caught.value.status == 404


# --- Patient/$everything start and end ------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ([], (None, None)),
        ([("start", "2024-02-10")], (dt.date(2024, 2, 10), None)),
        ([("end", "2024")], (None, dt.date(2024, 12, 31))),
        # a month covers its whole month: February 2024 has 29 days
        ([("start", "2024-02"), ("end", "2024-02")], (dt.date(2024, 2, 1), dt.date(2024, 2, 29))),
        ([("start", "2023"), ("end", "2023-12")], (dt.date(2023, 1, 1), dt.date(2023, 12, 31))),
    ],
)
def test_everything_period_reads_fhir_dates(params, expected) -> None:
    assert fhir.everything_period(params) == expected


@pytest.mark.parametrize(
    ("params", "where", "code"),
    [
        ([("start", "2024-13-01")], ["start"], "invalid"),
        ([("end", "2023-02-29")], ["end"], "invalid"),  # not a leap year
        ([("start", "01/02/2024")], ["start"], "invalid"),
        ([("start", "2024-02-01T10:00:00Z")], ["start"], "invalid"),  # dateTime, not date
        ([("start", "2024-05-01"), ("end", "2024-04-30")], ["start", "end"], "invalid"),
        ([("start", "2024"), ("start", "2025")], ["start"], "invalid"),
        ([("_since", "2024-01-01")], ["_since"], "not-supported"),
    ],
)
def test_everything_period_refuses_bad_parameters(params, where, code) -> None:
    with pytest.raises(FhirError) as caught:
        fhir.everything_period(params)
    assert caught.value.status == 400
    assert caught.value.code == code and list(caught.value.expression) == where
