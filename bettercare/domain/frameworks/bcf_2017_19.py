"""The Integration and BCF framework for 2017/18 and 2018/19: four national conditions.

Sources:
- 2017-19 Integration and Better Care Fund Policy Framework (DH/DCLG, March 2017),
  Annex A (the conditions) and Annex B ("Maintaining progress on the 2016-17 national
  conditions": seven-day services, data sharing and joint assessment stop being
  conditions).
- Integration and Better Care Fund planning requirements for 2017-19 (NHS England,
  Publications Gateway 06945): funding (CCG minimum, Disabled Facilities Grant and the
  improved BCF grant to local authorities, including the Spring Budget 2017 £2bn),
  national conditions, national metrics and Appendix one (metric specifications).

Could not be confirmed here: the conditions' exact wording (paraphrased from the Annex B
table and the planning requirements' contents); the 2017-19 planning template's scheme
type list (so scheme types are not checked for this framework).
"""

from __future__ import annotations

from bettercare.domain.frameworks.base import Condition, Framework

FRAMEWORK = Framework(
    id="2017-19",
    title="2017-19 Integration and Better Care Fund policy framework and planning requirements",
    financial_years=("2017/18", "2018/19"),
    conditions=(
        Condition(
            "plans_jointly_agreed",
            "Plans to be jointly agreed",
            "The plan is agreed by the local authority and CCGs and signed off by the HWB",
        ),
        Condition(
            "nhs_contribution_social_care",
            "NHS contribution to adult social care is maintained in line with inflation",
            "The plan states the NHS contribution to adult social care at or above the "
            "inflation-uplifted minimum",
        ),
        Condition(
            "nhs_out_of_hospital_services",
            "Agreement to invest in NHS commissioned out-of-hospital services",
            "The plan states the ring-fenced amount for NHS commissioned out-of-hospital services",
        ),
        Condition(
            "managing_transfers_of_care",
            "Implementation of the High Impact Change Model for managing transfers of care",
            "The plan sets out how the eight high impact changes are being implemented",
        ),
    ),
    national_metrics=(
        "non_elective_admissions",
        "permanent_admissions_care_homes_65",
        "reablement_91_days",
        "delayed_transfers_of_care",
    ),
    allows_local_metrics=True,
    funding_sources=(
        "ccg_minimum",
        "disabled_facilities_grant",
        "improved_bcf",
        "additional_la",
        "additional_ccg",
        "other",
    ),
    rules=(
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
        "risk-share",
        "commissioners",
        "scheme-admissions-total",
    ),
    sources=(
        "2017-19 Integration and Better Care Fund Policy Framework (DH/DCLG, March 2017)",
        "Integration and BCF planning requirements for 2017-19 (NHS England, gateway 06945)",
    ),
    unconfirmed=(
        "conditions paraphrased",
        "scheme types of the 2017-19 template not checked",
        "whether local metrics were still collected (allowed here)",
    ),
)
