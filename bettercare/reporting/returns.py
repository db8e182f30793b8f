"""Write a BCF quarterly or year-end return as XLSX, in the layout of ``data.returns``.

A return reports, for one quarter of the plan: actual spend by scheme, year to date,
against the planned profile (the year's planned spend spread evenly over the quarters:
the plan files hold no quarterly profile); each metric's status in the return's own
terms (on track / not on track / data not available, with the narrative); and the
national conditions confirmed. Q4 is the year-end return. The figures come from the
plan's recorded ``quarterly_reports`` entry; without one, a blank return is written for
the HWB to fill in (spend blank, metrics "Data not available", conditions unanswered).

A quarter outside the plan is refused before anything is written, and the workbook is
written to a temporary file beside ``out`` and moved into place, so a failure never
leaves half a return. The layout is modelled on the national template; see
:mod:`bettercare.data.returns` for what could not be checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.styles import Font, PatternFill  # type: ignore[import-untyped]
from openpyxl.worksheet.worksheet import Worksheet  # type: ignore[import-untyped]

from bettercare.data.atomic import staged_file
from bettercare.data.returns import (
    CONDITIONS,
    CONDITIONS_HEADER,
    COVER,
    COVER_ROWS,
    METRICS,
    METRICS_HEADER,
    NARRATIVE,
    NO,
    SPEND,
    SPEND_HEADER,
    STATUS_LABELS,
    YES,
    quarter_in_plan,
    return_label,
)
from bettercare.domain.frameworks import framework_for_years
from bettercare.domain.metrics import CATALOGUE
from bettercare.domain.plan import (
    ConditionReturn,
    MetricReturn,
    MetricReturnStatus,
    Plan,
    QuarterReport,
)

if TYPE_CHECKING:  # the analytics (pandas) are not loaded to write a return
    from bettercare.analytics.published import MeasuredStatus

_INPUT = PatternFill("solid", fgColor="FFF2CC")  # cells the HWB fills in (template colour key)
_BOLD = Font(bold=True)


def build_return(
    plan: Plan,
    fy: str,
    quarter: int,
    measured: Mapping[str, MeasuredStatus] | None = None,
) -> QuarterReport:
    """The report for a quarter: as recorded in the plan, else a blank one to fill in.

    ``measured`` (:func:`bettercare.analytics.published.measured_statuses`, from the store
    or published figures): a blank return's metric statuses are suggested from it, GREEN
    as on track and AMBER or RED as not on track, with a one-line narrative saying the
    figure, the plan value and the source; the HWB reviews them before submitting.
    """
    quarter_in_plan(plan, fy, quarter)
    recorded = plan.quarter_report(fy, quarter)
    if recorded is not None:
        return recorded
    fw = framework_for_years(plan.financial_years)
    metric_ids = list(fw.national_metrics) if fw else [m.metric for m in plan.metrics]
    measured = measured or {}
    condition_ids = list(fw.condition_ids()) if fw else [c.id for c in plan.national_conditions]
    return QuarterReport(
        financial_year=fy,
        quarter=quarter,
        actual_spend={s.reference: None for s in plan.schemes if fy in s.spend or s.sources},
        metrics=[_suggested(m, measured.get(m)) for m in metric_ids],
        conditions=[ConditionReturn(id=c, confirmed=None) for c in condition_ids],
    )


def _suggested(metric: str, status: MeasuredStatus | None) -> MetricReturn:
    if status is None:
        return MetricReturn(metric=metric, status=MetricReturnStatus.DATA_NOT_AVAILABLE)
    on_track = status.rag == "GREEN"
    return MetricReturn(
        metric=metric,
        status=MetricReturnStatus.ON_TRACK if on_track else MetricReturnStatus.NOT_ON_TRACK,
        narrative=status.narrative,
    )


def planned_to_date(annual: Decimal | None, quarter: int) -> Decimal | None:
    """Planned spend by the end of ``quarter``: the year's spend spread evenly."""
    return None if annual is None else (annual * quarter / 4).quantize(Decimal("0.01"))


