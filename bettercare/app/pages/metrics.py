"""The metrics dashboard of a plan: plan vs actual, RAG, SPC, schemes, P4P earned.

Everything shown is computed by :mod:`bettercare.services.dashboard` (the analytics
layer's figures, drawn by :mod:`bettercare.reporting.charts`); the store and when it is
measured are :mod:`bettercare.app.analytics_store`'s. The page adds only layout: each
chart is inline SVG with a text alternative and a data table as the accessible fallback.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from bettercare.analytics.spc import VARIATION_SHORT_LABEL
from bettercare.app.analytics_store import StoreState, stores_of
from bettercare.app.deps import Acting, Db
from bettercare.app.templating import render
from bettercare.domain.money import format_gbp
from bettercare.services import dashboard

router = APIRouter()

#: Seconds between reloads while the metrics are being prepared.
#: Long enough that a reload never cuts short a click the reader (or a crawler checking
#: the pages) makes meanwhile; the page has a "Reload now" link.
REFRESH_SECONDS = 30


@router.get("/plans/{plan_id}/metrics", response_class=HTMLResponse)
def metrics_page(request: Request, plan_id: str, db: Db, caller: Acting) -> HTMLResponse:
    """The plan's metrics against plan (analysts, editors, coordinators of the HWB; assurers)."""
    record, plan = dashboard.metrics_plan(db, caller, plan_id)
    stores = stores_of(request.app)
    status = stores.status(record.id, record.version, plan)
    store = stores.store
    page = render(
        request,
        "metrics.html.j2",
        caller.principal,
        record=record,
        plan=plan,
        status=status,
        states=StoreState,
        store_name=store.name if store is not None else None,
        spc_signal=VARIATION_SHORT_LABEL,
        gbp=format_gbp,
        num=dashboard.number,
        **dashboard.dashboard_context(plan, status),
    )
    if status.state is StoreState.PREPARING:
        page.headers["Refresh"] = str(REFRESH_SECONDS)  # reload until the metrics are ready
    return page
