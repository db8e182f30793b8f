"""The BCF framework for 2025/26: two objectives, four conditions, three headline metrics.

Sources:
- Better Care Fund policy framework 2025 to 2026 (DHSC/MHCLG, 30 January 2025),
  https://www.gov.uk/government/publications/better-care-fund-policy-framework-2025-to-2026
  Objectives: reform to support the shift from sickness to prevention (timely, proactive
  and joined-up support for people with complex needs; home adaptations and technology;
  support for unpaid carers) and reform to support people living independently and the
  shift from hospital to home (prevent avoidable admissions; timely discharge from
  acute, community and mental health hospitals to the usual place of residence; reduce
  the proportion needing long-term residential or nursing care). HWBs set local goals
  for unplanned admissions, delayed discharges and long-term care home admissions.
  Plans are jointly agreed by local authorities and ICBs, signed off by the HWB, and
  involve NHS trusts, social care providers, voluntary sector partners and local
  housing authorities.
- Summaries of the framework: Housing LIN, "Better Care Fund policy framework 2025 to
  2026" (HWBs consult housing authorities and ICBs on the design and delivery of funded
  services; local goals for unplanned admissions, delayed discharges and long-term care
  home admissions) and the Homecare Association's note of 30 January 2025 (plans
  involve NHS trusts, social care providers, voluntary sector partners and housing).
- Better Care Fund planning requirements 2025 to 2026 (read alongside the framework):
  the planning template, the NHS minimum contribution to adult social care, the Local
  Authority Better Care Grant (the former improved BCF, with the Additional Discharge
  Fund now inside the pool) and the Disabled Facilities Grant.

Could not be confirmed here (only summaries of the framework were available): the exact
wording of the four conditions and their assurance statements (paraphrased); the 2025-26
scheme type list (the 2023-25 list is used; findings are warnings); whether intermediate
care capacity and demand plans are part of the 2025-26 template itself (they are checked
when a plan gives them, as in 2023-25); the DFG pass-through rule (in full to the district
councils in two-tier areas, unless a district agrees to part being kept) is taken from
the DFG grant conditions as carried into BCF plans, not from the 2025-26 text.

No risk share is asked by the 2025-26 template: how partners meet an overspend is the
Section 75 agreement's (the ``section-75`` rule, not ``risk-share``, runs). Sign-off by
the chief executives (not delegable) and the council's S151 officer before submission,
HWB approval allowed after it: North Yorkshire Council HWB reports of 14 March and 16
May 2025 (the requirement as councils read it; the template's wording was not read).
"""

from __future__ import annotations

import datetime as dt

from bettercare.domain.frameworks.base import (
    Condition,
    Framework,
    Objective,
    SignOffRole,
    SignOffRules,
)
from bettercare.domain.frameworks.bcf_2023_25 import SCHEME_TYPES_2023

#: Sign-off in 2025-26 (North Yorkshire Council HWB report, 14 March 2025, para 2.3b,
#: edemocracy.northyorks.gov.uk): "The Chief Executive officers at all four organisations
#: needs to sign off the 2025/26 BCF Plans before the final submission deadline of 31 March
#: 2025, and this cannot be delegated. There is also an additional requirement that the
#: BCF Plans are to be signed off by the Local Authorities S151 Officer before the
#: submission deadline." The HWB approved after submission (its report of 16 May 2025).
SIGN_OFF_2025 = SignOffRules(
    roles=(
        SignOffRole.COUNCIL_CHIEF_EXECUTIVE,
        SignOffRole.ICB_CHIEF_EXECUTIVE,
        SignOffRole.S151_OFFICER,
        SignOffRole.HWB_CHAIR,
    ),
    not_delegable=(SignOffRole.COUNCIL_CHIEF_EXECUTIVE, SignOffRole.ICB_CHIEF_EXECUTIVE),
    before_submission=(
        SignOffRole.COUNCIL_CHIEF_EXECUTIVE,
        SignOffRole.ICB_CHIEF_EXECUTIVE,
        SignOffRole.S151_OFFICER,
    ),
    submit_before_hwb=True,
    submission_deadline=dt.date(2025, 3, 31),  # "the final submission deadline of 31 March 2025"
    source="North Yorkshire Council HWB reports, 14 March and 16 May 2025 (2025/26 plan)",
)

#: The headline metric ids (catalogue entries in bettercare/domain/metrics.py).
HEADLINE_METRICS: tuple[str, ...] = (
    "emergency_admissions_65",
    "discharge_delay_days",
    "long_term_admissions_care_homes_65",
)

FRAMEWORK = Framework(
    id="2025-26",
    title="Better Care Fund policy framework and planning requirements 2025 to 2026",
    financial_years=("2025/26",),
    objectives=(
        Objective(
            "sickness_to_prevention", "Reform to support the shift from sickness to prevention"
        ),
        Objective(
            "hospital_to_home",
            "Reform to support people living independently and the shift from hospital to home",
        ),
    ),
    conditions=(
        Condition(
            "plans_jointly_agreed",
            "Plans to be jointly agreed by the ICB and local authority and signed off by the HWB",
            "The plan is agreed by the ICB and the local authority, involves providers and "
            "housing authorities, and is signed off by the Health and Wellbeing Board",
        ),
        Condition(
            "implementing_objectives",
            "Implementing the BCF objectives (sickness to prevention; hospital to home)",
            "Every scheme is tied to an objective and the plan sets goals for the headline metrics",
        ),
        Condition(
            "grant_and_funding_conditions",
            "Complying with grant and funding conditions, including maintaining the NHS "
            "minimum contribution to adult social care",
            "The NHS minimum contribution to adult social care is met, the DFG is passed to "
            "housing authorities and every source is allocated to schemes",
        ),
        Condition(
            "oversight_and_support",
            "Complying with oversight and support processes",
            "The HWB, ICB and local authority take part in BCF reporting and in support or "
            "escalation where plans are off track",
        ),
    ),
    national_metrics=HEADLINE_METRICS,
    funding_sources=(
        "icb_minimum",
        "local_authority_bcf_grant",
        "disabled_facilities_grant",
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
        "objectives",
        "involvement",
        "capacity-and-demand",
        "scheme-types",
        "risk-score",
        "years-and-dates",
        "sign-off",
        "national-conditions",
        "metrics",
        "section-75",
        "commissioners",
        "scheme-admissions-total",
    ),
    sign_off=SIGN_OFF_2025,
    sources=(
        "Better Care Fund policy framework 2025 to 2026 (DHSC/MHCLG, 30 January 2025)",
        "Better Care Fund planning requirements 2025 to 2026",
    ),
    unconfirmed=(
        "conditions and assurance statements paraphrased from summaries of the framework",
        "scheme type list of the 2025-26 template (the 2023-25 list is used)",
        "capacity and demand plans as part of the 2025-26 template",
        "DFG pass-through in two-tier areas taken from the DFG grant conditions",
        "sign-off roles and order as reported by a council, not read in the requirements",
    ),
)
