"""The BCF framework for 2023/24 and 2024/25: two objectives, four conditions, C&D plans.

Sources:
- 2023 to 2025 Better Care Fund policy framework (DHSC/DLUHC, 4 April 2023, updated 12
  April 2024), https://www.gov.uk/government/publications/better-care-fund-policy-framework-2023-to-2025
  (objectives: enable people to stay well, safe and independent at home for longer;
  provide the right care in the right place at the right time).
- Addendum to the 2023 to 2025 BCF policy framework and planning requirements (12 April
  2024): "local areas must agree capacity and demand plans for intermediate and
  short-term care", to identify gaps between capacity and demand.
- BCF planning requirements 2023-25 and NHS minimum allocations (NHS England, Better
  Care Fund policy and planning page): ICB minimum contribution, Additional Discharge
  Fund (£600m in 2023-24: £300m ICBs, £300m councils) planned within the BCF.

Could not be confirmed here (the planning requirements' text was not available): the
exact wording of the four national conditions (paraphrased below); the national metric
set (taken as avoidable admissions, falls 65+, discharge to usual place of residence,
long-term admissions to care homes 65+ and reablement, as reported in 2023-25 returns);
the scheme type list (taken from the 2023-25 planning template as remembered, so scheme
type findings are warnings only).
"""

from __future__ import annotations

from bettercare.domain.frameworks.base import Condition, Framework, SignOffRules

#: Scheme types of the 2023-25 planning template (expenditure tab), as slugs.
SCHEME_TYPES_2023: tuple[str, ...] = (
    "assistive_technologies_and_equipment",
    "care_act_implementation_related_duties",
    "carers_services",
    "community_based_schemes",
    "dfg_related_schemes",
    "enablers_for_integration",
    "high_impact_change_model_transfers_of_care",
    "home_care_or_domiciliary_care",
    "housing_related_schemes",
    "integrated_care_planning_and_navigation",
    "bed_based_intermediate_care",
    "home_based_intermediate_care",
    "urgent_community_response",
    "personalised_budgeting_and_commissioning",
    "personalised_care_at_home",
    "prevention_early_intervention",
    "residential_placements",
    "workforce_recruitment_and_retention",
    "other",
)

FRAMEWORK = Framework(
    id="2023-25",
    title="2023 to 2025 Better Care Fund policy framework and planning requirements",
    financial_years=("2023/24", "2024/25"),
    conditions=(
        Condition(
            "plans_jointly_agreed",
            "A jointly agreed plan between local health and social care commissioners, "
            "signed off by the HWB",
            "The plan is agreed by the ICB and the local authority and signed off by the HWB",
        ),
        Condition(
            "independence_at_home",
            "Implementing BCF policy objective 1: enabling people to stay well, safe and "
            "independent at home for longer",
            "The plan sets out how BCF-funded services support objective 1",
        ),
        Condition(
            "right_care_right_place",
            "Implementing BCF policy objective 2: providing the right care in the right "
            "place at the right time",
            "The plan sets out how BCF-funded services support objective 2, with capacity "
            "and demand plans for intermediate care",
        ),
        Condition(
            "nhs_contribution_social_care_and_out_of_hospital",
            "Maintaining the NHS's contribution to adult social care and investment in NHS "
            "commissioned out-of-hospital services",
            "The plan meets the minimum NHS contribution to adult social care and to "
            "out-of-hospital services",
        ),
    ),
    national_metrics=(
        "avoidable_admissions_acsc",
        "falls_65_dsr",
        "discharge_usual_residence",
        "permanent_admissions_care_homes_65",
        "reablement_91_days",
    ),
    funding_sources=(
        "icb_minimum",
        "improved_bcf",
        "disabled_facilities_grant",
        "additional_discharge_fund",
        "additional_la",
        "additional_icb",
    ),
    scheme_types=SCHEME_TYPES_2023,
    rules=(
        "pooled-budget-minimum",
        "funding-matches-pooled-budget",
        "scheme-spend-matches-budget",
        "funding-source-allocation",
        "nhs-minimum-social-care",
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
    sign_off=SignOffRules(
        submit_before_hwb=True,
        source="North Tyneside Council cabinet minute (2024): 'The Better Care Fund policy "
        "framework allowed for Health and Wellbeing Boards to formally approve the planning "
        "submission after the national submission deadline' (2024/25 addendum)",
    ),
    sources=(
        "2023 to 2025 Better Care Fund policy framework (DHSC/DLUHC, April 2023)",
        "Addendum to the 2023 to 2025 BCF policy framework and planning requirements (2024)",
        "BCF planning requirements 2023-25 and NHS minimum allocations (NHS England)",
    ),
    unconfirmed=(
        "national conditions paraphrased; planning requirements text not read",
        "metric set as reported in 2023-25 returns, not checked against the requirements",
        "scheme type list from the planning template as remembered",
        "HWB approval after submission confirmed for 2024/25 (addendum), assumed for 2023/24",
    ),
)
