"""Scheme impact under uncertainty: Monte Carlo of admissions avoided and P4P earned.

Owns the scheme impact model. Each scheme's non-elective admissions avoided in the
year is a distribution (:class:`SchemeEffect`), taken, in this order of precedence, from

1. the parameters (``ImpactParams.schemes``, by scheme reference);
2. the scheme's performance to date in the store (:func:`fit_to_observed`, when given);
3. the plan's stated range (``Scheme.admissions_avoided_range``): triangular from low to
   high, peaking at the stated expected figure (else the middle); a zero-width range is a
   certain value;
4. the plan's expected figure (``Scheme.admissions_avoided``) with the **default
   uncertainty**: normal with standard deviation ``default_relative_sd`` x the figure.
   This is an *assumption*, a named parameter (default 0.5), not a fact about schemes;
5. where no scheme states any figure for the year (Rutland 2014), the plan's planned
   reduction shared equally between its schemes (an *assumption*, stated in the notes),
   with the default uncertainty.

The draws are independent between schemes (an assumption: shared causes such as a hard
winter would widen the total's spread). :func:`run_impact` adds them per draw (vectorised
numpy), rounds each draw's total to whole admissions (half up), and turns totals into
payment for performance with :func:`bettercare.domain.p4p.earned_to_date` over the 12
months of the year -- the one place that arithmetic lives -- evaluated once per distinct
total. The shortfall (performance-linked sum not earned) falls on the contingency reserve
first, then on the partners by the plan's risk share
(:func:`bettercare.domain.p4p.risk_exposure`); what the shares leave unallocated (shares
below 100%) is reported as such.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from bettercare.analytics.modelling.distributions import (
    Distribution,
    Fixed,
    FloatArray,
    Normal,
    Triangular,
)
from bettercare.analytics.modelling.errors import ModellingInputError
from bettercare.domain.p4p import EarnedToDate, P4PError, earned_to_date, performance_sum
from bettercare.domain.periods import FinancialYear
from bettercare.domain.plan import Plan, Scheme

if TYPE_CHECKING:
    import pandas as pd

#: Percentiles reported for every distribution.
PERCENTILES: tuple[int, ...] = (5, 10, 25, 50, 75, 90, 95)
#: ASSUMPTION: a scheme's admissions avoided, where the plan states no range, has a
#: standard deviation of half its expected figure. A named, configurable default.
DEFAULT_RELATIVE_SD = 0.5
IntArray = NDArray[np.int64]


class ImpactParams(BaseModel):
    """Parameters of the scheme impact Monte Carlo (JSON Schema: ``model_json_schema()``)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    draws: int = Field(10_000, ge=1, le=2_000_000, description="Monte Carlo draws")
    seed: int = Field(2014, ge=0, description="Seed of the random numbers (same seed, same result)")
    financial_year: FinancialYear | None = Field(
        None,
        description="Year modelled (default: the plan's performance year, else its last year)",
    )
    default_relative_sd: float = Field(
        DEFAULT_RELATIVE_SD,
        ge=0,
        le=10,
        description="ASSUMPTION, not a fact: standard deviation of a scheme's admissions "
        "avoided as a fraction of its expected figure, where the plan states no range",
    )
    schemes: dict[str, Distribution] = Field(
        default_factory=dict,
        description="Scheme reference -> distribution of its admissions avoided (overrides)",
    )


@dataclass(frozen=True)
class SchemeEffect:
    """One scheme's admissions avoided in the year as a distribution, and where it came from."""

    reference: str
    name: str
    distribution: Any  # one of the Distribution families
    source: str

    @property
    def mean(self) -> float:
        """The expected admissions avoided."""
        return float(self.distribution.mean)


@dataclass(frozen=True)
class TornadoBar:
    """How far the probability of meeting the target moves with one scheme (others drawn).

    ``low``/``high``: the probability when the scheme delivers its 10th / 90th percentile.
    """

    reference: str
    name: str
    p10_admissions: float
    p90_admissions: float
    low: float
    high: float

    @property
    def swing(self) -> float:
        """High minus low probability: how much this scheme matters."""
        return self.high - self.low


