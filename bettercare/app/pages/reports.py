"""Reports of a plan from the app: the board pack (HTML and PDF) and the impact model.

The pack is :func:`bettercare.reporting.board_pack.build_board_pack`'s, as
``bettercare report`` writes it, measured on the plan's analytics store when its metrics
are ready (:mod:`bettercare.app.analytics_store`); a plan without a store gets the plan
sections only. The public may read the pack of a published plan; everyone else as they
may read the plan (their own HWB; assurers and admins every HWB). Packs are kept in
memory per plan version and measured result, so repeated views cost nothing.

The modelling page shows :func:`bettercare.analytics.modelling.run_impact`
with :mod:`bettercare.reporting.modelling`'s charts, as ``bettercare model impact`` does:
the probability of meeting the target, the distribution, the tornado chart and each
partner's share of a shortfall, from the plan's stated ranges or fitted to the store.
"""

from __future__ import annotations

import html
import re
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from bettercare.app.analytics_store import CHARTS_LOCK, StoreState, StoreStatus, stores_of
from bettercare.app.models import PlanRecord
from bettercare.app.pages.returns import authorized_record, load_record
from bettercare.app.plans import plan_of
from bettercare.app.security import Action, Principal, allowed, authorize, current_principal
from bettercare.app.templating import render
from bettercare.domain.money import format_gbp
from bettercare.domain.plan import Plan

if TYPE_CHECKING:
    from bettercare.reporting.board_pack import BoardPack

router = APIRouter()

CACHE_SIZE = 8
REFRESH_SECONDS = 5
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


def board_pack(
    request: Request, record: PlanRecord, status: StoreStatus
) -> tuple[tuple[Any, ...], BoardPack]:
    """The plan's pack (measured when the metrics are ready), built once per version."""
    packs: OrderedDict[tuple[Any, ...], BoardPack] = stores_of(request.app).memo("board_packs")
    from bettercare.reporting.board_pack import build_board_pack  # slow to import

    key = (record.id, record.version, str(status.state), status.run)
    pack = packs.get(key)
    if pack is None:
        with CHARTS_LOCK:  # matplotlib's style context is global: one drawing at a time
            pack = packs.get(key)  # built by another request while this one waited
            if pack is None:
                pack = build_board_pack(plan_of(record), linked=status.linked)
                _remember(packs, key, pack)
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


def _pack_request(
    request: Request, principal: Principal, plan_id: str
) -> tuple[PlanRecord, StoreStatus, HTMLResponse | None]:
    """The plan, if the caller may read its pack; its store; the page to show while preparing."""
    record = load_record(request, plan_id)
    may_read_pack(request, principal, record)
    status = stores_of(request.app).status(record.id, record.version, plan_of(record))
    if status.state is StoreState.PREPARING:
        return record, status, _preparing(request, principal, record, status)
    return record, status, None


@router.get("/plans/{plan_id}/board-pack", response_class=HTMLResponse)
def board_pack_html(
    request: Request, plan_id: str, principal: Principal = Depends(current_principal)
) -> Response:
    """The board pack as one self-contained HTML page (print it, or take the PDF)."""
    record, status, waiting = _pack_request(request, principal, plan_id)
    if waiting is not None:
        return waiting
    _, pack = board_pack(request, record, status)
    return HTMLResponse(pack.html)


@router.get("/plans/{plan_id}/board-pack.pdf")
def board_pack_pdf(
    request: Request, plan_id: str, principal: Principal = Depends(current_principal)
) -> Response:
    """The board pack as PDF (A4, WeasyPrint)."""
    record, status, waiting = _pack_request(request, principal, plan_id)
    if waiting is not None:
        return waiting
    key, pack = board_pack(request, record, status)
    pdfs: OrderedDict[tuple[Any, ...], bytes] = stores_of(request.app).memo("board_pack_pdfs")
    pdf = pdfs.get(key)
    if pdf is None:
        with _PDF_LOCK:  # one PDF at a time: WeasyPrint is CPU-heavy
            pdf = pdfs.get(key)
            if pdf is None:
                pdf = pack.pdf()
                _remember(pdfs, key, pdf)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{record.id}-board-pack.pdf"'},
    )


# -- modelling ----------------------------------------------------------

_SVG_OPEN = re.compile(r"<svg\b")
_PROLOGUE = re.compile(r"\A(?:\s*<\?xml[^>]*\?>|\s*<!DOCTYPE[^>]*>|\s*<!--.*?-->)*\s*", re.S)


