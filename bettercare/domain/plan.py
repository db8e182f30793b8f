"""A Better Care Fund plan as typed data.

One :class:`Plan` holds what the national BCF planning template (Part 1 narrative and
Part 2 finance and metrics) asks of one Health and Wellbeing Board for one or two
financial years: partners, the pooled budget by funding source, schemes, national
conditions, metric trajectories, the risk register, the risk share and the sign-offs.

A value that the source plan leaves blank or as a placeholder is ``None`` here: it is
never invented, and the planning rules (:mod:`bettercare.domain.rules`) report it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

# the sign-off capacities live with the frameworks that order them; re-exported here
from bettercare.domain.frameworks.base import SignOffRole as SignOffRole
from bettercare.domain.periods import FinancialYear, Period
from bettercare.domain.rag import RagStatus
from bettercare.domain.risk import RiskBand, score_or_none
from bettercare.domain.risk import band as risk_band
from bettercare.domain.text import control_characters

#: Sane maxima, far above any real plan, so a mistyped or hostile figure is refused with a
#: finding instead of overflowing a sum or a format. The whole BCF was £5.3bn in 2015/16.
MAX_MONEY = Decimal(100_000_000_000)
#: More people (or admissions) than live in England: larger counts are typing errors.
MAX_COUNT = 100_000_000

Money = Annotated[
    Decimal, Field(ge=0, lt=MAX_MONEY, description="Pounds sterling, non-negative, below £100bn")
]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
Percent = Annotated[float, Field(ge=0, le=100)]
Score1to5 = Annotated[int, Field(ge=1, le=5)]

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _calendar_date(value: Any) -> Any:
    """A plan date is ``YYYY-MM-DD`` and must exist (``2014-02-30`` does not)."""
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value.strip()):
        raise PydanticCustomError("plan_date", "a date is written YYYY-MM-DD, e.g. 2015-04-01")
    text = value.strip()
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise PydanticCustomError(
            "plan_date",
            "{date} is not a date that exists ({reason})",
            {"date": text, "reason": str(exc)},
        ) from None


#: A calendar date that exists, written ``YYYY-MM-DD`` (plan files keep dates as text).
PlanDate = Annotated[dt.date, BeforeValidator(_calendar_date)]


def _controls_in(value: Any) -> list[str]:
    """Control characters in a field's text, its list items and its mapping keys and values."""
    if isinstance(value, str):
        return control_characters(value)
    if isinstance(value, list):
        return sorted({c for item in value for c in _controls_in(item)})
    if isinstance(value, dict):
        return sorted({c for k, v in value.items() for c in _controls_in(k) + _controls_in(v)})
    return []


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        """Text is shown on terminals and in reports: no escape codes."""
        found = _controls_in(value)
        if found:
            raise PydanticCustomError(
                "control_character",
                "text holds control characters ({chars}), which could rewrite a terminal",
                {"chars": " ".join(found)},
            )
        return value


class PartnerType(StrEnum):
    """The kind of organisation a plan partner is."""

    LOCAL_AUTHORITY = "local_authority"
    CCG = "ccg"
    ICB = "icb"
    NHS_TRUST = "nhs_trust"
    NHS_ENGLAND = "nhs_england"
    PROVIDER = "provider"
    VOLUNTARY_SECTOR = "voluntary_sector"
    HEALTHWATCH = "healthwatch"
    HEALTH_AND_WELLBEING_BOARD = "health_and_wellbeing_board"
    DISTRICT_COUNCIL = "district_council"
    OTHER = "other"


class Partner(_Model):
    """An organisation party to (or consulted on) the plan's pooled budget."""

    id: str = Field(pattern=r"^[a-z0-9_]+$", description="Short id used to refer to the partner")
    name: str
    type: PartnerType
    signatory: bool = Field(
        True, description="Party to the pooled budget who must sign off (False: consulted only)"
    )
    housing_authority: bool = Field(
        False, description="A local housing authority (a district, or a unitary council)"
    )
    involvement: str | None = Field(
        None, description="How the partner was involved in the plan (2025-26: providers, housing)"
    )


