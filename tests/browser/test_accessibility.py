"""Accessibility in headless Chromium: axe-core on every page each role reaches, the
keyboard-only path through sign-in, and no sideways scrolling at phone width.

axe-core runs through axe-playwright-python with the WCAG 2.0/2.1/2.2 A and AA rules
(tags ``wcag2a``, ``wcag2aa``, ``wcag21aa``, ``wcag22aa``); a page passes with no
``serious`` or ``critical`` violation. Screenshots of the first pages of each role land in
``test-artifacts/screenshots/a11y-<role>-<page>.png``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urljoin, urlparse

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from .conftest import PASSWORD, RUTLAND_PLAN, LiveServer, screenshot

AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]}}
#: Links not followed: they change state, download files or leave the HTML pages.
SKIP = re.compile(
    r"(logout|sign-?out|\.(pdf|xlsx|csv|yaml)(\?|$)|/openapi|/docs|/fhir|/api/|download)", re.I
)
#: Pages checked per role (the outside check crawls up to 40).
MAX_PAGES = 25
#: The outermost elements reaching past the right edge of the window (for the message).
WIDE_ELEMENTS = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
    && e.parentElement.getBoundingClientRect().right <= window.innerWidth + 1)
  .slice(0, 5).map(e => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className)"""
ROLES = [None, "editor", "analyst", "coordinator", "assurer", "admin"]
DELETE_CONFIRMATION = f"/plans/{RUTLAND_PLAN}/risks/0/delete"


def _serious(page: Page) -> list[str]:
    result = Axe().run(page, options=AXE_OPTIONS)
    return [
        f"{v['id']} ({v['impact']}): "
        + "; ".join(n.get("target", [""])[0] if n.get("target") else "" for n in v["nodes"][:3])
        for v in result.response.get("violations", [])
        if v.get("impact") in ("serious", "critical")
    ]


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "public")
def test_axe_finds_no_serious_violation_on_any_page_a_role_reaches(
    page: Page, sign_in: Callable[..., Page], live_server: LiveServer, role: str | None
) -> None:
    if role is not None:
        sign_in(role)
    # The modelling page runs its Monte Carlo in the request the first time: on a busy
    # machine that can take longer than the fixture's 15 s.
    page.set_default_navigation_timeout(120_000)
    base = live_server.url
    # and a delete confirmation (a GET: nothing is deleted), which only the edit forms
    # link to, deep in the crawl: the page itself for editors, a refusal for the others
    todo, seen, problems = [base + "/", base + DELETE_CONFIRMATION], set(), []
    while todo and len(seen) < MAX_PAGES:
        url = todo.pop(0)
        if url in seen:
            continue
        seen.add(url)
        try:
            response = page.goto(url)
        except PlaywrightError:  # a "being prepared" page reloading itself interrupted us
            response = page.goto(url)
        status = response.status if response else 0
        path = urlparse(url).path
        if status >= 500 and not (status == 503 and "being prepared" in page.content()):
            problems.append(f"{path}: HTTP {status}")
        expect(page.locator(".nhsuk-header")).to_have_count(1)
        problems += [f"{path}: {v}" for v in _serious(page)]
        if len(seen) <= 6:
            screenshot(page, f"a11y-{role or 'public'}-{path.strip('/') or 'home'}")
        for href in page.locator("a[href]").evaluate_all("els => els.map(e => e.href)"):
            u = urljoin(url, href).split("#")[0]
            if u.startswith(base) and not SKIP.search(u) and u not in seen:
                todo.append(u)
    assert len(seen) >= (2 if role is None else 4), f"only {len(seen)} pages reached"
    assert not problems, "\n".join(dict.fromkeys(problems))


def test_sign_in_with_the_keyboard_only(page: Page) -> None:
    """Tab from the top: the skip link first, then to the form; Enter submits."""
    page.goto("/login")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skip to main content")
    page.keyboard.press("Enter")
    # The skip link moves focus to the main content; the next Tab reaches the form.
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "username":
            break
    expect(page.get_by_label("Username")).to_be_focused()
    page.keyboard.type("editor")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("header .who")).to_contain_text("editor")


