"""The front page: Health and Wellbeing Boards and their plans, within the caller's scope."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from bettercare.app.deps import Acting, Db
from bettercare.app.templating import render
from bettercare.services import plans

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def index(request: Request, db: Db, caller: Acting) -> HTMLResponse:
    """HWBs and plans the caller may see (the public sees published board papers only)."""
    return render(request, "index.html.j2", caller.principal, plans=plans.visible_plans(db, caller))


@router.get("/healthz", include_in_schema=False)
def healthz() -> dict[str, str]:
    """Liveness probe."""
    return {"status": "ok"}
