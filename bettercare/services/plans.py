"""Plans in the web app: list, view, export, import, publish, and the edit forms' saves.

Scope: a signed-in user sees the plans of their own HWB (assurer and admin: every HWB);
the public sees a plan only once it is published as a board paper. Publishing is the
HWB's decision (partner editors of the HWB, admin). Editing is allowed only while the
plan is a draft; every save builds the whole new plan through the domain model and is
refused, with the message by the field and nothing saved, if the model refuses it. Each
form carries the plan's version: a save over someone else's newer save is refused (409)
with the input shown back. The workflow steps are :mod:`bettercare.services.workflow`.

Every function takes the request's session and the :class:`~bettercare.services.access.Caller`
and returns a view model; refusals of scope raise ``NotPermitted`` (audit-logged), an
unknown plan or item ``NotFound``.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from bettercare.data.plan_files import validate_plan_file
from bettercare.data.plan_store import (
    as_plain,
    export_yaml,
    get_plan,
    history,
    hwb_code,
    import_plan,
    list_plans,
    plan_for_reading,
    plan_of,
    save_plan,
)
from bettercare.data.tables import AuditEvent, PlanRecord, PlanTransition
from bettercare.domain.access import Action
from bettercare.domain.findings import Finding, Severity
from bettercare.domain.labels import code_label
from bettercare.domain.plan import Plan
from bettercare.domain.risk import band_of
from bettercare.domain.rules import check_plan
from bettercare.domain.workflow import (
    DateField,
    Outcome,
    State,
    Transition,
    date_field,
    editable,
    next_steps,
    reopen_roles_text,
)
from bettercare.errors import NotFound
from bettercare.services import audit
from bettercare.services.access import Caller, may, permit
from bettercare.services.plan_forms import (
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
    restore_item,
    typed_notes,
    unique_notes,
)

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


class _View:
    """A view model whose fields are a template's context."""

    def context(self) -> dict[str, Any]:
        """The fields by name (shallow: the template reads the objects themselves)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]


# --- scope -----------------------------------------------------------------------------


def load_record(db: Session, plan_id: str) -> PlanRecord:
    """The stored plan, or ``NotFound``."""
    record = get_plan(db, plan_id)
    if record is None:
        raise NotFound(f"no plan '{plan_id}'")
    return record


def authorize_view(db: Session, caller: Caller, record: PlanRecord) -> None:
    """Signed-in users of the plan's HWB (assurer, admin: any); the public once published."""
    target = f"plan:{record.id}"
    if record.published and not may(caller, Action.VIEW_PLAN, record.hwb_code):
        permit(db, caller, Action.VIEW_PUBLISHED, target, record.hwb_code)
    else:
        permit(db, caller, Action.VIEW_PLAN, target, record.hwb_code)


def viewable_record(db: Session, caller: Caller, plan_id: str) -> PlanRecord:
    """The stored plan (or ``NotFound``), once the caller may view it."""
    record = load_record(db, plan_id)
    authorize_view(db, caller, record)
    return record


def authorized_record(
    db: Session, caller: Caller, plan_id: str, action: Action, target: str = ""
) -> PlanRecord:
    """The stored plan (or ``NotFound``), once the caller may ``action`` on ``target``."""
    record = load_record(db, plan_id)
    permit(db, caller, action, target or f"plan:{plan_id}", record.hwb_code)
    return record


def visible_plans(db: Session, caller: Caller) -> list[PlanRecord]:
    """Every plan the caller may read (the public: published ones), by HWB then id."""
    return [r for r in list_plans(db) if r.published or may(caller, Action.VIEW_PLAN, r.hwb_code)]


def viewable_plan(db: Session, caller: Caller, plan_id: str) -> tuple[PlanRecord, Plan]:
    """The stored plan and its model, once the caller may view it."""
    record = viewable_record(db, caller, plan_id)
    return record, plan_for_reading(record)  # shared: read only


# --- overview --------------------------------------------------------------------------


def budget(plan: Plan) -> dict[str, Any]:
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


def heatmap(plan: Plan) -> dict[str, Any]:
    """Risks placed on a 5 x 5 likelihood x impact grid (rows: impact 5 down to 1).

    Each cell carries its band (:func:`bettercare.domain.risk.band_of`), the CSS class
    that colours it.
    """
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
                (
                    likelihood,
                    str(band_of(likelihood, impact)),
                    cells.get((impact, likelihood), []),
                )
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


