"""Synthetic population parameters: presets, files, validation messages."""

from __future__ import annotations

import json

import pytest

from bettercare.data.schema import AGE_BANDS
from bettercare.data.synth import PRESETS, ParamsError, json_schema, load_params, preset


@pytest.mark.parametrize(
    ("name", "code", "low", "high"),
    [
        ("leicester", "E06000016", 330_000, 360_000),  # seed 000: 360,000 residents
        ("leicestershire", "E10000018", 650_000, 680_000),
        ("rutland", "E06000017", 37_000, 38_000),  # seed 003: 37,015 in 2012
        ("lancashire", "E10000017", 400_000, 500_000),  # seed 004: just under half a million
    ],
)
def test_presets_have_codes_and_seed_populations(name, code, low, high):
    p = preset(name)
    assert p.area.hwb_code == code
    assert low <= p.area.population <= high
    assert set(p.demography.age_sex.male) == set(AGE_BANDS)


def test_leicestershire_rates_are_seed_002_figures():
    r = preset("leicestershire").event_rates
    assert r.non_elective_per_100k_per_month == 714.78
    assert r.falls_65_per_100k_per_month == 118.05
    assert r.permanent_admissions_65_per_100k_per_year == 630.2
    assert r.dtoc_days_per_100k_18_per_month == 351.1
    assert r.reablement_at_home_91_days == 0.88
    assert r.survey_positive_share == 0.636


def test_all_presets_listed():
    assert set(PRESETS) == {"leicester", "leicestershire", "rutland", "lancashire"}
    with pytest.raises(KeyError, match="known: leicester"):
        preset("york")


def test_yaml_file_is_merged_over_preset(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("event_rates:\n  non_elective_per_100k_per_month: 800\nopt_out_share: 0.03\n")
    p = load_params(f, preset="rutland")
    assert p.event_rates.non_elective_per_100k_per_month == 800
    assert p.event_rates.falls_65_per_100k_per_month == 118.05  # untouched
    assert p.opt_out_share == 0.03
    assert p.area.name == "Rutland"


def test_json_file_roundtrip(tmp_path):
    full = preset("leicester").model_dump(mode="json")
    f = tmp_path / "p.json"
    f.write_text(json.dumps(full))
    assert load_params(f, preset=None) == preset("leicester")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "event_rates:\n  non_elective_per_100k_per_month: -5\n",
            ["event_rates.non_elective_per_100k_per_month", "greater than 0", "-5"],
        ),
        (
            "noise:\n  missing_nhs_number: 1.5\n",
            ["noise.missing_nhs_number", "less than or equal to 1"],
        ),
        ("area:\n  hwb_code: X123\n", ["area.hwb_code", "pattern"]),
        (
            "noise:\n  missing_nhs_number: 0.6\n  mistyped_nhs_number: 0.5\n",
            ["noise", "must be <= 1"],
        ),
        ("colour: blue\n", ["colour", "unknown field"]),
        ("noise:\n  typo_rate: 0.1\n", ["noise.typo_rate", "unknown field"]),
        ("demography:\n  ltc_mean_by_age: {'0-5': 1}\n", ["ltc_mean_by_age", "unknown age band"]),
        ("a: [1,\n", ["not valid YAML", "yaml-syntax"]),
        # the plan files' limits hold for parameter files too
        (
            "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            + "".join(
                f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n"
                for p, c in zip("abcdefg", "bcdefgh", strict=True)
            ),
            ["node-count"],
        ),
        ("n: " + "9" * 5000 + "\n", ["number"]),
        ("- 1\n- 2\n", ["expected a mapping"]),
    ],
)
def test_bad_files_give_one_line_errors(tmp_path, text, expected):
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    with pytest.raises(ParamsError) as info:
        load_params(f, preset="leicestershire")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(f))
    for part in expected:
        assert part in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [("[" * 100_000 + "]" * 100_000, "nested too deeply"), ('{"a": ' + "9" * 5000 + "}", "digits")],
)
def test_bad_json_gives_one_line_errors(tmp_path, text, expected):
    f = tmp_path / "bad.json"
    f.write_text(text)
    with pytest.raises(ParamsError, match=expected):
        load_params(f, preset="leicestershire")


def test_missing_file_is_a_params_error(tmp_path):
    with pytest.raises(ParamsError, match="cannot read"):
        load_params(tmp_path / "nope.yaml")


def test_json_schema_forbids_unknown_fields():
    schema = json_schema()
    assert schema["additionalProperties"] is False
    assert "event_rates" in schema["properties"]
