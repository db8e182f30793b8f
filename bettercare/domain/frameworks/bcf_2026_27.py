"""The BCF framework for 2026/27: one document; plans aligned with neighbourhood health.

Sources:
- Better Care Fund framework 2026 to 2027 (DHSC/MHCLG with NHS England, 17 February
  2026), https://www.gov.uk/government/publications/better-care-fund-framework-2026-to-2027
  "This guidance constitutes the formal planning requirements, national conditions for
  expenditure and legal framework for the Better Care Fund for 2026 to 2027." Its aim:
  to support ICBs and local authorities in designing and delivering more integrated and
  preventative care, particularly for people with more complex needs. Plans are
  developed collaboratively and agreed by health and wellbeing boards as in previous
  years. New for 2026 to 2027: HWBs, ICBs and local authorities more closely align plans
  for integrated health and social care with the development of neighbourhood health
  services, such as intermediate care. Read alongside: supporting documents on the BCF
  Exchange, the NHS medium term planning framework, the NHS (Expenditure on Service
  Integration) Directions, the ICB allocations of the minimum NHS contribution to the
  BCF for 2026 to 2027 and the final local government finance settlement, April 2026 to
  March 2029.
- LexisNexis local government Q&A digest (2026): alongside the framework, MHCLG
  published its consultation response on a new, more evidence-based method of
  allocating the Disabled Facilities Grant to local authorities from 2026-27, with
  transitional protections (no allocation figure is modelled here).
- Brighton & Hove HWB, Better Care Fund report of 3 March 2026: the BCF brings together
  ring-fenced ICB allocations and funding paid to local government, including the DFG
  and the Local Authority Better Care Fund (formerly the improved BCF).

Could not be confirmed here (only the publication page and a council report were
read): the national conditions and their wording, the metric set and the objectives
(the 2025-26 ones are carried); the sign-off roles and order (carried from 2025-26);
whether Additional Discharge Funding is still identified inside the pool; the scheme
type list (the 2023-25 list is used, findings are warnings). No figure (allocation,
uplift) of 2026-27 is modelled.
"""

from __future__ import annotations

from dataclasses import replace

from bettercare.domain.frameworks import bcf_2025_26
from bettercare.domain.frameworks.base import Framework

FRAMEWORK = Framework(
    id="2026-27",
    title="Better Care Fund framework 2026 to 2027",
    financial_years=("2026/27",),
    objectives=bcf_2025_26.FRAMEWORK.objectives,
    conditions=bcf_2025_26.FRAMEWORK.conditions,
    national_metrics=bcf_2025_26.HEADLINE_METRICS,
    funding_sources=bcf_2025_26.FRAMEWORK.funding_sources,
    scheme_types=bcf_2025_26.FRAMEWORK.scheme_types,
    rules=(*bcf_2025_26.FRAMEWORK.rules, "neighbourhood-health"),
    # the 2026-27 submission deadline is not confirmed here: none is checked
    sign_off=replace(bcf_2025_26.SIGN_OFF_2025, submission_deadline=None),
    sources=(
        "Better Care Fund framework 2026 to 2027 (gov.uk, 17 February 2026)",
        "ICB allocations of the minimum NHS contribution to BCF for 2026 to 2027",
        "Brighton & Hove HWB, Better Care Fund report, 3 March 2026",
        "MHCLG consultation response on DFG allocations from 2026-27 (LexisNexis digest)",
    ),
    unconfirmed=(
        "national conditions, objectives and metrics carried from 2025-26",
        "sign-off roles and order carried from 2025-26",
        "the national deadline for submitting 2026-27 plans (not modelled)",
        "Additional Discharge Funding still identified inside the pool",
        "scheme type list (the 2023-25 list is used)",
    ),
)
