"""The board pack from the app: HTML and PDF, the public's published packs, scope."""

from __future__ import annotations

import re
import time
from collections import Counter

import pytest
from shown_codes import raw_codes, visible_text
from sqlalchemy import select

from bettercare.app.analytics_store import AnalyticsStores, StoreState, stores_of
from bettercare.app.models import AuditEvent, PlanRecord
from bettercare.app.plans import plan_of
from bettercare.data.plan_files import load_plan

from . import test_metrics_pages as metrics_tests
from .conftest import EXAMPLES, RUTLAND

# The metrics tests' fixtures: a demo store built once per session, and stores kept busy.
synthetic_store = metrics_tests.synthetic_store
configured = metrics_tests.configured
held = metrics_tests.held
LEICESTERSHIRE_PLAN = metrics_tests.LEICESTERSHIRE_PLAN

RUTLAND_PLAN = "rutland-2014"
MARLBURY_PLAN = "marlbury_2025"  # no store for it: the pack has the plan sections only


def _publish(app, plan_id: str) -> None:
    with app.state.sessions() as db:
        record = db.get(PlanRecord, plan_id)
        assert record is not None
        record.published = True
        db.commit()


def _prepared(app, plan_id: str):
    """Wait for the plan's background preparation (what a page view only reads)."""
    with app.state.sessions() as db:
        record = db.get(PlanRecord, plan_id)
        assert record is not None
    return stores_of(app).wait(record.id, record.version, plan_of(record), timeout=300)


def _denied(app) -> list[AuditEvent]:
    with app.state.sessions() as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.outcome == "denied")))


def test_board_pack_html(app, client, login) -> None:
    """The pack's content inside the NHS page template; the stand-alone file a download."""
    status = _prepared(app, MARLBURY_PLAN)
    login("admin")
    r = client.get(f"/plans/{MARLBURY_PLAN}/board-pack")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert "Marlbury Health and Wellbeing Board" in r.text
    assert 'id="h-summary"' in r.text and 'id="h-metrics"' in r.text
    assert 'class="nhsuk-header' in r.text and 'class="nhsuk-breadcrumb"' in r.text
    assert 'aria-label="This plan"' in r.text  # the plan's report navigation
    assert '<link rel="stylesheet" href="/static/board-pack.css">' in r.text
    assert status.pack.body in r.text and "<style" not in r.text  # no inline styles (CSP)
    assert r.text.count("<main") == 1 and r.text.count("<html") == 1
    assert "style-src 'self';" in r.headers["content-security-policy"]  # not relaxed
    assert f'href="/plans/{MARLBURY_PLAN}/board-pack.pdf"' in r.text
    download = client.get(f"/plans/{MARLBURY_PLAN}/board-pack/download")
    assert download.status_code == 200 and download.text == status.pack.html
    assert "attachment" in download.headers["content-disposition"]
    assert "sha256-" in download.headers["content-security-policy"]  # its own <style> only

    # funding sources, conditions, partners and states as words; years as "2025-26"
    text = visible_text(r.text)
    assert raw_codes(text) == [] and "Spend 2025-26" in text  # (titles keep their own text)
    assert "Local Authority Better Care Grant" in text


def test_the_pack_content_is_the_stand_alone_pack() -> None:
    """The web page's fragment is the stand-alone file's content, without its document."""
    from bettercare.reporting.board_pack import build_board_pack

    pack = build_board_pack(load_plan(EXAMPLES / "marlbury_2025.yaml"))
    start = pack.html.index('<div class="board-pack">')
    end = pack.html.rindex("</div>") + len("</div>")
    standalone = pack.html[start:end]
    assert "<main" not in pack.body and "<header" not in pack.body and "<style" not in pack.body
    assert pack.body.strip().startswith('<div class="board-pack">')

    def same(text: str) -> list[str]:  # the words and tags, the wrappers aside
        text = re.sub(r'<(/?)div( class="(cover|pack-body)")?>', "", text)
        return re.sub(r"<(/?)(main|header)\b[^>]*>", "", text).split()

    assert same(pack.body) == same(standalone)


@pytest.mark.slow
def test_board_pack_pdf(app, client, login) -> None:
    _prepared(app, MARLBURY_PLAN)
    login("admin")
    r = client.get(f"/plans/{MARLBURY_PLAN}/board-pack.pdf")  # queues the PDF
    for _ in range(600):
        if r.headers["content-type"] == "application/pdf":
            break
        assert r.status_code == 200 and "being prepared" in r.text
        time.sleep(0.5)
        r = client.get(f"/plans/{MARLBURY_PLAN}/board-pack.pdf")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-")
    assert f'filename="{MARLBURY_PLAN}-board-pack.pdf"' in r.headers["content-disposition"]