@dataclass
class ImpactResult:
    """The distribution of admissions avoided, P4P earned and each partner's shortfall."""

    plan_id: str
    hwb_name: str
    financial_year: str
    params: ImpactParams
    target: int
    target_basis: str
    effects: list[SchemeEffect]
    #: draws x schemes, admissions avoided per scheme
    scheme_draws: FloatArray
    #: per draw: total admissions avoided (whole admissions)
    total: IntArray
    probability_meeting_target: float
    linked_sum: Decimal | None = None
    national_scheme: bool = True
    earned: FloatArray | None = None
    shortfall: FloatArray | None = None
    contingency_used: FloatArray | None = None
    unallocated: FloatArray | None = None
    partner_shortfall: dict[str, FloatArray] = field(default_factory=dict)
    partner_names: dict[str, str] = field(default_factory=dict)
    #: the domain's P4P calculation for each distinct total drawn
    by_total: dict[int, EarnedToDate] = field(default_factory=dict)
    tornado: list[TornadoBar] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def percentiles(self, draws: FloatArray | IntArray) -> dict[int, float]:
        """The reported percentiles of one quantity's draws."""
        qs = np.percentile(np.asarray(draws, dtype=np.float64), PERCENTILES)
        return {p: float(q) for p, q in zip(PERCENTILES, qs, strict=True)}

    def summary_rows(self) -> list[dict[str, Any]]:
        """One row per quantity: name, unit, mean and the :data:`PERCENTILES`."""
        rows: list[tuple[str, str, FloatArray | IntArray]] = [
            ("Admissions avoided", "admissions", self.total)
        ]
        if self.earned is not None and self.shortfall is not None:
            rows.append(("P4P earned", "£", self.earned))
            rows.append(("Shortfall (linked sum not earned)", "£", self.shortfall))
        if self.contingency_used is not None and self.linked_sum is not None:
            rows.append(("Met by the contingency reserve", "£", self.contingency_used))
        for pid, draws in self.partner_shortfall.items():
            rows.append((f"Shortfall borne by {self.partner_names.get(pid, pid)}", "£", draws))
        if self.unallocated is not None and float(np.max(self.unallocated)) > 0:
            rows.append(("Shortfall not allocated by the risk share", "£", self.unallocated))
        return [
            {
                "quantity": name,
                "unit": unit,
                "mean": float(np.mean(d)),
                **{f"p{p}": v for p, v in self.percentiles(d).items()},
            }
            for name, unit, d in rows
        ]


def modelled_year(plan: Plan, params: ImpactParams) -> str:
    """The year modelled: as asked, else the performance year, else the plan's last year."""
    if params.financial_year is not None:
        return params.financial_year
    if plan.performance is not None:
        return plan.performance.financial_year
    return plan.financial_years[-1]


def _from_plan(scheme: Scheme, fy: str, rel_sd: float) -> tuple[Any, str] | None:
    rng = scheme.admissions_avoided_range.get(fy)
    expected = scheme.admissions_avoided.get(fy)
    if rng is not None:
        if rng.low == rng.high:
            return Fixed(value=rng.low), f"plan's stated range {fy} (a single value)"
        mode = expected if expected is not None else (rng.low + rng.high) / 2
        return (
            Triangular(low=rng.low, mode=mode, high=rng.high),
            f"plan's stated range {fy}: triangular {rng.low} to {rng.high}, peak {mode:g}",
        )
    if expected is not None:
        return _default(expected, rel_sd), (
            f"plan's expected {expected:,} with the default uncertainty "
            f"(assumption: sd = {rel_sd:g} x expected)"
        )
    return None


def _default(expected: float, rel_sd: float) -> Any:
    sd = abs(expected) * rel_sd
    return Fixed(value=expected) if sd == 0 else Normal(mean=expected, sd=sd)


