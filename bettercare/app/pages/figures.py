"""Published figures pages: a board among its peers, and the ICB's / region's view.

Routes only: parse, authorise, gather the plans the user may see (``app.plans``), call
:mod:`bettercare.services.figures`, render.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from bettercare.app.deps import Db
from bettercare.app.security import (
    EVERY_HWB,
    Action,
    Principal,
    authorize,
    current_principal,
)
from bettercare.app.templating import render
from bettercare.services import figures as service

if TYPE_CHECKING:
    from bettercare.reporting.boards import IcbView

router = APIRouter()


@router.get("/figures", response_class=HTMLResponse)
def board(
    request: Request, hwb: str | None = None, principal: Principal = Depends(current_principal)
) -> HTMLResponse:
    """One board's published figures against England, its region and its peers."""
    code = hwb or principal.hwb_code
    authorize(request, principal, Action.VIEW_METRICS, f"figures {code or ''}", code)
    settings = request.app.state.settings
    peers = service.peers_from_file(settings.peers, code)  # serve --peers, else the region
    view = service.board_figures(settings.figures, code, peers)
    return render(request, "figures.html.j2", principal, view=view)


def _view(request: Request, db: Db, principal: Principal, region: str | None) -> IcbView:
    """The plans the principal may see (assurers and admins: every board), side by side."""
    entries = service.visible_plans(db, principal)
    scope = "every board" if principal.role in EVERY_HWB else "your board"
    return service.icb_view(entries, request.app.state.settings.figures, region, scope)


@router.get("/figures/icb", response_class=HTMLResponse)
def icb(
    request: Request,
    db: Db,
    region: str | None = None,
    principal: Principal = Depends(current_principal),
) -> HTMLResponse:
    """Several boards side by side (the boards the caller may see)."""
    authorize(request, principal, Action.VIEW_PLAN, "figures icb view")
    view = _view(request, db, principal, region)
    return render(request, "figures_icb.html.j2", principal, view=view, region=region)


@router.get("/figures/icb/download.csv")
def icb_csv(
    request: Request,
    db: Db,
    region: str | None = None,
    principal: Principal = Depends(current_principal),
) -> Response:
    """The view across boards as a CSV report."""
    authorize(request, principal, Action.VIEW_PLAN, "figures icb report")
    return Response(
        service.icb_csv(_view(request, db, principal, region)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="bcf-boards.csv"'},
    )