def test_public_reads_published_packs_only(app, client) -> None:
    html = {"accept": "text/html"}
    r = client.get(f"/plans/{MARLBURY_PLAN}/board-pack", headers=html, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert client.get(f"/plans/{MARLBURY_PLAN}/board-pack.pdf").status_code == 401
    assert [e.actor for e in _denied(app)] == ["anonymous", "anonymous"]
    _publish(app, MARLBURY_PLAN)
    _prepared(app, MARLBURY_PLAN)
    r = client.get(f"/plans/{MARLBURY_PLAN}/board-pack")
    assert r.status_code == 200 and "Marlbury" in r.text and 'id="h-summary"' in r.text


def test_out_of_scope_is_refused_and_audited(app, client, login, held) -> None:
    login("editor_leicester")
    assert client.get(f"/plans/{RUTLAND_PLAN}/board-pack").status_code == 403
    assert client.get(f"/plans/{RUTLAND_PLAN}/board-pack.pdf").status_code == 403
    events = _denied(app)
    assert [(e.actor, e.action, e.hwb_code) for e in events] == [
        ("editor_leicester", "view_plan", RUTLAND)
    ] * 2
    assert events[0].target == f"plan:{RUTLAND_PLAN}:board-pack"


def test_published_pack_of_another_hwb_is_readable(app, client, login, held) -> None:
    """Published board papers are public: a signed-in user of another HWB reads them too."""
    login("editor_leicester")
    _publish(app, MARLBURY_PLAN)
    assert client.get(f"/plans/{MARLBURY_PLAN}/board-pack").status_code == 200


@pytest.mark.parametrize("user", ["editor", "analyst", "coordinator", "assurer"])
def test_pack_waits_for_the_metrics(client, login, held, user: str) -> None:
    """Not prepared yet: a 200 page in the NHS template saying so, reloading itself."""
    login(user)
    for path in ("board-pack", "board-pack.pdf", "board-pack/download", "model"):
        r = client.get(f"/plans/{RUTLAND_PLAN}/{path}")
        assert r.status_code == 200, path
        assert r.headers["refresh"] == "30"
        assert 'id="board-pack-preparing"' in r.text and 'role="status"' in r.text
        assert "being prepared" in r.text and 'class="nhsuk-header' in r.text
    assert "The modelling results are being prepared" in r.text


def test_worker_runs_urgent_jobs_first_and_promotes() -> None:
    import threading

    from bettercare.app.analytics_store import BACKGROUND, Worker

    worker = Worker()
    release = threading.Event()
    worker.submit(release.wait)
    ran: list[str] = []
    late = worker.submit(ran.append, "background 1", priority=BACKGROUND)
    promoted = worker.submit(ran.append, "background 2, promoted", priority=BACKGROUND)
    worker.submit(ran.append, "urgent")
    worker.promote(promoted)
    release.set()
    late.result(timeout=30)
    # urgent jobs in the order queued (the promoted one was queued first), then the rest
    assert ran == ["background 2, promoted", "urgent", "background 1"]


@pytest.mark.slow
def test_measured_board_pack(app, client, login, configured) -> None:
    with app.state.sessions() as db:
        record = db.get(PlanRecord, LEICESTERSHIRE_PLAN)
    assert record is not None
    status = configured.wait(record.id, record.version, plan_of(record), timeout=300)
    assert status.state is StoreState.READY
    login("assurer")
    r = client.get(f"/plans/{LEICESTERSHIRE_PLAN}/board-pack")
    assert r.status_code == 200
    assert "7. Metrics: plan against actual" in r.text
    assert "Appendix B. Statistical process control charts" in r.text
    pack = configured.prepared(record.id, record.version, plan_of(record)).pack
    assert pack is status.pack and pack.body in r.text  # made once, in the background


def test_no_store_pack_for_a_plan_without_preset(app, client, login, tmp_path) -> None:
    app.state.analytics = AnalyticsStores(None, tmp_path / "analytics")
    _prepared(app, MARLBURY_PLAN)
    login("admin")
    r = client.get(f"/plans/{MARLBURY_PLAN}/board-pack")
    assert r.status_code == 200
    assert "7. Metrics</h2>" in r.text  # plan and reported figures only


# -- the modelling page ---------------------------------------------------


@pytest.mark.slow
def test_model_page_shows_the_monte_carlo(app, client, login, configured) -> None:
    from bettercare.analytics.modelling.impact import ImpactParams, run_impact

    _prepared(app, RUTLAND_PLAN)  # the Leicestershire store cannot measure Rutland
    login("analyst")
    r = client.get(f"/plans/{RUTLAND_PLAN}/model")
    assert r.status_code == 200
    with app.state.sessions() as db:
        record = db.get(PlanRecord, RUTLAND_PLAN)
    assert record is not None
    expected = run_impact(plan_of(record), ImpactParams())  # as `bettercare model impact`
    probability = f"{expected.probability_meeting_target:.0%}"
    assert f'id="model-probability">{probability}<' in r.text
    year = expected.financial_year.replace("/", "-")  # years as the BCF templates write them
    assert f"{expected.target:,} admissions avoided in {year}" in r.text
    labels = re.findall(r'<svg role="img" aria-label="([^"]+)"', r.text)
    assert len(labels) == (3 if expected.partner_shortfall else 2)
    assert f"probability of meeting the target of {expected.target:,} is {probability}" in labels[0]
    tornado = r.text[r.text.index('id="tornado-table"') :]
    assert tornado[: tornado.index("</table>")].count('<th scope="row">') == len(expected.effects)
    ids = Counter(re.findall(r'\bid="([^"]+)"', r.text))
    assert [i for i, n in ids.items() if n > 1] == []
    assert 'id="model-basis-form"' not in r.text  # no measured store to fit to yet


def test_model_page_scope(app, client, login, held) -> None:
    html = {"accept": "text/html"}
    r = client.get(f"/plans/{RUTLAND_PLAN}/model", headers=html, follow_redirects=False)
    assert r.status_code == 303
    login("editor_leicester")
    assert client.get(f"/plans/{RUTLAND_PLAN}/model").status_code == 403
    events = _denied(app)
    assert [(e.actor, e.action, e.target) for e in events] == [
        ("anonymous", "view_metrics", f"plan:{RUTLAND_PLAN}:model"),
        ("editor_leicester", "view_metrics", f"plan:{RUTLAND_PLAN}:model"),
    ]


def test_model_page_plan_without_schemes(app, client, login, configured) -> None:
    from bettercare.app.plans import body_of

    with app.state.sessions() as db:
        record = db.get(PlanRecord, RUTLAND_PLAN)
        assert record is not None
        record.body = body_of(plan_of(record).model_copy(update={"schemes": []}))
        db.commit()
    _prepared(app, RUTLAND_PLAN)
    login("editor")
    r = client.get(f"/plans/{RUTLAND_PLAN}/model")
    assert r.status_code == 200
    assert 'id="model-error"' in r.text and "This plan cannot be modelled" in r.text
    assert 'id="model-probability"' not in r.text


@pytest.mark.slow
def test_model_fitted_to_the_store(app, client, login, configured) -> None:
    with app.state.sessions() as db:
        record = db.get(PlanRecord, LEICESTERSHIRE_PLAN)
    assert record is not None
    assert configured.wait(record.id, record.version, plan_of(record)).state is StoreState.READY
    login("admin")
    page = client.get(f"/plans/{LEICESTERSHIRE_PLAN}/model").text
    assert 'id="model-basis-form"' in page
    assert "observed" not in page[page.index('id="effects-table"') :]
    fitted = client.get(f"/plans/{LEICESTERSHIRE_PLAN}/model?basis=observed").text
    effects = fitted[
        fitted.index('id="effects-table"') : fitted.index(
            "</table>", fitted.index('id="effects-table"')
        )
    ]
    assert "observed" in effects


def test_plan_navigation(app, client, login) -> None:
    """Every page of a plan links its monitoring pages; the public's, the board pack only."""
    _publish(app, MARLBURY_PLAN)
    public = client.get(f"/plans/{MARLBURY_PLAN}").text
    nav = public[
        public.index('aria-label="This plan"') : public.index(
            "</nav>", public.index('aria-label="This plan"')
        )
    ]
    assert f'href="/plans/{MARLBURY_PLAN}/board-pack"' in nav and "/metrics" not in nav
    login("admin")
    page = client.get(f"/plans/{MARLBURY_PLAN}/returns").text
    nav = page[
        page.index('aria-label="This plan"') : page.index(
            "</nav>", page.index('aria-label="This plan"')
        )
    ]
    for path in ("metrics", "returns", "board-pack", "model"):
        assert f'href="/plans/{MARLBURY_PLAN}/{path}"' in nav
    assert f'href="/plans/{MARLBURY_PLAN}/returns" aria-current="page"' in nav


@pytest.mark.slow
def test_model_fit_on_an_unreadable_store_is_a_message(app, client, login, tmp_path) -> None:
    """The store went bad after it was measured: the page says so and models from the plan."""
    from types import SimpleNamespace

    from bettercare.app.analytics_store import StoreStatus

    broken = tmp_path / "broken.duckdb"
    broken.write_bytes(b"not a DuckDB file")
    stores = AnalyticsStores(broken, tmp_path / "unused")
    linked = SimpleNamespace(store=str(broken))
    stores._prepare = lambda *args: StoreStatus(StoreState.READY, linked=linked)  # type: ignore[method-assign,assignment]
    app.state.analytics = stores
    _prepared(app, LEICESTERSHIRE_PLAN)
    login("admin")
    r = client.get(f"/plans/{LEICESTERSHIRE_PLAN}/model?basis=observed")
    assert r.status_code == 200
    assert "The store could not be read to fit the schemes" in r.text
    assert 'id="model-probability"' in r.text  # from the plan's stated ranges
