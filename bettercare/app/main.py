"""``create_app``: the one FastAPI server (pages, JSON API, FHIR API) on one database."""

from __future__ import annotations

from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from bettercare import __version__
from bettercare.app import audit, seed
from bettercare.app.db import make_engine, migrate, session_factory
from bettercare.app.fhir.errors import csrf_response, denied_response
from bettercare.app.fhir.router import router as fhir_router
from bettercare.app.pages import admin, api, auth, care, home, metrics, plans, reports, returns
from bettercare.app.security import (
    AccessDenied,
    CsrfFailed,
    client_ip,
    csrf_protect,
    current_principal,
)
from bettercare.app.settings import AppSettings, default_examples_dir
from bettercare.app.templating import render

ROUTERS = [home.router, auth.router, plans.router, admin.router, api.router]
ROUTERS += [fhir_router, care.router]  # issue 13: FHIR API, care coordination
# webdash's monitoring pages go first: plans' /plans/{id}/{part}/{index} would catch them
ROUTERS[:0] = [metrics.router, returns.router, reports.router]


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "") and not request.url.path.startswith(
        ("/api/", "/fhir")
    )


def create_app(settings: AppSettings | None = None) -> FastAPI:
    """Build the app: migrate the database, load the examples on first start, mount routes."""
    settings = settings or AppSettings()
    if settings.examples_dir is None:
        settings = settings.model_copy(update={"examples_dir": default_examples_dir()})
    engine = make_engine(settings.database_url)
    migrate(engine)
    sessions = session_factory(engine)
    with sessions() as db:
        seed.load_examples(db, settings.examples_dir)
        generated = seed.ensure_admin(db)

    app = FastAPI(
        title="bettercare",
        version=__version__,
        description="Plan, sign off and monitor a Better Care Fund; FHIR R4 at /fhir.",
        dependencies=[Depends(csrf_protect)],
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = sessions
    app.state.generated_admin_password = generated
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.resolved_secret(),
        session_cookie="bettercare_session",
        max_age=settings.session_max_age_seconds,
        same_site="lax",
        https_only=settings.cookie_secure,
    )
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    for router in ROUTERS:
        app.include_router(router)

    @app.exception_handler(AccessDenied)
    def _denied(request: Request, exc: AccessDenied) -> Response:
        if _wants_html(request):
            if exc.status_code == 401:
                return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
            return render(request, "error.html.j2", exc.principal, status_code=403,
                          title="Not allowed",
                          message="Your role does not allow this. The attempt has been "
                          "recorded.")  # fmt: skip
        if request.url.path.startswith("/fhir/"):
            return denied_response(exc.status_code)  # a FHIR OperationOutcome
        return JSONResponse({"detail": "not allowed"}, status_code=exc.status_code)

    @app.exception_handler(CsrfFailed)
    def _csrf(request: Request, exc: CsrfFailed) -> Response:
        principal = current_principal(request)
        audit.record_now(sessions, principal, "csrf", request.url.path, audit.DENIED,
                         ip=client_ip(request), detail=request.method)  # fmt: skip
        if _wants_html(request):
            return render(request, "error.html.j2", principal, status_code=403,
                          title="Form expired",
                          message="The form's security token is missing or stale: reload "
                          "the page and try again.")  # fmt: skip
        if request.url.path.startswith("/fhir/"):
            return csrf_response()
        return JSONResponse({"detail": "CSRF token missing or invalid"}, status_code=403)

    return app