class HealthAndWellbeingBoard(_Model):
    """The Health and Wellbeing Board whose area the plan covers."""

    name: str
    local_authority: str = Field(description="Partner id of the council")
    ons_code: str | None = Field(None, pattern=r"^E\d{8}$")
    population: Count | None = Field(None, description="Resident population covered")
    two_tier: bool = Field(
        False, description="County with district councils (the DFG passes to the districts)"
    )


class FundingSource(StrEnum):
    """Where BCF money comes from (2014/15 to 2026/27; which apply is the framework's)."""

    CCG_MINIMUM = "ccg_minimum"
    DISABLED_FACILITIES_GRANT = "disabled_facilities_grant"
    SOCIAL_CARE_CAPITAL_GRANT = "social_care_capital_grant"
    ADDITIONAL_LA = "additional_la"
    ADDITIONAL_CCG = "additional_ccg"
    CARERS_BREAKS = "carers_breaks"
    REABLEMENT = "reablement"
    CARE_ACT = "care_act"
    SOCIAL_CARE_TRANSFER = "social_care_transfer"
    IMPROVED_BCF = "improved_bcf"
    WINTER_PRESSURES_GRANT = "winter_pressures_grant"
    ICB_MINIMUM = "icb_minimum"
    LOCAL_AUTHORITY_BCF_GRANT = "local_authority_bcf_grant"
    ADDITIONAL_ICB = "additional_icb"
    ADDITIONAL_DISCHARGE_FUND = "additional_discharge_fund"
    OTHER = "other"


class FundingContribution(_Model):
    """Money paid into the pooled budget from one source in one year."""

    source: FundingSource
    financial_year: FinancialYear
    amount: Money | None = None
    contributor: str | None = Field(None, description="Partner id paying this in")
    discharge_funding: Money | None = Field(
        None, description="Part of this stream that is Additional Discharge Funding (2025-26)"
    )
    pass_through: dict[str, Money] = Field(
        default_factory=dict,
        description="DFG passed to housing authorities: partner id -> amount (two-tier areas)",
    )
    retained: Money | None = Field(
        None, description="DFG kept by the county (e.g. for a joint adaptations service)"
    )
    retention_agreed_by: list[str] = Field(
        default_factory=list,
        description="Partner ids of the housing authorities that agreed to the DFG retained",
    )
    note: str | None = None


class SchemeSource(_Model):
    """One source's share of a scheme's spend in a year (a scheme may draw on several)."""

    source: FundingSource
    financial_year: FinancialYear
    amount: Money | None = None


class PlannedOutput(_Model):
    """What a scheme plans to deliver, in the unit of its scheme type (2023-25 on)."""

    unit: str = Field(description="e.g. 'hours of care', 'packages', 'beds'")
    quantity: dict[FinancialYear, Annotated[float, Field(ge=0, le=MAX_COUNT)] | None] = Field(
        default_factory=dict
    )


class AreaOfSpend(StrEnum):
    """Where a scheme's money is spent (the template's area of spend)."""

    SOCIAL_CARE = "social_care"
    COMMUNITY_HEALTH = "community_health"
    ACUTE = "acute"
    PRIMARY_CARE = "primary_care"
    MENTAL_HEALTH = "mental_health"
    CONTINUING_CARE = "continuing_care"
    OTHER = "other"


class Commissioner(StrEnum):
    """Who commissions a scheme: the council, the NHS body or both jointly.

    The NHS body is the CCG to June 2022 and the ICB from July 2022; which is valid in a
    plan's years is a rule (``commissioners`` in :mod:`bettercare.domain.rules`).
    """

    LOCAL_AUTHORITY = "local_authority"
    CCG = "ccg"
    ICB = "icb"
    JOINT = "joint"


class JointSplit(_Model):
    """How a jointly commissioned scheme's spend divides between the NHS and the council.

    Percentages of the scheme's spend; they add up to 100.
    """

    nhs: Percent
    council: Percent

    @model_validator(mode="after")
    def _adds_up(self) -> JointSplit:
        """The NHS and council shares make the whole scheme."""
        if abs(self.nhs + self.council - 100) > 1e-9:
            raise ValueError(
                f"nhs ({self.nhs:g}%) and council ({self.council:g}%) must add up to 100%"
            )
        return self


