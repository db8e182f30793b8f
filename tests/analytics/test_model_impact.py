"""Scheme impact Monte Carlo: hand-worked and reference values."""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from bettercare.analytics.modelling import ImpactParams, ModellingInputError, run_impact
from bettercare.analytics.modelling.distributions import Fixed, Normal, Triangular
from bettercare.analytics.modelling.impact import fit_to_observed, scheme_effects
from bettercare.data.plan_files import load_plan
from bettercare.domain.p4p import performance_sum
from bettercare.domain.plan import EffectRange, Plan, RiskShare, Scheme

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def rutland() -> Plan:
    return load_plan(EXAMPLES / "rutland_2014.yaml")


def _fixed(plan: Plan, values: list[float]) -> ImpactParams:
    refs = [s.reference for s in plan.schemes]
    return ImpactParams(
        draws=500, schemes={r: Fixed(value=v) for r, v in zip(refs, values, strict=True)}
    )


def test_zero_variance_reproduces_the_deterministic_p4p_sum(rutland):
    """Every scheme certain: 103 x £1,490 = £153,470 linked to performance, in every draw."""
    r = run_impact(rutland, ImpactParams(draws=2000, default_relative_sd=0))
    assert set(r.total.tolist()) == {103}
    assert r.linked_sum == Decimal("153470") == performance_sum(rutland).performance_linked_sum
    assert set(r.earned.tolist()) == {153470.0}
    assert set(r.shortfall.tolist()) == {0.0}
    assert r.probability_meeting_target == 1.0
    assert "shared equally between the 13 schemes" in r.notes[0]


def test_a_shortfall_is_priced_and_shared_50_50_by_hand(rutland):
    """12 schemes x 7 + 1 x 6 = 90 avoided: earned 90 x £1,490 = £134,100, short £19,370."""
    r = run_impact(rutland, _fixed(rutland, [7] * 12 + [6]))
    assert set(r.total.tolist()) == {90}
    assert set(r.earned.tolist()) == {134_100.0}
    assert set(r.shortfall.tolist()) == {19_370.0}
    assert set(r.partner_shortfall["rutland_county_council"].tolist()) == {9_685.0}
    assert set(r.partner_shortfall["elr_ccg"].tolist()) == {9_685.0}
    assert r.probability_meeting_target == 0.0


def test_the_contingency_reserve_meets_the_shortfall_first(rutland):
    plan = rutland.model_copy(
        update={
            "risk_share": RiskShare(
                shares={"rutland_county_council": 50, "elr_ccg": 50},
                contingency_reserve=Decimal(5000),
            )
        }
    )
    r = run_impact(plan, _fixed(plan, [7] * 12 + [6]))
    assert set(r.contingency_used.tolist()) == {5000.0}
    # (19,370 - 5,000) / 2 = 7,185 each
    assert set(r.partner_shortfall["elr_ccg"].tolist()) == {7185.0}


@pytest.mark.parametrize(
    ("shares", "reserve"),
    [
        ({"rutland_county_council": 50, "elr_ccg": 50}, 0),
        ({"rutland_county_council": 60, "elr_ccg": 30}, 10_000),
        ({"rutland_county_council": 33.3, "elr_ccg": 66.7}, 2_980),
    ],
)
def test_partner_shares_add_up_to_the_shortfall(rutland, shares, reserve):
    plan = rutland.model_copy(
        update={"risk_share": RiskShare(shares=shares, contingency_reserve=Decimal(reserve))}
    )
    r = run_impact(plan, ImpactParams(draws=5000, default_relative_sd=1.0))
    assert r.shortfall.max() > reserve  # the draws include shortfalls beyond the reserve
    parts = r.contingency_used + sum(r.partner_shortfall.values()) + r.unallocated
    np.testing.assert_allclose(parts, r.shortfall, rtol=0, atol=1e-6)
    if sum(shares.values()) < 100:  # 60:30 leaves 10% of what the reserve does not meet
        at_risk = np.maximum(r.shortfall - reserve, 0)
        np.testing.assert_allclose(r.unallocated, at_risk * 0.1, atol=0.01)
    else:
        assert np.abs(r.unallocated).max() <= 0.01 * len(shares)  # pennies of rounding only


def test_probability_matches_the_normal_distribution():
    """One scheme ~ N(target, 10): P(round(X) >= T) = P(X >= T - 0.5) = Phi(0.05) = 0.5199."""
    plan = load_plan(EXAMPLES / "rutland_2014.yaml")
    plan = plan.model_copy(update={"schemes": plan.schemes[:1]})
    params = ImpactParams(draws=400_000, seed=3, schemes={"UP1": Normal(mean=103, sd=10)})
    r = run_impact(plan, params)
    expected = 0.5 * (1 + math.erf(0.05 / math.sqrt(2)))
    assert r.probability_meeting_target == pytest.approx(expected, abs=0.003)


