"""Fixtures for the web app: a fresh app per test on a real database, users per role.

``database_url`` is the one switch between engines: SQLite (a temp file) by default.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bettercare.app.main import create_app
from bettercare.app.security import Role
from bettercare.app.seed import create_user
from bettercare.app.settings import AppSettings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PASSWORD = "correct-horse-battery-staple"
RUTLAND = "E06000017"  # the Rutland HWB's ONS code (examples/rutland_2014.yaml)
LEICESTER = "E06000016"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite in a temp file (a PostgreSQL variant is added where the server is available)."""
    return f"sqlite:///{tmp_path / 'app.db'}"


@pytest.fixture
def app(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    """A fresh app with the example plans loaded and one user per role."""
    monkeypatch.setenv("BETTERCARE_ADMIN_PASSWORD", PASSWORD)
    application = create_app(
        AppSettings(database_url=database_url, examples_dir=EXAMPLES, secret_key="t" * 48)
    )
    with application.state.sessions() as db:
        create_user(db, "editor", PASSWORD, Role.PARTNER_EDITOR, RUTLAND)
        create_user(db, "editor_leicester", PASSWORD, Role.PARTNER_EDITOR, LEICESTER)
        create_user(db, "analyst", PASSWORD, Role.ANALYST, RUTLAND)
        create_user(db, "coordinator", PASSWORD, Role.CARE_COORDINATOR, RUTLAND)
        create_user(db, "assurer", PASSWORD, Role.ASSURER)
        db.commit()
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """A browser-like client (keeps cookies)."""
    with TestClient(app) as c:
        yield c


def csrf_of(html: str) -> str:
    """The CSRF token of the first form in a page."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


@pytest.fixture
def login(client: TestClient) -> Callable[[str], TestClient]:
    """Sign ``client`` in as one of the fixture users (``admin`` included)."""

    def _login(username: str, password: str = PASSWORD) -> TestClient:
        token = csrf_of(client.get("/login").text)
        r = client.post(
            "/login",
            data={"username": username, "password": password, "csrf_token": token},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        return client

    return _login
