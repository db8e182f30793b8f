"""Payment for performance (P4P) in the Better Care Fund: the one place its arithmetic lives.

Pure and typed, no I/O. The planning rule ``payment-for-performance``
(:mod:`bettercare.domain.rules`), ``bettercare p4p``, P4P earned to date
(:mod:`bettercare.analytics.scheme_impact`) and the reports all use it, so they agree.

The scheme (2015/16, after the July 2014 redesign of the fund):

* **Performance-linked sum** = planned reduction in total non-elective admissions x the
  unit cost of a non-elective admission (``PerformanceFund.unit_cost``, default £1,490),
  at most the performance-related element of the allocation (the "performance pot"). The
  size of the performance payment follows from the local level of ambition (Earl Howe,
  written answer HL838, 14 July 2014, "Key elements of the agreement"); the planned
  reduction should be at least 3.5% of the baseline, a lower ambition to be justified
  locally.
* **Released up front**: the rest of the pot, not linked to performance, is spent on
  NHS-commissioned out-of-hospital services as agreed by the HWB (same answer: "the
  remaining money from the performance pot not earned through reducing emergency
  admissions will be used to support local NHS services").
* **Earned to date** = max(0, baseline admissions pro rata - actual admissions) x unit
  cost, capped at the performance-linked sum pro rata (months elapsed / 12). Over-achieving
  earns no more than the linked sum: the rest of the pot was already released up front,
  so counting it again would pay it twice. It is a monitoring figure at the months
  elapsed; when money actually changes hands is not modelled (Rutland, 003:1592: "payment
  may be made annually depending on progress").
* **Retained** = the linked sum pro rata - earned. If admissions do not fall as planned
  the hospitals are paid for the extra admissions out of the pay-for-performance money
  (Public Accounts Committee, *Planning for the Better Care Fund*, HC 807 2014-15, para 10,
  citing NHS England), so the unearned part is retained to pay for that acute activity
  (Rutland's plan, seed 003:1590: "the CCG will retain the performance link funding
  element and release it if performance is achieved", else it may relieve "pressures on
  the acute sector of the failure to reduce admissions").
* **Exposure**: the partners bear the unearned sum as their risk share says, after any
  contingency reserve (Rutland's plan: "shared 50:50 between the Council and CCG", no
  contingency fund, so the council risks at most 50% of 103 x £1,490 = £76,735).

The £1,490 unit cost and the 3.5% minimum are those of the BCF Technical Guidance (revised
18 August 2014 "to update on the average cost for non-elective admissions", NHS England BCF
planning page) as quoted by the seed plans (Rutland 003:1588: "3.5% ... i.e. 103 ...
'unit saving' of £1490"). The guidance text itself was not available to check: its
quarterly payment schedule, whether it rounds the planned reduction, and how a local
contingency reserve is applied are **not confirmed** here. Hence these choices:

* **Rounding** (one rule, used everywhere): the plan's stated number of admissions wins
  where given (it is what the template submitted); otherwise baseline x percentage / 100
  rounded to whole admissions half away from zero (``ROUND_HALF_UP``, as a spreadsheet's
  ``ROUND`` does), in exact decimal arithmetic: 8,300 at 3.5% = 290.5 -> 291 admissions,
  £433,590. Python's ``round()`` rounds halves to even (290) and is not used.
  Money is kept to the penny, halves rounded up.
* **Contingency** is assumed to meet the unearned sum before the partners' shares do.

From 2016/17 the national scheme ended (the performance element went to NHS-commissioned
out-of-hospital services or a local risk share; DH policy paper reported by National Health
Executive, 13 January 2016), so for later years the figures are the
value of the planned reduction at the unit cost, not a payment (``national_scheme`` False).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from bettercare.domain.money import format_gbp
from bettercare.domain.periods import period_span
from bettercare.domain.plan import PerformanceFund, Plan, RiskShare
from bettercare.errors import BadInput

#: The 2015/16 minimum planned reduction in total non-elective admissions, percent.
MINIMUM_REDUCTION_PCT = Decimal("3.5")
#: Financial years in which the national payment-for-performance scheme ran.
NATIONAL_SCHEME_YEARS = frozenset({"2015/16"})

_PENNY = Decimal("0.01")
_ZERO = Decimal(0)


class P4PError(BadInput):
    """The plan lacks what the P4P calculation needs."""


def _pennies(x: Decimal) -> Decimal:
    return x.quantize(_PENNY, rounding=ROUND_HALF_UP)


def admissions_avoided(baseline_admissions: int, reduction_pct: Decimal | float) -> int:
    """Planned admissions avoided: baseline x percent / 100 to whole admissions, halves up.

    >>> admissions_avoided(8300, 3.5)
    291
    """
    exact = Decimal(baseline_admissions) * Decimal(str(reduction_pct)) / 100
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class PlannedReduction:
    """Admissions avoided the performance-linked sum is based on, and where it came from."""

    admissions: int
    pct: Decimal | None
    basis: str


def planned_reduction(perf: PerformanceFund) -> PlannedReduction:
    """The plan's stated number of admissions avoided, else the rounded percentage of baseline.

    ``pct`` is the plan's percentage, else the one implied by admissions / baseline; ``None``
    when neither can be known. Raises :class:`P4PError` when no reduction can be had.
    """
    stated_pct = (
        Decimal(str(perf.planned_reduction_pct)) if perf.planned_reduction_pct is not None else None
    )
    if perf.planned_reduction is not None:
        pct = stated_pct
        if pct is None and perf.baseline_admissions:
            pct = 100 * Decimal(perf.planned_reduction) / perf.baseline_admissions
        return PlannedReduction(
            perf.planned_reduction, pct, "planned reduction as stated in the plan"
        )
    if perf.baseline_admissions is not None and stated_pct is not None:
        n = admissions_avoided(perf.baseline_admissions, stated_pct)
        return PlannedReduction(
            n,
            stated_pct,
            f"{stated_pct}% of {perf.baseline_admissions:,} baseline admissions, "
            "rounded half up to whole admissions",
        )
    raise P4PError(
        "performance needs planned_reduction, or baseline_admissions and "
        "planned_reduction_pct, to compute the payment-for-performance sum"
    )


def risk_exposure(unearned: Decimal, risk_share: RiskShare | None) -> dict[str, Decimal]:
    """Each partner's share of an unearned sum, after the contingency reserve meets it first."""
    if risk_share is None or not risk_share.shares:
        return {}
    at_risk = max(_ZERO, unearned - (risk_share.contingency_reserve or _ZERO))
    return {
        pid: _pennies(at_risk * Decimal(str(pct)) / 100) for pid, pct in risk_share.shares.items()
    }


