"""The layouts of published figures bettercare reads, and the row they become.

Two layouts (``docs/figures.md``):

* **Fingertips CSV export** (OHID, fingertips.phe.org.uk, "Export table as CSV" / the
  API's ``all_data/csv``). Its header, as the Fingertips source itself tests it
  (PholioVisualisation ``ServicesWebTest/Controllers/DataControllerTest.HeaderText``):
  ``Indicator ID, Indicator Name, Parent Code, Parent Name, Area Code, Area Name, Area
  Type, Sex, Age, Category Type, Category, Time period, Value, Lower CI 95.0 limit, Upper
  CI 95.0 limit, Lower CI 99.8 limit, Upper CI 99.8 limit, Count, Denominator, Value
  note, Recent Trend, Compared to England value or percentiles, Compared to Region value
  or percentiles, Time period Sortable, New data, Compared to goal``. bettercare
  requires the fields it uses (:data:`FINGERTIPS_REQUIRED`) and ignores the rest.
* **bettercare figures CSV** for everything else (:data:`BETTERCARE_REQUIRED`,
  :data:`BETTERCARE_OPTIONAL`): one row per metric, area and period.

NHS England's own BCF metric publications are not read directly: their layouts could
not be confirmed (reshape them into the bettercare CSV).

Suppressed cells: ``*``, ``..``, ``c``, ``x`` and ``:`` in a value, count or
denominator (the markers of ONS, NHS England and the GSS disclosure-control guidance),
and a Fingertips row whose Value is empty while its Value note says it was suppressed,
are kept as *suppressed* (no number), never as zero.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from bettercare.errors import BadInput

#: Cell contents that mean "published, but suppressed" (never zero).
SUPPRESSED_MARKERS = frozenset({"*", "..", "c", "x", ":"})

FINGERTIPS = "fingertips"
BETTERCARE = "bettercare"

FINGERTIPS_REQUIRED = (
    "Indicator ID",
    "Indicator Name",
    "Area Code",
    "Area Name",
    "Area Type",
    "Sex",
    "Age",
    "Time period",
    "Value",
    "Lower CI 95.0 limit",
    "Upper CI 95.0 limit",
    "Count",
    "Denominator",
    "Value note",
)
FINGERTIPS_OPTIONAL = (
    "Category Type",
    "Category",
    "Lower CI 99.8 limit",
    "Upper CI 99.8 limit",
)
BETTERCARE_REQUIRED = ("metric", "area_code", "period", "numerator", "denominator", "value")
BETTERCARE_OPTIONAL = (
    "area_name",
    "lower_95",
    "upper_95",
    "lower_998",
    "upper_998",
    "value_note",
)


@dataclass(frozen=True)
class FingertipsIndicator:
    """A Fingertips indicator bettercare reads, and the metric it is."""

    indicator_id: str
    metric: str
    name: str
    confirmed_by: str


#: Fingertips indicator id -> bettercare metric. Only mappings whose indicator id could be
#: confirmed are listed; anything else in an export is skipped (and counted), not guessed.
FINGERTIPS_INDICATORS: dict[str, FingertipsIndicator] = {
    i.indicator_id: i
    for i in (
        FingertipsIndicator(
            "22401",
            "falls_65_dsr",
            "Emergency hospital admissions due to falls in people aged 65 and over (DSR)",
            "PHOF C29 / 2.24i; the metric catalogue's specification; fingertipsR scripts of "
            "local public health teams calling fingertips_data(IndicatorID = 22401) for falls",
        ),
        FingertipsIndicator(
            "92949",
            "dementia_diagnosis_rate",
            "Estimated dementia diagnosis rate (aged 65 and over)",
            "fingertipsR script of West Sussex public health (Dementia_diagnosis_rate = "
            "IndicatorID 92949); NHS Outcomes Framework 2.6i",
        ),
    )
}
#: Metrics with no confirmed Fingertips indicator: load them with the bettercare CSV.
UNMAPPED_NOTE = (
    "not confirmed: Fingertips ids for non-elective admissions, emergency admissions 65+, "
    "ASCOF 2A(2), 2B(1) and the discharge metrics; use the bettercare figures CSV"
)


class AreaType(StrEnum):
    """What an area code is, by its ONS GSS entity prefix."""

    ENGLAND = "england"  # E92
    REGION = "region"  # E12 (ONS region)
    NHS_REGION = "nhs_region"  # E40
    ICB = "icb"  # E54
    HWB = "hwb"  # E06, E08, E09, E10 (upper-tier local authority)


_AREA = re.compile(r"^E\d{8}$")
_PREFIX = {
    "E92": AreaType.ENGLAND,
    "E12": AreaType.REGION,
    "E40": AreaType.NHS_REGION,
    "E54": AreaType.ICB,
    "E06": AreaType.HWB,
    "E08": AreaType.HWB,
    "E09": AreaType.HWB,
    "E10": AreaType.HWB,
}


def area_type_of(code: str) -> AreaType | None:
    """The kind of area an ONS code names; None for codes bettercare does not compare."""
    if not _AREA.match(code):
        return None
    return _PREFIX.get(code[:3])


class FiguresRejected(BadInput):
    """A figures file breaks a rule; nothing of it was loaded.

    ``findings`` holds every located problem (``file: row N, column C: rule``); the
    message is the first of them and how many more there are.
    """

    def __init__(self, findings: list[str]) -> None:
        self.findings = findings
        more = f" (and {len(findings) - 1} more problem(s))" if len(findings) > 1 else ""
        super().__init__(f"{findings[0]}{more}; nothing loaded")


@dataclass(frozen=True)
class FigureRow:
    """One published figure: a metric for an area and period, as the publication gives it."""

    metric: str
    area_code: str
    area_name: str
    area_type: AreaType
    period: str
    numerator: float | None
    denominator: float | None
    value: float | None
    lower_95: float | None
    upper_95: float | None
    lower_998: float | None
    upper_998: float | None
    suppressed: bool
    value_note: str
    layout: str
    indicator_id: str
    row: int  # the row of the file it came from (header = row 1)
