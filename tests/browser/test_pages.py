"""End to end in headless Chromium: sign in, roles, editing, sign-off, returns round trip.

Every test starts a fresh server (tests/browser/conftest.py) and signs in through the real
login form; the main pages are saved as screenshots under test-artifacts/screenshots/.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import openpyxl
from playwright.sync_api import Page, expect
from sqlalchemy import select

from bettercare.app.models import AuditEvent, PlanRecord
from bettercare.app.plans import plan_of

from .conftest import (
    LEICESTER_PLAN,
    MARLBURY_PLAN,
    PASSWORD,
    RUTLAND,
    RUTLAND_PLAN,
    LiveServer,
    screenshot,
)


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


def test_a_role_denied_gets_the_403_page_and_is_audited(
    page: Page, sign_in, live_server: LiveServer, needs_route
) -> None:
    needs_route("/plans/{plan_id}/schemes/{index}")
    needs_route("/admin/audit")
    sign_in("analyst")  # reads Rutland's plan, may not edit it
    response = page.goto(f"/plans/{RUTLAND_PLAN}/schemes/0")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
    expect(page.get_by_role("alert")).to_contain_text("has been recorded")
    screenshot(page, "403-not-allowed")
    assert page.goto("/admin/audit").status == 403
    assert page.goto(f"/plans/{LEICESTER_PLAN}").status == 403  # another HWB's plan
    denied = _audit(live_server, actor="analyst", outcome="denied")
    assert {e.action for e in denied} >= {"edit_plan", "view_audit", "view_plan"}


def test_edit_a_scheme(page: Page, sign_in, live_server: LiveServer, needs_route) -> None:
    needs_route("/plans/{plan_id}/schemes/{index}")
    sign_in("editor")
    page.get_by_role(
        "link", name="Rutland Health and Wellbeing Board BCF plan"
    ).first.click()  # task list, then the table
    expect(page.locator("#plan-state")).to_have_text(re.compile("draft", re.I))
    screenshot(page, "plan-overview")
    version = int(page.locator("#plan-version").inner_text())
    first = page.locator("#schemes-table tbody tr").first.get_by_role("link")
    old_name = first.inner_text()
    first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit scheme 1")
    page.locator("#f-name").fill(f"{old_name} (renamed in the browser)")
    page.locator("#save-item").click()
    expect(page.locator("#form-saved")).to_contain_text(f"version {version + 1}")
    page.get_by_role("link", name="Back to the plan").click()
    expect(page.locator("#schemes-table")).to_contain_text("(renamed in the browser)")
    expect(page.locator("#plan-version")).to_have_text(str(version + 1))
    edits = _audit(live_server, action="edit_plan", actor="editor", outcome="ok")
    assert len(edits) == 1 and "(renamed in the browser)" in (edits[0].after or "")
    assert old_name in (edits[0].before or "")


def test_a_failing_validation_is_shown_next_to_the_field(
    page: Page, sign_in, live_server: LiveServer, needs_route
) -> None:
    needs_route("/plans/{plan_id}/schemes/{index}")
    sign_in("editor")
    page.goto(f"/plans/{RUTLAND_PLAN}/schemes/0")
    spend = page.locator("#f-spend-2014-15")
    before = spend.input_value()
    spend.fill("-5")
    page.locator("#f-name").fill("Renamed but invalid")
    page.locator("#save-item").click()
    error = page.locator("#f-spend-2014-15-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("[money-format]")  # a sign is refused as money (en-GB)
    expect(spend).to_have_attribute("aria-invalid", "true")
    expect(spend).to_have_attribute("aria-describedby", re.compile("f-spend-2014-15-error"))
    expect(spend).to_have_value("-5")  # the input is kept for correcting
    screenshot(page, "edit-form-inline-error")
    page.goto(f"/plans/{RUTLAND_PLAN}/schemes/0")  # nothing was saved
    expect(page.locator("#f-spend-2014-15")).to_have_value(before)
    expect(page.locator("#f-name")).not_to_have_value("Renamed but invalid")
    assert _audit(live_server, action="edit_plan", outcome="invalid")


def _take_step(page: Page, step: str, note: str, outcome: str | None = None) -> None:
    if outcome:
        page.get_by_label("Assurance outcome").select_option(outcome)
    page.locator(f"#note-{step}").fill(note)
    with page.expect_navigation():
        page.locator(f"#do-{step}").click()


def _sign_out(page: Page) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()


def test_the_whole_sign_off_workflow(
    page: Page, sign_in, live_server: LiveServer, needs_route
) -> None:
    needs_route("/plans/{plan_id}/workflow")
    plan = f"/plans/{MARLBURY_PLAN}"
    state = page.locator("#plan-state")
    sign_in("editor_marlbury")
    page.goto(plan)
    expect(state).to_have_text(re.compile("draft", re.I))
    for step, shown in (("agree", "agreed"), ("approve", "approved"), ("submit", "submitted")):
        _take_step(page, step, f"{step}: board meeting")
        expect(state).to_have_text(re.compile(shown, re.I))
    expect(page.locator("#do-assure")).to_have_count(0)  # NHS England's step, not theirs
    expect(page.locator("#add-scheme")).to_have_count(0)  # no editing after the draft
    _sign_out(page)

    sign_in("assurer")
    page.goto(plan)
    _take_step(page, "assure", "conditions: DFG plan", outcome="approved_with_conditions")
    expect(state).to_have_text(re.compile("assured", re.I))
    expect(page.locator("#plan-outcome")).to_have_text(re.compile("conditions", re.I))
    _sign_out(page)

    sign_in("editor_marlbury")
    page.goto(plan)
    _take_step(page, "monitor", "Q1 return due")
    expect(state).to_have_text(re.compile("monitoring", re.I))
    history = page.locator("#history tbody tr")
    expect(history).to_have_count(5)
    expect(page.locator("#history")).to_contain_text("conditions: DFG plan")
    page.locator("#workflow").scroll_into_view_if_needed()
    screenshot(page, "plan-workflow-monitoring")
    steps = [
        e.action
        for e in _audit(live_server, outcome="ok")
        if e.target == f"plan:{MARLBURY_PLAN}" and e.actor != "system"
    ]
    assert steps == ["agree_plan", "approve_plan", "submit_plan", "assure_plan", "upload_return"]


def test_the_rule_errors_block_sign_off_in_the_page(page: Page, sign_in, needs_route) -> None:
    needs_route("/plans/{plan_id}/workflow")
    sign_in("editor")
    page.goto(f"/plans/{RUTLAND_PLAN}")
    _take_step(page, "agree", "we agree")
    expect(page.locator("#plan-message")).to_contain_text("planning rule error")
    expect(page.locator("#plan-state")).to_have_text(re.compile("draft", re.I))


def test_returns_download_and_upload_round_trip(
    page: Page, sign_in, live_server: LiveServer, needs_route, tmp_path
) -> None:
    needs_route("/plans/{plan_id}/returns")
    sign_in("editor_marlbury")
    page.goto(f"/plans/{MARLBURY_PLAN}/returns")
    rows = page.locator("#quarters tbody tr")
    recorded = rows.filter(has_text="Recorded").first.get_by_role("link")
    blank = rows.filter(has_text="Not yet").first.get_by_role("link")
    not_yet = rows.filter(has_text="Not yet").count()

    def download(link) -> str:
        with page.expect_download() as info:
            link.click()
        path = tmp_path / info.value.suggested_filename
        info.value.save_as(path)
        assert path.suffix == ".xlsx" and path.stat().st_size > 0
        return str(path)

    recorded_file, blank_file = download(recorded), download(blank)

    # A recorded quarter comes back unchanged: recognised, matches, nothing to record.
    page.locator("#file").set_input_files(recorded_file)
    page.locator("#upload-return").click()
    expect(page.locator("#upload-verdict")).to_contain_text("matches the return recorded")
    expect(page.locator("#record-return")).to_have_count(0)

    # A blank quarter, filled in as a partner would (Excel: here openpyxl), is new to the
    # plan: check it, then record it; the plan then holds the figure.
    filled = tmp_path / "filled.xlsx"
    _fill_actual_spend(blank_file, filled, "8500000")
    page.locator("#file").set_input_files(str(filled))
    page.locator("#upload-return").click()
    expect(page.locator("#upload-verdict")).to_contain_text("no return for this quarter yet")
    expect(page.locator("#upload-check")).to_contain_text("£8,500,000")
    screenshot(page, "returns-upload-check")
    page.locator("#record-return").click()
    expect(page.locator("#recorded-notice")).to_be_visible()
    expect(rows.filter(has_text="Not yet")).to_have_count(not_yet - 1)
    with live_server.app.state.sessions() as db:
        plan = plan_of(db.get(PlanRecord, MARLBURY_PLAN))
    spent = [r.actual_spend for r in plan.quarterly_reports if r.quarter == 3]
    assert spent and Decimal("8500000") in spent[0].values()

    # A malformed return is refused with the sheet and the cell named, nothing saved.
    bad = tmp_path / "bad-amount.xlsx"
    _fill_actual_spend(blank_file, bad, "a lot")
    page.locator("#file").set_input_files(str(bad))
    page.locator("#upload-return").click()
    error = page.locator("#file-error")
    expect(error).to_contain_text("bad-amount.xlsx")
    expect(error).to_contain_text("Income and Expenditure")
    expect(error).to_contain_text("F2")
    screenshot(page, "returns-upload-error")
    # and a file that is not a spreadsheet at all
    junk = tmp_path / "not-a-return.xlsx"
    junk.write_text("this is not a spreadsheet")
    page.locator("#file").set_input_files(str(junk))
    page.locator("#upload-return").click()
    expect(page.locator("#file-error")).to_contain_text("not-a-return.xlsx")
    assert len(_audit(live_server, action="upload_return", outcome="invalid")) == 2


def _fill_actual_spend(source: str, target: Path, value: str) -> None:
    """The first scheme's actual spend to date typed into a downloaded return."""
    book = openpyxl.load_workbook(source)
    sheet = book["Income and Expenditure"]
    assert sheet["F1"].value == "Actual spend to date"
    sheet["F2"] = float(value) if value.replace(".", "").isdigit() else value
    book.save(target)


