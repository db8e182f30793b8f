from pathlib import Path

import pytest

from bettercare.data.figures import load_figures, read_figures_file
from bettercare.data.plan_files import load_plan
from bettercare.data.synth.publication import synthetic_publication, write_publication
from bettercare.reporting.board_pack import BoardPackError, build_board_pack, measure

EXAMPLES = Path(__file__).parents[2] / "examples"


@pytest.fixture(scope="module")
def figures_db(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("pub")
    frame = synthetic_publication(
        ["2014/15", "2015/16", "2016/17"],
        metrics=["permanent_admissions_care_homes_65", "reablement_91_days"],
        seed=3,
    )
    csv = write_publication(tmp / "pub.csv", frame)
    db = tmp / "figs.duckdb"
    load_figures(read_figures_file(csv), db, str(csv))
    return db


def test_a_figures_file_alone_drives_the_board_pack(figures_db):
    plan = load_plan(EXAMPLES / "leicestershire_2016.yaml")
    linked = measure(plan, figures=figures_db)
    assert linked.source == "published"
    year = linked.pva["year"]
    row = year[(year.metric == "permanent_admissions_care_homes_65") & (year.period == "2016/17")]
    assert row.source.iloc[0] == "published"
    assert row.rag.iloc[0] in ("RED", "AMBER", "GREEN")  # judged against the plan's 606.4
    assert {c.benchmark.metric for c in linked.comparisons} == {
        "permanent_admissions_care_homes_65",
        "reablement_91_days",
    }
    pack = build_board_pack(plan, linked=linked)
    assert "Measured on published figures for HWB E10000018" in pack.html
    assert "Among peers: England, region and peer group" in pack.html
    assert pack.html.count("Funnel plot of") >= 2


def test_a_plan_without_an_ons_code_needs_the_hwb(figures_db):
    plan = load_plan(EXAMPLES / "marlbury_2025.yaml")
    with pytest.raises(BoardPackError, match=r"states no hwb\.ons_code"):
        measure(plan, figures=figures_db)


def test_a_missing_figures_database_is_one_line(tmp_path):
    plan = load_plan(EXAMPLES / "leicestershire_2016.yaml")
    with pytest.raises(BoardPackError, match="no figures database"):
        measure(plan, figures=tmp_path / "none.duckdb")


def test_a_given_peer_list_is_used(figures_db):
    plan = load_plan(EXAMPLES / "leicestershire_2016.yaml")
    linked = measure(plan, figures=figures_db, peers=["E06000016", "E06000017", "E06000018"])
    assert linked.peer_codes == ("E06000016", "E06000017", "E06000018")
    assert all(c.benchmark.peers == 3 for c in linked.comparisons)
