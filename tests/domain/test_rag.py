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