#: The sections of a plan that findings are grouped under (path root -> title, anchor).
SECTIONS: dict[str, tuple[str, str]] = {
    "schemes": ("Schemes", "schemes"),
    "funding": ("Funding", "budget"),
    "minimum_pooled_budget": ("Pooled budget", "budget"),
    "agreed_pooled_budget": ("Pooled budget", "budget"),
    "protected_social_care": ("Pooled budget", "budget"),
    "nhs_minimum_social_care": ("Pooled budget", "budget"),
    "risk_share": ("Risk share and contingency", "risks"),
    "risks": ("Risks", "risks"),
    "national_conditions": ("National conditions", "conditions"),
    "metrics": ("Metrics", "metrics"),
    "sign_offs": ("Sign-offs", "sign_offs"),
}
_WHOLE_PLAN = ("The plan as a whole", "findings")


@dataclass
class FindingGroup:
    """The findings of one section of a plan, counted, each with the form to fix it in."""

    title: str
    anchor: str
    errors: int
    warnings: int
    items: list[tuple[Finding, str | None]]

    @property
    def slug(self) -> str:
        """An HTML id for the group."""
        return "findings-" + re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-")


def finding_groups(plan_id: str, findings: list[Finding]) -> list[FindingGroup]:
    """Findings grouped by the section of the plan they are about, most errors first."""
    groups: dict[str, FindingGroup] = {}
    for f in findings:
        root = re.split(r"[.\[]", f.path, maxsplit=1)[0] if f.path else ""
        title, anchor = SECTIONS.get(root, _WHOLE_PLAN)
        group = groups.setdefault(title, FindingGroup(title, anchor, 0, 0, []))
        group.errors += f.severity is Severity.ERROR
        group.warnings += f.severity is Severity.WARNING
        group.items.append((f, finding_link(plan_id, f)))
    return sorted(groups.values(), key=lambda g: (-g.errors, -g.warnings, g.title))


@dataclass
class PlanOverview(_View):
    """A plan at a glance: budget, heatmap, findings, workflow steps the caller may take."""

    record: PlanRecord
    plan: Plan
    budget: dict[str, Any]
    heatmap: dict[str, Any]
    findings: list[tuple[Finding, str | None]]
    errors: int
    warnings: int
    state: State
    editable: bool
    can_edit: bool
    can_publish: bool
    steps: list[Transition]
    outcomes: list[Outcome]
    history: list[PlanTransition]
    collections: dict[str, Collection]
    blocking: list[Finding] = field(default_factory=list)
    message: str | None = None
    #: A workflow form's field errors by field id (the error summary links to them).
    step_errors: dict[str, str] = field(default_factory=dict)
    #: The date field of each step that records a date, by step.
    step_dates: dict[str, DateField] = field(default_factory=dict)
    #: Who may return the plan to draft from its state, in words ('' for a draft).
    reopen_by: str = ""
    #: The findings grouped by section (computed from ``findings`` when not given)
    groups: list[FindingGroup] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.groups:
            self.groups = finding_groups(self.record.id, [f for f, _ in self.findings])


def overview_of(db: Session, caller: Caller, record: PlanRecord, plan: Plan) -> PlanOverview:
    """The overview of a plan already authorized for the caller."""
    findings = check_plan(plan)
    state = State(record.state)
    outcome = Outcome(record.assurance_outcome) if record.assurance_outcome else None
    steps = [
        t
        for t in next_steps(state, outcome, plan, caller.principal.role)
        if may(caller, Action(t.action), record.hwb_code)
    ]
    return PlanOverview(
        record=record,
        plan=plan,
        budget=budget(plan),
        heatmap=heatmap(plan),
        findings=[(f, finding_link(record.id, f)) for f in findings],
        errors=sum(f.severity is Severity.ERROR for f in findings),
        warnings=sum(f.severity is Severity.WARNING for f in findings),
        state=state,
        editable=editable(state),
        can_edit=may(caller, Action.EDIT_PLAN, record.hwb_code),
        can_publish=may(caller, Action.PUBLISH_PLAN, record.hwb_code),
        steps=steps,
        outcomes=list(Outcome),
        history=history(db, record.id),
        collections=COLLECTIONS,
        step_dates={t.step.value: f for t in steps if (f := date_field(plan, t)) is not None},
        reopen_by="" if editable(state) else reopen_roles_text(state),
    )


