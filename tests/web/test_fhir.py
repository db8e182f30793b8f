"""The FHIR R4 API: each resource, each error, each role; every access audit-logged."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.careteam import CareTeam
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.riskassessment import RiskAssessment
from sqlalchemy import func, select

from bettercare.app.models import AuditEvent, CarePlanRecord, CareTeamRecord
from bettercare.app.security import Role
from bettercare.app.seed import create_user
from bettercare.data import care_register
from bettercare.domain.care import CarePlanStatus, CareTeamMember, JointCarePlan
from bettercare.domain.care import CareTeam as DomainTeam
from bettercare.services.fhir_resources import LEAD_CODE, REVIEW_DUE_URL, ROLE_SYSTEM

from .conftest import LEICESTER, PASSWORD, RUTLAND

RUTLAND_NHS = "9997258401"
RUTLAND_NHS_2 = "9990690154"
LEICESTER_NHS = "9998228638"
UNREGISTERED_NHS = "9998526140"  # valid, not in the register
INVALID_NHS = "9434765918"  # fails modulus 11
NHS_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
FHIR = {"Content-Type": "application/fhir+json"}
MODELS = {
    "Patient": Patient,
    "CarePlan": CarePlan,
    "CareTeam": CareTeam,
    "RiskAssessment": RiskAssessment,
}


@pytest.fixture
def register(app) -> dict[str, int]:
    """Two Rutland patients (one with a plan, team and score) and one Leicester patient."""
    ids: dict[str, int] = {}
    with app.state.sessions() as db:
        care_register.ensure_hwb(db, LEICESTER)
        create_user(db, "coordinator_leicester", PASSWORD, Role.CARE_COORDINATOR, LEICESTER)
        for key, number, hwb, practice in (
            ("rutland", RUTLAND_NHS, RUTLAND, "C82001"),
            ("rutland2", RUTLAND_NHS_2, RUTLAND, "C82002"),
            ("leicester", LEICESTER_NHS, LEICESTER, "C82099"),
        ):
            p = care_register.add_patient(
                db,
                nhs_number=number,
                hwb_code=hwb,
                given_name="Ann",
                family_name=key.title(),
                birth_date=dt.date(1940, 5, 1),
                sex="F",
                gp_practice=practice,
            )
            ids[key] = p.id
            score = care_register.add_assessment(
                db, p, 0.42, "top 2%", ["cohort_60_plus"], "logistic", dt.date(2026, 4, 1)
            )
            ids[f"{key}_risk"] = score.id
            plan = care_register.write_plan(
                CarePlanRecord(),
                p,
                JointCarePlan(
                    CarePlanStatus.ACTIVE, dt.date(2026, 5, 1), None, dt.date(2026, 11, 1)
                ),
                "test",
            )
            db.add(plan)
            team = care_register.write_team(
                CareTeamRecord(),
                p,
                DomainTeam(
                    (
                        CareTeamMember(
                            "Sam Reid",
                            "Community matron",
                            "Rutland ASC",
                            lead=True,
                            start=dt.date(2026, 5, 1),
                        ),
                    )
                ),
                "test",
            )
            db.add(team)
            db.flush()
            ids[f"{key}_plan"], ids[f"{key}_team"] = plan.id, team.id
        db.commit()
    return ids


def bearer(client, username: str) -> dict[str, str]:
    r = client.post("/auth/token", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def audit_rows(app, action: str | None = None) -> list[AuditEvent]:
    with app.state.sessions() as db:
        q = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            q = q.where(AuditEvent.action == action)
        return list(db.scalars(q))


def count(app, model: Any) -> int:
    with app.state.sessions() as db:
        return db.scalar(select(func.count()).select_from(model)) or 0


def outcome_of(r, status: int, code: str | None = None) -> OperationOutcome:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/fhir+json")
    oo = OperationOutcome.model_validate(r.json())
    if code:
        assert oo.issue[0].code == code, r.text
    return oo


def plan_body(patient_id: int, **extra: Any) -> dict[str, Any]:
    body = {
        "resourceType": "CarePlan",
        "status": "active",
        "intent": "plan",
        "subject": {"reference": f"Patient/{patient_id}"},
        "period": {"start": "2026-10-01"},
        "extension": [{"url": REVIEW_DUE_URL, "valueDate": "2027-04-01"}],
    }
    return {**body, **extra}


def team_body(patient_id: int, leads: int = 1, org: bool = True) -> dict[str, Any]:
    lead_role = {"coding": [{"system": ROLE_SYSTEM, "code": LEAD_CODE}]}
    parts = [
        {
            "role": [{"text": "Social worker"}, *([lead_role] if i < leads else [])],
            "member": {"display": f"Member {i}"},
            **({"onBehalfOf": {"display": "Rutland County Council"}} if org else {}),
            "period": {"start": "2026-10-01"},
        }
        for i in range(2)
    ]
    return {
        "resourceType": "CareTeam",
        "subject": {"reference": f"Patient/{patient_id}"},
        "participant": parts,
    }


# --- metadata, anonymous, other roles -----------------------------------------------------


def test_metadata_is_a_public_capability_statement(client) -> None:
    r = client.get("/fhir/metadata")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/fhir+json")
    cs = CapabilityStatement.model_validate(r.json())
    assert cs.fhirVersion == "4.0.1"
    kinds = {res.type: res for res in cs.rest[0].resource}
    assert set(kinds) == {"Patient", "CarePlan", "CareTeam", "RiskAssessment"}
    assert {i.code for i in kinds["CarePlan"].interaction} == {
        "read",
        "search-type",
        "create",
        "update",
    }
    assert {i.code for i in kinds["RiskAssessment"].interaction} == {"read", "search-type"}
    assert kinds["Patient"].profile == "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"
    [everything] = kinds["Patient"].operation  # listed once, with its start/end parameters
    assert everything.name == "everything" and "start and end" in (everything.documentation or "")


def test_anonymous_is_401_and_logged(app, client, register) -> None:
    for kind in MODELS:
        for path in (f"/fhir/{kind}", f"/fhir/{kind}/1"):
            oo = outcome_of(client.get(path), 401, "login")
            assert oo.issue[0].diagnostics
    r = client.post("/fhir/CarePlan", json=plan_body(register["rutland"]), headers=FHIR)
    outcome_of(r, 401)
    denied = [e for e in audit_rows(app) if e.outcome == "denied" and e.actor == "anonymous"]
    assert {e.target for e in denied} == {*MODELS, *(f"{k}/1" for k in MODELS)}
    assert count(app, CarePlanRecord) == 3  # nothing stored


def test_other_roles_are_403_and_logged(app, client, register) -> None:
    for username in ("analyst", "editor", "assurer", "admin"):
        h = bearer(client, username)
        outcome_of(client.get("/fhir/Patient", headers=h), 403, "forbidden")
        outcome_of(client.get(f"/fhir/Patient/{register['rutland']}", headers=h), 403)
        r = client.post(
            "/fhir/CarePlan", json=plan_body(register["rutland"]), headers={**h, **FHIR}
        )
        outcome_of(r, 403)
        denied = [e for e in audit_rows(app) if e.actor == username and e.outcome == "denied"]
        assert [e.action for e in denied] == [
            "view_patients",
            "view_patients",
            "edit_care_records",
        ], username
    assert count(app, CarePlanRecord) == 3  # nothing stored


# --- read ----------------------------------------------------------------------------------


KEYS = {"Patient": "", "CarePlan": "_plan", "CareTeam": "_team", "RiskAssessment": "_risk"}


def test_coordinator_reads_own_hwb(app, client, register) -> None:
    h = bearer(client, "coordinator")
    expected = []
    for kind, suffix in KEYS.items():
        rid = register[f"rutland{suffix}"]
        r = client.get(f"/fhir/{kind}/{rid}", headers=h)
        assert r.status_code == 200, r.text
        resource = MODELS[kind].model_validate(r.json())
        assert resource.id == str(rid)
        expected.append(("coordinator", f"{kind}/{rid}", "ok", RUTLAND))
    ok = audit_rows(app, "fhir.read")
    assert [(e.actor, e.target, e.outcome, e.hwb_code) for e in ok] == expected


def test_read_resources_content(client, register) -> None:
    h = bearer(client, "coordinator")
    p = client.get(f"/fhir/Patient/{register['rutland']}", headers=h).json()
    assert p["identifier"] == [{"system": NHS_SYSTEM, "value": RUTLAND_NHS}]
    assert p["meta"]["profile"] == ["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"]
    assert p["generalPractitioner"][0]["identifier"]["value"] == "C82001"
    assert p["birthDate"] == "1940-05-01" and p["gender"] == "female"
    plan = client.get(f"/fhir/CarePlan/{register['rutland_plan']}", headers=h)
    assert plan.headers["etag"] == 'W/"1"'
    body = plan.json()
    assert body["status"] == "active" and body["period"] == {"start": "2026-05-01"}
    assert body["extension"] == [{"url": REVIEW_DUE_URL, "valueDate": "2026-11-01"}]
    team = client.get(f"/fhir/CareTeam/{register['rutland_team']}", headers=h).json()
    lead = team["participant"][0]
    assert lead["member"] == {"display": "Sam Reid"}
    assert lead["onBehalfOf"] == {"display": "Rutland ASC"}
    assert lead["role"][1]["coding"][0]["code"] == LEAD_CODE
    risk = client.get(f"/fhir/RiskAssessment/{register['rutland_risk']}", headers=h).json()
    assert risk["prediction"][0]["probabilityDecimal"] == 0.42
    assert risk["prediction"][0]["qualitativeRisk"] == {"text": "top 2%"}
    assert "meta" not in risk  # UK Core has no RiskAssessment profile


def test_coordinator_of_another_hwb_is_403(app, client, register) -> None:
    h = bearer(client, "coordinator")
    leicester = bearer(client, "coordinator_leicester")
    expected = []
    for kind, suffix in KEYS.items():
        rid = register[f"leicester{suffix}"]
        outcome_of(client.get(f"/fhir/{kind}/{rid}", headers=h), 403, "forbidden")
        expected.append(("coordinator", f"{kind}/{rid}", LEICESTER))
        assert client.get(f"/fhir/{kind}/{rid}", headers=leicester).status_code == 200
    denied = [e for e in audit_rows(app) if e.outcome == "denied"]
    assert [(e.actor, e.target, e.hwb_code) for e in denied] == expected


def test_unknown_resource_is_404_and_logged(app, client, register) -> None:
    h = bearer(client, "coordinator")
    paths = [
        "/fhir/Patient/999999",
        "/fhir/CarePlan/abc",
        "/fhir/CareTeam/99999999999999999999",
        "/fhir/RiskAssessment/-1",
    ]
    for path in paths:
        outcome_of(client.get(path, headers=h), 404, "not-found")
    assert [e.outcome for e in audit_rows(app, "fhir.read")] == ["invalid"] * len(paths)


def test_session_cookie_works_too(client, register, login) -> None:
    login("coordinator")
    assert client.get(f"/fhir/Patient/{register['rutland']}").status_code == 200


def test_unknown_type_and_interaction(client, register) -> None:
    h = bearer(client, "coordinator")
    outcome_of(client.get("/fhir/Observation", headers=h), 404, "not-supported")
    outcome_of(client.delete(f"/fhir/CarePlan/{register['rutland_plan']}", headers=h), 405)


# --- search --------------------------------------------------------------------------------


def entries(r) -> list[dict[str, Any]]:
    assert r.status_code == 200, r.text
    b = Bundle.model_validate(r.json())
    assert b.type == "searchset"
    return [e["resource"] for e in r.json().get("entry", [])]


def test_search_patients_in_own_hwb_only(app, client, register) -> None:
    h = bearer(client, "coordinator")
    found = entries(client.get("/fhir/Patient", headers=h))
    assert {p["id"] for p in found} == {str(register["rutland"]), str(register["rutland2"])}
    by_nhs = entries(client.get(f"/fhir/Patient?identifier={NHS_SYSTEM}|{RUTLAND_NHS}", headers=h))
    assert [p["id"] for p in by_nhs] == [str(register["rutland"])]
    bare = entries(client.get(f"/fhir/Patient?identifier={RUTLAND_NHS}", headers=h))
    assert [p["id"] for p in bare] == [str(register["rutland"])]
    spaced = f"{RUTLAND_NHS[:3]} {RUTLAND_NHS[3:6]} {RUTLAND_NHS[6:]}"
    found = entries(client.get("/fhir/Patient", params={"identifier": spaced}, headers=h))
    assert [p["id"] for p in found] == [str(register["rutland"])]
    other = entries(client.get(f"/fhir/Patient?identifier={LEICESTER_NHS}", headers=h))
    assert other == []  # another HWB's patient is not found
    by_gp = entries(client.get("/fhir/Patient?general-practitioner=Organization/C82002", headers=h))
    assert [p["id"] for p in by_gp] == [str(register["rutland2"])]
    org = entries(client.get("/fhir/Patient?organization=C82001", headers=h))
    assert [p["id"] for p in org] == [str(register["rutland"])]
    searches = audit_rows(app, "fhir.search")
    assert len(searches) == 7 and {e.outcome for e in searches} == {"ok"}
    logged = " ".join(e.target for e in searches)
    assert RUTLAND_NHS not in logged and RUTLAND_NHS[3:6] not in logged  # masked in the log
    assert f"returned: Patient/{register['rutland']}" in searches[1].detail


def test_search_by_patient_and_practice(client, register) -> None:
    h = bearer(client, "coordinator")
    for kind in ("CarePlan", "CareTeam", "RiskAssessment"):
        for q in (
            f"patient=Patient/{register['rutland']}",
            f"subject={register['rutland']}",
            "patient.general-practitioner=C82001",
        ):
            found = entries(client.get(f"/fhir/{kind}?{q}", headers=h))
            assert [r["id"] for r in found] == [str(register[f"rutland{KEYS[kind]}"])], q
            MODELS[kind].model_validate(found[0])
        leicester = client.get(f"/fhir/{kind}?patient={register['leicester']}", headers=h)
        assert entries(leicester) == []
    active = entries(client.get("/fhir/CarePlan?status=active,draft", headers=h))
    assert len(active) == 2
    assert entries(client.get("/fhir/CarePlan?status=completed", headers=h)) == []


def test_search_paging(client, register) -> None:
    h = bearer(client, "coordinator")
    r = client.get("/fhir/Patient?_count=1", headers=h)
    assert r.json()["total"] == 2 and len(entries(r)) == 1
    nxt = next(link["url"] for link in r.json()["link"] if link["relation"] == "next")
    second = entries(client.get(nxt.replace("http://testserver", ""), headers=h))
    assert second[0]["id"] != entries(r)[0]["id"]
    plans = client.get("/fhir/CarePlan?status=active,draft&_count=1", headers=h)
    nxt = next(link["url"] for link in plans.json()["link"] if link["relation"] == "next")
    assert "status=active%2Cdraft" in nxt  # the search's own parameters, URL-encoded
    rest = client.get(nxt.replace("http://testserver", ""), headers=h)
    assert rest.json()["total"] == 2 and len(entries(rest)) == 1


SEARCH_ERRORS = [
    ("Patient", "foo=1", 400),
    ("CarePlan", "patient=1&patient=2", 400),
    ("CarePlan", "_count=x", 400),
    ("CarePlan", "_count=5000", 400),
    ("Patient", f"identifier={INVALID_NHS}", 422),
    ("Patient", "general-practitioner=not a code", 400),
    ("CarePlan", "patient=Observation/1", 400),
    ("CarePlan", "status=bogus", 400),
]


def test_search_errors(app, client, register) -> None:
    h = bearer(client, "coordinator")
    for kind, query, status in SEARCH_ERRORS:
        outcome_of(client.get(f"/fhir/{kind}?{query}", headers=h), status)
    assert [e.outcome for e in audit_rows(app, "fhir.search")] == ["invalid"] * len(SEARCH_ERRORS)


# --- create ----------------------------------------------------------------------------


def test_create_care_plan(app, client, register) -> None:
    h = {**bearer(client, "coordinator"), **FHIR}
    r = client.post("/fhir/CarePlan", json=plan_body(register["rutland2"]), headers=h)
    assert r.status_code == 201, r.text
    plan = CarePlan.model_validate(r.json())
    assert r.headers["etag"] == 'W/"1"'
    assert r.headers["location"].endswith(f"/fhir/CarePlan/{plan.id}/_history/1")
    assert client.get(f"/fhir/CarePlan/{plan.id}", headers=h).json()["status"] == "active"
    created = audit_rows(app, "fhir.create")
    assert [(e.target, e.outcome) for e in created] == [(f"CarePlan/{plan.id}", "ok")]
    assert '"review_due": "2027-04-01"' in created[0].after


def test_create_care_plan_by_nhs_number(client, register) -> None:
    body = plan_body(0, subject={"identifier": {"system": NHS_SYSTEM, "value": RUTLAND_NHS_2}})
    r = client.post("/fhir/CarePlan", json=body, headers={**bearer(client, "coordinator"), **FHIR})
    assert r.status_code == 201, r.text
    assert r.json()["subject"]["reference"] == f"Patient/{register['rutland2']}"


def test_create_care_team_with_lead(app, client, register) -> None:
    h = {**bearer(client, "coordinator"), **FHIR}
    r = client.post("/fhir/CareTeam", json=team_body(register["rutland2"]), headers=h)
    assert r.status_code == 201, r.text
    team = CareTeam.model_validate(r.json())
    with app.state.sessions() as db:
        stored = db.get(CareTeamRecord, int(team.id))
        assert [(m.name, m.lead) for m in stored.members] == [
            ("Member 0", True),
            ("Member 1", False),
        ]


BAD_PLANS = [
    # (body changes, status, issue code)
    ({"raw": b"{not json"}, 400, "structure"),
    ({"raw": b"[" * 5000 + b"]" * 5000}, 400, "structure"),  # nested too deeply
    ({"raw": b" " * 1_000_001}, 413, "too-long"),
    ({"resourceType": "Patient"}, 400, "invalid"),
    ({"status": 7}, 400, "structure"),  # fails fhir.resources validation
    ({"unknownElement": True}, 400, "structure"),
    ({"status": "revoked"}, 422, "business-rule"),  # valid FHIR, not a register status
    ({"subject": {"reference": "Patient/999999"}}, 422, "business-rule"),  # unknown patient
    ({"subject": {"identifier": {"system": NHS_SYSTEM, "value": INVALID_NHS}}}, 422, "value"),
    (
        {"subject": {"identifier": {"system": NHS_SYSTEM, "value": UNREGISTERED_NHS}}},
        422,
        "business-rule",
    ),
    ({"period": {"start": "2026-10-01", "end": "2026-01-01"}}, 422, "business-rule"),
    ({"extension": [{"url": REVIEW_DUE_URL, "valueDate": "2025-01-01"}]}, 422, "business-rule"),
    ({"period": {}}, 422, "business-rule"),  # an active plan needs a start
]


def test_invalid_care_plan_is_refused_nothing_stored_and_logged(app, client, register) -> None:
    h = {**bearer(client, "coordinator"), **FHIR}
    for change, status, code in BAD_PLANS:
        if "raw" in change:
            r = client.post("/fhir/CarePlan", content=change["raw"], headers=h)
        else:
            body = plan_body(register["rutland"], **change)
            r = client.post("/fhir/CarePlan", json=body, headers=h)
        oo = outcome_of(r, status, code)
        assert oo.issue[0].diagnostics, change
    assert count(app, CarePlanRecord) == 3
    assert [(e.outcome, e.target) for e in audit_rows(app, "fhir.create")] == [
        ("invalid", "CarePlan")
    ] * len(BAD_PLANS)


def test_care_plan_for_another_hwb_is_403(app, client, register) -> None:
    h = {**bearer(client, "coordinator"), **FHIR}
    r = client.post("/fhir/CarePlan", json=plan_body(register["leicester"]), headers=h)
    outcome_of(r, 403)
    assert count(app, CarePlanRecord) == 3
    assert [(e.outcome, e.hwb_code) for e in audit_rows(app, "edit_care_records")] == [
        ("denied", LEICESTER)
    ]


def test_wrong_content_type_is_415(app, client, register) -> None:
    h = {**bearer(client, "coordinator"), "Content-Type": "text/plain"}
    r = client.post("/fhir/CarePlan", content=b"{}", headers=h)
    outcome_of(r, 415, "not-supported")
    assert [e.outcome for e in audit_rows(app, "fhir.create")] == ["invalid"]


def test_care_team_lead_rules(app, client, register) -> None:
    h = {**bearer(client, "coordinator"), **FHIR}
    for leads, org in ((2, True), (1, False)):
        body = team_body(register["rutland"], leads, org)
        outcome_of(client.post("/fhir/CareTeam", json=body, headers=h), 422, "business-rule")
    assert count(app, CareTeamRecord) == 3


# --- update ----------------------------------------------------------------------------


def _current(client, h, kind: str, rid: int) -> dict[str, Any]:
    body: dict[str, Any] = client.get(f"/fhir/{kind}/{rid}", headers=h).json()
    return body


def test_update_care_plan_with_if_match(app, client, register) -> None:
    h = {**bearer(client, "coordinator"), **FHIR}
    rid = register["rutland_plan"]
    body = _current(client, h, "CarePlan", rid)
    body["status"] = "completed"
    body["period"]["end"] = "2026-11-01"
    r = client.put(f"/fhir/CarePlan/{rid}", json=body, headers={**h, "If-Match": 'W/"1"'})
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == 'W/"2"' and r.json()["meta"]["versionId"] == "2"
    updated = audit_rows(app, "fhir.update")
    assert [(e.target, e.outcome) for e in updated] == [(f"CarePlan/{rid}", "ok")]
    assert '"status": "active"' in updated[0].before and '"completed"' in updated[0].after
    # the same If-Match again is stale: 412, nothing changed
    body["status"] = "on-hold"
    r = client.put(f"/fhir/CarePlan/{rid}", json=body, headers={**h, "If-Match": 'W/"1"'})
    outcome_of(r, 412, "conflict")
    assert _current(client, h, "CarePlan", rid)["status"] == "completed"
    assert audit_rows(app, "fhir.update")[-1].outcome == "conflict"


def test_update_with_stale_version_id_is_409(app, client, register) -> None:
    h = {**bearer(client, "coordinator"), **FHIR}
    rid = register["rutland_team"]
    body = _current(client, h, "CareTeam", rid)
    assert client.put(f"/fhir/CareTeam/{rid}", json=body, headers=h).status_code == 200
    outcome_of(client.put(f"/fhir/CareTeam/{rid}", json=body, headers=h), 409, "conflict")


def test_update_errors(app, client, register) -> None:
    h = {**bearer(client, "coordinator"), **FHIR}
    rid = register["rutland_plan"]
    cases = [({"id": "77"}, None, 400), ({}, "999999", 404), ({"subject": "rutland2"}, None, 422)]
    for change, path_id, status in cases:
        body = _current(client, h, "CarePlan", rid)
        if "subject" in change:
            body["subject"] = {"reference": f"Patient/{register[change['subject']]}"}
        else:
            body.update(change)
        if path_id:
            body["id"] = path_id
        outcome_of(client.put(f"/fhir/CarePlan/{path_id or rid}", json=body, headers=h), status)
    assert _current(client, h, "CarePlan", rid)["meta"]["versionId"] == "1"
    assert [e.outcome for e in audit_rows(app, "fhir.update")] == ["invalid"] * 3


def test_update_another_hwbs_plan_is_403(app, client, register) -> None:
    leicester = {**bearer(client, "coordinator_leicester"), **FHIR}
    rid = register["leicester_plan"]
    body = _current(client, leicester, "CarePlan", rid)
    h = {**bearer(client, "coordinator"), **FHIR}
    outcome_of(client.put(f"/fhir/CarePlan/{rid}", json=body, headers=h), 403)
