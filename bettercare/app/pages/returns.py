"""A plan's quarterly returns: list the quarters, download one as XLSX, upload one back.

The workbook is :func:`bettercare.reporting.returns.write_return`'s and is read back by
:func:`bettercare.data.returns.read_return`, exactly as ``bettercare return write|read``
do; the app adds only the URL form of a quarter (``2025-26-Q2`` for ``'2025/26 Q2'``),
upload limits, the comparison page and recording the return in the plan.

An upload is checked and shown against the plan; nothing is saved. The page then offers
to record it as the plan's return for its quarter: the form carries the return read
(signed with the session's CSRF token, so only what this server read can be recorded)
and the plan version it was compared with, and the save is refused if the plan changed
since (optimistic locking). A malformed upload shows the reader's message naming sheet
and cell and is audit-logged as invalid.
"""

from __future__ import annotations

import hashlib
import hmac
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bettercare.app.analytics_store import StoreState, stores_of
from bettercare.app.deps import Acting, Db
from bettercare.app.security import csrf_token
from bettercare.app.templating import render
from bettercare.domain.money import format_gbp
from bettercare.domain.plan import Plan
from bettercare.domain.text import printable
from bettercare.services import returns
from bettercare.services.access import Caller
from bettercare.services.returns import parse_quarter_slug, quarter_slug

__all__ = ["MAX_RETURN_BYTES", "parse_quarter_slug", "quarter_slug", "router"]

# The XLSX reader and writer (openpyxl) are imported where used: the server starts fast.
#: A return is a few hundred cells (the reader's own limit, bettercare.data.returns).
MAX_RETURN_BYTES = 5 * 1024 * 1024


router = APIRouter()

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_CHUNK = 64 * 1024


def _page(request: Request, caller: Caller, view: returns.ReturnsView) -> HTMLResponse:
    from bettercare.data.returns import STATUS_LABELS

    return render(
        request,
        "returns.html.j2",
        caller.principal,
        status_code=view.status,
        record=view.record,
        plan=view.plan,
        quarters=view.quarters,
        may_upload=view.may_upload,
        max_mb=MAX_RETURN_BYTES // 2**20,
        error=view.error,
        recorded=view.recorded,
        check=view.check,
        status_labels=STATUS_LABELS,
        gbp=format_gbp,
    )


@router.get("/plans/{plan_id}/returns", response_class=HTMLResponse)
def returns_page(
    request: Request,
    plan_id: str,
    db: Db,
    caller: Acting,
    recorded: str | None = None,
) -> HTMLResponse:
    """The plan's quarters: download each return; upload one back (editors)."""
    return _page(request, caller, returns.returns_view(db, caller, plan_id, recorded))


@router.get("/plans/{plan_id}/returns/{quarter}.xlsx")
def download_return(
    request: Request,
    plan_id: str,
    quarter: str,
    db: Db,
    caller: Acting,
) -> Response:
    """The quarter's return as XLSX: as the plan records it, else blank to fill in.

    With a store or published figures configured (``serve --store``, ``--figures``), a
    return not yet recorded has its metrics pre-filled once the plan is measured.
    """
    book = returns.workbook(db, caller, plan_id, quarter, _measured(request))
    return Response(
        book.content,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{book.filename}"'},
    )


def _measured(request: Request) -> returns.Measured | None:
    """The plan as the app measured it (the metrics pages' measuring), once it is ready.

    None in the demo without published figures: its stores are synthetic. Asking queues
    the measuring as the metrics page does; until it is ready the return is left blank.
    """
    stores = stores_of(request.app)
    if stores.store is None and stores.figures is None:
        return None

    def judged(plan_id: str, version: int, plan: Plan) -> Any:
        status = stores.status(plan_id, version, plan)
        if status.state is StoreState.READY and status.linked is not None:
            return status.linked.pva, status.linked.hwb_code
        return None

    return judged


def _upload_name(upload: UploadFile) -> str:
    """The uploaded file's base name, printable, for messages (never used as a path)."""
    name = Path(upload.filename or "upload.xlsx").name
    return printable(name)[:120] or "upload.xlsx"


def _copy_upload(upload: UploadFile, dest: Path) -> bool:
    """Copy the upload to ``dest``; False (and nothing kept) if it exceeds the limit."""
    if upload.size is not None and upload.size > MAX_RETURN_BYTES:
        return False
    written = 0
    with dest.open("wb") as out:
        while chunk := upload.file.read(_CHUNK):
            written += len(chunk)
            if written > MAX_RETURN_BYTES:
                break
            out.write(chunk)
    if written > MAX_RETURN_BYTES:
        dest.unlink()
        return False
    return True


def signature(request: Request, report_json: str) -> str:
    """HMAC of a return read by this server, keyed by the session's CSRF token."""
    key = csrf_token(request).encode()
    return hmac.new(key, report_json.encode(), hashlib.sha256).hexdigest()


@router.post("/plans/{plan_id}/returns", response_class=HTMLResponse)
def upload_return(
    request: Request,
    plan_id: str,
    db: Db,
    caller: Acting,
    file: UploadFile = File(..., description="A return XLSX written by bettercare"),
) -> HTMLResponse:
    """Read an uploaded return and show it against the plan (nothing is saved)."""
    returns.may_upload(db, caller, plan_id)
    name = _upload_name(file)
    with tempfile.TemporaryDirectory(prefix="bettercare-upload-") as tmp:
        path = Path(tmp) / "upload.xlsx"
        if not _copy_upload(file, path):
            message = f"{name}: larger than {MAX_RETURN_BYTES // 2**20} MB, the limit for a return"
            return _page(request, caller, returns.refuse_upload(db, caller, plan_id, 413, message))
        view = returns.check_upload(db, caller, plan_id, path, name)
    if view.check is not None:
        view.check["signature"] = signature(request, view.check["report_json"])
    return _page(request, caller, view)


@router.post("/plans/{plan_id}/returns/record", response_class=HTMLResponse)
def record_return(
    request: Request,
    plan_id: str,
    db: Db,
    caller: Acting,
    report: str = Form(..., description="The return as read (JSON)"),
    report_signature: str = Form(..., alias="signature"),
    expected_version: int = Form(..., description="The plan version it was compared with"),
) -> Response:
    """Record an uploaded return (as read and shown) as the plan's return for its quarter."""
    # bytes: compare_digest refuses str with non-ASCII characters (a 500; found by schemathesis)
    signed = hmac.compare_digest(signature(request, report).encode(), report_signature.encode())
    done = returns.record_return(db, caller, plan_id, report, expected_version, signed=signed)
    if done.refused is not None:
        return _page(request, caller, done.refused)
    return RedirectResponse(f"/plans/{plan_id}/returns?recorded={done.slug}", status_code=303)