def write_return(
    plan: Plan,
    fy: str,
    quarter: int,
    out: str | Path,
    measured: Mapping[str, MeasuredStatus] | None = None,
) -> QuarterReport:
    """Write the quarter's return to ``out`` (XLSX); return what was written."""
    report = build_return(plan, fy, quarter, measured)  # refuses a quarter outside the plan
    out = Path(out)
    book = Workbook()
    _cover(book.active, plan, report)
    _spend(book.create_sheet(SPEND), plan, report)
    _metrics(book.create_sheet(METRICS), plan, report)
    _conditions(book.create_sheet(CONDITIONS), plan, report)
    narrative = book.create_sheet(NARRATIVE)
    narrative.append(["Narrative: progress, variances against plan and actions"])
    narrative["A1"].font = _BOLD
    narrative.append([report.narrative])
    narrative["A2"].fill = _INPUT
    narrative.column_dimensions["A"].width = 100
    with staged_file(out, suffix=".xlsx") as tmp:  # never half a workbook
        book.save(tmp)
    return report


def _header(ws: Worksheet, header: tuple[str, ...], widths: tuple[int, ...]) -> None:
    ws.append(list(header))
    for col, width in enumerate(widths, start=1):
        ws.cell(1, col).font = _BOLD
        ws.column_dimensions[ws.cell(1, col).column_letter].width = width
    ws.freeze_panes = "A2"


def _cover(ws: Worksheet, plan: Plan, report: QuarterReport) -> None:
    ws.title = COVER
    fw = framework_for_years(plan.financial_years)
    values = (
        plan.hwb.name,
        plan.plan_id,
        report.financial_year,
        f"Q{report.quarter}",
        return_label(report.quarter),
        fw.title if fw else "not modelled",
        "Yes: every figure is illustrative" if plan.illustrative else "No",
    )
    for label, value in zip(COVER_ROWS, values, strict=True):
        ws.append([label, value])
    for row in range(1, len(COVER_ROWS) + 1):
        ws.cell(row, 1).font = _BOLD
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 70


def _spend(ws: Worksheet, plan: Plan, report: QuarterReport) -> None:
    _header(ws, SPEND_HEADER, (18, 45, 45, 20, 20, 20, 20))
    fy = report.financial_year
    by_ref = {s.reference: s for s in plan.schemes}
    for ref, actual in report.actual_spend.items():
        scheme = by_ref[ref]
        sources = sorted({src.source.value for src in scheme.sources if src.financial_year == fy})
        if not sources and scheme.funding_source is not None:
            sources = [scheme.funding_source.value]
        annual = plan.scheme_spend(scheme, fy)
        planned = planned_to_date(annual, report.quarter)
        variance = actual - planned if actual is not None and planned is not None else None
        ws.append([ref, scheme.name, ", ".join(sources), annual, planned, actual, variance])
        ws.cell(ws.max_row, 6).fill = _INPUT
        for col in (4, 5, 6, 7):
            ws.cell(ws.max_row, col).number_format = "£#,##0"


def _metrics(ws: Worksheet, plan: Plan, report: QuarterReport) -> None:
    _header(ws, METRICS_HEADER, (36, 60, 14, 20, 80))
    fy = report.financial_year
    for m in report.metrics:
        spec = CATALOGUE.get(m.metric)
        mp = plan.metric_plan(m.metric)
        goal = next((v.value for v in (mp.planned if mp else []) if v.period.startswith(fy)), None)
        name = spec.name if spec else (mp.name if mp else None)
        ws.append([m.metric, name, goal, STATUS_LABELS[m.status], m.narrative])
        ws.cell(ws.max_row, 4).fill = _INPUT
        ws.cell(ws.max_row, 5).fill = _INPUT


def _conditions(ws: Worksheet, plan: Plan, report: QuarterReport) -> None:
    _header(ws, CONDITIONS_HEADER, (32, 80, 12, 60))
    fw = framework_for_years(plan.financial_years)
    texts = {c.id: c.text for c in fw.conditions} if fw else {}
    for c in report.conditions:
        answer = None if c.confirmed is None else (YES if c.confirmed else NO)
        ws.append([c.id, texts.get(c.id), answer, c.narrative])
        ws.cell(ws.max_row, 3).fill = _INPUT


def write_latest_return(plan: Plan, folder: str | Path) -> Path | None:
    """Write the plan's latest recorded return into ``folder`` (None if it records none).

    The file is named ``<plan_id>_<yyyy-yy>_Q<n>.xlsx`` (plan ids are ``[a-z0-9_-]``).
    """
    if not plan.quarterly_reports:
        return None
    latest = max(plan.quarterly_reports, key=lambda r: (r.financial_year, r.quarter))
    fy, q = latest.financial_year, latest.quarter
    path = Path(folder) / f"{plan.plan_id}_{fy.replace('/', '-')}_Q{q}.xlsx"
    write_return(plan, fy, q, path)
    return path
