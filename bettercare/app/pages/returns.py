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
import json
import logging
import re
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm.exc import StaleDataError

from bettercare.app import audit
from bettercare.app.models import PlanRecord
from bettercare.app.plans import plan_of, save_plan
from bettercare.app.security import (
    Action,
    Principal,
    allowed,
    authorize,
    client_ip,
    csrf_token,
    current_principal,
)
from bettercare.app.templating import render
from bettercare.domain.money import format_gbp
from bettercare.domain.plan import Plan, QuarterReport
from bettercare.domain.text import printable
from bettercare.errors import Conflict

# The XLSX reader and writer (openpyxl) are imported where used: the server starts fast.
#: A return is a few hundred cells (the reader's own limit, bettercare.data.returns).
MAX_RETURN_BYTES = 5 * 1024 * 1024


router = APIRouter()
log = logging.getLogger(__name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_URL_QUARTER = re.compile(r"^(\d{4})-(\d{2})-Q([1-4])$")
_CHUNK = 64 * 1024


def quarter_slug(fy: str, quarter: int) -> str:
    """``('2025/26', 2)`` -> ``'2025-26-Q2'``: a quarter as it appears in URLs."""
    return f"{fy.replace('/', '-')}-Q{quarter}"


def parse_quarter_slug(slug: str) -> tuple[str, int]:
    """``'2025-26-Q2'`` -> ``('2025/26', 2)`` via the CLI's form ``'2025/26 Q2'``.

    Raises :class:`~bettercare.data.returns.ReturnError` for anything else.
    """
    from bettercare.data.returns import ReturnError, parse_quarter

    m = _URL_QUARTER.match(slug)
    if not m:
        raise ReturnError(f"'{printable(slug)}' is not a quarter: write it as 2025-26-Q2")
    return parse_quarter(f"{m[1]}/{m[2]} Q{m[3]}")


class StalePlan(Conflict):
    """The plan changed since the return was compared with it: nothing was saved."""

    def __init__(self, plan_id: str, expected: int, current: int | None) -> None:
        """``current``: the stored version, None when a concurrent save won at the database."""
        now = f"version {current}" if current is not None else "a newer version"
        super().__init__(
            f"plan {plan_id} was changed by someone else ({now}; the return was compared "
            f"with version {expected})"
        )


def load_record(request: Request, plan_id: str) -> PlanRecord:
    """The stored plan, or 404."""
    with request.app.state.sessions() as db:
        record: PlanRecord | None = db.get(PlanRecord, plan_id)
    if record is None:
        raise HTTPException(status_code=404, detail=f"no plan {plan_id}")
    return record


def authorized_record(
    request: Request, principal: Principal, plan_id: str, action: Action, target: str = ""
) -> PlanRecord:
    """The stored plan (or 404), once ``principal`` may ``action`` on ``target`` (the plan)."""
    record = load_record(request, plan_id)
    authorize(request, principal, action, target or f"plan:{plan_id}", record.hwb_code)
    return record


def _quarters(plan: Plan) -> list[dict[str, Any]]:
    from bettercare.data.returns import return_label

    return [
        {
            "fy": fy,
            "quarter": q,
            "slug": quarter_slug(fy, q),
            "label": return_label(q),
            "recorded": plan.quarter_report(fy, q),
        }
        for fy in sorted(plan.financial_years)
        for q in (1, 2, 3, 4)
    ]


def _page(
    request: Request,
    principal: Principal,
    record: PlanRecord,
    plan: Plan,
    *,
    status_code: int = 200,
    error: str | None = None,
    recorded: str | None = None,
    check: dict[str, Any] | None = None,
) -> HTMLResponse:
    from bettercare.data.returns import STATUS_LABELS

    return render(
        request,
        "returns.html.j2",
        principal,
        status_code=status_code,
        record=record,
        plan=plan,
        quarters=_quarters(plan),
        may_upload=allowed(principal, Action.UPLOAD_RETURN, record.hwb_code),
        max_mb=MAX_RETURN_BYTES // 2**20,
        error=error,
        recorded=recorded,
        check=check,
        status_labels=STATUS_LABELS,
        gbp=format_gbp,
    )


@router.get("/plans/{plan_id}/returns", response_class=HTMLResponse)
def returns_page(
    request: Request,
    plan_id: str,
    recorded: str | None = None,
    principal: Principal = Depends(current_principal),
) -> HTMLResponse:
    """The plan's quarters: download each return; upload one back (editors)."""
    from bettercare.data.returns import ReturnError, return_label

    record = authorized_record(request, principal, plan_id, Action.VIEW_PLAN)
    shown = None
    if recorded:
        try:
            fy, q = parse_quarter_slug(recorded)
            shown = f"{fy} {return_label(q)}"
        except ReturnError:
            shown = None
    return _page(request, principal, record, plan_of(record), recorded=shown)


@router.get("/plans/{plan_id}/returns/{quarter}.xlsx")
def download_return(
    request: Request,
    plan_id: str,
    quarter: str,
    principal: Principal = Depends(current_principal),
) -> Response:
    """The quarter's return as XLSX: as the plan records it, else blank to fill in."""
    from bettercare.data.returns import ReturnError, quarter_in_plan
    from bettercare.reporting.returns import write_return

    record = authorized_record(request, principal, plan_id, Action.VIEW_PLAN)
    plan = plan_of(record)
    try:
        fy, q = parse_quarter_slug(quarter)
        quarter_in_plan(plan, fy, q)
    except ReturnError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    with tempfile.TemporaryDirectory(prefix="bettercare-return-") as tmp:
        path = Path(tmp) / "return.xlsx"
        write_return(plan, fy, q, path)
        content = path.read_bytes()
    name = f"{plan.plan_id}_{quarter_slug(fy, q)}.xlsx"
    return Response(
        content,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _note(
    request: Request,
    principal: Principal,
    action: str,
    record: PlanRecord,
    outcome: str,
    detail: str,
) -> None:
    """Audit an upload or record attempt on ``record`` in a transaction of its own."""
    audit.record_now(
        request.app.state.sessions,
        principal,
        action,
        f"plan:{record.id}",
        outcome,
        ip=client_ip(request),
        hwb_code=record.hwb_code,
        detail=detail,
    )


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


def metric_name(metric: str) -> str:
    """The catalogue's name of a metric (its id for one the catalogue lacks)."""
    from bettercare.domain.metrics import CATALOGUE

    return CATALOGUE[metric].name if metric in CATALOGUE else metric.replace("_", " ")


def signature(request: Request, report_json: str) -> str:
    """HMAC of a return read by this server, keyed by the session's CSRF token."""
    key = csrf_token(request).encode()
    return hmac.new(key, report_json.encode(), hashlib.sha256).hexdigest()


def comparison(plan: Plan, report: QuarterReport) -> dict[str, Any]:
    """The uploaded return beside the plan: spend, metric statuses, conditions, verdict."""
    from bettercare.data.returns import return_label
    from bettercare.reporting.returns import build_return, planned_to_date

    fy, q = report.financial_year, report.quarter
    recorded = plan.quarter_report(fy, q)
    blank = build_return(plan, fy, q) if recorded is None else recorded
    names = {s.reference: s.name for s in plan.schemes}
    spend = []
    for ref, actual in report.actual_spend.items():
        scheme = next(s for s in plan.schemes if s.reference == ref)
        annual = plan.scheme_spend(scheme, fy)
        spend.append(
            {
                "reference": ref,
                "name": names.get(ref, ref),
                "planned_year": annual,
                "planned_to_date": planned_to_date(annual, q),
                "actual": actual,
                "recorded": recorded.actual_spend.get(ref) if recorded else None,
                "same": recorded is not None and recorded.actual_spend.get(ref) == actual,
            }
        )
    rec_metrics = {m.metric: m for m in (recorded.metrics if recorded else [])}
    rec_conditions = {c.id: c for c in (recorded.conditions if recorded else [])}
    if recorded is None:
        verdict = "new"
    elif recorded == report:
        verdict = "matches"
    else:
        verdict = "differs"
    return {
        "report": report,
        "quarter": f"{fy} {return_label(q)}",
        "slug": quarter_slug(fy, q),
        "verdict": verdict,
        "spend": spend,
        "metrics": [(m, rec_metrics.get(m.metric)) for m in report.metrics],
        "metric_names": {m.metric: metric_name(m.metric) for m in report.metrics},
        "conditions": [(c, rec_conditions.get(c.id)) for c in report.conditions],
        "expected_schemes": len(blank.actual_spend),
    }


@router.post("/plans/{plan_id}/returns", response_class=HTMLResponse)
def upload_return(
    request: Request,
    plan_id: str,
    file: UploadFile = File(..., description="A return XLSX written by bettercare"),
    principal: Principal = Depends(current_principal),
) -> HTMLResponse:
    """Read an uploaded return and show it against the plan (nothing is saved)."""
    from bettercare.data.returns import ReturnError, read_return

    record = authorized_record(request, principal, plan_id, Action.UPLOAD_RETURN)
    plan = plan_of(record)
    name = _upload_name(file)
    with tempfile.TemporaryDirectory(prefix="bettercare-upload-") as tmp:
        path = Path(tmp) / "upload.xlsx"
        if not _copy_upload(file, path):
            message = f"{name}: larger than {MAX_RETURN_BYTES // 2**20} MB, the limit for a return"
            _note(request, principal, "upload_return", record, audit.INVALID, message)
            return _page(request, principal, record, plan, status_code=413, error=message)
        problem: str | None = None
        try:
            report = read_return(path, plan)
        except ReturnError as exc:
            problem = str(exc).replace(printable(str(path)), name, 1)
        except Exception:  # an untrusted file may trip the XLSX library anywhere: no 500
            log.warning("upload %s could not be read", name, exc_info=True)
            problem = (
                f"{name}: could not be read as a return (not a workbook written by bettercare)"
            )
        if problem is not None:
            _note(request, principal, "upload_return", record, audit.INVALID, problem)
            return _page(request, principal, record, plan, status_code=422, error=problem)
    check = comparison(plan, report)
    report_json = report.model_dump_json(exclude_none=True)
    check |= {
        "name": name,
        "report_json": report_json,
        "signature": signature(request, report_json),
        "version": record.version,
    }
    _note(
        request,
        principal,
        "upload_return",
        record,
        audit.OK,
        f"{name}: {check['quarter']} read, {check['verdict']}; not recorded",
    )
    return _page(request, principal, record, plan, check=check)


def with_report(plan: Plan, report: QuarterReport) -> Plan:
    """The plan with ``report`` as its return for that quarter (validated again)."""
    others = [
        r
        for r in plan.quarterly_reports
        if (r.financial_year, r.quarter) != (report.financial_year, report.quarter)
    ]
    reports = sorted([*others, report], key=lambda r: (r.financial_year, r.quarter))
    data = plan.model_dump(mode="json")
    data["quarterly_reports"] = [r.model_dump(mode="json") for r in reports]
    return Plan.model_validate(data)


@router.post("/plans/{plan_id}/returns/record", response_class=HTMLResponse)
def record_return(
    request: Request,
    plan_id: str,
    report: str = Form(..., description="The return as read (JSON)"),
    report_signature: str = Form(..., alias="signature"),
    expected_version: int = Form(..., description="The plan version it was compared with"),
    principal: Principal = Depends(current_principal),
) -> Response:
    """Record an uploaded return (as read and shown) as the plan's return for its quarter."""
    from bettercare.data.returns import ReturnError, quarter_in_plan

    record = authorized_record(request, principal, plan_id, Action.UPLOAD_RETURN)
    target = f"plan:{plan_id}"
    sessions = request.app.state.sessions
    ip = client_ip(request)
    # bytes: compare_digest refuses str with non-ASCII characters (a 500; found by schemathesis)
    if not hmac.compare_digest(signature(request, report).encode(), report_signature.encode()):
        _note(
            request,
            principal,
            "record_return",
            record,
            audit.INVALID,
            "return not as read by this server",
        )
        return _page(
            request,
            principal,
            record,
            plan_of(record),
            status_code=422,
            error="This return was not read by this page: upload the file again.",
        )
    try:
        new = QuarterReport.model_validate_json(report)
        with sessions() as db:
            fresh = db.get(PlanRecord, plan_id)
            assert fresh is not None  # loaded above; plans are never deleted here
            plan = plan_of(fresh)
            quarter_in_plan(plan, new.financial_year, new.quarter)
            before = plan.quarter_report(new.financial_year, new.quarter)
            if fresh.version != expected_version:
                raise StalePlan(plan_id, expected_version, fresh.version)
            try:  # the version counter refuses a save racing another (webcore's save_plan)
                save_plan(db, fresh, with_report(plan, new), principal.username)
            except StaleDataError:
                raise StalePlan(plan_id, expected_version, None) from None
            audit.record(
                db,
                principal,
                "record_return",
                target,
                ip=ip,
                hwb_code=fresh.hwb_code,
                before=_json(before),
                after=_json(new),
                detail=f"{new.financial_year} Q{new.quarter}",
            )
            db.commit()
    except StalePlan as exc:
        _note(request, principal, "record_return", record, audit.CONFLICT, str(exc))
        current = load_record(request, plan_id)
        return _page(
            request,
            principal,
            current,
            plan_of(current),
            status_code=409,
            error=f"Not recorded: {exc}. Upload the file again to compare it with "
            "the plan as it is now.",
        )
    except (ValidationError, ReturnError) as exc:
        first = str(exc).splitlines()[0]
        _note(request, principal, "record_return", record, audit.INVALID, first)
        return _page(
            request,
            principal,
            record,
            plan_of(record),
            status_code=422,
            error=f"Not recorded: {first}",
        )
    slug = quarter_slug(new.financial_year, new.quarter)
    return RedirectResponse(f"/plans/{plan_id}/returns?recorded={slug}", status_code=303)


def _json(report: QuarterReport | None) -> Any:
    return None if report is None else json.loads(report.model_dump_json(exclude_none=True))
