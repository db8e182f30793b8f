"""BCF planning rules: the checks an NHS England / LGA assurer makes of a plan.

Each rule is a named function ``Plan -> list[Finding]`` registered in :data:`RULES`.
Severity follows how the national guidance treats the failure: ERROR where a plan
would not be assured (a condition of the fund is not met, the figures contradict each
other), WARNING where the assurer would ask for an explanation or a blank is left.

Which rules apply, and the conditions, metrics and funding streams they check against,
come from the plan's policy framework (:mod:`bettercare.domain.frameworks`, chosen by
the plan's first financial year); the ``framework`` rule always runs and reports a plan
whose years span two frameworks or fall outside every modelled one.

Sources: BCF planning guidance and template Part 1/Part 2 (Dec 2013, revised July 2014),
BCF Technical Guidance 2015/16, BCF Policy Framework and Planning Requirements 2016/17,
and the later frameworks cited in each ``bettercare/domain/frameworks`` module.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bettercare.domain.findings import Finding, Severity
from bettercare.domain.frameworks import (
    FRAMEWORKS,
    Framework,
    SignOffRules,
    framework_for_year,
    framework_for_years,
)
from bettercare.domain.frameworks.base import SIGN_OFF_BY_BODIES
from bettercare.domain.metrics import CATALOGUE
from bettercare.domain.money import format_gbp
from bettercare.domain.p4p import MINIMUM_REDUCTION_PCT, P4PError, performance_sum
from bettercare.domain.periods import fy_of, fy_span, fy_start_year, next_fy
from bettercare.domain.plan import (
    Commissioner,
    ConditionStatus,
    FundingSource,
    PartnerType,
    Plan,
    PlanStatus,
    Scheme,
    SignOff,
    SignOffRole,
)

E, W = Severity.ERROR, Severity.WARNING

#: The 2015/16 payment-for-performance minimum planned reduction in non-elective admissions.
MINIMUM_NEL_REDUCTION_PCT = MINIMUM_REDUCTION_PCT
#: Plans state the P4P sum in thousands (e.g. Rutland "£154k" for 103 x £1,490 = £153,470).
P4P_ROUNDING_TOLERANCE = Decimal(1000)


@dataclass(frozen=True)
class Rule:
    """A registered planning rule: its id, one-line summary and check function."""

    id: str
    summary: str
    check: Callable[[Plan], list[Finding]]


RULES: dict[str, Rule] = {}


RuleCheck = Callable[[Plan], list[Finding]]


def rule(rule_id: str, summary: str) -> Callable[[RuleCheck], RuleCheck]:
    """Register a planning rule under ``rule_id`` (decorator)."""

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
    """Each year's agreed pooled budget is stated and not below the minimum."""
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
    """Each year's funding contributions sum to the agreed pooled budget."""
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
    """Each year's scheme spend sums to the agreed pooled budget."""
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
    """Spend drawn from each source within what the source brings, scheme by scheme.

    A scheme names one ``funding_source`` (its whole spend) or several ``sources`` (an
    amount each); a scheme whose spend exceeds what its sources fund is an error.
    """
    out = []
    for fy in plan.financial_years:
        available: dict[str, Decimal] = defaultdict(Decimal)
        for f in plan.funding:
            if f.financial_year == fy and f.amount is not None:
                available[f.source] += f.amount
        committed: dict[str, Decimal] = defaultdict(Decimal)
        for i, s in enumerate(plan.schemes):
            for source, spend, path in _scheme_draws(s, i, fy):
                if source not in available and spend > 0:
                    out.append(
                        _f(
                            "funding-source-allocation",
                            E,
                            path,
                            f"scheme {s.reference} spends {_money(spend)} in {fy} from "
                            f"{source}, which has no funding in {fy}",
                        )
                    )
                committed[source] += spend
            out += _scheme_within_sources(s, i, fy)
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


def _scheme_draws(s: Scheme, i: int, fy: str) -> list[tuple[str, Decimal, str]]:
    """(source, amount, path) a scheme draws in a year: its sources, else its one source."""
    if s.sources:
        return [
            (src.source, src.amount, f"schemes[{i}].sources[{j}].source")
            for j, src in enumerate(s.sources)
            if src.financial_year == fy and src.amount is not None
        ]
    spend = s.spend.get(fy)
    if spend is None or s.funding_source is None:
        return []
    return [(s.funding_source, spend, f"schemes[{i}].funding_source")]


