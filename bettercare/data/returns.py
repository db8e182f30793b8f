"""BCF quarterly and year-end returns as XLSX: the layout, and reading a return back safely.

What is known of the national template, and what is ours (see ``docs/returns.md``):

* The 2015-16 Q4 template guidance lists its tabs as a cover sheet, national conditions,
  income and expenditure, metrics and a narrative tab, with numeric inputs restricted to
  0-100,000,000, and metric progress reported as "On track", "Not on track" or "Data not
  available" with a commentary.
* Quarterly returns (Q1-Q3) are still approved by boards in 2024-26: North Yorkshire HWB,
  "approval of the 2024/25 Qtr 1, Qtr 2 and Qtr 3 monitoring returns" (14 March and 16
  May 2025, edemocracy.northyorks.gov.uk); Brighton & Hove HWB, "Better Care Fund Report"
  (3 March 2026): the 2025/26 Q3 return reports the national conditions met, progress on
  the three headline metrics and spend against the planned expenditure profile.
* 2023-25: Additional Discharge Funding was reported on separately through the year
  (NHS England, BCF policy and planning page, england.nhs.uk/ourwork/part-rel/
  transformation-fund/better-care-fund/policy-and-planning/: "fortnightly reports").

The sheets below are *modelled on* that: their names, columns and cells, the income,
DFG, discharge funding, capacity and demand and year-end reconciliation sheets, and the
even spend profile are ours (the 2025-26 template's exact layout could not be checked).
Each table has one header row, then one row per scheme, stream, metric, condition or
service-month, named by its label (never a code).

This module owns the layout constants and :func:`read_return` (the data layer reads
files); writing is :mod:`bettercare.reporting.returns`. The reader refuses, naming the
sheet and the cell, anything that would lose a value silently: a formula (a DDE formula
or an external link included), an error value (``#REF!``), a date or a non-finite number
(``inf``, ``nan``) where an amount belongs; text where a number belongs. A workbook with a
DOCTYPE or XML entities is refused whole (defusedxml parses every part first).
"""

from __future__ import annotations

