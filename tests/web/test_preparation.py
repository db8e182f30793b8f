"""Reports prepared in the background: after start-up, on publishing, never in a request.

The analytics worker is kept busy (``held``) so nothing is built: the tests look at what
was queued, and at what a page shows meanwhile.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bettercare.app.analytics_store import AnalyticsStores, StoreState
from bettercare.app.models import PlanRecord
from bettercare.app.preparation import prepare_all, prepare_one
from bettercare.services.board_pack import plans_to_prepare

from .conftest import RUTLAND, csrf_of

MARLBURY_PLAN = "marlbury_2025"
RUTLAND_PLAN = "rutland-2014"


@pytest.fixture
def busy(app: FastAPI, tmp_path: Path) -> Iterator[AnalyticsStores]:
    """Background preparation on, and the app's one analytics worker kept busy."""
    app.state.settings = app.state.settings.model_copy(update={"prepare_in_background": True})
    stores = AnalyticsStores(None, tmp_path / "analytics", population=3000)
    release = threading.Event()
    stores._pool.submit(release.wait)
    app.state.analytics = stores
    yield stores
    stores.shutdown()
    release.set()


def _queued(stores: AnalyticsStores) -> list[str]:
    return [plan_id for plan_id, _, _, _ in stores._jobs]


def _set(app: FastAPI, plan_id: str, **values: object) -> None:
    with app.state.sessions() as db:
        record = db.get(PlanRecord, plan_id)
        assert record is not None
        for name, value in values.items():
            setattr(record, name, value)
        db.commit()


def _wait_for(predicate, what: str) -> None:
    """Poll (the queueing runs on a thread of its own); no timing is asserted."""
    done = threading.Event()
    for _ in range(400):
        if predicate():
            return
        done.wait(0.05)
    pytest.fail(f"never queued: {what}")


def test_start_up_queues_published_plans_only(app, busy) -> None:
    assert prepare_all(app) == 0  # nothing published in the examples
    assert _queued(busy) == []
    _set(app, MARLBURY_PLAN, published=True)
    _set(app, RUTLAND_PLAN, state="assured")  # assured counts as published
    assert prepare_all(app) == 2
    assert sorted(_queued(busy)) == [MARLBURY_PLAN, RUTLAND_PLAN]


def test_the_server_start_queues_them_in_the_background(app, busy) -> None:
    _set(app, MARLBURY_PLAN, published=True)
    with TestClient(app) as client:  # runs the lifespan: start-up
        assert client.get("/healthz").status_code == 200
        _wait_for(lambda: _queued(busy) == [MARLBURY_PLAN], "the published plan")


def test_publishing_queues_the_plan(app, busy, client, login) -> None:
    login("admin")
    page = client.get(f"/plans/{RUTLAND_PLAN}").text
    r = client.post(
        f"/plans/{RUTLAND_PLAN}/publish", data={"published": "1", "csrf_token": csrf_of(page)}
    )
    assert r.status_code == 200
    _wait_for(lambda: RUTLAND_PLAN in _queued(busy), "the plan just published")


def test_an_unpublished_plan_is_not_queued_on_change(app, busy) -> None:
    assert prepare_one(app, RUTLAND_PLAN) is False
    assert _queued(busy) == []
    _set(app, RUTLAND_PLAN, published=True)
    assert prepare_one(app, RUTLAND_PLAN) is True
    assert _queued(busy) == [RUTLAND_PLAN]


def test_a_page_view_reads_only_what_was_prepared(app, busy, client, login) -> None:
    """Queued at start-up but not made: the page says so (200) and promotes the job."""
    from bettercare.app.analytics_store import URGENT

    _set(app, MARLBURY_PLAN, published=True)
    prepare_all(app)
    r = client.get(f"/plans/{MARLBURY_PLAN}/board-pack")
    assert r.status_code == 200 and "being prepared" in r.text
    assert r.headers["refresh"] == "30"
    job = next(iter(busy._jobs.values()))
    pending = {id(entry[2]): entry[0] for entry in busy._pool._pending}
    assert pending[id(job.futures["metrics"])] == URGENT  # run next: someone is waiting
    assert pending[id(job.futures["pack"])] == URGENT
    assert pending[id(job.futures["models"])] != URGENT  # not asked for yet


def test_demo_order_published_then_the_demo_board(app) -> None:
    _set(app, MARLBURY_PLAN, published=True)
    with app.state.sessions() as db:
        chosen = [ref.id for ref, _ in plans_to_prepare(db, every_plan=True, first_hwb=RUTLAND)]
        published = [ref.id for ref, _ in plans_to_prepare(db)]
    assert chosen[:2] == [MARLBURY_PLAN, RUTLAND_PLAN]
    assert len(chosen) == 6 and published == [MARLBURY_PLAN]


def test_prepared_plan_has_pack_and_models(app, tmp_path) -> None:
    """What the jobs make: the pack and both bases of the model (no store for Marlbury)."""
    stores = AnalyticsStores(None, tmp_path / "analytics")
    with app.state.sessions() as db:
        record = db.get(PlanRecord, MARLBURY_PLAN)
        assert record is not None
        from bettercare.app.plans import plan_of

        plan = plan_of(record)
    assert stores.status(MARLBURY_PLAN, 1, plan).state is StoreState.NONE  # metrics: at once
    status = stores.wait(MARLBURY_PLAN, 1, plan, timeout=300)
    stores.shutdown()
    assert status.state is StoreState.NONE and status.pack is not None
    assert "Marlbury" in status.pack.body
    assert set(status.models) == {"plan", "observed"}
    _, message = status.models["observed"]
    assert message is not None and "cannot be modelled" in message  # said, not hidden
