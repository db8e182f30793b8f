"""Returns never lose a value silently: every hostile cell is a located, one-line error.

Each workbook is a return bettercare wrote for the Marlbury 2025/26 example, then
tampered with as an attacker (or a slip) would: with openpyxl for formulas, error values
and dates, and by rewriting the sheet XML in the zip for what openpyxl will not write
(``inf``, ``nan``, a DOCTYPE with entities). Before the reader checked them, a formula or
``inf`` in an amount cell read as "not stated" with exit 0, and a DOCTYPE gave a
traceback from ``bettercare return read``.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from bettercare.cli.main import app
from bettercare.data.plan_files import load_plan
from bettercare.data.returns import (
    INCOME,
    METRICS,
    NARRATIVE,
    SPEND,
    ReturnError,
    ReturnFileError,
    read_return,
)
from bettercare.reporting.returns import write_return

EXAMPLE = Path(__file__).parents[2] / "examples" / "marlbury_2025.yaml"
SPEND_PART = "xl/worksheets/sheet3.xml"  # Guidance, Cover, then Income and Expenditure


@pytest.fixture(scope="module")
def plan():
    return load_plan(EXAMPLE)


@pytest.fixture
def written(plan, tmp_path) -> Path:
    path = tmp_path / "q2.xlsx"
    write_return(plan, "2025/26", 2, path)
    return path


def put(path: Path, sheet: str, cell: str, value) -> None:
    book = load_workbook(path)
    book[sheet][cell] = value
    book.save(path)


def rewrite(path: Path, part: str, change) -> None:
    """Rewrite one XML part of the package (what openpyxl would refuse to write)."""
    with zipfile.ZipFile(path) as src:
        items = [(i, src.read(i.filename)) for i in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in items:
            out.writestr(info, change(data.decode()).encode() if info.filename == part else data)


def cell_xml(ref: str, inner: str, attrs: str = ""):
    """A change replacing cell ``ref`` of a sheet part with ``<c r=ref attrs>inner</c>``."""

    def change(xml: str) -> str:
        new, n = re.subn(
            rf'<c r="{ref}"[^>]*?(/>|>.*?</c>)', f'<c r="{ref}"{attrs}>{inner}</c>', xml, count=1
        )
        assert n == 1, f"no cell {ref}"
        return new

    return change


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("=1+1", "holds a formula ('=1+1')"),
        ("=SUM(F2:F3)", "holds a formula"),
        ("=cmd|' /C calc'!A0", "holds a DDE formula"),
        ("='[1]Budget'!F3", "holds an external link"),
        ("=[budget.xlsx]Sheet1!A1", "holds an external link"),
        ("#REF!", "holds the error value #REF!"),
        ("#DIV/0!", "holds the error value #DIV/0!"),
        (dt.datetime(2025, 6, 30), "holds a date"),
        ("lots", "'lots' is not an amount of money"),
        (True, "True is not an amount of money"),
    ],
)
def test_amount_cell_refuses_what_would_be_lost(plan, written, value, says):
    put(written, SPEND, "F3", value)
    with pytest.raises(ReturnFileError) as exc:
        read_return(written, plan)
    assert "sheet 'Income and Expenditure' cell F3: " + says in str(exc.value)
    assert (exc.value.sheet, exc.value.cell) == (SPEND, "F3")


@pytest.mark.parametrize(("sheet", "cell"), [(INCOME, "D2"), (METRICS, "C2"), (NARRATIVE, "A2")])
def test_formula_refused_in_every_input_cell(plan, tmp_path, sheet, cell):
    blank = tmp_path / "q3.xlsx"  # a blank return lists every stream of the plan
    write_return(plan, "2025/26", 3, blank)
    put(blank, sheet, cell, "=2*3")
    with pytest.raises(ReturnFileError, match=f"sheet '{sheet}' cell {cell}: holds a formula"):
        read_return(blank, plan)


@pytest.mark.parametrize("number", ["inf", "-inf", "nan", "NaN", "1E999"])
def test_non_finite_number_is_named_by_cell(plan, written, number):
    rewrite(written, SPEND_PART, cell_xml("F3", f"<v>{number}</v>", ' t="n"'))
    with pytest.raises(ReturnFileError) as exc:
        read_return(written, plan)
    assert str(exc.value).endswith(
        f"sheet 'Income and Expenditure' cell F3: holds '{number}', not a finite number"
    )


def test_cached_value_of_a_formula_is_not_read_as_the_amount(plan, written):
    """A formula saved with a cached result (as Excel saves it) is still a formula."""
    rewrite(written, SPEND_PART, cell_xml("F3", "<f>6900000+0</f><v>6900000</v>"))
    with pytest.raises(ReturnFileError, match="cell F3: holds a formula"):
        read_return(written, plan)


ENTITIES = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
)
XXE = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


@pytest.mark.parametrize(
    ("part", "prolog"),
    [
        (SPEND_PART, ENTITIES),
        ("xl/workbook.xml", ENTITIES),
        ("[Content_Types].xml", XXE),
        (SPEND_PART, '<?xml version="1.0"?><!DOCTYPE worksheet>'),
    ],
)
def test_doctype_and_entities_refused_whole(plan, written, part, prolog):
    rewrite(written, part, lambda xml: prolog + re.sub(r"^<\?xml[^>]*\?>", "", xml))
    with pytest.raises(ReturnError) as exc:
        read_return(written, plan)
    assert f"part {part} holds a DOCTYPE or XML entities" in str(exc.value)
    assert "\n" not in str(exc.value)


def test_text_that_looks_like_a_formula_is_written_as_text(plan, tmp_path):
    """A narrative starting with '=' stays text in the workbook and reads back equal."""
    data = plan.model_dump(mode="json")
    data["quarterly_reports"][1]["narrative"] = '=HYPERLINK("http://x","click")'
    tricky = type(plan).model_validate(data)
    path = tmp_path / "q2.xlsx"
    written = write_return(tricky, "2025/26", 2, path)
    assert load_workbook(path)[NARRATIVE]["A2"].data_type == "s"
    assert read_return(path, tricky) == written


@pytest.mark.parametrize(
    ("tamper", "says"),
    [
        (lambda p: put(p, SPEND, "F3", "=cmd|' /C calc'!A0"), "cell F3: holds a DDE formula"),
        (lambda p: put(p, SPEND, "F3", "#N/A"), "cell F3: holds the error value #N/A"),
        (lambda p: rewrite(p, SPEND_PART, cell_xml("F3", "<v>inf</v>")), "not a finite number"),
        (
            lambda p: rewrite(p, SPEND_PART, lambda x: ENTITIES + x.split("?>", 1)[-1]),
            "holds a DOCTYPE or XML entities",
        ),
    ],
)
def test_cli_read_exits_2_with_one_line(written, tamper, says):
    tamper(written)
    result = CliRunner().invoke(app, ["return", "read", str(written), "--plan", str(EXAMPLE)])
    assert result.exit_code == 2, result.output
    assert says in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_zip_bomb_and_part_flood_are_refused(plan, written):
    """A part that unzips past 50 MB, or hundreds of parts, is refused before parsing."""
    with zipfile.ZipFile(written, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/bomb.xml", b"<a>" + b" " * (51 * 2**20) + b"</a>")
    assert written.stat().st_size < 1 * 2**20  # small on disk
    with pytest.raises(ReturnError, match="more than 50 MB unzipped"):
        read_return(written, plan)


def test_hundreds_of_parts_are_refused(plan, written):
    with zipfile.ZipFile(written, "a") as z:
        for i in range(200):
            z.writestr(f"xl/extra{i}.xml", "<a/>")
    with pytest.raises(ReturnError, match="more than 200 parts"):
        read_return(written, plan)


def test_a_comment_drawing_that_is_not_well_formed_xml_is_not_refused(plan, written):
    """Excel's legacy VML comment drawings are often not well-formed XML; openpyxl's
    read-only mode never reads them, and neither does the package check."""
    expected = read_return(written, plan)
    with zipfile.ZipFile(written, "a") as z:
        z.writestr("xl/drawings/vmlDrawing1.vml", "<xml><o:shapelayout><br></xml>")
    assert read_return(written, plan) == expected


@pytest.mark.parametrize(
    ("inner", "attrs", "says"),
    [
        ("<v>not-a-date</v>", ' t="d"', "holds 'not-a-date', not a date"),
        ("<v>2</v>", ' t="b"', "holds '2', not TRUE or FALSE"),
    ],
)
def test_malformed_typed_cells_are_named_by_cell(plan, written, inner, attrs, says):
    rewrite(written, SPEND_PART, cell_xml("F3", inner, attrs))
    with pytest.raises(ReturnFileError, match=f"sheet 'Income and Expenditure' cell F3: {says}"):
        read_return(written, plan)
