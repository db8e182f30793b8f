"""How numbers, periods and codes are shown to people: the one table and the one formatter.

Owns, for every metric of the catalogue (:mod:`bettercare.domain.metrics`), its unit and
basis as a reader needs them ("per 100,000 population aged 65+", "%", "days"), whether
its value is a rate (decimals) or a count (whole numbers), the precision it is shown at
and its natural bounds (0-100 for a percentage, >= 0 for a rate or count); the words
shown for every code a person meets (funding sources, partner types, workflow states,
steps and assurance outcomes, RAG, scheme types, national conditions, ...); one
notation for periods (the BCF templates' ``2016-17``, ``Q3 2016-17`` and ``March 2017``);
and the formatter the web app, the reports and the CLI share (:func:`format_metric`,
:func:`format_count`, :func:`format_percent`, :func:`format_period`; money stays
:func:`bettercare.domain.money.format_gbp`).

What is stored or exchanged (files, CSV, APIs) keeps its machine form: codes,
``2016/17`` and ``2017-03``, unrounded values. Only what people read goes through here.

RAG is decided at the precision shown (:func:`shown_value`, used by
:func:`bettercare.domain.rag.rag_status`), so a table can never read "62.2 against plan
62.2, AMBER".
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from bettercare.domain.metrics import CATALOGUE, Unit

#: What a value not given is shown as (the same dash as money's).
MISSING = "—"


class Kind(StrEnum):
    """How a metric's value reads: a rate, a percentage, a number of days or a count."""

    RATE = "rate"
    PERCENT = "percent"
    DAYS = "days"
    COUNT = "count"


@dataclass(frozen=True)
class MetricDisplay:
    """How one metric is shown: unit, basis, precision and natural bounds.

    ``unit`` is what follows a value in a cell ("per 100,000 aged 65+", "%", "days");
    ``basis`` is the longer statement of what the value is per ("permanent admissions
    per 100,000 population aged 65+"); ``count_noun`` names what a count of the
    numerator is ("admissions"). ``lower``/``upper`` bound the measure (None: unbounded).
    """

    metric: str
    unit: str
    basis: str
    count_noun: str
    kind: Kind
    decimals: int
    lower: float | None
    upper: float | None
    specification: str
    confirmed: bool = True


# Precision: rates per 100,000 and percentages are shown to one decimal place, as ASCOF
# and PHOF publish them (ASCOF 2A(2) "per 100,000 population", e.g. 560.8; 2B(1) as a
# percentage to one decimal): a bettercare choice for every table and report, so RAG is
# judged at one decimal place too.
_RATE_DP = 1


def _rate(metric: str, per: str, noun: str, spec: str, confirmed: bool = True) -> MetricDisplay:
    """A rate per 100,000 of a population (>= 0, one decimal place)."""
    return MetricDisplay(
        metric=metric,
        unit=f"per 100,000 {per}",
        basis=f"{noun} per 100,000 {per}",
        count_noun=noun,
        kind=Kind.RATE,
        decimals=_RATE_DP,
        lower=0.0,
        upper=None,
        specification=spec,
        confirmed=confirmed,
    )


def _percent(
    metric: str, basis: str, noun: str, spec: str, confirmed: bool = True
) -> MetricDisplay:
    """A percentage (0-100, one decimal place)."""
    return MetricDisplay(
        metric=metric,
        unit="%",
        basis=basis,
        count_noun=noun,
        kind=Kind.PERCENT,
        decimals=_RATE_DP,
        lower=0.0,
        upper=100.0,
        specification=spec,
        confirmed=confirmed,
    )


