"""Browser tests: the real server (uvicorn on 127.0.0.1) driven by headless Chromium.

The browser is Debian's ``chromium`` package (``.ci/run`` installs it) driven by
Playwright for Python with ``executable_path`` set: Playwright's own browser download is
not used. Each test gets a fresh server on a fresh SQLite database with one user per role
(the web tests' users and password), and a fresh browser context (no cookies). Screenshots
of the main pages go to ``test-artifacts/screenshots/`` (gitignored; CI keeps them).

Without Chromium the tests are skipped with the reason, except in CI (``CI=true``), where
they fail.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from argon2 import PasswordHasher
from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from bettercare.app import security
from bettercare.app.main import create_app
from bettercare.app.security import Role
from bettercare.app.seed import create_user
from bettercare.app.settings import AppSettings
from bettercare.app.startup import prepare

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
CHROMIUM_ENV = "BETTERCARE_CHROMIUM"
PASSWORD = "correct-horse-battery-staple"
RUTLAND = "E06000017"
LEICESTER = "E06000016"
MARLBURY = "marlbury-health-and-wellbeing-board"  # no ONS code: a slug of the HWB name
RUTLAND_PLAN = "rutland-2014"  # five planning rule errors: the workflow refuses it
LEICESTER_PLAN = "leicester_city_2014"
MARLBURY_PLAN = "marlbury_2025"  # no rule errors, two recorded quarterly returns
#: Real argon2id at the lowest cost, as in tests/web/conftest.py (every test signs in).
FAST_ARGON2 = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
USERS = {
    "editor_marlbury": (Role.PARTNER_EDITOR, MARLBURY),
    "editor": (Role.PARTNER_EDITOR, RUTLAND),
    "editor_leicester": (Role.PARTNER_EDITOR, LEICESTER),
    "analyst": (Role.ANALYST, RUTLAND),
    "coordinator": (Role.CARE_COORDINATOR, RUTLAND),
    "assurer": (Role.ASSURER, None),
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test here is a ``browser`` test and ``slow`` (a server and Chromium each)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)


def in_ci() -> bool:
    """True on the CI machine (``CI=true``): a missing browser fails instead of skipping."""
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


def _unavailable(reason: str) -> None:
    if in_ci():
        pytest.fail(reason)
    pytest.skip(reason)


def chromium_executable() -> str | None:
    """The system Chromium: ``$BETTERCARE_CHROMIUM``, else ``chromium`` on PATH."""
    return (
        os.environ.get(CHROMIUM_ENV) or shutil.which("chromium") or shutil.which("chromium-browser")
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    """A running server: its base URL and the app (for reading its database in asserts)."""

    url: str
    app: FastAPI

    def has_route(self, path: str) -> bool:
        """True when the app serves ``path`` (a route template like ``/plans/{plan_id}``)."""
        return path in _route_paths(self.app.routes)


def _route_paths(routes: list[Any]) -> set[str]:
    """Every path template of ``routes``, looking into included routers (FastAPI >= 0.16x
    wraps each ``include_router`` in an object holding the ``original_router``)."""
    paths: set[str] = set()
    for route in routes:
        if (inner := getattr(route, "original_router", None)) is not None:
            paths |= _route_paths(inner.routes)
        elif isinstance(getattr(route, "path", None), str):
            paths.add(route.path)
    return paths


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """Playwright's driver for the session."""
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Headless system Chromium (``--no-sandbox`` as root: CI containers run as root)."""
    executable = chromium_executable()
    if executable is None:
        _unavailable("Chromium is not installed (apt-get install chromium; .ci/run does)")
    args = ["--disable-dev-shm-usage"]
    if os.geteuid() == 0:
        args.append("--no-sandbox")
    try:
        chromium = playwright.chromium.launch(executable_path=executable, headless=True, args=args)
    except Exception as exc:  # the driver's errors are plain Exceptions
        _unavailable(f"Chromium ({executable}) did not start: {exc}")
    yield chromium
    chromium.close()


@pytest.fixture
def live_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    """The real server on a free 127.0.0.1 port, fresh SQLite database, a user per role."""
    monkeypatch.setenv("BETTERCARE_ADMIN_PASSWORD", PASSWORD)
    monkeypatch.setattr(security, "_hasher", FAST_ARGON2)
    settings = AppSettings(
        database_url=f"sqlite:///{tmp_path / 'app.db'}",
        examples_dir=EXAMPLES,
        secret_key="b" * 48,
    )
    prepare(settings)  # what `bettercare serve` does before the server starts
    app = create_app(settings)
    with app.state.sessions() as db:
        for username, (role, hwb) in USERS.items():
            create_user(db, username, PASSWORD, role, hwb)
        db.commit()
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    try:
        yield LiveServer(url=f"http://127.0.0.1:{port}", app=app)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        app.state.engine.dispose()


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    """A fresh browser profile (no cookies) aimed at the live server; laptop-sized."""
    ctx = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    """A tab in the fresh context."""
    return context.new_page()


@pytest.fixture
def sign_in(page: Page) -> Callable[[str], Page]:
    """Sign in through the login form as one of the users (``admin`` included)."""

    def _sign_in(username: str, password: str = PASSWORD) -> Page:
        page.goto("/login")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        return page

    return _sign_in


@pytest.fixture
def needs_route(live_server: LiveServer) -> Callable[[str], None]:
    """Skip (outside CI) a test whose page has not been merged into this branch yet."""

    def _needs(path: str) -> None:
        if not live_server.has_route(path):
            _unavailable(f"the app has no {path} page yet")

    return _needs


def screenshot(page: Page, name: str) -> Path:
    """Save the whole page as ``test-artifacts/screenshots/<name>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^a-z0-9_-]+', '-', name.lower())}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
