"""One RAG enum and one rule, for reported and computed ratings alike."""

from __future__ import annotations

import pytest

from bettercare.domain.metrics import Direction
from bettercare.domain.plan import MetricValue
from bettercare.domain.rag import RagStatus, RagThresholds, rag_status


def test_reported_and_computed_ratings_share_the_enum() -> None:
    from bettercare.analytics.performance import Rag

    assert Rag is RagStatus
    assert MetricValue(period="2016/17", status="AMBER").status is RagStatus.AMBER


@pytest.mark.parametrize(
    ("actual", "planned", "direction", "expected"),
    [
        (606.4, 606.4, Direction.LOWER_IS_BETTER, RagStatus.GREEN),  # on plan
        (621.5, 606.4, Direction.LOWER_IS_BETTER, RagStatus.AMBER),  # 2.49% worse
        (630.2, 606.4, Direction.LOWER_IS_BETTER, RagStatus.RED),  # 3.9% worse (seed 002)
        (80.0, 82.0, Direction.HIGHER_IS_BETTER, RagStatus.AMBER),  # 2.44% worse
        (90.0, 82.0, Direction.HIGHER_IS_BETTER, RagStatus.GREEN),
    ],
)
def test_the_rule(actual, planned, direction, expected) -> None:
    assert rag_status(actual, planned, direction) is expected


def test_a_metric_may_have_its_own_tolerance() -> None:
    thresholds = RagThresholds(per_metric={"falls": 10})
    assert thresholds.tolerance("falls") == 10 and thresholds.tolerance("other") == 2.5


def test_rag_is_decided_at_the_precision_shown() -> None:
    # 62.204 is shown "62.2" and so is its plan 62.196: on plan, never AMBER
    from bettercare.domain.labels import format_metric

    actual, planned = 62.204, 62.196
    assert rag_status(actual, planned, Direction.LOWER_IS_BETTER) is RagStatus.AMBER
    shown = (
        format_metric(actual, "reablement_91_days"),
        format_metric(planned, "reablement_91_days"),
    )
    assert shown == ("62.2%", "62.2%")
    assert rag_status(actual, planned, Direction.LOWER_IS_BETTER, decimals=1) is RagStatus.GREEN
    # still judged where the shown values differ: 62.3 against 62.2 (0.16% worse) AMBER
    assert rag_status(62.26, 62.2, Direction.LOWER_IS_BETTER, decimals=1) is RagStatus.AMBER


def test_plan_vs_actual_judges_as_shown() -> None:
    """The table's RAG reads the rounded values: 62.204 against a plan of 62.196 is GREEN."""
    import pandas as pd

    from bettercare.analytics.performance import plan_vs_actual
    from bettercare.domain.plan import Plan

    plan = Plan.model_validate(
        {
            "plan_id": "p",
            "hwb": {"name": "Marlbury", "local_authority": "la", "ons_code": "E10000001"},
            "financial_years": ["2016/17"],
            "partners": [{"id": "la", "name": "Marlbury Council", "type": "local_authority"}],
            "metrics": [
                {
                    "metric": "delayed_transfers_of_care",
                    "time_basis": "month",
                    "planned": [{"period": "2016/17", "value": 62.196}],
                }
            ],
        }
    )
    actuals = pd.DataFrame(
        {
            "metric": ["delayed_transfers_of_care"],
            "hwb_code": ["E10000001"],
            "period": ["2016-04"],
            "breakdown": ["all"],
            "numerator": [100.0],
            "denominator": [160_000.0],
            "value": [62.204],
        }
    )
    row = plan_vs_actual(actuals, plan).iloc[0]
    assert row.rag == "GREEN" and row.actual == 62.204  # the value itself is not rounded
