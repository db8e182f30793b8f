"""Returns pages: quarters, XLSX download, upload read back against the plan, recording it."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bettercare.app.models import AuditEvent, PlanRecord
from bettercare.app.pages import returns as returns_page
from bettercare.app.pages.returns import parse_quarter_slug, quarter_slug
from bettercare.app.plans import plan_of
from bettercare.data import returns as data_returns
from bettercare.data.returns import ReturnError

from .conftest import RUTLAND, csrf_of

RUTLAND_PLAN = "rutland-2014"
MARLBURY_PLAN = "marlbury_2025"  # records Q1 and Q2 of 2025/26
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _record(app, plan_id: str) -> PlanRecord:
    with app.state.sessions() as db:
        record = db.get(PlanRecord, plan_id)
    assert record is not None
    return record


def _events(app, action: str, outcome: str | None = None) -> list[AuditEvent]:
    with app.state.sessions() as db:
        q = select(AuditEvent).where(AuditEvent.action == action)
        if outcome:
            q = q.where(AuditEvent.outcome == outcome)
        return list(db.scalars(q.order_by(AuditEvent.id)))


def _upload(client, plan_id: str, content: bytes, name: str = "return.xlsx"):
    token = csrf_of(client.get(f"/plans/{plan_id}/returns").text)
    return client.post(
        f"/plans/{plan_id}/returns",
        files={"file": (name, content, XLSX)},
        data={"csrf_token": token},
    )


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden field {name}"
    import html as html_lib

    return html_lib.unescape(match.group(1))


def _record_form(page: str) -> dict[str, str]:
    return {n: _hidden(page, n) for n in ("csrf_token", "report", "signature", "expected_version")}


# -- quarters in URLs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slug", "expected"), [("2025-26-Q2", ("2025/26", 2)), ("2014-15-Q4", ("2014/15", 4))]
)
def test_quarter_slug_round_trip(slug: str, expected: tuple[str, int]) -> None:
    assert parse_quarter_slug(slug) == expected
    assert quarter_slug(*expected) == slug


@pytest.mark.parametrize("slug", ["2025-26-Q5", "2025/26 Q2", "2025-26", "x"])
def test_bad_quarter_slug(slug: str) -> None:
    with pytest.raises(ReturnError):
        parse_quarter_slug(slug)


def test_upload_limit_is_the_readers() -> None:
    assert returns_page.MAX_RETURN_BYTES == data_returns.MAX_RETURN_BYTES


# -- who may see and upload ---------------------------------------------------------------


@pytest.mark.parametrize("user", ["editor", "analyst", "coordinator", "assurer", "admin"])
def test_returns_page_in_scope(client, login, user: str) -> None:
    login(user)
    r = client.get(f"/plans/{RUTLAND_PLAN}/returns")
    assert r.status_code == 200
    assert 'id="download-2014-15-Q1"' in r.text
    assert ('id="upload-return-form"' in r.text) is (user in ("editor", "admin"))


def test_returns_page_out_of_scope_is_refused_and_audited(app, client, login) -> None:
    login("editor_leicester")
    assert client.get(f"/plans/{RUTLAND_PLAN}/returns").status_code == 403
    assert client.get(f"/plans/{RUTLAND_PLAN}/returns/2014-15-Q1.xlsx").status_code == 403
    denied = _events(app, "view_plan", "denied")
    assert [e.actor for e in denied] == ["editor_leicester", "editor_leicester"]
    assert denied[0].target == f"plan:{RUTLAND_PLAN}" and denied[0].hwb_code == RUTLAND


def test_returns_page_anonymous(client) -> None:
    r = client.get(
        f"/plans/{RUTLAND_PLAN}/returns", headers={"accept": "text/html"}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert client.get(f"/plans/{RUTLAND_PLAN}/returns/2014-15-Q1.xlsx").status_code == 401


def test_analyst_may_not_upload(app, client, login) -> None:
    login("analyst")
    content = client.get(f"/plans/{RUTLAND_PLAN}/returns/2014-15-Q1.xlsx").content
    assert _upload(client, RUTLAND_PLAN, content).status_code == 403
    assert [e.actor for e in _events(app, "upload_return", "denied")] == ["analyst"]


def test_unknown_plan_and_quarter(client, login) -> None:
    login("editor")
    assert client.get("/plans/no-such-plan/returns").status_code == 404
    assert client.get(f"/plans/{RUTLAND_PLAN}/returns/2014-15-Q9.xlsx").status_code == 404
    # a quarter outside the plan's years (2014/15, 2015/16)
    assert client.get(f"/plans/{RUTLAND_PLAN}/returns/2025-26-Q1.xlsx").status_code == 404


# -- download -----------------------------------------------------------------------------


def test_download_is_the_cli_workbook(client, login) -> None:
    login("admin")
    r = client.get(f"/plans/{MARLBURY_PLAN}/returns/2025-26-Q2.xlsx")
    assert r.status_code == 200
    assert r.headers["content-type"] == XLSX
    assert 'filename="marlbury_2025_2025-26-Q2.xlsx"' in r.headers["content-disposition"]
    book = load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == list(data_returns.SHEETS)
    cover = {row[0]: row[1] for row in book[data_returns.COVER].iter_rows(values_only=True)}
    assert cover["Financial year"] == "2025/26" and str(cover["Quarter"]) in ("2", "Q2")
    # MB01's actual spend to date as the plan records it for 2025/26 Q2
    spend = {row[0]: row[5] for row in book[data_returns.SPEND].iter_rows(values_only=True)}
    assert float(spend["MB01"]) == 5_950_000


# -- upload: round trip, malformed, limits --------------------------------------------------


def test_round_trip_recorded_return_matches(app, client, login) -> None:
    login("admin")
    content = client.get(f"/plans/{MARLBURY_PLAN}/returns/2025-26-Q2.xlsx").content
    before = _record(app, MARLBURY_PLAN).version
    r = _upload(client, MARLBURY_PLAN, content)
    assert r.status_code == 200
    assert "it matches the return recorded in the plan" in r.text
    assert 'id="record-return-form"' not in r.text  # nothing to record
    assert _record(app, MARLBURY_PLAN).version == before  # reading saves nothing
    (event,) = _events(app, "upload_return", "ok")
    assert "2025/26 Quarter 2 read, matches" in (event.detail or "")


def test_round_trip_blank_return_recorded_then_matches(app, client, login) -> None:
    """Download Rutland's blank 2014/15 Q1 return, fill it in, upload, record, re-download."""
    login("editor")
    blank = client.get(f"/plans/{RUTLAND_PLAN}/returns/2014-15-Q1.xlsx").content
    book = load_workbook(io.BytesIO(blank))
    ws = book[data_returns.SPEND]
    first_ref = ws.cell(row=2, column=1).value
    ws.cell(row=2, column=6).value = 123456
    book[data_returns.NARRATIVE]["A2"] = "Spend on plan."
    filled = io.BytesIO()
    book.save(filled)

    page = _upload(client, RUTLAND_PLAN, filled.getvalue()).text
    assert "the plan records no return for this quarter yet" in page
    version = _record(app, RUTLAND_PLAN).version
    form = _record_form(page)
    assert form["expected_version"] == str(version)
    r = client.post(f"/plans/{RUTLAND_PLAN}/returns/record", data=form, follow_redirects=False)
    assert r.status_code == 303, re.findall(r"role=.alert.>([^<]*)", r.text)
    assert r.headers["location"] == f"/plans/{RUTLAND_PLAN}/returns?recorded=2014-15-Q1"
    assert "Recorded the 2014/15 Quarter 1 return" in client.get(r.headers["location"]).text

    record = _record(app, RUTLAND_PLAN)
    assert record.version == version + 1 and record.updated_by == "editor"
    report = plan_of(record).quarter_report("2014/15", 1)
    assert report is not None and report.narrative == "Spend on plan."
    assert report.actual_spend[first_ref] == 123456
    (event,) = _events(app, "record_return", "ok")
    assert event.before is None and '"narrative": "Spend on plan."' in (event.after or "")

    # the recorded return downloads as it was uploaded and reads back as matching
    again = client.get(f"/plans/{RUTLAND_PLAN}/returns/2014-15-Q1.xlsx").content
    assert "it matches the return recorded in the plan" in _upload(client, RUTLAND_PLAN, again).text


