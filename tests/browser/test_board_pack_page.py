"""The board pack page in Chromium: NHS page template, charts drawn, axe-core clean.

The pack is the one ``bettercare report`` writes, shown inside the app's page template;
axe-core (WCAG 2.0/2.1/2.2 A and AA tags) must find no serious or critical violation on
it, for every role that may read it, nor on the "being prepared" page shown before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from bettercare.app.analytics_store import stores_of
from bettercare.app.models import PlanRecord
from bettercare.app.plans import plan_of

from .conftest import MARLBURY_PLAN, LiveServer, screenshot

pytestmark = pytest.mark.browser

AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]}}
PACK = f"/plans/{MARLBURY_PLAN}/board-pack"


def _serious(page: Page) -> list[str]:
    result = Axe().run(page, options=AXE_OPTIONS)
    return [
        f"{v['id']} ({v['impact']}, {len(v['nodes'])} nodes)"
        for v in result.response.get("violations", [])
        if v.get("impact") in ("serious", "critical")
    ]


def _publish_and_prepare(live_server: LiveServer) -> None:
    app = live_server.app
    with app.state.sessions() as db:
        record = db.get(PlanRecord, MARLBURY_PLAN)
        assert record is not None
        record.published = True
        db.commit()
        db.refresh(record)
        plan, version = plan_of(record), record.version
    stores_of(app).wait(MARLBURY_PLAN, version, plan, timeout=300)


@pytest.mark.parametrize("role", [None, "editor_marlbury", "assurer", "admin"])
def test_board_pack_page_is_nhs_styled_and_accessible(
    page: Page, sign_in: Callable[..., Page], live_server: LiveServer, role: str | None
) -> None:
    _publish_and_prepare(live_server)
    if role is not None:
        sign_in(role)
    response = page.goto(PACK)
    assert response is not None and response.status == 200
    expect(page.locator(".nhsuk-header")).to_have_count(1)
    expect(page.locator(".nhsuk-breadcrumb")).to_have_count(1)
    expect(page.locator("nav.plan-nav [aria-current=page]")).to_have_text("Board pack")
    expect(page.locator(".board-pack #h-summary")).to_contain_text("Summary and recommendations")
    assert page.locator("main").count() == 1
    # every chart drawn (SVG data URIs are allowed by the page's Content-Security-Policy)
    images = page.locator(".board-pack figure img")
    assert images.count() >= 1
    assert images.evaluate_all("els => els.every(e => e.complete && e.naturalWidth > 0)")
    # styled by the static CSS file: the cover's rule from board-pack.css applies
    border = page.locator(".board-pack .cover").evaluate(
        "e => getComputedStyle(e).borderBottomWidth"
    )
    assert border == "4px"
    assert _serious(page) == []
    screenshot(page, f"board-pack-{role or 'public'}")


def test_being_prepared_page_is_accessible(
    page: Page, sign_in: Callable[..., Page], live_server: LiveServer
) -> None:
    stores = stores_of(live_server.app)
    release = threading.Event()
    stores._pool.submit(release.wait)  # the worker is busy: the pack waits its turn
    try:
        sign_in("admin")
        response = page.goto(PACK)
        assert response is not None and response.status == 200
        expect(page.get_by_role("status")).to_contain_text("being prepared")
        expect(page.locator(".nhsuk-header")).to_have_count(1)
        assert _serious(page) == []
    finally:
        release.set()
