"""End to end in headless Chromium: sign in, roles, editing, sign-off, returns round trip.

Every test starts a fresh server (tests/browser/conftest.py) and signs in through the real
login form; the main pages are saved as screenshots under test-artifacts/screenshots/.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from bettercare.app.models import AuditEvent

from .conftest import LEICESTER_PLAN, RUTLAND_PLAN, LiveServer, screenshot


def _audit(live_server: LiveServer, **where: str) -> list[AuditEvent]:
    with live_server.app.state.sessions() as db:
        q = select(AuditEvent)
        for column, value in where.items():
            q = q.where(getattr(AuditEvent, column) == value)
        return list(db.scalars(q))


def test_login_shows_own_plans_only(page: Page, sign_in, live_server: LiveServer) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Health and Wellbeing Boards")
    expect(page.locator(f'a[href="/plans/{RUTLAND_PLAN}"]')).to_have_count(0)  # not published
    screenshot(page, "front-page-anonymous")

    sign_in("editor")
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("header .who")).to_contain_text("editor")
    expect(page.locator(f'a[href="/plans/{RUTLAND_PLAN}"]').first).to_be_visible()
    expect(page.locator(f'a[href="/plans/{LEICESTER_PLAN}"]')).to_have_count(0)
    screenshot(page, "front-page")
    assert _audit(live_server, action="login", actor="editor", outcome="ok")


def test_wrong_password_is_refused_on_the_form(page: Page, sign_in) -> None:
    sign_in("editor", "not-the-password")
    expect(page.get_by_role("alert")).to_contain_text("Sign-in failed")
    expect(page.get_by_label("Username")).to_have_value("editor")


def test_sign_out(page: Page, sign_in) -> None:
    sign_in("analyst")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
    expect(page.locator("header .who")).to_contain_text("Sign in")