#: The one table of metric units (every catalogue metric has a row: a test checks it).
METRIC_DISPLAY: dict[str, MetricDisplay] = {
    d.metric: d
    for d in (
        _rate(
            "non_elective_admissions",
            "population (all ages)",
            "admissions",
            # BCF 2015/16 Technical Guidance, metric 1: "Total non-elective admissions
            # into hospital (general & acute), all-age, per 100,000 population"
            "BCF 2015/16 Technical Guidance metric 1",
        ),
        _rate(
            "avoidable_emergency_admissions",
            "population (all ages)",
            "admissions",
            "BCF 2014/15 planning template; NHS Outcomes Framework composite",
        ),
        _rate(
            "delayed_transfers_of_care",
            "population aged 18+",
            "delayed days",
            # LG Inform metric 3632 (standards.esd.org.uk/?uri=metricType/3632): "Delayed
            # days during the month, all, per 100,000 population aged 18+"; unit "Days per
            # 100,000 aged 18+" (MSitDT, NHS England)
            "BCF Technical Guidance metric 4; LG Inform 3632 (MSitDT delayed days)",
        ),
        _rate(
            "permanent_admissions_care_homes_65",
            "population aged 65+",
            "admissions",
            # LG Inform metric 3571 / 4282: "Permanent admissions of older people (aged 65
            # and over) to residential and nursing care homes, per 100,000 population
            # (aged 65 and over)"; annual version ASCOF 2A part 2
            "ASCOF 2A(2); LG Inform 3571/4282",
        ),
        _percent(
            "reablement_91_days",
            "% of people 65+ discharged into reablement still at home 91 days later",
            "people",
            "ASCOF 2B(1) (a proportion, shown as a percentage)",
        ),
        _percent(
            "patient_experience",
            "% of survey respondents answering positively",
            "respondents",
            "BCF Technical Guidance metric 5 (local survey measure)",
        ),
        _rate(
            "falls_65",
            "population aged 65+",
            "admissions",
            "PHOF 2.24 (crude rate per 100,000 population aged 65+)",
        ),
        _percent(
            "dementia_diagnosis_rate",
            "% of estimated dementia prevalence (65+) diagnosed",
            "people",
            "NHS Outcomes Framework 2.6i (diagnosed / estimated prevalence)",
        ),
        _rate(
            "emergency_admissions_65",
            "population aged 65+",
            "admissions",
            "BCF policy framework 2025 to 2026 (rate basis not confirmed in the planning "
            "requirements text)",
            confirmed=False,
        ),
        MetricDisplay(
            metric="discharge_delay_days",
            unit="days",
            basis="average days from discharge ready date to discharge, per adult acute discharge",
            count_noun="days",
            kind=Kind.DAYS,
            decimals=_RATE_DP,
            lower=0.0,
            upper=None,
            # NHS England, 'New Discharge Ready Date' (PRN00603_i): the delay is the days
            # between the discharge ready date and discharge; combining the two measures
            # into one average is bettercare's (see the catalogue)
            specification="BCF 2025-26 headline metric; NHS England Discharge Ready Date "
            "(days; combination into one average not confirmed)",
            confirmed=False,
        ),
        _rate(
            "long_term_admissions_care_homes_65",
            "population aged 65+",
            "admissions",
            "ASCOF 2A(2) (per 100,000 population aged 65+), BCF 2025-26",
        ),
        _rate(
            "avoidable_admissions_acsc",
            "population (all ages)",
            "admissions",
            "NHS Outcomes Framework 2.3i (crude rate; published as standardised)",
        ),
        _rate(
            "falls_65_dsr",
            "population aged 65+ (age-standardised)",
            "admissions",
            "PHOF C29 / 2.24i (directly standardised rate per 100,000, 2013 ESP)",
        ),
        _percent(
            "discharge_usual_residence",
            "% of acute discharges to the usual place of residence",
            "discharges",
            "BCF 2023-25 metric (discharge to usual place of residence)",
        ),
    )
}


