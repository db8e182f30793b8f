"""The 2015/16 payment-for-performance (P4P) element of the Better Care Fund.

BCF Technical Guidance 2015/16 (and the planning template Part 2, "HWB P4P metric"):

* Each HWB's allocation includes a *performance-related element* (its share of the
  national £1bn). Part of it is linked to performance: the planned reduction in total
  non-elective (emergency) admissions multiplied by the national average unit cost of a
  non-elective admission, £1,490.
* The planned reduction should be at least 3.5% of the baseline (a lower ambition must be
  justified locally); the performance-linked sum is capped at the performance element.
* Whatever of the performance element is not linked to performance is released up front
  for NHS-commissioned out-of-hospital services.
* The national scheme applied to 2015/16. From 2016/17 the performance element was
  ring-fenced for NHS-commissioned out-of-hospital services (or a local risk share), so for
  later plans the figure is the value of the planned reduction at the unit cost, not a
  payment (``P4PResult.national_scheme`` is False).
* Local partners agree how the risk of not earning the performance-linked sum is shared
  (e.g. Rutland: council and CCG 50:50, a maximum of ~£75k for the council).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from bettercare.domain.plan import Plan
from bettercare.domain.rules import MINIMUM_NEL_REDUCTION_PCT


class P4PError(ValueError):
    """The plan lacks what the P4P calculation needs."""


@dataclass(frozen=True)
class P4PResult:
    financial_year: str
    baseline_admissions: int | None
    planned_reduction: int
    planned_reduction_pct: float | None
    unit_cost: Decimal
    p4p_amount: Decimal
    capped: bool
    performance_pot: Decimal | None
    out_of_hospital_remainder: Decimal | None
    minimum_reduction_met: bool | None
    stated_p4p_amount: Decimal | None
    risk_exposure: dict[str, Decimal] = field(default_factory=dict)
    basis: str = ""
    national_scheme: bool = True


#: Financial years in which the national payment-for-performance scheme ran.
P4P_YEARS = frozenset({"2015/16"})


def planned_reduction(plan: Plan) -> tuple[int, str]:
    """Admissions avoided the P4P sum is based on, and how it was obtained.

    The number the plan states wins (it is what the template submitted); otherwise the
    baseline times the planned percentage, rounded to whole admissions.
    """
    perf = plan.performance
    if perf is None:
        raise P4PError(f"plan {plan.plan_id} has no performance (payment-for-performance) section")
    if perf.planned_reduction is not None:
        return perf.planned_reduction, "planned reduction as stated in the plan"
    if perf.baseline_admissions is not None and perf.planned_reduction_pct is not None:
        n = Decimal(perf.baseline_admissions) * Decimal(str(perf.planned_reduction_pct)) / 100
        return (int(n.quantize(Decimal(1), rounding=ROUND_HALF_UP)),
                f"{perf.planned_reduction_pct}% of {perf.baseline_admissions} baseline admissions")
    raise P4PError(
        f"plan {plan.plan_id}: performance needs planned_reduction, or baseline_admissions and "
        "planned_reduction_pct, to compute the payment-for-performance sum"
    )


def payment_for_performance(plan: Plan) -> P4PResult:
    """Compute the performance-linked sum, the out-of-hospital remainder and risk exposure."""
    perf = plan.performance
    reduction, basis = planned_reduction(plan)
    assert perf is not None  # planned_reduction raised otherwise
    amount = Decimal(reduction) * perf.unit_cost
    pot = perf.performance_pot
    capped = pot is not None and amount > pot
    if capped:
        amount = pot
    pct = perf.planned_reduction_pct
    if pct is None and perf.baseline_admissions:
        pct = 100 * reduction / perf.baseline_admissions
    exposure: dict[str, Decimal] = {}
    if plan.risk_share and plan.risk_share.shares:
        for partner_id, share in plan.risk_share.shares.items():
            exposure[partner_id] = (amount * Decimal(str(share)) / 100).quantize(Decimal("0.01"))
    return P4PResult(
        financial_year=perf.financial_year,
        baseline_admissions=perf.baseline_admissions,
        planned_reduction=reduction,
        planned_reduction_pct=pct,
        unit_cost=perf.unit_cost,
        p4p_amount=amount,
        capped=capped,
        performance_pot=pot,
        out_of_hospital_remainder=(pot - amount) if pot is not None else None,
        minimum_reduction_met=(pct >= MINIMUM_NEL_REDUCTION_PCT) if pct is not None else None,
        stated_p4p_amount=perf.stated_p4p_amount,
        risk_exposure=exposure,
        basis=basis if perf.financial_year in P4P_YEARS else (
            f"{basis}; {perf.financial_year} is outside the national P4P scheme (2015/16): "
            "the value of the planned reduction at the unit cost, not a payment"),
        national_scheme=perf.financial_year in P4P_YEARS,
    )
