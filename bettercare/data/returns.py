"""BCF quarterly and year-end returns as XLSX: the layout, and reading a return back.

The layout is *modelled on* the national BCF quarterly reporting template: the
2015-16 Q4 template guidance lists its tabs as a cover sheet, national conditions,
income and expenditure, metrics and a narrative tab, with numeric inputs restricted
to 0-100,000,000, and metric progress reported as "On track", "Not on track" or "Data
not available" with a commentary. The 2025-26 template itself (its exact sheet names,
cells and any further tabs) could not be checked, so these sheets are ours: one
header row, then one row per scheme, metric or condition.

This module owns the layout constants and :func:`read_return` (the data layer reads
files); writing is :mod:`bettercare.reporting.returns`. A malformed spreadsheet raises
:class:`ReturnFileError` naming the sheet and the cell.
"""

from __future__ import annotations

import re
import zipfile
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from openpyxl import load_workbook  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]
from pydantic import ValidationError

from bettercare.domain.frameworks import framework_for_years
from bettercare.domain.plan import (
    MAX_MONEY,
    ConditionReturn,
    MetricReturn,
    MetricReturnStatus,
    Plan,
    QuarterReport,
)
from bettercare.domain.text import printable
from bettercare.errors import BadInput

#: A return is a few hundred cells; a larger file is refused before it is opened.
MAX_RETURN_BYTES = 5 * 1024 * 1024
#: Rows read from any sheet (a plan has tens of schemes).
MAX_ROWS = 5_000

COVER, SPEND, METRICS, CONDITIONS, NARRATIVE = (
    "Cover",
    "Income and Expenditure",
    "Metrics",
    "National Conditions",
    "Narrative",
)
SHEETS = (COVER, SPEND, METRICS, CONDITIONS, NARRATIVE)

#: Cover rows: label in column A, value in column B.
COVER_ROWS = (
    "Health and Wellbeing Board",
    "Plan",
    "Financial year",
    "Quarter",
    "Return",
    "Policy framework",
    "Illustrative figures",
)
SPEND_HEADER = (
    "Scheme reference",
    "Scheme name",
    "Funding sources",
    "Planned spend (year)",
    "Planned spend to date",
    "Actual spend to date",
    "Variance to date",
)
METRICS_HEADER = ("Metric", "Metric name", "Planned goal", "Status", "Narrative")
CONDITIONS_HEADER = ("Condition", "National condition", "Confirmed", "Narrative")

STATUS_LABELS = {
    MetricReturnStatus.ON_TRACK: "On track",
    MetricReturnStatus.NOT_ON_TRACK: "Not on track",
    MetricReturnStatus.DATA_NOT_AVAILABLE: "Data not available",
}
_STATUS_BY_LABEL = {label.lower(): status for status, label in STATUS_LABELS.items()}
YES, NO = "Yes", "No"

_QUARTER = re.compile(r"^\s*(\d{4}/\d{2})\s+Q([1-4])\s*$")


class ReturnError(BadInput):
    """A return that cannot be made or read for this plan (one line, no traceback)."""


class ReturnFileError(ReturnError):
    """A malformed return spreadsheet; the message names the sheet and the cell."""

    def __init__(self, path: Path, sheet: str, cell: str | None, problem: str):
        where = f"sheet '{sheet}'" + (f" cell {cell}" if cell else "")
        super().__init__(f"{printable(str(path))}: {where}: {printable(problem)}")
        self.sheet = sheet
        self.cell = cell


def parse_quarter(text: str) -> tuple[str, int]:
    """``'2025/26 Q2'`` -> ``('2025/26', 2)``; Q4 is the year-end return."""
    m = _QUARTER.match(text)
    if not m:
        raise ReturnError(f"'{printable(text)}' is not a quarter: write it as '2025/26 Q2'")
    return m[1], int(m[2])


def quarter_in_plan(plan: Plan, fy: str, quarter: int) -> None:
    """Refuse a quarter outside the plan's financial years."""
    if fy not in plan.financial_years:
        raise ReturnError(
            f"{fy} Q{quarter} is outside plan {plan.plan_id}, which covers "
            f"{', '.join(plan.financial_years)}"
        )


