"""Jinja2 templates of the pages, with the caller and the CSRF token in every page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from bettercare.app.security import Principal, csrf_token

# Autoescape every template: Starlette's default (``select_autoescape()``) escapes only
# ``.html``/``.htm``/``.xml`` names, so ``*.html.j2`` would render user input raw (XSS).
TEMPLATES = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True
    )
)


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
