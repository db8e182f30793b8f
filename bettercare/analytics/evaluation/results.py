"""What an evaluation method returns: an effect with its interval, or why there is none.

Owns the result type shared by every method of :mod:`bettercare.analytics.evaluation`
(interrupted time series, difference-in-differences, matched cohort, synthetic
control); it does not own any method.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bettercare.errors import BadInput

#: Two-sided confidence level of every interval.
CONFIDENCE = 0.95


class EvaluationDataError(BadInput):
    """The store or the evaluation's inputs cannot answer the question at all."""


@dataclass(frozen=True)
class Effect:
    """One method's estimate of the effect of a change on a metric.

    ``effect`` is observed minus counterfactual, averaged over the post-change period, in
    the metric's ``units`` (negative = fewer). ``admissions`` is the same effect as a count
    over the post-change period, and ``admissions_avoided`` its negative (positive =
    admissions avoided). When the data do not allow an estimate, ``estimable`` is False,
    every number is None and ``reason`` says why.
    """

    method: str
    units: str
    estimable: bool
    reason: str = ""
    effect: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    admissions_avoided: float | None = None
    avoided_ci_low: float | None = None
    avoided_ci_high: float | None = None
    notes: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)
    #: The enrolled pseudonyms the estimate is over (the matched cohort's matched people),
    #: for validation against a known truth; never in :meth:`as_dict` or any output.
    sample: tuple[str, ...] = field(default=(), repr=False)

    @property
    def has_interval(self) -> bool:
        """True when both interval ends are known."""
        return self.ci_low is not None and self.ci_high is not None

    def covers(self, value: float) -> bool:
        """True when ``value`` lies inside the interval (False without one)."""
        if self.ci_low is None or self.ci_high is None:
            return False
        return self.ci_low <= value <= self.ci_high

    def excludes_zero(self) -> bool:
        """True when the interval lies wholly above or below zero (a claimed effect)."""
        return self.has_interval and not self.covers(0.0)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {
            "method": self.method,
            "units": self.units,
            "estimable": self.estimable,
            "reason": self.reason,
            "effect": self.effect,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "p_value": self.p_value,
            "admissions_avoided": self.admissions_avoided,
            "avoided_ci_low": self.avoided_ci_low,
            "avoided_ci_high": self.avoided_ci_high,
            "notes": list(self.notes),
            "details": self.details,
        }


#: Admissions avoided over the post-change period and its interval (None where unknown).
Avoided = tuple[float | None, float | None, float | None]


def estimated(
    method: str,
    units: str,
    effect: float,
    interval: tuple[float | None, float | None],
    p_value: float | None,
    avoided: Avoided = (None, None, None),
    notes: tuple[str, ...] | list[str] = (),
    details: dict[str, Any] | None = None,
    sample: tuple[str, ...] = (),
) -> Effect:
    """An estimable :class:`Effect`: the estimate, its interval and admissions avoided."""
    return Effect(
        method=method,
        units=units,
        estimable=True,
        effect=effect,
        ci_low=interval[0],
        ci_high=interval[1],
        p_value=p_value,
        admissions_avoided=avoided[0],
        avoided_ci_low=avoided[1],
        avoided_ci_high=avoided[2],
        notes=tuple(notes),
        details=details or {},
        sample=sample,
    )


def not_estimable(method: str, units: str, reason: str) -> Effect:
    """An :class:`Effect` saying the data do not allow an estimate, and why."""
    return Effect(method=method, units=units, estimable=False, reason=reason)