def metric_display(metric: str) -> MetricDisplay:
    """How ``metric`` is shown; a metric outside the table gets its catalogue unit or none."""
    if metric in METRIC_DISPLAY:
        return METRIC_DISPLAY[metric]
    unit = CATALOGUE[metric].unit if metric in CATALOGUE else None
    if unit is Unit.PERCENT:
        return _percent(metric, "%", "people", "local metric")
    if unit is Unit.COUNT:
        return MetricDisplay(metric, "", "", "", Kind.COUNT, 0, 0.0, None, "local metric")
    return MetricDisplay(metric, "", "", "", Kind.RATE, _RATE_DP, None, None, "local metric")


def metric_name(metric: str, stated: str | None = None) -> str:
    """The metric's plain name: the plan's own wording, else the catalogue's, else words."""
    if stated:
        return stated
    return CATALOGUE[metric].name if metric in CATALOGUE else humanise(metric)


def metric_decimals(metric: str, count: bool = False) -> int:
    """Decimal places a value of ``metric`` is shown (and judged) at; counts: none."""
    return 0 if count else metric_display(metric).decimals


# --- numbers --------------------------------------------------------------------------


def _missing(x: object) -> bool:
    """None, NaN or pandas' missing values (anything not a finite number)."""
    if x is None:
        return True
    try:
        return not math.isfinite(float(x))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return True


def shown_value(x: float, decimals: int) -> float:
    """``x`` rounded exactly as :func:`format_number` shows it (``f"{x:.{d}f}"``)."""
    return float(f"{x:.{decimals}f}")


def format_number(x: object, decimals: int = 0) -> str:
    """Thousands separated, ``decimals`` places; ``—`` when missing; no ``-0``."""
    if _missing(x):
        return MISSING
    value = shown_value(float(x), decimals)  # type: ignore[arg-type]
    return f"{value + 0.0:,.{decimals}f}"  # + 0.0 turns -0.0 into 0.0


def format_count(x: object, noun: str = "") -> str:
    """A count as a whole number; a fractional estimate is rounded and read "about"."""
    if _missing(x):
        return MISSING
    value = float(x)  # type: ignore[arg-type]
    text = format_number(value, 0)
    if value != round(value):
        text = f"about {text}"
    return f"{text} {noun}".rstrip()


def format_percent(x: object, decimals: int = _RATE_DP) -> str:
    """A percentage: ``62.2%``."""
    return MISSING if _missing(x) else f"{format_number(x, decimals)}%"


def format_metric(
    x: object, metric: str, *, unit: bool = True, count: bool = False, stated_unit: str = ""
) -> str:
    """A value of ``metric`` as read: precision, separators and (``unit``) its unit.

    ``count``: the value is a count of the metric's numerator (a plan stated as a
    number), shown whole with its noun ("about 8,748 admissions" when fractional).
    """
    if _missing(x):
        return MISSING
    d = metric_display(metric)
    if count or d.kind is Kind.COUNT:
        return format_count(x, d.count_noun if unit else "")
    if d.kind is Kind.PERCENT:
        return format_percent(x, d.decimals) if unit else format_number(x, d.decimals)
    text = format_number(x, d.decimals)
    shown_unit = stated_unit or d.unit
    return f"{text} {shown_unit}" if unit and shown_unit else text


def format_metric_value(v: object, metric: str, *, unit: bool = True) -> str:
    """A plan's stated value (a ``MetricValue``): its value, else its count (numerator)."""
    value = getattr(v, "value", None)
    if value is not None:
        return format_metric(value, metric, unit=unit)
    numerator = getattr(v, "numerator", None)
    return format_metric(numerator, metric, unit=unit, count=True)


def unit_label(metric: str, time_basis: str | None = None, count: bool = False) -> str:
    """The unit of ``metric`` for a column heading or a caption, with the plan's time basis."""
    d = metric_display(metric)
    if count:
        return d.count_noun or "number"
    text = d.unit if d.kind is not Kind.PERCENT else d.basis
    if time_basis:
        text += f", per {time_basis}"
    return text


def clamp_to_bounds(value: float, metric: str) -> float:
    """``value`` held within the metric's natural bounds (for drawing only)."""
    d = metric_display(metric)
    if d.lower is not None:
        value = max(value, d.lower)
    if d.upper is not None:
        value = min(value, d.upper)
    return value