class EffectRange(_Model):
    """A stated range of a scheme's admissions avoided in one year: ``low`` to ``high``.

    Optional: where a plan states how uncertain a scheme's effect is, the
    scheme impact model (:mod:`bettercare.analytics.modelling`) draws it from this range
    rather than from its default uncertainty. ``low == high`` states a certain effect.
    """

    low: Annotated[int, Field(ge=-MAX_COUNT, le=MAX_COUNT)]
    high: Annotated[int, Field(ge=-MAX_COUNT, le=MAX_COUNT)]

    @model_validator(mode="after")
    def _ordered(self) -> EffectRange:
        """A range runs from low to high."""
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) must not exceed high ({self.high})")
        return self


class Scheme(_Model):
    """A BCF scheme: what is funded, by whom, its spend and admissions avoided per year."""

    reference: str
    name: str
    scheme_type: str | None = None
    area_of_spend: AreaOfSpend | None = None
    commissioner: Commissioner | None = None
    joint_split: JointSplit | None = Field(
        None, description="NHS / council shares of a jointly commissioned scheme's spend"
    )
    neighbourhood_service: str | None = Field(
        None,
        description="The neighbourhood health service the scheme is aligned with "
        "(2026-27), e.g. 'intermediate care'",
    )
    provider: str | None = None
    funding_source: FundingSource | None = None
    sources: list[SchemeSource] = Field(
        default_factory=list, description="Spend by funding source (schemes on several sources)"
    )
    objectives: list[str] = Field(
        default_factory=list, description="Framework objective ids the scheme serves (2025-26)"
    )
    planned_outputs: list[PlannedOutput] = Field(default_factory=list)
    spend: dict[FinancialYear, Money | None] = Field(default_factory=dict)
    recurrent: bool | None = None
    protects_social_care: bool = Field(
        False, description="Counts towards the protection of adult social care services"
    )
    protected_amount: dict[FinancialYear, Money | None] = Field(
        default_factory=dict,
        description="Part of the spend that counts towards protecting adult social care, "
        "where the plan states it (otherwise all spend of a protects_social_care scheme)",
    )
    theme: str | None = Field(None, description="Work stream or priority the scheme sits under")
    metrics: list[str] = Field(default_factory=list, description="Metric ids it targets")
    admissions_avoided: dict[
        FinancialYear, Annotated[int, Field(ge=-MAX_COUNT, le=MAX_COUNT)] | None
    ] = Field(default_factory=dict, description="Expected non-elective admissions avoided per year")
    admissions_avoided_range: dict[FinancialYear, EffectRange] = Field(
        default_factory=dict,
        description="Optional stated range (low, high) of admissions avoided per year; the "
        "expected figure, where stated, must lie within it",
    )
    description: str | None = None

    @model_validator(mode="after")
    def _expected_within_range(self) -> Scheme:
        """The expected admissions avoided of a year lies within that year's stated range."""
        for fy, rng in self.admissions_avoided_range.items():
            expected = self.admissions_avoided.get(fy)
            if expected is not None and not rng.low <= expected <= rng.high:
                raise ValueError(
                    f"admissions_avoided {fy} = {expected} lies outside "
                    f"admissions_avoided_range {fy} ({rng.low} to {rng.high})"
                )
        return self

    def source_label(self) -> str:
        """The funding stream(s) a scheme draws on, for tables: 'a, b' or ''."""
        names = dict.fromkeys(str(src.source) for src in self.sources)
        if not names and self.funding_source is not None:
            names = {str(self.funding_source): None}
        return ", ".join(names)


class ConditionStatus(StrEnum):
    """Whether the plan says a national condition is met."""

    MET = "met"
    IN_PROGRESS = "in_progress"
    NOT_MET = "not_met"
    NOT_STATED = "not_stated"


