"""BCF planning rules: the checks an NHS England / LGA assurer makes of a plan.

Each rule is a named function ``Plan -> list[Finding]`` registered in :data:`RULES`.
Severity follows how the national guidance treats the failure: ERROR where a plan
would not be assured (a condition of the fund is not met, the figures contradict each
other), WARNING where the assurer would ask for an explanation or a blank is left.

Sources: BCF planning guidance and template Part 1/Part 2 (Dec 2013, revised July 2014),
BCF Technical Guidance 2015/16, BCF Policy Framework and Planning Requirements 2016/17.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from bettercare.domain.findings import Finding, Severity
from bettercare.domain.metrics import CATALOGUE
from bettercare.domain.money import format_gbp
from bettercare.domain.p4p import MINIMUM_REDUCTION_PCT, P4PError, performance_sum
from bettercare.domain.periods import fy_of, fy_start_year, next_fy
from bettercare.domain.plan import (
    ConditionStatus,
    NationalConditionId,
    PartnerType,
    Plan,
    PlanStatus,
)

E, W = Severity.ERROR, Severity.WARNING

#: The 2015/16 payment-for-performance minimum planned reduction in non-elective admissions.
MINIMUM_NEL_REDUCTION_PCT = MINIMUM_REDUCTION_PCT
#: Plans state the P4P sum in thousands (e.g. Rutland "£154k" for 103 x £1,490 = £153,470).
P4P_ROUNDING_TOLERANCE = Decimal(1000)


@dataclass(frozen=True)
class Rule:
    id: str
    summary: str
    check: Callable[[Plan], list[Finding]]


RULES: dict[str, Rule] = {}


def rule(rule_id: str, summary: str):
    def register(fn: Callable[[Plan], list[Finding]]) -> Callable[[Plan], list[Finding]]:
        RULES[rule_id] = Rule(rule_id, summary, fn)
        return fn

    return register


def _f(rule_id: str, severity: Severity, path: str, message: str) -> Finding:
    return Finding(rule_id, severity, path, message)


def _money(x: Decimal) -> str:
    return format_gbp(x)


@rule("pooled-budget-minimum", "Total agreed pooled budget is at least the minimum required")
def pooled_budget_minimum(plan: Plan) -> list[Finding]:
    out = []
    for fy in plan.financial_years:
        minimum = plan.minimum_pooled_budget.get(fy)
        agreed = plan.agreed_pooled_budget.get(fy)
        if minimum is None:
            out.append(
                _f(
                    "pooled-budget-minimum",
                    W,
                    f"minimum_pooled_budget.{fy}",
                    f"minimum required pooled budget for {fy} is not stated",
                )
            )
        if agreed is None:
            out.append(
                _f(
                    "pooled-budget-minimum",
                    E,
                    f"agreed_pooled_budget.{fy}",
                    f"total agreed pooled budget for {fy} is not stated",
                )
            )
        if minimum is not None and agreed is not None and agreed < minimum:
            out.append(
                _f(
                    "pooled-budget-minimum",
                    E,
                    f"agreed_pooled_budget.{fy}",
                    f"agreed pooled budget {_money(agreed)} for {fy} is below the minimum "
                    f"required {_money(minimum)} (short by {_money(minimum - agreed)})",
                )
            )
    return out


@rule("funding-matches-pooled-budget", "Funding contributions add up to the agreed pooled budget")
def funding_matches_pooled_budget(plan: Plan) -> list[Finding]:
    out = []
    for fy in plan.financial_years:
        lines = [(i, f) for i, f in enumerate(plan.funding) if f.financial_year == fy]
        for i, f in lines:
            if f.amount is None:
                out.append(
                    _f(
                        "funding-matches-pooled-budget",
                        W,
                        f"funding[{i}].amount",
                        f"{f.source} contribution for {fy} has no amount",
                    )
                )
        agreed = plan.agreed_pooled_budget.get(fy)
        if not lines or agreed is None:
            if not lines:
                out.append(
                    _f(
                        "funding-matches-pooled-budget",
                        W,
                        "funding",
                        f"no funding contributions are given for {fy}",
                    )
                )
            continue
        total = plan.funding_total(fy)
        if total != agreed:
            out.append(
                _f(
                    "funding-matches-pooled-budget",
                    W,
                    f"agreed_pooled_budget.{fy}",
                    f"funding contributions for {fy} total {_money(total)} but the agreed "
                    f"pooled budget is {_money(agreed)} "
                    f"(difference {_money(total - agreed)})",
                )
            )
    return out


@rule("scheme-spend-matches-budget", "Scheme spend per year sums to the pooled budget")
def scheme_spend_matches_budget(plan: Plan) -> list[Finding]:
    out = []
    if not plan.schemes:
        return [_f("scheme-spend-matches-budget", W, "schemes", "the plan lists no schemes")]
    for fy in plan.financial_years:
        # a year absent from ``spend`` means the scheme does not run then; null is a blank
        blank = [i for i, s in enumerate(plan.schemes) if fy in s.spend and s.spend[fy] is None]
        for i in blank:
            out.append(
                _f(
                    "scheme-spend-matches-budget",
                    W,
                    f"schemes[{i}].spend.{fy}",
                    f"scheme {plan.schemes[i].reference} has a blank spend for {fy}",
                )
            )
        agreed = plan.agreed_pooled_budget.get(fy)
        if agreed is None or not any(s.spend.get(fy) is not None for s in plan.schemes):
            continue
        total = plan.scheme_total(fy)
        if total != agreed:
            out.append(
                _f(
                    "scheme-spend-matches-budget",
                    W,
                    f"agreed_pooled_budget.{fy}",
                    f"scheme spend for {fy} totals {_money(total)} against a pooled budget "
                    f"of {_money(agreed)} (difference {_money(total - agreed)})",
                )
            )
    return out


@rule(
    "funding-source-allocation",
    "Each funding source is fully used by schemes and not over-committed",
)
def funding_source_allocation(plan: Plan) -> list[Finding]:
    out = []
    for fy in plan.financial_years:
        available: dict[str, Decimal] = defaultdict(Decimal)
        for f in plan.funding:
            if f.financial_year == fy and f.amount is not None:
                available[f.source] += f.amount
        committed: dict[str, Decimal] = defaultdict(Decimal)
        for i, s in enumerate(plan.schemes):
            spend = s.spend.get(fy)
            if spend is None or s.funding_source is None:
                continue
            if s.funding_source not in available and spend > 0:
                out.append(
                    _f(
                        "funding-source-allocation",
                        E,
                        f"schemes[{i}].funding_source",
                        f"scheme {s.reference} spends {_money(spend)} in {fy} from "
                        f"{s.funding_source}, which has no funding in {fy}",
                    )
                )
            committed[s.funding_source] += spend
        if not any(committed.values()):
            continue  # no scheme states its funding source: nothing to reconcile
        for source, amount in sorted(available.items()):
            used = committed.get(source, Decimal(0))
            if used > amount:
                out.append(
                    _f(
                        "funding-source-allocation",
                        E,
                        "schemes",
                        f"{source} is over-committed in {fy}: schemes spend {_money(used)} "
                        f"of {_money(amount)} (over by {_money(used - amount)})",
                    )
                )
            elif used < amount:
                out.append(
                    _f(
                        "funding-source-allocation",
                        W,
                        "schemes",
                        f"{source} is not fully used in {fy}: schemes spend {_money(used)} "
                        f"of {_money(amount)} ({_money(amount - used)} unallocated)",
                    )
                )
    return out


def protected_spend(scheme, fy: str) -> Decimal:
    """What a scheme contributes to protecting adult social care in a year."""
    if fy in scheme.protected_amount:
        return scheme.protected_amount[fy] or Decimal(0)
    return (scheme.spend.get(fy) or Decimal(0)) if scheme.protects_social_care else Decimal(0)


@rule("protected-social-care", "Protection of adult social care is stated and funded by schemes")
def protected_social_care(plan: Plan) -> list[Finding]:
    out = []
    for fy in plan.financial_years:
        amount = plan.protected_social_care.get(fy)
        if amount is None:
            out.append(
                _f(
                    "protected-social-care",
                    E,
                    f"protected_social_care.{fy}",
                    f"the amount for the protection of adult social care in {fy} is "
                    "not stated (national condition 2)",
                )
            )
            continue
        flagged = [s for s in plan.schemes if s.protects_social_care or s.protected_amount]
        if not flagged:
            out.append(
                _f(
                    "protected-social-care",
                    E,
                    "schemes",
                    f"{_money(amount)} is protected for adult social care in {fy} but no "
                    "scheme is marked protects_social_care",
                )
            )
            continue
        funded = sum((protected_spend(s, fy) for s in flagged), Decimal(0))
        if funded < amount:
            out.append(
                _f(
                    "protected-social-care",
                    E,
                    f"protected_social_care.{fy}",
                    f"schemes protecting social care spend {_money(funded)} in {fy}, "
                    f"below the protected amount {_money(amount)}",
                )
            )
    return out


@rule("risk-score", "Risk score equals likelihood x impact (each 1-5)")
def risk_score(plan: Plan) -> list[Finding]:
    out = []
    for i, r in enumerate(plan.risks):
        p = f"risks[{i}]"
        if r.likelihood is not None and r.impact is not None:
            expected = r.likelihood * r.impact
            if r.score is not None and r.score != expected:
                out.append(
                    _f(
                        "risk-score",
                        E,
                        f"{p}.score",
                        f"risk {r.id}: score {r.score} is not likelihood {r.likelihood} x "
                        f"impact {r.impact} = {expected}",
                    )
                )
        elif r.score is not None:
            out.append(
                _f(
                    "risk-score",
                    W,
                    p,
                    f"risk {r.id}: score {r.score} is given without both likelihood and impact",
                )
            )
        elif r.rating is None:
            out.append(_f("risk-score", W, p, f"risk {r.id} is not scored or rated"))
        if not r.owner:
            out.append(_f("risk-score", W, f"{p}.owner", f"risk {r.id} has no owner"))
        if not r.mitigation:
            out.append(_f("risk-score", W, f"{p}.mitigation", f"risk {r.id} has no mitigation"))
    return out


@rule("years-and-dates", "Financial years and dates are consistent")
def years_and_dates(plan: Plan) -> list[Finding]:
    out = []
    years = plan.financial_years
    if len(years) == 2 and years[1] != next_fy(years[0]):
        out.append(
            _f("years-and-dates", E, "financial_years", f"{years[1]} does not follow {years[0]}")
        )
    allowed = set(years)

    def check_keys(mapping: dict, path: str) -> None:
        for fy in mapping:
            if fy not in allowed:
                out.append(
                    _f(
                        "years-and-dates",
                        E,
                        f"{path}.{fy}",
                        f"{fy} is outside the plan's years ({', '.join(years)})",
                    )
                )

    for name in ("minimum_pooled_budget", "agreed_pooled_budget", "protected_social_care"):
        check_keys(getattr(plan, name), name)
    for i, s in enumerate(plan.schemes):
        check_keys(s.spend, f"schemes[{i}].spend")
        check_keys(s.admissions_avoided, f"schemes[{i}].admissions_avoided")
    for i, f in enumerate(plan.funding):
        if f.financial_year not in allowed:
            out.append(
                _f(
                    "years-and-dates",
                    E,
                    f"funding[{i}].financial_year",
                    f"{f.financial_year} is outside the plan's years ({', '.join(years)})",
                )
            )
    if plan.performance and plan.performance.financial_year not in allowed:
        out.append(
            _f(
                "years-and-dates",
                E,
                "performance.financial_year",
                f"{plan.performance.financial_year} is outside the plan's years",
            )
        )
    first_start = fy_start_year(years[0])
    if plan.date_agreed and plan.date_submitted and plan.date_agreed > plan.date_submitted:
        out.append(
            _f(
                "years-and-dates",
                E,
                "date_agreed",
                f"agreed {plan.date_agreed} after it was submitted {plan.date_submitted}",
            )
        )
    for name in ("date_agreed", "date_submitted"):
        d = getattr(plan, name)
        if d and fy_start_year(fy_of(d)) > fy_start_year(years[-1]):
            out.append(
                _f(
                    "years-and-dates",
                    E,
                    name,
                    f"{d} falls after the last year of the plan ({years[-1]})",
                )
            )
        if d and fy_start_year(fy_of(d)) < first_start - 1:
            out.append(
                _f(
                    "years-and-dates",
                    W,
                    name,
                    f"{d} is more than a year before the plan starts ({years[0]})",
                )
            )
    for i, s in enumerate(plan.sign_offs):
        if s.date and plan.date_submitted and s.date > plan.date_submitted:
            out.append(
                _f(
                    "years-and-dates",
                    W,
                    f"sign_offs[{i}].date",
                    f"signed {s.date}, after the plan was submitted {plan.date_submitted}",
                )
            )
    return out


@rule("sign-off", "The HWB, the council and every CCG/ICB sign off before a plan is agreed")
def sign_off(plan: Plan) -> list[Finding]:
    out = []
    required = [plan.hwb.local_authority]
    required += [
        p.id
        for p in plan.partners
        if p.signatory
        and p.type in (PartnerType.CCG, PartnerType.ICB, PartnerType.HEALTH_AND_WELLBEING_BOARD)
    ]
    final = plan.status in (PlanStatus.AGREED, PlanStatus.APPROVED)
    severity = E if final else W
    when = f"a plan with status '{plan.status}'" if final else "before the plan can be agreed"
    for body in dict.fromkeys(required):
        signs = [(i, s) for i, s in enumerate(plan.sign_offs) if s.body == body]
        if not signs:
            out.append(
                _f(
                    "sign-off",
                    severity,
                    "sign_offs",
                    f"no sign-off by {plan.partner(body).name}: required {when}",
                )
            )
            continue
        for i, s in signs:
            missing = [k for k in ("person", "role", "date") if getattr(s, k) is None]
            if missing:
                out.append(
                    _f(
                        "sign-off",
                        severity,
                        f"sign_offs[{i}]",
                        f"sign-off by {plan.partner(body).name} has no "
                        f"{', '.join(missing)}: required {when}",
                    )
                )
    if final and plan.date_agreed is None:
        out.append(
            _f(
                "sign-off",
                E,
                "date_agreed",
                f"a plan with status '{plan.status}' needs the date agreed at the HWB",
            )
        )
    return out


def required_conditions(plan: Plan) -> list[NationalConditionId]:
    """The national conditions for the plan's first year (six to 2015/16, eight from 2016/17)."""
    base = [
        NationalConditionId.PLANS_JOINTLY_AGREED,
        NationalConditionId.PROTECT_SOCIAL_CARE,
        NationalConditionId.SEVEN_DAY_SERVICES,
        NationalConditionId.DATA_SHARING_NHS_NUMBER,
        NationalConditionId.JOINT_ASSESSMENT_LEAD_PROFESSIONAL,
        NationalConditionId.IMPACT_ON_ACUTE_SECTOR,
    ]
    if fy_start_year(plan.financial_years[0]) >= 2016:
        base += [
            NationalConditionId.NHS_OUT_OF_HOSPITAL_SERVICES,
            NationalConditionId.DELAYED_TRANSFERS_ACTION_PLAN,
        ]
    return base


