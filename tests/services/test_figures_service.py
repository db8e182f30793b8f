from pathlib import Path

import pytest

from bettercare.data.figures import load_figures, read_figures_file
from bettercare.data.plan_files import load_plan
from bettercare.data.synth.publication import synthetic_publication, write_publication
from bettercare.reporting.boards import PlanEntry
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


def entry(name: str) -> PlanEntry:
    p = load_plan(EXAMPLES / name)
    return PlanEntry(p, p.plan_id, p.plan_id, p.hwb.ons_code or "marlbury", "draft")


def test_board_figures(figures_db):
    view = board_figures(figures_db, RUTLAND)
    assert view.hwb_name == "Rutland" and not view.message
    assert {b.metric for b in view.benchmarks} == {
        "permanent_admissions_care_homes_65",
        "reablement_91_days",
    }
    assert len(view.funnels) == 2 and view.funnels[0][1].startswith("<svg")
    assert view.goals and view.peers > 0
    assert "--figures" in board_figures(None, RUTLAND).message
    assert "not an HWB of England" in board_figures(figures_db, "E07000001").message


def test_icb_view_and_report(figures_db):
    view = icb_view(
        [entry("leicestershire_2016.yaml"), entry("marlbury_2025.yaml")], figures_db, scope="x"
    )
    rows = {r.hwb_code: r for _, rs in view.regions for r in rs}
    # its plan judges permanent admissions and reablement (2016/17) on the published figures
    assert sum(rows[LEICESTERSHIRE].rag.values()) >= 1
    assert rows["marlbury"].nhs_region == "(not an HWB of England)"
    assert rows["marlbury"].funding_total == 61_000_000 and len(rows["marlbury"].returns) == 2
    report = icb_csv(view)
    assert report.splitlines()[0].startswith("nhs_region,hwb_code,hwb_name,plan_id")
    assert "--figures" in icb_view([], None).message