class NationalConditionId(StrEnum):
    """The seed-era BCF national conditions (2014/15; additions from 2016/17).

    Plan files name a condition by its id as text; which ids exist is the framework's
    (:mod:`bettercare.domain.frameworks`), so a condition of another framework is a
    located rule finding naming the framework, not a parse error.
    """

    PLANS_JOINTLY_AGREED = "plans_jointly_agreed"
    PROTECT_SOCIAL_CARE = "protect_social_care"
    SEVEN_DAY_SERVICES = "seven_day_services"
    DATA_SHARING_NHS_NUMBER = "data_sharing_nhs_number"
    JOINT_ASSESSMENT_LEAD_PROFESSIONAL = "joint_assessment_lead_professional"
    IMPACT_ON_ACUTE_SECTOR = "impact_on_acute_sector"
    NHS_OUT_OF_HOSPITAL_SERVICES = "nhs_out_of_hospital_services"
    DELAYED_TRANSFERS_ACTION_PLAN = "delayed_transfers_action_plan"


class NationalCondition(_Model):
    """The plan's statement against one national condition, with evidence."""

    id: str = Field(pattern=r"^[a-z0-9_]+$", description="Condition id of the plan's framework")
    status: ConditionStatus = ConditionStatus.NOT_STATED
    evidence: str | None = None


class TimeBasis(StrEnum):
    """What period a rate is expressed over (e.g. seed 002: 'per 100,000 per month')."""

    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class MetricValue(_Model):
    """A metric's value (or numerator and denominator) for one period."""

    period: Period
    value: float | None = None
    numerator: float | None = Field(None, ge=0)
    denominator: float | None = Field(None, ge=0)
    status: RagStatus | None = Field(None, description="RAG status as reported (reported values)")


class GoalBasis(StrEnum):
    """Where a metric's goal came from: an option the plan form offered, or the board's own.

    The options are computed from published figures (:mod:`bettercare.analytics.goals`):
    continue the board's own trajectory (SPC), reach its peers' median, or reach their
    best quartile (the upper quartile where higher is better, the lower otherwise).
    """

    TRAJECTORY = "trajectory"
    PEER_MEDIAN = "peer_median"
    PEER_BEST_QUARTILE = "peer_best_quartile"
    OWN = "own"


class MetricGoal(_Model):
    """The goal the board chose for a metric, and the basis it chose it on."""

    basis: GoalBasis
    period: Period | None = Field(None, description="The planned period the goal is for")
    value: float | None = Field(None, description="The goal, in the metric's unit")
    figures_period: Period | None = Field(
        None, description="Latest published period the option was computed from"
    )
    note: str | None = Field(None, description="What the option meant when it was chosen")


class MetricPlan(_Model):
    """A metric's baseline, planned values and reported actuals in the plan."""

    metric: str = Field(description="Metric id from bettercare.domain.metrics.CATALOGUE")
    name: str | None = Field(None, description="Name as the plan words it (local metrics)")
    time_basis: TimeBasis | None = Field(
        None, description="Rates are per month/quarter/year (None: over the whole period)"
    )
    baseline: MetricValue | None = None
    planned: list[MetricValue] = Field(default_factory=list)
    reported: list[MetricValue] = Field(
        default_factory=list,
        description="Actuals as a board paper reported them (computed actuals come from data)",
    )
    goal: MetricGoal | None = Field(
        None, description="The goal chosen in the plan form and its basis (None: not stated)"
    )
    note: str | None = None


class Risk(_Model):
    """An entry of the plan's risk log: likelihood x impact (1-5 each) and mitigation."""

    id: str
    description: str
    likelihood: Score1to5 | None = None
    impact: Score1to5 | None = None
    # as the plan file states it, shown nowhere: the score is likelihood x impact
    # (risk_score), and a stated score that disagrees is a finding (rule risk-score)
    score: int | None = Field(None, ge=1, le=25)
    rating: str | None = Field(None, description="Rating as the plan words it, e.g. 'High'")
    owner: str | None = None
    mitigation: str | None = None
    note: str | None = None

    @property
    def risk_score(self) -> int | None:
        """Likelihood x impact (:mod:`bettercare.domain.risk`); never the stated ``score``."""
        return score_or_none(self.likelihood, self.impact)

    @property
    def band(self) -> RiskBand | None:
        """The band of :attr:`risk_score` (None when the risk is not scored)."""
        found = self.risk_score
        return None if found is None else risk_band(found)


class RiskShare(_Model):
    """How partners share an overspend or a shortfall, and the contingency reserve."""

    arrangement: str | None = None
    shares: dict[str, Percent] = Field(
        default_factory=dict, description="Partner id -> percent of overspend/shortfall borne"
    )
    contingency_reserve: Money | None = None
    note: str | None = None


