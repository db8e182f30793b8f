from pathlib import Path

import pytest

from bettercare.app.main import create_app
from bettercare.app.security import Principal, Role
from bettercare.app.settings import AppSettings
from bettercare.data.figures import load_figures, read_figures_file
from bettercare.data.synth.publication import synthetic_publication, write_publication
from bettercare.errors import NotPermitted
from bettercare.services.figures import board_figures, icb_csv, icb_view

EXAMPLES = Path(__file__).parents[2] / "examples"
RUTLAND, LEICESTERSHIRE = "E06000017", "E10000018"


@pytest.fixture(scope="module")
def figures_db(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("pub")
    frame = synthetic_publication(
        ["2014/15", "2015/16", "2016/17"],
        metrics=["permanent_admissions_care_homes_65", "reablement_91_days"],
    )
    csv = write_publication(tmp / "pub.csv", frame)
    load_figures(read_figures_file(csv), tmp / "f.duckdb", str(csv))
    return tmp / "f.duckdb"


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("app")
    app = create_app(
        AppSettings(
            database_url=f"sqlite:///{tmp / 'app.db'}", examples_dir=EXAMPLES, secret_key="t" * 48
        )
    )
    yield app.state.sessions
    app.state.engine.dispose()


def test_board_figures_for_the_analysts_own_board(sessions, figures_db):
    analyst = Principal("analyst", Role.ANALYST, RUTLAND, user_id=1)
    with sessions() as db:
        view = board_figures(db, analyst, figures_db)
        assert view.hwb_name == "Rutland" and not view.message
        assert {b.metric for b in view.benchmarks} == {
            "permanent_admissions_care_homes_65",
            "reablement_91_days",
        }
        assert len(view.funnels) == 2 and view.funnels[0][1].startswith("<svg")
        assert view.goals and view.peers > 0
        with pytest.raises(NotPermitted):
            board_figures(db, analyst, figures_db, LEICESTERSHIRE)
        assert "--figures" in board_figures(db, analyst, None).message


def test_icb_view_scope_and_report(sessions, figures_db):
    assurer = Principal("assurer", Role.ASSURER, None, user_id=2)
    analyst = Principal("analyst", Role.ANALYST, RUTLAND, user_id=1)
    with sessions() as db:
        every = icb_view(db, assurer, figures_db)
        mine = icb_view(db, analyst, figures_db)
        midlands = icb_view(db, assurer, figures_db, region="Midlands")
    boards = {r.hwb_code for _, rows in every.regions for r in rows}
    assert {RUTLAND, LEICESTERSHIRE, "E06000016", "E10000017"} <= boards
    assert [r.hwb_code for _, rows in mine.regions for r in rows] == [RUTLAND]
    assert {name for name, _ in midlands.regions} == {"Midlands"}
    leics = next(r for _, rows in every.regions for r in rows if r.hwb_code == LEICESTERSHIRE)
    # its plan judges permanent admissions and reablement (2016/17) on the published figures
    assert sum(leics.rag.values()) >= 1
    marlbury = next(r for _, rows in every.regions for r in rows if r.plan_id.startswith("marl"))
    assert marlbury.nhs_region == "(not an HWB of England)"  # fictional board, no ONS code
    assert marlbury.funding_total == 61_000_000 and len(marlbury.returns) == 2
    report = icb_csv(every)
    assert report.splitlines()[0].startswith("nhs_region,hwb_code,hwb_name,plan_id")
    assert LEICESTERSHIRE in report
