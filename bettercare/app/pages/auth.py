"""Sign in and out (password, rate limited, audit-logged) and bearer tokens for API clients."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bettercare.app import audit
from bettercare.app.hardening import excerpt
from bettercare.app.models import LoginAttempt
from bettercare.app.security import (
    ANONYMOUS,
    Principal,
    authenticate,
    client_ip,
    current_principal,
    end_session,
    issue_token,
    principal_of,
    start_session,
)
from bettercare.app.templating import render

router = APIRouter()


def _safe_next(target: str | None) -> str:
    """Only same-site paths are followed after login (no open redirect)."""
    if not target:
        return "/"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _rate_limited(request: Request, db: Session, username: str) -> bool:
    settings = request.app.state.settings
    since = datetime.now(UTC) - timedelta(seconds=settings.login_window_seconds)
    ip = client_ip(request) or "-"
    failed = (
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.at >= since, LoginAttempt.success.is_(False))
    )
    by_user = db.scalar(failed.where(LoginAttempt.username == excerpt(username, 120))) or 0
    by_ip = db.scalar(failed.where(LoginAttempt.ip == ip)) or 0
    return by_user >= settings.login_attempts or by_ip >= settings.login_attempts_per_ip


def _refuse(db: Session, username: str, ip: str | None, detail: str) -> None:
    """Audit and commit a refused login for ``username`` (``detail`` says why)."""
    audit.record(db, ANONYMOUS, "login", f"user:{username}", audit.DENIED, ip=ip, detail=detail)
    db.commit()


def _attempt(request: Request, username: str, password: str) -> tuple[int, Principal | None]:
    """Check credentials: (HTTP status, principal). Every attempt is logged and audited."""
    ip = client_ip(request)
    with request.app.state.sessions() as db:
        if _rate_limited(request, db, username):
            _refuse(db, username, ip, "rate limited")
            return 429, None
        user = authenticate(db, username, password)
        db.add(
            LoginAttempt(
                username=excerpt(username, 120) or "",
                ip=excerpt(ip, 64) or "-",
                success=user is not None,
            )
        )
        if user is None:
            _refuse(db, username, ip, "bad credentials")
            return 401, None
        principal = principal_of(user)
        audit.record(db, principal, "login", f"user:{username}", ip=ip)
        db.commit()
        return 200, principal


@router.get("/login", response_class=HTMLResponse)
def login_form(
    request: Request, next: str | None = None, principal: Principal = Depends(current_principal)
) -> HTMLResponse:
    """The sign-in form."""
    return render(request, "login.html.j2", principal, next=_safe_next(next), error=None)


@router.post("/login", response_model=None)
def login(
    request: Request,
    username: str = Form(..., max_length=120),
    password: str = Form(..., max_length=1024),
    next: str | None = Form(None, max_length=2048),
) -> Response:
    """Sign in: a fresh session (no fixation) holding the user id and a new CSRF token."""
    status, principal = _attempt(request, username, password)
    if principal is None:
        error = (
            "Too many failed attempts: wait a few minutes and try again."
            if status == 429
            else "Sign-in failed: the username or password is wrong."
        )
        return render(
            request,
            "login.html.j2",
            ANONYMOUS,
            status_code=status,
            next=_safe_next(next),
            error=error,
            username=username,
        )
    request.session.clear()
    assert principal.user_id is not None
    with request.app.state.sessions() as db:
        sid = start_session(db, principal.user_id)
        db.commit()
    request.session["user_id"] = principal.user_id
    request.session["sid"] = sid
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, principal: Principal = Depends(current_principal)) -> Response:
    """Sign out (audit-logged)."""
    if not principal.anonymous:
        audit.record_now(
            request.app.state.sessions,
            principal,
            "logout",
            f"user:{principal.username}",
            audit.OK,
            ip=client_ip(request),
        )
    with request.app.state.sessions() as db:
        end_session(db, request.session.get("sid"))
        db.commit()
    request.session.clear()
    return RedirectResponse("/", status_code=303)


class TokenRequest(BaseModel):
    """Credentials exchanged for a bearer token."""

    username: str = Field(max_length=120)
    password: str = Field(max_length=1024)


class TokenResponse(BaseModel):
    """A bearer token for the API (``Authorization: Bearer ...``)."""

    access_token: str
    token_type: str = "bearer"


@router.post("/auth/token", response_model=TokenResponse, responses={401: {}, 429: {}})
def token(request: Request, body: TokenRequest) -> Response:
    """Exchange a username and password for a bearer token (rate limited like the form)."""
    status, principal = _attempt(request, body.username, body.password)
    if principal is None or principal.user_id is None:
        return JSONResponse({"detail": "sign-in failed"}, status_code=status)
    with request.app.state.sessions() as db:
        from bettercare.app.models import User

        user = db.get(User, principal.user_id)
        assert user is not None
        value = issue_token(db, user)
        db.commit()
    return JSONResponse(TokenResponse(access_token=value).model_dump())
