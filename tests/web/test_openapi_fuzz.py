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
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from sqlalchemy import select

from bettercare.app.audit import INVALID
from bettercare.app.models import AuditEvent

from .conftest import PASSWORD, csrf_of

#: Examples per operation, generation mode and caller: the suite stays well under a minute.
MAX_EXAMPLES = 6
FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,  # the same requests every run: a failure reproduces
    suppress_health_check=list(HealthCheck),
    database=None,
    report_multiple_bugs=False,
    phases=[Phase.explicit, Phase.generate],  # report the failing request as found: no shrinking
)


def _bearer(app: FastAPI, username: str) -> dict[str, str]:
    """An Authorization header with a token from the API itself."""
    with TestClient(app) as client:
        r = client.post("/auth/token", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


#: Path parameters pinned to stored records in a second pass, so the generated forms and
#: queries reach past "404 no such plan" into the pages' own handling.
PINS = {"plan_id": "marlbury_2025"}


def _pinned(case: schemathesis.Case, name: str, value: str) -> schemathesis.Case:
    case.path_parameters = {**(case.path_parameters or {}), name: value}
    return case


def fuzz(
    app: FastAPI, headers: dict[str, str], pins: dict[str, str] | None = None
) -> tuple[int, list[str]]:
    """Run every operation of the app's schema; return (operations, failure reports)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        variants: list[tuple[str, str] | None] = [None]
        pinned = [(k, v) for k, v in (pins or {}).items() if f"{{{k}}}" in operation.path]
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            # invalid requests are refused before any lookup: pinning adds nothing there
            for pin in variants + (pinned if mode is GenerationMode.POSITIVE else []):
                strategy = operation.as_strategy(generation_mode=mode)
                if pin is not None:
                    strategy = strategy.map(lambda c, pin=pin: _pinned(c, *pin))

                # schemathesis's pytest integration (``@schema.parametrize`` on a lazy
                # fixture schema) relies on a private pytest attribute that pytest 9
                # removed, so each operation's strategy is driven with Hypothesis directly.
                @FUZZ
                @given(case=strategy)
                def call(case: schemathesis.Case) -> None:
                    case.call_and_validate(headers=headers, checks=[not_a_server_error])

                try:
                    call()
                except Unsatisfiable:
                    continue  # nothing to make invalid (no parameters, no body)
                except (Exception, BaseExceptionGroup) as exc:  # report, go on to the next
                    where = f", {pin[0]}={pin[1]}" if pin else ""
                    failures.append(f"{operation.label} ({mode}{where}): {exc}")
    return operations, failures


@pytest.mark.slow
@pytest.mark.parametrize("caller", ["anonymous", "admin"])
def test_no_operation_answers_500(app: FastAPI, caller: str) -> None:
    headers = {} if caller == "anonymous" else _bearer(app, "admin")
    operations, failures = fuzz(app, headers, PINS)
    assert operations > 0
    assert not failures, "\n\n".join(failures)


def test_the_fuzzer_reports_server_errors() -> None:
    """The harness itself, on an app of two faulty routes: a 500 answer and a crash."""
    faulty = FastAPI()

    @faulty.get("/broken")
    def broken(n: int) -> Response:
        return Response("broken", status_code=500)

    @faulty.get("/crashing")
    def crashing(n: int) -> dict[str, int]:
        raise RuntimeError("a bug")

    @faulty.get("/fine")
    def fine(n: int) -> dict[str, int]:
        return {"n": n}

    operations, failures = fuzz(faulty, {})
    assert operations == 3
    assert sorted(f.split(" (")[0] for f in failures if "positive" in f) == [
        "GET /broken",
        "GET /crashing",
    ]


# --- the 500s this fuzzing found, pinned as plain tests ---------------------------------


def test_nul_in_refused_input_is_audited_not_a_500(app: FastAPI, client, login) -> None:
    """PostgreSQL refuses NUL in text: the audit row of a refused username must not carry it."""
    login("admin")
    page = client.get("/admin").text
    r = client.post(
        "/admin/users",
        data={"csrf_token": csrf_of(page), "username": "a\x00b", "password": "x", "role": "x"},
    )
    assert r.status_code in (400, 422)
    with app.state.sessions() as db:
        refused = db.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "create_user", AuditEvent.outcome == INVALID
            )
        ).all()
    assert refused and "\x00" not in refused[-1].target


def test_non_ascii_csrf_token_is_refused_not_a_500(client, login) -> None:
    """hmac.compare_digest raises TypeError on non-ASCII str: the token is compared as bytes."""
    login("editor")
    client.get("/")  # the session gets its CSRF token
    r = client.post("/logout", headers={"X-CSRF-Token": "é".encode("latin-1") * 10})
    assert r.status_code == 403


def test_user_ids_beyond_integer_are_not_a_500(client, login) -> None:
    """An id past PostgreSQL's INTEGER range is refused before any query."""
    login("admin")
    page = client.get("/admin").text
    r = client.post(
        f"/admin/users/{2**31}/active", data={"csrf_token": csrf_of(page), "active": "0"}
    )
    assert r.status_code in (404, 422)


def test_non_ascii_return_signature_is_refused_not_a_500(app: FastAPI, client) -> None:
    """The returns page's signature is compared as bytes too (webdash's record form)."""
    headers = _bearer(app, "admin")
    r = client.post(
        "/plans/marlbury_2025/returns/record",
        data={"report": "{}", "signature": "é", "expected_version": "1"},
        headers=headers,
    )
    assert r.status_code == 422