def test_year_end_return_with_every_section_recorded(app, client, login) -> None:
    """Marlbury's blank year-end return: DFG, discharge funding and carry-forward shown
    on the check page and recorded in the plan as typed."""
    login("admin")
    blank = client.get(f"/plans/{MARLBURY_PLAN}/returns/2025-26-Q4.xlsx").content
    book = load_workbook(io.BytesIO(blank))
    dfg = book[data_returns.DFG_ADF]
    dfg["C2"], dfg["C3"], dfg["C4"] = 4_100_000, 612, 5_200_000
    book[data_returns.INCOME]["D2"] = 40_000_000
    ye = book[data_returns.YEAR_END]
    row = next(r for r in range(2, 40) if ye.cell(r, 1).value == data_returns.CARRY_FORWARD_ROW)
    ye.cell(row, 2).value = 350_000
    filled = io.BytesIO()
    book.save(filled)

    page = _upload(client, MARLBURY_PLAN, filled.getvalue()).text
    assert 'id="upload-further"' in page
    for shown in ("Disabled Facilities Grant spend", "£4,100,000", "612", "£5,200,000"):
        assert shown in page
    assert "Underspend carried forward to next year" in page and "£350,000" in page
    assert "income: NHS minimum contribution (ICB)" in page and "£40,000,000" in page
    r = client.post(
        f"/plans/{MARLBURY_PLAN}/returns/record", data=_record_form(page), follow_redirects=False
    )
    assert r.status_code == 303
    report = plan_of(_record(app, MARLBURY_PLAN)).quarter_report("2025/26", 4)
    assert report is not None and report.carry_forward == 350_000
    assert report.dfg is not None and report.dfg.adaptations == 612
    assert report.discharge_funding_spend == 5_200_000


