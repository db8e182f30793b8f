"""The metrics dashboard: scope, the 'being prepared' state, figures as the analytics layer's.

The synthetic store is built once per session the way the demo builds it (a small
population), through :class:`AnalyticsStores` itself; the other tests use it as a
configured store (``bettercare serve --store``).
"""

from __future__ import annotations

import json
import re
import shutil
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from shown_codes import raw_codes, visible_text
from sqlalchemy import select

from bettercare.analytics.engine import compute_metrics
from bettercare.analytics.performance import latest, plan_vs_actual
from bettercare.app.analytics_store import AnalyticsStores, StoreState, analytics_dir
from bettercare.app.models import AuditEvent, PlanRecord
from bettercare.app.plans import plan_of
from bettercare.app.settings import AppSettings
from bettercare.data.plan_files import load_plan
from bettercare.domain.labels import format_period, in_words
from bettercare.domain.money import format_gbp
from bettercare.domain.p4p import performance_sum
from bettercare.pipelines.demo_store import READY_FILE, preset_for, synthetic_years
from bettercare.reporting.metrics_report import judged_cells
from bettercare.services.dashboard import scoped_svg

from .conftest import EXAMPLES, RUTLAND

RUTLAND_PLAN = "rutland-2014"  # states no planned values: no RAG to show
LEICESTERSHIRE_PLAN = "leicestershire_2016"  # seed 002's board table: RAG on every metric
LEICESTERSHIRE = "E10000018"
MARLBURY_PLAN = "marlbury_2025"
POPULATION = 3000


@pytest.fixture(scope="session")
def synthetic_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Leicestershire's demo store, built lazily by AnalyticsStores as the server builds it."""
    root = tmp_path_factory.mktemp("analytics")
    stores = AnalyticsStores(None, root, population=POPULATION)
    plan = load_plan(EXAMPLES / "leicestershire_2016.yaml")
    status = stores.wait(LEICESTERSHIRE_PLAN, 1, plan)
    stores.shutdown()
    assert status.state is StoreState.READY, status.message
    assert status.synthetic and status.years == ("2015/16", "2016/17")
    return root / LEICESTERSHIRE_PLAN / "store" / "bettercare.duckdb"


@pytest.fixture
def held(app, tmp_path: Path) -> Iterator[AnalyticsStores]:
    """Demo stores whose one worker is busy: every plan stays 'being prepared'."""
    stores = AnalyticsStores(None, tmp_path / "analytics", population=POPULATION)
    release = threading.Event()
    stores._pool.submit(release.wait)  # occupy the single worker thread
    app.state.analytics = stores
    yield stores
    stores.shutdown()  # cancels the queued jobs: nothing is generated
    release.set()


@pytest.fixture
def configured(app, synthetic_store: Path, tmp_path: Path) -> AnalyticsStores:
    """The app as ``bettercare serve --store <synthetic store>`` runs it."""
    stores = AnalyticsStores(synthetic_store, tmp_path / "unused")
    app.state.analytics = stores
    return stores


def _record(app, plan_id: str) -> PlanRecord:
    with app.state.sessions() as db:
        record = db.get(PlanRecord, plan_id)
    assert record is not None
    return record


def _ready(app, stores: AnalyticsStores, plan_id: str):
    record = _record(app, plan_id)
    return stores.wait(record.id, record.version, plan_of(record), timeout=300)


# -- where the store comes from -----------------------------------------------------------


def test_presets_and_years() -> None:
    assert preset_for(load_plan(EXAMPLES / "rutland_2014.yaml")) == "rutland"
    assert preset_for(load_plan(EXAMPLES / "leicestershire_2016.yaml")) == "leicestershire"
    assert preset_for(load_plan(EXAMPLES / "marlbury_2025.yaml")) is None  # no ONS code
    plan = load_plan(EXAMPLES / "leicestershire_2016.yaml")
    assert synthetic_years(plan) == ["2015/16", "2016/17"]


def test_demo_stores_live_beside_the_database(tmp_path: Path) -> None:
    settings = AppSettings(database_url=f"sqlite:///{tmp_path}/app.db")
    assert analytics_dir(settings) == tmp_path / "app.analytics"


def test_server_start_does_not_build_or_open_a_store(app, tmp_path: Path) -> None:
    assert getattr(app.state, "analytics", None) is None  # made on the first metrics request
    assert not (tmp_path / "app.analytics").exists()


# -- who may see it -----------------------------------------------------------------------


@pytest.mark.parametrize("user", ["editor", "analyst", "coordinator", "assurer", "admin"])
def test_in_scope_sees_metrics_being_prepared(client, login, held, user: str) -> None:
    login(user)
    r = client.get(f"/plans/{RUTLAND_PLAN}/metrics")
    assert r.status_code == 200
    assert 'id="metrics-preparing"' in r.text and 'role="status"' in r.text
    assert "Metrics are being prepared" in r.text
    assert r.headers["refresh"] == "30"