@rule("national-conditions", "Every national condition is addressed and met")
def national_conditions(plan: Plan) -> list[Finding]:
    out = []
    given = {c.id: (i, c) for i, c in enumerate(plan.national_conditions)}
    for cond in required_conditions(plan):
        if cond not in given:
            out.append(
                _f(
                    "national-conditions",
                    W,
                    "national_conditions",
                    f"national condition '{cond}' is not addressed",
                )
            )
            continue
        i, c = given[cond]
        if c.status == ConditionStatus.NOT_MET:
            out.append(
                _f(
                    "national-conditions",
                    E,
                    f"national_conditions[{i}].status",
                    f"national condition '{cond}' is not met",
                )
            )
        elif c.status in (ConditionStatus.IN_PROGRESS, ConditionStatus.NOT_STATED):
            out.append(
                _f(
                    "national-conditions",
                    W,
                    f"national_conditions[{i}].status",
                    f"national condition '{cond}' is {c.status.replace('_', ' ')}",
                )
            )
    return out


#: The revised BCF template (July 2014) replaced the avoidable-emergency-admissions composite
#: with total non-elective admissions, the basis of payment for performance.
REVISED_TEMPLATE_DATE = dt.date(2014, 7, 1)


def required_metrics(plan: Plan) -> list[str]:
    """National metrics the plan's template asks for (by submission date, else first year)."""
    core = [
        "delayed_transfers_of_care",
        "permanent_admissions_care_homes_65",
        "reablement_91_days",
        "patient_experience",
    ]
    when = plan.date_submitted or plan.date_agreed
    if when is not None:
        original = when < REVISED_TEMPLATE_DATE
    else:
        original = fy_start_year(plan.financial_years[0]) < 2014
    first = "avoidable_emergency_admissions" if original else "non_elective_admissions"
    return [first, *core]


