"""Care coordination pages: a coordinator's people at risk, and coverage for everyone else.

``/care``: the care coordinator's list (``VIEW_PATIENTS``, their own HWB only; direct
care): each person at risk with tier, probability, joint care plan status, review due
(overdue flagged) and the accountable lead professional. ``/care/patients/<id>``: one
person's risk history, plans and care team, with forms to record the joint care plan
(optimistic locking on its version) and the lead professional (``EDIT_CARE_RECORDS``).
Every view and change is audit-logged.

``/care/coverage``: the share of people at risk with an active joint care plan, a lead
professional and both, by GP practice and month (``VIEW_METRICS``: editors, analysts,
coordinators of the HWB; the assurer and admin choose the HWB). Aggregates only; for
everyone but the HWB's coordinators, counts of 1-7 are suppressed and the rest rounded
to 5 (:func:`bettercare.analytics.care_coverage.published`).

The routes parse, call :mod:`bettercare.services.care` and render.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bettercare.app.deps import Acting, Db
from bettercare.app.templating import render
from bettercare.services import care
from bettercare.services.access import Caller

router = APIRouter()


def _fields(view: care.CareList | care.Coverage) -> dict[str, Any]:
    """A view model's fields as a template's context (shallow: the objects themselves)."""
    return {f.name: getattr(view, f.name) for f in dataclasses.fields(view)}


@router.get("/care", response_class=HTMLResponse)
def care_list(
    request: Request,
    db: Db,
    caller: Acting,
    practice: Annotated[str | None, Query(max_length=20)] = None,
    tier: Annotated[str | None, Query(max_length=40)] = None,
    q: Annotated[str | None, Query(max_length=120, description="Name, NHS number")] = None,
    lead: Annotated[str | None, Query(max_length=200)] = None,
    review: Annotated[str | None, Query(max_length=20)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """The care coordinator's people at risk (their own HWB; direct care only).

    Searched, filtered by practice, tier, lead professional and review due, 25 a page.
    """
    found = care.care_list(
        db, caller, practice, tier, dt.date.today(), q=q, lead=lead, review=review, page=page
    )
    return render(
        request, "care.html.j2", caller.principal, filters=found.filters, **_fields(found)
    )


@router.get("/care/coverage", response_class=HTMLResponse)
def care_coverage(request: Request, db: Db, caller: Acting, hwb: str | None = None) -> HTMLResponse:
    """Coverage of joint care plans and lead professionals by practice and month."""
    found = care.care_coverage(db, caller, hwb, dt.date.today())
    return render(request, "care_coverage.html.j2", caller.principal, **_fields(found))


def _patient_page(request: Request, caller: Caller, page: care.PatientPage) -> HTMLResponse:
    return render(
        request,
        "care_patient.html.j2",
        caller.principal,
        status_code=page.status,
        **page.context(),
    )


@router.get("/care/patients/{patient_id}", response_class=HTMLResponse)
def care_patient(request: Request, patient_id: str, db: Db, caller: Acting) -> HTMLResponse:
    """One person: risk, joint care plans and care team, with forms to record them."""
    return _patient_page(request, caller, care.patient_page(db, caller, patient_id))


async def _form(request: Request, fields: tuple[str, ...]) -> dict[str, str]:
    data = await request.form()
    return {f: str(data.get(f, ""))[:200] for f in (*fields, "version")}


def _after_save(request: Request, caller: Caller, saved: care.Saved) -> Response:
    if saved.page is not None:
        return _patient_page(request, caller, saved.page)
    return RedirectResponse(f"/care/patients/{saved.patient_id}", status_code=303)


@router.post("/care/patients/{patient_id}/plan", response_class=HTMLResponse)
async def save_care_plan(request: Request, patient_id: str, db: Db, caller: Acting) -> Response:
    """Record the joint care plan (new, or a new version of the current one)."""
    form = await _form(request, care.PLAN_FIELDS)
    saved = await run_in_threadpool(care.save_care_plan, db, caller, patient_id, form)
    return _after_save(request, caller, saved)


@router.post("/care/patients/{patient_id}/lead", response_class=HTMLResponse)
async def save_lead(request: Request, patient_id: str, db: Db, caller: Acting) -> Response:
    """Name the accountable lead professional (in the person's care team)."""
    form = await _form(request, care.LEAD_FIELDS)
    saved = await run_in_threadpool(care.save_lead, db, caller, patient_id, form)
    return _after_save(request, caller, saved)
