"""The published-figures pages: a board among its peers, and boards side by side."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI

from bettercare.data.figures import load_figures, read_figures_file
from bettercare.data.synth.publication import synthetic_publication, write_publication

from .conftest import RUTLAND


@pytest.fixture(scope="module")
def figures_db(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("pub")
    frame = synthetic_publication(["2015/16", "2016/17"], metrics=["reablement_91_days"])
    csv = write_publication(tmp / "pub.csv", frame)
    load_figures(read_figures_file(csv), tmp / "f.duckdb", str(csv))
    return tmp / "f.duckdb"


@pytest.fixture
def with_figures(app: FastAPI, figures_db: Path) -> FastAPI:
    app.state.settings = app.state.settings.model_copy(update={"figures": figures_db})
    return app


def test_analyst_sees_own_board_not_another(with_figures, login):
    c = login("analyst")
    r = c.get("/figures")
    assert r.status_code == 200
    assert "Among peers" in r.text and 'id="benchmarks"' in r.text and "<svg" in r.text
    assert "Help setting goals" in r.text
    assert c.get("/figures?hwb=E06000016").status_code == 403


def test_icb_view_and_csv_by_role(with_figures, login):
    c = login("assurer")
    r = c.get("/figures/icb")
    assert r.status_code == 200 and "Midlands" in r.text and "every board" in r.text
    csv = c.get("/figures/icb/download.csv?region=Midlands")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert RUTLAND in csv.text and "E10000017" not in csv.text  # Lancashire: North West


def test_icb_view_of_an_editor_is_their_board_only(with_figures, login):
    r = login("editor").get("/figures/icb/download.csv")
    codes = {line.split(",")[1] for line in r.text.splitlines()[1:]}
    assert codes == {RUTLAND}


def test_anonymous_is_sent_to_sign_in(with_figures, client):
    r = client.get("/figures/icb", headers={"accept": "text/html"}, follow_redirects=False)
    assert r.status_code == 303


def test_the_dashboard_runs_on_published_figures_alone(figures_db, tmp_path):
    from bettercare.app.analytics_store import AnalyticsStores, StoreState
    from bettercare.data.plan_files import load_plan

    from .conftest import EXAMPLES

    plan = load_plan(EXAMPLES / "leicestershire_2016.yaml")
    # a board with no synthetic preset and no store: only the published figures
    hwb = plan.hwb.model_copy(update={"ons_code": "E06000018"})
    plan = plan.model_copy(update={"hwb": hwb})
    stores = AnalyticsStores(None, tmp_path, figures=figures_db)
    status = stores.wait("nottingham", 1, plan, timeout=120)
    stores.shutdown()
    assert status.state is StoreState.READY, status.message
    assert status.linked.source == "published" and not status.synthetic
    year = status.linked.pva["year"]
    row = year[(year.metric == "reablement_91_days") & (year.period == "2016/17")].iloc[0]
    assert row.source == "published" and row.rag in ("RED", "AMBER", "GREEN")


def test_dashboard_page_from_published_figures(with_figures, login):
    from bettercare.app.analytics_store import StoreState, stores_of
    from bettercare.app.plans import import_plan
    from bettercare.data.plan_files import load_plan

    from .conftest import EXAMPLES

    plan = load_plan(EXAMPLES / "leicestershire_2016.yaml")
    plan = plan.model_copy(
        update={
            "plan_id": "nottingham_2016",
            "hwb": plan.hwb.model_copy(update={"ons_code": "E06000018", "name": "Nottingham"}),
        }
    )
    with with_figures.state.sessions() as db:
        record = import_plan(db, plan, "test")
        version = record.version
        db.commit()
    status = stores_of(with_figures).wait("nottingham_2016", version, plan, timeout=120)
    assert status.state is StoreState.READY, status.message
    r = login("assurer").get("/plans/nottingham_2016/metrics")
    assert r.status_code == 200
    assert "Measured on published figures (source: published)" in r.text
    assert "<td>published</td>" in r.text


def test_return_download_is_prefilled_from_published_figures(with_figures, figures_db, login):
    from io import BytesIO

    from openpyxl import load_workbook  # type: ignore[import-untyped]

    from bettercare.app.analytics_store import StoreState, stores_of
    from bettercare.app.plans import import_plan
    from bettercare.data.figures import read_figures
    from bettercare.data.plan_files import load_plan
    from bettercare.data.returns import METRICS
    from bettercare.domain.metrics import CATALOGUE

    from .conftest import EXAMPLES

    plan = load_plan(EXAMPLES / "leicestershire_2016.yaml")
    plan = plan.model_copy(
        update={
            "plan_id": "nottingham_2016",
            "hwb": plan.hwb.model_copy(update={"ons_code": "E06000018", "name": "Nottingham"}),
        }
    )
    with with_figures.state.sessions() as db:
        version = import_plan(db, plan, "test").version
        db.commit()
    status = stores_of(with_figures).wait("nottingham_2016", version, plan, timeout=120)
    assert status.state is StoreState.READY, status.message
    r = login("assurer").get("/plans/nottingham_2016/returns/2016-17-Q4.xlsx")
    assert r.status_code == 200
    ws = load_workbook(BytesIO(r.content))[METRICS]
    rows = {ws.cell(i, 1).value: i for i in range(2, ws.max_row + 1)}
    row = rows[CATALOGUE["reablement_91_days"].name]
    figures = read_figures(figures_db)
    published = figures[
        (figures.metric == "reablement_91_days")
        & (figures.area_code == "E06000018")
        & (figures.period == "2016/17")
    ].iloc[0]
    assert ws.cell(row, 3).value == pytest.approx(float(published.value))
    assert ws.cell(row, 7).value == "published"


# --- goal options in the plan form of a metric ------------------------------------------

GOAL_METRIC = "permanent_admissions_care_homes_65"  # per 100,000, lower is better
# Rutland 50, 40, 30 (2016/17: 60 of 200,000); four Midlands peers 10, 20, 30, 40 in
# 2016/17: peer median 25, best (lower) quartile 17.5, trajectory (process mean) 40.
GOAL_FIGURES = (
    "metric,area_code,period,numerator,denominator,value\n"
    f"{GOAL_METRIC},{RUTLAND},2014/15,100,200000,50\n"
    f"{GOAL_METRIC},{RUTLAND},2015/16,80,200000,40\n"
    f"{GOAL_METRIC},{RUTLAND},2016/17,60,200000,30\n"
    + "".join(
        f"{GOAL_METRIC},{code},2016/17,,,{v}\n"
        for code, v in (("E06000016", 10), ("E06000018", 20), ("E10000018", 30), ("E06000015", 40))
    )
)
METRIC_FORM = "/plans/rutland-2014/metrics"


@pytest.fixture
def with_goal_figures(app: FastAPI, tmp_path: Path) -> FastAPI:
    csv = tmp_path / "goals.csv"
    csv.write_text(GOAL_FIGURES)
    load_figures(read_figures_file(csv), tmp_path / "g.duckdb", str(csv))
    app.state.settings = app.state.settings.model_copy(update={"figures": tmp_path / "g.duckdb"})
    return app


def _metric_index(app: FastAPI) -> int:
    from bettercare.data.plan_store import plan_of
    from bettercare.data.tables import PlanRecord

    with app.state.sessions() as db:
        plan = plan_of(db.get(PlanRecord, "rutland-2014"))
    return [m.metric for m in plan.metrics].index(GOAL_METRIC)


def test_metric_form_offers_goal_options_and_saves_the_choice(with_goal_figures, login):
    from bettercare.data.plan_store import plan_of
    from bettercare.data.tables import AuditEvent, PlanRecord

    from .conftest import csrf_of
    from .test_plans import _form

    c = login("editor")
    index = _metric_index(with_goal_figures)
    page = c.get(f"{METRIC_FORM}/{index}").text
    assert 'id="goal-options"' in page
    assert "Continue the trajectory: <strong" in page and "40.0 per 100,000" in page
    assert "Reach the peer median" in page and "25.0 per 100,000" in page
    assert "lower quartile" in page and "17.5 per 100,000" in page
    assert "about 10 fewer care home placements (65+) a year" in page
    data = _form(page, "item-form")
    data.update({"goal.basis": "peer_median", "goal.period": "2015/16"})
    data["csrf_token"] = csrf_of(page)
    r = c.post(f"{METRIC_FORM}/{index}", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text
    with with_goal_figures.state.sessions() as db:
        metric = plan_of(db.get(PlanRecord, "rutland-2014")).metrics[index]
        audit = db.query(AuditEvent).filter(AuditEvent.target.like("%metrics%")).all()
    assert [(v.period, v.value) for v in metric.planned] == [("2015/16", 25.0)]
    assert metric.goal is not None and metric.goal.basis == "peer_median"
    assert (metric.goal.value, metric.goal.figures_period) == (25.0, "2016/17")
    assert any("peer_median" in (e.after or "") for e in audit)  # the audit shows the choice
    again = c.get(f"{METRIC_FORM}/{index}").text  # the choice is shown checked
    assert 'value="peer_median" checked' in again
    yaml = c.get("/plans/rutland-2014/plan.yaml").text
    assert "basis: peer_median" in yaml


def test_metric_form_without_figures_says_how_to_load_them(app, login):
    c = login("editor")
    page = c.get(f"{METRIC_FORM}/{_metric_index(app)}").text
    assert 'id="goal-message"' in page and "bettercare figures load" in page
    assert "serve --figures" in page and "My own value" in page
    assert "Reach the peer median" not in page


def test_serve_peers_file_names_the_peers_of_the_goals(with_goal_figures, login, tmp_path):
    peers = tmp_path / "peers.csv"
    peers.write_text(f"hwb_code,peer_code\n{RUTLAND},E06000016\n{RUTLAND},E06000018\n")
    settings = with_goal_figures.state.settings
    with_goal_figures.state.settings = settings.model_copy(update={"peers": peers})
    c = login("editor")
    page = c.get(f"{METRIC_FORM}/{_metric_index(with_goal_figures)}").text
    # peers 10 and 20: median 15, lower quartile 12.5
    assert "the 2 boards of the peer file" in page
    assert "Reach the peer median: <strong" in page and "15.0 per 100,000" in page
    assert "12.5 per 100,000" in page
    board = c.get("/figures").text
    assert "peers: the 2 boards the peer file names" in board