import datetime as dt
import math
import zipfile
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bettercare.domain.frameworks import framework_for_years
from bettercare.domain.metrics import CATALOGUE
from bettercare.domain.periods import parse_financial_year, parse_fy_quarter
from bettercare.domain.plan import (
    MAX_COUNT,
    MAX_MONEY,
    CapacityDemandActual,
    CareService,
    ConditionReturn,
    DfgReturn,
    FundingSource,
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
#: Parts of an XLSX package, and their size once unzipped (a zip bomb is refused).
MAX_PARTS = 200
MAX_UNZIPPED_BYTES = 50 * 1024 * 1024

GUIDANCE = "Guidance"
COVER = "Cover"
SPEND = "Income and Expenditure"
INCOME = "Income by Funding Stream"
METRICS = "Metrics"
CONDITIONS = "National Conditions"
DFG_ADF = "DFG and Discharge Funding"
CAPACITY = "Capacity and Demand"
NARRATIVE = "Narrative"
YEAR_END = "Year-End Reconciliation"
#: The sheets of a quarterly (Q1-Q3) return, in order; the year-end return adds YEAR_END.
SHEETS = (GUIDANCE, COVER, SPEND, INCOME, METRICS, CONDITIONS, DFG_ADF, CAPACITY, NARRATIVE)


def sheets_for(quarter: int) -> tuple[str, ...]:
    """The sheets of the return for ``quarter`` (Q4, the year-end return, adds one)."""
    return (*SHEETS, YEAR_END) if quarter == 4 else SHEETS


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
INCOME_HEADER = (
    "Funding stream",
    "Planned income (year)",
    "Planned income to date",
    "Actual income to date",
    "Variance to date",
)
METRICS_HEADER = (
    "Metric",
    "Planned goal (year)",
    "Actual to date",
    "Variance",
    "Status",
    "Narrative",
)
CONDITIONS_HEADER = ("National condition", "Confirmed", "Narrative")
DFG_HEADER = ("Item", "Planned (year)", "Actual to date", "Variance")
CAPACITY_HEADER = (
    "Service",
    "Month",
    "Planned demand",
    "Actual demand",
    "Planned capacity",
    "Actual capacity",
    "Actual capacity less demand",
)
YEAR_END_HEADER = (
    "Scheme reference",
    "Scheme name",
    "Planned spend (year)",
    "Actual spend (year)",
    "Variance",
)

#: DFG and discharge funding rows (column A), in order, from row 2.
DFG_SPEND_ROW = "Disabled Facilities Grant spend"
DFG_ADAPTATIONS_ROW = "Adaptations completed (DFG)"
ADF_SPEND_ROW = "Additional Discharge Funding spend"
DFG_ROWS = (DFG_SPEND_ROW, DFG_ADAPTATIONS_ROW, ADF_SPEND_ROW)
#: Year-end summary rows below the schemes (column A label, column B value).
TOTAL_INCOME_ROW = "Total income received (year)"
TOTAL_SPEND_ROW = "Total spend (year)"
BALANCE_ROW = "Balance: income less spend"
CARRY_FORWARD_ROW = "Underspend carried forward to next year"

STATUS_LABELS = {
    MetricReturnStatus.ON_TRACK: "On track",
    MetricReturnStatus.NOT_ON_TRACK: "Not on track",
    MetricReturnStatus.DATA_NOT_AVAILABLE: "Data not available",
}
_STATUS_BY_LABEL = {label.lower(): status for status, label in STATUS_LABELS.items()}
YES, NO = "Yes", "No"

#: Funding streams as a return names them (labels, not the plan file's codes).
FUNDING_LABELS: dict[FundingSource, str] = {
    FundingSource.CCG_MINIMUM: "CCG minimum contribution",
    FundingSource.DISABLED_FACILITIES_GRANT: "Disabled Facilities Grant",
    FundingSource.SOCIAL_CARE_CAPITAL_GRANT: "Social care capital grant",
    FundingSource.ADDITIONAL_LA: "Additional local authority contribution",
    FundingSource.ADDITIONAL_CCG: "Additional CCG contribution",
    FundingSource.CARERS_BREAKS: "Carers' breaks funding",
    FundingSource.REABLEMENT: "Reablement funding",
    FundingSource.CARE_ACT: "Care Act funding",
    FundingSource.SOCIAL_CARE_TRANSFER: "Social care transfer (NHS to social care)",
    FundingSource.IMPROVED_BCF: "Improved Better Care Fund grant",
    FundingSource.ICB_MINIMUM: "NHS minimum contribution (ICB)",
    FundingSource.LOCAL_AUTHORITY_BCF_GRANT: "Local Authority Better Care Grant",
    FundingSource.ADDITIONAL_ICB: "Additional ICB contribution",
    FundingSource.ADDITIONAL_DISCHARGE_FUND: "Additional Discharge Fund",
    FundingSource.OTHER: "Other contribution",
}
#: Intermediate-care services as a return names them.
SERVICE_LABELS: dict[CareService, str] = {
    CareService.DISCHARGE_PATHWAY_0: "Discharge pathway 0 (home, no new support)",
    CareService.DISCHARGE_PATHWAY_1: "Discharge pathway 1 (home with support)",
    CareService.DISCHARGE_PATHWAY_2: "Discharge pathway 2 (bedded rehabilitation)",
    CareService.DISCHARGE_PATHWAY_3: "Discharge pathway 3 (care home)",
    CareService.COMMUNITY_REFERRALS: "Community referrals (step-up)",
}


def funding_label(source: FundingSource | str) -> str:
    """A funding stream's label (the code itself for one with no label)."""
    try:
        return FUNDING_LABELS[FundingSource(source)]
    except ValueError:
        return str(source)


def metric_label(plan: Plan, metric: str) -> str:
    """A metric's name: the catalogue's, else the plan's, else its id in words."""
    if metric in CATALOGUE:
        return CATALOGUE[metric].name
    mp = plan.metric_plan(metric)
    return (mp.name if mp and mp.name else None) or metric.replace("_", " ")


def condition_label(plan: Plan, condition: str) -> str:
    """A national condition's wording in the plan's framework (its id in words otherwise)."""
    fw = framework_for_years(plan.financial_years)
    texts = {c.id: c.text for c in fw.conditions} if fw else {}
    return texts.get(condition) or condition.replace("_", " ").capitalize()


class ReturnError(BadInput):
    """A return that cannot be made or read for this plan (one line, no traceback)."""


class ReturnFileError(ReturnError):
    """A malformed return spreadsheet; the message names the sheet and the cell."""

    def __init__(self, path: Path, sheet: str, cell: str | None, problem: str):
        where = f"sheet '{printable(sheet)}'" + (f" cell {cell}" if cell else "")
        super().__init__(f"{printable(str(path))}: {where}: {printable(problem)}")
        self.sheet = sheet
        self.cell = cell


def parse_quarter(text: str) -> tuple[str, int]:
    """``'2025-26 Q2'`` or ``'2025/26 Q2'`` -> ``('2025/26', 2)``; Q4 is the year-end return.

    Both notations of the year (:func:`bettercare.domain.periods.parse_fy_quarter`).
    """
    try:
        return parse_fy_quarter(text)
    except ValueError as exc:
        raise ReturnError(printable(str(exc))) from None


#: Return kinds as the CLI names them: three quarterly returns and the year-end return.
KINDS = {"q1": 1, "q2": 2, "q3": 3, "year-end": 4}


def parse_kind(year: str, kind: str) -> tuple[str, int]:
    """``('2025/26', 'year-end')`` -> ``('2025/26', 4)``; kinds are q1, q2, q3, year-end."""
    q = KINDS.get(kind.strip().lower())
    if q is None:
        raise ReturnError(f"'{printable(kind)}' is not a kind of return: use {', '.join(KINDS)}")
    try:
        fy = parse_financial_year(year)
    except ValueError as exc:
        raise ReturnError(printable(str(exc))) from None
    return fy, q


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


def quarter_months(fy: str, quarter: int) -> list[str]:
    """The three months (``YYYY-MM``) of a quarter of financial year ``fy``."""
    start = int(fy[:4])
    out = []
    for i in range(3):
        m = 4 + (quarter - 1) * 3 + i
        year, month = (start, m) if m <= 12 else (start + 1, m - 12)
        out.append(f"{year}-{month:02d}")
    return out


def read_return(path: str | Path, plan: Plan) -> QuarterReport:
    """Read a return written in the layout above, checked against ``plan``.

    The cover must name the plan and a quarter inside it; every scheme, stream, metric
    and condition must be the plan's (or its framework's); money must be a number from
    0 to £100bn. Raises :class:`ReturnError` (:class:`ReturnFileError` naming sheet and
    cell) for anything else, else returns the quarter's report as the plan file would
    hold it.
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
    check_package(path)
    grids = _load(path)
    fy, quarter = _read_cover(grids[COVER], plan)
    for name in sheets_for(quarter):
        if name != GUIDANCE and name not in grids:
            raise ReturnFileError(path, name, None, "the sheet is missing")
    dfg, adf = _read_dfg(grids[DFG_ADF])
    report: dict[str, Any] = {
        "financial_year": fy,
        "quarter": quarter,
        "income": _read_income(grids[INCOME]),
        "actual_spend": _read_spend(grids[SPEND], plan),
        "dfg": dfg,
        "discharge_funding_spend": adf,
        "metrics": _read_metrics(grids[METRICS], plan),
        "capacity_demand": _read_capacity(grids[CAPACITY], fy),
        "conditions": _read_conditions(grids[CONDITIONS], plan),
        "narrative": grids[NARRATIVE].text(2, 1),
    }
    if quarter == 4:
        report["carry_forward"] = _read_year_end(grids[YEAR_END])
    try:
        return QuarterReport(**report)
    except ValidationError as exc:
        raise ReturnFileError(path, NARRATIVE, "A2", _why(exc)) from None


def _why(exc: ValidationError) -> str:
    """The first problem pydantic found, as one line."""
    return str(exc.errors()[0]["msg"]).removeprefix("Value error, ")


# -- the package: refused before openpyxl parses it ---------------------------------

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def check_package(path: Path) -> None:
    """Refuse an XLSX package that is unsafe or would break the reader, in one line.

    Every XML part is parsed with defusedxml first (no DOCTYPE, no entities, no
    external references: billion laughs and XXE are refused whole); the parts are
    bounded in number and unzipped size; and a number cell holding ``inf``, ``nan`` or
    an overflow (``1E999``) is named by sheet and cell (openpyxl itself would stop on
    it with a traceback, or read infinity).
    """
    import defusedxml  # type: ignore[import-untyped]  # only reading a return needs it
    from defusedxml.ElementTree import fromstring  # type: ignore[import-untyped]

    name = printable(str(path))
    try:
        book = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ReturnError(f"{name}: not an XLSX workbook ({exc})") from None
    with book:
        infos = book.infolist()
        if len(infos) > MAX_PARTS:
            raise ReturnError(f"{name}: not a return: more than {MAX_PARTS} parts in the workbook")
        parts: dict[str, Any] = {}
        unzipped = 0
        for info in infos:
            # The parts openpyxl parses. Legacy VML drawings (comments) are often not
            # well-formed XML and openpyxl's read-only mode never reads them.
            if not info.filename.endswith((".xml", ".rels")):
                continue
            try:
                with book.open(info) as fh:
                    data = fh.read(MAX_UNZIPPED_BYTES - unzipped + 1)
            except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:
                raise ReturnError(f"{name}: not an XLSX workbook ({exc})") from None
            unzipped += len(data)
            if unzipped > MAX_UNZIPPED_BYTES:
                raise ReturnError(
                    f"{name}: not a return: more than {MAX_UNZIPPED_BYTES // 2**20} MB unzipped"
                )
            try:
                parts[info.filename] = fromstring(data, forbid_dtd=True)
            except defusedxml.DefusedXmlException as exc:
                raise ReturnError(
                    f"{name}: part {printable(info.filename)} holds a DOCTYPE or XML entities "
                    f"({type(exc).__name__}), which a return never needs: refused"
                ) from None
            except Exception as exc:  # xml.etree.ElementTree.ParseError and kin
                raise ReturnError(
                    f"{name}: part {printable(info.filename)} is not well-formed XML ({exc})"
                ) from None
    for sheet, part in _sheet_parts(parts).items():
        _finite_numbers(path, sheet, part)


def _sheet_parts(parts: dict[str, Any]) -> dict[str, Any]:
    """Sheet name -> its parsed worksheet XML, through the workbook's relationships."""
    workbook, rels = parts.get("xl/workbook.xml"), parts.get("xl/_rels/workbook.xml.rels")
    if workbook is None or rels is None:
        return {}
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{_PKG_REL}Relationship")}
    out: dict[str, Any] = {}
    for sheet in workbook.iter(f"{_MAIN}sheet"):
        target = targets.get(sheet.get(f"{_REL}id"), "")
        key = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        if key in parts:
            out[str(sheet.get("name"))] = parts[key]
    return out


def _finite_numbers(path: Path, sheet: str, root: Any) -> None:
    """Every number cell holds a finite number, every date cell a date, every boolean 0/1.

    (openpyxl would stop with a traceback on the malformed ones, or read infinity.)
    """
    for cell in root.iter(f"{_MAIN}c"):
        kind = cell.get("t")
        v = cell.find(f"{_MAIN}v")
        if kind not in (None, "n", "d", "b") or v is None or v.text is None:
            continue
        text = v.text.strip()
        if kind == "d":
            ok, want = _iso_date(text), "a date"
        elif kind == "b":
            ok, want = text in ("0", "1"), "TRUE or FALSE"
        else:
            try:
                ok = math.isfinite(float(text))
            except ValueError:
                ok = False
            want = "a finite number"
        if not ok:
            raise ReturnFileError(path, sheet, cell.get("r"), f"holds {text[:20]!r}, not {want}")


def _iso_date(text: str) -> bool:
    """Whether ``text`` is an ISO 8601 date or date-time (a ``t="d"`` cell's value)."""
    try:
        dt.datetime.fromisoformat(text.removesuffix("Z"))
    except ValueError:
        return False
    return True


# -- cells --------------------------------------------------------------------------


def _ref(row: int, col: int) -> str:
    from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

    return f"{get_column_letter(col)}{row}"


class Grid:
    """One sheet's cells as read (value and openpyxl data type), read with located errors."""

    def __init__(self, path: Path, name: str, rows: list[list[tuple[Any, str]]]):
        """``rows``: 1-based rows of (value, data type) as openpyxl read them."""
        self.path, self.name, self.rows = path, name, rows

    def __len__(self) -> int:
        """Rows read."""
        return len(self.rows)

    def error(self, row: int, col: int | None, problem: str) -> ReturnFileError:
        """A located error in this sheet."""
        return ReturnFileError(self.path, self.name, _ref(row, col) if col else None, problem)

    def raw(self, row: int, col: int) -> tuple[Any, str]:
        """(value, data type) at 1-based (row, col); (None, 'n') beyond the data."""
        if row > len(self.rows) or col > len(self.rows[row - 1]):
            return None, "n"
        return self.rows[row - 1][col - 1]

    def value(self, row: int, col: int, want: str) -> Any:
        """The cell's value, refusing what would lose it: formulas and error values."""
        value, kind = self.raw(row, col)
        if kind == "f":
            text = str(getattr(value, "text", value))
            what = (
                "a DDE formula"
                if "|" in text
                else "an external link"
                if "[" in text
                else "a formula"
            )
            raise self.error(
                row, col, f"holds {what} ({text[:40]!r}); type the {want} itself, not a formula"
            )
        if kind == "e":
            raise self.error(row, col, f"holds the error value {str(value)[:20]}, not {want}")
        return value

    def text(self, row: int, col: int) -> str | None:
        """Text (numbers and dates as written); None when blank."""
        value = self.value(row, col, "text")
        if value is None:
            return None
        if isinstance(value, dt.datetime | dt.date | dt.time):
            value = value.isoformat()
        text = str(value).strip()
        return text or None

    def _number(self, row: int, col: int, want: str) -> Decimal | None:
        value = self.value(row, col, want)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, dt.datetime | dt.date | dt.time | dt.timedelta):
            raise self.error(row, col, f"holds a date ({value}), not {want}")
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
            raise self.error(row, col, f"{value!r} is not {want}")
        try:
            number = Decimal(str(value).replace(",", "").replace("£", "").strip())
        except InvalidOperation:
            raise self.error(row, col, f"{value!r} is not {want}") from None
        if not number.is_finite():
            raise self.error(row, col, f"{value!r} is not a finite number")
        return number

    def money(self, row: int, col: int) -> Decimal | None:
        """An amount of money from £0 to £100bn; None when blank."""
        amount = self._number(row, col, "an amount of money")
        if amount is not None and not 0 <= amount < MAX_MONEY:
            raise self.error(row, col, f"{self.raw(row, col)[0]!r} is not between £0 and £100bn")
        return amount

    def count(self, row: int, col: int) -> int | None:
        """A whole number from 0 to 100 million; None when blank."""
        n = self._number(row, col, "a count")
        if n is None:
            return None
        if n != n.to_integral_value() or not 0 <= n <= MAX_COUNT:
            raise self.error(
                row, col, f"{self.raw(row, col)[0]!r} is not a whole number of 0 or more"
            )
        return int(n)

    def measure(self, row: int, col: int) -> float | None:
        """A metric value (any finite number within +/-100 million); None when blank."""
        n = self._number(row, col, "a number")
        if n is None:
            return None
        if abs(n) > MAX_COUNT:
            raise self.error(row, col, f"{self.raw(row, col)[0]!r} is out of range")
        return float(n)

    def header(self, header: tuple[str, ...]) -> None:
        """Row 1 must be ``header``."""
        for col, want in enumerate(header, start=1):
            got = self.text(1, col)
            if got != want:
                raise self.error(1, col, f"header is {got!r}, expected {want!r}")

    def body(self) -> Iterator[int]:
        """1-based row numbers after the header whose first cell is filled."""
        for r in range(2, len(self.rows) + 1):
            if self.text(r, 1) is not None:
                yield r

    def lookup(self, row: int, col: int, known: dict[str, Any], what: str) -> Any:
        """The item a label names (case and spacing ignored), else a located error."""
        label = self.text(row, col) or ""
        key = " ".join(label.lower().split())
        if key not in known:
            raise self.error(row, col, f"{what} {label!r} is not {_KNOWN_IN[what]}")
        return known[key]


