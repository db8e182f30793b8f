"""A plan's pages: overview, edit forms, the sign-off workflow, publishing, YAML in and out.

Scope: a signed-in user sees the plans of their own HWB (assurer and admin: every HWB);
the public sees a plan only once it is published as a board paper. Publishing is the
HWB's decision: its partner editors (own HWB) and the admin may publish and unpublish
(``Action.PUBLISH_PLAN``).

Editing (partner editors of the HWB, admin) is allowed only while the plan is a draft.
Every save builds the whole new plan through the domain model and is refused, with the
message next to the field and nothing saved, if the model refuses it; the planning rules'
findings (:func:`bettercare.domain.rules.check_plan`, the same as ``bettercare plan
validate``) are then shown next to the fields. Each form carries the plan's version: a
save over someone else's newer save is refused (409) with the user's input shown back.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from collections import defaultdict
from decimal import Decimal
from enum import StrEnum
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Path, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from bettercare.app import audit
from bettercare.app.models import PlanRecord
from bettercare.app.pages.common import page_responses
from bettercare.app.plan_forms import (
    COLLECTIONS,
    Collection,
    FieldNotes,
    FormField,
    apply_item,
    delete_item,
    form_values,
    invalid_notes,
    items_of,
    notes_for,
    read_form,
)
from bettercare.app.plans import (
    as_plain,
    export_yaml,
    get_plan,
    history,
    hwb_code,
    import_plan,
    plan_of,
    record_transition,
    save_plan,
)
from bettercare.app.security import (
    Action,
    Principal,
    allowed,
    authorize,
    client_ip,
    current_principal,
)
from bettercare.app.templating import TEMPLATES, render
from bettercare.data.plan_files import MAX_PLAN_BYTES, validate_plan_file
from bettercare.domain.findings import Finding, Severity
from bettercare.domain.plan import Plan
from bettercare.domain.rules import check_plan
from bettercare.domain.workflow import (
    TRANSITIONS,
    Outcome,
    State,
    Step,
    WorkflowError,
    editable,
    next_steps,
    take_step,
)

router = APIRouter(responses=page_responses("A malformed form or upload"))


def money(value: Decimal | None) -> str:
    """Pounds for tables: £1,234,567 (pence shown only when there are any)."""
    if value is None:
        return "not stated"
    text = f"{value:,.2f}"
    return "£" + (text[:-3] if text.endswith(".00") else text)


def label(value: Any) -> str:
    """A code as words: ``ccg_minimum`` -> ``ccg minimum``."""
    return str(getattr(value, "value", value)).replace("_", " ")


TEMPLATES.env.filters["money"] = money
TEMPLATES.env.filters["label"] = label

PLAN_ID_PATTERN = r"^[A-Za-z0-9_\-]{1,120}$"
PlanId = Annotated[str, Path(pattern=PLAN_ID_PATTERN, description="The plan's plan_id")]
Index = Annotated[int, Path(ge=0, le=100_000, description="Position of the item in its list")]


class Part(StrEnum):
    """The editable lists of a plan (URL segment)."""

    SCHEMES = "schemes"
    FUNDING = "funding"
    RISKS = "risks"
    CONDITIONS = "conditions"
    METRICS = "metrics"
    SIGN_OFFS = "sign_offs"
    BUDGET = "budget"  # the pooled budget (one form, not a list)
    RISK_SHARE = "risk_share"  # risk share and contingency (one form)


_ITEM_PATH = re.compile(r"^(schemes|funding|risks|national_conditions|metrics|sign_offs)\[(\d+)\]")
_PART_OF_ATTR = {c.attr: c.key for c in COLLECTIONS.values() if not c.single}
# plan keys edited by a form of their own (finding paths link to it)
_SINGLE_FORMS = {
    "minimum_pooled_budget": "budget",
    "agreed_pooled_budget": "budget",
    "protected_social_care": "budget",
    "nhs_minimum_social_care": "budget",
    "risk_share": "risk_share",
}


# --- scope -----------------------------------------------------------------------------


def load_record(db: Session, plan_id: str) -> PlanRecord:
    """The stored plan, or 404."""
    record = get_plan(db, plan_id)
    if record is None:
        raise HTTPException(status_code=404, detail=f"no plan '{plan_id}'")
    return record


def not_found_page(request: Request, principal: Principal, exc: HTTPException) -> Response:
    """A 404 as a page (the JSON API keeps FastAPI's JSON answer)."""
    return render(
        request,
        "error.html.j2",
        principal,
        status_code=404,
        title="Not found",
        message=f"Not found: {exc.detail}.",
    )


def authorize_view(request: Request, principal: Principal, record: PlanRecord) -> None:
    """Signed-in users of the plan's HWB (assurer, admin: any); the public once published."""
    if record.published and not allowed(principal, Action.VIEW_PLAN, record.hwb_code):
        authorize(request, principal, Action.VIEW_PUBLISHED, f"plan:{record.id}", record.hwb_code)
    else:
        authorize(request, principal, Action.VIEW_PLAN, f"plan:{record.id}", record.hwb_code)


def viewable_record(request: Request, principal: Principal, plan_id: str) -> PlanRecord:
    """The stored plan (or 404), once the caller is authorized to view it."""
    with request.app.state.sessions() as db:
        record = load_record(db, plan_id)
    authorize_view(request, principal, record)
    return record


# --- overview --------------------------------------------------------------------------


def _budget(plan: Plan) -> dict[str, Any]:
    """Funding by source (rows) and year (columns), with totals and the pooled budget."""
    years = plan.financial_years
    by_source: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for f in plan.funding:
        by_source[str(f.source)][f.financial_year] += f.amount or Decimal(0)
    return {
        "years": years,
        "rows": sorted(by_source.items()),
        "totals": {fy: plan.funding_total(fy) for fy in years},
        "minimum": plan.minimum_pooled_budget,
        "agreed": plan.agreed_pooled_budget,
        "scheme_totals": {fy: plan.scheme_total(fy) for fy in years},
    }


def risk_band(score: int) -> str:
    """The band of a likelihood x impact score (1-25) as the heatmap colours it."""
    if score >= 15:
        return "very-high"
    if score >= 10:
        return "high"
    if score >= 5:
        return "medium"
    return "low"


def heatmap(plan: Plan) -> dict[str, Any]:
    """Risks placed on a 5 x 5 likelihood x impact grid (rows: impact 5 down to 1)."""
    cells: dict[tuple[int, int], list[str]] = defaultdict(list)
    unscored = []
    for r in plan.risks:
        if r.likelihood is None or r.impact is None:
            unscored.append(r.id)
        else:
            cells[(r.impact, r.likelihood)].append(r.id)
    rows = [
        (
            impact,
            [
                (likelihood, risk_band(impact * likelihood), cells.get((impact, likelihood), []))
                for likelihood in range(1, 6)
            ],
        )
        for impact in range(5, 0, -1)
    ]
    return {"rows": rows, "unscored": unscored}


def finding_link(plan_id: str, finding: Finding) -> str | None:
    """The edit form a finding's path points into (``schemes[2]...`` -> scheme 2's form)."""
    match = _ITEM_PATH.match(finding.path)
    if match:
        return f"/plans/{plan_id}/{_PART_OF_ATTR[match.group(1)]}/{match.group(2)}"
    single = _SINGLE_FORMS.get(re.split(r"[.\[]", finding.path, maxsplit=1)[0])
    return f"/plans/{plan_id}/{single}" if single else None


def _overview_context(
    db: Session, principal: Principal, record: PlanRecord, plan: Plan
) -> dict[str, Any]:
    findings = check_plan(plan)
    state = State(record.state)
    outcome = Outcome(record.assurance_outcome) if record.assurance_outcome else None
    steps = [
        t
        for t in next_steps(state, outcome, plan)
        if allowed(principal, Action(t.action), record.hwb_code)
    ]
    return {
        "record": record,
        "plan": plan,
        "budget": _budget(plan),
        "heatmap": heatmap(plan),
        "findings": [(f, finding_link(record.id, f)) for f in findings],
        "errors": sum(f.severity is Severity.ERROR for f in findings),
        "warnings": sum(f.severity is Severity.WARNING for f in findings),
        "state": state,
        "editable": editable(state),
        "can_edit": allowed(principal, Action.EDIT_PLAN, record.hwb_code),
        "can_publish": allowed(principal, Action.PUBLISH_PLAN, record.hwb_code),
        "steps": steps,
        "outcomes": list(Outcome),
        "history": history(db, record.id),
        "collections": COLLECTIONS,
        "blocking": [],
        "message": None,
    }


@router.get("/plans/import", response_class=HTMLResponse)
def import_form(request: Request, principal: Principal = Depends(current_principal)) -> Response:
    """Upload a plan YAML file."""
    authorize(request, principal, Action.IMPORT_PLAN, "plan:import")
    return render(request, "plan_import.html.j2", principal, findings=[], message=None)


@router.post("/plans/import", response_model=None)
async def import_upload(
    request: Request,
    file: UploadFile = File(..., description="A plan YAML file"),
    principal: Principal = Depends(current_principal),
) -> Response:
    """Import a plan file: a new ``plan_id`` is created as a draft; an existing one refused.

    The file is read exactly as ``bettercare plan validate`` reads it (same size and
    structure limits); any problem is shown as file:line findings and nothing is saved.
    """
    authorize(request, principal, Action.IMPORT_PLAN, "plan:import")
    raw = await file.read(MAX_PLAN_BYTES + 1)
    name = re.sub(r"[^A-Za-z0-9_.\-]+", "_", FilePath(file.filename or "plan.yaml").name)[:100]
    return await run_in_threadpool(_import, request, principal, raw, name or "plan.yaml")


def _import(request: Request, principal: Principal, raw: bytes, name: str) -> Response:
    with tempfile.TemporaryDirectory(prefix="bettercare-import-") as tmp:
        path = FilePath(tmp) / name
        path.write_bytes(raw)  # the reader enforces MAX_PLAN_BYTES on this copy
        plan, found = validate_plan_file(path)
    # findings name the uploaded file, not the temporary copy
    findings = [f.located(name, f.line) for f in found]
    with request.app.state.sessions() as db:
        if plan is None:
            audit.record(
                db,
                principal,
                str(Action.IMPORT_PLAN),
                f"file:{name}",
                audit.INVALID,
                detail="; ".join(str(f) for f in findings)[:2000],
                ip=client_ip(request),
            )
            db.commit()
            return render(
                request,
                "plan_import.html.j2",
                principal,
                status_code=422,
                findings=findings,
                message=f"{name} was not imported: fix the problems below and upload it again.",
            )
        authorize(request, principal, Action.IMPORT_PLAN, f"plan:{plan.plan_id}", hwb_code(plan))
        if get_plan(db, plan.plan_id) is not None:
            audit.record(
                db,
                principal,
                str(Action.IMPORT_PLAN),
                f"plan:{plan.plan_id}",
                audit.CONFLICT,
                detail="plan_id exists",
                ip=client_ip(request),
                hwb_code=hwb_code(plan),
            )
            db.commit()
            return render(
                request,
                "plan_import.html.j2",
                principal,
                status_code=409,
                findings=[],
                message=f"A plan with plan_id '{plan.plan_id}' exists "
                "already: nothing was imported. Edit that plan here, or give the "
                "file a new plan_id to import it as a new plan.",
            )
        record = import_plan(db, plan, principal.username)
        audit.record(
            db,
            principal,
            str(Action.IMPORT_PLAN),
            f"plan:{record.id}",
            after={"file": name, "plan_id": record.id},
            ip=client_ip(request),
            hwb_code=record.hwb_code,
        )
        db.commit()
    return RedirectResponse(f"/plans/{plan.plan_id}?imported=1", status_code=303)


@router.get("/plans/{plan_id}", response_class=HTMLResponse)
def overview(
    request: Request, plan_id: PlanId, principal: Principal = Depends(current_principal)
) -> Response:
    """A plan at a glance: budget, schemes, conditions, risks, sign-offs, workflow, findings."""
    with request.app.state.sessions() as db:
        try:
            record = load_record(db, plan_id)
        except HTTPException as exc:
            return not_found_page(request, principal, exc)
        authorize_view(request, principal, record)
        ctx = _overview_context(db, principal, record, plan_of(record))
    return render(request, "plan.html.j2", principal, **ctx)


@router.get("/plans/{plan_id}/plan.yaml", response_class=Response)
def export(
    request: Request, plan_id: PlanId, principal: Principal = Depends(current_principal)
) -> Response:
    """The current plan as a plan file (validates with ``bettercare plan validate``)."""
    record = viewable_record(request, principal, plan_id)
    text = export_yaml(plan_of(record))
    return Response(
        text,
        media_type="application/yaml",
        headers={"content-disposition": f'attachment; filename="{record.id}.yaml"'},
    )


# --- publish and workflow --------------------------------------------------------------


@router.post("/plans/{plan_id}/publish", response_model=None)
def publish(
    request: Request,
    plan_id: PlanId,
    published: Annotated[str, Form(max_length=5, description="1: publish, 0: withdraw")],
    principal: Principal = Depends(current_principal),
) -> Response:
    """Publish the plan as a board paper (public) or withdraw it (``published=0``)."""
    return _publish(request, principal, plan_id, published in ("1", "true", "on"))


def _publish(request: Request, principal: Principal, plan_id: str, wanted: bool) -> Response:
    with request.app.state.sessions() as db:
        record = load_record(db, plan_id)
        authorize(request, principal, Action.PUBLISH_PLAN, f"plan:{plan_id}", record.hwb_code)
        before = record.published
        record.published = wanted
        audit.record(
            db,
            principal,
            str(Action.PUBLISH_PLAN),
            f"plan:{plan_id}",
            before={"published": before},
            after={"published": wanted},
            ip=client_ip(request),
            hwb_code=record.hwb_code,
        )
        db.commit()
    return RedirectResponse(f"/plans/{plan_id}#publishing", status_code=303)


def _version(form_value: Any) -> int | None:
    try:
        return int(str(form_value))
    except ValueError:
        return None


@router.post("/plans/{plan_id}/workflow", response_model=None)
def workflow(
    request: Request,
    plan_id: PlanId,
    step: Annotated[Step, Form(description="The step to take")],
    version: Annotated[int, Form(ge=0, description="The plan version the page showed")],
    outcome: Annotated[Outcome | None, Form(description="Assurance only")] = None,
    note: Annotated[str, Form(max_length=2000)] = "",
    principal: Principal = Depends(current_principal),
) -> Response:
    """Take one workflow step (an assurance needs its outcome)."""
    return _workflow(request, principal, plan_id, step, outcome, note, version)


def _workflow(
    request: Request,
    principal: Principal,
    plan_id: str,
    step: Step,
    outcome: Outcome | None,
    note_text: str,
    version: int,
) -> Response:
    note = note_text.strip() or None
    transition = TRANSITIONS[step]
    with request.app.state.sessions() as db:
        record = load_record(db, plan_id)
        target = f"plan:{plan_id}"
        authorize(request, principal, Action(transition.action), target, record.hwb_code)
        plan = plan_of(record)

        def refuse(
            status: int, outcome_code: str, message: str, blocking: list[Finding]
        ) -> Response:
            audit.record(
                db,
                principal,
                str(transition.action),
                target,
                outcome_code,
                detail=message[:2000],
                ip=client_ip(request),
                hwb_code=record.hwb_code,
            )
            db.commit()
            ctx = _overview_context(db, principal, record, plan)
            ctx.update(message=message, blocking=blocking)
            return render(request, "plan.html.j2", principal, status_code=status, **ctx)

        if version != record.version:
            return refuse(
                409,
                audit.CONFLICT,
                "The plan changed since you opened this page "
                f"(now version {record.version}, by {record.updated_by}): check it "
                "and try again.",
                [],
            )
        try:
            today = dt.datetime.now(dt.UTC).date()
            result = take_step(plan, State(record.state), step, outcome, today)
        except WorkflowError as exc:
            return refuse(409, audit.INVALID, f"Not possible: {exc}.", [])
        if not result.allowed:
            return refuse(
                409,
                audit.INVALID,
                f"'{transition.label}' refused: the plan has "
                f"{len(result.errors)} planning rule error(s). Fix them in draft "
                "first.",
                result.errors,
            )
        before = {"state": record.state, "outcome": record.assurance_outcome}
        try:
            if result.plan != plan:
                save_plan(db, record, result.plan, principal.username)
            record_transition(db, record, result.target, outcome, principal.username, note)
            audit.record(
                db,
                principal,
                str(transition.action),
                target,
                before=before,
                after={
                    "state": str(result.target),
                    "outcome": outcome and str(outcome),
                    "note": note,
                },
                ip=client_ip(request),
                hwb_code=record.hwb_code,
            )
            db.commit()
        except StaleDataError:
            db.rollback()
            return refuse(
                409,
                audit.CONFLICT,
                "Someone else changed the plan at the same moment: check it and try again.",
                [],
            )
    return RedirectResponse(f"/plans/{plan_id}#workflow", status_code=303)


# --- edit forms ------------------------------------------------------------------------


def _items(plan: Plan, coll: Collection) -> list[dict[str, Any]]:
    return items_of(plan.model_dump(mode="python"), coll, coll.fields(plan, None))


def _edit_page(
    request: Request,
    principal: Principal,
    record: PlanRecord,
    plan: Plan,
    coll: Collection,
    index: int | None,
    fields: list[FormField],
    values: dict[str, Any],
    *,
    notes: FieldNotes | None = None,
    version: int | None = None,
    message: str | None = None,
    saved: bool = False,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "plan_item.html.j2",
        principal,
        status_code=status_code,
        record=record,
        plan=plan,
        coll=coll,
        index=index,
        fields=fields,
        values=values,
        notes=notes or FieldNotes(),
        message=message,
        saved=saved,
        version=record.version if version is None else version,
        editable=editable(State(record.state)),
    )


def _edit_target(plan_id: str, coll: Collection, index: int | None) -> str:
    if coll.single:
        return f"plan:{plan_id}/{coll.attr or coll.key}"
    return f"plan:{plan_id}/{coll.attr}" + ("" if index is None else f"[{index}]")


def _open_form(
    request: Request,
    principal: Principal,
    plan_id: str,
    part: Part,
    index: int | None,
    saved: bool = False,
) -> Response:
    coll = COLLECTIONS[part.value]
    with request.app.state.sessions() as db:
        record = load_record(db, plan_id)
        authorize(
            request,
            principal,
            Action.EDIT_PLAN,
            _edit_target(plan_id, coll, index),
            record.hwb_code,
        )
    plan = plan_of(record)
    items = _items(plan, coll)
    if index is not None and index >= len(items):
        raise HTTPException(status_code=404, detail=f"no {coll.singular} {index}")
    item = items[index] if index is not None else None
    fields = coll.fields(plan, item)
    notes = (
        notes_for(check_plan(plan), coll, index, fields, item_only=True)
        if index is not None
        else None
    )
    return _edit_page(
        request,
        principal,
        record,
        plan,
        coll,
        index,
        fields,
        form_values(fields, item),
        notes=notes,
        saved=saved,
    )


def _item_routes(part: Part) -> None:
    """The form routes of one list, under its literal name (``/plans/{id}/schemes/...``).

    Literal segments rather than a ``{part}`` parameter, so these routes never take a
    path of another page under ``/plans/{id}/`` (such as the returns').
    """
    base = f"/plans/{{plan_id}}/{part.value}"
    singular = COLLECTIONS[part.value].singular

    def form_page(
        request: Request, principal: Principal, plan_id: str, index: int | None, saved: bool
    ) -> Response:
        try:
            return _open_form(request, principal, plan_id, part, index, saved)
        except HTTPException as exc:
            return not_found_page(request, principal, exc)

    async def submit(
        request: Request,
        principal: Principal,
        plan_id: str,
        index: int | None,
        remove: bool = False,
    ) -> Response:
        """Read the posted form, then save it off the event loop (the save is synchronous)."""
        form = dict(await request.form())
        return await run_in_threadpool(
            _save, request, principal, plan_id, part, index, form, remove
        )

    def new_item(
        request: Request, plan_id: PlanId, principal: Principal = Depends(current_principal)
    ) -> Response:
        return form_page(request, principal, plan_id, None, False)

    def edit_item(
        request: Request,
        plan_id: PlanId,
        index: Index,
        saved: bool = False,
        principal: Principal = Depends(current_principal),
    ) -> Response:
        return form_page(request, principal, plan_id, index, saved)

    async def add_item(
        request: Request, plan_id: PlanId, principal: Principal = Depends(current_principal)
    ) -> Response:
        return await submit(request, principal, plan_id, None)

    async def save_item(
        request: Request,
        plan_id: PlanId,
        index: Index,
        principal: Principal = Depends(current_principal),
    ) -> Response:
        return await submit(request, principal, plan_id, index)

    async def remove_item(
        request: Request,
        plan_id: PlanId,
        index: Index,
        principal: Principal = Depends(current_principal),
    ) -> Response:
        return await submit(request, principal, plan_id, index, remove=True)

    key = part.value
    if COLLECTIONS[key].single:

        def single_form(
            request: Request,
            plan_id: PlanId,
            saved: bool = False,
            principal: Principal = Depends(current_principal),
        ) -> Response:
            return form_page(request, principal, plan_id, 0, saved)

        async def save_single(
            request: Request, plan_id: PlanId, principal: Principal = Depends(current_principal)
        ) -> Response:
            return await submit(request, principal, plan_id, 0)

        router.add_api_route(
            base,
            single_form,
            methods=["GET"],
            name=f"edit_{key}",
            description=f"The {singular} form, with the rules' findings.",
            response_model=None,
            response_class=HTMLResponse,
        )
        router.add_api_route(
            base,
            save_single,
            methods=["POST"],
            name=f"save_{key}",
            description=f"Save the {singular} (the form carries the version).",
            response_model=None,
            response_class=Response,
        )
        return
    routes: list[tuple[str, str, Any, str, str]] = [
        ("GET", "/new", new_item, f"new_{key}", f"The form for a new {singular}."),
        (
            "GET",
            "/{index}",
            edit_item,
            f"edit_{key}",
            f"The edit form of one {singular}, with the planning rules' findings by its fields.",
        ),
        (
            "POST",
            "",
            add_item,
            f"add_{key}",
            f"Add a {singular} (form fields as the new form's; nothing saved if invalid).",
        ),
        (
            "POST",
            "/{index}",
            save_item,
            f"save_{key}",
            f"Save an edited {singular} (the form carries the plan version).",
        ),
        (
            "POST",
            "/{index}/delete",
            remove_item,
            f"delete_{key}",
            f"Delete a {singular} (the form carries the plan version).",
        ),
    ]
    for method, tail, endpoint, name, doc in routes:
        router.add_api_route(
            base + tail,
            endpoint,
            methods=[method],
            name=name,
            description=doc,
            response_model=None,
            response_class=HTMLResponse if method == "GET" else Response,
        )


for _part in Part:
    _item_routes(_part)


def _save(
    request: Request,
    principal: Principal,
    plan_id: str,
    part: Part,
    index: int | None,
    form: dict[str, Any],
    delete: bool = False,
) -> Response:
    """One save: scope, draft only, version check, model validation, audit; all or nothing."""
    coll = COLLECTIONS[part.value]
    ip = client_ip(request)
    target = _edit_target(plan_id, coll, index)
    with request.app.state.sessions() as db:
        record = load_record(db, plan_id)
        authorize(request, principal, Action.EDIT_PLAN, target, record.hwb_code)
        plan = plan_of(record)
        items = _items(plan, coll)
        if index is not None and index >= len(items):
            raise HTTPException(status_code=404, detail=f"no {coll.singular} {index}")
        fields = coll.fields(plan, items[index] if index is not None else None)
        values = read_form(fields, form)

        def refuse(
            status: int,
            outcome: str,
            message: str,
            notes: FieldNotes | None = None,
            why: list[Finding] | None = None,
        ) -> Response:
            detail = "; ".join(str(f) for f in why) if why else message
            audit.record(
                db,
                principal,
                str(Action.EDIT_PLAN),
                target,
                outcome,
                after={"input": values},
                detail=detail[:2000],
                ip=ip,
                hwb_code=record.hwb_code,
            )
            db.commit()
            return _edit_page(
                request,
                principal,
                record,
                plan,
                coll,
                index,
                fields,
                values,
                notes=notes,
                message=message,
                status_code=status,
            )

        if not editable(State(record.state)):
            return refuse(
                409,
                audit.INVALID,
                f"Not saved: the plan is '{record.state}'. Editing is only allowed in draft.",
            )
        sent = _version(form.get("version"))
        if sent != record.version:
            return refuse(409, audit.CONFLICT, _conflict_message(record, sent))
        before: dict[str, Any] | None
        after: dict[str, Any] | None = None
        try:
            if delete and index is not None:
                new_plan, before = delete_item(plan, coll, index)
            else:
                new_plan, index, before, after = apply_item(plan, coll, index, values, fields)
        except ValidationError as exc:
            notes = invalid_notes(exc, coll, index if index is not None else len(items), fields)
            shown = sum(len(v) for v in notes.by_field.values())
            message = (
                f"Not saved: {shown} value(s) are not valid, shown next to their fields below."
                if shown
                else "Not saved: the plan would not be valid."
            )
            return refuse(422, audit.INVALID, message, notes, notes.all())
        try:
            save_plan(db, record, new_plan, principal.username)
            audit.record(
                db,
                principal,
                str(Action.EDIT_PLAN),
                _edit_target(plan_id, coll, index),
                before=as_plain(before),
                after=as_plain(after),
                ip=ip,
                hwb_code=record.hwb_code,
            )
            db.commit()
        except StaleDataError:
            db.rollback()
            fresh = load_record(db, plan_id)
            record = fresh
            return refuse(409, audit.CONFLICT, _conflict_message(fresh, sent))
    if delete:
        return RedirectResponse(f"/plans/{plan_id}#{coll.key}", status_code=303)
    page = f"/plans/{plan_id}/{coll.key}" + ("" if coll.single else f"/{index}")
    return RedirectResponse(f"{page}?saved=true", status_code=303)


def _conflict_message(record: PlanRecord, sent: int | None) -> str:
    when = record.updated_at.strftime("%d %b %Y %H:%M") if record.updated_at else "recently"
    return (
        f"Not saved: {record.updated_by or 'someone'} saved this plan at {when} UTC after you "
        f"opened the form (your version {sent}, now {record.version}). Your input is shown "
        "below and nothing is lost: check the plan, then save again to apply it."
    )
