"""Fixtures for the web app: a fresh app per test on a real database, users per role.

``database_url`` is the one switch between engines and is parametrized, so every web test
runs twice: on SQLite (a temp file) and on PostgreSQL (a fresh database per test on a
private server started once per session, see :mod:`tests.web.pgserver`). Where PostgreSQL
cannot be started the ``postgresql`` variants are skipped with the reason, except in CI
(``CI=true``), where they fail: CI must test both engines.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bettercare.app import security
from bettercare.app.main import create_app
from bettercare.app.security import Role
from bettercare.app.seed import create_user
from bettercare.app.settings import AppSettings
from bettercare.app.startup import prepare

from .pgserver import PostgresServer, PostgresUnavailable, find_bindir

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PASSWORD = "correct-horse-battery-staple"
RUTLAND = "E06000017"  # the Rutland HWB's ONS code (examples/rutland_2014.yaml)
LEICESTER = "E06000016"

#: Real argon2id at the lowest cost: the server's own parameters (64 MiB, 3 passes) take
#: ~0.5 s a hash on a busy CI core, and every test signs users in. Hashes carry their
#: parameters, so verification stays the library's real code path.
FAST_ARGON2 = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


# The PostgreSQL variant is `slow` so `make test-fast` runs the web tests once (SQLite);
# `make test` and CI run both.
ENGINES = ("sqlite", pytest.param("postgresql", marks=pytest.mark.slow))


def in_ci() -> bool:
    """True on the CI machine (``CI=true``), where nothing may be skipped for lack of a tool."""
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A private PostgreSQL server for the session (stopped and deleted at the end)."""
    bindir = find_bindir()
    if bindir is None:
        reason = "PostgreSQL is not installed (apt-get install postgresql; .ci/run does)"
        if in_ci():
            pytest.fail(reason)
        pytest.skip(reason)
    server = PostgresServer(bindir)
    try:
        server.start()
    except PostgresUnavailable as exc:
        server.stop()
        if in_ci():
            pytest.fail(f"PostgreSQL did not start: {exc}")
        pytest.skip(f"PostgreSQL did not start: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: SQLite in a temp file, or a new database on the test server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'app.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.create_database()
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


@pytest.fixture
def app(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FastAPI]:
    """A fresh app with the example plans loaded and one user per role."""
    monkeypatch.setenv("BETTERCARE_ADMIN_PASSWORD", PASSWORD)
    monkeypatch.setattr(security, "_hasher", FAST_ARGON2)
    settings = AppSettings(database_url=database_url, examples_dir=EXAMPLES, secret_key="t" * 48)
    # no demo store built behind a test's back (tests of it turn it on)
    settings = settings.model_copy(update={"prepare_in_background": False})
    prepare(settings)  # what `bettercare serve` does before the server starts
    application = create_app(settings)
    with application.state.sessions() as db:
        create_user(db, "editor", PASSWORD, Role.PARTNER_EDITOR, RUTLAND)
        create_user(db, "editor_leicester", PASSWORD, Role.PARTNER_EDITOR, LEICESTER)
        create_user(db, "analyst", PASSWORD, Role.ANALYST, RUTLAND)
        create_user(db, "coordinator", PASSWORD, Role.CARE_COORDINATOR, RUTLAND)
        create_user(db, "assurer", PASSWORD, Role.ASSURER)
        db.commit()
    yield application
    application.state.engine.dispose()  # before the database is dropped


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
