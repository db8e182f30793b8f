"""Where each BCF metric's national figures come from, year by year, and when collections end.

The metric catalogue (:mod:`bettercare.domain.metrics`) says what a metric *is*; this
table says which national collection published it in which financial years, because the
collections changed under the BCF:

* The monthly Delayed Transfers of Care SitRep (delayed days by responsible
  organisation and reason) ran from August 2010 (NHS England, "Delayed Transfers of
  Care" statistics page: "Data for this collection is available back to August 2010")
  until its collection and publication were paused in March 2020 for the COVID-19
  response and not restarted (Department of Health and Social Care, written answer of
  20 January 2022 to question 96758: "The collection and publication of data on delayed
  transfers of care (DToC) was paused in March 2020"; daily discharge data followed
  from 9 December 2021). February 2020 is therefore the last month with DToC figures:
  :data:`COLLECTION_ENDS` holds it and metrics needing the SitRep report later periods
  as not collected rather than computing them.
* Adult social care activity: the annual Short and Long Term support (SALT) return gave
  the ASCOF measures until 2023-24; the Client Level Data (CLD) collection became
  mandatory from April 2023, both ran in 2023-24 (gov.uk, "Client level data and short
  and long term data collections: dual-run grant 2023 to 2024": "CLD will replace the
  existing annual Short and Long Term (SALT) Support data"), SALT-based ASCOF measures
  were "last published in the 2023 to 2024 ASCOF report" and the 2024-25 measures are
  derived from CLD ("Measures from ASCOF, England: 2024 to 2025 - client level data
  quality statement", 18 December 2025).

Each row says whether it is confirmed by those sources; rows marked unconfirmed are our
best reading and are listed in ``docs/metric-sources.md`` as such.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class MetricSource:
    """The national collection a metric's figures come from over a span of financial years."""

    metric: str
    collection: str
    first_year: str  # financial year the source applies from, e.g. '2014/15'
    last_year: str | None  # last financial year it applies to (None: still current)
    confirmed: bool
    note: str = ""

    def covers(self, fy: str) -> bool:
        """Whether this source applies to financial year ``fy`` (``YYYY/YY``)."""
        start = int(fy[:4])
        if start < int(self.first_year[:4]):
            return False
        return self.last_year is None or start <= int(self.last_year[:4])


_DTOC = "delayed_transfers_of_care"
#: The last day a national collection published figures for a metric: later periods are
#: not collected (and a period reaching past it only partly collected).
COLLECTION_ENDS: dict[str, dt.date] = {_DTOC: dt.date(2020, 2, 29)}
#: How a period after the end of its metric's collection is reported.
COLLECTION_END_REASONS: dict[str, str] = {
    _DTOC: "not collected after February 2020 (the monthly Delayed Transfers of Care "
    "SitRep was paused in March 2020 and not restarted)",
}

SOURCES: tuple[MetricSource, ...] = (
    MetricSource(
        _DTOC,
        "Monthly Delayed Transfers of Care SitRep (NHS England)",
        "2010/11",
        "2019/20",
        True,
        "August 2010 to February 2020; 2019/20 has no March",
    ),
    MetricSource(
        "non_elective_admissions",
        "Monthly Activity Return (MAR) / SUS admitted patient care",
        "2014/15",
        None,
        True,
        "BCF 2015/16 Technical Guidance, metric 1",
    ),
    MetricSource(
        "permanent_admissions_care_homes_65",
        "Short and Long Term support return (SALT), ASCOF 2A(2)",
        "2014/15",
        "2023/24",
        True,
        "2023/24: SALT and Client Level Data ran side by side; ASCOF used SALT",
    ),
    MetricSource(
        "permanent_admissions_care_homes_65",
        "Adult Social Care Client Level Data (CLD), ASCOF measure derived centrally",
        "2024/25",
        None,
        True,
        "ASCOF 2024-25 measures derived from CLD (official statistics in development)",
    ),
    MetricSource(
        "long_term_admissions_care_homes_65",
        "Adult Social Care Client Level Data (CLD)",
        "2025/26",
        None,
        False,
        "that the 2025-26 BCF metric is the CLD-derived ASCOF measure is not confirmed",
    ),
    MetricSource(
        "reablement_91_days",
        "Short and Long Term support return (SALT), ASCOF 2B(1)",
        "2014/15",
        "2023/24",
        False,
        "the SALT table behind 2B(1) is not confirmed here",
    ),
    MetricSource(
        "reablement_91_days",
        "not confirmed: Client Level Data or a hospital discharge extract",
        "2024/25",
        None,
        False,
        "CLD does not carry all of SALT's intermediate care data (standards.nhs.uk, "
        "Adult Social Care Client Level Data): the 2024/25 source is not confirmed",
    ),
    MetricSource(
        "emergency_admissions_65",
        "SUS+ admitted patient care",
        "2025/26",
        None,
        False,
        "the catalogue's specification says what is not confirmed",
    ),
    MetricSource(
        "discharge_delay_days",
        "Discharge Ready Date (SUS+ admitted patient care)",
        "2025/26",
        None,
        False,
        "the collection carrying the Discharge Ready Date for the BCF metric is not confirmed",
    ),
)


def sources_for(metric: str, fy: str) -> list[MetricSource]:
    """The sources of ``metric`` in financial year ``fy`` (empty when none is recorded)."""
    return [s for s in SOURCES if s.metric == metric and s.covers(fy)]


def not_collected(metric: str, start: dt.date, end: dt.date) -> str | None:
    """Why the period ``start``-``end`` of ``metric`` has no national figures, or None.

    A period ending after the metric's collection ended is not collected (wholly or in
    part, which would understate a count).
    """
    last = COLLECTION_ENDS.get(metric)
    if last is None or end <= last:
        return None
    if start <= last:
        return f"only partly collected: {COLLECTION_END_REASONS[metric]}"
    return COLLECTION_END_REASONS[metric]
