"""The Health and Wellbeing Board pack of a plan, from the app: HTML and PDF.

The pack is :func:`bettercare.reporting.board_pack.build_board_pack`'s, as
``bettercare report`` writes it, measured on the plan's analytics store when its metrics
are ready (:mod:`bettercare.app.analytics_store`); a plan without a store gets the plan
sections only. The public may read the pack of a published plan; everyone else as they
may read the plan (their own HWB; assurers and admins every HWB). Packs are kept in
memory per plan version and measured result, so repeated views cost nothing.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from bettercare.app.analytics_store import CHARTS_LOCK, StoreState, StoreStatus, stores_of
from bettercare.app.models import PlanRecord
from bettercare.app.pages.returns import load_record
from bettercare.app.plans import plan_of
from bettercare.app.security import Action, Principal, allowed, authorize, current_principal
from bettercare.app.templating import render
from bettercare.reporting.board_pack import BoardPack, build_board_pack

router = APIRouter()

CACHE_SIZE = 8
REFRESH_SECONDS = 5
_packs: OrderedDict[tuple[Any, ...], BoardPack] = OrderedDict()
_pdfs: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
_PDF_LOCK = threading.Lock()


def may_read_pack(request: Request, principal: Principal, record: PlanRecord) -> None:
    """The public reads a published plan's pack; others need to be able to read the plan."""
    if record.published and allowed(principal, Action.VIEW_PUBLISHED, record.hwb_code):
        return
    authorize(request, principal, Action.VIEW_PLAN, f"plan:{record.id}:board-pack", record.hwb_code)


def _remember(cache: OrderedDict[tuple[Any, ...], Any], key: tuple[Any, ...], value: Any) -> None:
    cache[key] = value
    while len(cache) > CACHE_SIZE:
        cache.popitem(last=False)


def board_pack(record: PlanRecord, status: StoreStatus) -> tuple[tuple[Any, ...], BoardPack]:
    """The plan's pack (measured when the metrics are ready), built once per version."""
    key = (record.id, record.version, str(status.state), id(status.linked))
    pack = _packs.get(key)
    if pack is None:
        with CHARTS_LOCK:  # matplotlib's style context is global: one drawing at a time
            pack = _packs.get(key)  # built by another request while this one waited
            if pack is None:
                pack = build_board_pack(plan_of(record), linked=status.linked)
                _remember(_packs, key, pack)
    return key, pack


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


@router.get("/plans/{plan_id}/board-pack", response_class=HTMLResponse)
def board_pack_html(
    request: Request, plan_id: str, principal: Principal = Depends(current_principal)
) -> Response:
    """The board pack as one self-contained HTML page (print it, or take the PDF)."""
    record = load_record(request, plan_id)
    may_read_pack(request, principal, record)
    status = stores_of(request.app).status(record.id, record.version, plan_of(record))
    if status.state is StoreState.PREPARING:
        return _preparing(request, principal, record, status)
    _, pack = board_pack(record, status)
    return HTMLResponse(pack.html)


@router.get("/plans/{plan_id}/board-pack.pdf")
def board_pack_pdf(
    request: Request, plan_id: str, principal: Principal = Depends(current_principal)
) -> Response:
    """The board pack as PDF (A4, WeasyPrint)."""
    record = load_record(request, plan_id)
    may_read_pack(request, principal, record)
    status = stores_of(request.app).status(record.id, record.version, plan_of(record))
    if status.state is StoreState.PREPARING:
        return _preparing(request, principal, record, status)
    key, pack = board_pack(record, status)
    pdf = _pdfs.get(key)
    if pdf is None:
        with _PDF_LOCK:  # one PDF at a time: WeasyPrint is CPU-heavy
            pdf = _pdfs.get(key)
            if pdf is None:
                pdf = pack.pdf()
                _remember(_pdfs, key, pdf)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{record.id}-board-pack.pdf"'},
    )