_KNOWN_IN = {
    "scheme": "in the plan",
    "funding stream": "a funding stream",
    "metric": "in the plan or its framework",
    "condition": "in the plan's framework",
    "service": "an intermediate-care service",
}


def _keyed(pairs: dict[str, Any]) -> dict[str, Any]:
    """Labels folded (lower case, single spaces) for :meth:`Grid.lookup`."""
    return {" ".join(k.lower().split()): v for k, v in pairs.items()}


def _load(path: Path) -> dict[str, Grid]:
    """Every sheet of the workbook as a :class:`Grid` (formulas kept as formulas)."""
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    name = printable(str(path))
    try:
        book = load_workbook(path, read_only=True, data_only=False, keep_links=False)
    except Exception as exc:  # an untrusted file may trip openpyxl anywhere: one line
        raise ReturnError(f"{name}: not an XLSX workbook ({type(exc).__name__})") from None
    grids: dict[str, Grid] = {}
    try:
        for sheet in book.sheetnames:
            if sheet == GUIDANCE:
                continue
            rows: list[list[tuple[Any, str]]] = []
            try:
                for i, row in enumerate(book[sheet].iter_rows(), start=1):
                    if i > MAX_ROWS:
                        raise ReturnFileError(path, sheet, f"A{i}", f"more than {MAX_ROWS:,} rows")
                    rows.append([(c.value, getattr(c, "data_type", "n")) for c in row])
            except ReturnError:
                raise
            except Exception as exc:
                raise ReturnFileError(
                    path, sheet, None, f"could not be read ({type(exc).__name__})"
                ) from None
            grids[sheet] = Grid(path, sheet, rows)
    finally:
        book.close()
    if COVER not in grids:
        raise ReturnFileError(path, COVER, None, "the sheet is missing")
    return grids


