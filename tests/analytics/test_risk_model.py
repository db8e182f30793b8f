"""The risk model on a synthetic store (20,000 residents, 2015/16-2017/18): it beats the
age + prior admissions baseline, recovers the generator's rate ratios, and the stratify
outputs count what the percentages say. Built once per module with the pipeline."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from bettercare.analytics.risk.cohorts import SCORED_COLUMNS, score, score_population
from bettercare.analytics.risk.evaluate import evaluate_store, top_count
from bettercare.analytics.risk.features import RiskDataError, build_features
from bettercare.analytics.risk.model import fit
from bettercare.cli.main import app
from bettercare.data.synth import load_params
from bettercare.pipelines.synthetic import run_synthetic
from bettercare.reporting.risk import EVALUATION_FILES

pytestmark = pytest.mark.slow
YEARS = ("2015/16", "2016/17", "2017/18")


@pytest.fixture(scope="module")
def synthetic_store(tmp_path_factory) -> Path:
    params = load_params(None, preset="leicester").with_population(20_000)
    run = run_synthetic(params, YEARS, 7, tmp_path_factory.mktemp("risk"), grains=())
    return run.store


@pytest.fixture(scope="module")
def evaluation(synthetic_store):
    return evaluate_store(synthetic_store, "logistic")


def test_logistic_beats_the_baseline(evaluation):
    assert str(evaluation.train_index) == "2016-04-01"
    assert str(evaluation.test_index) == "2017-04-01"
    model, base = evaluation.summaries["model"], evaluation.summaries["baseline"]
    assert model["auc"] > base["auc"]
    assert evaluation.beats_baseline() == {"auc": True, "ppv_top2": True}
    # calibrated on the training year, tested on the next: slope near 1
    assert 0.8 < model["calibration_slope"] < 1.2


def test_logistic_recovers_the_generators_rate_ratios(evaluation):
    """World.multiplier: non-elective ltc_rr 1.45, dementia_rr 1.8, imd_rr 1.05 (preset)."""
    coef = evaluation.coefficients.set_index("term")["odds_ratio"]
    assert 1.2 < coef["ltc_count"] < 1.6
    assert 1.0 < coef["deprivation"] < 1.1
    assert coef["dementia"] > 1.2
    assert coef["log1p_prior_emergency_admissions"] > 1.3  # frailty persists


def test_gbm_beats_the_baseline_on_auc(synthetic_store):
    e = evaluate_store(synthetic_store, "gbm")
    assert e.summaries["model"]["auc"] > e.summaries["baseline"]["auc"]
    assert e.coefficients.empty


@pytest.fixture(scope="module")
def scored(synthetic_store):
    return score(synthetic_store)


def test_score_population_table_and_tier_counts(synthetic_store):
    table = score_population(synthetic_store)
    assert isinstance(table, pa.Table)
    assert table.column_names == list(SCORED_COLUMNS)
    n = table.num_rows
    tiers = table.column("tier").to_pylist()
    assert tiers.count("top 0.5%") == top_count(n, 0.005)
    assert tiers.count("top 0.5%") + tiers.count("top 2%") == top_count(n, 0.02)
    assert sum(t is not None for t in tiers) == top_count(n, 0.05)
    p = np.asarray(table.column("probability"))
    assert ((p > 0) & (p < 1)).all()
    # the tiers hold the highest probabilities
    flagged = np.array([t is not None for t in tiers])
    assert p[flagged].min() >= p[~flagged].max()


def test_scored_people_are_the_adults_alive_at_the_index_date(synthetic_store, scored):
    people = build_features(synthetic_store, scored.index_date)
    assert scored.table.num_rows == len(people)
    assert (people["age"] >= 18).all()


def test_evaluate_cli_writes_every_file(synthetic_store, tmp_path):
    out = tmp_path / "eval"
    res = CliRunner().invoke(
        app, ["risk", "evaluate", "--store", str(synthetic_store), "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert "beats the baseline on AUC: yes" in res.output
    assert sorted(p.name for p in out.iterdir()) == sorted(EVALUATION_FILES)
    data = json.loads((out / "evaluation.json").read_text())
    assert data["beats_baseline"]["auc"] is True
    assert (out / "calibration.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_stratify_cli_aggregates_and_direct_care_list(synthetic_store, scored, tmp_path):
    out = tmp_path / "strat"
    res = CliRunner().invoke(
        app, ["risk", "stratify", "--store", str(synthetic_store), "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert not (out / "direct_care_list.csv").exists()  # patient-level only on request
    by_hwb = pd.read_csv(out / "by_hwb.csv")
    n = scored.table.num_rows
    # rounded to the nearest 5 (suppression rule)
    assert by_hwb["top_2pct"].sum() == 5 * math.floor(top_count(n, 0.02) / 5 + 0.5)
    practices = pd.read_csv(out / "by_practice.csv")
    counted = practices.drop(columns=["hwb_code", "gp_practice"]).stack()
    assert ((counted == 0) | (counted >= 8)).all()  # nothing from 1 to 7 is shown
    res = CliRunner().invoke(
        app,
        ["risk", "stratify", "--store", str(synthetic_store), "--out", str(out), "--direct-care"],
    )
    assert res.exit_code == 0, res.output
    listed = pd.read_csv(out / "direct_care_list.csv")
    assert set(listed.columns) == set(SCORED_COLUMNS)
    assert listed["tier"].notna().sum() == top_count(n, 0.05)


def test_fit_on_too_few_people_is_refused(synthetic_store, scored):
    people = build_features(synthetic_store, scored.trained_on, outcome=True)
    with pytest.raises(RiskDataError, match="too few people"):
        fit(people.head(100))
