"""One plan from draft to monitoring in Chromium, as the roles would, with a way back.

The partner editor agrees (keyboard only), records the HWB's approval and the submission
with the dates the board and NHS England gave, returns the plan to draft with a reason
(refused first without one; the reason typed keyboard only from the error summary),
takes it forward again, the assurer records the outcome and
the editor starts monitoring. No file is edited by hand; screenshots go to
test-artifacts/screenshots/.
"""

from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from bettercare.app.models import AuditEvent, PlanRecord, PlanTransition
from bettercare.app.plans import plan_of

from .conftest import MARLBURY_PLAN, LiveServer, screenshot
from .test_accessibility import _serious

PLAN = f"/plans/{MARLBURY_PLAN}"


def _tab_to(page: Page, element_id: str, limit: int = 600) -> None:
    """Press Tab until the element has the focus (keyboard only, as a user would)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
    raise AssertionError(f"#{element_id} never took the focus by Tab")


def _step(page: Page, step: str, *, date: str | None = None, note: str = "") -> None:
    if date is not None:
        page.locator(f"#date-{step}").fill(date)
    if note:
        page.locator(f"#note-{step}").fill(note)
    with page.expect_navigation():
        page.locator(f"#do-{step}").click()


def _sign_in_at_plan(page: Page, sign_in, username: str) -> None:
    sign_in(username)
    page.goto(PLAN)


def _sign_out(page: Page) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()


def test_a_plan_from_draft_to_monitoring_with_a_way_back(
    page: Page, sign_in, live_server: LiveServer, needs_route
) -> None:
    needs_route("/plans/{plan_id}/workflow")
    state = page.locator("#plan-state")
    _sign_in_at_plan(page, sign_in, "editor_marlbury")
    expect(state).to_have_text(re.compile("draft", re.I))

    # the partners' agreement, keyboard only
    _tab_to(page, "note-agree")
    page.keyboard.type("Agreed at the BCF partnership board")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "do-agree"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(state).to_have_text(re.compile("agreed", re.I))
    # 2025-26: the HWB's approval, or the submission first; each asks for its date
    expect(page.locator("#date-approve")).to_have_value("20/03/2025")  # the plan's own
    expect(page.locator("#date-submit-hint")).to_contain_text("national deadline")
    page.locator("#workflow").scroll_into_view_if_needed()
    screenshot(page, "workflow-agreed-next-steps")

    # the HWB's approval and the submission, on the dates they happened
    _step(page, "approve", date="20 March 2025", note="HWB meeting")
    expect(state).to_have_text(re.compile("approved", re.I))
    _step(page, "submit", date="31/03/2025")
    expect(state).to_have_text(re.compile("submitted", re.I))
    expect(page.locator("#add-scheme")).to_have_count(0)  # locked after the draft
    expect(page.locator("#not-editable")).to_contain_text("return it to draft")

    # the way back: a reason is required
    page.locator("#step-reopen").scroll_into_view_if_needed()
    screenshot(page, "workflow-submitted-way-back")
    with page.expect_navigation():
        page.locator("#do-reopen").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_focused()  # the focus goes to the problem
    expect(summary).to_contain_text("Give the reason for returning the plan to draft")
    expect(summary.get_by_role("link")).to_have_attribute("href", "#reason-reopen")
    expect(state).to_have_text(re.compile("submitted", re.I))
    screenshot(page, "workflow-way-back-needs-a-reason")
    assert _serious(page) == []  # axe, WCAG 2.2 AA: the reason form and its error summary
    # keyboard only again: the summary's link leads to the field, Tab to the button
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#reason-reopen")).to_be_focused()
    page.keyboard.type("NHS England asked for the capacity and demand plan")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "do-reopen"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(state).to_have_text(re.compile("draft", re.I))
    expect(page.locator("#add-scheme")).to_be_visible()  # editable again

    # forward again: the dates were cleared, so the user enters them
    _step(page, "agree")
    expect(page.locator("#date-approve")).to_have_value("")
    _step(page, "approve", date="21/03/2025")
    _step(page, "submit", date="31/03/2024")  # before the plan's window
    error = page.locator("#date-submit-error")
    expect(error).to_contain_text("between 1 April 2024 and 31 March 2026")
    expect(page.locator("#date-submit")).to_have_value("31/03/2024")
    screenshot(page, "workflow-date-outside-the-plan-years")
    assert _serious(page) == []  # the date field with its error
    _step(page, "submit", date="2025-03-31")
    expect(state).to_have_text(re.compile("submitted", re.I))
    _sign_out(page)

    _sign_in_at_plan(page, sign_in, "assurer")
    page.get_by_label("Assurance outcome").select_option("approved")
    _step(page, "assure", note="assured")
    expect(state).to_have_text(re.compile("assured", re.I))
    _sign_out(page)

    _sign_in_at_plan(page, sign_in, "editor_marlbury")
    _step(page, "monitor", note="Q1 return due")
    expect(state).to_have_text(re.compile("monitoring", re.I))
    expect(page.locator("#do-reopen")).to_have_count(0)  # an administrator's step now
    expect(page.locator("#history tbody tr")).to_have_count(9)
    expect(page.locator("#history")).to_contain_text("capacity and demand plan")
    page.locator("#workflow").scroll_into_view_if_needed()
    screenshot(page, "workflow-monitoring-after-a-way-back")

    with live_server.app.state.sessions() as db:
        moves = [
            (t.from_state, t.to_state)
            for t in db.scalars(select(PlanTransition).order_by(PlanTransition.id))
        ]
        plan = plan_of(db.get(PlanRecord, MARLBURY_PLAN))
        reopened = list(db.scalars(select(AuditEvent).where(AuditEvent.action == "reopen_plan")))
    assert moves == [
        ("draft", "agreed"),
        ("agreed", "hwb_approved"),
        ("hwb_approved", "submitted"),
        ("submitted", "draft"),
        ("draft", "agreed"),
        ("agreed", "hwb_approved"),
        ("hwb_approved", "submitted"),
        ("submitted", "assured"),
        ("assured", "monitoring"),
    ]
    assert (plan.date_agreed, plan.date_submitted) == (dt.date(2025, 3, 21), dt.date(2025, 3, 31))
    assert [e.outcome for e in reopened] == ["invalid", "ok"]
    assert "capacity and demand plan" in (reopened[1].after or "")
