"""``create_app``: the one FastAPI server (pages, JSON API, FHIR API) on one database."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bettercare import __version__
from bettercare.app.db import make_engine, session_factory
from bettercare.app.fhir.errors import (
    FhirError,
    FhirResponse,
    csrf_response,
    denied_response,
    error_response,
    outcome,
)
from bettercare.app.fhir.router import router as fhir_router
from bettercare.app.hardening import InputBounds, SecurityHeaders
from bettercare.app.pages import (
    admin,
    api,
    auth,
    care,
    evaluation,
    figures,
    home,
    journeys,
    metrics,
    plans,
    reports,
    returns,
)
from bettercare.app.preparation import PrepareOnChange, lifespan
from bettercare.app.security import (
    CsrfFailed,
    client_ip,
    csrf_protect,
    principal_in,
)
from bettercare.app.settings import AppSettings
from bettercare.app.startup import with_defaults
from bettercare.app.templating import render
from bettercare.domain.access import ANONYMOUS, Principal
from bettercare.errors import BadInput, Conflict, NotFound, NotPermitted
from bettercare.services import audit

# No request body is larger than this (a returns workbook or plan file is far smaller);
# refused before any of it is read or spooled to disk.
MAX_BODY_BYTES = 10 * 1024 * 1024


class BodyLimit:
    """ASGI middleware: 413 for a declared body over the limit, and for a stream exceeding it.

    Written here because Starlette has no body-size setting.
    """

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on unless its body is, or grows, over the limit."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _too_large(scope, receive, send)
            return
        seen = 0
        exceeded = False

        async def limited() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    exceeded = True
                    raise BodyTooLarge()
            return message

        started = False

        async def guarded_send(message: Message) -> None:
            # Whatever the route made of the broken stream, the answer is 413.
            nonlocal started
            if exceeded:
                if not started:
                    started = True
                    await _too_large(scope, receive, send)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, guarded_send)
        except BodyTooLarge:
            if not started:
                await _too_large(scope, receive, send)


async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
    await JSONResponse({"detail": "request body too large"}, 413)(scope, receive, send)


class BodyTooLarge(BadInput):
    """A streamed body went past :data:`MAX_BODY_BYTES`."""


ROUTERS = [home.router, auth.router, plans.router, admin.router, api.router]
ROUTERS += [fhir_router, care.router]  # FHIR API, care coordination
ROUTERS += [figures.router]  # published figures: peers, goals, the ICB's view
ROUTERS += [journeys.router, evaluation.router]  # a person's journey; did a change work
# webdash's monitoring pages go first: plans' /plans/{id}/{part}/{index} would catch them
ROUTERS[:0] = [metrics.router, returns.router, reports.router]


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "") and not request.url.path.startswith(
        ("/api/", "/fhir")
    )


def _principal(request: Request) -> Principal:
    """The caller as the principal dependency found them (anonymous if it never ran)."""
    found = getattr(request.state, "principal", None)
    return found if isinstance(found, Principal) else ANONYMOUS


def _problem(
    request: Request, status: int, fhir_code: str, title: str, message: str, detail: str
) -> Response:
    """One error answer in the caller's language: a page, a FHIR OperationOutcome or JSON.

    Pages answer with a page (as they always did) unless the client asks for JSON.
    """
    path = request.url.path
    if not path.startswith(("/api/", "/fhir", "/auth/")) and "json" not in request.headers.get(
        "accept", ""
    ):
        return render(
            request,
            "error.html.j2",
            _principal(request),
            status_code=status,
            title=title,
            message=message,
        )
    if path.startswith("/fhir/"):
        return FhirResponse(outcome(fhir_code, detail), status_code=status)
    return JSONResponse({"detail": detail}, status_code=status)


async def _kept_sign_in(request: Request, principal: Principal) -> Response | None:
    """The sign-in page carrying a plan form's typed input, when its session has expired.

    A save posted without a live session (the cookie gone, so the CSRF token too, or the
    server's session ended) would lose what was typed: the sign-in page keeps it in hidden
    fields (never logged, never stored) and, once signed in, the form comes back with it
    (:func:`bettercare.app.pages.auth.login`). Plan forms only: no patient-level data.
    """
    if request.method != "POST" or not principal.anonymous or not _wants_html(request):
        return None
    path = request.url.path
    if not plans.KEPT_FORM.fullmatch(path):
        return None
    try:
        kept = plans.kept_fields(path, await request.form())
    except Exception:
        return None
    if not kept:
        return None
    return render(
        request,
        "login.html.j2",
        ANONYMOUS,
        status_code=401,
        next=path,
        error=None,
        kept=kept,
        expired=True,
    )


def create_app(settings: AppSettings | None = None) -> FastAPI:
    """Build the app and mount its routes; settings default to the environment's.

    The database must already be upgraded and seeded (:func:`bettercare.app.startup.prepare`,
    which ``bettercare serve`` runs once before its workers start). With no arguments this
    is the factory each server worker calls.
    """
    settings = with_defaults(settings or AppSettings())
    engine = make_engine(settings.database_url)
    sessions = session_factory(engine)

    app = FastAPI(
        title="bettercare",
        version=__version__,
        description="Plan, sign off and monitor a Better Care Fund; FHIR R4 at /fhir.",
        dependencies=[Depends(csrf_protect)],
        lifespan=lifespan,  # plans' reports prepared in the background after start-up
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = sessions

    def _csrf_refusal(request: Request) -> Principal:
        """Audit a CSRF refusal (path and method only: never the form's content)."""
        with sessions() as db:  # the request's own session was never opened
            principal = principal_in(db, request)
        audit.record_now(
            sessions,
            principal,
            "csrf",
            request.url.path,
            audit.DENIED,
            ip=client_ip(request),
            detail=request.method,
        )
        return principal

    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.resolved_secret(),
        session_cookie="bettercare_session",
        max_age=settings.session_max_age_seconds,
        same_site="lax",
        https_only=settings.cookie_secure,
    )
    app.add_middleware(PrepareOnChange)  # a changed plan is prepared again
    app.add_middleware(InputBounds)  # fields and JSON values, inside the body limit
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders, hsts=settings.cookie_secure)  # outermost
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    for router in ROUTERS:
        app.include_router(router)

    @app.exception_handler(NotPermitted)
    async def _denied(request: Request, exc: Exception) -> Response:
        principal = getattr(exc, "principal", None) or _principal(request)
        status = 401 if principal.anonymous else 403
        kept = await _kept_sign_in(request, principal)
        if kept is not None:
            return kept
        if _wants_html(request):
            if status == 401:
                here = request.url.path  # and a page's query (a register's search, page)
                if request.method == "GET" and request.url.query:
                    here += "?" + request.url.query
                return RedirectResponse(f"/login?next={quote(here, safe='/')}", status_code=303)
            return render(
                request,
                "error.html.j2",
                principal,
                status_code=403,
                title="Not allowed",
                message="Your role does not allow this. The attempt has been recorded.",
            )
        if request.url.path.startswith("/fhir/"):
            return denied_response(status)  # a FHIR OperationOutcome
        return JSONResponse({"detail": "not allowed"}, status_code=status)

    @app.exception_handler(FhirError)
    def _fhir(request: Request, exc: FhirError) -> Response:
        return error_response(exc)  # an OperationOutcome, already audit-logged

    @app.exception_handler(NotFound)
    def _not_found(request: Request, exc: NotFound) -> Response:
        return _problem(request, 404, "not-found", "Not found", f"Not found: {exc}.", str(exc))

    @app.exception_handler(Conflict)
    def _conflict(request: Request, exc: Conflict) -> Response:
        return _problem(request, 409, "conflict", "Refused", str(exc), str(exc))

    @app.exception_handler(BadInput)
    def _bad_input(request: Request, exc: BadInput) -> Response:
        first = str(exc).splitlines()[0] if str(exc) else "invalid input"
        return _problem(request, 422, "invalid", "Invalid input", first, first)

    @app.exception_handler(CsrfFailed)
    async def _csrf(request: Request, exc: CsrfFailed) -> Response:
        principal = await run_in_threadpool(_csrf_refusal, request)
        kept = await _kept_sign_in(request, principal)
        if kept is not None:
            return kept
        if _wants_html(request):
            return render(
                request,
                "error.html.j2",
                principal,
                status_code=403,
                title="Form expired",
                message="The form's security token is missing or stale: reload "
                "the page and try again.",
            )
        if request.url.path.startswith("/fhir/"):
            return csrf_response()
        return JSONResponse({"detail": "CSRF token missing or invalid"}, status_code=403)

    return app