@dataclass(frozen=True)
class PerformanceSum:
    """The planned P4P position of one plan: what is linked, what is released, who bears what."""

    financial_year: str
    baseline_admissions: int | None
    planned_reduction: int
    planned_reduction_pct: Decimal | None
    basis: str
    unit_cost: Decimal
    #: planned reduction x unit cost, at most the pot
    performance_linked_sum: Decimal
    #: True when planned reduction x unit cost exceeded the pot
    capped: bool
    performance_pot: Decimal | None
    #: pot - linked sum: released up front for NHS-commissioned out-of-hospital services
    released_up_front: Decimal | None
    stated_sum: Decimal | None
    national_scheme: bool
    risk_share: RiskShare | None = None
    #: each partner's exposure if none of the linked sum is earned
    maximum_exposure: dict[str, Decimal] = field(default_factory=dict)

    @property
    def minimum_reduction_met(self) -> bool | None:
        """Whether the planned reduction reaches the 3.5% minimum (None: not stated)."""
        if self.planned_reduction_pct is None:
            return None
        return self.planned_reduction_pct >= MINIMUM_REDUCTION_PCT

    @property
    def contingency_reserve(self) -> Decimal | None:
        """The contingency reserve of the plan's risk share, if any."""
        return self.risk_share.contingency_reserve if self.risk_share else None


def performance_sum(plan: Plan) -> PerformanceSum:
    """The plan's performance-linked sum, the part released up front and the risk exposure."""
    perf = plan.performance
    if perf is None:
        raise P4PError(f"plan {plan.plan_id} has no performance (payment-for-performance) section")
    try:
        reduction = planned_reduction(perf)
    except P4PError as exc:
        raise P4PError(f"plan {plan.plan_id}: {exc}") from None
    value = reduction.admissions * perf.unit_cost
    pot = perf.performance_pot
    capped = pot is not None and value > pot
    linked = pot if capped and pot is not None else value
    national = perf.financial_year in NATIONAL_SCHEME_YEARS
    basis = reduction.basis
    if not national:
        basis += (
            f"; {perf.financial_year} is outside the national P4P scheme (2015/16): "
            "the value of the planned reduction at the unit cost, not a payment"
        )
    return PerformanceSum(
        financial_year=perf.financial_year,
        baseline_admissions=perf.baseline_admissions,
        planned_reduction=reduction.admissions,
        planned_reduction_pct=reduction.pct,
        basis=basis,
        unit_cost=perf.unit_cost,
        performance_linked_sum=linked,
        capped=capped,
        performance_pot=pot,
        released_up_front=pot - linked if pot is not None else None,
        stated_sum=perf.stated_p4p_amount,
        national_scheme=national,
        risk_share=plan.risk_share,
        maximum_exposure=risk_exposure(linked, plan.risk_share),
    )


