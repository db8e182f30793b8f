"""The BCF framework for 2016/17: the six conditions of 2014-16 plus two (eight in all).

Sources:
- Better Care Fund: how it will work in 2016 to 2017 (DH/DCLG policy framework),
  https://www.gov.uk/government/publications/better-care-fund-how-it-will-work-in-2016-to-2017
- Better Care Fund Planning Requirements for 2016-17 (Annex 4 of the NHS Shared
  Planning Guidance 2016/17) and the 2016-17 planning template ("Template for BCF
  submission 1: due on 02 March 2016"): conditions 7 (invest in NHS commissioned
  out-of-hospital services, or hold the money pending release under a local risk share)
  and 8 (a local action plan to reduce delayed transfers of care).
- Seed 002 (Leicestershire 2016/17) uses the eight conditions.

Could not be confirmed here: the template's exact assurance wording (paraphrased) and
whether every 2014-16 funding line remained in the 2016-17 template (kept, so that a
plan moving from 2015/16 to 2016/17 is not refused for a line name).
"""

from __future__ import annotations

from bettercare.domain.frameworks.base import Condition, Framework
from bettercare.domain.frameworks.bcf_2014_16 import (
    SEED_ERA_FUNDING,
    SEED_ERA_RULES,
    SIX_CONDITIONS,
)

FRAMEWORK = Framework(
    id="2016-17",
    title="Better Care Fund 2016/17 policy framework and planning requirements",
    financial_years=("2016/17",),
    conditions=(
        *SIX_CONDITIONS,
        Condition(
            "nhs_out_of_hospital_services",
            "Agreement to invest in NHS commissioned out-of-hospital services, or to retain "
            "a share of the allocation pending release under a local risk-sharing agreement",
            "The plan states the amount invested out of hospital or held under the risk share",
        ),
        Condition(
            "delayed_transfers_action_plan",
            "Agreement on a local action plan to reduce delayed transfers of care",
            "A local delayed transfers of care action plan with a target is agreed",
        ),
    ),
    national_metrics=(
        "non_elective_admissions",
        "delayed_transfers_of_care",
        "permanent_admissions_care_homes_65",
        "reablement_91_days",
        "patient_experience",
    ),
    allows_local_metrics=True,
    funding_sources=SEED_ERA_FUNDING,
    rules=SEED_ERA_RULES,
    sources=(
        "Better Care Fund: how it will work in 2016 to 2017 (DH/DCLG)",
        "BCF Planning Requirements 2016-17 (NHS Shared Planning Guidance, Annex 4)",
    ),
    unconfirmed=(
        "assurance statements paraphrase the conditions",
        "funding lines carried over from 2014-16 without checking the 2016-17 template",
    ),
)