# --- periods --------------------------------------------------------------------------

_FY = re.compile(r"^(\d{4})/(\d{2})$")
_FYQ = re.compile(r"^(\d{4})/(\d{2}) Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_RANGE = re.compile(r"^(\d{4}-\d{2})\.\.(\d{4}-\d{2})$")
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def format_period(text: object) -> str:
    """A period as the BCF templates write it for people.

    ``2016/17`` -> ``2016-17`` and ``2016/17 Q3`` -> ``Q3 2016-17`` (the 2016-17 planning
    and quarterly reporting templates: "Better Care Fund 2016-17 Planning Template",
    "Q4 2016-17"); ``2017-03`` -> ``March 2017``; ``2013-04..2014-03`` -> ``April 2013
    to March 2014``. Anything else is returned as it is.
    """
    if text is None:
        return MISSING
    s = str(text)
    if m := _FY.match(s):
        return f"{m[1]}-{m[2]}"
    if m := _FYQ.match(s):
        return f"Q{m[3]} {m[1]}-{m[2]}"
    if (m := _MONTH.match(s)) and 1 <= int(m[2]) <= 12:
        return f"{_MONTHS[int(m[2]) - 1]} {m[1]}"
    if m := _RANGE.match(s):
        return f"{format_period(m[1])} to {format_period(m[2])}"
    return s


# --- codes ----------------------------------------------------------------------------

#: Funding streams as the BCF templates and grant determinations name them.
FUNDING_SOURCES: dict[str, str] = {
    "ccg_minimum": "CCG minimum contribution",
    "disabled_facilities_grant": "Disabled Facilities Grant (DFG)",
    "social_care_capital_grant": "Social care capital grant",
    "additional_la": "Additional local authority contribution",
    "additional_ccg": "Additional CCG contribution",
    "carers_breaks": "Carers' breaks funding",
    "reablement": "Reablement funding",
    "care_act": "Care Act funding",
    "social_care_transfer": "NHS transfer to social care",
    "improved_bcf": "Improved Better Care Fund (iBCF)",
    "winter_pressures_grant": "Winter pressures grant",
    "icb_minimum": "ICB minimum contribution",
    "local_authority_bcf_grant": "Local Authority Better Care Grant",
    "additional_icb": "Additional ICB contribution",
    "additional_discharge_fund": "Additional Discharge Fund",
    "other": "Other",
}

PARTNER_TYPES: dict[str, str] = {
    "local_authority": "Local authority",
    "ccg": "Clinical commissioning group (CCG)",
    "icb": "Integrated care board (ICB)",
    "nhs_trust": "NHS trust",
    "nhs_england": "NHS England",
    "provider": "Provider",
    "voluntary_sector": "Voluntary sector",
    "healthwatch": "Healthwatch",
    "health_and_wellbeing_board": "Health and Wellbeing Board",
    "district_council": "District council",
    "other": "Other",
}

#: Workflow states (:class:`bettercare.domain.workflow.State`).
WORKFLOW_STATES: dict[str, str] = {
    "draft": "Draft",
    "agreed": "Agreed by partners",
    "hwb_approved": "Approved by the HWB",
    "submitted": "Submitted to NHS England",
    "assured": "Assured",
    "monitoring": "Monitoring (quarterly returns)",
}

#: Workflow steps (:class:`bettercare.domain.workflow.Step`).
WORKFLOW_STEPS: dict[str, str] = {
    "agree": "Agree (partners)",
    "approve": "Approve (HWB)",
    "submit": "Submit to NHS England",
    "assure": "Record the assurance outcome",
    "monitor": "Start quarterly returns",
    "return_to_draft": "Return to draft",
    "reopen": "Return to draft",
}

#: NHS England's assurance outcomes (:class:`bettercare.domain.workflow.Outcome`).
ASSURANCE_OUTCOMES: dict[str, str] = {
    "approved": "Approved",
    "approved_with_support": "Approved with support",
    "approved_with_conditions": "Approved with conditions",
    "not_approved": "Not approved",
}

#: The plan document's own status (:class:`bettercare.domain.plan.PlanStatus`).
PLAN_STATUSES: dict[str, str] = {
    "draft": "Draft",
    "submitted": "Submitted",
    "agreed": "Agreed",
    "approved": "Approved",
}

RAG: dict[str, str] = {"GREEN": "Green", "AMBER": "Amber", "RED": "Red"}

AREAS_OF_SPEND: dict[str, str] = {
    "social_care": "Social care",
    "community_health": "Community health",
    "acute": "Acute",
    "primary_care": "Primary care",
    "mental_health": "Mental health",
    "continuing_care": "Continuing care",
    "other": "Other",
}

COMMISSIONERS: dict[str, str] = {
    "local_authority": "Local authority",
    "ccg": "CCG",
    "icb": "ICB",
    "joint": "Joint (NHS and local authority)",
}

CONDITION_STATUSES: dict[str, str] = {
    "met": "Met",
    "in_progress": "In progress",
    "not_met": "Not met",
    "not_stated": "Not stated",
}

#: National conditions by id (short names; the framework holds the full wording).
CONDITIONS: dict[str, str] = {
    "plans_jointly_agreed": "Plans jointly agreed",
    "protect_social_care": "Protection of adult social care",
    "seven_day_services": "Seven-day services to support discharge",
    "data_sharing_nhs_number": "Data sharing based on the NHS number",
    "joint_assessment_lead_professional": "Joint assessment and accountable lead professional",
    "impact_on_acute_sector": "Agreed impact on the acute sector",
    "nhs_out_of_hospital_services": "Investment in NHS out-of-hospital services",
    "delayed_transfers_action_plan": "Local action plan for delayed transfers of care",
    "nhs_contribution_social_care": "NHS contribution to adult social care maintained",
    "managing_transfers_of_care": "High Impact Change Model for managing transfers of care",
    "discharge_outcomes": "Improving outcomes for people discharged from hospital",
    "implementing_objectives": "Implementing the BCF objectives",
    "independence_at_home": "Objective 1: independence at home",
    "right_care_right_place": "Objective 2: right care, right place, right time",
    "nhs_contribution_social_care_and_out_of_hospital": (
        "NHS contribution to adult social care and out-of-hospital services"
    ),
    "grant_and_funding_conditions": "Grant and funding conditions met",
    "oversight_and_support": "Oversight and support processes followed",
}

#: Scheme types of the 2023-25 (and later) planning template.
SCHEME_TYPES: dict[str, str] = {
    "assistive_technologies_and_equipment": "Assistive technologies and equipment",
    "care_act_implementation_related_duties": "Care Act implementation related duties",
    "carers_services": "Carers services",
    "community_based_schemes": "Community based schemes",
    "dfg_related_schemes": "DFG related schemes",
    "enablers_for_integration": "Enablers for integration",
    "high_impact_change_model_transfers_of_care": (
        "High Impact Change Model for managing transfers of care"
    ),
    "home_care_or_domiciliary_care": "Home care or domiciliary care",
    "housing_related_schemes": "Housing related schemes",
    "integrated_care_planning_and_navigation": "Integrated care planning and navigation",
    "bed_based_intermediate_care": "Bed based intermediate care services",
    "home_based_intermediate_care": "Home based intermediate care services",
    "urgent_community_response": "Urgent community response",
    "personalised_budgeting_and_commissioning": "Personalised budgeting and commissioning",
    "personalised_care_at_home": "Personalised care at home",
    "prevention_early_intervention": "Prevention / early intervention",
    "residential_placements": "Residential placements",
    "workforce_recruitment_and_retention": "Workforce recruitment and retention",
    "other": "Other",
}

SIGN_OFF_ROLES: dict[str, str] = {
    "hwb_chair": "Chair of the HWB",
    "council_chief_executive": "Council chief executive",
    "icb_chief_executive": "ICB chief executive",
    "ccg_accountable_officer": "CCG accountable officer",
    "s151_officer": "Section 151 officer",
    "director_adult_social_services": "Director of adult social services",
    "other": "Other",
}

RETURN_STATUSES: dict[str, str] = {
    "on_track": "On track",
    "not_on_track": "Not on track",
    "data_not_available": "Data not available",
}

BUDGET_ARRANGEMENTS: dict[str, str] = {
    "pooled": "Pooled",
    "aligned": "Aligned",
    "mixed": "Mixed (pooled and aligned)",
}

CARE_SERVICES: dict[str, str] = {
    "discharge_pathway_0": "Discharge pathway 0 (home, no new support)",
    "discharge_pathway_1": "Discharge pathway 1 (home, with support)",
    "discharge_pathway_2": "Discharge pathway 2 (bed-based rehabilitation)",
    "discharge_pathway_3": "Discharge pathway 3 (care home)",
    "community_referrals": "Community referrals",
}

#: Making Data Count icons (NHS England): variation and assurance, in words.
SPC_VARIATION: dict[str, str] = {
    "common_cause": "Common cause: no significant change",
    "special_cause_improvement_high": "Special cause: improvement (higher)",
    "special_cause_improvement_low": "Special cause: improvement (lower)",
    "special_cause_concern_high": "Special cause: concern (higher)",
    "special_cause_concern_low": "Special cause: concern (lower)",
    "special_cause_neutral_high": "Special cause: higher (neither better nor worse)",
    "special_cause_neutral_low": "Special cause: lower (neither better nor worse)",
}
SPC_ASSURANCE: dict[str, str] = {
    "consistently_pass": "Will consistently hit the target",
    "hit_and_miss": "Hit and miss: the target lies inside the process limits",
    "consistently_fail": "Will consistently fail the target unless the process changes",
}

GRAINS: dict[str, str] = {"month": "monthly", "quarter": "quarterly", "year": "annual"}

#: Every family of codes, by name (for :func:`code_label` with a family).
FAMILIES: dict[str, Mapping[str, str]] = {
    "funding_source": FUNDING_SOURCES,
    "partner_type": PARTNER_TYPES,
    "state": WORKFLOW_STATES,
    "step": WORKFLOW_STEPS,
    "outcome": ASSURANCE_OUTCOMES,
    "plan_status": PLAN_STATUSES,
    "rag": RAG,
    "area_of_spend": AREAS_OF_SPEND,
    "commissioner": COMMISSIONERS,
    "condition_status": CONDITION_STATUSES,
    "condition": CONDITIONS,
    "scheme_type": SCHEME_TYPES,
    "sign_off_role": SIGN_OFF_ROLES,
    "return_status": RETURN_STATUSES,
    "budget_arrangement": BUDGET_ARRANGEMENTS,
    "care_service": CARE_SERVICES,
    "spc_variation": SPC_VARIATION,
    "spc_assurance": SPC_ASSURANCE,
    "grain": GRAINS,
}

# A code of unknown family: the families read in this order (workflow words first, as
# "submitted" and "agreed" are most often a plan's workflow state on a page).
_ANY: dict[str, str] = {}
for _family in (
    "state",
    "outcome",
    "funding_source",
    "condition",
    "scheme_type",
    "area_of_spend",
    "condition_status",
    "sign_off_role",
    "return_status",
    "care_service",
    "spc_variation",
    "spc_assurance",
    "partner_type",
    "commissioner",
    "budget_arrangement",
    "step",
):
    for _code, _words in FAMILIES[_family].items():
        _ANY.setdefault(_code, _words)
for _code in CATALOGUE:
    _ANY.setdefault(_code, CATALOGUE[_code].name)

_ACRONYMS = {
    "hwb": "HWB",
    "nhs": "NHS",
    "nhse": "NHS England",
    "icb": "ICB",
    "ccg": "CCG",
    "bcf": "BCF",
    "dfg": "DFG",
    "la": "LA",
    "rag": "RAG",
    "spc": "SPC",
    "asc": "ASC",
    "fhir": "FHIR",
}


_CODE = re.compile(r"[a-z0-9]+(?:[_-][a-z0-9]+)*")


def humanise(code: str) -> str:
    """A code no table holds, in words: ``submitted_to_nhse`` -> ``Submitted to NHS England``."""
    words = [_ACRONYMS.get(w, w) for w in str(code).replace("-", "_").split("_") if w]
    if not words:
        return ""
    first = words[0]
    return " ".join([first[:1].upper() + first[1:], *words[1:]])


_FY_IN_TEXT = re.compile(r"\b(\d{4})/(\d{2})( Q[1-4])?\b")
_WORDY_CODES = sorted((c for c in _ANY if "_" in c), key=len, reverse=True)
_CODE_IN_TEXT = re.compile(r"(?<![.\[])\b(" + "|".join(map(re.escape, _WORDY_CODES)) + r")\b")


def in_words(text: object, partners: Mapping[str, str] | None = None) -> str:
    """A message for people: known codes in it as words, financial years as BCF writes them.

    For text made by the rules and services (e.g. "national condition
    'impact_on_acute_sector' is in progress", "care_act contribution for 2015/16 has no
    amount"): each snake_case code of the tables (and each partner id of ``partners``)
    becomes its label, ``2015/16`` becomes ``2015-16`` and ``2015/16 Q3`` ``Q3 2015-16``.
    Field paths (``funding[6].amount``) are left for the page to show as code.
    """
    if text is None:
        return ""
    out = _CODE_IN_TEXT.sub(lambda m: _ANY[m[1]], str(text))
    if partners:
        ids = sorted((i for i in partners if "_" in i), key=len, reverse=True)
        if ids:
            pattern = re.compile(r"(?<![.\[])\b(" + "|".join(map(re.escape, ids)) + r")\b")
            out = pattern.sub(lambda m: partners[m[1]], out)
    return _FY_IN_TEXT.sub(
        lambda m: f"{m[3].strip()} {m[1]}-{m[2]}" if m[3] else f"{m[1]}-{m[2]}", out
    )


_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def path_in_words(path: object) -> str:
    """A field path of a plan as words: ``funding[6].amount`` -> ``Funding 7, amount``.

    ``agreed_pooled_budget.2016/17`` -> ``Agreed pooled budget, 2016-17``; list positions
    count from 1; codes and years read as :func:`code_label` and :func:`format_period`.
    """
    if not path:
        return ""
    words: list[str] = []
    for m in _PATH_PART.finditer(str(path)):
        if m[2] is not None:
            if words:
                words[-1] += f" {int(m[2]) + 1}"
            continue
        part = m[1]
        shown = format_period(part)
        if shown == part:
            shown = code_label(part)
        if words and shown[1:2].islower():  # an acronym ("NHS ...") keeps its case
            shown = shown[:1].lower() + shown[1:]
        words.append(shown)
    return ", ".join(words)


def code_label(
    code: object, family: str | None = None, partners: Mapping[str, str] | None = None
) -> str:
    """The words shown for ``code``: its family's table, a partner's name, or words.

    ``partners`` maps a plan's partner ids to their names (a partner id is shown as the
    partner's name wherever a plan has one). Enum members are read by value.
    """
    if code is None:
        return ""
    key = str(getattr(code, "value", code))
    if partners and key in partners:
        return partners[key]
    table = FAMILIES.get(family) if family else None
    if table is not None and key in table:
        return table[key]
    if key in _ANY:
        return _ANY[key]
    if key in RAG or not _CODE.fullmatch(key):
        return key  # RAG words and text that is not a code are shown as they are
    return humanise(key)
