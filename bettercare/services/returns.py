"""Quarterly returns in the web app: the quarters, a return's workbook, checking and recording.

The workbook is :func:`bettercare.reporting.returns.write_return`'s and is read back by
:func:`bettercare.data.returns.read_return`, exactly as ``bettercare return write|read``
do. An upload is checked and compared with the plan; nothing is saved. Recording it is a
second step that carries the plan version it was compared with, refused if the plan
changed since (optimistic locking). Every upload and record attempt is audit-logged.
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from bettercare.data.plan_store import plan_of, save_plan
from bettercare.data.tables import PlanRecord
from bettercare.domain.access import Action
from bettercare.domain.plan import Plan, QuarterReport
from bettercare.domain.text import printable
from bettercare.errors import Conflict, NotFound
from bettercare.services import audit
from bettercare.services.access import Caller, may
from bettercare.services.plans import authorized_record, load_record

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)
_URL_QUARTER = re.compile(r"^(\d{4})-(\d{2})-Q([1-4])$")


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


def quarters(plan: Plan) -> list[dict[str, Any]]:
    """Every quarter of the plan's years: slug, label and the return recorded (if any)."""
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


@dataclass
class ReturnsView:
    """The returns page: the plan's quarters, and an upload's check or a refusal."""

    record: PlanRecord
    plan: Plan
    quarters: list[dict[str, Any]]
    may_upload: bool
    status: int = 200
    error: str | None = None
    recorded: str | None = None
    check: dict[str, Any] | None = field(default=None)


def _view(
    caller: Caller,
    record: PlanRecord,
    plan: Plan | None = None,
    *,
    status: int = 200,
    error: str | None = None,
    recorded: str | None = None,
    check: dict[str, Any] | None = None,
) -> ReturnsView:
    plan = plan if plan is not None else plan_of(record)
    return ReturnsView(
        record=record,
        plan=plan,
        quarters=quarters(plan),
        may_upload=may(caller, Action.UPLOAD_RETURN, record.hwb_code),
        status=status,
        error=error,
        recorded=recorded,
        check=check,
    )


def returns_view(
    db: Session, caller: Caller, plan_id: str, recorded: str | None = None
) -> ReturnsView:
    """The plan's quarters (``recorded``: the slug of a return just recorded, shown once)."""
    from bettercare.data.returns import ReturnError, return_label

    record = authorized_record(db, caller, plan_id, Action.VIEW_PLAN)
    shown = None
    if recorded:
        try:
            fy, q = parse_quarter_slug(recorded)
            shown = f"{fy} {return_label(q)}"
        except ReturnError:
            shown = None
    return _view(caller, record, recorded=shown)


@dataclass(frozen=True)
class Workbook:
    """A return as an XLSX file to download."""

    filename: str
    content: bytes


#: The plan measured, as a return takes it: metrics judged against the plan per grain
#: (with their ``source``), and the HWB measured; None while it is not measured.
Measured = Callable[[str, int, Plan], "tuple[Mapping[str, pd.DataFrame], str] | None"]


def workbook(
    db: Session, caller: Caller, plan_id: str, quarter: str, measured: Measured | None = None
) -> Workbook:
    """The quarter's return as XLSX: as the plan records it, else blank to fill in.

    A return the plan does not record yet has its metric section pre-filled from the
    plan's metrics as the app measured them (``measured``: the store and/or published
    figures, each with its source, :func:`bettercare.reporting.returns.prefill_judged`),
    once they are measured.
    """
    from bettercare.data.returns import ReturnError, quarter_in_plan
    from bettercare.reporting.returns import write_return

    record = authorized_record(db, caller, plan_id, Action.VIEW_PLAN)
    plan = plan_of(record)
    try:
        fy, q = parse_quarter_slug(quarter)
        quarter_in_plan(plan, fy, q)
    except ReturnError as exc:
        raise NotFound(str(exc)) from None
    judged = None
    if measured is not None and plan.quarter_report(fy, q) is None:
        judged = measured(record.id, record.version, plan)
    with tempfile.TemporaryDirectory(prefix="bettercare-return-") as tmp:
        path = Path(tmp) / "return.xlsx"
        if judged is None:
            write_return(plan, fy, q, path)
        else:
            write_return(plan, fy, q, path, judged=judged[0], hwb_code=judged[1])
        content = path.read_bytes()
    return Workbook(f"{plan.plan_id}_{quarter_slug(fy, q)}.xlsx", content)


def _note(
    db: Session, caller: Caller, record: PlanRecord, action: str, outcome: str, why: str
) -> None:
    audit.record(
        db,
        caller.principal,
        action,
        f"plan:{record.id}",
        outcome,
        ip=caller.ip,
        hwb_code=record.hwb_code,
        detail=why,
    )
    db.commit()


