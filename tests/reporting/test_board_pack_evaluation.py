"""The board pack shows an evaluation beside "Will the schemes deliver?"."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from bettercare.analytics.evaluation import Effect, Evaluation, EvaluationSpec
from bettercare.cli.main import app
from bettercare.data.plan_files import load_plan
from bettercare.reporting.board_pack import build_board_pack

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _evaluation() -> Evaluation:
    spec = EvaluationSpec(name="Home first", change_date=date(2024, 4, 1), treated=["C82001"])
    return Evaluation(
        spec,
        [
            Effect(
                method="interrupted time series",
                units="emergency admissions per 1,000 residents per month",
                estimable=True,
                effect=-0.512,
                ci_low=-0.9,
                ci_high=-0.124,
                admissions_avoided=123.4,
                avoided_ci_low=30.0,
                avoided_ci_high=216.0,
            ),
            Effect(
                method="synthetic control",
                units="emergency admissions per 1,000 residents per month",
                estimable=False,
                reason="too few comparison units: 3 (need 10)",
            ),
        ],
    )


def test_the_pack_shows_effects_and_reasons():
    plan = load_plan(EXAMPLES / "rutland_2014.yaml")
    html = build_board_pack(plan, evaluation=_evaluation()).html
    section = html[html.index('id="scheme-evaluation"') :]
    assert "Home first" in section and "2024-04-01" in section
    assert "-0.512" in section and "-0.900 to -0.124" in section
    assert "123" in section and "30 to 216" in section
    assert "cannot be estimated: too few comparison units: 3 (need 10)" in section


def test_the_pack_without_an_evaluation_has_no_section():
    plan = load_plan(EXAMPLES / "rutland_2014.yaml")
    assert 'id="scheme-evaluation"' not in build_board_pack(plan).html


def test_report_evaluation_needs_a_store(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("change_date: 2024-04-01\n")
    res = CliRunner().invoke(
        app,
        [
            "report",
            "--plan",
            str(EXAMPLES / "rutland_2014.yaml"),
            "--evaluation",
            str(spec),
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert res.exit_code == 2 and "--evaluation needs --store" in res.output