# -- sheets -------------------------------------------------------------------------


def _read_cover(g: Grid, plan: Plan) -> tuple[str, int]:
    for r, label in enumerate(COVER_ROWS, start=1):
        if g.text(r, 1) != label:
            raise g.error(r, 1, f"expected the label {label!r}")
    plan_id = g.text(2, 2)
    if plan_id != plan.plan_id:
        raise g.error(2, 2, f"the return is for plan {plan_id!r}, not {plan.plan_id!r}")
    fy = g.text(3, 2) or ""
    q = g.text(4, 2) or ""
    try:
        fy, quarter = parse_quarter(f"{fy} {q}")
        quarter_in_plan(plan, fy, quarter)
    except ReturnError as exc:
        raise g.error(3, 2, str(exc)) from None
    return fy, quarter


def _unique(g: Grid, seen: set[Any], key: Any, row: int, what: str) -> None:
    if key in seen:
        raise g.error(row, 1, f"{what} {g.text(row, 1)!r} appears twice")
    seen.add(key)


def _read_spend(g: Grid, plan: Plan) -> dict[str, Decimal | None]:
    g.header(SPEND_HEADER)
    known = _keyed({s.reference: s.reference for s in plan.schemes})
    spend: dict[str, Decimal | None] = {}
    for r in g.body():
        ref = g.lookup(r, 1, known, "scheme")
        _unique(g, set(spend), ref, r, "scheme")
        spend[ref] = g.money(r, 6)
    return spend


