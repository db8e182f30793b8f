"""Jinja2 templates of the pages, with the caller and the CSRF token in every page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from bettercare.app.security import Principal, csrf_token
from bettercare.domain.labels import code_label
from bettercare.reporting.rendering import FILTERS

# Autoescape every template: Starlette's default (``select_autoescape()``) escapes only
# ``.html``/``.htm``/``.xml`` names, so ``*.html.j2`` would render user input raw (XSS).
TEMPLATES = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True
    )
)


def partner(code: Any, plan: Any) -> str:
    """A partner id as the plan's partner name (other text as words, as ``label``)."""
    if not code:
        return ""
    return code_label(code, partners={p.id: p.name for p in getattr(plan, "partners", [])})


#: The reports' filters (:data:`bettercare.reporting.rendering.FILTERS`): one formatter
#: for money, metric values with units, counts, percentages, periods, dates and codes;
#: ``label`` is the reports' ``code`` (a code as words, from the domain's one table).
TEMPLATES.env.filters.update(FILTERS)
TEMPLATES.env.filters["label"] = code_label
TEMPLATES.env.filters["partner"] = partner


def _further_return_lines(plan: Any, report: Any) -> list[tuple[str, str]]:
    """A return's income, DFG, discharge funding, capacity and carry-forward, in words."""
    from bettercare.reporting.returns import further_lines  # openpyxl: only when shown

    return further_lines(plan, report)


TEMPLATES.env.globals["further_return_lines"] = _further_return_lines


def render(
    request: Request,
    template: str,
    principal: Principal,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render ``template`` with ``principal``, the session's CSRF token and ``hwb_label``."""
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "principal": principal,
            "csrf_token": csrf_token(request),
            "hwb_label": lambda code: hwb_label(request, code),
            **context,
        },
        status_code=status_code,
    )


def hwb_label(request: Request, code: str | None) -> str:
    """An HWB's name for people to read (its code when the board is unknown).

    Names are never edited, so each is read from the database once per app (the header
    of every page shows one).
    """
    if not code:
        return ""
    state = request.app.state
    names: dict[str, str] | None = getattr(state, "hwb_names", None)
    if names is None:
        names = state.hwb_names = {}
    if code not in names:
        from bettercare.data.tables import Hwb

        db = getattr(request.state, "db", None)  # the request's session, when it has one
        if db is not None:
            row = db.get(Hwb, code)
        else:
            with request.app.state.sessions() as own:
                row = own.get(Hwb, code)
        if row is None:
            return code
        names[code] = row.name
    return names[code]
