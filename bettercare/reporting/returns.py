"""Write a BCF quarterly or year-end return as XLSX, in the layout of ``data.returns``.

A return reports, for one quarter of the plan, year to date: income received by funding
stream; actual spend by scheme against the planned profile (the year's planned spend
spread evenly over the quarters: the plan files hold no quarterly profile; income too,
as grants are paid in instalments: "The grant will be paid in monthly instalments",
Improved Better Care Fund Grant Determination 2024-25, gov.uk); Disabled Facilities
Grant delivery (spend, adaptations completed) and Additional Discharge Funding spend;
each metric's actual against the plan's goal and its status in the return's own terms
(on track / not on track / data not available, with the narrative); capacity and
demand actuals for the quarter's months against the plan's; and the national
conditions confirmed. Q4 is the year-end return: it adds the reconciliation of planned
and actual spend by scheme, the year's income, spend and balance, and the underspend
carried forward.

The figures come from the plan's recorded ``quarterly_reports`` entry; without one, a
blank return is written for the HWB to fill in. The workbook is for people: labels, not
codes; drop-downs for statuses and answers; numeric inputs validated (amounts £0 to
£100bn, counts whole); variance formulas; every sheet protected *without a password*
(so nobody overwrites a label, a planned figure or a formula by accident; it is not a
security control), with only the yellow input cells unlocked; a Guidance sheet first.

A quarter outside the plan is refused before anything is written, and the workbook is
written to a temporary file beside ``out`` and moved into place, so a failure never
leaves half a return. The layout is modelled on the national template; see
:mod:`bettercare.data.returns` for what is known of it and what could not be checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.styles import Alignment, Font, PatternFill, Protection  # type: ignore[import-untyped]
from openpyxl.worksheet.datavalidation import DataValidation  # type: ignore[import-untyped]
from openpyxl.worksheet.worksheet import Worksheet  # type: ignore[import-untyped]

from bettercare.data.atomic import staged_file
from bettercare.data.returns import (
    ADF_SPEND_ROW,
    BALANCE_ROW,
    CAPACITY,
    CAPACITY_HEADER,
    CARRY_FORWARD_ROW,
    CONDITIONS,
    CONDITIONS_HEADER,
    COVER,
    COVER_ROWS,
    DFG_ADAPTATIONS_ROW,
    DFG_ADF,
    DFG_HEADER,
    DFG_SPEND_ROW,
    GUIDANCE,
    INCOME,
    INCOME_HEADER,
    METRICS,
    METRICS_HEADER,
    NARRATIVE,
    NO,
    SERVICE_LABELS,
    SPEND,
    SPEND_HEADER,
    STATUS_LABELS,
    TOTAL_INCOME_ROW,
    TOTAL_SPEND_ROW,
    YEAR_END,
    YEAR_END_HEADER,
    YES,
    condition_label,
    funding_label,
    metric_label,
    quarter_in_plan,
    quarter_months,
    return_label,
)
from bettercare.domain.frameworks import framework_for_years
from bettercare.domain.money import format_gbp
from bettercare.domain.periods import period_span
from bettercare.domain.plan import (
    MAX_COUNT,
    MAX_MONEY,
    CapacityDemandActual,
    ConditionReturn,
    FundingSource,
    MetricReturn,
    MetricReturnStatus,
    Plan,
    QuarterReport,
)

if TYPE_CHECKING:
    import pandas as pd

_INPUT = PatternFill("solid", fgColor="FFF2CC")  # cells the HWB fills in (yellow)
_FORMULA = PatternFill("solid", fgColor="E7E6E6")  # calculated cells (grey)
_BOLD = Font(bold=True)
_UNLOCKED = Protection(locked=False)
_GBP = "£#,##0"


def build_return(plan: Plan, fy: str, quarter: int) -> QuarterReport:
    """The report for a quarter: as recorded in the plan, else a blank one to fill in."""
    quarter_in_plan(plan, fy, quarter)
    recorded = plan.quarter_report(fy, quarter)
    if recorded is not None:
        return recorded
    fw = framework_for_years(plan.financial_years)
    metric_ids = list(fw.national_metrics) if fw else [m.metric for m in plan.metrics]
    condition_ids = list(fw.condition_ids()) if fw else [c.id for c in plan.national_conditions]
    services = list(dict.fromkeys(c.service for c in plan.capacity_demand))
    return QuarterReport(
        financial_year=fy,
        quarter=quarter,
        income={src: None for src in _streams(plan, fy)},
        actual_spend={s.reference: None for s in plan.schemes if fy in s.spend or s.sources},
        metrics=[
            MetricReturn(metric=m, status=MetricReturnStatus.DATA_NOT_AVAILABLE) for m in metric_ids
        ],
        capacity_demand=[
            CapacityDemandActual(service=s, month=m)
            for s in services
            for m in quarter_months(fy, quarter)
        ],
        conditions=[ConditionReturn(id=c, confirmed=None) for c in condition_ids],
    )


def _streams(plan: Plan, fy: str) -> list[FundingSource]:
    """The funding streams the plan pools in ``fy``, in the plan's order."""
    return list(dict.fromkeys(f.source for f in plan.funding if f.financial_year == fy))