def _malformed(client) -> bytes:
    content = client.get(f"/plans/{MARLBURY_PLAN}/returns/2025-26-Q2.xlsx").content
    book = load_workbook(io.BytesIO(content))
    book[data_returns.SPEND].cell(row=3, column=6).value = "lots"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_malformed_upload_names_sheet_and_cell_and_saves_nothing(app, client, login) -> None:
    login("admin")
    version = _record(app, MARLBURY_PLAN).version
    r = _upload(client, MARLBURY_PLAN, _malformed(client), name="q2 filled.xlsx")
    assert r.status_code == 422
    error = re.search(r'id="file-error" role="alert">([^<]*)<', r.text)
    assert error, r.text
    message = error.group(1)
    assert message.startswith("q2 filled.xlsx: sheet &#39;Income and Expenditure&#39; cell F3")
    assert "/tmp" not in message  # the server's temporary path is not shown
    assert 'aria-describedby="file-error"' in r.text
    assert 'id="record-return-form"' not in r.text
    assert _record(app, MARLBURY_PLAN).version == version
    (event,) = _events(app, "upload_return", "invalid")
    assert "cell F3" in (event.detail or "") and event.actor == "admin"


def test_not_a_workbook(app, client, login) -> None:
    login("admin")
    r = _upload(client, MARLBURY_PLAN, b"plain text, not a spreadsheet", name="notes.xlsx")
    assert r.status_code == 422
    assert "notes.xlsx: not an XLSX workbook" in r.text
    assert len(_events(app, "upload_return", "invalid")) == 1


def test_upload_over_the_limit_is_refused_unread(app, client, login, monkeypatch) -> None:
    login("admin")
    monkeypatch.setattr(returns_page, "MAX_RETURN_BYTES", 1000)
    r = _upload(client, MARLBURY_PLAN, b"x" * 1001)
    assert r.status_code == 413
    assert "larger than" in r.text
    assert len(_events(app, "upload_return", "invalid")) == 1