def overview(db: Session, caller: Caller, plan_id: str) -> PlanOverview:
    """The overview page's model of ``plan_id`` (NotFound, NotPermitted)."""
    record, plan = viewable_plan(db, caller, plan_id)
    return overview_of(db, caller, record, plan)


@dataclass(frozen=True)
class PlanFile:
    """A plan as a file to download."""

    filename: str
    text: str


def export(db: Session, caller: Caller, plan_id: str) -> PlanFile:
    """The current plan as a plan file (validates with ``bettercare plan validate``)."""
    record, plan = viewable_plan(db, caller, plan_id)
    return PlanFile(f"{record.id}.yaml", export_yaml(plan))


# --- import and publish ----------------------------------------------------------------


def may_import(db: Session, caller: Caller) -> None:
    """NotPermitted unless the caller's role imports plans."""
    permit(db, caller, Action.IMPORT_PLAN, "plan:import")


@dataclass(frozen=True)
class ImportResult:
    """What an import did: the plan id stored, or why nothing was (status, findings)."""

    plan_id: str | None
    status: int = 200
    findings: list[Finding] = field(default_factory=list)
    message: str | None = None


def safe_file_name(name: str | None) -> str:
    """An uploaded file's base name, reduced to safe characters (for messages and temp copies)."""
    safe = re.sub(r"[^A-Za-z0-9_.\-]+", "_", Path(name or "plan.yaml").name)[:100]
    return safe or "plan.yaml"


