"""The BCF framework for 2022/23: ICBs replace CCGs; two objectives; C&D plans begin.

Sources:
- 2022 to 2023 Better Care Fund policy framework (DHSC/DLUHC, 19 July 2022, updated 21
  November 2022), https://www.gov.uk/government/publications/better-care-fund-policy-framework-2022-to-2023
  ("requires integrated care boards (ICBs) and local government to agree a joint plan,
  owned by the health and wellbeing board (HWB) ... governed by an agreement under
  section 75 of the NHS Act (2006)"; limited change for continuity).
- BCF planning requirements 2022-23 (NHS England; policy and planning page): the NHS
  contribution rises by 5.66%; allocations from ICBs to HWBs; pooled into a section 75
  agreement. Sector Support NEL (19 July 2022): capacity and demand plans for
  intermediate care (admissions avoidance and discharge) are introduced.
- Addendum to the 2022 to 2023 BCF policy framework and planning requirements (gov.uk,
  updated 16 March 2023): the £500m Adult Social Care Discharge Fund, 40% (£200m) as a
  section 31 grant to local authorities and £300m to ICBs, pooled into the BCF.
- Oldham HWB, BCF 2022-23 year-end return (committees.oldham.gov.uk): conditions 1
  jointly agreed plan signed off by the HWB; 2 NHS contribution to adult social care
  in line with the uplift; 3 invest in NHS commissioned out-of-hospital services; 4
  implementing the BCF policy objectives (stay well, safe and independent for longer;
  the right care in the right place at the right time). Herefordshire HWB year-end
  report 2022-23: avoidable admissions, discharge to normal place of residence and
  reablement metrics.

Could not be confirmed here: the full metric list (residential admissions is named in
the Oldham report, falls is not: falls joined in 2023-25); whether schemes were tied to
the objectives in the template (the ``objectives`` rule does not run); the scheme type
list (the 2023-25 list is used, findings are warnings); whether CCGs could still sign
plans (CCGs were abolished on 1 July 2022, so both are accepted in 2022/23).
"""

from __future__ import annotations

from bettercare.domain.frameworks import bcf_2021_22
from bettercare.domain.frameworks.base import Condition, Framework, Objective
from bettercare.domain.frameworks.bcf_2023_25 import SCHEME_TYPES_2023

OBJECTIVES_2022: tuple[Objective, ...] = (
    Objective(
        "independence_at_home",
        "Enable people to stay well, safe and independent at home for longer",
    ),
    Objective(
        "right_care_right_place", "Provide the right care in the right place at the right time"
    ),
)

FRAMEWORK = Framework(
    id="2022-23",
    title="2022 to 2023 Better Care Fund policy framework and planning requirements",
    financial_years=("2022/23",),
    objectives=OBJECTIVES_2022,
    conditions=(
        *bcf_2021_22.CONDITIONS_2021[:3],
        Condition(
            "implementing_objectives",
            "Implementing the BCF policy objectives",
            "The plan sets out how BCF-funded services support the two objectives, with "
            "capacity and demand plans for intermediate care",
        ),
    ),
    national_metrics=(
        "avoidable_admissions_acsc",
        "discharge_usual_residence",
        "permanent_admissions_care_homes_65",
        "reablement_91_days",
    ),
    allows_local_metrics=True,
    funding_sources=(
        "icb_minimum",
        "ccg_minimum",
        "improved_bcf",
        "disabled_facilities_grant",
        "additional_discharge_fund",
        "additional_la",
        "additional_icb",
        "additional_ccg",
        "other",
    ),
    scheme_types=SCHEME_TYPES_2023,
    rules=(
        "pooled-budget-minimum",
        "funding-matches-pooled-budget",
        "scheme-spend-matches-budget",
        "funding-source-allocation",
        "protected-social-care",
        "discharge-funding",
        "dfg-pass-through",
        "capacity-and-demand",
        "scheme-types",
        "risk-score",
        "years-and-dates",
        "sign-off",
        "national-conditions",
        "metrics",
        "risk-share",
        "commissioners",
        "scheme-admissions-total",
    ),
    sources=(
        "2022 to 2023 Better Care Fund policy framework (DHSC/DLUHC, July 2022)",
        "BCF planning requirements 2022-23 (NHS England)",
        "Addendum to the 2022 to 2023 BCF policy framework (ASC Discharge Fund, 2023)",
    ),
    unconfirmed=(
        "metric list taken from HWB year-end reports (residential admissions, "
        "avoidable admissions, discharge to usual residence, reablement)",
        "schemes tied to objectives in the template (objectives rule not run)",
        "scheme type list (2023-25 list used)",
        "assurance statements paraphrased",
    ),
)
