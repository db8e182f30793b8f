"""Scheme impact model: schemes stating no range keep the default uncertainty, and no
scheme avoids fewer than 0 admissions. Known answers worked by hand in each docstring."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from bettercare.analytics.modelling import ImpactParams, run_impact
from bettercare.analytics.modelling.distributions import Fixed, Lognormal, Normal
from bettercare.analytics.modelling.impact import scheme_effects
from bettercare.data.plan_files import load_plan
from bettercare.domain.plan import EffectRange, Plan

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FY = "2015/16"  # Rutland 2014's performance year: the year modelled


@pytest.fixture(scope="module")
def rutland() -> Plan:
    return load_plan(EXAMPLES / "rutland_2014.yaml")


def _stating(plan: Plan, low: int, high: int, expected: int | None = None) -> Plan:
    """Rutland with its first scheme (UP1) stating a range for the year modelled."""
    first = plan.schemes[0].model_copy(
        update={
            "admissions_avoided_range": {FY: EffectRange(low=low, high=high)},
            "admissions_avoided": {FY: expected} if expected is not None else {},
        }
    )
    return plan.model_copy(update={"schemes": [first, *plan.schemes[1:]]})


def test_one_scheme_stating_a_value_leaves_the_others_their_share(rutland):
    """13 schemes share the planned reduction of 103 (103/13 = 7.923 each). UP1 states 20
    for certain; with no spread, the other 12 keep 7.923 each: 20 + 12 x 103/13 = 115.08,
    115 whole admissions >= 103 in every draw, P = 1 (it was 0: 20 alone misses 103)."""
    r = run_impact(_stating(rutland, 20, 20), ImpactParams(draws=1000, default_relative_sd=0))
    assert set(r.total.tolist()) == {115}
    assert r.probability_meeting_target == 1.0
    assert not any("counted as 0" in n for n in r.notes)


def test_schemes_without_a_range_keep_the_default_uncertainty(rutland):
    """UP1 states 5 to 15; each other scheme: lognormal, mean 103/13, sd 0.5 x 103/13."""
    effects, notes = scheme_effects(_stating(rutland, 5, 15), ImpactParams())
    each = 103 / 13
    assert [e.distribution for e in effects[1:]] == [Lognormal(mean=each, sd=0.5 * each)] * 12
    assert "12 of 13 schemes state no admissions avoided" in notes[0]


def test_the_headline_barely_moves_when_one_scheme_states_its_share(rutland):
    """UP1 stating 6 to 10 (peak 8, near its 7.92 share) moves P(meet) by a point or two,
    not from about a half to 0 as when the others counted as 0."""
    params = ImpactParams(draws=20_000, seed=5)
    before = run_impact(rutland, params).probability_meeting_target
    after = run_impact(_stating(rutland, 6, 10, expected=8), params).probability_meeting_target
    assert 0.3 < before < 0.7
    assert abs(after - before) < 0.05


def test_the_default_uncertainty_is_never_negative_and_keeps_the_mean(rutland):
    """Lognormal(mean 400, sd 200): sample mean 400 (se 200/sqrt(200,000) = 0.45), min > 0."""
    one = rutland.model_copy(update={"schemes": rutland.schemes[:1]})
    one = one.model_copy(
        update={"schemes": [one.schemes[0].model_copy(update={"admissions_avoided": {FY: 400}})]}
    )
    r = run_impact(one, ImpactParams(draws=200_000, seed=1))
    assert r.scheme_draws.min() > 0
    assert r.scheme_draws.mean() == pytest.approx(400, abs=2.5)
    assert not any("truncated" in n for n in r.notes)


def test_a_normal_override_is_truncated_at_zero(rutland):
    """X ~ N(5, 10) truncated at 0: P(X < 0) = Phi(-0.5) = 0.3085 of draws counted as 0;
    E[max(X, 0)] = mu Phi(mu/s) + s phi(mu/s) = 5 x 0.69146 + 10 x 0.35207 = 6.978."""
    one = rutland.model_copy(update={"schemes": rutland.schemes[:1]})
    r = run_impact(one, ImpactParams(draws=400_000, seed=2, schemes={"UP1": Normal(mean=5, sd=10)}))
    assert r.scheme_draws.min() == 0.0 and r.total.min() >= 0
    z = 0.5
    phi = math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    cdf = 0.5 * (1 + math.erf(z / math.sqrt(2)))
    assert 5 * cdf + 10 * phi == pytest.approx(6.978, abs=0.001)
    assert r.scheme_draws.mean() == pytest.approx(6.978, abs=0.05)
    assert np.mean(r.scheme_draws == 0) == pytest.approx(0.3085, abs=0.003)
    assert any(n.startswith("UP1: 30.") and "truncated at 0" in n for n in r.notes)


def test_a_stated_range_below_zero_is_truncated(rutland):
    """Triangular(-10, 0, 10) truncated at 0: E = integral_0^10 x (10 - x)/100 dx = 5/3."""
    one = _stating(rutland, -10, 10, expected=0)
    one = one.model_copy(update={"schemes": one.schemes[:1]})
    r = run_impact(one, ImpactParams(draws=400_000, seed=3))
    assert r.scheme_draws.min() == 0.0
    assert r.scheme_draws.mean() == pytest.approx(5 / 3, abs=0.02)


def test_an_expected_figure_of_zero_is_a_certain_zero(rutland):
    one = rutland.model_copy(update={"schemes": rutland.schemes[:1]})
    one = one.model_copy(
        update={"schemes": [one.schemes[0].model_copy(update={"admissions_avoided": {FY: 0}})]}
    )
    (effect,), _ = scheme_effects(one, ImpactParams())
    assert effect.distribution == Fixed(value=0)
