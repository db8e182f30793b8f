"""The one security model: roles and scope, logins, CSRF, bearer tokens, the audit log."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from bettercare.app.models import AuditEvent
from bettercare.app.security import ANONYMOUS, Action, Principal, Role, allowed

from .conftest import LEICESTER, PASSWORD, RUTLAND, csrf_of


def _p(role: Role, hwb: str | None = RUTLAND) -> Principal:
    return Principal(username=str(role), role=role, hwb_code=hwb, user_id=1)


@pytest.mark.parametrize(
    ("role", "action", "hwb", "expected"),
    [
        (Role.PARTNER_EDITOR, Action.EDIT_PLAN, RUTLAND, True),
        (Role.PARTNER_EDITOR, Action.EDIT_PLAN, LEICESTER, False),  # another HWB
        (Role.ANALYST, Action.EDIT_PLAN, RUTLAND, False),
        (Role.ANALYST, Action.VIEW_METRICS, RUTLAND, True),
        (Role.ANALYST, Action.VIEW_PATIENTS, RUTLAND, False),
        (Role.CARE_COORDINATOR, Action.VIEW_PATIENTS, RUTLAND, True),
        (Role.CARE_COORDINATOR, Action.VIEW_PATIENTS, LEICESTER, False),
        (Role.ASSURER, Action.VIEW_PLAN, LEICESTER, True),  # every HWB
        (Role.ASSURER, Action.ASSURE_PLAN, LEICESTER, True),
        (Role.ASSURER, Action.EDIT_PLAN, LEICESTER, False),
        (Role.ADMIN, Action.VIEW_AUDIT, None, True),
        (Role.ADMIN, Action.VIEW_PATIENTS, RUTLAND, False),  # direct care only
    ],
)
def test_permissions(role: Role, action: Action, hwb: str | None, expected: bool) -> None:
    assert allowed(_p(role), action, hwb) is expected


def test_anonymous_sees_published_only() -> None:
    assert allowed(ANONYMOUS, Action.VIEW_PUBLISHED, RUTLAND)
    assert not allowed(ANONYMOUS, Action.VIEW_PLAN, RUTLAND)


def test_examples_loaded_and_front_page(client, login) -> None:
    assert "/plans/rutland-2014" not in client.get("/").text  # nothing published yet
    login("editor")
    page = client.get("/").text
    assert "/plans/rutland-2014" in page
    assert "/plans/leicester_city_2014" not in page  # another HWB's plan is hidden
    login("assurer")
    assert "/plans/leicester_city_2014" in client.get("/").text  # the assurer reads every HWB


def test_login_failure_is_audited_and_rate_limited(app, client) -> None:
    for _ in range(app.state.settings.login_attempts):
        token = csrf_of(client.get("/login").text)
        r = client.post(
            "/login",
            data={"username": "editor", "password": "wrong-password!", "csrf_token": token},
        )
        assert r.status_code == 401
    token = csrf_of(client.get("/login").text)
    r = client.post(
        "/login", data={"username": "editor", "password": PASSWORD, "csrf_token": token}
    )
    assert r.status_code == 429  # even the right password waits out the window
    with app.state.sessions() as db:
        outcomes = [
            e.detail for e in db.scalars(select(AuditEvent).where(AuditEvent.action == "login"))
        ]
    assert outcomes.count("bad credentials") == app.state.settings.login_attempts
    assert "rate limited" in outcomes


def test_failures_for_one_user_do_not_lock_out_another(app, client, login) -> None:
    for _ in range(app.state.settings.login_attempts):
        token = csrf_of(client.get("/login").text)
        client.post(
            "/login",
            data={"username": "editor", "password": "wrong-password!", "csrf_token": token},
        )
    login("analyst")  # same address, another user: still signs in


def test_rate_limit_per_address(app, client) -> None:
    limit = app.state.settings.login_attempts_per_ip
    with app.state.sessions() as db:
        from bettercare.app.models import LoginAttempt

        db.add_all(
            LoginAttempt(username=f"guess{i}", ip="testclient", success=False) for i in range(limit)
        )
        db.commit()
    token = csrf_of(client.get("/login").text)
    r = client.post(
        "/login", data={"username": "analyst", "password": PASSWORD, "csrf_token": token}
    )
    assert r.status_code == 429


def test_form_post_without_csrf_token_is_refused(client, login) -> None:
    login("editor")
    r = client.post("/logout", data={})
    assert r.status_code == 403


def test_session_fixation_login_replaces_session(client, login) -> None:
    client.get("/login")
    before = client.cookies.get("bettercare_session")
    login("editor")
    assert client.cookies.get("bettercare_session") != before


def test_bearer_token(client) -> None:
    r = client.post("/auth/token", json={"username": "analyst", "password": PASSWORD})
    assert r.status_code == 200
    assert r.json()["token_type"] == "bearer"
    bad = client.post("/auth/token", json={"username": "analyst", "password": "nope-nope-nope"})
    assert bad.status_code == 401


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/plans",
        "/\\evil.example/",  # Chromium reads /\ as //
        "/\t/evil.example/",  # a tab is dropped from a URL: //evil.example
        "javascript:alert(1)",
        "plans/rutland-2014",
    ],
)
def test_open_redirect_refused(client, target: str) -> None:
    token = csrf_of(client.get("/login").text)
    r = client.post(
        "/login",
        data={"username": "editor", "password": PASSWORD, "csrf_token": token, "next": target},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_sign_in_returns_to_the_page_asked_for(client) -> None:
    """A page that needs signing in sends to /login?next=..., and after it back there."""
    r = client.get("/care?page=2", headers={"accept": "text/html"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/care%3Fpage%3D2"
    page = client.get(r.headers["location"]).text
    assert 'name="next" value="/care?page=2"' in page
    r = client.post(
        "/login",
        data={
            "username": "coordinator",
            "password": PASSWORD,
            "csrf_token": csrf_of(page),
            "next": "/care?page=2",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/care?page=2"


def test_audit_log_is_append_only(app) -> None:
    with app.state.engine.connect() as con:
        assert con.execute(text("SELECT count(*) FROM audit_events")).scalar_one() > 0
        for sql in ("UPDATE audit_events SET actor = 'x'", "DELETE FROM audit_events"):
            with pytest.raises(DBAPIError, match="append-only"):
                con.execute(text(sql))
            con.rollback()


def test_oversized_body_refused_before_reading(client) -> None:
    from bettercare.app.main import MAX_BODY_BYTES

    r = client.post(
        "/auth/token",
        content=b"x" * (MAX_BODY_BYTES + 1),
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 413


def test_oversized_streamed_body_refused(client) -> None:
    from bettercare.app.main import MAX_BODY_BYTES

    chunk = b"x" * (1024 * 1024)

    def body():
        for _ in range(MAX_BODY_BYTES // len(chunk) + 2):
            yield chunk

    r = client.post("/auth/token", content=body(), headers={"content-type": "application/json"})
    assert r.status_code == 413
