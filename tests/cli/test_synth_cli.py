"""``bettercare synth`` end to end with Typer's CliRunner."""

from __future__ import annotations

import json
from datetime import date

import pyarrow.parquet as pq
import pytest
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
        (["--years", "2016-18"], "--years"),  # 2016-17 (the pages' notation) is accepted
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


# --- --effect: a known scheme effect in the generated admissions -------------------------

_BASE = ["synth", "--hwb", "rutland", "--population", "1500", "--years", "2023/24"]
_BASE += ["--years", "2024/25", "--seed", "4"]


def _emergency(out, practice):
    spells = pq.read_table(out / "hospital_spells.parquet").to_pandas()
    res = pq.read_table(out / "residents.parquet").to_pandas()
    people = set(res.loc[res["gp_practice"] == practice, "nhs_number"])
    mine = spells[
        spells["nhs_number"].isin(people) & (spells["admission_method"] == "non_elective")
    ]
    return mine, spells


def test_effect_is_injected_and_its_truth_written(tmp_path):
    plain, cut = tmp_path / "plain", tmp_path / "cut"
    assert runner.invoke(app, [*_BASE, "--out", str(plain)]).exit_code == 0
    res = runner.invoke(
        app, [*_BASE, "--out", str(cut), "--effect", "2024-04-01:-100%:practices=C82001"]
    )
    assert res.exit_code == 0, res.output
    before, all_before = _emergency(plain, "C82001")
    after, all_after = _emergency(cut, "C82001")
    late = before["admission_date"] >= date(2024, 4, 1)
    # a full cut leaves exactly the practice's emergency spells admitted before the start
    assert len(after) == int((~late).sum()) and int(late.sum()) > 0
    truth = pq.read_table(cut / "_truth" / "injected_effects.parquet").to_pandas()
    assert truth["changed_spells"].sum() == -int(late.sum())
    assert len(all_after) - len(all_before) == truth["changed_spells"].sum()
    manifest = json.loads((cut / "manifest.json").read_text())
    assert manifest["injected_effects"][0]["practices"] == ["C82001"]
    assert manifest["injected_effects"][0]["relative_change"] == -1.0


@pytest.mark.parametrize(
    ("effect", "part"),
    [
        ("2024-04-01:-15", "expected START:CHANGE"),
        ("2024-04-01:-150%:practices=C82001", "between -100% and +100%"),
        ("2026-04-01:-15%:practices=C82001", "outside the generated years"),
        ("2024-04-01:-15%:practices=NOPE1", "not in the generated population: NOPE1"),
        ("2024-04-01:-15%:people=missing.csv", "cannot read missing.csv"),
    ],
)
def test_bad_effect_is_one_line_and_writes_nothing(tmp_path, effect, part):
    out = tmp_path / "out"
    res = runner.invoke(app, [*_BASE, "--out", str(out), "--effect", effect])
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.output.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and "--effect" in lines[0] and part in lines[0], res.output
    assert "Traceback" not in res.output and not out.exists()
