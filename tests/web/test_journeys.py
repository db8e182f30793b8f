"""The journey page and FHIR $everything over HTTP: scope, no-store, audit, valid FHIR."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from analytics.synthetic_store import tables, write_store
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select

from bettercare.app.models import AuditEvent
from bettercare.app.security import Role
from bettercare.app.seed import create_user
from bettercare.data import care_register

from .conftest import LEICESTER, PASSWORD, RUTLAND


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("journey-web") / "store.duckdb"
    con = write_store(tables(population=1500), path)
    person = con.execute(
        """SELECT s.person_id FROM hospital_spells s JOIN residents r USING (person_id)
        WHERE r.date_of_death IS NOT NULL GROUP BY s.person_id ORDER BY count(*) DESC,
        s.person_id LIMIT 1"""
    ).fetchone()[0]
    con.close()
    return path, person


@pytest.fixture
def patient_id(app, store):
    path, person = store
    app.state.settings = app.state.settings.model_copy(update={"store": path})
    with app.state.sessions() as db:
        p = care_register.add_patient(db, nhs_number=person, hwb_code=RUTLAND, person_id=person)
        create_user(db, "coordinator_leicester", PASSWORD, Role.CARE_COORDINATOR, LEICESTER)
        db.commit()
        return p.id


def test_the_coordinator_sees_the_journey_not_cached(app, client, login, patient_id):
    login("coordinator")
    r = client.get(f"/care/patients/{patient_id}/journey")
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    assert 'id="journey"' in r.text and "hospital spell" in r.text and "death" in r.text
    with app.state.sessions() as db:
        last = db.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert (last.actor, last.action, last.outcome) == ("coordinator", "view_journey", "ok")


def test_everything_bundle_is_valid_fhir(app, client, login, patient_id):
    login("coordinator")
    r = client.get(f"/fhir/Patient/{patient_id}/$everything")
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["content-type"].startswith("application/fhir+json")
    body = r.json()
    Bundle.model_validate(body)
    kinds = [e["resource"]["resourceType"] for e in body["entry"]]
    assert kinds[0] == "Patient" and "Encounter" in kinds
    assert "deceasedDateTime" in body["entry"][0]["resource"]
    assert all(
        e["resource"].get(
            "subject", e["resource"].get("patient", {"reference": f"Patient/{patient_id}"})
        )["reference"]
        == f"Patient/{patient_id}"
        for e in body["entry"][1:]
    )


@pytest.mark.parametrize("user", ["analyst", "admin", "coordinator_leicester"])
def test_everyone_else_is_refused(app, client, login, patient_id, user):
    login(user)
    assert client.get(f"/care/patients/{patient_id}/journey").status_code == 403
    r = client.get(f"/fhir/Patient/{patient_id}/$everything")
    assert r.status_code == 403 and r.json()["resourceType"] == "OperationOutcome"


def test_anonymous_and_unknown(client, login, patient_id):
    r = client.get(f"/fhir/Patient/{patient_id}/$everything")
    assert r.status_code == 401
    login("coordinator")
    assert client.get("/care/patients/999999/journey").status_code == 404
    r = client.get("/fhir/Patient/999999/$everything")
    assert r.status_code == 404 and r.json()["resourceType"] == "OperationOutcome"


def test_capability_statement_lists_everything(client):
    caps = client.get("/fhir/metadata").json()
    patient = next(r for r in caps["rest"][0]["resource"] if r["type"] == "Patient")
    assert patient["operation"][0]["name"] == "everything"


def _care_dates(resource: dict) -> tuple[str, str]:
    period = resource["period"]
    return period["start"], period.get("end", "")  # "": still open


def test_everything_start_and_end_keep_care_in_the_range(app, client, login, patient_id):
    login("coordinator")
    whole = client.get(f"/fhir/Patient/{patient_id}/$everything").json()
    dated = sorted(_care_dates(e["resource"]) for e in whole["entry"][1:])
    assert len(dated) >= 2
    # a range from the day after the first record's care ends (or starts, if open)
    first_end = dated[0][1] or dated[0][0]
    start = date.fromisoformat(first_end) + timedelta(days=1)
    r = client.get(f"/fhir/Patient/{patient_id}/$everything", params={"start": start.isoformat()})
    assert r.status_code == 200, r.text
    body = r.json()
    Bundle.model_validate(body)
    assert body["entry"][0]["resource"]["resourceType"] == "Patient"
    kept = [_care_dates(e["resource"]) for e in body["entry"][1:]]
    expected = [d for d in dated if not d[1] or date.fromisoformat(d[1]) >= start]
    assert sorted(kept) == expected and len(kept) < len(dated)
    assert body["link"][0]["url"].endswith(f"$everything?start={start.isoformat()}")
    with app.state.sessions() as db:
        last = db.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert last.action == "fhir.everything" and f"({start.isoformat()} to ...)" in last.detail


@pytest.mark.parametrize(
    "query",
    [
        "start=2024-02-30",
        "end=yesterday",
        "start=2025&end=2024",
        "start=2024&start=2025",
        "_since=2024",
    ],
)
def test_everything_bad_parameters_are_400_outcomes(client, login, patient_id, query):
    login("coordinator")
    r = client.get(f"/fhir/Patient/{patient_id}/$everything?{query}")
    assert r.status_code == 400
    assert r.json()["resourceType"] == "OperationOutcome"
    assert r.headers["cache-control"] == "no-store"