def planned_to_date(annual: Decimal | None, quarter: int) -> Decimal | None:
    """Planned spend (or income) by the end of ``quarter``: the year's spread evenly."""
    return None if annual is None else (annual * quarter / 4).quantize(Decimal("0.01"))


def planned_income(plan: Plan, fy: str, source: FundingSource) -> Decimal | None:
    """The plan's income from ``source`` in ``fy`` (None when it states no amount)."""
    amounts = [
        f.amount
        for f in plan.funding
        if f.financial_year == fy and f.source == source and f.amount is not None
    ]
    return sum(amounts, Decimal(0)) if amounts else None


def planned_discharge_funding(plan: Plan, fy: str) -> Decimal | None:
    """Additional Discharge Funding the plan pools in ``fy`` (inside streams or its own)."""
    parts = [
        f.amount if f.source == FundingSource.ADDITIONAL_DISCHARGE_FUND else f.discharge_funding
        for f in plan.funding
        if f.financial_year == fy
    ]
    known = [p for p in parts if p is not None]
    return sum(known, Decimal(0)) if known else None


#: A metric's source in a pre-filled return when no figure covers the return's period.
NO_FIGURE = "none"


def prefill_metrics(
    plan: Plan,
    report: QuarterReport,
    actuals: Mapping[str, pd.DataFrame],
    hwb_code: str,
) -> tuple[QuarterReport, dict[str, str]]:
    """``report`` with its metric section filled from measured actuals, and each one's source.

    ``actuals`` is per grain, as :func:`bettercare.analytics.published.published_actuals`
    gives (with a ``source`` column). Per metric, the latest period inside the return's
    year that ends by the end of its quarter and is judged against the plan (finest grain
    first, :func:`~bettercare.analytics.published.measured_statuses`) gives the actual and
    the status: GREEN is on track, AMBER or RED not on track (the narrative names the RAG).
    A metric with no such figure is left empty (not zero), "data not available", with a
    narrative saying so; its source is :data:`NO_FIGURE`.
    """
    from bettercare.analytics.performance import plan_vs_actual
    from bettercare.analytics.published import SOURCE, STORE

    pva: dict[str, pd.DataFrame] = {}
    for grain, frame in actuals.items():
        mine = _in_year(frame[frame.hwb_code == hwb_code], report.financial_year)
        if mine.empty:
            continue
        judged = plan_vs_actual(mine, plan, hwb_code=hwb_code)
        if SOURCE in mine.columns:  # plan_vs_actual keeps no source: carry it over
            where = mine.drop_duplicates(["metric", "period"]).set_index(["metric", "period"])
            keys = zip(judged.metric, judged.period, strict=True)
            judged = judged.assign(**{SOURCE: [where[SOURCE].get(k, STORE) for k in keys]})
        pva[grain] = judged
    return prefill_judged(report, pva, hwb_code)


