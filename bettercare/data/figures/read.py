"""Read one figures file (Fingertips export or bettercare CSV) into validated rows.

Every problem is located (``file: row N, column C: rule``) and collected; when there is
any, :class:`~bettercare.data.figures.layouts.FiguresRejected` is raised with all of
them and nothing is returned to load. Rows bettercare does not use (Fingertips
indicators with no confirmed mapping, breakdowns by sex, age group or category, areas
other than England, regions, ICBs and HWBs) are skipped and counted, not errors.
"""

from __future__ import annotations

import csv
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bettercare.data.figures.layouts import (
    BETTERCARE,
    BETTERCARE_OPTIONAL,
    BETTERCARE_REQUIRED,
    FINGERTIPS,
    FINGERTIPS_INDICATORS,
    FINGERTIPS_REQUIRED,
    SUPPRESSED_MARKERS,
    FigureRow,
    FiguresRejected,
    area_type_of,
)
from bettercare.domain.metrics import CATALOGUE, Unit
from bettercare.domain.periods import validate_period

MAX_FINDINGS = 50
_FT_RANGE = re.compile(r"^(\d{4})\s*-\s*(\d{2})$")  # Fingertips "2018 - 20" (3 calendar years)


@dataclass
class ReadResult:
    """The rows of a figures file and what was skipped (reason -> rows)."""

    layout: str
    rows: list[FigureRow]
    skipped: Counter[str] = field(default_factory=Counter)


def _layout_of(header: list[str], name: str) -> str:
    if all(c in header for c in FINGERTIPS_REQUIRED):
        return FINGERTIPS
    if all(c in header for c in BETTERCARE_REQUIRED):
        return BETTERCARE
    ft = [c for c in FINGERTIPS_REQUIRED if c not in header]
    bc = [c for c in BETTERCARE_REQUIRED if c not in header]
    raise FiguresRejected(
        [
            f"{name}: row 1 (header): not a figures file: a Fingertips export lacks "
            f"{', '.join(ft[:4])}{'...' if len(ft) > 4 else ''}; a bettercare figures CSV "
            f"lacks {', '.join(bc)} (see docs/figures.md)"
        ]
    )


def _fingertips_period(text: str) -> str:
    """A Fingertips time period in bettercare's period grammar."""
    text = text.strip()
    if m := _FT_RANGE.match(text):
        start = int(m[1])
        end = start // 100 * 100 + int(m[2])
        if end < start:
            end += 100
        return f"{start}-01..{end}-12"
    return text


class _Row:
    """Parsing one row, collecting its located findings."""

    def __init__(self, name: str, lineno: int, findings: list[str]) -> None:
        self.where = f"{name}: row {lineno}"
        self.findings = findings
        self.suppressed = False

    def bad(self, column: str, rule: str) -> None:
        self.findings.append(f"{self.where}, column {column}: {rule}")

    def number(self, raw: str | None, column: str, *, non_negative: bool = False) -> float | None:
        text = (raw or "").strip().replace(",", "")
        if text == "":
            return None
        if text in SUPPRESSED_MARKERS:
            self.suppressed = True
            return None
        try:
            x = float(text)
        except ValueError:
            self.bad(column, f"'{raw}' is not a number (or a suppression marker * .. c x :)")
            return None
        if not math.isfinite(x):
            self.bad(column, f"'{raw}' is not a finite number")
            return None
        if non_negative and x < 0:
            self.bad(column, f"{raw} is negative")
            return None
        return x


def _check(row: _Row, fig: dict[str, float | None], metric: str) -> None:
    """Rules across the numbers of one row."""
    num, den, val = fig["numerator"], fig["denominator"], fig["value"]
    if den is not None and den == 0 and num not in (None, 0):
        row.bad("denominator", "is 0 while the numerator is not")
    unit = CATALOGUE[metric].unit
    if unit == Unit.PERCENT:
        if num is not None and den is not None and num > den:
            row.bad("numerator", f"{num:g} exceeds the denominator {den:g} for a percentage")
        if val is not None and not 0 <= val <= 100:
            row.bad("value", f"{val:g} is not a percentage (0-100)")
    for lo, hi in (("lower_95", "upper_95"), ("lower_998", "upper_998")):
        lo_v, hi_v = fig[lo], fig[hi]
        if lo_v is not None and hi_v is not None and lo_v > hi_v:
            row.bad(lo, f"lower limit {lo_v:g} is above the upper limit {hi_v:g}")
        if val is not None and lo_v is not None and hi_v is not None and not lo_v <= val <= hi_v:
            row.bad("value", f"{val:g} lies outside its limits {lo_v:g}..{hi_v:g}")
    if not row.suppressed and val is None and num is None:
        row.bad("value", "is empty: give a value, a count, or a suppression marker")


