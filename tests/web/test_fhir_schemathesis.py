"""Schemathesis against the /fhir operations of /openapi.json: no 5xx for any input.

Every FHIR operation of the app's OpenAPI document gets generated requests (path ids,
search parameters, request bodies) as the care coordinator of Rutland, with a small
register in place so reads and updates also reach existing records.
"""

from __future__ import annotations

import datetime as dt

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from bettercare.app.models import CarePlanRecord
from bettercare.data import care_register
from bettercare.domain.care import CarePlanStatus, JointCarePlan

from .conftest import PASSWORD, RUTLAND

EXAMPLES_PER_OPERATION = 40


@pytest.mark.slow
def test_fhir_operations_never_fail_with_a_server_error(app, client) -> None:
    with app.state.sessions() as db:
        p = care_register.add_patient(
            db, nhs_number="9997258401", hwb_code=RUTLAND, gp_practice="C82001"
        )
        care_register.add_assessment(db, p, 0.3, "top 5%", [], "m", dt.date(2026, 1, 1))
        plan = JointCarePlan(CarePlanStatus.ACTIVE, dt.date(2026, 1, 1))
        db.add(care_register.write_plan(CarePlanRecord(), p, plan, "t"))
        db.commit()
    token = client.post("/auth/token", json={"username": "coordinator", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app).include(path_regex="^/fhir/")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 11  # metadata, 4 reads, 4 searches, 2 creates, 2 updates
    failures: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            response = case.call(headers=headers)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}")
            assert response.status_code < 500, response.text

        check()
    assert failures == []