class SignOff(_Model):
    """A partner's sign-off of the plan: who signed, in what role and when."""

    body: str = Field(description="Partner id of the signing body")
    person: str | None = None
    role: str | None = Field(None, description="The role as the plan words it")
    capacity: SignOffRole | None = Field(
        None, description="The sign-off role the framework asks for (e.g. s151_officer)"
    )
    delegated: bool = Field(False, description="Signed by a delegate on the role holder's behalf")
    date: PlanDate | None = None
    note: str | None = None


class BudgetArrangement(StrEnum):
    """How the BCF money is held under the Section 75 agreement."""

    POOLED = "pooled"
    ALIGNED = "aligned"
    MIXED = "mixed"


class Section75Agreement(_Model):
    """The Section 75 (NHS Act 2006) partnership agreement that governs the pooled fund.

    Hosting, pooled or aligned budgets and how over- and underspends are dealt with are
    the agreement's, not the BCF template's (the risk share sits here from 2025-26).
    """

    host: str | None = Field(None, description="Partner id of the host partner")
    arrangement: BudgetArrangement | None = None
    pooled_amount: dict[FinancialYear, Money | None] = Field(default_factory=dict)
    aligned_amount: dict[FinancialYear, Money | None] = Field(default_factory=dict)
    overspend: str | None = Field(None, description="How an overspend is met, by whom")
    underspend: str | None = Field(
        None, description="What happens to an underspend (carried forward, returned, ...)"
    )
    date_signed: PlanDate | None = None
    note: str | None = None


class Narrative(_Model):
    """The narrative plan's sections (each the plan's own words, or a summary of them)."""

    integration_approach: str | None = None
    housing: str | None = Field(None, description="Housing, the DFG and home adaptations")
    carers: str | None = Field(None, description="Support for unpaid carers")
    equality_duty: str | None = Field(
        None, description="The public sector equality duty and health inequalities"
    )
    engagement: str | None = Field(None, description="Engagement with people and providers")
    neighbourhood_health: str | None = Field(
        None, description="Alignment with neighbourhood health services (2026-27)"
    )


class Milestone(_Model):
    """A delivery milestone of the plan, with its owner and date."""

    description: str
    owner: str | None = None
    due: PlanDate | None = None
    done: bool | None = None


class PerformanceFund(_Model):
    """The 2015/16 payment-for-performance element (BCF Technical Guidance, Annex)."""

    financial_year: FinancialYear
    performance_pot: Money | None = Field(
        None, description="The performance-related part of the allocation"
    )
    baseline_period: Period | None = None
    baseline_admissions: Count | None = None
    planned_reduction_pct: Percent | None = None
    planned_reduction: Count | None = Field(
        None, description="Non-elective admissions avoided, as the plan states it"
    )
    unit_cost: Money = Decimal("1490")
    stated_p4p_amount: Money | None = Field(
        None, description="The performance-linked sum as the plan states it"
    )
    note: str | None = None


class PlanStatus(StrEnum):
    """Where the plan is in its approval (draft to approved)."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    AGREED = "agreed"
    APPROVED = "approved"


class SourceDocument(_Model):
    """The published document (seed) a plan file was transcribed from."""

    seed: str | None = None
    title: str | None = None
    note: str | None = None


#: A calendar month as plan files write it: ``2025-04``.
Month = Annotated[str, Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")]


class CareService(StrEnum):
    """Intermediate and short-term care services of a capacity and demand plan (2023-25)."""

    DISCHARGE_PATHWAY_0 = "discharge_pathway_0"
    DISCHARGE_PATHWAY_1 = "discharge_pathway_1"
    DISCHARGE_PATHWAY_2 = "discharge_pathway_2"
    DISCHARGE_PATHWAY_3 = "discharge_pathway_3"
    COMMUNITY_REFERRALS = "community_referrals"


class CapacityDemand(_Model):
    """Monthly expected demand and planned capacity for one service (people or packages)."""

    service: CareService
    service_type: str | None = Field(None, description="e.g. 'reablement at home'")
    demand: dict[Month, Count | None] = Field(default_factory=dict)
    capacity: dict[Month, Count | None] = Field(default_factory=dict)
    note: str | None = None


class MetricReturnStatus(StrEnum):
    """A metric's status in the quarterly return's own terms."""

    ON_TRACK = "on_track"
    NOT_ON_TRACK = "not_on_track"
    DATA_NOT_AVAILABLE = "data_not_available"


class MetricReturn(_Model):
    """One metric's status in a return, its actual to date and the HWB's narrative."""

    metric: str
    status: MetricReturnStatus
    actual: float | None = Field(
        None, ge=-MAX_COUNT, le=MAX_COUNT, description="Actual value to date, in the plan's unit"
    )
    narrative: str | None = None


class ConditionReturn(_Model):
    """A national condition confirmed (or not, or not yet answered) in a return."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    confirmed: bool | None = Field(None, description="None: not yet answered")
    narrative: str | None = None


