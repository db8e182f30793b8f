"""The front page: Health and Wellbeing Boards and their plans, within the caller's scope."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse

from bettercare.app.analytics_store import stores_of
from bettercare.app.db import database_ok
from bettercare.app.plans import list_plans
from bettercare.app.security import Action, Principal, allowed, current_principal
from bettercare.app.templating import render

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def index(request: Request, principal: Principal = Depends(current_principal)) -> HTMLResponse:
    """HWBs and plans the caller may see (the public sees published board papers only)."""
    with request.app.state.sessions() as db:
        records = [
            r
            for r in list_plans(db)
            if allowed(principal, Action.VIEW_PLAN, r.hwb_code) or r.published
        ]
    return render(request, "index.html.j2", principal, plans=records)


@router.get("/healthz", include_in_schema=False)
def healthz(request: Request) -> JSONResponse:
    """Health probe: 200 when the database answers, else 503 (pages would fail)."""
    if not database_ok(request.app.state.engine):
        return JSONResponse({"status": "database unavailable"}, status_code=503)
    return JSONResponse({"status": "ok"})


@router.get("/readyz", include_in_schema=False)
def readyz(request: Request) -> JSONResponse:
    """Readiness probe: the database answers and the analytics worker can take jobs."""
    if not database_ok(request.app.state.engine):
        return JSONResponse({"status": "database unavailable"}, status_code=503)
    reason = stores_of(request.app).ready()
    if reason:
        return JSONResponse({"status": reason}, status_code=503)
    return JSONResponse({"status": "ok"})
