"""``bettercare model impact`` / ``pathway``: output, files, and bad input as one line (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from metrics_fixtures import A, store_file
from typer.testing import CliRunner

from bettercare.cli.main import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
RUTLAND = EXAMPLES / "rutland_2014.yaml"

SMALL_PATHWAY = {
    "days": 120,
    "warm_up_days": 14,
    "replications": 3,
    "arrivals": {"per_day": 3},
    "pathways": [
        {
            "id": "reablement",
            "name": "Reablement",
            "service": "discharge_pathway_1",
            "share": 2,
            "capacity": 8,
            "length_of_service": {"kind": "lognormal", "mean": 2, "sd": 1},
        },
        {
            "id": "bed",
            "name": "Bed",
            "service": "discharge_pathway_2",
            "share": 1,
            "capacity": 4,
            "length_of_service": {"kind": "exponential", "mean": 3},
            "working_days": 5,
        },
    ],
}


def _write(tmp_path: Path, name: str, data: dict) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _one_error_line(result, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    assert "Traceback" not in result.output
    for n in needles:
        assert n in lines[0], (n, lines[0])


def test_impact_on_rutland_prints_the_probability(tmp_path):
    out = tmp_path / "out"
    r = runner.invoke(
        app, ["model", "impact", "--plan", str(RUTLAND), "--draws", "2000", "--out", str(out)]
    )
    assert r.exit_code == 0, r.output
    assert "Probability of meeting the target: " in r.output
    assert "Performance-linked sum: £153,470" in r.output
    assert "Rutland County Council" in r.output
    assert {p.name for p in out.iterdir()} == {
        "impact.html",
        "admissions_avoided.png",
        "tornado.png",
        "partner_shortfall.png",
        "impact_summary.csv",
    }
    html = (out / "impact.html").read_text()
    assert "Probability of meeting the target" in html and 'src="tornado.png"' in html
    assert (out / "tornado.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_impact_is_reproducible_for_a_seed():
    args = ["model", "impact", "--plan", str(RUTLAND), "--draws", "3000", "--seed", "5"]
    assert runner.invoke(app, args).output == runner.invoke(app, args).output


def test_impact_with_zero_variance_is_certain():
    r = runner.invoke(
        app,
        ["model", "impact", "--plan", str(RUTLAND), "--draws", "100", "--default-relative-sd", "0"],
    )
    assert "Probability of meeting the target: 100%" in r.output


def test_plan_without_schemes_is_one_line_and_nothing_written(tmp_path):
    data = yaml.safe_load(RUTLAND.read_text())
    data["schemes"] = []
    plan = _write(tmp_path, "noschemes.yaml", data)
    out = tmp_path / "out"
    r = runner.invoke(app, ["model", "impact", "--plan", str(plan), "--out", str(out)])
    _one_error_line(r, str(plan), "schemes", "no schemes")
    assert not out.exists()


def test_params_naming_unknown_scheme_or_bad_draws(tmp_path):
    params = _write(tmp_path, "p.yaml", {"schemes": {"NOPE": {"kind": "fixed", "value": 3}}})
    r = runner.invoke(app, ["model", "impact", "--plan", str(RUTLAND), "--params", str(params)])
    _one_error_line(r, str(params), "schemes.NOPE")
    r = runner.invoke(app, ["model", "impact", "--plan", str(RUTLAND), "--draws", "0"])
    _one_error_line(r, "draws")
    params = _write(
        tmp_path, "q.yaml", {"schemes": {"UP1": {"kind": "uniform", "low": 2, "high": 2}}}
    )
    r = runner.invoke(app, ["model", "impact", "--plan", str(RUTLAND), "--params", str(params)])
    _one_error_line(r, str(params), "schemes.UP1", "low < high")


def test_pathway_help():
    r = runner.invoke(app, ["model", "pathway", "--help"])
    assert r.exit_code == 0 and "--sweep" in r.output and "--target-delay" in r.output


def test_pathway_runs_and_writes(tmp_path):
    cfg = _write(tmp_path, "pw.yaml", SMALL_PATHWAY)
    out = tmp_path / "out"
    r = runner.invoke(
        app,
        [
            "model",
            "pathway",
            "--config",
            str(cfg),
            "--out",
            str(out),
            "--sweep",
            "bed",
            "--target-delay",
            "2",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "Discharge delays by pathway" in r.output and "Capacity sweep" in r.output
    assert {p.name for p in out.iterdir()} == {
        "pathway.html",
        "waiting_time.png",
        "pathway_measures.png",
        "capacity_sweep.png",
        "pathway_summary.csv",
        "capacity_demand.csv",
    }
    text = (out / "capacity_demand.csv").read_text()
    assert "discharge_pathway_1" in text and "discharge_pathway_2" in text


@pytest.mark.parametrize(
    ("change", "needles"),
    [
        (lambda d: d["pathways"][0].update(capacity=-1), ["pathways.0.capacity"]),
        (
            lambda d: d["arrivals"].update(
                day_of_week=dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), 0)
            ),
            ["day_of_week", "no mass"],
        ),
        (
            lambda d: d["pathways"][1].update(
                length_of_service={"kind": "uniform", "low": 2, "high": 2}
            ),
            ["pathways.1.length_of_service", "low < high"],
        ),
        (
            lambda d: d["pathways"][0].update(
                length_of_service={"kind": "empirical", "values": [1, 2], "weights": [0, 0]}
            ),
            ["no mass"],
        ),
    ],
)
def test_bad_pathway_config_is_one_line_and_nothing_run(tmp_path, change, needles):
    import copy

    data = copy.deepcopy(SMALL_PATHWAY)
    change(data)
    cfg = _write(tmp_path, "bad.yaml", data)
    out = tmp_path / "out"
    r = runner.invoke(app, ["model", "pathway", "--config", str(cfg), "--out", str(out)])
    _one_error_line(r, str(cfg), *needles)
    assert not out.exists()


def test_sweep_of_unknown_pathway_or_without_target(tmp_path):
    cfg = _write(tmp_path, "pw.yaml", SMALL_PATHWAY)
    r = runner.invoke(
        app, ["model", "pathway", "--config", str(cfg), "--sweep", "nope", "--target-delay", "1"]
    )
    _one_error_line(r, "--sweep nope")
    r = runner.invoke(app, ["model", "pathway", "--config", str(cfg), "--sweep", "bed"])
    _one_error_line(r, "--target-delay")


def test_example_pathway_config_is_valid():
    from bettercare.analytics.modelling.pathway import PathwayConfig
    from bettercare.data.param_files import read_params_file

    cfg = PathwayConfig.model_validate(read_params_file(EXAMPLES / "modelling" / "pathway.yaml"))
    assert {p.service.value for p in cfg.pathways if p.service} == {
        "discharge_pathway_1",
        "discharge_pathway_2",
        "discharge_pathway_3",
    }


@pytest.mark.slow
def test_pathway_from_the_store(tmp_path):
    """Arrivals estimated from the linked data: HWB A's supported discharges."""
    store = store_file(tmp_path / "s.duckdb")
    data = dict(SMALL_PATHWAY, hwb_code=A)
    cfg = _write(tmp_path, "pw.yaml", data)
    out = tmp_path / "out"
    r = runner.invoke(
        app, ["model", "pathway", "--config", str(cfg), "--store", store, "--out", str(out)]
    )
    assert r.exit_code == 0, r.output
    assert f"arrivals estimated from {store} for HWB {A}" in " ".join(r.output.split())
    assert (out / "capacity_demand_vs_measured.csv").exists()
    r = runner.invoke(
        app,
        [
            "model",
            "pathway",
            "--config",
            str(_write(tmp_path, "n.yaml", SMALL_PATHWAY)),
            "--store",
            store,
        ],
    )
    _one_error_line(r, "hwb_code", "2 HWBs")


def test_impact_fitted_to_the_store(tmp_path):
    """ICRS avoided 30, 40, 50 in April-June 2016: fitted to 480 (sd 60) for 2016/17."""
    store = store_file(tmp_path / "s.duckdb")
    data = yaml.safe_load((EXAMPLES / "leicestershire_2016.yaml").read_text())
    scheme = {**data["schemes"][0], "reference": "ICRS", "admissions_avoided": {"2016/17": 300}}
    data["schemes"] = [scheme]
    plan = _write(tmp_path, "plan.yaml", data)
    r = runner.invoke(
        app, ["model", "impact", "--plan", str(plan), "--store", store, "--draws", "20000"]
    )
    assert r.exit_code == 0, r.output
    # target 1,517 vs N(480, 60): no chance
    assert "Probability of meeting the target: 0%" in r.output


def test_store_not_found_is_one_line(tmp_path):
    r = runner.invoke(
        app,
        ["model", "impact", "--plan", str(RUTLAND), "--store", str(tmp_path / "missing.duckdb")],
    )
    _one_error_line(r, "missing.duckdb")
