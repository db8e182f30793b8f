"""The BCF framework for 2014/15 and 2015/16: six national conditions, P4P on admissions.

Sources:
- Better Care Fund planning guidance and planning template, Part 1 (narrative) and
  Part 2 (finance and metrics), NHS England / LGA, December 2013, revised July 2014
  (the revision replaced the avoidable emergency admissions composite with total
  non-elective admissions, the basis of payment for performance).
- Better Care Fund Technical Guidance 2015/16 (metric definitions, payment for
  performance at 3.5% and £1,490 per admission avoided).
- The seed plans of this project (seeds 000, 003, 004) show the template in use.

The pooled fund began in 2015/16: the 2014 template asks for one total for the
protection of adult social care services, so 2014/15 has no protection amount of its own
(``social_care_protection_years``).

Could not be confirmed from the documents available here: the exact wording of each
assurance question in the 2014 template (the statements below paraphrase the
conditions); the full list of funding lines in Part 2 (the list follows the seeds).
"""

from __future__ import annotations

import datetime as dt

from bettercare.domain.frameworks.base import Condition, Framework, MetricRevision

#: The twelve planning rules of the seed-era template (rule ids in domain/rules.py).
SEED_ERA_RULES: tuple[str, ...] = (
    "pooled-budget-minimum",
    "funding-matches-pooled-budget",
    "scheme-spend-matches-budget",
    "funding-source-allocation",
    "protected-social-care",
    "risk-score",
    "years-and-dates",
    "sign-off",
    "national-conditions",
    "metrics",
    "payment-for-performance",
    "risk-share",
    "commissioners",
    "scheme-admissions-total",
)

#: The six conditions of 2014/15-2015/16 (also the first six of 2016/17).
SIX_CONDITIONS: tuple[Condition, ...] = (
    Condition(
        "plans_jointly_agreed",
        "Plans to be jointly agreed by the council and CCGs and signed off by the HWB",
        "The plan is agreed by the local authority and every CCG and signed off by the "
        "Health and Wellbeing Board",
    ),
    Condition(
        "protect_social_care",
        "Protection for social care services (not spending)",
        "The plan states the amount protecting adult social care services and how",
    ),
    Condition(
        "seven_day_services",
        "Seven-day services in health and social care to support discharge and prevent "
        "unnecessary admissions at weekends",
        "Local plans deliver seven-day services across health and social care",
    ),
    Condition(
        "data_sharing_nhs_number",
        "Better data sharing between health and social care, based on the NHS number",
        "The NHS number is the primary identifier and secure data sharing is in place",
    ),
    Condition(
        "joint_assessment_lead_professional",
        "A joint approach to assessment and care planning, with an accountable lead "
        "professional for people receiving integrated packages of care",
        "Joint assessments are used and an accountable professional is named",
    ),
    Condition(
        "impact_on_acute_sector",
        "Agreement on the consequential impact of changes on the acute sector",
        "Providers have agreed the impact of the plan on acute services",
    ),
)

#: Funding lines seen in the 2014/15-2015/16 Part 2 template and the seed plans.
SEED_ERA_FUNDING: tuple[str, ...] = (
    "ccg_minimum",
    "disabled_facilities_grant",
    "social_care_capital_grant",
    "additional_la",
    "additional_ccg",
    "carers_breaks",
    "reablement",
    "care_act",
    "social_care_transfer",
    "other",
)

FRAMEWORK = Framework(
    id="2014-16",
    title="Better Care Fund 2014/15 and 2015/16 (planning guidance and Technical Guidance)",
    financial_years=("2014/15", "2015/16"),
    conditions=SIX_CONDITIONS,
    national_metrics=(
        "non_elective_admissions",
        "delayed_transfers_of_care",
        "permanent_admissions_care_homes_65",
        "reablement_91_days",
        "patient_experience",
    ),
    metric_revision=MetricRevision(
        date=dt.date(2014, 7, 1),
        before="avoidable_emergency_admissions",
        after="non_elective_admissions",
    ),
    allows_local_metrics=True,
    funding_sources=SEED_ERA_FUNDING,
    # The fund was pooled from 2015/16 (2014/15 was a transfer year): the 2014 template
    # asks for one amount for the protection of adult social care, not one per year.
    social_care_protection_years=("2015/16",),
    rules=SEED_ERA_RULES,
    sources=(
        "BCF planning guidance and template Parts 1 and 2 (NHS England/LGA, Dec 2013, "
        "revised July 2014)",
        "BCF Technical Guidance 2015/16",
    ),
    unconfirmed=(
        "assurance statements paraphrase the conditions, not the template's wording",
        "funding lines follow the seed plans; the full Part 2 list was not checked",
    ),
)