def return_label(quarter: int) -> str:
    """How the cover names the return: Q4 is the year-end return."""
    return "Year-end" if quarter == 4 else f"Quarter {quarter}"


def read_return(path: str | Path, plan: Plan) -> QuarterReport:
    """Read a return written in the layout above, checked against ``plan``.

    The cover must name the plan and a quarter inside it; every scheme, metric and
    condition must be the plan's (or its framework's); money must be a number from 0
    to £100bn. Raises :class:`ReturnFileError` naming sheet and cell, else returns the
    quarter's report as the plan file would hold it.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ReturnError(f"{printable(str(path))}: cannot read file: {exc.strerror}") from None
    if size > MAX_RETURN_BYTES:
        raise ReturnError(
            f"{printable(str(path))}: larger than {MAX_RETURN_BYTES // 2**20} MB, the limit "
            "for a return"
        )
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ReturnError(f"{printable(str(path))}: not an XLSX workbook ({exc})") from None
    try:
        rows = {name: _rows(book, name, path) for name in SHEETS}
    finally:
        book.close()
    fy, quarter = _read_cover(rows[COVER], path, plan)
    spend = _read_spend(rows[SPEND], path, plan)
    metrics = _read_metrics(rows[METRICS], path, plan)
    conditions = _read_conditions(rows[CONDITIONS], path, plan)
    try:
        return QuarterReport(
            financial_year=fy,
            quarter=quarter,
            actual_spend=spend,
            metrics=metrics,
            conditions=conditions,
            narrative=_text(_cell(rows[NARRATIVE], 2, 1)),
        )
    except ValidationError as exc:
        raise ReturnFileError(path, NARRATIVE, "A2", _why(exc)) from None


def _why(exc: ValidationError) -> str:
    """The first problem pydantic found, as one line."""
    return str(exc.errors()[0]["msg"]).removeprefix("Value error, ")


# -- helpers ----------------------------------------------------------------------

Rows = list[tuple[Any, ...]]


def _rows(book: Any, name: str, path: Path) -> Rows:
    if name not in book.sheetnames:
        raise ReturnFileError(path, name, None, "the sheet is missing")
    out: Rows = []
    for i, row in enumerate(book[name].iter_rows(values_only=True), start=1):
        if i > MAX_ROWS:
            raise ReturnFileError(path, name, f"A{i}", f"more than {MAX_ROWS:,} rows")
        out.append(tuple(row))
    return out


def _cell(rows: Rows, row: int, col: int) -> Any:
    """Value at 1-based (row, col), None beyond the data."""
    if row > len(rows) or col > len(rows[row - 1]):
        return None
    return rows[row - 1][col - 1]


def _ref(row: int, col: int) -> str:
    return f"{get_column_letter(col)}{row}"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _header(rows: Rows, header: tuple[str, ...], sheet: str, path: Path) -> None:
    for col, want in enumerate(header, start=1):
        got = _text(_cell(rows, 1, col))
        if got != want:
            raise ReturnFileError(
                path, sheet, _ref(1, col), f"header is {got!r}, expected {want!r}"
            )


def _body(rows: Rows) -> list[int]:
    """1-based row numbers after the header whose first cell is filled."""
    return [r for r in range(2, len(rows) + 1) if _text(_cell(rows, r, 1)) is not None]


def _read_cover(rows: Rows, path: Path, plan: Plan) -> tuple[str, int]:
    for r, label in enumerate(COVER_ROWS, start=1):
        if _text(_cell(rows, r, 1)) != label:
            raise ReturnFileError(path, COVER, _ref(r, 1), f"expected the label {label!r}")
    plan_id = _text(_cell(rows, 2, 2))
    if plan_id != plan.plan_id:
        raise ReturnFileError(
            path, COVER, "B2", f"the return is for plan {plan_id!r}, not {plan.plan_id!r}"
        )
    fy = _text(_cell(rows, 3, 2)) or ""
    q = _text(_cell(rows, 4, 2)) or ""
    try:
        fy, quarter = parse_quarter(f"{fy} {q}")
    except ReturnError as exc:
        raise ReturnFileError(path, COVER, "B3", str(exc)) from None
    try:
        quarter_in_plan(plan, fy, quarter)
    except ReturnError as exc:
        raise ReturnFileError(path, COVER, "B3", str(exc)) from None
    return fy, quarter


def _money(value: Any, path: Path, sheet: str, ref: str) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise ReturnFileError(path, sheet, ref, f"{value!r} is not an amount of money")
    try:
        amount = Decimal(str(value).replace(",", "").replace("£", "").strip())
    except InvalidOperation:
        raise ReturnFileError(path, sheet, ref, f"{value!r} is not an amount of money") from None
    if not amount.is_finite() or amount < 0 or amount >= MAX_MONEY:
        raise ReturnFileError(path, sheet, ref, f"{value!r} is not between £0 and £100bn")
    return amount


def _read_spend(rows: Rows, path: Path, plan: Plan) -> dict[str, Decimal | None]:
    _header(rows, SPEND_HEADER, SPEND, path)
    known = {s.reference for s in plan.schemes}
    spend: dict[str, Decimal | None] = {}
    for r in _body(rows):
        ref = _text(_cell(rows, r, 1)) or ""
        if ref not in known:
            raise ReturnFileError(path, SPEND, _ref(r, 1), f"scheme {ref!r} is not in the plan")
        if ref in spend:
            raise ReturnFileError(path, SPEND, _ref(r, 1), f"scheme {ref!r} appears twice")
        spend[ref] = _money(_cell(rows, r, 6), path, SPEND, _ref(r, 6))
    return spend


def _read_metrics(rows: Rows, path: Path, plan: Plan) -> list[MetricReturn]:
    _header(rows, METRICS_HEADER, METRICS, path)
    fw = framework_for_years(plan.financial_years)
    known = {m.metric for m in plan.metrics} | set(fw.metric_ids() if fw else ())
    out: list[MetricReturn] = []
    for r in _body(rows):
        metric = _text(_cell(rows, r, 1)) or ""
        if metric not in known:
            raise ReturnFileError(
                path, METRICS, _ref(r, 1), f"metric {metric!r} is not in the plan or its framework"
            )
        label = (_text(_cell(rows, r, 4)) or "").lower()
        status = _STATUS_BY_LABEL.get(label)
        if status is None:
            raise ReturnFileError(
                path,
                METRICS,
                _ref(r, 4),
                f"{_cell(rows, r, 4)!r} is not a status ({', '.join(STATUS_LABELS.values())})",
            )
        try:
            out.append(
                MetricReturn(metric=metric, status=status, narrative=_text(_cell(rows, r, 5)))
            )
        except ValidationError as exc:
            raise ReturnFileError(path, METRICS, _ref(r, 5), _why(exc)) from None
    return out


def _read_conditions(rows: Rows, path: Path, plan: Plan) -> list[ConditionReturn]:
    _header(rows, CONDITIONS_HEADER, CONDITIONS, path)
    fw = framework_for_years(plan.financial_years)
    known = set(fw.condition_ids() if fw else ()) | {c.id for c in plan.national_conditions}
    out: list[ConditionReturn] = []
    for r in _body(rows):
        cid = _text(_cell(rows, r, 1)) or ""
        if cid not in known:
            raise ReturnFileError(
                path, CONDITIONS, _ref(r, 1), f"condition {cid!r} is not in the plan's framework"
            )
        answer = _text(_cell(rows, r, 3))
        if answer not in (YES, NO, None):
            raise ReturnFileError(
                path, CONDITIONS, _ref(r, 3), f"{answer!r} is not '{YES}', '{NO}' or blank"
            )
        confirmed = None if answer is None else answer == YES
        try:
            out.append(
                ConditionReturn(id=cid, confirmed=confirmed, narrative=_text(_cell(rows, r, 4)))
            )
        except ValidationError as exc:
            raise ReturnFileError(path, CONDITIONS, _ref(r, 4), _why(exc)) from None
    return out