def test_out_of_scope_is_refused_and_audited(app, client, login, held) -> None:
    login("editor_leicester")
    assert client.get(f"/plans/{RUTLAND_PLAN}/metrics").status_code == 403
    with app.state.sessions() as db:
        (event,) = db.scalars(select(AuditEvent).where(AuditEvent.outcome == "denied"))
    assert (event.actor, event.action) == ("editor_leicester", "view_metrics")
    assert event.target == f"plan:{RUTLAND_PLAN}:metrics" and event.hwb_code == RUTLAND


def test_anonymous_is_sent_to_sign_in(client, held) -> None:
    page = client.get(
        f"/plans/{RUTLAND_PLAN}/metrics", headers={"accept": "text/html"}, follow_redirects=False
    )
    assert page.status_code == 303
    assert page.headers["location"] == f"/login?next=/plans/{RUTLAND_PLAN}/metrics"
    assert client.get(f"/plans/{RUTLAND_PLAN}/metrics").status_code == 401


def test_unknown_plan(client, login) -> None:
    login("admin")
    assert client.get("/plans/nope/metrics").status_code == 404


# -- no store: the plan's own returns ------------------------------------------------------


def test_plan_without_store_shows_its_returns(client, login) -> None:
    login("admin")
    r = client.get(f"/plans/{MARLBURY_PLAN}/metrics")
    assert r.status_code == 200
    assert "refresh" not in r.headers
    assert 'id="metrics-none"' in r.text and "no synthetic data for Marlbury" in r.text
    # the 2025/26 Q1 return (examples/marlbury_2025.yaml): discharge delays not on track
    q1 = r.text[r.text.index("Quarter 1 2025-26 return") :]
    row = re.search(r"Pathway 1 delays while reablement recruits", q1)
    assert row and "Not on track" in q1[: row.start()]
    assert r.text.index("Quarter 2 2025-26 return") < r.text.index("Quarter 1 2025-26 return")
    assert "The plan has no payment-for-performance section." in r.text
    assert raw_codes(visible_text(r.text)) == []  # e.g. "not_on_track": "Not on track"


# -- measured: the same figures as `bettercare metrics` -------------------------------------


@pytest.mark.slow
def test_dashboard_shows_the_analytics_figures(app, client, login, configured) -> None:
    status = _ready(app, configured, LEICESTERSHIRE_PLAN)
    assert status.state is StoreState.READY
    login("assurer")
    page = client.get(f"/plans/{LEICESTERSHIRE_PLAN}/metrics").text
    assert f"analytics store bettercare.duckdb (HWB {LEICESTERSHIRE})" in page

    # the latest figure of each metric is plan_vs_actual's, as `bettercare metrics` prints
    plan = plan_of(_record(app, LEICESTERSHIRE_PLAN))
    actuals = compute_metrics(configured.store, "month")
    monthly = plan_vs_actual(actuals, plan, hwb_code=LEICESTERSHIRE)
    table = page[
        page.index('id="metrics-table"') : page.index("</table>", page.index('id="metrics-table"'))
    ]
    judged = [r for r in latest(monthly).itertuples() if isinstance(r.rag, str)]
    assert judged
    for row in judged:  # the figures `bettercare metrics` prints, formatted as it does
        cells = judged_cells(plan, row)
        assert f'<td>{cells["period"]}</td><td class="num">{cells["actual"]}</td>' in table
        assert format_period(row.period) == cells["period"] != row.period  # "May 2017"
    rags = re.findall(r'class="nhsuk-tag state rag-(green|amber|red)"', table)
    assert rags, "no RAG shown"
    # every metric with its unit; no raw codes anywhere a reader looks
    text = visible_text(page)
    assert "per 100,000 population aged 65+" in visible_text(table)
    shown = {c: text[max(0, text.find(c) - 80) : text.find(c) + 40] for c in raw_codes(text)}
    assert shown == {}

    # charts: inline SVG with a text alternative, a data table each, no repeated ids
    svgs = re.findall(r'<svg role="img" aria-label="([^"]+)"', page)
    assert len(svgs) >= len(status.charts.metrics) >= 3
    assert page.count("<details>") == len(status.charts.metrics)
    ids = Counter(re.findall(r'\bid="([^"]+)"', page))
    assert [i for i, n in ids.items() if n > 1] == []

    # schemes and payment for performance
    assert 'id="schemes-table"' in page and "All schemes" in page
    p4p = page[page.index('id="p4p-figures"') :]
    at_stake = performance_sum(plan)  # the domain's sum, outside the national scheme here
    assert not at_stake.national_scheme
    assert f"Value of the planned reduction in {format_period(at_stake.financial_year)}</dt>" in p4p
    assert f"<dd>{format_gbp(at_stake.performance_linked_sum)} " in p4p
    earned = status.linked.p4p
    assert earned is not None and earned.earned is None  # the plan states no baseline
    assert "<dd>not measured</dd>" in p4p and in_words(earned.reason) in p4p