def labelled_svg(svg: str, label: str, prefix: str) -> str:
    """A chart's SVG ready to inline: no prologue, ``role="img"``, a label and a title."""
    from bettercare.app.pages.metrics import scoped_svg

    text = _PROLOGUE.sub("", svg, count=1)
    safe = html.escape(label, quote=True)
    text = _SVG_OPEN.sub(f'<svg role="img" aria-label="{safe}"', text, count=1)
    text = re.sub(r"(<svg\b[^>]*>)", rf"\1<title>{safe}</title>", text, count=1)
    return scoped_svg(text, prefix)


def impact_model(
    models: OrderedDict[tuple[Any, ...], dict[str, Any]],
    record: PlanRecord,
    plan: Plan,
    fit_to: Path | None,
) -> dict[str, Any]:
    """The scheme impact Monte Carlo of the plan, as ``bettercare model impact`` runs it.

    Default parameters (10,000 draws, fixed seed: the same page every time); ``fit_to``
    a store: each scheme fitted to its performance to date there (``--store``). Kept in
    ``models`` per plan version. Raises ``ModellingInputError`` for a plan that cannot be modelled.
    """
    key = (record.id, record.version, str(fit_to))
    found = models.get(key)
    if found is not None:
        return found
    from bettercare.analytics.modelling.impact import (
        PERCENTILES,
        ImpactParams,
        modelled_year,
        run_impact,
    )
    from bettercare.analytics.modelling.store_inputs import fitted_from_store
    from bettercare.reporting.modelling import impact_charts, impact_context

    params = ImpactParams()
    notes: list[str] = []
    fitted = None
    if fit_to is not None:
        fitted, notes = fitted_from_store(fit_to, plan, modelled_year(plan, params))
    with CHARTS_LOCK:  # pyplot draws these: one drawing at a time
        found = models.get(key)
        if found is not None:
            return found
        result = run_impact(plan, params, fitted)
        svgs = impact_charts(result, fmt="svg")
    result.notes[:0] = notes
    p = result.probability_meeting_target
    labels = {
        "admissions_avoided": (
            f"Distribution of admissions avoided in {result.financial_year} over "
            f"{params.draws:,} draws: probability of meeting the target of "
            f"{result.target:,} is {p:.0%}"
        ),
        "tornado": "Which schemes matter most: "
        + "; ".join(
            f"{b.reference} {b.low:.0%} at its P10 to {b.high:.0%} at its P90"
            for b in result.tornado[:15]
        ),
        "partner_shortfall": "Shortfall each partner bears: "
        + "; ".join(
            f"{result.partner_names.get(pid, pid)} expected {format_gbp(round(float(d.mean())))}"
            for pid, d in result.partner_shortfall.items()
        ),
    }
    model = impact_context(result) | {
        "charts": {
            name: labelled_svg(str(svg), labels[name], f"m-{record.id}-{name}")
            for name, svg in svgs.items()
        },
        "shortfall": [
            {
                "partner": result.partner_names.get(pid, pid),
                "mean": format_gbp(round(float(d.mean()))),
                "p90": format_gbp(round(float(np.percentile(d, 90)))),
            }
            for pid, d in result.partner_shortfall.items()
        ],
        "percentiles": PERCENTILES,
    }
    _remember(models, key, model)
    return model


@router.get("/plans/{plan_id}/model", response_class=HTMLResponse)
def model_page(
    request: Request,
    plan_id: str,
    basis: Literal["plan", "observed"] = Query(
        "plan", description="plan: the plan's stated ranges; observed: fitted to the store"
    ),
    principal: Principal = Depends(current_principal),
) -> Response:
    """Will the schemes deliver? Monte Carlo of admissions avoided, P4P and shortfall shares."""
    import duckdb

    from bettercare.analytics.metrics import MetricDataError
    from bettercare.analytics.modelling.errors import ModellingInputError

    target = f"plan:{plan_id}:model"
    record = authorized_record(request, principal, plan_id, Action.VIEW_METRICS, target)
    plan = plan_of(record)
    stores = stores_of(request.app)
    status = stores.status(record.id, record.version, plan)
    store = Path(status.linked.store) if status.linked is not None else None
    error = None
    model = None
    if basis == "observed" and store is None:
        error = (
            "No measured store for this plan yet (see the metrics page): modelled from the "
            "plan's stated ranges."
        )
    models = stores.memo("impact_models")
    try:
        try:
            model = impact_model(models, record, plan, store if basis == "observed" else None)
        except (MetricDataError, duckdb.Error) as exc:  # the store could not be read to fit
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            error = f"The store could not be read to fit the schemes ({first}): "
            error += "modelled from the plan's stated ranges."
            model = impact_model(models, record, plan, None)
    except ModellingInputError as exc:
        error = f"This plan cannot be modelled: {exc}"
    return render(
        request,
        "reports_model.html.j2",
        principal,
        record=record,
        model=model,
        error=error,
        basis=basis if store is not None else "plan",
        can_fit=store is not None,
    )