def scheme_effects(
    plan: Plan,
    params: ImpactParams,
    fitted: dict[str, tuple[Any, str]] | None = None,
) -> tuple[list[SchemeEffect], list[str]]:
    """Each scheme's distribution by the module's order of precedence, and notes."""
    fy = modelled_year(plan, params)
    if not plan.schemes:
        raise ModellingInputError("schemes: the plan has no schemes, so there is nothing to model")
    known = {s.reference for s in plan.schemes}
    unknown = sorted(set(params.schemes) - known)
    if unknown:
        raise ModellingInputError(
            f"schemes.{unknown[0]}: no scheme with reference '{unknown[0]}' in plan {plan.plan_id}"
        )
    fitted = fitted or {}
    notes: list[str] = []
    chosen: dict[str, tuple[Any, str]] = {}
    for s in plan.schemes:
        if s.reference in params.schemes:
            chosen[s.reference] = (params.schemes[s.reference], "parameters")
        elif s.reference in fitted:
            chosen[s.reference] = fitted[s.reference]
        elif (found := _from_plan(s, fy, params.default_relative_sd)) is not None:
            chosen[s.reference] = found
    if not chosen:
        share = _apportioned(plan)
        if share is None:
            raise ModellingInputError(
                f"schemes: no scheme states admissions_avoided (or a range) for {fy}, and "
                "the plan states no planned reduction (performance.planned_reduction) to "
                "share between them"
            )
        each = share / len(plan.schemes)
        notes.append(
            f"ASSUMPTION: no scheme states its admissions avoided for {fy}; the planned "
            f"reduction of {share:,} is shared equally between the {len(plan.schemes)} "
            f"schemes ({each:,.2f} each)"
        )
        for s in plan.schemes:
            chosen[s.reference] = (
                _default(each, params.default_relative_sd),
                f"equal share of the planned reduction (assumption) with the default "
                f"uncertainty (sd = {params.default_relative_sd:g} x expected)",
            )
    idle = [s.reference for s in plan.schemes if s.reference not in chosen]
    if idle:
        notes.append(
            f"scheme(s) stating no admissions avoided for {fy}, counted as 0: {', '.join(idle)}"
        )
    effects = [
        SchemeEffect(s.reference, s.name, *chosen[s.reference])
        for s in plan.schemes
        if s.reference in chosen
    ]
    return effects, notes


def _apportioned(plan: Plan) -> int | None:
    if plan.performance is None:
        return None
    try:
        return performance_sum(plan).planned_reduction
    except P4PError:
        return None


def _target(plan: Plan, effects: list[SchemeEffect], fy: str) -> tuple[int, str]:
    planned = _apportioned(plan)
    if planned is not None:
        return planned, "the plan's planned reduction in non-elective admissions"
    stated = [s.admissions_avoided.get(fy) for s in plan.schemes]
    if any(v is not None for v in stated):
        return sum(v or 0 for v in stated), f"the sum of the schemes' admissions avoided ({fy})"
    return round(sum(e.mean for e in effects)), "the sum of the schemes' expected effects"


def _whole(x: FloatArray) -> IntArray:
    """Round to whole admissions, halves away from zero (as the P4P module rounds)."""
    return np.asarray(np.sign(x) * np.floor(np.abs(x) + 0.5), dtype=np.int64)


def run_impact(
    plan: Plan,
    params: ImpactParams | None = None,
    fitted: dict[str, tuple[Any, str]] | None = None,
) -> ImpactResult:
    """Run the Monte Carlo: the distribution of the total, P4P earned and partners' shortfall.

    ``fitted``: distributions fitted to observed performance (:func:`fit_to_observed`).
    Raises :class:`ModellingInputError` for a plan it cannot model (e.g. no schemes).
    """
    params = params or ImpactParams()
    fy = modelled_year(plan, params)
    effects, notes = scheme_effects(plan, params, fitted)
    rng = np.random.default_rng(params.seed)
    draws = np.column_stack([e.distribution.sample(rng, params.draws) for e in effects])
    total = _whole(draws.sum(axis=1))
    target, basis = _target(plan, effects, fy)
    result = ImpactResult(
        plan_id=plan.plan_id,
        hwb_name=plan.hwb.name,
        financial_year=fy,
        params=params,
        target=target,
        target_basis=basis,
        effects=effects,
        scheme_draws=draws,
        total=total,
        probability_meeting_target=float(np.mean(total >= target)),
        notes=notes,
        partner_names={p.id: p.name for p in plan.partners},
    )
    result.tornado = _tornado(draws, effects, target)
    _add_p4p(plan, result)
    return result