def test_same_seed_same_result_other_seed_differs(rutland):
    a = run_impact(rutland, ImpactParams(draws=3000, seed=11))
    b = run_impact(rutland, ImpactParams(draws=3000, seed=11))
    c = run_impact(rutland, ImpactParams(draws=3000, seed=12))
    np.testing.assert_array_equal(a.scheme_draws, b.scheme_draws)
    np.testing.assert_array_equal(a.earned, b.earned)
    assert a.probability_meeting_target == b.probability_meeting_target
    assert not np.array_equal(a.total, c.total)


def _leics(plan: Plan, **scheme_fields: object) -> Plan:
    s = plan.schemes[0].model_copy(update=scheme_fields)
    return plan.model_copy(update={"schemes": [s]})


def test_stated_range_gives_a_triangular_distribution():
    plan = load_plan(EXAMPLES / "leicestershire_2016.yaml")
    ranged = _leics(
        plan,
        admissions_avoided={"2016/17": 400},
        admissions_avoided_range={"2016/17": EffectRange(low=200, high=500)},
    )
    (effect,), _ = scheme_effects(ranged, ImpactParams())
    assert effect.distribution == Triangular(low=200, mode=400, high=500)
    assert "stated range" in effect.source
    point = _leics(
        plan,
        admissions_avoided={"2016/17": 300},
        admissions_avoided_range={"2016/17": EffectRange(low=300, high=300)},
    )
    (effect,), _ = scheme_effects(point, ImpactParams())
    assert effect.distribution == Fixed(value=300)


def test_default_uncertainty_is_a_named_parameter():
    plan = _leics(
        load_plan(EXAMPLES / "leicestershire_2016.yaml"), admissions_avoided={"2016/17": 400}
    )
    (effect,), _ = scheme_effects(plan, ImpactParams(default_relative_sd=0.25))
    assert effect.distribution == Normal(mean=400, sd=100)
    assert "assumption" in effect.source
    assert (
        "ASSUMPTION"
        in ImpactParams.model_json_schema()["properties"]["default_relative_sd"]["description"]
    )


def test_range_is_validated():
    with pytest.raises(ValidationError, match="must not exceed high"):
        EffectRange(low=5, high=1)
    with pytest.raises(ValidationError, match="outside admissions_avoided_range"):
        Scheme(
            reference="X",
            name="x",
            admissions_avoided={"2016/17": 900},
            admissions_avoided_range={"2016/17": {"low": 1, "high": 10}},
        )


def test_a_plan_without_schemes_is_refused(rutland):
    with pytest.raises(ModellingInputError, match=r"^schemes: the plan has no schemes"):
        run_impact(rutland.model_copy(update={"schemes": []}))


def test_parameters_naming_an_unknown_scheme_are_refused(rutland):
    with pytest.raises(ModellingInputError, match=r"schemes\.NOPE"):
        run_impact(rutland, ImpactParams(schemes={"NOPE": Fixed(value=1)}))


def test_tornado_ranks_the_most_uncertain_scheme_first(rutland):
    refs = [s.reference for s in rutland.schemes]
    schemes = {r: Normal(mean=8, sd=1) for r in refs}
    schemes["HDR2"] = Normal(mean=8, sd=20)
    r = run_impact(rutland, ImpactParams(draws=5000, schemes=schemes))
    assert r.tornado[0].reference == "HDR2"
    assert r.tornado[0].low < r.probability_meeting_target < r.tornado[0].high


def test_fit_to_observed_by_hand():
    """3 months [30, 40, 50]: 120 + 9 x 40 = 480, sd sqrt(9 x 100 + 81 x 100 / 3) = 60."""
    import pandas as pd

    frame = pd.DataFrame(
        {
            "scheme_reference": ["ICRS"] * 3 + ["OPU"] * 3 + ["all schemes"] * 3,
            "financial_year": ["2016/17"] * 9,
            "avoided": [30.0, 40.0, 50.0, 10.0, 0.0, 5.0, 40.0, 40.0, 55.0],
        }
    )
    fitted, notes = fit_to_observed(frame, "2016/17")
    assert fitted["ICRS"][0] == Normal(mean=480, sd=60)
    # OPU [10, 0, 5]: 15 + 9 x 5 = 60, sd sqrt(9 x 25 + 81 x 25 / 3) = 30
    assert fitted["OPU"][0] == Normal(mean=60, sd=30)
    assert "all schemes" not in fitted
    short, notes = fit_to_observed(frame[frame.avoided == 30.0], "2016/17")
    assert short == {} and "too few to fit" in notes[0]