def _in_year(frame: pd.DataFrame, fy: str) -> pd.DataFrame:
    """The rows of ``frame`` whose periods start in or after the financial year ``fy``."""
    start = period_span(fy).start
    keep = [period_span(str(p)).start >= start for p in frame.period]
    return frame.loc[keep]  # .loc: an empty list keeps the columns


def prefill_judged(
    report: QuarterReport, pva: Mapping[str, pd.DataFrame], hwb_code: str
) -> tuple[QuarterReport, dict[str, str]]:
    """:func:`prefill_metrics` from metrics already judged against the plan, per grain.

    ``pva`` as :func:`bettercare.analytics.measure.measure_plan` gives it (``Measured.pva``,
    the board pack's ``LinkedData.pva``: the web app's measuring of a plan), with a
    ``source`` column; only the board ``hwb_code``'s rows in the return's year count.
    """
    from bettercare.analytics.published import measured_statuses

    fy, q = report.financial_year, report.quarter
    until = period_span(f"{fy} Q{q}").end
    mine = {
        g: _in_year(f[f.hwb_code == hwb_code] if "hwb_code" in f.columns else f, fy)
        for g, f in pva.items()
    }
    measured = measured_statuses(mine, until=until)
    metrics: list[MetricReturn] = []
    sources: dict[str, str] = {}
    for m in report.metrics:
        got = measured.get(m.metric)
        if got is None:
            metrics.append(
                MetricReturn(
                    metric=m.metric,
                    status=MetricReturnStatus.DATA_NOT_AVAILABLE,
                    narrative=f"No figure for {hwb_code} in {fy} to the end of Q{q} "
                    "judged against the plan: left empty.",
                )
            )
            sources[m.metric] = NO_FIGURE
            continue
        on_track = got.rag == "GREEN"
        metrics.append(
            MetricReturn(
                metric=m.metric,
                status=MetricReturnStatus.ON_TRACK if on_track else MetricReturnStatus.NOT_ON_TRACK,
                actual=got.actual,
                narrative=f"{got.narrative[:1].upper()}{got.narrative[1:]}.",
            )
        )
        sources[m.metric] = got.source
    return report.model_copy(update={"metrics": metrics}), sources


def write_return(
    plan: Plan,
    fy: str,
    quarter: int,
    out: str | Path,
    actuals: Mapping[str, pd.DataFrame] | None = None,
    hwb_code: str | None = None,
    judged: Mapping[str, pd.DataFrame] | None = None,
) -> QuarterReport:
    """Write the quarter's return to ``out`` (XLSX); return what was written.

    With ``actuals`` (per grain, with a ``source`` column) and ``hwb_code``, the metric
    section is pre-filled from them (:func:`prefill_metrics`), or with ``judged`` from
    metrics already judged against the plan (:func:`prefill_judged`): a Source column and
    a Guidance line say where each figure came from.
    """
    report = build_return(plan, fy, quarter)  # refuses a quarter outside the plan first
    sources: dict[str, str] | None = None
    if actuals is not None or judged is not None:
        if hwb_code is None:
            raise ValueError("pre-filling metrics needs the HWB's code")
        if actuals is not None:
            report, sources = prefill_metrics(plan, report, actuals, hwb_code)
        else:
            assert judged is not None
            report, sources = prefill_judged(report, judged, hwb_code)
    out = Path(out)
    book = Workbook()
    _guidance(book.active, report)
    if sources is not None:
        book.active.append(
            [
                f"Metric actuals for {hwb_code} were pre-filled (see the Source column of "
                f"{METRICS}): 'published' from published figures, 'store' from the "
                f"person-level store, '{NO_FIGURE}' where no figure covers the period (left "
                "empty). Check them before submitting."
            ]
        )
    _cover(book.create_sheet(COVER), plan, report)
    n_schemes = _spend(book.create_sheet(SPEND), plan, report)
    n_streams = _income(book.create_sheet(INCOME), plan, report)
    _metrics(book.create_sheet(METRICS), plan, report, sources)
    _conditions(book.create_sheet(CONDITIONS), plan, report)
    _dfg(book.create_sheet(DFG_ADF), plan, report)
    _capacity(book.create_sheet(CAPACITY), plan, report)
    narrative = book.create_sheet(NARRATIVE)
    narrative.append(["Narrative: progress, variances against plan and actions"])
    narrative["A1"].font = _BOLD
    _input(narrative, 2, 1, report.narrative)
    narrative["A2"].alignment = Alignment(wrap_text=True, vertical="top")
    narrative.column_dimensions["A"].width = 100
    narrative.row_dimensions[2].height = 200
    if quarter == 4:
        _year_end(book.create_sheet(YEAR_END), plan, report, n_schemes, n_streams)
    for ws in book.worksheets:
        ws.protection.sheet = True  # no password: guards labels and formulas from slips
        ws.protection.formatColumns = False
        ws.protection.formatRows = False
    with staged_file(out, suffix=".xlsx") as tmp:  # never half a workbook
        book.save(tmp)
    return report


