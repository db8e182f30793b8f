import re
from pathlib import Path

from typer.testing import CliRunner

from bettercare.cli.main import app

runner = CliRunner()
BC = "metric,area_code,period,numerator,denominator,value\n"


def test_load_then_refuse_a_malformed_file(tmp_path: Path):
    db = tmp_path / "f.duckdb"
    good = tmp_path / "good.csv"
    good.write_text(BC + "emergency_admissions_65,E06000017,2023/24,1200,9000,13333.3\n")
    r = runner.invoke(app, ["figures", "load", str(good), "--figures-db", str(db)])
    assert r.exit_code == 0, r.output
    assert "loaded 1 figure(s)" in r.output
    before = db.read_bytes()
    bad = tmp_path / "bad.csv"
    bad.write_text(BC + "emergency_admissions_65,E06000017,2024/25,12x,9000,1\n")
    r = runner.invoke(app, ["figures", "load", str(bad), "--figures-db", str(db)])
    assert r.exit_code == 2
    assert "row 2, column numerator" in r.output and "Traceback" not in r.output
    assert db.read_bytes() == before


def test_synth_load_and_peers(tmp_path: Path):
    pub = tmp_path / "pub.csv"
    db = tmp_path / "f.duckdb"
    r = runner.invoke(app, ["figures", "synth", "--out", str(pub), "--year", "2023/24"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["figures", "load", str(pub), "--figures-db", str(db)])
    assert r.exit_code == 0, r.output
    out = tmp_path / "peers"
    r = runner.invoke(
        app,
        [
            "figures",
            "peers",
            "--hwb",
            "E06000017",
            "--figures-db",
            str(db),
            "--metric",
            "reablement_91_days",
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "Rutland (E06000017)" in r.output
    assert (out / "funnel_reablement_91_days.png").read_bytes()[:4] == b"\x89PNG"
    r = runner.invoke(app, ["figures", "peers", "--hwb", "E07000001", "--figures-db", str(db)])
    assert r.exit_code == 2 and "not an HWB of England" in r.output


def test_metrics_from_published_figures_alone(tmp_path: Path):
    db = tmp_path / "f.duckdb"
    pub = tmp_path / "pub.csv"
    # Marlbury plans 23,100 per 100,000 (per year) for 2025/26; published: 2,350 of 10,000
    # = 23,500, worse by 1.7% -> AMBER (tolerance 2.5%).
    pub.write_text(
        BC
        + "emergency_admissions_65,E06000017,2024/25,2380,10000,\n"
        + "emergency_admissions_65,E06000017,2025/26,2350,10000,\n"
    )
    assert runner.invoke(app, ["figures", "load", str(pub), "--figures-db", str(db)]).exit_code == 0
    out = tmp_path / "out"
    plan = str(Path(__file__).parents[2] / "examples" / "marlbury_2025.yaml")
    r = runner.invoke(
        app,
        [
            "metrics",
            "--plan",
            plan,
            "--figures",
            str(db),
            "--grain",
            "year",
            "--hwb",
            "E06000017",
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "AMBER" in r.output and "published" in r.output
    r = runner.invoke(app, ["metrics", "--plan", plan, "--figures", str(db), "--out", str(out)])
    assert r.exit_code == 2 and "--hwb" in r.output


def test_goals_cli(tmp_path: Path):
    db = tmp_path / "f.duckdb"
    pub = tmp_path / "pub.csv"
    rows = "".join(
        f"reablement_91_days,E06000017,{y},{n},1000,\n"
        for y, n in (("2022/23", 100), ("2023/24", 120), ("2024/25", 110))
    ) + "".join(
        f"reablement_91_days,{c},2024/25,{n},1000,\n"
        for c, n in (("E06000015", 200), ("E06000016", 140), ("E06000018", 160))
    )
    pub.write_text(BC + rows)
    assert runner.invoke(app, ["figures", "load", str(pub), "--figures-db", str(db)]).exit_code == 0
    r = runner.invoke(app, ["figures", "goals", "--hwb", "E06000017", "--figures", str(db)])
    assert r.exit_code == 0, r.output
    # Rutland's Midlands peers present: 20, 14, 16 % -> median 16 = +5 points of 1,000
    assert "peer median" in r.output and "+50 people at home" in r.output


def test_demo_shows_the_plan_among_its_peers(tmp_path: Path):
    examples = Path(__file__).parents[2] / "examples"
    r = runner.invoke(
        app,
        [
            "demo",
            "--plans-only",
            "--figures",
            "--examples",
            str(examples),
            "--out",
            str(tmp_path / "out"),
            "--work",
            str(tmp_path / "work"),
        ],
    )
    assert r.exit_code == 0, r.output
    assert re.search(r"among \d+ peers \(synthetic publication\)", r.output)
    assert (tmp_path / "work" / "figures.duckdb").is_file()
    assert list((tmp_path / "out" / "figures").glob("funnel_*.png"))


def test_boards_cli_writes_the_report(tmp_path: Path):
    examples = Path(__file__).parents[2] / "examples"
    out = tmp_path / "boards.csv"
    r = runner.invoke(
        app,
        [
            "figures",
            "boards",
            "--plan",
            str(examples / "rutland_2014.yaml"),
            "--plan",
            str(examples / "central_lancashire_2015.yaml"),
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    rows = out.read_text().splitlines()
    assert [line.split(",")[0] for line in rows[1:]] == ["Midlands", "North West"]
    r = runner.invoke(app, ["figures", "boards", "--plan", str(tmp_path / "none.yaml")])
    assert r.exit_code == 2


def test_load_notes_hwb_codes_not_in_the_current_list(tmp_path: Path):
    pub = tmp_path / "pub.csv"
    # E10000023: North Yorkshire County Council, abolished in April 2023
    pub.write_text(BC + "emergency_admissions_65,E10000023,2019/20,100,1000,\n")
    r = runner.invoke(app, ["figures", "load", str(pub), "--figures-db", str(tmp_path / "f.db")])
    assert r.exit_code == 0, r.output
    assert "1 HWB code(s) not among England's current 153 HWBs" in r.output
    assert "E10000023" in r.output
