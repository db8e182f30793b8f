"""A small read-only JSON API: the plans in scope, one plan, its planning-rule findings.

Same scope and audit as the pages (:func:`bettercare.services.plans.authorize_view`):
a bearer token or session sees its HWB's plans (assurer, admin: every HWB), anyone sees
published plans. Path parameters are validated (422), an unknown plan is 404, a plan out
of scope 401/403; response models make the OpenAPI schema describe every answer.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from bettercare.app.deps import Acting, Db
from bettercare.app.pages.plans import PlanId
from bettercare.domain.plan import Plan
from bettercare.domain.rules import check_plan
from bettercare.services import plans

router = APIRouter(prefix="/api", tags=["plans"])


class Problem(BaseModel):
    """An error answer."""

    detail: Any


_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Sign in (bearer token) to read this plan"},
    403: {"model": Problem, "description": "Outside your role or HWB (audit-logged)"},
    404: {"model": Problem, "description": "No plan with this id"},
}


class PlanSummary(BaseModel):
    """One plan in the list: id, HWB, workflow state."""

    plan_id: str
    title: str
    hwb_code: str
    framework: str
    state: str = Field(description="Workflow state: draft, agreed, hwb_approved, submitted, ...")
    assurance_outcome: str | None = None
    published: bool
    version: int = Field(description="Changes on every save (optimistic locking)")


class FindingOut(BaseModel):
    """A planning rule's finding (as ``bettercare plan validate`` prints it)."""

    rule: str
    severity: str = Field(description="error or warning")
    path: str = Field(description="Where in the plan, e.g. schemes[2].spend.2015/16")
    message: str


class Findings(BaseModel):
    """Every finding of the planning rules on the current plan."""

    plan_id: str
    version: int
    errors: int
    warnings: int
    findings: list[FindingOut]


@router.get("/plans", response_model=list[PlanSummary])
def api_plans(request: Request, db: Db, caller: Acting) -> list[PlanSummary]:
    """The plans the caller may read (the public: published ones)."""
    return [
        PlanSummary(
            plan_id=r.id,
            title=r.title,
            hwb_code=r.hwb_code,
            framework=r.framework,
            state=r.state,
            assurance_outcome=r.assurance_outcome,
            published=r.published,
            version=r.version,
        )
        for r in plans.visible_plans(db, caller)
    ]


@router.get("/plans/{plan_id}", response_model=Plan, responses=_ERRORS)
def api_plan(request: Request, plan_id: PlanId, db: Db, caller: Acting) -> Plan:
    """The plan as JSON (the plan file's fields; its JSON Schema is the plan model's)."""
    return plans.viewable_plan(db, caller, plan_id)[1]


@router.get("/plans/{plan_id}/findings", response_model=Findings, responses=_ERRORS)
def api_findings(request: Request, plan_id: PlanId, db: Db, caller: Acting) -> Findings:
    """The planning rules' findings on the current plan (the same rules as the CLI)."""
    record, plan = plans.viewable_plan(db, caller, plan_id)
    found = check_plan(plan)
    return Findings(
        plan_id=record.id,
        version=record.version,
        errors=sum(f.severity == "error" for f in found),
        warnings=sum(f.severity == "warning" for f in found),
        findings=[
            FindingOut(rule=f.rule, severity=str(f.severity), path=f.path, message=f.message)
            for f in found
        ],
    )
