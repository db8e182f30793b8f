from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bettercare.cli.main import app
from bettercare.reporting import plan_report
from bettercare.reporting.plan_report import PlanResult, risk_heatmap, write_report

#: end to end (real ingests, DuckDB stores, Splink, synthetic populations): seconds each
pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).parents[2] / "examples"


def test_heatmap_places_risk_by_likelihood_and_impact(make_plan):
    grid = risk_heatmap(make_plan())  # R1: likelihood 3, impact 4
    row = grid[5 - 4]  # rows run impact 5..1
    # 3 x 4 = 12: "high" in the NPSA matrix (8-12), as on the plan page
    assert row[3 - 1] == {"score": 12, "band": "high", "ids": ["R1"]}
    assert sum(len(c["ids"]) for r in grid for c in r) == 1


def test_report_pages_show_budget_p4p_and_rules(tmp_path, make_plan):
    plan = make_plan(lambda d: d["risks"][0].update({"score": 11}))
    index = write_report(tmp_path / "out", [PlanResult(Path("x.yaml"), plan, [])])
    page = (tmp_path / "out" / "exampleshire_2015.html").read_text()
    assert "£417,200" in page  # P4P: 280 x £1,490
    assert "£10,500,000" in page and "data:image/png;base64," in page
    assert "exampleshire_2015.html" in index.read_text()


def test_failed_report_leaves_previous_output_untouched(tmp_path, make_plan, monkeypatch):
    out = tmp_path / "out"
    write_report(out, [PlanResult(Path("x.yaml"), make_plan(), [])])
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def boom(*_a, **_k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(plan_report, "render_index", boom)
    with pytest.raises(RuntimeError):
        write_report(out, [PlanResult(Path("y.yaml"), make_plan(), [])])
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary directories left


def test_demo_writes_a_page_per_example(tmp_path):
    result = CliRunner().invoke(
        app, ["demo", "--out", str(tmp_path / "out"), "--examples", str(EXAMPLES), "--plans-only"]
    )
    assert result.exit_code == 0, result.output
    pages = {p.name for p in (tmp_path / "out").glob("*.html")}
    assert len(pages) == len(list(EXAMPLES.glob("*.yaml"))) + 1
    rutland = (tmp_path / "out" / "rutland-2014.html").read_text()
    assert "£153,470" in rutland
    assert "Metrics from linked data" not in rutland


def test_demo_with_linked_data(tmp_path):
    """The main job end to end: synthetic feeds -> ingest -> metrics -> report."""
    work = tmp_path / "work"
    result = CliRunner().invoke(
        app,
        [
            "demo",
            "--out",
            str(tmp_path / "out"),
            "--examples",
            str(EXAMPLES),
            "--work",
            str(work),
            "-n",
            "3000",
        ],
    )
    assert result.exit_code == 0, result.output
    page = (tmp_path / "out" / "leicestershire_2016.html").read_text()
    assert "Metrics from linked data" in page
    assert page.count("monthly XmR chart") >= 5
    assert "Integrated Crisis Response" in page  # scheme impact from the plan's schemes
    # numbers that explain themselves: names and units, no raw codes, the BCF notation
    from shown_codes import raw_codes, visible_text

    text = visible_text(page)
    assert raw_codes(text) == [] and "per 100,000 population aged 18+" in text
    # the board the demo prints names its metrics (the narrow terminal wraps the names;
    # tests/cli/test_demo_output.py checks its units and precision)
    assert "delayed_transfers_of_care" not in result.output and "Delayed" in result.output
    # privacy: the key is kept apart from the feeds and the store
    assert (work / "keys" / "pseudonym.key").exists()
    assert not list((work / "store").glob("*.key"))
    rutland = (tmp_path / "out" / "rutland-2014.html").read_text()
    assert "Metrics from linked data" not in rutland


def test_demo_bad_examples_dir_exits_2(tmp_path):
    result = CliRunner().invoke(
        app, ["demo", "--out", str(tmp_path / "out"), "--examples", str(tmp_path)]
    )
    assert result.exit_code == 2 and not (tmp_path / "out").exists()
