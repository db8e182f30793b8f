"""The BCF framework for 2019/20: the 2017-19 conditions and metrics carried for a year.

Sources:
- Better Care Fund policy framework 2019 to 2020 (DHSC/MHCLG, July 2019) and the BCF
  planning requirements 2019-20 (NHS England, published 18 July 2019), as reported by
  National Health Executive, "Better Care Fund policy framework for 2019 to 2020
  released" (29 July 2019): the framework sets the funding for 2019 to 2020, the
  conditions of access to the fund, the national performance metrics and the assurance
  and approval process; pooled funding reached £6.4bn.
- Better Care Fund 2019/20 Template (planning template guidance, documents.pub copy).
- The 2020 to 2021 policy statement (gov.uk, 3 December 2020) names the mandatory
  contributions of the period: the CCG minimum, the improved BCF grant and the DFG.

Could not be confirmed here (the 2019-20 framework's text was not read, only a news
summary): that the four national conditions are those of 2017-19 unchanged (they are
carried over, paraphrased); that the four national metrics are those of 2017-19
(non-elective admissions, care home admissions 65+, reablement, delayed transfers of
care); that the Winter Pressures Grant was pooled in the BCF in 2019/20; the scheme type
list of the 2019/20 template (not checked).
"""

from __future__ import annotations

from bettercare.domain.frameworks import bcf_2017_19
from bettercare.domain.frameworks.base import Framework

FRAMEWORK = Framework(
    id="2019-20",
    title="Better Care Fund policy framework and planning requirements 2019 to 2020",
    financial_years=("2019/20",),
    conditions=bcf_2017_19.FRAMEWORK.conditions,
    national_metrics=bcf_2017_19.FRAMEWORK.national_metrics,
    allows_local_metrics=True,
    funding_sources=(
        "ccg_minimum",
        "disabled_facilities_grant",
        "improved_bcf",
        "winter_pressures_grant",
        "additional_la",
        "additional_ccg",
        "other",
    ),
    rules=(*bcf_2017_19.FRAMEWORK.rules, "commissioners", "scheme-admissions-total"),
    sources=(
        "Better Care Fund policy framework 2019 to 2020 (DHSC/MHCLG, July 2019)",
        "BCF planning requirements 2019-20 (NHS England, 18 July 2019)",
        "National Health Executive, 29 July 2019 (summary of the framework)",
    ),
    unconfirmed=(
        "national conditions carried over from 2017-19 (the 2019-20 text was not read)",
        "national metrics carried over from 2017-19",
        "Winter Pressures Grant as a pooled funding stream",
        "scheme types of the 2019/20 template not checked",
    ),
)