@rule("metrics", "National metrics have a baseline and a planned value")
def metrics(plan: Plan) -> list[Finding]:
    out = []
    ids = {m.metric for m in plan.metrics}
    for metric_id in required_metrics(plan):
        if metric_id not in ids:
            out.append(_f("metrics", W, "metrics", f"national metric '{metric_id}' has no plan"))
    for i, m in enumerate(plan.metrics):
        p = f"metrics[{i}]"
        if m.metric not in CATALOGUE and not m.name:
            out.append(
                _f(
                    "metrics",
                    W,
                    f"{p}.metric",
                    f"'{m.metric}' is not a catalogue metric; give a local metric a name",
                )
            )
        if m.baseline is None or m.baseline.value is None:
            out.append(_f("metrics", W, f"{p}.baseline", f"{m.metric} has no baseline value"))
        if not [v for v in m.planned if v.value is not None]:
            out.append(_f("metrics", W, f"{p}.planned", f"{m.metric} has no planned value"))
    return out


@rule("payment-for-performance", "The P4P ambition is at least 3.5% and consistent with its sum")
def payment_for_performance(plan: Plan) -> list[Finding]:
    """Checks the plan against :func:`bettercare.domain.p4p.performance_sum`, the one P4P rule."""
    perf = plan.performance
    if perf is None:
        return []
    out = []
    try:
        p4p = performance_sum(plan)
    except P4PError:
        p4p = None
    pct = (
        p4p.planned_reduction_pct
        if p4p
        else (
            Decimal(str(perf.planned_reduction_pct))
            if perf.planned_reduction_pct is not None
            else None
        )
    )
    if pct is None:
        out.append(
            _f(
                "payment-for-performance",
                W,
                "performance.planned_reduction_pct",
                "the planned reduction in non-elective admissions is not stated",
            )
        )
    elif pct < MINIMUM_NEL_REDUCTION_PCT:
        out.append(
            _f(
                "payment-for-performance",
                W,
                "performance.planned_reduction_pct",
                f"planned reduction {pct:.2f}% is below the {MINIMUM_NEL_REDUCTION_PCT}% "
                "minimum: the plan must justify a lower ambition",
            )
        )
    if (
        p4p is not None
        and p4p.stated_sum is not None
        and abs(p4p.performance_linked_sum - p4p.stated_sum) >= P4P_ROUNDING_TOLERANCE
    ):
        computed = (
            f"{p4p.planned_reduction} admissions x {_money(p4p.unit_cost)} = "
            f"{_money(p4p.planned_reduction * p4p.unit_cost)}"
        )
        if p4p.capped:
            computed += f", capped at the pot {_money(p4p.performance_linked_sum)}"
        out.append(
            _f(
                "payment-for-performance",
                W,
                "performance.stated_p4p_amount",
                f"stated sum {_money(p4p.stated_sum)} differs from {computed}",
            )
        )
    if perf.planned_reduction is None and perf.baseline_admissions is None:
        out.append(
            _f(
                "payment-for-performance",
                W,
                "performance",
                "neither the baseline nor the planned number of admissions avoided is "
                "given, so the performance-linked sum cannot be computed",
            )
        )
    return out


@rule("risk-share", "Risk share percentages add up to 100")
def risk_share(plan: Plan) -> list[Finding]:
    rs = plan.risk_share
    if rs is None:
        return [_f("risk-share", W, "risk_share", "no risk share or contingency is described")]
    if rs.shares and abs(sum(rs.shares.values()) - 100) > 1e-9:
        return [
            _f(
                "risk-share",
                E,
                "risk_share.shares",
                f"shares add up to {sum(rs.shares.values()):g}%, not 100%",
            )
        ]
    return []


def check_plan(plan: Plan, rules: list[str] | None = None) -> list[Finding]:
    """Run the planning rules (all by default) and return their findings, errors first."""
    findings: list[Finding] = []
    for rule_id, r in RULES.items():
        if rules is None or rule_id in rules:
            findings.extend(r.check(plan))
    return sorted(findings, key=lambda f: (f.severity != Severity.ERROR,))
