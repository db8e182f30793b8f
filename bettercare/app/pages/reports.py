"""Reports of a plan from the app: the board pack (HTML and PDF) and the impact model.

The pack is :func:`bettercare.reporting.board_pack.build_board_pack`'s, as
``bettercare report`` writes it, measured on the plan's analytics store when its metrics
are ready; a plan without a store gets the plan sections only. The page shows its content
inside the app's NHS page template (``BoardPack.body``, styled by static/board-pack.css);
the self-contained file and the PDF are downloads. Packs and models are made in the
background (:mod:`bettercare.app.analytics_store`), never in a request: until they are,
the page says so (HTTP 200) and refreshes itself. The public may read the pack of a
published plan; everyone else as they may read the plan (their own HWB; assurers and
admins every HWB).

The routes parse, call :mod:`bettercare.services.board_pack` and render. The modelling
page shows :func:`bettercare.analytics.modelling.run_impact`
with :mod:`bettercare.reporting.modelling`'s charts, as ``bettercare model impact`` does:
the probability of meeting the target, the distribution, the tornado chart and each
partner's share of a shortfall, from the plan's stated ranges or fitted to the store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from bettercare.app.analytics_store import StoreState, StoreStatus, stores_of
from bettercare.app.deps import Acting, Db
from bettercare.app.hardening import csp_for_document
from bettercare.app.templating import render
from bettercare.data.plan_store import plan_for_reading
from bettercare.data.tables import PlanRecord
from bettercare.domain.access import Principal
from bettercare.services import board_pack as packs

if TYPE_CHECKING:
    from bettercare.reporting.board_pack import BoardPack

router = APIRouter()

#: Seconds between reloads while a plan's reports are being prepared.
#: Long enough that a reload never cuts short a click the reader (or a crawler checking
#: the pages) makes meanwhile; the page has a "Reload now" link.
REFRESH_SECONDS = 30


def preparing(
    request: Request, principal: Principal, record: PlanRecord, status: StoreStatus, what: str
) -> HTMLResponse:
    """The "being prepared" page (HTTP 200: nothing is wrong), reloading itself."""
    page = render(
        request, "reports_preparing.html.j2", principal, record=record, status=status, what=what
    )
    page.headers["Refresh"] = str(REFRESH_SECONDS)
    return page


def _unavailable(request: Request, principal: Principal, record: PlanRecord) -> HTMLResponse:
    return render(
        request,
        "error.html.j2",
        principal,
        status_code=500,
        record=record,
        title="Board pack not available",
        message="The board pack of this plan could not be made; the server log says why.",
    )


def _pack(
    request: Request, db: Db, caller: Acting, plan_id: str
) -> tuple[PlanRecord, StoreStatus, BoardPack] | Response:
    """The plan (if the caller may read its pack), its prepared status and its pack.

    Or, instead, the page to show while the pack is being prepared or if it could not be made.
    """
    record = packs.pack_plan(db, caller, plan_id)
    status = stores_of(request.app).prepared(record.id, record.version, plan_for_reading(record))
    if status.state is StoreState.PREPARING:
        return preparing(request, caller.principal, record, status, "board pack")
    if status.pack is None:
        return _unavailable(request, caller.principal, record)
    return record, status, status.pack


@router.get("/plans/{plan_id}/board-pack", response_class=HTMLResponse)
def board_pack_html(request: Request, plan_id: str, db: Db, caller: Acting) -> Response:
    """The board pack in the NHS page template, with the PDF and the HTML file to download."""
    found = _pack(request, db, caller, plan_id)
    if isinstance(found, Response):
        return found
    record, _, pack = found
    return render(request, "reports_board_pack.html.j2", caller.principal, record=record, pack=pack)


@router.get("/plans/{plan_id}/board-pack/download", response_class=HTMLResponse)
def board_pack_file(request: Request, plan_id: str, db: Db, caller: Acting) -> Response:
    """The board pack as one self-contained HTML file (as ``bettercare report`` writes it)."""
    found = _pack(request, db, caller, plan_id)
    if isinstance(found, Response):
        return found
    record, _, pack = found
    html = pack.html
    return HTMLResponse(
        html,
        headers={
            "Content-Security-Policy": csp_for_document(html),
            "Content-Disposition": f'attachment; filename="{record.id}-board-pack.html"',
        },
    )


@router.get("/plans/{plan_id}/board-pack.pdf")
def board_pack_pdf(request: Request, plan_id: str, db: Db, caller: Acting) -> Response:
    """The board pack as PDF (A4, WeasyPrint, made in the background on first request)."""
    found = _pack(request, db, caller, plan_id)
    if isinstance(found, Response):
        return found
    record, status, pack = found
    pdf = stores_of(request.app).pdf(packs.pack_key(record, status), pack)
    if pdf is None:
        return preparing(request, caller.principal, record, status, "PDF of the board pack")
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{record.id}-board-pack.pdf"'},
    )


@router.get("/plans/{plan_id}/model", response_class=HTMLResponse)
def model_page(
    request: Request,
    plan_id: str,
    db: Db,
    caller: Acting,
    basis: Literal["plan", "observed"] = Query(
        "plan", description="plan: the plan's stated ranges; observed: fitted to the store"
    ),
) -> Response:
    """Will the schemes deliver? Monte Carlo of admissions avoided, P4P and shortfall shares."""
    record, plan = packs.model_plan(db, caller, plan_id)
    status = stores_of(request.app).prepared(record.id, record.version, plan, "models")
    if status.state is StoreState.PREPARING:
        return preparing(request, caller.principal, record, status, "modelling results")
    can_fit = status.linked is not None
    model, error = status.models.get(basis if can_fit else "plan", (None, None))
    if basis == "observed" and not can_fit:
        model, error = status.models.get("observed", (model, error))
    return render(
        request,
        "reports_model.html.j2",
        caller.principal,
        record=record,
        model=model,
        error=error,
        basis=basis if can_fit else "plan",
        can_fit=can_fit,
    )
