"""The front page: the signed-in user's task list and the plans within their scope.

The tasks are :mod:`bettercare.services.home`'s (one list per role); the public sees the
published board papers only.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from bettercare.app.analytics_store import stores_of
from bettercare.app.db import database_ok
from bettercare.app.deps import Acting, Db
from bettercare.app.templating import render
from bettercare.services import home, users

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def index(request: Request, db: Db, caller: Acting) -> HTMLResponse:
    """The caller's tasks, then the plans they may see (the public: published board papers)."""
    settings = request.app.state.settings
    limits = users.LoginLimits(
        settings.login_window_seconds, settings.login_attempts, settings.login_attempts_per_ip
    )
    page = home.home(db, caller, dt.date.today(), limits)
    return render(request, "index.html.j2", caller.principal, **page.context())


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
