"""Every route of the OpenAPI document, sent oversized input and checked for its headers.

For each operation: a 20 KB header, a 20 KB query string, a 4 KB path segment and (for
every POST and PUT) a body whose fields are 2 MB each, in the operation's content type,
as a signed-in administrator. Each must be a 4xx; afterwards no text in the audit log or
``login_attempts`` is longer than its bound. Every answer (refusals included) carries
the security headers, and ``Cache-Control: no-store``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import inspect, select

from bettercare.app.models import AuditEvent, LoginAttempt
from bettercare.services.audit import BOUNDS

pytestmark = pytest.mark.hostile

BIG = "A" * (2 * 1024 * 1024)
PINS = {"plan_id": "marlbury_2025", "quarter": "q1", "index": "0", "user_id": "1"}
HEADERS = {
    "content-security-policy",
    "x-frame-options",
    "x-content-type-options",
    "referrer-policy",
}


def operations(app: FastAPI) -> list[tuple[str, str, dict]]:
    out = []
    for path, ops in app.openapi()["paths"].items():
        for method, op in ops.items():
            out.append((method.upper(), path, op))
    return out


def fill(path: str, default: str = "x") -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PINS.get(m.group(1), default), path)


def assert_headers(r: Response, what: str) -> None:
    have = {k.lower() for k in r.headers}
    assert have >= HEADERS, (what, HEADERS - have)
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"], what
    assert "'unsafe-inline'" not in r.headers["content-security-policy"], what
    assert r.headers["x-frame-options"] == "DENY", what
    assert r.headers["x-content-type-options"] == "nosniff", what
    assert "no-store" in r.headers.get("cache-control", ""), what


def oversized_bodies(op: dict, csrf: str) -> list[dict]:
    content = op.get("requestBody", {}).get("content", {})
    cases = []
    if "application/json" in content or "application/fhir+json" in content:
        cases.append({"content": json.dumps({"username": BIG, "password": BIG, "id": BIG})})
        cases[-1]["headers"] = {"content-type": "application/json", "x-csrf-token": csrf}
    if "multipart/form-data" in content:
        cases.append({"files": {"file": ("p.yaml", b"a" * (11 * 1024 * 1024))}})
        cases.append({"data": {"csrf_token": csrf, "signature": BIG}, "files": {"x": ("x", b"")}})
    if not cases or "application/x-www-form-urlencoded" in content:
        props = ["username", "password", "name", "note", "value", "report", "title"]
        cases.append({"data": {"csrf_token": csrf, **dict.fromkeys(props, BIG)}})
    return cases


def longest(app: FastAPI, model: type, column: str) -> int:
    with app.state.sessions() as db:
        values = db.scalars(select(getattr(model, column))).all()
    return max((len(v) for v in values if isinstance(v, str)), default=0)


def test_every_route_refuses_oversized_input_and_stores_nothing_unbounded(
    app: FastAPI, client: TestClient, login: Callable[[str], TestClient]
) -> None:
    # the anonymous token endpoint first: a 9 MB username was stored in full
    r = client.post("/auth/token", json={"username": "u" * 9_000_000, "password": "x"})
    assert 400 <= r.status_code < 500
    login("admin")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/admin").text)
    assert csrf
    token = csrf.group(1)
    checked = 0
    for method, path, op in operations(app):
        url = fill(path)
        r = client.request(method, url, headers={"x-padding": "p" * 20_000})
        assert 400 <= r.status_code < 500, (method, path, "header", r.status_code)
        assert_headers(r, f"{method} {path} header")
        r = client.request(method, url + "?q=" + "q" * 20_000)
        assert 400 <= r.status_code < 500, (method, path, "query", r.status_code)
        if "{" in path:
            r = client.request(method, re.sub(r"\{\w+\}", "z" * 4096, path))
            assert 400 <= r.status_code < 500, (method, path, "path", r.status_code)
            assert_headers(r, f"{method} {path} path")
        if method in ("POST", "PUT"):
            for case in oversized_bodies(op, token):
                r = client.request(method, url, **case)
                assert 400 <= r.status_code < 500, (method, path, "body", r.status_code)
                assert_headers(r, f"{method} {path} body")
        checked += 1
    assert checked == len(operations(app)) > 50
    columns = [c["name"] for c in inspect(app.state.engine).get_columns("audit_events")]
    for column in columns:
        if column in BOUNDS:
            assert longest(app, AuditEvent, column) <= BOUNDS[column], column
    assert longest(app, LoginAttempt, "username") <= 120
    assert longest(app, LoginAttempt, "ip") <= 64


def test_every_get_route_sends_the_security_headers_and_no_store(
    app: FastAPI, client: TestClient, login: Callable[[str], TestClient]
) -> None:
    """Anonymous and signed in: pages, API, FHIR (patient-level ones too), static files."""
    for who in ("anonymous", "admin", "coordinator"):
        if who != "anonymous":
            client.cookies.clear()
            login(who)
        for method, path, _ in operations(app):
            if method == "GET":
                r = client.get(fill(path), follow_redirects=False)
                assert_headers(r, f"{who} GET {path} -> {r.status_code}")
    r = client.get("/static/app.css")
    assert "content-security-policy" in {k.lower() for k in r.headers}


def test_hsts_only_with_secure_cookies(app: FastAPI, client: TestClient) -> None:
    from bettercare.app.hardening import SecurityHeaders

    assert "strict-transport-security" not in client.get("/login").headers
    secure = SecurityHeaders(app, hsts=True)
    with TestClient(secure) as c:  # type: ignore[arg-type]
        assert c.get("/login").headers["strict-transport-security"].startswith("max-age=")