def _add_p4p(plan: Plan, result: ImpactResult) -> None:
    """P4P earned, shortfall and shares per draw, via the domain, once per distinct total."""
    if plan.performance is None:
        result.notes.append("the plan has no performance section: P4P not modelled")
        return
    try:
        planned = performance_sum(plan)
    except P4PError as exc:
        result.notes.append(f"P4P not modelled: {exc}")
        return
    if planned.financial_year != result.financial_year:
        result.notes.append(
            f"P4P is for {planned.financial_year}; "
            f"the admissions modelled are {result.financial_year}"
        )
    uniq, inverse = np.unique(result.total, return_inverse=True)
    by_total: dict[int, EarnedToDate] = {}
    for n in uniq.tolist():
        # The full year (12 months): only the difference of the two counts enters the
        # arithmetic, so the year's reduction is passed as "n avoided against 0 actual".
        by_total[n] = earned_to_date(planned, 12, Decimal(n), Decimal(0))
    calcs = [by_total[n] for n in uniq.tolist()]
    reserve = planned.contingency_reserve or Decimal(0)

    def per_draw(values: list[Decimal]) -> FloatArray:
        return np.asarray([float(v) for v in values], dtype=np.float64)[inverse]

    result.linked_sum = planned.performance_linked_sum
    result.national_scheme = planned.national_scheme
    result.by_total = by_total
    result.earned = per_draw([c.earned for c in calcs])
    result.shortfall = per_draw([c.retained for c in calcs])
    result.contingency_used = per_draw([min(reserve, c.retained) for c in calcs])
    partners = list(plan.risk_share.shares) if plan.risk_share else []
    for pid in partners:
        result.partner_shortfall[pid] = per_draw([c.exposure.get(pid, Decimal(0)) for c in calcs])
    result.unallocated = per_draw(
        [
            c.retained - min(reserve, c.retained) - sum(c.exposure.values(), Decimal(0))
            for c in calcs
        ]
    )
    if not partners:
        result.notes.append("the plan states no risk share: the shortfall is not allocated")
    if not planned.national_scheme:
        result.notes.append(
            f"{planned.financial_year} is outside the national P4P scheme: the sums are the "
            "value of the reduction at the unit cost, not a payment"
        )


def _tornado(draws: FloatArray, effects: list[SchemeEffect], target: int) -> list[TornadoBar]:
    """For each scheme, P(meet target) with it at its 10th and at its 90th percentile."""
    total = draws.sum(axis=1)
    bars = []
    for i, e in enumerate(effects):
        p10, p90 = (float(q) for q in np.percentile(draws[:, i], (10, 90)))
        rest = total - draws[:, i]
        bars.append(
            TornadoBar(
                e.reference,
                e.name,
                p10,
                p90,
                float(np.mean(_whole(rest + p10) >= target)),
                float(np.mean(_whole(rest + p90) >= target)),
            )
        )
    return sorted(bars, key=lambda b: (-b.swing, -(b.p90_admissions - b.p10_admissions)))


def fit_to_observed(
    impact: pd.DataFrame, financial_year: str, min_months: int = 2
) -> tuple[dict[str, tuple[Any, str]], list[str]]:
    """Each scheme's year-end admissions avoided fitted to its months observed so far.

    ``impact`` is :func:`bettercare.analytics.scheme_impact.scheme_impact` output at
    month grain. With ``n`` months observed (mean ``m``, sd ``s``) and ``r = 12 - n``
    left, the year's total is the observed ``to_date`` plus a normal with mean ``r x m``
    and variance ``r s^2 + (r s)^2 / n`` (month-to-month variation plus the uncertainty
    of the estimated mean; months assumed independent). A full year is a certain value;
    fewer than ``min_months`` are not fitted (the plan's distribution is kept).
    """
    from bettercare.analytics.scheme_impact import ALL_SCHEMES

    fitted: dict[str, tuple[Any, str]] = {}
    notes: list[str] = []
    rows = impact[
        (impact.financial_year == financial_year) & (impact.scheme_reference != ALL_SCHEMES)
    ]
    for ref, g in rows.groupby("scheme_reference", sort=True):
        v = g.avoided.to_numpy(dtype=np.float64)
        n = len(v)
        to_date = float(v.sum())
        if n >= 12:
            fitted[str(ref)] = (Fixed(value=to_date), f"observed: {to_date:,.0f} in the full year")
        elif n < min_months:
            notes.append(
                f"scheme {ref}: {n} month(s) observed in {financial_year}, too few to fit "
                f"(at least {min_months}); the plan's distribution is used"
            )
        else:
            r = 12 - n
            m, s = float(v.mean()), float(v.std(ddof=1))
            sd = math.sqrt(r * s**2 + (r * s) ** 2 / n)
            dist = Fixed(value=to_date + r * m) if sd == 0 else Normal(mean=to_date + r * m, sd=sd)
            fitted[str(ref)] = (
                dist,
                f"fitted to {n} month(s) observed: {to_date:,.0f} to date + {r} month(s) "
                f"at {m:,.1f} (sd {s:,.1f}) a month",
            )
    return fitted, notes


__all__ = [
    "DEFAULT_RELATIVE_SD",
    "PERCENTILES",
    "ImpactParams",
    "ImpactResult",
    "SchemeEffect",
    "TornadoBar",
    "fit_to_observed",
    "modelled_year",
    "run_impact",
    "scheme_effects",
]
