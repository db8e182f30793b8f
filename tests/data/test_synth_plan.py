from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from bettercare.cli.main import app
from bettercare.data.plan_files import load_plan
from bettercare.data.synth.presets import preset

EXAMPLE = Path(__file__).parents[2] / "examples" / "leicestershire_2016.yaml"


def test_plan_schemes_replace_the_presets():
    params = preset("leicestershire").with_plan_schemes(load_plan(EXAMPLE))
    got = {s.reference: s.admissions_avoided_per_year for s in params.schemes}
    # seed 002:390-407: crisis 396, OPU 240, LUCC 120, 7-day 3,258, CDU 66
    assert got == {"T3-CRISIS": 396, "T3-OPU": 240, "T3-LUCC": 120, "T3-7DAY": 3258, "T3-CDU": 66}


def test_synth_cli_with_plan(tmp_path):
    out = tmp_path / "synth"
    result = CliRunner().invoke(
        app, ["synth", "-n", "2000", "--plan", str(EXAMPLE), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    refs = set(pq.read_table(out / "scheme_activity.parquet")["scheme_reference"].to_pylist())
    assert refs == {"T3-CRISIS", "T3-OPU", "T3-LUCC", "T3-7DAY", "T3-CDU"}
    bad = CliRunner().invoke(
        app, ["synth", "--plan", str(tmp_path / "no.yaml"), "--out", str(tmp_path / "x")]
    )
    assert bad.exit_code == 2 and not (tmp_path / "x").exists()
