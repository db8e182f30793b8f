"""Reports of a plan from the app: the board pack (HTML and PDF) and the impact model.

The pack is :func:`bettercare.reporting.board_pack.build_board_pack`'s, as
``bettercare report`` writes it, measured on the plan's analytics store when its metrics
are ready (:mod:`bettercare.app.analytics_store`); a plan without a store gets the plan
sections only. The public may read the pack of a published plan; everyone else as they
may read the plan (their own HWB; assurers and admins every HWB). Packs are kept in
memory per plan version and measured result, so repeated views cost nothing.

The routes parse, call :mod:`bettercare.services.board_pack` and render. The modelling
page shows :func:`bettercare.analytics.modelling.run_impact`
with :mod:`bettercare.reporting.modelling`'s charts, as ``bettercare model impact`` does:
the probability of meeting the target, the distribution, the tornado chart and each
partner's share of a shortfall, from the plan's stated ranges or fitted to the store.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from bettercare.app.analytics_store import StoreState, StoreStatus, stores_of
from bettercare.app.deps import Acting, Db
from bettercare.app.hardening import csp_for_document
from bettercare.app.templating import render
from bettercare.data.tables import PlanRecord
from bettercare.domain.access import Principal
from bettercare.services import board_pack as packs
from bettercare.services.access import Caller

if TYPE_CHECKING:
    from bettercare.reporting.board_pack import BoardPack

router = APIRouter()

REFRESH_SECONDS = 5


def _preparing(
    request: Request, principal: Principal, record: PlanRecord, status: StoreStatus
) -> HTMLResponse:
    page = render(
        request,
        "reports_preparing.html.j2",
        principal,
        record=record,
        status=status,
        status_code=503,
    )
    page.headers["Refresh"] = page.headers["Retry-After"] = str(REFRESH_SECONDS)
    return page


def _pack(
    request: Request, db: Any, caller: Caller, plan_id: str
) -> tuple[PlanRecord, tuple[Any, ...], BoardPack | None, HTMLResponse | None]:
    """The plan, if the caller may read its pack, and the pack (or the page while preparing)."""
    from bettercare.data.plan_store import plan_of

    record = packs.pack_plan(db, caller, plan_id)
    stores = stores_of(request.app)
    status = stores.status(record.id, record.version, plan_of(record))
    if status.state is StoreState.PREPARING:
        return record, (), None, _preparing(request, caller.principal, record, status)
    built: OrderedDict[tuple[Any, ...], BoardPack] = stores.memo("board_packs")
    key, pack = packs.board_pack(built, record, status)
    return record, key, pack, None


@router.get("/plans/{plan_id}/board-pack", response_class=HTMLResponse)
def board_pack_html(request: Request, plan_id: str, db: Db, caller: Acting) -> Response:
    """The board pack as one self-contained HTML page (print it, or take the PDF)."""
    _, _, pack, waiting = _pack(request, db, caller, plan_id)
    if waiting is not None or pack is None:
        return waiting or Response(status_code=503)
    return HTMLResponse(pack.html, headers={"Content-Security-Policy": csp_for_document(pack.html)})


@router.get("/plans/{plan_id}/board-pack.pdf")
def board_pack_pdf(request: Request, plan_id: str, db: Db, caller: Acting) -> Response:
    """The board pack as PDF (A4, WeasyPrint)."""
    record, key, pack, waiting = _pack(request, db, caller, plan_id)
    if waiting is not None or pack is None:
        return waiting or Response(status_code=503)
    pdf = packs.pack_pdf(stores_of(request.app).memo("board_pack_pdfs"), key, pack)
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
    stores = stores_of(request.app)
    status = stores.status(record.id, record.version, plan)
    store = Path(status.linked.store) if status.linked is not None else None
    model, error = packs.model_view(stores.memo("impact_models"), record, plan, store, basis)
    return render(
        request,
        "reports_model.html.j2",
        caller.principal,
        record=record,
        model=model,
        error=error,
        basis=basis if store is not None else "plan",
        can_fit=store is not None,
    )