def test_a_failed_sign_in_moves_focus_to_the_error_summary(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill("editor")
    page.get_by_label("Password").fill("not-the-password")
    with page.expect_navigation():
        page.get_by_label("Password").press("Enter")
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_focused()
    summary.get_by_role("link").first.click()
    expect(page.get_by_label("Username")).to_be_focused()


def test_a_failed_save_moves_focus_to_the_error_summary_linked_to_the_field(
    page: Page, sign_in: Callable[..., Page], needs_route: Callable[[str], None]
) -> None:
    needs_route("/plans/{plan_id}/schemes/{index}")
    sign_in("editor")
    page.goto(f"/plans/{RUTLAND_PLAN}/schemes/0")
    field = page.locator("input.nhsuk-input").filter(has_not=page.locator("[type=hidden]"))
    spend = page.locator("input[name^='spend']").first
    target = spend if spend.count() else field.first
    target.fill("a lot")
    with page.expect_navigation():
        page.locator("#save-item").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_focused()
    links = summary.locator("a")
    if links.count():
        links.first.click()
        assert page.evaluate("document.activeElement.tagName") in ("INPUT", "SELECT", "TEXTAREA")
    screenshot(page, "a11y-error-summary")


@pytest.mark.parametrize("width", [320, 768, 1280])
def test_no_sideways_scroll_of_the_page(
    page: Page, sign_in: Callable[..., Page], width: int
) -> None:
    """The page itself never scrolls sideways; wide tables scroll in their own container."""
    page.set_viewport_size({"width": width, "height": 800})
    sign_in("editor")
    page.set_default_navigation_timeout(120_000)  # the modelling page's first run
    for path in (
        "/",
        f"/plans/{RUTLAND_PLAN}",
        f"/plans/{RUTLAND_PLAN}/schemes/0",
        f"/plans/{RUTLAND_PLAN}/metrics",
        f"/plans/{RUTLAND_PLAN}/returns",
        f"/plans/{RUTLAND_PLAN}/model",
        f"/plans/{RUTLAND_PLAN}/board-pack",
        "/care/coverage",
    ):
        page.goto(path)
        over = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if width == 320:
            screenshot(page, f"phone-{path.strip('/').replace('/', '-') or 'home'}")
        wide = page.evaluate(WIDE_ELEMENTS) if over > 0 else []
        assert over <= 0, f"{path} at {width}px scrolls sideways by {over}px: {wide}"


def test_a_refused_new_user_moves_focus_to_the_error_summary(
    page: Page, sign_in: Callable[..., Page], needs_route: Callable[[str], None]
) -> None:
    needs_route("/admin/users")
    sign_in("admin")
    page.goto("/admin")
    page.locator("#username").fill("x")
    with page.expect_navigation():
        page.locator("#create-user").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_focused()
    summary.locator('a[href="#password"]').click()
    expect(page.locator("#password")).to_be_focused()


def test_the_goal_options_of_a_metric_form_are_accessible_and_saved(
    page: Page, sign_in: Callable[..., Page], live_server: LiveServer, tmp_path
) -> None:
    from bettercare.data.figures import load_figures, read_figures_file
    from bettercare.data.plan_files import load_plan

    from .conftest import EXAMPLES

    metric = "permanent_admissions_care_homes_65"
    csv = tmp_path / "goals.csv"
    csv.write_text(  # Rutland 30 per 100,000 in 2016/17; peers 10, 20, 30, 40: median 25
        "metric,area_code,period,numerator,denominator,value\n"
        f"{metric},E06000017,2015/16,,,40\n{metric},E06000017,2016/17,,,30\n"
        + "".join(
            f"{metric},{code},2016/17,,,{v}\n"
            for code, v in (("E06000016", 10), ("E06000018", 20), ("E10000018", 30))
        )
        + f"{metric},E06000015,2016/17,,,40\n"
    )
    load_figures(read_figures_file(csv), tmp_path / "g.duckdb", str(csv))
    app = live_server.app
    app.state.settings = app.state.settings.model_copy(update={"figures": tmp_path / "g.duckdb"})
    index = [m.metric for m in load_plan(EXAMPLES / "rutland_2014.yaml").metrics].index(metric)
    sign_in("editor")
    page.goto(f"/plans/{RUTLAND_PLAN}/metrics/{index}")
    expect(page.locator("#goal-options")).to_be_visible()
    assert not _serious(page)
    page.get_by_label("Reach the peer median").check()
    page.locator("#f-goal-period").fill("2015/16")
    with page.expect_navigation():
        page.locator("#save-item").click()
    expect(page.locator("#form-saved")).to_be_visible()
    expect(page.get_by_label("Reach the peer median")).to_be_checked()
    screenshot(page, "a11y-goal-options")


#: The lists of a plan whose items have a delete confirmation page.
DELETABLE = ("schemes", "funding", "risks", "conditions", "metrics", "sign_offs")


def test_axe_finds_no_serious_violation_on_the_delete_and_undo_pages(
    page: Page,
    context,
    sign_in: Callable[..., Page],
    needs_route: Callable[[str], None],
    tmp_path,
) -> None:
    """The delete pages the crawl never reaches (they follow a POST): the confirmation of
    each list (a GET, nothing deleted), the confirmation on a plan past draft, and on a
    throwaway plan the message after a delete, the restored form after an undo, the
    message once undone and the refused second undo (its error summary)."""
    from .conftest import EXAMPLES, MARLBURY_PLAN

    needs_route("/plans/{plan_id}/risks/{index}/delete")
    needs_route("/plans/{plan_id}/risks/deleted")
    problems: list[str] = []

    def check(label: str) -> None:
        expect(page.locator(".nhsuk-header")).to_have_count(1)
        problems.extend(f"{label}: {v}" for v in _serious(page))

    sign_in("editor_marlbury")  # Marlbury's plan agreed: deleting is refused there
    page.goto(f"/plans/{MARLBURY_PLAN}")
    with page.expect_navigation():
        page.locator("#do-agree").click()
    expect(page.locator("#plan-state")).to_contain_text("Agreed")
    page.goto(f"/plans/{MARLBURY_PLAN}/risks/0/delete")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Are you sure")
    expect(page.locator("main")).to_contain_text("this plan is Agreed by partners")
    check("confirmation, plan past draft")
    page.context.clear_cookies()

    sign_in("editor")
    for part in DELETABLE:  # the shared Rutland plan: only the confirmation (a GET) is opened
        response = page.goto(f"/plans/{RUTLAND_PLAN}/{part}/0/delete")
        assert response is not None and response.status == 200, part
        expect(page.get_by_role("heading", level=1)).to_contain_text("Are you sure")
        check(f"confirmation of {part}")

    # A throwaway plan (Rutland's file under another id), imported through the import page
    throwaway = tmp_path / "throwaway.yaml"
    text = (EXAMPLES / "rutland_2014.yaml").read_text(encoding="utf-8")
    throwaway.write_text(
        text.replace("plan_id: rutland-2014", "plan_id: throwaway-2014"), encoding="utf-8"
    )
    page.goto("/plans/import")
    page.locator("#import-file").set_input_files(str(throwaway))
    with page.expect_navigation():
        page.locator("#import-submit").click()
    assert "/plans/throwaway-2014" in page.url
    page.goto("/plans/throwaway-2014/risks/0/delete")
    with page.expect_navigation():
        page.locator("#confirm-delete").click()
    expect(page.locator("#deleted-notice")).to_contain_text("deleted")
    check("deleted, with its undo")
    deleted_url = page.url
    second = context.new_page()  # the same page in a second tab: its undo comes too late
    second.goto(deleted_url)
    with page.expect_navigation():
        page.locator("#undo-delete").click()
    expect(page.locator("#form-notice")).to_contain_text("Restored")
    check("restored form after the undo")
    page.goto(deleted_url)
    expect(page.locator("#deleted-notice")).to_contain_text("undone")
    check("deleted page once undone")
    with second.expect_navigation():
        second.locator("#undo-delete").click()
    expect(second.locator("#delete-message")).to_contain_text("already been undone")
    page.close()
    page = second
    check("second undo refused")
    screenshot(page, "a11y-undo-refused")
    assert not problems, "\n".join(dict.fromkeys(problems))
