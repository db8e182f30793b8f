"""Plans in the web app's database: import a plan file, read the model, save a version.

The stored body is the validated :class:`bettercare.domain.plan.Plan` as JSON; the
exported YAML validates with ``bettercare plan validate`` like any plan file. Rules and
models are the domain's: the app adds only storage, scope and the workflow state.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import OrderedDict
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bettercare.data.plan_files import load_plan
from bettercare.data.tables import Hwb, PlanRecord, PlanTransition, utcnow
from bettercare.domain.frameworks import framework_for_years
from bettercare.domain.plan import Plan
from bettercare.domain.workflow import Outcome, State


def hwb_code(plan: Plan) -> str:
    """The HWB's key: its ONS code where the plan gives one, else a slug of its name."""
    if plan.hwb.ons_code:
        return plan.hwb.ons_code
    return re.sub(r"[^a-z0-9]+", "-", plan.hwb.name.lower()).strip("-")[:64]


def plan_title(plan: Plan) -> str:
    """A short title: HWB and years."""
    return f"{plan.hwb.name} BCF plan {', '.join(plan.financial_years)}"


def framework_id(plan: Plan) -> str:
    """The id of the plan's policy framework (or 'unknown')."""
    fw = framework_for_years(list(plan.financial_years))
    return fw.id if fw else "unknown"


def plan_of(record: PlanRecord) -> Plan:
    """The domain model of a stored plan."""
    return Plan.model_validate_json(record.body)


#: Plans parsed for reading, per stored body (a page view parses none it has seen).
_READ_CACHE: OrderedDict[tuple[str, str], Plan] = OrderedDict()
_READ_CACHE_SIZE = 64
_READ_LOCK = threading.Lock()


def plan_for_reading(record: PlanRecord) -> Plan:
    """:func:`plan_of`, shared by every reader of the same stored plan: never mutate it.

    Parsing and validating a plan costs a few milliseconds a page view; the pages that only
    read a plan (overview, metrics, board pack, model) take it from here. Keyed by the
    stored JSON itself, so an edit (a new body) is parsed afresh.
    """
    key = (record.id, record.body)
    with _READ_LOCK:
        found = _READ_CACHE.get(key)
        if found is not None:
            _READ_CACHE.move_to_end(key)
            return found
    plan = plan_of(record)
    with _READ_LOCK:
        _READ_CACHE[key] = plan
        while len(_READ_CACHE) > _READ_CACHE_SIZE:
            _READ_CACHE.popitem(last=False)
    return plan


def body_of(plan: Plan) -> str:
    """The JSON stored for a plan."""
    return plan.model_dump_json(exclude_none=True)


def ensure_hwb(db: Session, plan: Plan) -> str:
    """Create the plan's HWB row if it is new; return its code."""
    code = hwb_code(plan)
    if db.get(Hwb, code) is None:
        db.add(Hwb(code=code, name=plan.hwb.name))
        db.flush()
    return code


def import_plan(db: Session, plan: Plan, actor: str) -> PlanRecord:
    """Store ``plan`` as a new record (its ``plan_id`` must be new)."""
    record = PlanRecord(
        id=plan.plan_id,
        hwb_code=ensure_hwb(db, plan),
        title=plan_title(plan),
        framework=framework_id(plan),
        state="draft",
        published=False,
        body=body_of(plan),
        updated_at=utcnow(),
        updated_by=actor,
    )
    db.add(record)
    db.flush()
    return record


def import_plan_file(db: Session, path: Path, actor: str) -> PlanRecord:
    """Read, validate and store one plan file (raises ``PlanFileError`` on a bad file)."""
    return import_plan(db, load_plan(path), actor)


class _PlanDumper(yaml.SafeDumper):
    """Writes plan files as people write them: money as numbers, dates and codes as text."""


def _decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.ScalarNode:
    # the exact digits, unquoted: read back as the same number (no float rounding in
    # between, since the plan model reads a YAML float through its text)
    text = format(value, "f")
    tag = "tag:yaml.org,2002:float" if "." in text else "tag:yaml.org,2002:int"
    return dumper.represent_scalar(tag, text)


def _date(dumper: yaml.SafeDumper, value: dt.date) -> yaml.ScalarNode:
    return dumper.represent_str(value.isoformat())  # quoted: plan files keep dates as text


def _enum(dumper: yaml.SafeDumper, value: Enum) -> yaml.ScalarNode:
    return dumper.represent_str(str(value.value))


_PlanDumper.add_representer(Decimal, _decimal)
_PlanDumper.add_representer(dt.date, _date)
_PlanDumper.add_multi_representer(Enum, _enum)


def export_yaml(plan: Plan) -> str:
    """The plan as a YAML plan file (validates with ``bettercare plan validate``)."""
    data = plan.model_dump(mode="python", exclude_none=True)
    return yaml.dump(data, Dumper=_PlanDumper, sort_keys=False, allow_unicode=True)


def get_plan(db: Session, plan_id: str) -> PlanRecord | None:
    """The stored plan with id ``plan_id``, or None."""
    return db.get(PlanRecord, plan_id)


def save_plan(db: Session, record: PlanRecord, plan: Plan, actor: str) -> None:
    """Store a new version of ``record``'s plan (flushes: a concurrent save raises here).

    SQLAlchemy's version counter makes the UPDATE conditional on the version read, so a
    save racing another between read and write raises ``StaleDataError``.
    """
    record.body = body_of(plan)
    record.title = plan_title(plan)
    record.framework = framework_id(plan)
    record.updated_at = utcnow()
    record.updated_by = actor
    db.flush()


def record_transition(
    db: Session,
    record: PlanRecord,
    target: State,
    outcome: Outcome | None,
    actor: str,
    note: str | None,
) -> PlanTransition:
    """Move ``record`` to ``target`` and add the step to its history."""
    row = PlanTransition(
        plan_id=record.id,
        from_state=record.state,
        to_state=str(target),
        outcome=str(outcome) if outcome else None,
        actor=actor,
        at=utcnow(),
        note=note,
    )
    db.add(row)
    record.state = str(target)
    if outcome is not None:
        record.assurance_outcome = str(outcome)
    elif target is State.DRAFT:
        record.assurance_outcome = None
    return row


def history(db: Session, plan_id: str) -> list[PlanTransition]:
    """A plan's workflow steps, oldest first."""
    q = select(PlanTransition).where(PlanTransition.plan_id == plan_id)
    return list(db.scalars(q.order_by(PlanTransition.id)))


def as_plain(value: Any) -> Any:
    """A value of a dumped plan as JSON-ready data (for the audit log's before/after)."""
    if isinstance(value, dict):
        return {str(k): as_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def list_plans(db: Session) -> list[PlanRecord]:
    """Every plan, by HWB then id."""
    return list(db.scalars(select(PlanRecord).order_by(PlanRecord.hwb_code, PlanRecord.id)))