def may_upload(db: Session, caller: Caller, plan_id: str) -> PlanRecord:
    """The plan, once the caller may upload its returns (NotFound, NotPermitted)."""
    return authorized_record(db, caller, plan_id, Action.UPLOAD_RETURN)


def refuse_upload(db: Session, caller: Caller, plan_id: str, status: int, why: str) -> ReturnsView:
    """An upload refused before reading (too large): audited, the page with the reason."""
    record = may_upload(db, caller, plan_id)
    _note(db, caller, record, "upload_return", audit.INVALID, why)
    return _view(caller, record, status=status, error=why)


def metric_name(metric: str) -> str:
    """The catalogue's name of a metric (its id for one the catalogue lacks)."""
    from bettercare.domain.metrics import CATALOGUE

    return CATALOGUE[metric].name if metric in CATALOGUE else metric.replace("_", " ")


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


def check_upload(db: Session, caller: Caller, plan_id: str, path: Path, name: str) -> ReturnsView:
    """Read the return at ``path`` (uploaded as ``name``) and compare it with the plan.

    Nothing is saved; the check's ``report_json`` is what the record step may store.
    """
    from bettercare.data.returns import ReturnError, read_return

    record = may_upload(db, caller, plan_id)
    plan = plan_of(record)
    problem: str | None = None
    try:
        report = read_return(path, plan)
    except ReturnError as exc:
        problem = str(exc).replace(printable(str(path)), name, 1)
    except Exception:  # an untrusted file may trip the XLSX library anywhere: no 500
        log.warning("upload %s could not be read", name, exc_info=True)
        problem = f"{name}: could not be read as a return (not a workbook written by bettercare)"
    if problem is not None:
        _note(db, caller, record, "upload_return", audit.INVALID, problem)
        return _view(caller, record, plan, status=422, error=problem)
    check = comparison(plan, report)
    check |= {
        "name": name,
        "report_json": report.model_dump_json(exclude_none=True),
        "version": record.version,
    }
    why = f"{name}: {check['quarter']} read, {check['verdict']}; not recorded"
    _note(db, caller, record, "upload_return", audit.OK, why)
    return _view(caller, record, plan, check=check)


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


@dataclass(frozen=True)
class Recorded:
    """A record step: ``refused`` None when recorded (``slug``: its quarter)."""

    slug: str | None = None
    refused: ReturnsView | None = None


def record_return(
    db: Session,
    caller: Caller,
    plan_id: str,
    report_json: str,
    expected_version: int,
    *,
    signed: bool,
) -> Recorded:
    """Record a return (as this server read it: ``signed``) as the plan's for its quarter."""
    from bettercare.data.returns import ReturnError, quarter_in_plan

    record = authorized_record(db, caller, plan_id, Action.UPLOAD_RETURN)
    action = "record_return"
    if not signed:
        _note(db, caller, record, action, audit.INVALID, "return not as read by this server")
        return Recorded(
            refused=_view(
                caller,
                record,
                status=422,
                error="This return was not read by this page: upload the file again.",
            )
        )
    try:
        new = QuarterReport.model_validate_json(report_json)
        plan = plan_of(record)
        quarter_in_plan(plan, new.financial_year, new.quarter)
        before = plan.quarter_report(new.financial_year, new.quarter)
        if record.version != expected_version:
            raise StalePlan(plan_id, expected_version, record.version)
        try:  # the version counter refuses a save racing another
            save_plan(db, record, with_report(plan, new), caller.username)
        except StaleDataError:
            db.rollback()
            raise StalePlan(plan_id, expected_version, None) from None
        audit.record(
            db,
            caller.principal,
            action,
            f"plan:{plan_id}",
            ip=caller.ip,
            hwb_code=record.hwb_code,
            before=_json(before),
            after=_json(new),
            detail=f"{new.financial_year} Q{new.quarter}",
        )
        db.commit()
    except StalePlan as exc:
        current = load_record(db, plan_id)
        _note(db, caller, current, action, audit.CONFLICT, str(exc))
        return Recorded(
            refused=_view(
                caller,
                current,
                status=409,
                error=f"Not recorded: {exc}. Upload the file again to compare it with "
                "the plan as it is now.",
            )
        )
    except (ValidationError, ReturnError) as exc:
        first = str(exc).splitlines()[0]
        _note(db, caller, record, action, audit.INVALID, first)
        return Recorded(refused=_view(caller, record, status=422, error=f"Not recorded: {first}"))
    return Recorded(slug=quarter_slug(new.financial_year, new.quarter))


def _json(report: QuarterReport | None) -> Any:
    return None if report is None else json.loads(report.model_dump_json(exclude_none=True))
