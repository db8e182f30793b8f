"""Calibration: the metrics measured on a synthetic store give back the seed figures.

The generator is parameterised by seed 002's Leicestershire figures; after ingestion
(opt-outs excluded, social care linked) the metrics engine must measure them back in
*every* financial year, up to sampling noise. The z-scores come from
:func:`bettercare.pipelines.calibration.calibration_table` (Poisson counts, compound
Poisson delayed days, binomial proportions); |z| <= 4 fails about once in 16,000
metric-years by chance. Before per-year calibration the second year's permanent
admissions 65+ came out ~26% low (z ~ -4.7 at this size) and non-elective admissions
~4% low (z ~ -5).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from bettercare.data.synth import preset
from bettercare.data.synth.world import I65, build_world
from bettercare.pipelines.calibration import calibration_table
from bettercare.pipelines.synthetic import run_synthetic

#: end to end (real ingests, DuckDB stores, Splink, synthetic populations): seconds each
pytestmark = pytest.mark.slow

POPULATION = 200_000  # ~9 s: generate, ingest and link, compute
YEARS = ["2015/16", "2016/17"]


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    params = preset("leicestershire").with_population(POPULATION)
    run = run_synthetic(params, YEARS, 11, tmp_path_factory.mktemp("calibration"))
    assert run.loaded.outcome == "loaded" and set(run.metrics) == {"year"}
    return calibration_table(run.metrics["year"], params)


def test_every_metric_is_measured_in_every_year(table):
    assert len(table) == 7 * len(YEARS)
    assert set(table.period) == set(YEARS)


def test_measured_rates_match_the_seed_figures_within_sampling_noise(table):
    judged = table[table.z.notna()]
    assert len(judged) == 6 * len(YEARS)  # all but the dementia estimate
    worst = judged.loc[judged.z.abs().idxmax()]
    assert abs(worst.z) <= 4, worst.to_dict()


def test_dementia_register_holds_the_diagnosis_rate_each_year(table):
    # ~1,750 people on the register against ~2,650 expected: binomial SE ~0.9 points.
    dem = table[table.metric == "dementia_diagnosis_rate"]
    assert dem.measured.tolist() == pytest.approx([66.0, 66.0], abs=3.5)


def test_yearly_rates_hit_each_years_target_exactly():
    """No sampling here: the expected events per year are the target, opt-outs allowed for."""
    params = preset("leicestershire").with_population(20_000)
    rng = np.random.Generator(np.random.PCG64(3))
    world = build_world(params, date(2015, 4, 1), date(2018, 3, 31), rng)
    rate = 630.2 / 1e5
    expected = world.expected_by_year(
        world.yearly_rates(world.multiplier(params.risk.permanent_admission), rate, 65)
    )
    pops = world.mid_year_population(65)
    assert len(expected) == len(pops) == 3
    assert expected == pytest.approx([rate * p / (1 - params.opt_out_share) for p in pops])
    # only people 65+ at the start carry this risk, yet every year is on target
    assert world.multiplier(params.risk.permanent_admission)[world.band < I65].max() == 0


def test_dementia_diagnosis_dates_fall_before_the_register_snapshot():
    params = preset("rutland").with_population(20_000)
    world = build_world(
        params, date(2016, 4, 1), date(2017, 3, 31), np.random.Generator(np.random.PCG64(4))
    )
    dated = world.dementia_dx_date[world.dementia_dx]
    assert (dated <= world.end).all()
    assert (world.dementia_dx_date[~world.dementia_dx] > world.end).all()
    assert (dated >= world.dob[world.dementia_dx]).all()
    new = world.dementia_dx & (world.dementia_dx_date >= world.start)
    assert new.sum() > 0  # the register is topped up during the year
    assert world.dementia[world.dementia_dx].all()  # the diagnosed have dementia
