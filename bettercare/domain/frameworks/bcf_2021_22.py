"""The BCF framework for 2021/22: four conditions; avoidable admissions replace NEA.

Sources:
- 2021 to 2022 Better Care Fund policy framework (DHSC/MHCLG, 19 August 2021, updated
  1 October 2021), https://www.gov.uk/government/publications/better-care-fund-policy-framework-2021-to-2022
  ("requires clinical commissioning groups (CCGs) and local government to agree a joint
  plan, owned by the Health and Wellbeing Board ... governed by an agreement under
  section 75 of the NHS Act (2006)"; "The non-elective admissions metric is being
  replaced by a metric on avoidable admissions").
- Summaries listing the four national conditions and the metrics: Care & Repair England
  (August 2021), National Housing Federation (25 August 2021) and Future Care Capital:
  1 a jointly agreed plan between local health and social care commissioners, signed
  off by the HWB; 2 NHS contribution to adult social care maintained in line with the
  uplift to the CCG minimum contribution (5.3%); 3 invest in NHS-commissioned
  out-of-hospital services; 4 a plan for improving outcomes for people being discharged
  from hospital. Metrics: hospital discharge (length of stay; discharge to the usual
  place of residence), avoidable admissions, admissions to residential and care homes,
  effectiveness of reablement. Budget £6.9bn: £4.3bn NHS, £2.1bn iBCF, £573m DFG.

Could not be confirmed here: the length-of-stay metric's exact definition (14 and 21+
days are commonly cited; it has no catalogue entry, so a plan naming it gives it a
name); the planning template's scheme type list (not checked).
"""

from __future__ import annotations

from bettercare.domain.frameworks import bcf_2017_19
from bettercare.domain.frameworks.base import Condition, Framework

CONDITIONS_2021: tuple[Condition, ...] = (
    Condition(
        "plans_jointly_agreed",
        "A jointly agreed plan between local health and social care commissioners, "
        "signed off by the HWB",
        "The plan is agreed by the local authority and the CCG(s) and signed off by the "
        "HWB, with a joined-up approach across health, care and housing",
    ),
    Condition(
        "nhs_contribution_social_care",
        "NHS contribution to adult social care maintained in line with the uplift to the "
        "CCG minimum contribution",
        "The plan states the NHS contribution to adult social care at or above the "
        "uplifted minimum",
    ),
    Condition(
        "nhs_out_of_hospital_services",
        "Invest in NHS-commissioned out-of-hospital services",
        "The plan states its investment in NHS-commissioned out-of-hospital services",
    ),
    Condition(
        "discharge_outcomes",
        "A plan for improving outcomes for people being discharged from hospital",
        "The plan sets out the hospital discharge policy's implementation and the High "
        "Impact Change Model for Managing Transfers of Care",
    ),
)

FRAMEWORK = Framework(
    id="2021-22",
    title="2021 to 2022 Better Care Fund policy framework and planning requirements",
    financial_years=("2021/22",),
    conditions=CONDITIONS_2021,
    national_metrics=(
        "avoidable_admissions_acsc",
        "discharge_usual_residence",
        "permanent_admissions_care_homes_65",
        "reablement_91_days",
    ),
    allows_local_metrics=True,
    funding_sources=(
        "ccg_minimum",
        "improved_bcf",
        "disabled_facilities_grant",
        "additional_la",
        "additional_ccg",
        "other",
    ),
    rules=(*bcf_2017_19.FRAMEWORK.rules, "commissioners", "scheme-admissions-total"),
    sources=(
        "2021 to 2022 Better Care Fund policy framework (DHSC/MHCLG, August 2021)",
        "Care & Repair England and National Housing Federation summaries (August 2021)",
    ),
    unconfirmed=(
        "length-of-stay metric definition (not in the catalogue)",
        "assurance statements paraphrased",
        "scheme types of the 2021-22 template not checked",
    ),
)