def _scheme_within_sources(s: Scheme, i: int, fy: str) -> list[Finding]:
    """A multi-source scheme's stated spend equals what its sources fund."""
    parts = [src.amount for src in s.sources if src.financial_year == fy]
    spend = s.spend.get(fy)
    if not parts or spend is None:
        return []
    funded = sum((a for a in parts if a is not None), Decimal(0))
    if spend > funded:
        return [
            _f(
                "funding-source-allocation",
                E,
                f"schemes[{i}].spend.{fy}",
                f"scheme {s.reference} spends {_money(spend)} in {fy}, beyond its sources "
                f"{_money(funded)} (short by {_money(spend - funded)})",
            )
        ]
    if spend < funded:
        return [
            _f(
                "funding-source-allocation",
                W,
                f"schemes[{i}].spend.{fy}",
                f"scheme {s.reference} spends {_money(spend)} in {fy} but its sources give "
                f"{_money(funded)} ({_money(funded - spend)} not spent)",
            )
        ]
    return []


def protected_spend(scheme: Scheme, fy: str) -> Decimal:
    """What a scheme contributes to protecting adult social care in a year."""
    if fy in scheme.protected_amount:
        return scheme.protected_amount[fy] or Decimal(0)
    return (scheme.spend.get(fy) or Decimal(0)) if scheme.protects_social_care else Decimal(0)