def _read_income(g: Grid) -> dict[FundingSource, Decimal | None]:
    g.header(INCOME_HEADER)
    known = _keyed({label: src for src, label in FUNDING_LABELS.items()})
    income: dict[FundingSource, Decimal | None] = {}
    for r in g.body():
        src = g.lookup(r, 1, known, "funding stream")
        _unique(g, set(income), src, r, "funding stream")
        income[src] = g.money(r, 4)
    return income


def _known_metrics(plan: Plan) -> dict[str, str]:
    fw = framework_for_years(plan.financial_years)
    ids = [m.metric for m in plan.metrics] + list(fw.metric_ids() if fw else ())
    return _keyed({metric_label(plan, m): m for m in ids})


def _read_metrics(g: Grid, plan: Plan) -> list[MetricReturn]:
    g.header(METRICS_HEADER)
    known = _known_metrics(plan)
    out: list[MetricReturn] = []
    seen: set[str] = set()
    for r in g.body():
        metric = g.lookup(r, 1, known, "metric")
        _unique(g, seen, metric, r, "metric")
        label = (g.text(r, 5) or "").lower()
        status = _STATUS_BY_LABEL.get(label)
        if status is None:
            raise g.error(
                r, 5, f"{g.raw(r, 5)[0]!r} is not a status ({', '.join(STATUS_LABELS.values())})"
            )
        actual = g.measure(r, 3)
        try:
            out.append(
                MetricReturn(metric=metric, status=status, actual=actual, narrative=g.text(r, 6))
            )
        except ValidationError as exc:
            raise g.error(r, 6, _why(exc)) from None
    return out


