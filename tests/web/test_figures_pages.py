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
