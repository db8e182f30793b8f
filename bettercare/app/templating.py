"""Jinja2 templates of the pages, with the caller and the CSRF token in every page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from bettercare.app.security import Principal, csrf_token

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
# Escape every template: Jinja's default escapes only names ending .html/.htm/.xml, and
# ours end .j2 (without this, plan text and uploaded narratives would reach pages raw).
TEMPLATES.env.autoescape = True


def render(
    request: Request,
    template: str,
    principal: Principal,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render ``template`` with ``principal`` and the session's CSRF token."""
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {"principal": principal, "csrf_token": csrf_token(request), **context},
        status_code=status_code,
    )