# -- cells --------------------------------------------------------------------------


def _put(ws: Worksheet, row: int, col: int, value: Any) -> Any:
    """Write a value; text that starts with '=' stays text (never becomes a formula)."""
    cell = ws.cell(row, col)
    cell.value = value
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"
    return cell


def _input(ws: Worksheet, row: int, col: int, value: Any, number_format: str | None = None) -> None:
    """An input cell: yellow, unlocked."""
    cell = _put(ws, row, col, value)
    cell.fill = _INPUT
    cell.protection = _UNLOCKED
    if number_format:
        cell.number_format = number_format


def _formula(ws: Worksheet, row: int, col: int, formula: str, number_format: str = _GBP) -> None:
    """A calculated cell: grey, locked."""
    cell = ws.cell(row, col)
    cell.value = formula
    cell.fill = _FORMULA
    cell.number_format = number_format


def _variance(a: str, b: str) -> str:
    """``b - a`` when both are filled, else blank."""
    return f'=IF(OR({a}="",{b}=""),"",{b}-{a})'


def _header(ws: Worksheet, header: tuple[str, ...], widths: tuple[int, ...]) -> None:
    ws.append(list(header))
    for col, width in enumerate(widths, start=1):
        ws.cell(1, col).font = _BOLD
        ws.column_dimensions[ws.cell(1, col).column_letter].width = width
    ws.freeze_panes = "A2"


def _validate(ws: Worksheet, rule: DataValidation, *ranges: str) -> None:
    """Attach a validation rule to one or more ranges."""
    for cells in ranges:
        rule.add(cells)
    ws.add_data_validation(rule)


def _money_rule() -> DataValidation:
    return DataValidation(
        type="decimal",
        operator="between",
        formula1="0",
        formula2=str(MAX_MONEY - 1),
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Amount",
        error="An amount in pounds from 0 to 100 billion",
    )


def _count_rule() -> DataValidation:
    return DataValidation(
        type="whole",
        operator="between",
        formula1="0",
        formula2=str(MAX_COUNT),
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Count",
        error="A whole number of 0 or more",
    )


def _list_rule(options: list[str]) -> DataValidation:
    return DataValidation(
        type="list",
        formula1='"' + ",".join(options) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Choose from the list",
        error="Choose one of: " + ", ".join(options),
    )


# -- sheets -------------------------------------------------------------------------

_GUIDANCE_TEXT = (
    "How to fill in this return",
    "Fill in the yellow cells only; every other cell is protected (no password: the "
    "protection stops accidental edits, Review > Unprotect Sheet lifts it).",
    "Grey cells are formulas (variances and totals); they are never read back.",
    "Money is in pounds, year to date (from 1 April to the end of the quarter). Type "
    "values, not formulas or links to other workbooks: a formula in a yellow cell is "
    "refused when the return is read.",
    "Planned figures to date spread the year's plan evenly over the quarters.",
    "Metrics: the actual to date in the plan's unit, a status from the drop-down and a "
    "narrative on progress.",
    "National conditions: Yes or No from the drop-down, with a narrative for any No.",
    "Capacity and demand: the actual number of people (or packages) per month.",
    "Year-end return (Q4) only: the Year-End Reconciliation sheet compares planned and "
    "actual spend by scheme and asks for the underspend carried forward.",
    "The layout is modelled on the national BCF reporting template; it is not the "
    "national template itself (see the bettercare docs, returns).",
)