def test_metrics_dashboard(page: Page, sign_in, needs_route) -> None:
    needs_route("/plans/{plan_id}/metrics")
    sign_in("analyst")
    page.goto(f"/plans/{RUTLAND_PLAN}/metrics")
    # The first view queues the measuring of a small synthetic store; the page reloads
    # itself until the figures are ready.
    expect(page.locator("#metrics-table")).to_be_visible(timeout=300_000)
    expect(page.locator("#metrics-table tbody tr").first).to_be_visible()
    expect(page.locator("figure svg").first).to_be_visible()
    screenshot(page, "metrics-dashboard")


def test_admin_audit_log(page: Page, sign_in, needs_route) -> None:
    needs_route("/admin/audit")
    sign_in("editor", "a-wrong-password")  # leaves a refusal in the log
    sign_in("admin")
    page.goto("/admin/audit")
    table = page.locator("#audit-table")
    expect(table).to_contain_text("bad credentials")
    page.get_by_label("Outcome").select_option("denied")
    page.locator("#audit-apply").click()
    expect(page).to_have_url(re.compile(r"outcome=denied"))
    expect(table.locator("tbody tr").first).to_contain_text("denied")
    screenshot(page, "admin-audit")
    with page.expect_download() as info:
        page.locator("#audit-csv").click()
    assert info.value.suggested_filename.endswith(".csv")