@pytest.mark.slow
def test_dashboard_holds_no_person_level_data(app, client, login, configured) -> None:
    _ready(app, configured, LEICESTERSHIRE_PLAN)
    login("admin")
    page = client.get(f"/plans/{LEICESTERSHIRE_PLAN}/metrics").text
    con = duckdb.connect(str(configured.store), read_only=True)
    try:
        sql = "select table_name from information_schema.columns where column_name = 'person_id'"
        tables = {r[0] for r in con.execute(sql).fetchall()}
        assert tables
        table = sorted(tables)[0]
        people = [
            r[0] for r in con.execute(f"select distinct person_id from {table} limit 50").fetchall()
        ]
    finally:
        con.close()
    assert people and not [p for p in people if str(p) in page]


@pytest.mark.slow
def test_plan_of_another_hwb_on_the_store(app, client, login, configured) -> None:
    status = _ready(app, configured, "leicester_city_2014")
    assert status.state is StoreState.FAILED
    login("assurer")
    page = client.get("/plans/leicester_city_2014/metrics").text
    assert 'id="metrics-failed"' in page and "plan is for HWB E06000016" in page


def _finished_demo_store(synthetic_store: Path, root: Path) -> Path:
    """A copy of the session's demo store and its ready marker, as a restart finds them."""
    work = root / LEICESTERSHIRE_PLAN
    shutil.copytree(synthetic_store.parent, work / "store")
    shutil.copy(synthetic_store.parent.parent / READY_FILE, work / READY_FILE)
    return work


@pytest.mark.slow
def test_edited_scheme_targets_make_a_new_demo_store(
    app, synthetic_store, tmp_path, monkeypatch
) -> None:
    """The marker records the scheme targets the activity was generated for."""
    from bettercare.pipelines import synthetic as pipeline

    work = _finished_demo_store(synthetic_store, tmp_path / "analytics")
    marker = json.loads((work / READY_FILE).read_text(encoding="utf-8"))
    assert marker["schemes"]  # the targets the activity was generated for
    record = _record(app, LEICESTERSHIRE_PLAN)
    plan = plan_of(record)
    scheme = next(s for s in plan.schemes if any(s.admissions_avoided.values()))
    edited = plan.model_copy(
        update={
            "schemes": [
                s.model_copy(update={"admissions_avoided": {"2016/17": 999}}) if s is scheme else s
                for s in plan.schemes
            ]
        }
    )

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("generation started")

    monkeypatch.setattr(pipeline, "run_synthetic", refuse)
    stores = AnalyticsStores(None, tmp_path / "analytics", population=POPULATION)
    assert stores.wait(record.id, record.version, plan).state is StoreState.READY  # reused
    status = stores.wait(record.id, record.version + 1, edited)
    assert status.state is StoreState.FAILED and "generation started" in status.message
    stores.shutdown()


@pytest.mark.slow
def test_demo_store_is_reused_after_a_restart(
    app, client, login, synthetic_store, tmp_path
) -> None:
    """A finished demo store (its ready marker) is measured again, not regenerated."""
    work = _finished_demo_store(synthetic_store, tmp_path / "analytics")
    app.state.analytics = stores = AnalyticsStores(
        None, tmp_path / "analytics", population=POPULATION
    )
    status = _ready(app, stores, LEICESTERSHIRE_PLAN)
    assert status.state is StoreState.READY and status.synthetic
    assert not (work / "feeds").exists()  # nothing generated
    login("admin")
    page = client.get(f"/plans/{LEICESTERSHIRE_PLAN}/metrics").text
    assert "synthetic demo store: 3,000 residents, 2015-16, 2016-17" in page
    stores.shutdown()


def test_scoped_svg_prefixes_ids_and_references() -> None:
    svg = '<svg><defs><clipPath id="p1"/></defs><g clip-path="url(#p1)"><use href="#g2"/></g></svg>'
    assert scoped_svg(svg, "c1") == (
        '<svg><defs><clipPath id="c1-p1"/></defs><g clip-path="url(#c1-p1)">'
        '<use href="#c1-g2"/></g></svg>'
    )


def test_worker_runs_jobs_in_turn_on_a_daemon_thread() -> None:
    from bettercare.app.analytics_store import Worker

    worker = Worker()
    release = threading.Event()
    busy = worker.submit(release.wait)
    failing = worker.submit(lambda: 1 / 0)
    assert worker._thread is not None and worker._thread.daemon  # stopping never waits
    assert not failing.done()  # one job at a time
    release.set()
    assert busy.result(timeout=10) is True
    with pytest.raises(ZeroDivisionError):
        failing.result(timeout=10)  # the job's error reaches whoever waits

    started, hold = threading.Event(), threading.Event()
    blocking = worker.submit(lambda: started.set() or hold.wait())
    queued = worker.submit(lambda: "never")
    assert started.wait(10)
    worker.shutdown()  # cancels what is queued, not what runs
    hold.set()
    assert blocking.result(timeout=10) is True
    assert queued.cancelled()
