"""schemathesis against the app's own OpenAPI schema: no request makes the server fail (500).

Every operation the schema lists (pages, the JSON API, the FHIR API) gets a bounded number
of generated requests, valid and invalid, sent to the in-process ASGI app on both database
engines: once anonymously and once with an administrator's bearer token from
``POST /auth/token``. The only check is schemathesis's ``not_a_server_error``: refusals
(401/403/404/409/422) are the app doing its job; a 500 is a bug.
"""

from __future__ import annotations

import pytest
import schemathesis
from fastapi import FastAPI, Response
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from .conftest import PASSWORD

#: Examples per operation, generation mode and caller: the suite stays well under a minute.
MAX_EXAMPLES = 6
FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,  # the same requests every run: a failure reproduces
    suppress_health_check=list(HealthCheck),
    database=None,
    report_multiple_bugs=False,
)


def _bearer(app: FastAPI, username: str) -> dict[str, str]:
    """An Authorization header with a token from the API itself."""
    with TestClient(app) as client:
        r = client.post("/auth/token", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def fuzz(app: FastAPI, headers: dict[str, str]) -> tuple[int, list[str]]:
    """Run every operation of the app's schema; return (operations, failure reports)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            # schemathesis's pytest integration (``@schema.parametrize`` on a lazy fixture
            # schema) relies on a private pytest attribute that pytest 9 removed, so each
            # operation's strategy is driven with Hypothesis directly.
            @FUZZ
            @given(case=operation.as_strategy(generation_mode=mode))
            def call(case: schemathesis.Case) -> None:
                case.call_and_validate(headers=headers, checks=[not_a_server_error])

            try:
                call()
            except Unsatisfiable:
                continue  # nothing to make invalid (no parameters, no body)
            except (Exception, BaseExceptionGroup) as exc:  # report, go on to the next
                failures.append(f"{operation.label} ({mode}): {exc}")
    return operations, failures


@pytest.mark.slow
@pytest.mark.parametrize("caller", ["anonymous", "admin"])
def test_no_operation_answers_500(app: FastAPI, caller: str) -> None:
    headers = {} if caller == "anonymous" else _bearer(app, "admin")
    operations, failures = fuzz(app, headers)
    assert operations > 0
    assert not failures, "\n\n".join(failures)


@pytest.mark.slow
def test_the_fuzzer_reports_server_errors(app: FastAPI) -> None:
    """The harness itself: a 500 answer and an unhandled exception are both reported."""

    @app.get("/api/broken")
    def broken(n: int) -> Response:
        return Response("broken", status_code=500)

    @app.get("/api/crashing")
    def crashing(n: int) -> dict[str, int]:
        raise RuntimeError("a bug")

    _, failures = fuzz(app, {})
    assert any(f.startswith("GET /api/broken") for f in failures), failures
    assert any(f.startswith("GET /api/crashing") for f in failures), failures
    assert not [f for f in failures if "/api/" not in f], failures
