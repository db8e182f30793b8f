"""``bettercare synth`` end to end with Typer's CliRunner."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
from typer.testing import CliRunner

from bettercare.cli.main import app
from bettercare.data.schema import FEEDS
from bettercare.data.synth.params import NOISE_LEVELS

runner = CliRunner()


def test_synth_writes_every_feed(tmp_path):
    out = tmp_path / "synth"
    result = runner.invoke(
        app,
        [
            "synth",
            "--hwb",
            "rutland",
            "--population",
            "1500",
            "--years",
            "2015/16",
            "--years",
            "2016/17",
            "--seed",
            "3",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"wrote {len(FEEDS)} feeds" in result.output  # 10 with ae_attendances
    for name in FEEDS:
        assert (out / f"{name}.parquet").exists()
    assert (out / "_truth" / "social_care_person.parquet").exists()
    assert (out / "_truth" / "residents_risk.parquet").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["hwb_code"] == "E06000017"
    assert manifest["params"]["area"]["population"] == 1500
    years = pq.read_table(out / "population.parquet").column("year").to_pylist()
    assert sorted(set(years)) == [2015, 2016]


def test_params_file_overrides_preset(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("noise:\n  missing_nhs_number: 0.5\n")
    out = tmp_path / "o"
    result = runner.invoke(
        app, ["synth", "--hwb", "leicester", "-n", "800", "--params", str(f), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["params"]["noise"]["missing_nhs_number"] == 0.5
    assert manifest["hwb"] == "Leicester"


def _bad(tmp_path, text, *args):
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    out = tmp_path / "out"
    result = runner.invoke(app, ["synth", "--params", str(f), "--out", str(out), *args])
    assert result.exit_code == 2
    assert not out.exists()
    assert "Traceback" not in result.output
    return result.output.strip()


def test_out_of_range_value_names_file_field_and_rule(tmp_path):
    msg = _bad(tmp_path, "event_rates:\n  falls_65_per_100k_per_month: 0\n")
    assert len(msg.splitlines()) == 1
    assert "bad.yaml" in msg
    assert "event_rates.falls_65_per_100k_per_month" in msg
    assert "greater than 0" in msg


def test_unknown_field_and_bad_yaml(tmp_path):
    assert "unknown field" in _bad(tmp_path, "noise:\n  typos: 0.1\n")
    assert "bad.yaml:2: not valid YAML" in _bad(tmp_path, "noise: [\n")


def test_bad_hwb_years_population(tmp_path):
    out = tmp_path / "out"
    for args, text in (
        (["--hwb", "york"], "unknown --hwb"),
        (["--years", "2016-17"], "--years"),
        (["--population", "5"], "area.population"),
    ):
        result = runner.invoke(app, ["synth", "--out", str(out), *args])
        assert result.exit_code == 2, args
        assert text in result.output
        assert not out.exists()


def test_print_schema():
    result = runner.invoke(app, ["synth", "--print-schema"])
    assert result.exit_code == 0
    assert json.loads(result.output)["title"] == "SynthParams"


def test_noise_level_replaces_the_noise_section():
    result = runner.invoke(app, ["synth", "-n", "1000", "--noise", "high", "--print-params"])
    assert result.exit_code == 0, result.output
    noise = json.loads(result.output)["noise"]
    assert noise == NOISE_LEVELS["high"].model_dump(mode="json")
    assert noise != NOISE_LEVELS["low"].model_dump(mode="json")
    bad = runner.invoke(app, ["synth", "--noise", "extreme"])
    assert bad.exit_code == 2
    assert "unknown --noise 'extreme' (known: low, realistic, high)" in " ".join(bad.output.split())
