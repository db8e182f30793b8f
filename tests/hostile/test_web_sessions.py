"""Sessions end on the server: a cookie saved before logout, a password change or the
account being disabled signs no one in again."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from bettercare.app.models import User
from bettercare.app.security import set_password

from .conftest import PASSWORD, csrf_of

pytestmark = pytest.mark.hostile


def signed_in(client: TestClient) -> bool:
    return client.get("/admin", follow_redirects=False).status_code == 200


def saved_cookie(client: TestClient) -> str:
    value = client.cookies.get("bettercare_session")
    assert value
    return value


def replay(app: FastAPI, cookie: str, path: str = "/admin") -> int:
    with TestClient(app) as other:
        other.cookies.set("bettercare_session", cookie)
        return other.get(path, follow_redirects=False).status_code


def test_a_cookie_saved_before_logout_no_longer_works(
    app: FastAPI, client: TestClient, login: Callable[[str], TestClient]
) -> None:
    login("admin")
    cookie = saved_cookie(client)
    assert replay(app, cookie) == 200
    token = csrf_of(client.get("/admin").text)
    client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert replay(app, cookie) in (303, 401, 403)


def as_analyst(app: FastAPI, cookie: str = "", bearer: str = "") -> int:
    """/admin's answer: 403 for the analyst (signed in, not allowed), 401 for no one."""
    with TestClient(app) as other:
        if cookie:
            other.cookies.set("bettercare_session", cookie)
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        return other.get("/admin", headers=headers, follow_redirects=False).status_code


def test_a_password_change_ends_every_session_and_token(
    app: FastAPI, client: TestClient, login: Callable[[str], TestClient]
) -> None:
    login("analyst")
    cookie = saved_cookie(client)
    r = client.post("/auth/token", json={"username": "analyst", "password": PASSWORD})
    bearer = r.json()["access_token"]
    assert as_analyst(app, cookie=cookie) == 403
    assert as_analyst(app, bearer=bearer) == 403
    with app.state.sessions() as db:
        user = db.scalar(select(User).where(User.username == "analyst"))
        assert user is not None
        set_password(db, user, "a-new-long-password-9")
        db.commit()
    assert as_analyst(app, cookie=cookie) == 401
    assert as_analyst(app, bearer=bearer) == 401


def test_disabling_an_account_ends_its_sessions_at_once(
    app: FastAPI, client: TestClient, login: Callable[[str], TestClient]
) -> None:
    """Disabled and enabled again by an admin: the old cookie stays dead."""
    login("analyst")
    cookie = saved_cookie(client)
    assert as_analyst(app, cookie=cookie) == 403
    client.cookies.clear()
    login("admin")
    with app.state.sessions() as db:
        analyst = db.scalar(select(User).where(User.username == "analyst"))
        assert analyst is not None
        analyst_id = analyst.id
    for active in ("0", "1"):
        token = csrf_of(client.get("/admin").text)
        r = client.post(
            f"/admin/users/{analyst_id}/active",
            data={"csrf_token": token, "active": active},
            follow_redirects=False,
        )
        assert r.status_code in (200, 303), r.text
    assert as_analyst(app, cookie=cookie) == 401