def _guidance(ws: Worksheet, report: QuarterReport) -> None:
    ws.title = GUIDANCE
    for text in _GUIDANCE_TEXT:
        ws.append([text])
    ws.append(
        [f"This is the {return_label(report.quarter).lower()} return for {report.financial_year}."]
    )
    ws["A1"].font = _BOLD
    ws.column_dimensions["A"].width = 120
    for row in ws.iter_rows():
        row[0].alignment = Alignment(wrap_text=True)


def _cover(ws: Worksheet, plan: Plan, report: QuarterReport) -> None:
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
    for r, (label, value) in enumerate(zip(COVER_ROWS, values, strict=True), start=1):
        _put(ws, r, 1, label).font = _BOLD
        _put(ws, r, 2, value)
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 70


def _spend(ws: Worksheet, plan: Plan, report: QuarterReport) -> int:
    _header(ws, SPEND_HEADER, (18, 45, 45, 20, 20, 20, 20))
    fy = report.financial_year
    by_ref = {s.reference: s for s in plan.schemes}
    r = 1
    for r, (ref, actual) in enumerate(report.actual_spend.items(), start=2):
        scheme = by_ref[ref]
        sources = list(
            dict.fromkeys(src.source for src in scheme.sources if src.financial_year == fy)
        )
        if not sources and scheme.funding_source is not None:
            sources = [scheme.funding_source]
        annual = plan.scheme_spend(scheme, fy)
        for col, value in enumerate(
            (ref, scheme.name, ", ".join(funding_label(s) for s in sources)), start=1
        ):
            _put(ws, r, col, value)
        _put(ws, r, 4, annual).number_format = _GBP
        _put(ws, r, 5, planned_to_date(annual, report.quarter)).number_format = _GBP
        _input(ws, r, 6, actual, _GBP)
        _formula(ws, r, 7, _variance(f"E{r}", f"F{r}"))
    if r > 1:
        _validate(ws, _money_rule(), f"F2:F{r}")
    return r - 1


def _income(ws: Worksheet, plan: Plan, report: QuarterReport) -> int:
    _header(ws, INCOME_HEADER, (45, 20, 20, 20, 20))
    r = 1
    for r, (src, actual) in enumerate(report.income.items(), start=2):
        annual = planned_income(plan, report.financial_year, src)
        _put(ws, r, 1, funding_label(src))
        _put(ws, r, 2, annual).number_format = _GBP
        _put(ws, r, 3, planned_to_date(annual, report.quarter)).number_format = _GBP
        _input(ws, r, 4, actual, _GBP)
        _formula(ws, r, 5, _variance(f"C{r}", f"D{r}"))
    if r > 1:
        _validate(ws, _money_rule(), f"D2:D{r}")
    return r - 1


def _metrics(
    ws: Worksheet, plan: Plan, report: QuarterReport, sources: dict[str, str] | None = None
) -> None:
    _header(ws, METRICS_HEADER, (60, 18, 18, 14, 20, 80))
    if sources is not None:  # after the read-back columns: the reader ignores it
        _put(ws, 1, len(METRICS_HEADER) + 1, "Source").font = _BOLD
        ws.column_dimensions["G"].width = 12
    fy = report.financial_year
    r = 1
    for r, m in enumerate(report.metrics, start=2):
        mp = plan.metric_plan(m.metric)
        goal = next((v.value for v in (mp.planned if mp else []) if v.period.startswith(fy)), None)
        _put(ws, r, 1, metric_label(plan, m.metric))
        _put(ws, r, 2, goal)
        _input(ws, r, 3, m.actual)
        _formula(ws, r, 4, _variance(f"B{r}", f"C{r}"), "General")
        _input(ws, r, 5, STATUS_LABELS[m.status])
        _input(ws, r, 6, m.narrative)
        if sources is not None:
            _put(ws, r, len(METRICS_HEADER) + 1, sources.get(m.metric, NO_FIGURE))
    if r > 1:
        _validate(ws, _list_rule(list(STATUS_LABELS.values())), f"E2:E{r}")
        rule = DataValidation(
            type="decimal",
            operator="between",
            formula1=str(-MAX_COUNT),
            formula2=str(MAX_COUNT),
            allow_blank=True,
            showErrorMessage=True,
            error="A number (the metric's value to date)",
        )
        _validate(ws, rule, f"C2:C{r}")