def test_user_input_is_shown_as_text_never_run(page: Page, sign_in, needs_route) -> None:
    """Pages escape what users type (Jinja autoescaping on every template): no XSS."""
    needs_route("/plans/{plan_id}/schemes/{index}")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    attack = '"><img src=x onerror="alert(1)">'
    sign_in("editor")
    page.goto(f"/plans/{RUTLAND_PLAN}/schemes/0")
    page.locator("#f-name").fill(f"Scheme {attack}")
    page.locator("#save-item").click()
    expect(page.locator("#form-saved")).to_be_visible()
    expect(page.locator("#f-name")).to_have_value(f"Scheme {attack}")
    page.goto(f"/plans/{RUTLAND_PLAN}")
    expect(page.locator("#schemes-table")).to_contain_text(f"Scheme {attack}")
    page.goto("/login")  # and the login form's echo of the username
    page.get_by_label("Username").fill(attack)
    page.get_by_label("Password").fill("wrong-password-here")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_label("Username")).to_have_value(attack)
    assert dialogs == []
    assert page.locator("img[src=x]").count() == 0


def test_care_coordination_pages(page: Page, sign_in, live_server: LiveServer, needs_route) -> None:
    """The care register in the same app: coordinators only, FHIR from the page."""
    needs_route("/care")
    from bettercare.pipelines.care_demo import demo_register

    with live_server.app.state.sessions() as db:
        demo_register(db, RUTLAND, 30, dt.date(2026, 11, 27), seed=1)
        db.commit()
    sign_in("analyst")  # aggregate figures only: the patient list is refused
    assert page.goto("/care").status == 403
    _sign_out(page)
    sign_in("coordinator")
    page.goto("/care")
    rows = page.locator("#care-list tbody tr")
    expect(rows.first).to_be_visible()
    assert rows.count() == 25  # 25 a page: the other 5 on page 2
    screenshot(page, "care-register")
    page.locator("#care-pages-next").click()
    expect(page.locator("#care-list tbody tr")).to_have_count(5)
    page.goto("/care")
    rows.first.get_by_role("link").click()
    expect(page.locator("#care-plan-form")).to_be_visible()
    page.locator("#review_due").fill("not a date")
    page.locator("#care-plan-save").click()
    expect(page.locator("#review_due-error")).to_be_visible()
    screenshot(page, "care-patient-inline-error")