def _read_conditions(g: Grid, plan: Plan) -> list[ConditionReturn]:
    g.header(CONDITIONS_HEADER)
    fw = framework_for_years(plan.financial_years)
    ids = list(fw.condition_ids() if fw else ()) + [c.id for c in plan.national_conditions]
    known = _keyed({condition_label(plan, c): c for c in ids})
    out: list[ConditionReturn] = []
    seen: set[str] = set()
    for r in g.body():
        cid = g.lookup(r, 1, known, "condition")
        _unique(g, seen, cid, r, "condition")
        answer = g.text(r, 2)
        if answer not in (YES, NO, None):
            raise g.error(r, 2, f"{answer!r} is not '{YES}', '{NO}' or blank")
        confirmed = None if answer is None else answer == YES
        try:
            out.append(ConditionReturn(id=cid, confirmed=confirmed, narrative=g.text(r, 3)))
        except ValidationError as exc:
            raise g.error(r, 3, _why(exc)) from None
    return out


def _labelled_rows(g: Grid, labels: tuple[str, ...]) -> None:
    for r, label in enumerate(labels, start=2):
        if g.text(r, 1) != label:
            raise g.error(r, 1, f"expected the label {label!r}")


def _read_dfg(g: Grid) -> tuple[DfgReturn | None, Decimal | None]:
    g.header(DFG_HEADER)
    _labelled_rows(g, DFG_ROWS)
    spend, adaptations = g.money(2, 3), g.count(3, 3)
    dfg = (
        None
        if spend is None and adaptations is None
        else DfgReturn(spend=spend, adaptations=adaptations)
    )
    return dfg, g.money(4, 3)