def performance_sum_or_reason(plan: Plan) -> tuple[PerformanceSum | None, str | None]:
    """:func:`performance_sum`, or None and why there is none (for pages that show either)."""
    if plan.performance is None:
        return None, "The plan has no payment-for-performance section."
    try:
        return performance_sum(plan), None
    except P4PError as exc:
        return None, str(exc)


def baseline_to_date(perf: PerformanceFund, months_to_date: int) -> Decimal:
    """Baseline admissions pro rata: baseline / months in the baseline period x months elapsed.

    The baseline period defaults to 12 months when the plan does not state it.
    """
    if perf.baseline_admissions is None:
        raise P4PError("the plan states no baseline admissions (performance.baseline_admissions)")
    baseline_months = period_span(perf.baseline_period).months() if perf.baseline_period else 12
    return Decimal(perf.baseline_admissions) * months_to_date / baseline_months


@dataclass(frozen=True)
class EarnedToDate:
    """P4P earned from the actual reduction, the part retained and the partners' exposure."""

    financial_year: str
    months_to_date: int
    baseline_to_date: Decimal
    actual_to_date: Decimal
    #: max(0, baseline to date - actual to date)
    admissions_avoided: Decimal
    unit_cost: Decimal
    #: admissions avoided x unit cost, before the cap
    value_of_reduction: Decimal
    #: the performance-linked sum pro rata: the most that can have been earned by now
    linked_to_date: Decimal
    earned: Decimal
    #: linked to date - earned: retained to pay for the extra acute activity
    retained: Decimal
    exposure: dict[str, Decimal] = field(default_factory=dict)
    national_scheme: bool = True

    @property
    def capped(self) -> bool:
        """Whether the value of the reduction exceeds the sum linked to date."""
        return self.value_of_reduction > self.linked_to_date

    def explain(self) -> str:
        """The calculation of the amount earned to date, in words and figures."""
        text = (
            f"{self.months_to_date} month(s) of {self.financial_year}: baseline "
            f"{self.baseline_to_date:,.1f} - actual {self.actual_to_date:,.0f} admissions = "
            f"{self.admissions_avoided:,.1f} avoided x {format_gbp(self.unit_cost)} = "
            f"{format_gbp(self.value_of_reduction, pence=True)}"
        )
        linked = format_gbp(self.linked_to_date, pence=True)
        if self.capped:
            text += (
                f", capped at the performance-linked sum pro rata {linked} "
                "(the rest of the pot was released up front)"
            )
        text += (
            f"; {format_gbp(self.retained, pence=True)} of {linked} linked to date retained "
            "to pay for the extra acute activity"
        )
        if not self.national_scheme:
            text += (
                f" ({self.financial_year} is outside the national scheme: a value, not a payment)"
            )
        return text


def earned_to_date(
    planned: PerformanceSum,
    months_to_date: int,
    baseline_admissions_to_date: Decimal,
    actual_admissions_to_date: Decimal,
) -> EarnedToDate:
    """P4P earned after ``months_to_date`` months of the year (see the module docstring)."""
    if not 1 <= months_to_date <= 12:
        raise P4PError(f"months to date must be 1 to 12, not {months_to_date}")
    avoided = max(_ZERO, baseline_admissions_to_date - actual_admissions_to_date)
    value = _pennies(avoided * planned.unit_cost)
    linked = _pennies(planned.performance_linked_sum * months_to_date / 12)
    earned = min(value, linked)
    retained = linked - earned
    return EarnedToDate(
        financial_year=planned.financial_year,
        months_to_date=months_to_date,
        baseline_to_date=baseline_admissions_to_date,
        actual_to_date=actual_admissions_to_date,
        admissions_avoided=avoided,
        unit_cost=planned.unit_cost,
        value_of_reduction=value,
        linked_to_date=linked,
        earned=earned,
        retained=retained,
        exposure=risk_exposure(retained, planned.risk_share),
        national_scheme=planned.national_scheme,
    )
