"""Helpers shared by the web pages: what their routers declare in the OpenAPI document."""

from __future__ import annotations

from typing import Any


def page_responses(malformed: str = "A malformed form") -> dict[int | str, dict[str, Any]]:
    """The answers a page router documents besides 200 (``malformed``: what a 400 means)."""
    return {
        303: {"description": "Done: see the page it leads to (or sign in first)"},
        401: {"description": "Sign in first"},
        403: {"description": "Not allowed for your role or HWB, or the form token is stale"},
        400: {"description": malformed},
        404: {"description": "No such plan, item or user"},
        409: {"description": "Refused: stale version, wrong workflow state or rule errors"},
        422: {"description": "Invalid input (nothing saved)"},
    }
