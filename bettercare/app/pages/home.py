"""The front page: Health and Wellbeing Boards and their plans, within the caller's scope."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from bettercare.app.analytics_store import stores_of
from bettercare.app.db import database_ok
from bettercare.app.deps import Acting, Db
from bettercare.app.templating import render
from bettercare.services import plans

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def index(request: Request, db: Db, caller: Acting) -> HTMLResponse:
    """HWBs and plans the caller may see (the public sees published board papers only)."""
    return render(request, "index.html.j2", caller.principal, plans=plans.visible_plans(db, caller))


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
