"""RAG: the one red / amber / green rating and the one rule that gives it.

The rule is direction-aware (:class:`~bettercare.domain.metrics.Direction`): GREEN on or
better than plan; AMBER worse than plan by no more than ``amber_tolerance_pct`` percent of
the plan value (default 2.5%); RED worse by more. Given the places
the values are shown at, the rule compares them as shown (rounded), so a table never
shows an actual equal to its plan rated AMBER. A board paper's reported status
(:class:`~bettercare.domain.plan.MetricValue.status`) and the computed rating
(:func:`bettercare.analytics.performance.plan_vs_actual`) use the same enum.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from bettercare.domain.labels import shown_value
from bettercare.domain.metrics import Direction


class RagStatus(StrEnum):
    """A red / amber / green rating as a board paper reports it."""

    RED = "RED"
    AMBER = "AMBER"
    GREEN = "GREEN"


class RagThresholds(BaseModel):
    """How far worse than plan a metric may be before it turns AMBER, then RED."""

    model_config = ConfigDict(extra="forbid")

    amber_tolerance_pct: float = Field(
        2.5, ge=0, description="Worse than plan by at most this % of the plan value: AMBER"
    )
    per_metric: dict[str, float] = Field(
        default_factory=dict, description="Metric id -> its own amber tolerance (%)"
    )

    def tolerance(self, metric: str) -> float:
        """The amber tolerance (%) for ``metric``: its own, else the default."""
        return self.per_metric.get(metric, self.amber_tolerance_pct)


def rag_status(
    actual: float,
    planned: float,
    direction: Direction,
    amber_tolerance_pct: float = 2.5,
    decimals: int | None = None,
) -> RagStatus:
    """GREEN on or better than plan; AMBER worse by <= tolerance % of plan; else RED.

    With ``decimals`` (the places the values are shown at,
    :func:`bettercare.domain.labels.metric_decimals`), both are first rounded as shown:
    a value shown equal to its plan is on plan (GREEN), never AMBER.
    """
    if decimals is not None:
        actual, planned = shown_value(actual, decimals), shown_value(planned, decimals)
    worse_by = actual - planned if direction == Direction.LOWER_IS_BETTER else planned - actual
    if worse_by <= 0:
        return RagStatus.GREEN
    if worse_by <= abs(planned) * amber_tolerance_pct / 100:
        return RagStatus.AMBER
    return RagStatus.RED
