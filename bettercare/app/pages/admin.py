"""Administration: users (list, create, deactivate) and the audit log (view, filter, export).

Only the admin role may use these pages (``Action.MANAGE_USERS``, ``Action.VIEW_AUDIT``);
anyone else is refused and the attempt is audit-logged like every refusal. Passwords
follow :mod:`bettercare.app.security` (argon2id, at least ``MIN_PASSWORD_LENGTH``
characters). Users are deactivated, never deleted, so the audit log's names stay
meaningful.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bettercare.app.deps import Acting, Db
from bettercare.app.pages.common import page_responses
from bettercare.app.security import MIN_PASSWORD_LENGTH
from bettercare.app.seed import create_user
from bettercare.app.templating import render
from bettercare.services import users
from bettercare.services.access import Caller

router = APIRouter(responses=page_responses())

Filter = Annotated[str | None, Query(max_length=120)]


# --- users -----------------------------------------------------------------------------


def _users_page(request: Request, caller: Caller, page: users.UsersPage) -> Response:
    return render(
        request,
        "admin.html.j2",
        caller.principal,
        status_code=page.status,
        min_password=MIN_PASSWORD_LENGTH,
        **page.context(),
    )


@router.get("/admin", response_class=HTMLResponse)
def admin_home(request: Request, db: Db, caller: Acting, created: str | None = None) -> Response:
    """Users and the form to create one."""
    return _users_page(request, caller, users.users_page(db, caller, created=created))


@router.post("/admin/users", response_model=None)
def add_user(
    request: Request,
    db: Db,
    caller: Acting,
    username: str = Form("", max_length=120),
    password: str = Form("", max_length=1024),
    role: str = Form("", max_length=40),
    hwb_code: str = Form("", max_length=64),
    organisation: str = Form("", max_length=200),
) -> Response:
    """Create a user with a role (and an HWB for roles that work within one)."""
    new = users.NewUser(username, password, role, hwb_code, organisation)
    page = users.add_user(db, caller, new, create_user, MIN_PASSWORD_LENGTH)
    if page is not None:
        return _users_page(request, caller, page)
    return RedirectResponse(f"/admin?created={username.strip().lower()}", status_code=303)


@router.post("/admin/users/{user_id}/active", response_model=None)
def set_active(
    request: Request,
    # an INTEGER column: a larger id is a 500 on PostgreSQL (found by schemathesis)
    user_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    db: Db,
    caller: Acting,
    active: str = Form(..., max_length=5),
) -> Response:
    """Deactivate (``active=0``) or reactivate (``active=1``) a user; never oneself."""
    page = users.set_active(db, caller, user_id, active in ("1", "true", "on"))
    if page is not None:
        return _users_page(request, caller, page)
    return RedirectResponse("/admin", status_code=303)


# --- audit log -------------------------------------------------------------------------


@router.post("/admin/unlock", response_model=None)
def unlock(
    request: Request,
    db: Db,
    caller: Acting,
    username: str = Form(..., max_length=120),
) -> Response:
    """Lift a user's sign-in lockout after failed attempts (audited)."""
    users.unlock(db, caller, username)
    return RedirectResponse("/?unlocked=1#tasks-locked", status_code=303)


@router.get("/audit", include_in_schema=False)
def audit_shortcut(request: Request, db: Db, caller: Acting) -> Response:
    """``/audit`` is the admin's audit log."""
    users.may_read_audit(db, caller)
    return RedirectResponse("/admin/audit", status_code=307)


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_log(
    request: Request,
    db: Db,
    caller: Acting,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    actor: Filter = None,
    outcome: Filter = None,
    action: Filter = None,
    q: Filter = None,
    since: Filter = None,
    until: Filter = None,
) -> Response:
    """The audit log, newest first, 50 a page: filters, search and a date range."""
    found = users.audit_page(db, caller, page, actor, outcome, action, q, since, until)
    return render(request, "admin_audit.html.j2", caller.principal, **found.context())


@router.get("/admin/audit.csv", response_class=Response)
def audit_csv(
    request: Request,
    db: Db,
    caller: Acting,
    actor: Filter = None,
    outcome: Filter = None,
    action: Filter = None,
    q: Filter = None,
    since: Filter = None,
    until: Filter = None,
) -> Response:
    """The (filtered) audit log as CSV, cells that a spreadsheet would run escaped."""
    text = users.audit_csv(db, caller, actor, outcome, action, q, since, until)
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="bettercare-audit.csv"'},
    )