def _read_capacity(g: Grid, fy: str) -> list[CapacityDemandActual]:
    g.header(CAPACITY_HEADER)
    known = _keyed({label: s for s, label in SERVICE_LABELS.items()})
    months = {m for q in (1, 2, 3, 4) for m in quarter_months(fy, q)}
    out: list[CapacityDemandActual] = []
    seen: set[tuple[CareService, str]] = set()
    for r in g.body():
        service = g.lookup(r, 1, known, "service")
        month = g.text(r, 2) or ""
        if month not in months:
            raise g.error(r, 2, f"{month!r} is not a month of {fy} (write it as {fy[:4]}-04)")
        _unique(g, seen, (service, month), r, "service and month")
        out.append(
            CapacityDemandActual(
                service=service, month=month, demand=g.count(r, 4), capacity=g.count(r, 6)
            )
        )
    return out


def _read_year_end(g: Grid) -> Decimal | None:
    g.header(YEAR_END_HEADER)
    # Column A above the summary holds formulas (scheme references): compare raw values.
    rows = [r for r in range(2, len(g) + 1) if g.raw(r, 1)[0] == CARRY_FORWARD_ROW]
    if not rows:
        raise g.error(len(g) + 1, 1, f"no row labelled {CARRY_FORWARD_ROW!r}")
    return g.money(rows[0], 2)
