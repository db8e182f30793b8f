"""The board pack from the app: HTML and PDF, the public's published packs, scope."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from shown_codes import raw_codes, visible_text
from sqlalchemy import select

from bettercare.app.analytics_store import AnalyticsStores, StoreState
from bettercare.app.models import AuditEvent, PlanRecord
from bettercare.app.plans import plan_of

from . import test_metrics_pages as metrics_tests
from .conftest import RUTLAND

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


def _denied(app) -> list[AuditEvent]:
    with app.state.sessions() as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.outcome == "denied")))


def test_board_pack_html(client, login) -> None:
    login("admin")
    r = client.get(f"/plans/{MARLBURY_PLAN}/board-pack")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert "Marlbury Health and Wellbeing Board" in r.text
    assert 'id="h-summary"' in r.text and 'id="h-metrics"' in r.text
    # funding sources, conditions, partners and states as words; years as "2025-26"
    text = visible_text(r.text)
    assert raw_codes(text) == [] and "Spend 2025-26" in text  # (titles keep their own text)
    assert "Local Authority Better Care Grant" in text


@pytest.mark.slow
def test_board_pack_pdf(client, login) -> None:
    login("admin")
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
    r = client.get(f"/plans/{MARLBURY_PLAN}/board-pack")
    assert r.status_code == 200 and "Marlbury" in r.text


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
    login(user)
    r = client.get(f"/plans/{RUTLAND_PLAN}/board-pack")
    assert r.status_code == 503
    assert r.headers["retry-after"] == "5"
    assert 'id="board-pack-preparing"' in r.text


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
    key = (record.id, record.version, str(StoreState.READY), status.run)
    assert (
        configured.memo("board_packs")[key].html == r.text
    )  # built once, served from memory after


def test_no_store_pack_for_a_plan_without_preset(app, client, login, tmp_path) -> None:
    app.state.analytics = AnalyticsStores(None, tmp_path / "analytics")
    login("admin")
    r = client.get(f"/plans/{MARLBURY_PLAN}/board-pack")
    assert r.status_code == 200
    assert "7. Metrics</h2>" in r.text  # plan and reported figures only


# -- the modelling page ---------------------------------------------------


@pytest.mark.slow
def test_model_page_shows_the_monte_carlo(app, client, login, held) -> None:
    from bettercare.analytics.modelling.impact import ImpactParams, run_impact

    login("analyst")
    r = client.get(f"/plans/{RUTLAND_PLAN}/model")
    assert r.status_code == 200
    with app.state.sessions() as db:
        record = db.get(PlanRecord, RUTLAND_PLAN)
    assert record is not None
    expected = run_impact(plan_of(record), ImpactParams())  # as `bettercare model impact`
    probability = f"{expected.probability_meeting_target:.0%}"
    assert f'id="model-probability">{probability}<' in r.text
    assert f"{expected.target:,} admissions avoided in {expected.financial_year}" in r.text
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


def test_model_page_plan_without_schemes(app, client, login, held) -> None:
    from bettercare.app.plans import body_of

    with app.state.sessions() as db:
        record = db.get(PlanRecord, RUTLAND_PLAN)
        assert record is not None
        record.body = body_of(plan_of(record).model_copy(update={"schemes": []}))
        db.commit()
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
    stores.status = lambda *args: StoreStatus(StoreState.READY, linked=linked)  # type: ignore[method-assign,assignment]
    app.state.analytics = stores
    login("admin")
    r = client.get(f"/plans/{LEICESTERSHIRE_PLAN}/model?basis=observed")
    assert r.status_code == 200
    assert "The store could not be read to fit the schemes" in r.text
    assert 'id="model-probability"' in r.text  # from the plan's stated ranges