def read_figures_file(path: Path) -> ReadResult:
    """Read and validate ``path``; :class:`FiguresRejected` lists every located problem."""
    name = str(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = [h.strip() for h in next(reader, [])]
            records = list(reader)
    except FileNotFoundError:
        raise FiguresRejected([f"{name}: no such file"]) from None
    except IsADirectoryError:
        raise FiguresRejected([f"{name}: is a directory, not a CSV file"]) from None
    except UnicodeDecodeError as exc:
        raise FiguresRejected([f"{name}: not UTF-8 text (byte {exc.start})"]) from None
    except csv.Error as exc:
        raise FiguresRejected([f"{name}: not a readable CSV file ({exc})"]) from None
    if not header or header == [""]:
        raise FiguresRejected([f"{name}: row 1 (header): the file is empty"])
    layout = _layout_of(header, name)
    result = ReadResult(layout, [])
    findings: list[str] = []
    seen: dict[tuple[str, str, str], int] = {}
    for lineno, cells in enumerate(records, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            findings.append(
                f"{name}: row {lineno}: has {len(cells)} field(s), the header {len(header)}"
            )
            continue
        rec = dict(zip(header, cells, strict=True))
        fig = (
            _fingertips(rec, name, lineno, findings, result)
            if layout == FINGERTIPS
            else _bettercare(rec, name, lineno, findings)
        )
        if fig is not None:
            key = (fig.metric, fig.area_code, fig.period)
            if key in seen:
                findings.append(
                    f"{name}: row {lineno}: repeats {fig.metric} for {fig.area_code} in "
                    f"{fig.period} (first at row {seen[key]})"
                )
            else:
                seen[key] = lineno
                result.rows.append(fig)
        if len(findings) >= MAX_FINDINGS:
            break
    if findings:
        raise FiguresRejected(findings)
    if not result.rows:
        skipped = ", ".join(f"{n} {why}" for why, n in result.skipped.most_common())
        raise FiguresRejected(
            [
                f"{name}: no figure bettercare can use"
                + (f" (skipped: {skipped})" if skipped else "")
            ]
        )
    return result


def _numbers(row: _Row, rec: dict[str, str], columns: dict[str, str]) -> dict[str, float | None]:
    out = {
        key: row.number(rec.get(col), col, non_negative=key in ("numerator", "denominator"))
        for key, col in columns.items()
    }
    if row.suppressed:  # a suppressed figure keeps no partial numbers
        out = dict.fromkeys(out)
    return out


def _fingertips(
    rec: dict[str, str], name: str, lineno: int, findings: list[str], result: ReadResult
) -> FigureRow | None:
    indicator = rec["Indicator ID"].strip()
    mapped = FINGERTIPS_INDICATORS.get(indicator)
    if mapped is None:
        result.skipped[f"indicator {indicator} (no confirmed bettercare metric)"] += 1
        return None
    if rec["Sex"].strip() not in ("Persons", ""):
        result.skipped["rows by sex (Persons kept)"] += 1
        return None
    if (rec.get("Category Type") or "").strip():
        result.skipped["category breakdowns"] += 1
        return None
    code = rec["Area Code"].strip()
    kind = area_type_of(code)
    if kind is None:
        result.skipped[f"areas of type {rec['Area Type'].strip() or '?'}"] += 1
        return None
    row = _Row(name, lineno, findings)
    period = _fingertips_period(rec["Time period"])
    try:
        validate_period(period)
    except ValueError:
        row.bad("Time period", f"'{rec['Time period']}' is not a period bettercare reads")
        return None
    nums = _numbers(
        row,
        rec,
        {
            "numerator": "Count",
            "denominator": "Denominator",
            "value": "Value",
            "lower_95": "Lower CI 95.0 limit",
            "upper_95": "Upper CI 95.0 limit",
            "lower_998": "Lower CI 99.8 limit",
            "upper_998": "Upper CI 99.8 limit",
        },
    )
    note = rec["Value note"].strip()
    if nums["value"] is None and "suppress" in note.lower():
        row.suppressed = True
        nums = dict.fromkeys(nums)
    n_before = len(findings)
    _check(row, nums, mapped.metric)
    if len(findings) > n_before:
        return None
    return FigureRow(
        metric=mapped.metric,
        area_code=code,
        area_name=rec["Area Name"].strip(),
        area_type=kind,
        period=period,
        value_note=note,
        suppressed=row.suppressed,
        layout=FINGERTIPS,
        indicator_id=indicator,
        row=lineno,
        **nums,
    )


def _bettercare(
    rec: dict[str, str], name: str, lineno: int, findings: list[str]
) -> FigureRow | None:
    row = _Row(name, lineno, findings)
    n_before = len(findings)
    metric = rec["metric"].strip()
    if metric not in CATALOGUE:
        row.bad("metric", f"'{metric}' is not a bettercare metric id (docs/figures.md)")
    code = rec["area_code"].strip()
    kind = area_type_of(code)
    if kind is None:
        row.bad(
            "area_code",
            f"'{code}' is not the ONS code of England (E92), a region (E12, E40), an ICB "
            "(E54) or an HWB (E06/E08/E09/E10)",
        )
    period = rec["period"].strip()
    try:
        validate_period(period)
    except ValueError as exc:
        row.bad("period", str(exc))
    nums = _numbers(
        row,
        rec,
        {
            "numerator": "numerator",
            "denominator": "denominator",
            "value": "value",
            **{c: c for c in BETTERCARE_OPTIONAL if c.startswith(("lower", "upper"))},
        },
    )
    if len(findings) > n_before or kind is None:
        return None
    _check(row, nums, metric)
    if len(findings) > n_before:
        return None
    return FigureRow(
        metric=metric,
        area_code=code,
        area_name=(rec.get("area_name") or "").strip(),
        area_type=kind,
        period=period,
        value_note=(rec.get("value_note") or "").strip(),
        suppressed=row.suppressed,
        layout=BETTERCARE,
        indicator_id="",
        row=lineno,
        **nums,
    )