@rule("protected-social-care", "Protection of adult social care is stated and funded by schemes")
def protected_social_care(plan: Plan) -> list[Finding]:
    """The protection of adult social care is stated and the schemes fund it."""
    out = []
    fw = plan_framework(plan)
    asked = fw.social_care_protection_years if fw else ()
    for fy in plan.financial_years:
        amount = plan.protected_social_care.get(fy)
        if asked and fy not in asked:
            continue  # 2014/15: the fund was pooled from 2015/16, one total is asked
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
    """Each risk's score equals likelihood x impact, each on the 1-5 scale."""
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
    """Amounts, funding and P4P fall in the plan's years; dates are in order."""
    out = []
    years = plan.financial_years
    if len(years) == 2 and years[1] != next_fy(years[0]):
        out.append(
            _f("years-and-dates", E, "financial_years", f"{years[1]} does not follow {years[0]}")
        )
    allowed = set(years)

    def check_keys(mapping: dict[str, Any], path: str) -> None:
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

    for name in (
        "minimum_pooled_budget",
        "agreed_pooled_budget",
        "protected_social_care",
        "admissions_avoided_total",
    ):
        check_keys(getattr(plan, name), name)
    if plan.section_75:
        check_keys(plan.section_75.pooled_amount, "section_75.pooled_amount")
        check_keys(plan.section_75.aligned_amount, "section_75.aligned_amount")
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
    for i, r in enumerate(plan.quarterly_reports):
        if r.financial_year not in allowed:
            out.append(
                _f(
                    "years-and-dates",
                    E,
                    f"quarterly_reports[{i}].financial_year",
                    f"a return for {r.financial_year} Q{r.quarter} is outside the plan's years",
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
    order = sign_off_rules(plan)
    if (
        plan.date_agreed
        and plan.date_submitted
        and plan.date_agreed > plan.date_submitted
        and not order.submit_before_hwb
    ):
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
    for i, so in enumerate(plan.sign_offs):
        if order.submit_before_hwb and is_hwb_sign_off(plan, so):
            continue  # the framework lets the HWB approve after submission
        if so.capacity in order.before_submission:
            continue  # the sign-off rule reports it, as an error
        if so.date and plan.date_submitted and so.date > plan.date_submitted:
            out.append(
                _f(
                    "years-and-dates",
                    W,
                    f"sign_offs[{i}].date",
                    f"signed {so.date}, after the plan was submitted {plan.date_submitted}",
                )
            )
    return out


@rule("sign-off", "The HWB, the council and every CCG/ICB sign off before a plan is agreed")
def sign_off(plan: Plan) -> list[Finding]:
    """The HWB, the council and every signatory CCG/ICB have signed the plan off.

    A plan cannot be agreed without them (BCF planning guidance: plans jointly agreed).
    """
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
    return out + _sign_off_roles(plan)


def sign_off_rules(plan: Plan) -> SignOffRules:
    """The sign-off roles and order of the plan's framework (the seed-era ones if none)."""
    fw = plan_framework(plan)
    return fw.sign_off if fw else SIGN_OFF_BY_BODIES


def submitted(plan: Plan) -> bool:
    """Whether the plan stands submitted: not a draft, and a submission date or status.

    A draft (one returned for resubmission, too) is not, whatever dates it carries.
    """
    if plan.status is PlanStatus.DRAFT:
        return False
    return plan.date_submitted is not None or plan.status in (
        PlanStatus.SUBMITTED,
        PlanStatus.APPROVED,
    )


def is_hwb_sign_off(plan: Plan, so: SignOff) -> bool:
    """A sign-off by the HWB (its chair, or a partner of type HWB)."""
    if so.capacity is SignOffRole.HWB_CHAIR:
        return True
    body = next((p for p in plan.partners if p.id == so.body), None)
    return body is not None and body.type is PartnerType.HEALTH_AND_WELLBEING_BOARD


def _role_holders(plan: Plan, role: SignOffRole) -> list[str]:
    """The bodies that must each sign in ``role`` (the council, each signatory ICB)."""
    if role is SignOffRole.ICB_CHIEF_EXECUTIVE:
        return [p.id for p in plan.partners if p.signatory and p.type is PartnerType.ICB]
    if role is SignOffRole.HWB_CHAIR:
        return [""]  # the HWB: any body (boards are recorded as a partner or the council)
    return [plan.hwb.local_authority]


_ROLE_NAMES = {
    SignOffRole.HWB_CHAIR: "the HWB chair",
    SignOffRole.COUNCIL_CHIEF_EXECUTIVE: "the council's chief executive",
    SignOffRole.ICB_CHIEF_EXECUTIVE: "the ICB's chief executive",
    SignOffRole.CCG_ACCOUNTABLE_OFFICER: "the CCG's accountable officer",
    SignOffRole.S151_OFFICER: "the council's S151 (chief finance) officer",
    SignOffRole.DIRECTOR_ADULT_SOCIAL_SERVICES: "the director of adult social services",
    SignOffRole.OTHER: "another signatory",
}


def _sign_off_roles(plan: Plan) -> list[Finding]:
    """The framework's sign-off roles: present, not delegated, signed in order.

    2025-26: the chief executives (not delegable) and the S151 officer sign before
    submission; the HWB may approve after it.
    """
    order = sign_off_rules(plan)
    out: list[Finding] = []
    sent = submitted(plan)
    for role in order.roles:
        early = role in order.before_submission
        severity = E if early and sent else W
        when = "before submission" if early else "before the plan is agreed"
        if (
            role is SignOffRole.HWB_CHAIR
            and order.submit_before_hwb
            and plan.status not in (PlanStatus.AGREED, PlanStatus.APPROVED)
        ):
            severity, when = W, "once the HWB approves the plan (it may follow submission)"
        for body in _role_holders(plan, role):
            signs = [
                (i, s)
                for i, s in enumerate(plan.sign_offs)
                if s.capacity is role and (not body or s.body == body)
            ]
            whose = f" for {plan.partner(body).name}" if body else ""
            if not signs:
                out.append(
                    _f(
                        "sign-off",
                        severity,
                        "sign_offs",
                        f"no sign-off by {_ROLE_NAMES[role]}{whose}: the {plan_framework_id(plan)} "
                        f"framework asks for it {when}",
                    )
                )
                continue
            for i, s in signs:
                if s.delegated and role in order.not_delegable:
                    out.append(
                        _f(
                            "sign-off",
                            E,
                            f"sign_offs[{i}].delegated",
                            f"{_ROLE_NAMES[role]}{whose} may not delegate the sign-off "
                            f"({plan_framework_id(plan)} framework)",
                        )
                    )
                if early and s.date and plan.date_submitted and s.date > plan.date_submitted:
                    out.append(
                        _f(
                            "sign-off",
                            E,
                            f"sign_offs[{i}].date",
                            f"{_ROLE_NAMES[role]}{whose} signed {s.date}, after the plan "
                            f"was submitted {plan.date_submitted}: the "
                            f"{plan_framework_id(plan)} framework asks for it before submission",
                        )
                    )
    return out


def plan_framework_id(plan: Plan) -> str:
    """The id of the plan's framework, or 'modelled' when none covers it."""
    fw = plan_framework(plan)
    return fw.id if fw else "modelled"


def plan_framework(plan: Plan) -> Framework | None:
    """The framework a plan is checked against: that of its first financial year."""
    return framework_for_years(plan.financial_years)


def required_conditions(plan: Plan) -> list[str]:
    """The national conditions of the plan's framework (six to 2015/16, eight in 2016/17)."""
    fw = plan_framework(plan)
    return list(fw.condition_ids()) if fw else []


@rule("national-conditions", "Every national condition is addressed and met")
def national_conditions(plan: Plan) -> list[Finding]:
    """Each condition of the framework addressed and met; none from another framework."""
    out = []
    fw = plan_framework(plan)
    known = set(fw.condition_ids()) if fw else set()
    given: dict[str, tuple[int, ConditionStatus]] = {}
    for i, c in enumerate(plan.national_conditions):
        given.setdefault(c.id, (i, c.status))
        if fw and c.id not in known:
            out.append(
                _f(
                    "national-conditions",
                    E,
                    f"national_conditions[{i}].id",
                    f"'{c.id}' is not a national condition of the {fw.id} framework "
                    f"(its conditions: {', '.join(fw.condition_ids())})",
                )
            )
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
        i, status = given[cond]
        if status == ConditionStatus.NOT_MET:
            out.append(
                _f(
                    "national-conditions",
                    E,
                    f"national_conditions[{i}].status",
                    f"national condition '{cond}' is not met",
                )
            )
        elif status in (ConditionStatus.IN_PROGRESS, ConditionStatus.NOT_STATED):
            out.append(
                _f(
                    "national-conditions",
                    W,
                    f"national_conditions[{i}].status",
                    f"national condition '{cond}' is {status.replace('_', ' ')}",
                )
            )
    return out


def required_metrics(plan: Plan) -> list[str]:
    """National metrics of the plan's framework.

    Where the framework revised a metric part way (2014: avoidable emergency admissions
    replaced by total non-elective admissions in July 2014), the plan's submission date
    (else agreement date, else first year) picks the template it was written on.
    """
    fw = plan_framework(plan)
    if fw is None:
        return []
    metrics = list(fw.national_metrics)
    rev = fw.metric_revision
    if rev is not None:
        when = plan.date_submitted or plan.date_agreed
        original = (
            when < rev.date
            if when is not None
            else fy_start_year(plan.financial_years[0]) < rev.date.year
        )
        if original:
            metrics = [rev.before if m == rev.after else m for m in metrics]
    return metrics


#: National metrics of every modelled framework: a plan naming one of another framework
#: is asking for a measure its own framework does not collect.
_NATIONAL_ELSEWHERE = {m for fw in FRAMEWORKS for m in fw.national_metrics}


@rule("metrics", "National metrics have a baseline and a planned value")
def metrics(plan: Plan) -> list[Finding]:
    """The framework's national metrics planned; no metric from another framework."""
    out = []
    fw = plan_framework(plan)
    ids = {m.metric for m in plan.metrics}
    for metric_id in required_metrics(plan):
        if metric_id not in ids:
            out.append(_f("metrics", W, "metrics", f"national metric '{metric_id}' has no plan"))
    own = set(fw.metric_ids()) if fw else set()
    for i, m in enumerate(plan.metrics):
        p = f"metrics[{i}]"
        if fw and m.metric not in own:
            if m.metric in _NATIONAL_ELSEWHERE:
                out.append(
                    _f(
                        "metrics",
                        E,
                        f"{p}.metric",
                        f"'{m.metric}' is not a metric of the {fw.id} framework "
                        f"(its national metrics: {', '.join(fw.national_metrics)})",
                    )
                )
                continue
            if not fw.allows_local_metrics:
                out.append(
                    _f(
                        "metrics",
                        W,
                        f"{p}.metric",
                        f"'{m.metric}' is not a metric of the {fw.id} framework, whose "
                        "template collects its national metrics only",
                    )
                )
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
        goal = m.goal
        if goal is not None and goal.value is not None and goal.period is not None:
            planned = {v.period: v.value for v in m.planned}
            if planned.get(goal.period) != goal.value:
                stated = planned.get(goal.period)
                out.append(
                    _f(
                        "metrics",
                        W,
                        f"{p}.goal",
                        f"{m.metric}: the goal chosen ({goal.basis.value.replace('_', ' ')}, "
                        f"{goal.value:g}) is not the planned value for {goal.period} "
                        f"({'none' if stated is None else f'{stated:g}'})",
                    )
                )
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
    """A risk share or contingency is described and its percentages add up to 100."""
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


@rule("framework", "The plan's years fall in one modelled policy framework; its funding streams")
def framework(plan: Plan) -> list[Finding]:
    """Years in one framework (the first year's), and funding streams that framework has."""
    out = []
    years = plan.financial_years
    fw = plan_framework(plan)
    for i, fy in enumerate(years):
        fw_year = framework_for_year(fy)
        if fw_year is None:
            out.append(
                _f(
                    "framework",
                    E,
                    f"financial_years[{i}]",
                    f"no BCF policy framework for {fy} is modelled (modelled: "
                    f"{', '.join(f.id for f in FRAMEWORKS)})",
                )
            )
        elif fw is not None and fw_year is not fw:
            out.append(
                _f(
                    "framework",
                    E,
                    f"financial_years[{i}]",
                    f"{fy} falls under the {fw_year.id} framework but the plan starts under "
                    f"{fw.id}: a plan covers the years of one framework",
                )
            )
    if fw is None:
        return out
    for i, f in enumerate(plan.funding):
        if f.source not in fw.funding_sources:
            out.append(
                _f(
                    "framework",
                    E,
                    f"funding[{i}].source",
                    f"'{f.source}' is not a funding stream of the {fw.id} framework "
                    f"(its streams: {', '.join(fw.funding_sources)})",
                )
            )
    return out


def _icb_social_care(s: Scheme, fy: str) -> Decimal:
    """The part of a scheme's spend from the ICB minimum that goes to adult social care."""
    if not (s.protects_social_care or fy in s.protected_amount):
        return Decimal(0)
    if fy in s.protected_amount:
        return s.protected_amount[fy] or Decimal(0)
    if s.sources:
        return sum(
            (
                src.amount or Decimal(0)
                for src in s.sources
                if src.financial_year == fy and src.source == FundingSource.ICB_MINIMUM
            ),
            Decimal(0),
        )
    if s.funding_source == FundingSource.ICB_MINIMUM:
        return s.spend.get(fy) or Decimal(0)
    return Decimal(0)


@rule(
    "nhs-minimum-social-care",
    "The NHS minimum contribution to adult social care is stated and met by schemes",
)
def nhs_minimum_social_care(plan: Plan) -> list[Finding]:
    """ICB-minimum spend on schemes marked protects_social_care covers the required amount.

    2025-26 national condition 3 (grant and funding conditions) and 2023-25 condition 4.
    """
    out = []
    for fy in plan.financial_years:
        required = plan.nhs_minimum_social_care.get(fy)
        if required is None:
            out.append(
                _f(
                    "nhs-minimum-social-care",
                    E,
                    f"nhs_minimum_social_care.{fy}",
                    f"the NHS minimum contribution to adult social care for {fy} is not stated",
                )
            )
            continue
        funded = sum((_icb_social_care(s, fy) for s in plan.schemes), Decimal(0))
        if funded < required:
            out.append(
                _f(
                    "nhs-minimum-social-care",
                    E,
                    f"nhs_minimum_social_care.{fy}",
                    f"schemes spend {_money(funded)} of the ICB minimum on adult social care "
                    f"in {fy}, below the NHS minimum contribution {_money(required)} "
                    f"(short by {_money(required - funded)})",
                )
            )
    return out


@rule("discharge-funding", "Additional Discharge Funding inside a stream is within that stream")
def discharge_funding(plan: Plan) -> list[Finding]:
    """The discharge funding part of a stream is no more than the stream."""
    out = []
    for i, f in enumerate(plan.funding):
        if f.discharge_funding is None or f.amount is None:
            continue
        if f.discharge_funding > f.amount:
            out.append(
                _f(
                    "discharge-funding",
                    E,
                    f"funding[{i}].discharge_funding",
                    f"Additional Discharge Funding {_money(f.discharge_funding)} is more than "
                    f"the {f.source} stream it sits in ({_money(f.amount)}) in {f.financial_year}",
                )
            )
    return out


@rule(
    "dfg-pass-through",
    "In two-tier areas the DFG passes to the district councils, unless they agree otherwise",
)
def dfg_pass_through(plan: Plan) -> list[Finding]:
    """Two-tier areas: the DFG passes to the housing authorities (the districts).

    The DFG grant conditions, as carried into BCF plans, pass the grant to the housing
    authorities in two-tier areas; part may be kept by the county (e.g. for a joint
    adaptations service) with the districts' agreement. So passing part is not refused:
    DFG neither passed nor kept by agreement is a warning; more passed than the grant,
    or DFG paid to a partner that is not a housing authority, is an error. (The grant
    determination's wording was not read here: see the 2025-26 framework's unconfirmed.)
    """
    out = []
    for i, f in enumerate(plan.funding):
        if f.source != FundingSource.DISABLED_FACILITIES_GRANT:
            if f.pass_through:
                out.append(
                    _f(
                        "dfg-pass-through",
                        W,
                        f"funding[{i}].pass_through",
                        f"{f.source} is passed through; only the DFG passes to districts",
                    )
                )
            continue
        for pid in f.pass_through:
            if not plan.partner(pid).housing_authority:
                out.append(
                    _f(
                        "dfg-pass-through",
                        E,
                        f"funding[{i}].pass_through.{pid}",
                        f"{plan.partner(pid).name} receives DFG but is not marked as a "
                        "housing authority",
                    )
                )
        if not plan.hwb.two_tier or f.amount is None:
            continue
        out += _dfg_balance(plan, i)
    return out


def _dfg_balance(plan: Plan, i: int) -> list[Finding]:
    """One DFG line of a two-tier area: passed plus kept by agreement is the grant."""
    f = plan.funding[i]
    amount = f.amount or Decimal(0)
    passed = sum(f.pass_through.values(), Decimal(0))
    kept = f.retained or Decimal(0)
    fy = f.financial_year
    if passed + kept > amount:
        return [
            _f(
                "dfg-pass-through",
                E,
                f"funding[{i}].pass_through",
                f"{_money(passed)} of DFG passed and {_money(kept)} kept in {fy}: more "
                f"than the grant ({_money(amount)})",
            )
        ]
    out = []
    districts = [
        p.id for p in plan.partners if p.housing_authority and p.id != plan.hwb.local_authority
    ]
    if kept:
        missing = [d for d in districts if d not in f.retention_agreed_by]
        if missing:
            names = ", ".join(plan.partner(d).name for d in missing)
            out.append(
                _f(
                    "dfg-pass-through",
                    W,
                    f"funding[{i}].retention_agreed_by",
                    f"{_money(kept)} of DFG is kept in {fy} without a recorded agreement "
                    f"of {names}",
                )
            )
    if passed + kept < amount:
        out.append(
            _f(
                "dfg-pass-through",
                W,
                f"funding[{i}].pass_through",
                f"in a two-tier area the DFG for {fy} ({_money(amount)}) passes to the "
                f"district councils unless they agree otherwise; {_money(passed)} is passed"
                + (f" and {_money(kept)} kept by agreement" if kept else "")
                + f", {_money(amount - passed - kept)} is neither",
            )
        )
    return out


#: CCGs were abolished and ICBs established on 1 July 2022 (Health and Care Act 2022);
#: the 2021-22 BCF framework names CCGs, the 2022-23 framework ICBs.
FIRST_ICB_YEAR = "2022/23"


@rule("commissioners", "Schemes are commissioned by bodies of the plan's years (ICB from 2022)")
def commissioners(plan: Plan) -> list[Finding]:
    """CCGs until June 2022, ICBs from July 2022.

    A CCG commissioning in a plan year after 2022/23 is an error (in 2022/23 a warning;
    a CCG partner after 2022/23 a warning); an ICB before 2022/23 is an error. A joint
    split on a scheme not jointly commissioned is a warning.
    """
    out = []
    first = fy_start_year(plan.financial_years[0])
    icb_start = fy_start_year(FIRST_ICB_YEAR)
    for i, s in enumerate(plan.schemes):
        p = f"schemes[{i}].commissioner"
        if s.commissioner is Commissioner.CCG and first >= icb_start:
            out.append(
                _f(
                    "commissioners",
                    E if first > icb_start else W,
                    p,
                    f"scheme {s.reference} is commissioned by a CCG in "
                    f"{plan.financial_years[0]}: CCGs were abolished on 1 July 2022 and "
                    "their duties passed to ICBs (commissioner: icb)",
                )
            )
        elif s.commissioner is Commissioner.ICB and first < icb_start:
            out.append(
                _f(
                    "commissioners",
                    E,
                    p,
                    f"scheme {s.reference} is commissioned by an ICB in "
                    f"{plan.financial_years[0]}: ICBs were established on 1 July 2022 "
                    "(commissioner: ccg)",
                )
            )
        if s.joint_split is not None and s.commissioner is not Commissioner.JOINT:
            out.append(
                _f(
                    "commissioners",
                    W,
                    f"schemes[{i}].joint_split",
                    f"scheme {s.reference} gives an NHS/council split but is not jointly "
                    "commissioned",
                )
            )
    for i, partner in enumerate(plan.partners):
        if partner.type is PartnerType.ICB and first < icb_start:
            out.append(
                _f(
                    "commissioners",
                    W,
                    f"partners[{i}].type",
                    f"{partner.name} is an ICB in a {plan.financial_years[0]} plan: ICBs "
                    "were established on 1 July 2022 (type: ccg)",
                )
            )
        if first > icb_start and partner.type is PartnerType.CCG:
            out.append(
                _f(
                    "commissioners",
                    W,
                    f"partners[{i}].type",
                    f"{partner.name} is a CCG in a {plan.financial_years[0]} plan: CCGs "
                    "were abolished on 1 July 2022 (type: icb)",
                )
            )
    return out


@rule(
    "scheme-admissions-total",
    "Schemes' admissions avoided add up to the plan's own figure",
)
def scheme_admissions_total(plan: Plan) -> list[Finding]:
    """The schemes' admissions-avoided targets of a year against the plan's figure.

    The plan's figure is ``admissions_avoided_total`` for the year, else the planned
    reduction of the payment-for-performance element (seed 002: five schemes "targeted
    to avoid 1,517 emergency admissions in 2016/17" whose own targets sum to 4,080).
    """
    out = []
    for fy in plan.financial_years:
        stated = [
            (s.reference, s.admissions_avoided[fy])
            for s in plan.schemes
            if s.admissions_avoided.get(fy) is not None
        ]
        total, path = plan.admissions_avoided_total.get(fy), f"admissions_avoided_total.{fy}"
        perf = plan.performance
        if total is None and perf is not None and perf.financial_year == fy:
            total, path = perf.planned_reduction, "performance.planned_reduction"
        if not stated or total is None:
            continue
        summed = sum(n for _, n in stated if n is not None)
        if summed != total:
            out.append(
                _f(
                    "scheme-admissions-total",
                    W,
                    path,
                    f"the schemes' admissions avoided in {fy} sum to {summed:,} "
                    f"({len(stated)} scheme(s)) against the plan's figure of {total:,} "
                    f"(difference {summed - total:+,})",
                )
            )
    return out


@rule("section-75", "The Section 75 agreement: host, pooled or aligned, over- and underspends")
def section_75(plan: Plan) -> list[Finding]:
    """The Section 75 (NHS Act 2006) agreement governing the pooled fund is described.

    Its host, pooled or aligned budgets and over- and underspend terms (warnings only;
    the 2025-26 template asks no risk share: it belongs to the agreement).
    """
    s75 = plan.section_75
    if s75 is None:
        return [
            _f(
                "section-75",
                W,
                "section_75",
                "no Section 75 agreement is described (host partner, pooled or aligned "
                "budgets, overspend and underspend terms)",
            )
        ]
    out = []
    for name, what in (
        ("host", "host partner"),
        ("arrangement", "pooled or aligned budget arrangement"),
        ("overspend", "overspend terms"),
        ("underspend", "underspend terms"),
    ):
        if getattr(s75, name) is None:
            out.append(
                _f(
                    "section-75",
                    W,
                    f"section_75.{name}",
                    f"the Section 75 agreement's {what} is not stated",
                )
            )
    for fy in plan.financial_years:
        pooled, aligned = s75.pooled_amount.get(fy), s75.aligned_amount.get(fy)
        agreed = plan.agreed_pooled_budget.get(fy)
        if pooled is not None and agreed is not None:
            held = pooled + (aligned or Decimal(0))
            if held != agreed:
                out.append(
                    _f(
                        "section-75",
                        W,
                        f"section_75.pooled_amount.{fy}",
                        f"the Section 75 agreement holds {_money(held)} in {fy} against "
                        f"the plan's pooled budget {_money(agreed)}",
                    )
                )
    return out


@rule("neighbourhood-health", "Plans aligned with neighbourhood health services (2026-27)")
def neighbourhood_health(plan: Plan) -> list[Finding]:
    """2026-27: the plan aligns with neighbourhood health services.

    Such as intermediate care (Better Care Fund framework 2026 to 2027).
    """
    narrative = plan.narrative
    if narrative is None or not narrative.neighbourhood_health:
        return [
            _f(
                "neighbourhood-health",
                W,
                "narrative.neighbourhood_health",
                "the plan does not say how it aligns with neighbourhood health services "
                "(e.g. intermediate care), as the 2026-27 framework asks",
            )
        ]
    if not any(s.neighbourhood_service for s in plan.schemes):
        return [
            _f(
                "neighbourhood-health",
                W,
                "schemes",
                "no scheme names the neighbourhood health service it is aligned with",
            )
        ]
    return []


@rule("objectives", "Every scheme serves an objective of the framework (2025-26)")
def objectives(plan: Plan) -> list[Finding]:
    """Schemes tied to the framework's objectives; unknown objective ids are errors."""
    fw = plan_framework(plan)
    if fw is None or not fw.objectives:
        return []
    out = []
    known = fw.objective_ids()
    for i, s in enumerate(plan.schemes):
        if not s.objectives:
            out.append(
                _f(
                    "objectives",
                    W,
                    f"schemes[{i}].objectives",
                    f"scheme {s.reference} is not tied to an objective ({', '.join(known)})",
                )
            )
        for j, o in enumerate(s.objectives):
            if o not in known:
                out.append(
                    _f(
                        "objectives",
                        E,
                        f"schemes[{i}].objectives[{j}]",
                        f"'{o}' is not an objective of the {fw.id} framework ({', '.join(known)})",
                    )
                )
    return out


@rule("involvement", "Housing authorities and providers are involved in the plan (2025-26)")
def involvement(plan: Plan) -> list[Finding]:
    """At least one housing authority and one provider with their involvement recorded."""
    out = []
    housing = [p for p in plan.partners if p.housing_authority and p.involvement]
    providers = [
        p
        for p in plan.partners
        if p.type in (PartnerType.PROVIDER, PartnerType.NHS_TRUST) and p.involvement
    ]
    if not housing:
        out.append(
            _f(
                "involvement",
                W,
                "partners",
                "no housing authority's involvement in the plan is recorded",
            )
        )
    if not providers:
        out.append(
            _f("involvement", W, "partners", "no provider's involvement in the plan is recorded")
        )
    return out


def _plan_months(plan: Plan) -> list[str]:
    """Every calendar month of the plan's financial years, ``YYYY-MM``."""
    months = []
    for fy in plan.financial_years:
        start = fy_span(fy).start
        for k in range(12):
            y, m = divmod(start.month - 1 + k, 12)
            months.append(f"{start.year + y:04d}-{m + 1:02d}")
    return months


@rule(
    "capacity-and-demand",
    "Intermediate care capacity and demand: every month given, demand within capacity",
)
def capacity_and_demand(plan: Plan) -> list[Finding]:
    """Monthly demand and capacity by service (2023-25 addendum): gaps flagged.

    Months of the plan without a figure, months outside the plan and months where
    expected demand exceeds planned capacity are findings, one per service and kind.
    """
    if not plan.capacity_demand:
        return [
            _f(
                "capacity-and-demand",
                W,
                "capacity_demand",
                "no capacity and demand plan for intermediate and short-term care is given",
            )
        ]
    out = []
    months = _plan_months(plan)
    inside = set(months)
    for i, cd in enumerate(plan.capacity_demand):
        p = f"capacity_demand[{i}]"
        for kind in ("demand", "capacity"):
            figures = getattr(cd, kind)
            missing = [m for m in months if figures.get(m) is None]
            if missing:
                out.append(
                    _f(
                        "capacity-and-demand",
                        W,
                        f"{p}.{kind}",
                        f"{cd.service}: no {kind} figure for {len(missing)} month(s): "
                        f"{', '.join(missing)}",
                    )
                )
            for m in figures:
                if m not in inside:
                    out.append(
                        _f(
                            "capacity-and-demand",
                            E,
                            f"{p}.{kind}.{m}",
                            f"{cd.service}: {m} is outside the plan's years "
                            f"({', '.join(plan.financial_years)})",
                        )
                    )
        short = []
        for m in months:
            d, c = cd.demand.get(m), cd.capacity.get(m)
            if d is not None and c is not None and d > c:
                short.append(f"{m} ({d} > {c}, short by {d - c})")
        if short:
            out.append(
                _f(
                    "capacity-and-demand",
                    W,
                    f"{p}.capacity",
                    f"{cd.service}: expected demand is above planned capacity in "
                    f"{len(short)} month(s): {'; '.join(short)}",
                )
            )
    return out


@rule("scheme-types", "Scheme types are those of the framework's planning template")
def scheme_types(plan: Plan) -> list[Finding]:
    """A scheme type outside the template's list is a warning (the lists are not confirmed)."""
    fw = plan_framework(plan)
    if fw is None or not fw.scheme_types:
        return []
    out = []
    for i, s in enumerate(plan.schemes):
        if s.scheme_type is None:
            out.append(
                _f(
                    "scheme-types",
                    W,
                    f"schemes[{i}].scheme_type",
                    f"scheme {s.reference} has no type",
                )
            )
        elif s.scheme_type not in fw.scheme_types:
            out.append(
                _f(
                    "scheme-types",
                    W,
                    f"schemes[{i}].scheme_type",
                    f"'{s.scheme_type}' is not a scheme type of the {fw.id} template",
                )
            )
        if not s.planned_outputs:
            out.append(
                _f(
                    "scheme-types",
                    W,
                    f"schemes[{i}].planned_outputs",
                    f"scheme {s.reference} has no planned outputs",
                )
            )
    return out


#: Rules run for a plan whose first year no modelled framework covers.
FRAMEWORK_FREE_RULES = ("framework", "years-and-dates", "risk-score", "risk-share")


def rules_for(plan: Plan) -> list[str]:
    """The rule ids that apply to a plan: its framework's, and always ``framework``."""
    fw = plan_framework(plan)
    chosen = set(fw.rules if fw else FRAMEWORK_FREE_RULES) | {"framework"}
    return [rule_id for rule_id in RULES if rule_id in chosen]


def check_plan(plan: Plan, rules: list[str] | None = None) -> list[Finding]:
    """Run the plan's framework's rules (those named, if given); findings, errors first."""
    findings: list[Finding] = []
    applicable = rules_for(plan)
    for rule_id in applicable:
        if rules is None or rule_id in rules:
            findings.extend(RULES[rule_id].check(plan))
    return sorted(findings, key=lambda f: (f.severity != Severity.ERROR,))