def _conditions(ws: Worksheet, plan: Plan, report: QuarterReport) -> None:
    _header(ws, CONDITIONS_HEADER, (80, 12, 60))
    r = 1
    for r, c in enumerate(report.conditions, start=2):
        answer = None if c.confirmed is None else (YES if c.confirmed else NO)
        _put(ws, r, 1, condition_label(plan, c.id)).alignment = Alignment(wrap_text=True)
        _input(ws, r, 2, answer)
        _input(ws, r, 3, c.narrative)
    if r > 1:
        _validate(ws, _list_rule([YES, NO]), f"B2:B{r}")


def _dfg(ws: Worksheet, plan: Plan, report: QuarterReport) -> None:
    _header(ws, DFG_HEADER, (45, 20, 20, 20))
    fy = report.financial_year
    dfg = report.dfg
    rows = (
        (
            DFG_SPEND_ROW,
            planned_income(plan, fy, FundingSource.DISABLED_FACILITIES_GRANT),
            dfg.spend if dfg else None,
            _GBP,
        ),
        (DFG_ADAPTATIONS_ROW, None, dfg.adaptations if dfg else None, "#,##0"),
        (ADF_SPEND_ROW, planned_discharge_funding(plan, fy), report.discharge_funding_spend, _GBP),
    )
    for r, (label, planned, actual, fmt) in enumerate(rows, start=2):
        _put(ws, r, 1, label)
        _put(ws, r, 2, planned).number_format = fmt
        _input(ws, r, 3, actual, fmt)
        _formula(ws, r, 4, _variance(f"B{r}", f"C{r}"), fmt)
    _validate(ws, _money_rule(), "C2", "C4")
    _validate(ws, _count_rule(), "C3")


def _capacity(ws: Worksheet, plan: Plan, report: QuarterReport) -> None:
    _header(ws, CAPACITY_HEADER, (45, 10, 16, 16, 16, 16, 20))
    planned = {c.service: c for c in plan.capacity_demand}
    r = 1
    for r, row in enumerate(report.capacity_demand, start=2):
        plan_row = planned.get(row.service)
        _put(ws, r, 1, SERVICE_LABELS[row.service])
        _put(ws, r, 2, row.month)
        _put(ws, r, 3, plan_row.demand.get(row.month) if plan_row else None)
        _input(ws, r, 4, row.demand)
        _put(ws, r, 5, plan_row.capacity.get(row.month) if plan_row else None)
        _input(ws, r, 6, row.capacity)
        _formula(ws, r, 7, _variance(f"D{r}", f"F{r}"), "#,##0")
    if r > 1:
        _validate(ws, _count_rule(), f"D2:D{r}", f"F2:F{r}")


def _year_end(
    ws: Worksheet, plan: Plan, report: QuarterReport, n_schemes: int, n_streams: int
) -> None:
    _header(ws, YEAR_END_HEADER, (40, 45, 20, 20, 20))
    spend, income = f"'{SPEND}'", f"'{INCOME}'"
    for i in range(n_schemes):
        r = i + 2
        for col, src in ((1, "A"), (2, "B")):
            _formula(ws, r, col, f"={spend}!{src}{r}", "General")
        _formula(ws, r, 3, f"={spend}!D{r}")
        _formula(ws, r, 4, f"={spend}!F{r}")
        _formula(ws, r, 5, _variance(f"C{r}", f"D{r}"))
    r = n_schemes + 3
    last_scheme, last_stream = max(n_schemes + 1, 2), max(n_streams + 1, 2)
    _put(ws, r, 1, TOTAL_INCOME_ROW).font = _BOLD
    _formula(ws, r, 2, f"=SUM({income}!D2:D{last_stream})")
    _put(ws, r + 1, 1, TOTAL_SPEND_ROW).font = _BOLD
    _formula(ws, r + 1, 2, f"=SUM({spend}!F2:F{last_scheme})")
    _put(ws, r + 2, 1, BALANCE_ROW).font = _BOLD
    _formula(ws, r + 2, 2, f"=B{r}-B{r + 1}")
    _put(ws, r + 3, 1, CARRY_FORWARD_ROW).font = _BOLD
    _input(ws, r + 3, 2, report.carry_forward, _GBP)
    _validate(ws, _money_rule(), f"B{r + 3}")


