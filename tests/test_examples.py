"""The seed plans transcribed in examples/: each validates with exactly the expected errors.

Every expected error is a gap or contradiction in the seed itself (see the YAML comments
citing seed lines), not a transcription fault; warnings are counted by rule elsewhere.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from bettercare.data.plan_files import load_plan
from bettercare.domain.findings import Severity
from bettercare.domain.p4p import performance_sum
from bettercare.domain.rules import check_plan

EXAMPLES = Path(__file__).parent.parent / "examples"

EXPECTED_ERRORS = {
    # 004 is Part 1 only: no protection amount; sign-offs blank but the plan is a draft
    "central_lancashire_2015.yaml": {
        ("protected-social-care", "protected_social_care.2014/15"),
        ("protected-social-care", "protected_social_care.2015/16"),
    },
    # 002 gives no money figures and no sign-off block for the agreed 2016/17 plan
    "leicestershire_2016.yaml": {
        ("pooled-budget-minimum", "agreed_pooled_budget.2016/17"),
        ("protected-social-care", "protected_social_care.2016/17"),
        ("sign-off", "sign_offs"),
        ("sign-off", "date_agreed"),
    },
    # 000:561 says a protection amount was "agreed" but never states it
    "leicester_city_2014.yaml": {
        ("protected-social-care", "protected_social_care.2014/15"),
        ("protected-social-care", "protected_social_care.2015/16"),
    },
    # Part 2 (finance) is not in seed 003; the risk log scores R2 and R3 as 3 for 1x2 and 2x1
    "rutland_2014.yaml": {
        ("pooled-budget-minimum", "agreed_pooled_budget.2014/15"),
        ("pooled-budget-minimum", "agreed_pooled_budget.2015/16"),
        ("protected-social-care", "protected_social_care.2014/15"),
        ("risk-score", "risks[1].score"),
        ("risk-score", "risks[2].score"),
    },
    # fictional 2025-26 example (every figure illustrative): valid under 2025-26 rules
    "marlbury_2025.yaml": set(),
}


#: Warnings per rule: blanks the seeds leave (spend, metric values, risk scores, owners) and
#: conditions in progress. A change here means a rule or a transcription changed: review
#: the findings (`bettercare plan validate FILE`) before updating these counts.
EXPECTED_WARNINGS = {
    "central_lancashire_2015.yaml": {
        "funding-matches-pooled-budget": 2,
        "metrics": 27,
        "national-conditions": 6,
        "risk-score": 4,
        "risk-share": 1,
        "scheme-spend-matches-budget": 34,
        "sign-off": 4,
    },
    "leicester_city_2014.yaml": {
        "funding-matches-pooled-budget": 9,
        "metrics": 12,
        "national-conditions": 5,
        "payment-for-performance": 2,
        "risk-score": 7,
        "risk-share": 1,
        "scheme-spend-matches-budget": 32,
    },
    "leicestershire_2016.yaml": {
        "funding-matches-pooled-budget": 1,
        "metrics": 6,
        "national-conditions": 7,
        "payment-for-performance": 1,
        "pooled-budget-minimum": 1,
        "risk-score": 23,
        "risk-share": 1,
        "scheme-spend-matches-budget": 26,
    },
    "rutland_2014.yaml": {
        "funding-matches-pooled-budget": 1,
        "metrics": 11,
        "national-conditions": 5,
        "pooled-budget-minimum": 1,
        "risk-score": 15,
        "scheme-spend-matches-budget": 26,
        "sign-off": 3,
    },
    # pathway 1 demand above capacity in December-February, flagged on purpose
    "marlbury_2025.yaml": {"capacity-and-demand": 1},
}


def test_every_example_is_covered():
    assert {p.name for p in EXAMPLES.glob("*.yaml")} == set(EXPECTED_ERRORS)
    assert set(EXPECTED_WARNINGS) == set(EXPECTED_ERRORS)


@pytest.mark.parametrize("name", sorted(EXPECTED_ERRORS))
def test_example_has_only_the_expected_errors(name):
    plan = load_plan(EXAMPLES / name)
    errors = {(f.rule, f.path) for f in check_plan(plan) if f.severity == Severity.ERROR}
    assert errors == EXPECTED_ERRORS[name]


@pytest.mark.parametrize("name", sorted(EXPECTED_WARNINGS))
def test_example_has_only_the_expected_warnings(name):
    plan = load_plan(EXAMPLES / name)
    warnings = Counter(f.rule for f in check_plan(plan) if f.severity == Severity.WARNING)
    assert dict(warnings) == EXPECTED_WARNINGS[name]


def test_rutland_p4p_reproduces_its_own_figure():
    """Seed 003:1588: '£154k (... 103 multiplied by the unit saving of £1490)'."""
    plan = load_plan(EXAMPLES / "rutland_2014.yaml")
    r = performance_sum(plan)
    assert r.planned_reduction == 103
    assert r.performance_linked_sum == Decimal(153_470)  # 103 x £1,490, worked by hand
    # the plan states "£154k": a figure rounded to thousands, within £1k of ours
    assert abs(r.performance_linked_sum - plan.performance.stated_p4p_amount) < 1000
    # 003:1588 "the performance related element is £591k": the rest is released up front
    assert r.released_up_front == Decimal(437_530)
    # 003:1590/1801: shared 50:50, no contingency fund ("a maximum total of £75k")
    assert r.maximum_exposure["rutland_county_council"] == Decimal(76_735)
