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