def return_lines(plan: Plan, report: QuarterReport) -> list[tuple[str, str]]:
    """Every section of a return as (item, value) lines for people.

    What ``bettercare return read`` prints: spend, metrics and conditions, then
    :func:`further_lines`.
    """
    lines = [(f"spend {ref}", format_gbp(a)) for ref, a in report.actual_spend.items()]
    for m in report.metrics:
        actual = "" if m.actual is None else f" (actual {m.actual:g})"
        lines.append((metric_label(plan, m.metric), STATUS_LABELS[m.status] + actual))
    for c in report.conditions:
        answer = "not answered" if c.confirmed is None else ("confirmed" if c.confirmed else "no")
        lines.append((condition_label(plan, c.id), answer))
    return lines + further_lines(plan, report)


def further_lines(plan: Plan, report: QuarterReport) -> list[tuple[str, str]]:
    """Income, DFG, discharge funding, capacity and demand and carry-forward, in words.

    The sections beyond spend, metrics and conditions (the web page lists these under
    its tables of those three).
    """
    lines = [(f"income: {funding_label(s)}", format_gbp(a)) for s, a in report.income.items()]
    if report.dfg is not None:
        n = report.dfg.adaptations
        lines.append((DFG_SPEND_ROW, format_gbp(report.dfg.spend)))
        lines.append((DFG_ADAPTATIONS_ROW, "not stated" if n is None else f"{n:,}"))
    if report.discharge_funding_spend is not None:
        lines.append((ADF_SPEND_ROW, format_gbp(report.discharge_funding_spend)))
    for cd in report.capacity_demand:
        shown = [
            f"{what} {'not stated' if n is None else f'{n:,}'}"
            for what, n in (("demand", cd.demand), ("capacity", cd.capacity))
        ]
        lines.append((f"{SERVICE_LABELS[cd.service]}, {cd.month}", ", ".join(shown)))
    if report.quarter == 4:
        for ref, planned, actual, variance in reconciliation(plan, report):
            lines.append(
                (
                    f"outturn {ref} against plan",
                    f"{format_gbp(actual)} against {format_gbp(planned)}: {_signed(variance)}",
                )
            )
        lines.append((BALANCE_ROW, _signed(balance(report))))
        lines.append((CARRY_FORWARD_ROW, format_gbp(report.carry_forward)))
    return lines


def reconciliation(
    plan: Plan, report: QuarterReport
) -> list[tuple[str, Decimal | None, Decimal | None, Decimal | None]]:
    """Year end, by scheme: (reference, planned spend, actual spend, actual less planned).

    The figures the Year-End Reconciliation sheet's formulas show; the variance is None
    when either side is not stated.
    """
    by_ref = {s.reference: s for s in plan.schemes}
    rows = []
    for ref, actual in report.actual_spend.items():
        planned = plan.scheme_spend(by_ref[ref], report.financial_year)
        variance = actual - planned if actual is not None and planned is not None else None
        rows.append((ref, planned, actual, variance))
    return rows


def balance(report: QuarterReport) -> Decimal:
    """Income received less spend, year to date (amounts not stated count as nothing)."""
    income = sum((a for a in report.income.values() if a is not None), Decimal(0))
    spend = sum((a for a in report.actual_spend.values() if a is not None), Decimal(0))
    return income - spend


def _signed(amount: Decimal | None) -> str:
    """``-£200,000`` / ``£1,000`` (not stated: the money module's blank)."""
    if amount is None:
        return format_gbp(None)
    return ("-" if amount < 0 else "") + format_gbp(abs(amount))


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
