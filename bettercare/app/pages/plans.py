"""A plan's pages: overview, edit forms, the sign-off workflow, publishing, YAML in and out.

The routes parse, call :mod:`bettercare.services.plans` or
:mod:`bettercare.services.workflow` and render; scope, editing rules, version checks and
the audit log are the services'.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import zlib
from collections.abc import MutableMapping
from enum import StrEnum
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bettercare.app.deps import Acting, Db
from bettercare.app.pages.common import page_responses
from bettercare.app.templating import render
from bettercare.data.plan_files import MAX_PLAN_BYTES
from bettercare.domain.workflow import Outcome, Step
from bettercare.services import plan_goals, plans
from bettercare.services import workflow as workflow_service
from bettercare.services.access import Caller
from bettercare.services.plan_forms import COLLECTIONS
from bettercare.services.plans import EditForm, SaveResult

router = APIRouter(responses=page_responses("A malformed form or upload"))


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


# --- routes ----------------------------------------------------------------------------


def _page(
    request: Request, caller: Caller, view: plans.PlanOverview, status: int = 200
) -> Response:
    return render(request, "plan.html.j2", caller.principal, status_code=status, **view.context())


@router.get("/plans/import", response_class=HTMLResponse)
def import_form(request: Request, db: Db, caller: Acting) -> Response:
    """Upload a plan YAML file."""
    plans.may_import(db, caller)
    return render(request, "plan_import.html.j2", caller.principal, findings=[], message=None)


@router.post("/plans/import", response_model=None)
async def import_upload(
    request: Request,
    db: Db,
    caller: Acting,
    file: UploadFile = File(..., description="A plan YAML file"),
) -> Response:
    """Import a plan file: a new ``plan_id`` is created as a draft; an existing one refused.

    The file is read exactly as ``bettercare plan validate`` reads it (same size and
    structure limits); any problem is shown as file:line findings and nothing is saved.
    """
    await run_in_threadpool(plans.may_import, db, caller)
    raw = await file.read(MAX_PLAN_BYTES + 1)
    name = plans.safe_file_name(file.filename)
    result = await run_in_threadpool(plans.import_file, db, caller, raw, name)
    if result.plan_id is None:
        return render(
            request,
            "plan_import.html.j2",
            caller.principal,
            status_code=result.status,
            findings=result.findings,
            message=result.message,
        )
    return RedirectResponse(f"/plans/{result.plan_id}?imported=1", status_code=303)


@router.get("/plans/{plan_id}", response_class=HTMLResponse)
def overview(request: Request, plan_id: PlanId, db: Db, caller: Acting) -> Response:
    """A plan at a glance: budget, schemes, conditions, risks, sign-offs, workflow, findings."""
    return _page(request, caller, plans.overview(db, caller, plan_id))


@router.get("/plans/{plan_id}/replace", response_class=HTMLResponse)
def replace_form(request: Request, plan_id: PlanId, db: Db, caller: Acting) -> Response:
    """Replace a draft plan with its corrected plan file (what the forms do not reach)."""
    record = plans.may_replace(db, caller, plan_id)
    return render(
        request, "plan_replace.html.j2", caller.principal, record=record, findings=[], message=None
    )


@router.post("/plans/{plan_id}/replace", response_model=None)
async def replace_upload(
    request: Request,
    plan_id: PlanId,
    db: Db,
    caller: Acting,
    file: UploadFile = File(..., description="The plan's corrected YAML file"),
    version: int | None = Form(None, description="The plan version the page showed"),
) -> Response:
    """Replace the draft with the uploaded file: same plan_id and HWB, all or nothing."""
    record = await run_in_threadpool(plans.may_replace, db, caller, plan_id)
    raw = await file.read(MAX_PLAN_BYTES + 1)
    name = plans.safe_file_name(file.filename)
    result = await run_in_threadpool(
        plans.replace_from_file, db, caller, plan_id, raw, name, version
    )
    if result.plan_id is None:
        return render(
            request,
            "plan_replace.html.j2",
            caller.principal,
            status_code=result.status,
            record=record,
            findings=result.findings,
            message=result.message,
        )
    return RedirectResponse(f"/plans/{plan_id}?replaced=1", status_code=303)


@router.get("/plans/{plan_id}/plan.yaml", response_class=Response)
def export(request: Request, plan_id: PlanId, db: Db, caller: Acting) -> Response:
    """The current plan as a plan file (validates with ``bettercare plan validate``)."""
    found = plans.export(db, caller, plan_id)
    return Response(
        found.text,
        media_type="application/yaml",
        headers={"content-disposition": f'attachment; filename="{found.filename}"'},
    )


# --- publish and workflow --------------------------------------------------------------


@router.post("/plans/{plan_id}/publish", response_model=None)
def publish(
    request: Request,
    plan_id: PlanId,
    published: Annotated[str, Form(max_length=5, description="1: publish, 0: withdraw")],
    db: Db,
    caller: Acting,
) -> Response:
    """Publish the plan as a board paper (public) or withdraw it (``published=0``)."""
    plans.publish(db, caller, plan_id, published in ("1", "true", "on"))
    return RedirectResponse(f"/plans/{plan_id}#publishing", status_code=303)


@router.post("/plans/{plan_id}/workflow", response_model=None)
def workflow(
    request: Request,
    plan_id: PlanId,
    step: Annotated[Step, Form(description="The step to take")],
    version: Annotated[int, Form(ge=0, description="The plan version the page showed")],
    db: Db,
    caller: Acting,
    outcome: Annotated[Outcome | None, Form(description="Assurance only")] = None,
    note: Annotated[
        str, Form(max_length=2000, description="A note; the reason, for a return to draft")
    ] = "",
    date: Annotated[
        str,
        Form(
            max_length=40,
            description="The date the step records (HWB approval, submission): "
            "12/03/2026, 12 March 2026 or 2026-03-12",
        ),
    ] = "",
) -> Response:
    """Take one workflow step, or return the plan to draft (``step=reopen``).

    An assurance needs its outcome, an HWB approval or a submission the date it
    happened, a return to draft its reason (``note``).
    """
    result = workflow_service.take(
        db, caller, plan_id, step, outcome, note, version, date_text=date
    )
    if result.refused is not None:
        return _page(request, caller, result.refused, result.status)
    return RedirectResponse(f"/plans/{plan_id}#workflow", status_code=303)


# --- edit forms ------------------------------------------------------------------------


def _edit_page(
    request: Request, caller: Caller, form: EditForm, status_code: int = 200
) -> Response:
    # a metric's form offers goal options from the published figures (serve --figures)
    settings = request.app.state.settings
    goal = plan_goals.goal_panel(settings.figures, form, settings.peers)
    return render(
        request,
        "plan_item.html.j2",
        caller.principal,
        status_code=status_code,
        goal=goal,
        **form.context(),
    )


def _saved(request: Request, caller: Caller, result: SaveResult) -> Response:
    if result.form is not None:
        return _edit_page(request, caller, result.form, result.status)
    assert result.redirect is not None
    return RedirectResponse(result.redirect, status_code=303)


def _item_routes(part: Part) -> None:
    """The form routes of one list, under its literal name (``/plans/{id}/schemes/...``).

    Literal segments rather than a ``{part}`` parameter, so these routes never take a
    path of another page under ``/plans/{id}/`` (such as the returns').
    """
    base = f"/plans/{{plan_id}}/{part.value}"
    singular = COLLECTIONS[part.value].singular
    key = part.value

    def form_page(
        request: Request,
        db: Any,
        caller: Caller,
        plan_id: str,
        index: int | None,
        saved: bool,
        restored: bool = False,
    ) -> Response:
        kept = take_kept(request.session, request.url.path)
        if kept is not None:  # signed in again after the session expired: the typed input
            return _edit_page(
                request, caller, plans.kept_form(db, caller, plan_id, key, index, kept)
            )
        form = plans.open_form(db, caller, plan_id, key, index, saved)
        if restored:
            form.notice = f"Restored: the deleted {singular} is back (version {form.version})."
        return _edit_page(request, caller, form)

    async def submit(
        request: Request,
        db: Any,
        caller: Caller,
        plan_id: str,
        index: int | None,
        remove: bool = False,
    ) -> Response:
        """Read the posted form, then save it off the event loop (the save is synchronous)."""
        form = dict(await request.form())
        adjust = None
        if key == Part.METRICS.value:  # the chosen goal's value, from the published figures
            settings = request.app.state.settings
            adjust = partial(plan_goals.fill_goal, settings.figures, peers=settings.peers)
        result = await run_in_threadpool(
            plans.save_form, db, caller, plan_id, key, index, form, remove, adjust
        )
        return _saved(request, caller, result)

    def new_item(request: Request, plan_id: PlanId, db: Db, caller: Acting) -> Response:
        return form_page(request, db, caller, plan_id, None, False)

    def edit_item(
        request: Request,
        plan_id: PlanId,
        index: Index,
        db: Db,
        caller: Acting,
        saved: bool = False,
        restored: bool = False,
    ) -> Response:
        return form_page(request, db, caller, plan_id, index, saved, restored)

    def confirm_remove(
        request: Request, plan_id: PlanId, index: Index, db: Db, caller: Acting
    ) -> Response:
        view = plans.confirm_delete(db, caller, plan_id, key, index)
        return render(request, "plan_delete.html.j2", caller.principal, **view.context())

    def removed(
        request: Request,
        plan_id: PlanId,
        db: Db,
        caller: Acting,
        event: Annotated[
            int, Query(ge=1, le=2**31 - 1, description="The audit event of the delete")
        ],
    ) -> Response:
        view = plans.deleted(db, caller, plan_id, key, event)
        return render(request, "plan_delete.html.j2", caller.principal, **view.context())

    def undo(
        request: Request,
        plan_id: PlanId,
        db: Db,
        caller: Acting,
        event: Annotated[
            int, Form(ge=1, le=2**31 - 1, description="The audit event of the delete")
        ],
    ) -> Response:
        result = plans.undo_delete(db, caller, plan_id, key, event)
        if result.redirect is not None:
            return RedirectResponse(result.redirect, status_code=303)
        return render(
            request,
            "plan_delete.html.j2",
            caller.principal,
            status_code=result.status,
            **result.view.context(),
        )

    async def add_item(request: Request, plan_id: PlanId, db: Db, caller: Acting) -> Response:
        return await submit(request, db, caller, plan_id, None)

    async def save_item(
        request: Request, plan_id: PlanId, index: Index, db: Db, caller: Acting
    ) -> Response:
        return await submit(request, db, caller, plan_id, index)

    async def remove_item(
        request: Request, plan_id: PlanId, index: Index, db: Db, caller: Acting
    ) -> Response:
        return await submit(request, db, caller, plan_id, index, remove=True)

    if COLLECTIONS[key].single:

        def single_form(
            request: Request, plan_id: PlanId, db: Db, caller: Acting, saved: bool = False
        ) -> Response:
            return form_page(request, db, caller, plan_id, 0, saved)

        async def save_single(
            request: Request, plan_id: PlanId, db: Db, caller: Acting
        ) -> Response:
            return await submit(request, db, caller, plan_id, 0)

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
            "/deleted",
            removed,
            f"deleted_{key}",
            f"The message after a {singular} was deleted, with its undo.",
        ),
        (
            "POST",
            "/undo",
            undo,
            f"undo_delete_{key}",
            f"Undo a delete of a {singular} (puts it back; audited).",
        ),
        (
            "GET",
            "/{index}/delete",
            confirm_remove,
            f"confirm_delete_{key}",
            f"Are you sure? The confirmation before deleting a {singular}.",
        ),
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


# --- input kept across an expired session -----------------------------------------------

#: The plan forms whose input is kept when the session has expired (saves, not deletes).
#: Plan forms only: nothing patient-level is ever carried through the sign-in page.
KEPT_FORM = re.compile(
    r"^/plans/(?P<plan>[A-Za-z0-9_\-]{1,120})/(?P<part>"
    + "|".join(p.value for p in Part)
    + r")(?:/(?P<index>[0-9]{1,6}))?$"
)


def kept_fields(path: str, form: Any) -> dict[str, str] | None:
    """The typed fields of a plan form posted to ``path`` (None: not a plan form save)."""
    if not KEPT_FORM.fullmatch(path):
        return None
    return {
        str(k): v
        for k, v in form.items()
        if isinstance(v, str) and k != "csrf_token" and len(v) <= 20_000
    }


#: The session key carrying kept input from the sign-in to the form it belongs to.
KEPT_SESSION = "kept_form"
#: At most this many characters of kept input (compressed, base64) ride in the session
#: cookie: a browser drops a cookie over 4 KB, which would sign the user out again.
KEPT_COOKIE_CHARS = 2400


def form_address(path: str) -> str:
    """The form page (GET) of a plan form save posted to ``path``.

    A new item is posted to its list (``/plans/x/risks``), whose form is ``.../new``;
    an item or a one-form part is posted to its own form's address.
    """
    match = KEPT_FORM.fullmatch(path)
    if match is None or match["index"] or COLLECTIONS[match["part"]].single:
        return path
    return f"{path}/new"


def keep_for_redirect(
    session: MutableMapping[str, Any], path: str, kept: dict[str, str]
) -> str | None:
    """Put the input kept for the save posted to ``path`` in the (signed) session.

    :func:`take_kept` on the form page takes it out. Returns that page's address, or None
    when the input is too long for a cookie (then the sign-in answers with the form).
    """
    if not KEPT_FORM.fullmatch(path):
        return None
    packed = base64.b64encode(zlib.compress(json.dumps(kept).encode("utf-8"))).decode("ascii")
    if len(packed) > KEPT_COOKIE_CHARS:
        return None
    address = form_address(path)
    session[KEPT_SESSION] = {"path": address, "fields": packed}
    return address


def take_kept(session: MutableMapping[str, Any], path: str) -> dict[str, str] | None:
    """The kept input for the form page at ``path``, once (it leaves the session)."""
    held = session.get(KEPT_SESSION)
    if not isinstance(held, dict) or held.get("path") != path:
        return None
    del session[KEPT_SESSION]
    try:
        fields = json.loads(zlib.decompress(base64.b64decode(str(held.get("fields")))))
    except (binascii.Error, zlib.error, ValueError):
        return None
    if not isinstance(fields, dict):
        return None
    return {str(k): v for k, v in fields.items() if isinstance(v, str)}


def kept_page(
    request: Request, db: Any, caller: Caller, path: str, kept: dict[str, str]
) -> Response:
    """The plan form at ``path`` showing what the user typed before signing in again."""
    match = KEPT_FORM.fullmatch(path)
    if match is None:
        return RedirectResponse("/", status_code=303)
    part = match["part"]
    single = COLLECTIONS[part].single
    index = 0 if single else (int(match["index"]) if match["index"] else None)
    form = plans.kept_form(db, caller, match["plan"], part, index, kept)
    return _edit_page(request, caller, form)
