"""Plans in the app's database: import a YAML file, read the model, save a new version.

The stored body is the validated :class:`bettercare.domain.plan.Plan` as JSON; the
exported YAML validates with ``bettercare plan validate`` like any plan file. Rules and
models are the domain's: the app adds only storage, scope and the workflow state.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bettercare.app.models import Hwb, PlanRecord, utcnow
from bettercare.data.plan_files import load_plan
from bettercare.domain.frameworks import framework_for_years
from bettercare.domain.plan import Plan


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


def export_yaml(plan: Plan) -> str:
    """The plan as a YAML plan file (validates with ``bettercare plan validate``)."""
    data = plan.model_dump(mode="json", exclude_none=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def list_plans(db: Session) -> list[PlanRecord]:
    """Every plan, by HWB then id."""
    return list(db.scalars(select(PlanRecord).order_by(PlanRecord.hwb_code, PlanRecord.id)))