def read_upload(raw: bytes, name: str) -> tuple[Plan | None, list[Finding]]:
    """An uploaded plan file read as ``bettercare plan validate`` reads a file.

    Same size and structure limits; the findings name the uploaded file, not the
    temporary copy the reader is given.
    """
    with tempfile.TemporaryDirectory(prefix="bettercare-import-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(raw)  # the reader enforces MAX_PLAN_BYTES on this copy
        plan, found = validate_plan_file(path)
    return plan, [f.located(name, f.line) for f in found]


def import_file(db: Session, caller: Caller, raw: bytes, name: str) -> ImportResult:
    """Import a plan file: a new ``plan_id`` is stored as a draft; an existing one refused.

    The file is read exactly as ``bettercare plan validate`` reads it (same size and
    structure limits); any problem comes back as file:line findings and nothing is saved.
    """
    permit(db, caller, Action.IMPORT_PLAN, "plan:import")
    plan, findings = read_upload(raw, name)
    action = str(Action.IMPORT_PLAN)
    if plan is None:
        audit.record(
            db,
            caller.principal,
            action,
            f"file:{name}",
            audit.INVALID,
            detail="; ".join(str(f) for f in findings)[:2000],
            ip=caller.ip,
        )
        db.commit()
        return ImportResult(
            None,
            422,
            findings,
            f"{name} was not imported: fix the problems below and upload it again.",
        )
    permit(db, caller, Action.IMPORT_PLAN, f"plan:{plan.plan_id}", hwb_code(plan))
    if get_plan(db, plan.plan_id) is not None:
        audit.record(
            db,
            caller.principal,
            action,
            f"plan:{plan.plan_id}",
            audit.CONFLICT,
            detail="plan_id exists",
            ip=caller.ip,
            hwb_code=hwb_code(plan),
        )
        db.commit()
        return ImportResult(
            None,
            409,
            [],
            f"A plan with plan_id '{plan.plan_id}' exists already: nothing was imported. "
            "Edit that plan here, or give the file a new plan_id to import it as a new plan.",
        )
    record = import_plan(db, plan, caller.username)
    audit.record(
        db,
        caller.principal,
        action,
        f"plan:{record.id}",
        after={"file": name, "plan_id": record.id},
        ip=caller.ip,
        hwb_code=record.hwb_code,
    )
    db.commit()
    return ImportResult(record.id)


def publish(db: Session, caller: Caller, plan_id: str, wanted: bool) -> None:
    """Publish the plan as a board paper (public) or withdraw it; audit-logged."""
    record = load_record(db, plan_id)
    permit(db, caller, Action.PUBLISH_PLAN, f"plan:{plan_id}", record.hwb_code)
    before = record.published
    record.published = wanted
    audit.record(
        db,
        caller.principal,
        str(Action.PUBLISH_PLAN),
        f"plan:{plan_id}",
        before={"published": before},
        after={"published": wanted},
        ip=caller.ip,
        hwb_code=record.hwb_code,
    )
    db.commit()


# --- edit forms ------------------------------------------------------------------------


@dataclass
class EditForm(_View):
    """One edit form: the item's fields and values, with notes by field and a message."""

    record: PlanRecord
    plan: Plan
    coll: Collection
    index: int | None
    fields: list[FormField]
    values: dict[str, Any]
    notes: FieldNotes
    message: str | None
    saved: bool
    version: int
    editable: bool
    #: A status line above the form (restored after a delete, input kept after sign-in)
    notice: str | None = None


@dataclass(frozen=True)
class SaveResult:
    """A save: ``form`` is None when it was saved (``redirect`` says where to go next)."""

    redirect: str | None = None
    form: EditForm | None = None
    status: int = 200


def edit_target(plan_id: str, coll: Collection, index: int | None) -> str:
    """The audit target of an edit (``plan:X/schemes[2]``)."""
    if coll.single:
        return f"plan:{plan_id}/{coll.attr or coll.key}"
    return f"plan:{plan_id}/{coll.attr}" + ("" if index is None else f"[{index}]")


def _items(plan: Plan, coll: Collection) -> list[dict[str, Any]]:
    return items_of(plan.model_dump(mode="python"), coll, coll.fields(plan, None))


def _form(
    record: PlanRecord,
    plan: Plan,
    coll: Collection,
    index: int | None,
    fields_: list[FormField],
    values: dict[str, Any],
    *,
    notes: FieldNotes | None = None,
    message: str | None = None,
    saved: bool = False,
) -> EditForm:
    return EditForm(
        record=record,
        plan=plan,
        coll=coll,
        index=index,
        fields=fields_,
        values=values,
        notes=notes or FieldNotes(),
        message=message,
        saved=saved,
        version=record.version,
        editable=editable(State(record.state)),
    )


def open_form(
    db: Session, caller: Caller, plan_id: str, part: str, index: int | None, saved: bool = False
) -> EditForm:
    """The form of item ``index`` of list ``part`` (None: a new item), with rule findings."""
    coll = COLLECTIONS[part]
    record = load_record(db, plan_id)
    permit(db, caller, Action.EDIT_PLAN, edit_target(plan_id, coll, index), record.hwb_code)
    plan = plan_of(record)
    items = _items(plan, coll)
    if index is not None and index >= len(items):
        raise NotFound(f"no {coll.singular} {index}")
    item = items[index] if index is not None else None
    fields_ = coll.fields(plan, item)
    notes = (
        notes_for(check_plan(plan), coll, index, fields_, item_only=True)
        if index is not None
        else None
    )
    return _form(
        record, plan, coll, index, fields_, form_values(fields_, item), notes=notes, saved=saved
    )


#: Shown above a form brought back after the session expired, with what was typed.
KEPT_NOTICE = (
    "Your session ended before this was saved, so nothing was saved. What you typed is "
    "shown below: check it, then save."
)


def kept_form(
    db: Session,
    caller: Caller,
    plan_id: str,
    part: str,
    index: int | None,
    form: dict[str, Any],
) -> EditForm:
    """The form as the user typed it before their session expired (nothing saved).

    The version is the one they opened the form at, so a save over someone else's newer
    save is still refused as a conflict with the input kept.
    """
    page = open_form(db, caller, plan_id, part, index)
    page.values = read_form(page.fields, form)
    page.notice = KEPT_NOTICE
    sent = _version(form.get("version"))
    if sent is not None:
        page.version = sent
    return page


def _version(form_value: Any) -> int | None:
    try:
        return int(str(form_value))
    except ValueError:
        return None


def conflict_message(record: PlanRecord, sent: int | None) -> str:
    """Why a save over a newer one was refused, and that the user's input is kept."""
    when = record.updated_at.strftime("%d %b %Y %H:%M") if record.updated_at else "recently"
    return (
        f"Not saved: {record.updated_by or 'someone'} saved this plan at {when} UTC after you "
        f"opened the form (your version {sent}, now {record.version}). Your input is shown "
        "below and nothing is lost: check the plan, then save again to apply it."
    )


def save_form(
    db: Session,
    caller: Caller,
    plan_id: str,
    part: str,
    index: int | None,
    form: dict[str, Any],
    delete: bool = False,
    adjust: Callable[[Plan, dict[str, Any]], dict[str, Any]] | None = None,
) -> SaveResult:
    """One save: scope, draft only, version check, model validation, audit; all or nothing.

    ``adjust``: fills in the posted form from the stored plan before it is read (a metric's
    chosen goal, :func:`bettercare.services.plan_goals.fill_goal`).
    """
    coll = COLLECTIONS[part]
    target = edit_target(plan_id, coll, index)
    record = load_record(db, plan_id)
    permit(db, caller, Action.EDIT_PLAN, target, record.hwb_code)
    plan = plan_of(record)
    if adjust is not None and not delete:
        form = adjust(plan, form)
    items = _items(plan, coll)
    if index is not None and index >= len(items):
        raise NotFound(f"no {coll.singular} {index}")
    fields_ = coll.fields(plan, items[index] if index is not None else None)
    values = read_form(fields_, form)

    def refuse(
        status: int,
        outcome: str,
        message: str,
        notes: FieldNotes | None = None,
        why: list[Finding] | None = None,
    ) -> SaveResult:
        detail = "; ".join(str(f) for f in why) if why else message
        audit.record(
            db,
            caller.principal,
            str(Action.EDIT_PLAN),
            target,
            outcome,
            after={"input": values},
            detail=detail[:2000],
            ip=caller.ip,
            hwb_code=record.hwb_code,
        )
        db.commit()
        page = _form(record, plan, coll, index, fields_, values, notes=notes, message=message)
        return SaveResult(form=page, status=status)

    if not editable(State(record.state)):
        return refuse(
            409,
            audit.INVALID,
            f"Not saved: the plan is '{code_label(record.state)}'. "
            "Editing is only allowed in draft.",
        )
    sent = _version(form.get("version"))
    if sent != record.version:
        return refuse(409, audit.CONFLICT, conflict_message(record, sent))
    typed = typed_notes(fields_, values)
    if not delete:
        for name, found in unique_notes(coll, fields_, values, items, index).by_field.items():
            for f in found:
                typed.add(f, name)
    if typed and not delete:
        count = sum(len(v) for v in typed.by_field.values())
        message = f"Not saved: {count} value(s) are not valid, shown next to their fields below."
        return refuse(422, audit.INVALID, message, typed, typed.all())
    before: dict[str, Any] | None
    after: dict[str, Any] | None = None
    try:
        if delete and index is not None:
            new_plan, before = delete_item(plan, coll, index)
        else:
            new_plan, index, before, after = apply_item(plan, coll, index, values, fields_)
    except ValidationError as exc:
        notes = invalid_notes(exc, coll, index if index is not None else len(items), fields_)
        shown = sum(len(v) for v in notes.by_field.values())
        message = (
            f"Not saved: {shown} value(s) are not valid, shown next to their fields below."
            if shown
            else "Not saved: the plan would not be valid."
        )
        return refuse(422, audit.INVALID, message, notes, notes.all())
    try:
        save_plan(db, record, new_plan, caller.username)
        event = audit.record(
            db,
            caller.principal,
            str(Action.EDIT_PLAN),
            edit_target(plan_id, coll, index),
            before=as_plain(before),
            after=as_plain(after),
            ip=caller.ip,
            hwb_code=record.hwb_code,
            detail=DELETED if delete else None,
        )
        db.commit()
    except StaleDataError:
        db.rollback()
        record = load_record(db, plan_id)
        return refuse(409, audit.CONFLICT, conflict_message(record, sent))
    if delete:
        return SaveResult(redirect=f"/plans/{plan_id}/{coll.key}/deleted?event={event.id}")
    page = f"/plans/{plan_id}/{coll.key}" + ("" if coll.single else f"/{index}")
    return SaveResult(redirect=f"{page}?saved=true")


# --- delete: confirm, then undo ----------------------------------------------------------

#: The audit detail of a delete from a form (an undo names the event it reverses).
DELETED = "deleted"
_UNDO = "undo of audit event {}"


@dataclass
class DeleteView(_View):
    """The confirmation before a delete, or the message after it with its undo."""

    record: PlanRecord
    coll: Collection
    index: int | None
    label: str
    summary: list[tuple[str, str]]
    version: int
    editable: bool
    event_id: int | None = None
    undone: bool = False
    message: str | None = None


def _summary(plan: Plan, coll: Collection, item: dict[str, Any]) -> list[tuple[str, str]]:
    """The item's filled-in fields as people read them (a code or partner id in words)."""
    fields_ = coll.fields(plan, item)
    values = form_values(fields_, item)
    partners = {p.id: p.name for p in plan.partners}

    def shown(f: FormField, value: Any) -> str:
        if f.kind == "checkbox":
            return "Yes"
        if f.kind == "select":
            return code_label(value, partners=partners)
        return partners.get(str(value), str(value))  # an owner is often a partner id

    return [
        (f.label, shown(f, values[f.name])) for f in fields_ if values[f.name] not in ("", False)
    ]


def _delete_view(
    record: PlanRecord,
    plan: Plan,
    coll: Collection,
    index: int,
    item: dict[str, Any],
    event_id: int | None = None,
) -> DeleteView:
    """The delete page of ``item`` (the confirmation, or with ``event_id`` the message after)."""
    return DeleteView(
        record=record,
        coll=coll,
        index=index,
        label=coll.label(item).strip() or f"{index + 1}",
        summary=_summary(plan, coll, item),
        version=record.version,
        editable=editable(State(record.state)),
        event_id=event_id,
    )


def confirm_delete(db: Session, caller: Caller, plan_id: str, part: str, index: int) -> DeleteView:
    """The "are you sure" page of a delete (NotFound for an item not there)."""
    coll = COLLECTIONS[part]
    record = load_record(db, plan_id)
    permit(db, caller, Action.EDIT_PLAN, edit_target(plan_id, coll, index), record.hwb_code)
    plan = plan_of(record)
    items = _items(plan, coll)
    if coll.single or index >= len(items):
        raise NotFound(f"no {coll.singular} {index}")
    return _delete_view(record, plan, coll, index, items[index])


def _delete_event(
    db: Session, plan_id: str, coll: Collection, event_id: int
) -> tuple[AuditEvent, int, dict[str, Any]]:
    """A delete of this list's item, from the audit log: (event, index, item removed)."""
    event = db.get(AuditEvent, event_id)
    prefix = f"plan:{plan_id}/{coll.attr}["
    if (
        event is None
        or coll.single
        or event.detail != DELETED
        or event.outcome != audit.OK
        or not event.target.startswith(prefix)
        or not event.before
    ):
        raise NotFound(f"no deleted {coll.singular} (audit event {event_id})")
    try:
        index = int(event.target[len(prefix) :].rstrip("]"))
        item = json.loads(event.before)
    except ValueError:
        raise NotFound(f"no deleted {coll.singular} (audit event {event_id})") from None
    return event, index, item


def _undone(db: Session, event_id: int) -> bool:
    q = select(AuditEvent.id).where(
        AuditEvent.detail == _UNDO.format(event_id), AuditEvent.outcome == audit.OK
    )
    return db.scalar(q.limit(1)) is not None


def deleted(db: Session, caller: Caller, plan_id: str, part: str, event_id: int) -> DeleteView:
    """The message after a delete, with an undo while it has not been undone."""
    coll = COLLECTIONS[part]
    record = load_record(db, plan_id)
    permit(db, caller, Action.EDIT_PLAN, f"plan:{plan_id}/{coll.attr}", record.hwb_code)
    _, index, item = _delete_event(db, plan_id, coll, event_id)
    view = _delete_view(record, plan_of(record), coll, index, item, event_id)
    view.undone = _undone(db, event_id)
    return view


@dataclass(frozen=True)
class UndoResult:
    """An undo: ``redirect`` to the restored item, or the page again with its message."""

    view: DeleteView
    redirect: str | None = None
    status: int = 200


def undo_delete(db: Session, caller: Caller, plan_id: str, part: str, event_id: int) -> UndoResult:
    """Put a deleted item back where it was (audited, naming the delete it reverses).

    Refused with a message, nothing saved, when the plan is no longer a draft, the delete
    was already undone, or the item no longer fits (its id has been taken since).
    """
    coll = COLLECTIONS[part]
    record = load_record(db, plan_id)
    permit(db, caller, Action.EDIT_PLAN, f"plan:{plan_id}/{coll.attr}", record.hwb_code)
    event, index, item = _delete_event(db, plan_id, coll, event_id)
    plan = plan_of(record)
    view = _delete_view(record, plan, coll, index, item, event_id)
    problem = None
    if _undone(db, event_id):
        problem = "This delete has already been undone."
        view.undone = True
    elif not view.editable:
        problem = (
            f"Not restored: the plan is '{code_label(record.state)}'. "
            "Editing is only allowed in draft."
        )
    elif coll.unique and any(
        str(i.get(coll.unique) or "").strip().casefold()
        == str(item.get(coll.unique) or "").strip().casefold()
        for i in _items(plan, coll)
    ):
        problem = (
            f"Not restored: another {coll.singular} now has "
            f"{coll.unique} {item.get(coll.unique)}; change that one first."
        )
    new_plan: Plan | None = None
    if problem is None:
        try:
            new_plan, index = restore_item(plan, coll, index, item)
        except ValidationError as exc:
            problem = f"Not restored: the plan would not be valid ({exc.error_count()} problem(s))."
    if problem is not None or new_plan is None:
        view.message = problem
        return UndoResult(view, status=409)
    try:
        save_plan(db, record, new_plan, caller.username)
        audit.record(
            db,
            caller.principal,
            str(Action.EDIT_PLAN),
            edit_target(plan_id, coll, index),
            before=None,
            after=item,
            ip=caller.ip,
            hwb_code=record.hwb_code,
            detail=_UNDO.format(event.id),
        )
        db.commit()
    except StaleDataError:
        db.rollback()
        view.message = "Not restored: someone saved the plan at the same moment; try again."
        return UndoResult(view, status=409)
    return UndoResult(view, redirect=f"/plans/{plan_id}/{coll.key}/{index}?restored=true")


# --- replace a draft from a file -----------------------------------------------------------


def may_replace(db: Session, caller: Caller, plan_id: str) -> PlanRecord:
    """The plan, if the caller may edit it (NotPermitted otherwise)."""
    record = load_record(db, plan_id)
    permit(db, caller, Action.EDIT_PLAN, f"plan:{plan_id}:replace", record.hwb_code)
    return record


def replace_from_file(
    db: Session, caller: Caller, plan_id: str, raw: bytes, name: str, version: int | None
) -> ImportResult:
    """Replace a draft plan with a corrected plan file (same ``plan_id`` and HWB).

    The way to fix what the forms do not reach (Section 75, narratives, milestones): export
    ``plan.yaml``, correct it, upload it here. Read exactly as an import (same limits, the
    same file:line findings); refused, with nothing saved, unless the plan is in draft, the
    page's version is still current, and the file is the same plan of the same HWB. The
    replacement is a new version of the plan, audited with the version it replaced.
    """
    record = may_replace(db, caller, plan_id)
    target = f"plan:{plan_id}"
    action = str(Action.EDIT_PLAN)

    def refuse(status: int, outcome: str, message: str, found: list[Finding]) -> ImportResult:
        audit.record(
            db,
            caller.principal,
            action,
            target,
            outcome,
            detail=(message + " " + "; ".join(str(f) for f in found))[:2000],
            ip=caller.ip,
            hwb_code=record.hwb_code,
        )
        db.commit()
        return ImportResult(None, status, found, message)

    if not editable(State(record.state)):
        return refuse(
            409,
            audit.INVALID,
            f"Not replaced: the plan is {record.state.replace('_', ' ')}. A plan can be "
            "replaced from a file only in draft: return it to draft first.",
            [],
        )
    if version != record.version:
        return refuse(409, audit.CONFLICT, conflict_message(record, version), [])
    plan, findings = read_upload(raw, name)
    if plan is None:
        return refuse(
            422,
            audit.INVALID,
            f"{name} was not read: fix the problems below and upload it again. "
            "The plan is unchanged.",
            findings,
        )
    if plan.plan_id != plan_id:
        return refuse(
            422,
            audit.INVALID,
            f"{name} is the plan '{plan.plan_id}', not '{plan_id}': the plan is unchanged. "
            "Upload this plan's own file (its plan_id must stay the same).",
            [],
        )
    if hwb_code(plan) != record.hwb_code:
        return refuse(
            422,
            audit.INVALID,
            f"{name} is a plan of HWB {hwb_code(plan)}, not {record.hwb_code}: "
            "the plan is unchanged.",
            [],
        )
    before = record.version
    try:
        save_plan(db, record, plan, caller.username)
        audit.record(
            db,
            caller.principal,
            action,
            target,
            before={"version": before},
            after={"file": name, "version": record.version},
            detail="replaced from a plan file",
            ip=caller.ip,
            hwb_code=record.hwb_code,
        )
        db.commit()
    except StaleDataError:
        db.rollback()
        record = load_record(db, plan_id)
        return refuse(409, audit.CONFLICT, conflict_message(record, version), [])
    return ImportResult(plan_id)
