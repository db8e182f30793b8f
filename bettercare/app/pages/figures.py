"""Published figures pages: a board among its peers, and the ICB's / region's view.

Routes only: parse, authorise, call :mod:`bettercare.services.figures`, render.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from bettercare.app.security import Action, Principal, authorize, current_principal
from bettercare.app.templating import render
from bettercare.services import figures as service

router = APIRouter()


@router.get("/figures", response_class=HTMLResponse)
def board(
    request: Request, hwb: str | None = None, principal: Principal = Depends(current_principal)
) -> HTMLResponse:
    """One board's published figures against England, its region and its peers."""
    code = hwb or principal.hwb_code
    authorize(request, principal, Action.VIEW_METRICS, f"figures {code or ''}", code)
    with request.app.state.sessions() as db:
        view = service.board_figures(db, principal, request.app.state.settings.figures, code)
    return render(request, "figures.html.j2", principal, view=view)


@router.get("/figures/icb", response_class=HTMLResponse)
def icb(
    request: Request, region: str | None = None, principal: Principal = Depends(current_principal)
) -> HTMLResponse:
    """Several boards side by side (the boards the caller may see)."""
    authorize(request, principal, Action.VIEW_PLAN, "figures icb view")
    with request.app.state.sessions() as db:
        view = service.icb_view(db, principal, request.app.state.settings.figures, region)
    return render(request, "figures_icb.html.j2", principal, view=view, region=region)


@router.get("/figures/icb.csv")
def icb_csv(
    request: Request, region: str | None = None, principal: Principal = Depends(current_principal)
) -> Response:
    """The view across boards as a CSV report."""
    authorize(request, principal, Action.VIEW_PLAN, "figures icb report")
    with request.app.state.sessions() as db:
        view = service.icb_view(db, principal, request.app.state.settings.figures, region)
    return Response(
        service.icb_csv(view),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="bcf-boards.csv"'},
    )
