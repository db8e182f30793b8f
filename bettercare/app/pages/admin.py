"""Administration: users (list, create, deactivate) and the audit log (view, filter, export).

Only the admin role may use these pages (``Action.MANAGE_USERS``, ``Action.VIEW_AUDIT``);
anyone else is refused and the attempt is audit-logged like every refusal. Passwords
follow :mod:`bettercare.app.security` (argon2id, at least ``MIN_PASSWORD_LENGTH``
characters). Users are deactivated, never deleted, so the audit log's names stay
meaningful.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bettercare.app import audit, passwords
from bettercare.app.models import AuditEvent, Hwb, User
from bettercare.app.pages.common import page_responses
from bettercare.app.security import (
    EVERY_HWB,
    MIN_PASSWORD_LENGTH,
    Action,
    Principal,
    Role,
    authorize,
    client_ip,
    current_principal,
    revoke_sessions,
)
from bettercare.app.seed import create_user
from bettercare.app.templating import render

router = APIRouter(responses=page_responses())

PAGE_SIZE = 50
#: Rows in one CSV export (the log is append-only and can grow: export in filtered slices).
MAX_EXPORT_ROWS = 100_000
USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.\-]{2,119}$")
OUTCOMES = (audit.OK, audit.DENIED, audit.INVALID, audit.CONFLICT)

Filter = Annotated[str | None, Query(max_length=120)]


# --- users -----------------------------------------------------------------------------


def _users_page(
    request: Request,
    principal: Principal,
    db: Session,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    users = list(db.scalars(select(User).order_by(User.username)))
    hwbs = list(db.scalars(select(Hwb).order_by(Hwb.name)))
    return render(
        request,
        "admin.html.j2",
        principal,
        status_code=status_code,
        users=users,
        hwbs=hwbs,
        roles=list(Role),
        errors=errors or {},
        values=values or {},
        message=message,
        min_password=MIN_PASSWORD_LENGTH,
    )


@router.get("/admin", response_class=HTMLResponse)
def admin_home(
    request: Request, created: str | None = None, principal: Principal = Depends(current_principal)
) -> Response:
    """Users and the form to create one."""
    authorize(request, principal, Action.MANAGE_USERS, "admin:users")
    message = f"User {created} created." if created and USERNAME.match(created) else None
    with request.app.state.sessions() as db:
        return _users_page(request, principal, db, message=message)


def user_errors(
    db: Session, username: str, password: str, role: str, hwb_code: str
) -> dict[str, str]:
    """What is wrong with a new user's details, by field (empty: fine)."""
    errors: dict[str, str] = {}
    if not USERNAME.match(username):
        errors["username"] = (
            "3 to 120 characters: lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    elif db.scalar(select(User).where(User.username == username)) is not None:
        errors["username"] = f"the username '{username}' is taken"
    if reason := passwords.problem(password, username):
        errors["password"] = reason
    try:
        parsed = Role(role)
    except ValueError:
        errors["role"] = "choose one of the roles"
        return errors
    if hwb_code and db.get(Hwb, hwb_code) is None:
        errors["hwb_code"] = f"no Health and Wellbeing Board '{hwb_code}'"
    elif parsed not in EVERY_HWB and parsed is not Role.PUBLIC and not hwb_code:
        role_name = parsed.value.replace("_", " ")
        errors["hwb_code"] = f"the {role_name} role works within one HWB: choose it"
    return errors


@router.post("/admin/users", response_model=None)
def add_user(
    request: Request,
    username: str = Form("", max_length=120),
    password: str = Form("", max_length=1024),
    role: str = Form("", max_length=40),
    hwb_code: str = Form("", max_length=64),
    organisation: str = Form("", max_length=200),
    principal: Principal = Depends(current_principal),
) -> Response:
    """Create a user with a role (and an HWB for roles that work within one)."""
    authorize(request, principal, Action.MANAGE_USERS, "admin:users")
    username = username.strip().lower()
    hwb = hwb_code.strip()
    values = {"username": username, "role": role, "hwb_code": hwb, "organisation": organisation}
    with request.app.state.sessions() as db:
        errors = user_errors(db, username, password, role, hwb)
        if errors:
            audit.record(
                db,
                principal,
                "create_user",
                f"user:{username}",
                audit.INVALID,
                detail="; ".join(f"{k}: {v}" for k, v in errors.items()),
                ip=client_ip(request),
            )
            db.commit()
            return _users_page(
                request, principal, db, errors=errors, values=values, status_code=422
            )
        parsed = Role(role)
        user = create_user(
            db, username, password, parsed, hwb or None, organisation.strip() or None
        )
        audit.record(
            db,
            principal,
            "create_user",
            f"user:{username}",
            after={"role": user.role, "hwb_code": user.hwb_code, "organisation": user.organisation},
            ip=client_ip(request),
        )
        db.commit()
    return RedirectResponse(f"/admin?created={username}", status_code=303)


@router.post("/admin/users/{user_id}/active", response_model=None)
def set_active(
    request: Request,
    # an INTEGER column: a larger id is a 500 on PostgreSQL (found by schemathesis)
    user_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    active: str = Form(..., max_length=5),
    principal: Principal = Depends(current_principal),
) -> Response:
    """Deactivate (``active=0``) or reactivate (``active=1``) a user; never oneself."""
    authorize(request, principal, Action.MANAGE_USERS, f"user-id:{user_id}")
    wanted = active in ("1", "true", "on")
    with request.app.state.sessions() as db:
        user = db.get(User, user_id)
        if user is None:
            raise HTTPException(status_code=404, detail="no such user")
        if user.id == principal.user_id and not wanted:
            audit.record(
                db,
                principal,
                "deactivate_user",
                f"user:{user.username}",
                audit.INVALID,
                detail="an admin cannot deactivate themselves",
                ip=client_ip(request),
            )
            db.commit()
            return _users_page(
                request,
                principal,
                db,
                status_code=409,
                message="You cannot deactivate your own account.",
            )
        before = user.active
        user.active = wanted
        if not wanted:
            revoke_sessions(db, user.id)  # every session and token ends now
        audit.record(
            db,
            principal,
            "reactivate_user" if wanted else "deactivate_user",
            f"user:{user.username}",
            before={"active": before},
            after={"active": wanted},
            ip=client_ip(request),
        )
        db.commit()
    return RedirectResponse("/admin", status_code=303)


# --- audit log -------------------------------------------------------------------------


def _filtered(actor: str | None, outcome: str | None, action: str | None) -> Any:
    q = select(AuditEvent)
    if actor:
        q = q.where(AuditEvent.actor == actor)
    if outcome:
        q = q.where(AuditEvent.outcome == outcome)
    if action:
        q = q.where(AuditEvent.action == action)
    return q


@router.get("/audit", include_in_schema=False)
def audit_shortcut(request: Request, principal: Principal = Depends(current_principal)) -> Response:
    """``/audit`` is the admin's audit log."""
    authorize(request, principal, Action.VIEW_AUDIT, "audit")
    return RedirectResponse("/admin/audit", status_code=307)


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_log(
    request: Request,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    actor: Filter = None,
    outcome: Filter = None,
    action: Filter = None,
    principal: Principal = Depends(current_principal),
) -> Response:
    """The audit log, newest first, 50 a page, filtered by actor, outcome and action."""
    authorize(request, principal, Action.VIEW_AUDIT, "audit")
    q = _filtered(actor, outcome, action)
    with request.app.state.sessions() as db:
        total = db.scalar(select(func.count()).select_from(q.subquery())) or 0
        rows = list(
            db.scalars(
                q.order_by(AuditEvent.id.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
            )
        )
        actions = list(db.scalars(select(AuditEvent.action).distinct().order_by("action")))
    pages = max(1, -(-total // PAGE_SIZE))
    filters = {k: v for k, v in (("actor", actor), ("outcome", outcome), ("action", action)) if v}
    return render(
        request,
        "admin_audit.html.j2",
        principal,
        rows=rows,
        total=total,
        page=page,
        pages=pages,
        filters=filters,
        outcomes=OUTCOMES,
        actions=actions,
    )


@router.get("/admin/audit.csv", response_class=Response)
def audit_csv(
    request: Request,
    actor: Filter = None,
    outcome: Filter = None,
    action: Filter = None,
    principal: Principal = Depends(current_principal),
) -> Response:
    """The (filtered) audit log as CSV, cells that a spreadsheet would run escaped."""
    authorize(request, principal, Action.VIEW_AUDIT, "audit")
    q = _filtered(actor, outcome, action).order_by(AuditEvent.id).limit(MAX_EXPORT_ROWS)
    with request.app.state.sessions() as db:
        text = audit.export_csv(db.scalars(q))
        audit.record(
            db,
            principal,
            "export_audit",
            "audit",
            detail=f"actor={actor or ''} outcome={outcome or ''} action={action or ''}",
            ip=client_ip(request),
        )
        db.commit()
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="bettercare-audit.csv"'},
    )