def test_home_tasks_delete_with_undo_and_input_kept_after_expiry(
    page: Page, sign_in, live_server: LiveServer, needs_route
) -> None:
    """The editor's task list; a risk deleted after "are you sure" and put back by undo; a
    save after the session ended keeps what was typed through signing in again."""
    needs_route("/plans/{plan_id}/risks/{index}/delete")
    sign_in("editor")
    expect(page.locator("#tasks-plans-list")).to_contain_text("to fix before")
    screenshot(page, "home-editor-tasks")
    page.goto(f"/plans/{RUTLAND_PLAN}/risks/2")
    page.locator("#delete-item").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Are you sure")
    screenshot(page, "delete-confirmation")
    page.locator("#confirm-delete").click()
    expect(page.locator("#deleted-notice")).to_contain_text("deleted")
    page.locator("#undo-delete").click()
    expect(page.locator("#form-notice")).to_contain_text("Restored")
    page.locator("#f-owner").fill("Typed before the session ended")
    with live_server.app.state.sessions() as db:
        from bettercare.data.tables import WebSession

        db.query(WebSession).delete()
        db.commit()
    page.locator("#save-item").click()
    expect(page.locator("#kept-notice")).to_be_visible()
    page.locator("#username").fill("editor")
    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")
    # back at the form's own address (not /login), the typed input restored there
    expect(page).to_have_url(f"{live_server.url}/plans/{RUTLAND_PLAN}/risks/2")
    expect(page.locator("#form-notice")).to_contain_text("Your session ended")
    expect(page.locator("#f-owner")).to_have_value("Typed before the session ended")
    page.locator("#save-item").click()
    expect(page.locator("#form-saved")).to_be_visible()