class DfgReturn(_Model):
    """Disabled Facilities Grant delivery to date (spend and adaptations completed)."""

    spend: Money | None = Field(None, description="DFG spent, year to date")
    adaptations: Count | None = Field(None, description="Adaptations completed, year to date")


class CapacityDemandActual(_Model):
    """One month's actual demand and capacity for one intermediate-care service."""

    service: CareService
    month: Month
    demand: Count | None = None
    capacity: Count | None = None


class QuarterReport(_Model):
    """What the HWB reports for one quarter (Q4 is the year-end return).

    Money is year to date. ``carry_forward`` (the underspend carried into the next year)
    belongs to the year-end return only.
    """

    financial_year: FinancialYear
    quarter: int = Field(ge=1, le=4)
    income: dict[FundingSource, Money | None] = Field(
        default_factory=dict, description="Funding stream -> actual income, year to date"
    )
    actual_spend: dict[str, Money | None] = Field(
        default_factory=dict, description="Scheme reference -> actual spend, year to date"
    )
    dfg: DfgReturn | None = None
    discharge_funding_spend: Money | None = Field(
        None, description="Additional Discharge Funding spent, year to date"
    )
    carry_forward: Money | None = Field(
        None, description="Underspend carried forward to the next year (year-end return)"
    )
    metrics: list[MetricReturn] = Field(default_factory=list)
    capacity_demand: list[CapacityDemandActual] = Field(default_factory=list)
    conditions: list[ConditionReturn] = Field(default_factory=list)
    narrative: str | None = None

    @model_validator(mode="after")
    def _year_end_only(self) -> QuarterReport:
        """A carry-forward is a year-end figure."""
        if self.carry_forward is not None and self.quarter != 4:
            raise ValueError("carry_forward is reported in the year-end return (Q4) only")
        return self


