"""BCF 2020/21: no plans to assure (COVID-19); spend agreed in writing, a year-end return.

Sources:
- Better Care Fund: policy statement 2020 to 2021 (DHSC/MHCLG, 3 December 2020),
  https://www.gov.uk/government/publications/better-care-fund-policy-statement-2020-to-2021
  paragraphs 2-4: formal BCF plans are not submitted to NHS England and NHS Improvement
  for approval in 2020 to 2021; HWB areas ensure the use of the mandatory contributions
  (CCG minimum contribution, improved BCF grant and Disabled Facilities Grant) is agreed
  in writing and that the national conditions are met; HWBs provide an end-of-year
  reconciliation confirming the conditions, total spend from the mandatory sources and
  the agreed social care spend from the CCG minimum. Table 1: minimum contributions
  2020-21 £4,048m (CCG), £2,077m (iBCF), £573m (DFG), £6,698m in all.

Could not be confirmed here: which national conditions the statement means (the
2019-20 conditions are carried, paraphrased); whether HWBs recorded metric ambitions
(no metrics are required here, so the ``metrics`` rule does not run).
"""

from __future__ import annotations

from bettercare.domain.frameworks import bcf_2019_20
from bettercare.domain.frameworks.base import Framework

FRAMEWORK = Framework(
    id="2020-21",
    title="Better Care Fund policy statement 2020 to 2021",
    financial_years=("2020/21",),
    conditions=bcf_2019_20.FRAMEWORK.conditions,
    national_metrics=(),
    allows_local_metrics=True,
    funding_sources=(
        "ccg_minimum",
        "improved_bcf",
        "disabled_facilities_grant",
        "additional_la",
        "additional_ccg",
        "other",
    ),
    plans_submitted=False,
    rules=(
        "funding-matches-pooled-budget",
        "scheme-spend-matches-budget",
        "funding-source-allocation",
        "protected-social-care",
        "risk-score",
        "years-and-dates",
        "sign-off",
        "national-conditions",
        "commissioners",
        "scheme-admissions-total",
    ),
    sources=("Better Care Fund: policy statement 2020 to 2021 (DHSC/MHCLG, 3 December 2020)",),
    unconfirmed=(
        "the national conditions meant by the statement (2019-20 conditions carried)",
        "whether metric ambitions were recorded (none required here)",
    ),
)