def test_tampered_return_is_not_recorded(app, client, login) -> None:
    login("editor")
    blank = client.get(f"/plans/{RUTLAND_PLAN}/returns/2014-15-Q2.xlsx").content
    form = _record_form(_upload(client, RUTLAND_PLAN, blank).text)
    form["report"] = form["report"].replace('"quarter":2', '"quarter":3')
    version = _record(app, RUTLAND_PLAN).version
    r = client.post(f"/plans/{RUTLAND_PLAN}/returns/record", data=form)
    assert r.status_code == 422
    assert _record(app, RUTLAND_PLAN).version == version
    assert len(_events(app, "record_return", "invalid")) == 1


def test_stale_record_is_refused(app, client, login) -> None:
    """The plan changed between the upload and the record: nothing is saved (conflict)."""
    login("editor")
    q1 = client.get(f"/plans/{RUTLAND_PLAN}/returns/2014-15-Q1.xlsx").content
    q2 = client.get(f"/plans/{RUTLAND_PLAN}/returns/2014-15-Q2.xlsx").content
    first = _record_form(_upload(client, RUTLAND_PLAN, q1).text)
    second = _record_form(_upload(client, RUTLAND_PLAN, q2).text)
    ok = client.post(f"/plans/{RUTLAND_PLAN}/returns/record", data=first, follow_redirects=False)
    assert ok.status_code == 303
    r = client.post(f"/plans/{RUTLAND_PLAN}/returns/record", data=second)
    assert r.status_code == 409
    assert "changed by someone else" in r.text
    plan = plan_of(_record(app, RUTLAND_PLAN))
    assert [(q.financial_year, q.quarter) for q in plan.quarterly_reports] == [("2014/15", 1)]
    (conflict,) = _events(app, "record_return", "conflict")
    assert conflict.actor == "editor"


def test_record_needs_the_role(app, client, login) -> None:
    login("editor_leicester")
    r = client.post(
        f"/plans/{RUTLAND_PLAN}/returns/record",
        data={
            "csrf_token": csrf_of(client.get("/").text),
            "report": "{}",
            "signature": "x",
            "expected_version": "1",
        },
    )
    assert r.status_code == 403
    (event,) = _events(app, "upload_return", "denied")
    assert event.hwb_code == RUTLAND and event.actor == "editor_leicester"


def test_a_zip_that_trips_the_xlsx_library_is_a_message_not_a_500(app, client, login) -> None:
    """A malformed XML part: the page answers with the reader's one line, as the CLI does."""
    import zipfile

    content = io.BytesIO()
    with zipfile.ZipFile(content, "w") as z:
        z.writestr("[Content_Types].xml", "<not xml")
    login("admin")
    r = _upload(client, MARLBURY_PLAN, content.getvalue(), name="odd.xlsx")
    assert r.status_code == 422
    assert "odd.xlsx: part [Content_Types].xml is not well-formed XML" in r.text
    assert len(_events(app, "upload_return", "invalid")) == 1


@pytest.mark.parametrize(
    ("tamper", "says"),
    [
        ("formula", "sheet &#39;Income and Expenditure&#39; cell F3: holds a DDE formula"),
        ("doctype", "part xl/workbook.xml holds a DOCTYPE or XML entities"),
    ],
)
def test_upload_refuses_what_the_cli_refuses(app, client, login, tmp_path, tamper, says) -> None:
    """The web upload reads with the CLI's reader: the same hostile cells, the same line."""
    import zipfile

    login("admin")
    content = client.get(f"/plans/{MARLBURY_PLAN}/returns/2025-26-Q2.xlsx").content
    path = tmp_path / "q2.xlsx"
    path.write_bytes(content)
    if tamper == "formula":
        book = load_workbook(path)
        book[data_returns.SPEND]["F3"] = "=cmd|' /C calc'!A0"
        book.save(path)
    else:
        with zipfile.ZipFile(path) as src:
            parts = [(i, src.read(i.filename)) for i in src.infolist()]
        with zipfile.ZipFile(path, "w") as out:
            for info, data in parts:
                if info.filename == "xl/workbook.xml":
                    data = b'<!DOCTYPE x [<!ENTITY a "aaaa">]>' + data
                out.writestr(info, data)
    r = _upload(client, MARLBURY_PLAN, path.read_bytes(), name="q2.xlsx")
    assert r.status_code == 422
    assert f"q2.xlsx: {says}" in r.text