class Plan(_Model):
    """A BCF plan as submitted: partners, pooled budget, funding, schemes, metrics, sign-off.

    The fields follow the BCF planning templates (Part 1/Part 2, 2014/15-2016/17).
    """

    plan_id: str = Field(pattern=r"^[a-z0-9_\-]+$")
    illustrative: bool = Field(
        False, description="Every figure is made up for illustration (example plans)"
    )
    hwb: HealthAndWellbeingBoard
    financial_years: list[FinancialYear] = Field(min_length=1, max_length=2)
    status: PlanStatus = PlanStatus.DRAFT
    date_agreed: PlanDate | None = Field(None, description="Agreed at the HWB")
    date_submitted: PlanDate | None = None
    source: SourceDocument | None = None
    partners: list[Partner] = Field(min_length=1)
    minimum_pooled_budget: dict[FinancialYear, Money | None] = Field(default_factory=dict)
    agreed_pooled_budget: dict[FinancialYear, Money | None] = Field(default_factory=dict)
    protected_social_care: dict[FinancialYear, Money | None] = Field(default_factory=dict)
    nhs_minimum_social_care: dict[FinancialYear, Money | None] = Field(
        default_factory=dict,
        description="Required NHS minimum contribution to adult social care (2023-25 on)",
    )
    funding: list[FundingContribution] = Field(default_factory=list)
    schemes: list[Scheme] = Field(default_factory=list)
    national_conditions: list[NationalCondition] = Field(default_factory=list)
    metrics: list[MetricPlan] = Field(default_factory=list)
    risks: list[Risk] = Field(default_factory=list)
    risk_share: RiskShare | None = None
    section_75: Section75Agreement | None = None
    narrative: Narrative | None = None
    milestones: list[Milestone] = Field(default_factory=list)
    admissions_avoided_total: dict[FinancialYear, Count | None] = Field(
        default_factory=dict,
        description="Non-elective admissions the plan as a whole sets out to avoid per year",
    )
    performance: PerformanceFund | None = None
    sign_offs: list[SignOff] = Field(default_factory=list)
    capacity_demand: list[CapacityDemand] = Field(default_factory=list)
    quarterly_reports: list[QuarterReport] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references_resolve(self) -> Plan:
        """Structural integrity: ids unique and references to partners resolvable."""
        ids = [p.id for p in self.partners]
        dupes = sorted(i for i, n in Counter(ids).items() if n > 1)
        if dupes:
            raise ValueError(f"partner ids must be unique; repeated: {', '.join(dupes)}")
        known = set(ids)
        refs = [("hwb.local_authority", self.hwb.local_authority)]
        refs += [(f"sign_offs[{i}].body", s.body) for i, s in enumerate(self.sign_offs)]
        refs += [
            (f"funding[{i}].contributor", f.contributor)
            for i, f in enumerate(self.funding)
            if f.contributor
        ]
        if self.risk_share:
            refs += [(f"risk_share.shares.{k}", k) for k in self.risk_share.shares]
        if self.section_75 and self.section_75.host:
            refs += [("section_75.host", self.section_75.host)]
        refs += [
            (f"funding[{i}].pass_through.{k}", k)
            for i, f in enumerate(self.funding)
            for k in f.pass_through
        ]
        refs += [
            (f"funding[{i}].retention_agreed_by[{j}]", k)
            for i, f in enumerate(self.funding)
            for j, k in enumerate(f.retention_agreed_by)
        ]
        bad = [f"{where} = '{ref}'" for where, ref in refs if ref not in known]
        if bad:
            raise ValueError(f"unknown partner id ({'; '.join(bad)}); declare it in partners")
        refs_s = Counter(s.reference for s in self.schemes)
        dup_s = sorted(r for r, n in refs_s.items() if n > 1)
        if dup_s:
            raise ValueError(f"scheme references must be unique; repeated: {', '.join(dup_s)}")
        unknown = [
            f"quarterly_reports[{i}].actual_spend.{ref}"
            for i, r in enumerate(self.quarterly_reports)
            for ref in r.actual_spend
            if ref not in refs_s
        ]
        if unknown:
            raise ValueError(f"unknown scheme reference ({'; '.join(unknown)})")
        return self

    # -- convenience -------------------------------------------------------------
    def partner(self, partner_id: str) -> Partner:
        """The partner with id ``partner_id``."""
        return next(p for p in self.partners if p.id == partner_id)

    def funding_total(self, fy: str) -> Decimal:
        """Sum of the funding contributions for financial year ``fy``."""
        return sum(
            (f.amount or Decimal(0) for f in self.funding if f.financial_year == fy), Decimal(0)
        )

    def scheme_spend(self, scheme: Scheme, fy: str) -> Decimal | None:
        """A scheme's spend in a year: as stated, else the sum of its sources."""
        stated = scheme.spend.get(fy)
        if stated is not None:
            return stated
        parts = [
            s.amount for s in scheme.sources if s.financial_year == fy and s.amount is not None
        ]
        return sum(parts, Decimal(0)) if parts else None

    def quarter_report(self, fy: str, quarter: int) -> QuarterReport | None:
        """The recorded return for a quarter, if the plan holds one."""
        return next(
            (r for r in self.quarterly_reports if r.financial_year == fy and r.quarter == quarter),
            None,
        )

    def scheme_total(self, fy: str) -> Decimal:
        """Sum of the schemes' spend for financial year ``fy``."""
        return sum((self.scheme_spend(s, fy) or Decimal(0) for s in self.schemes), Decimal(0))

    def metric_plan(self, metric_id: str) -> MetricPlan | None:
        """The plan's entry for metric ``metric_id``, or None."""
        return next((m for m in self.metrics if m.metric == metric_id), None)
