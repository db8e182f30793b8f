"""``/evaluation``: did a change in some practices work? Effects against a counterfactual.

Parses the form, calls :func:`bettercare.app.evaluation.evaluation_page` (aggregate
figures only; who may see them is decided there) and renders.
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from bettercare.app.deps import Acting, Db
from bettercare.app.templating import render
from bettercare.services.evaluation import evaluation_page

router = APIRouter()


@router.get("/evaluation", response_class=HTMLResponse)
def evaluation(
    request: Request,
    hwb: str | None = None,
    name: str = "",
    change_date: str = "",
    treated: list[str] = Query(default=[]),
    start_practice: list[str] = Query(default=[]),
    start_date: list[str] = Query(default=[]),
    *,
    db: Db,
    caller: Acting,
) -> HTMLResponse:
    """The form and, once a change date and practices are given, the effects.

    ``start_practice``/``start_date``: aligned lists (one pair per practice on the form)
    giving a practice its own start date for a staggered roll-out.
    """
    starts = {
        p[:20]: d[:20]
        for p, d in zip(start_practice[:500], start_date[:500], strict=False)
        if d.strip()
    }
    page = evaluation_page(
        db,
        caller.principal,
        request.app.state.settings.store,
        hwb=hwb[:64] if hwb else None,
        name=name[:200],
        change_date=change_date[:20],
        treated=[t[:20] for t in treated[:500]],
        starts=starts,
        ip=caller.ip,
    )
    return render(request, "evaluation.html.j2", caller.principal, page=page)
