"""Sign in and out (password, rate limited, audit-logged) and bearer tokens for API clients."""

from __future__ import annotations

import re
from urllib.parse import urlparse

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from bettercare.app.deps import Acting, Db
from bettercare.app.pages import plans as plan_pages
from bettercare.app.security import (
    ANONYMOUS,
    authenticate,
    client_ip,
    end_session,
    issue_token,
    principal_of,
    start_session,
)
from bettercare.app.templating import render
from bettercare.services import users
from bettercare.services.access import Caller

#: The prefix of the sign-in form's hidden fields that carry a plan form's typed input.
KEPT = "kept:"

router = APIRouter()


#: Characters a browser drops from or reads as a slash in a URL (``/\\evil.example`` and
#: ``/<tab>/evil.example`` are ``//evil.example`` to Chromium): never in a target.
_UNSAFE_IN_NEXT = re.compile(r"[\\\x00-\x20\x7f]")


def _safe_next(target: str | None) -> str:
    """Only same-site paths are followed after login (no open redirect).

    A target must be a path on this site (``/plans/x``, with its query if any): anything
    with a scheme or host, starting ``//``, or holding a backslash, space or control
    character goes to ``/`` instead.
    """
    if not target:
        return "/"
    parsed = urlparse(target)
    if (
        parsed.scheme
        or parsed.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or _UNSAFE_IN_NEXT.search(target)
    ):
        return "/"
    return target


def _attempt(request: Request, db: Db, username: str, password: str) -> users.SignIn:
    """Check credentials (rate limited, logged and audited) through the users service."""
    settings = request.app.state.settings
    limits = users.LoginLimits(
        settings.login_window_seconds, settings.login_attempts, settings.login_attempts_per_ip
    )
    return users.sign_in(
        db, username, password, client_ip(request), limits, authenticate, principal_of
    )


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, caller: Acting, next: str | None = None) -> HTMLResponse:
    """The sign-in form."""
    return render(request, "login.html.j2", caller.principal, next=_safe_next(next), error=None)


@router.post("/login", response_model=None)
async def login(
    request: Request,
    db: Db,
    username: str = Form(..., max_length=120),
    password: str = Form(..., max_length=1024),
    next: str | None = Form(None, max_length=2048),
) -> Response:
    """Sign in: a fresh session (no fixation) holding the user id and a new CSRF token.

    Then a 303 to ``next`` (a same-site path only). When the page carried a plan form's
    input (kept after the session expired), that form's page shows it again, nothing
    saved; input too long to carry in the session cookie is shown by this response.
    """
    form = await request.form()
    kept = {k[len(KEPT) :]: v for k, v in form.items() if k.startswith(KEPT) and isinstance(v, str)}
    result = await run_in_threadpool(_attempt, request, db, username, password)
    principal = result.principal
    if principal is None:
        locked = result.status == 429
        return render(
            request,
            "login.html.j2",
            ANONYMOUS,
            status_code=result.status,
            next=_safe_next(next),
            error=users.locked_message(result.retry_at)
            if locked
            else "Sign-in failed: the username or password is wrong.",
            locked=locked,
            username=username,
            kept=kept,
            expired=bool(kept),
        )
    request.session.clear()
    assert principal.user_id is not None
    user_id = principal.user_id

    def _start() -> str:
        sid = start_session(db, user_id)  # server-side: logout or revocation ends it
        db.commit()
        return sid

    sid = await run_in_threadpool(_start)
    request.session["user_id"] = principal.user_id
    request.session["sid"] = sid
    target = _safe_next(next)
    if kept and plan_pages.KEPT_FORM.fullmatch(target):
        # back to the form the user was on (its address in the browser), the input with it
        address = plan_pages.keep_for_redirect(request.session, target, kept)
        if address is not None:
            return RedirectResponse(address, status_code=303)
        # too long for the session cookie: the form is shown here, nothing lost
        caller = Caller(principal, client_ip(request), f"GET {target}")
        return await run_in_threadpool(plan_pages.kept_page, request, db, caller, target, kept)
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
def logout(request: Request, db: Db, caller: Acting) -> Response:
    """Sign out (audit-logged)."""
    users.sign_out(db, caller)
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
def token(request: Request, body: TokenRequest, db: Db) -> Response:
    """Exchange a username and password for a bearer token (rate limited like the form)."""
    result = _attempt(request, db, body.username, body.password)
    if result.user is None:
        return JSONResponse({"detail": "sign-in failed"}, status_code=result.status)
    value = users.issue_token(db, result.user, issue_token)
    return JSONResponse(TokenResponse(access_token=value).model_dump())
