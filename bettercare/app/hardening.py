"""Input bounds and security headers for every request and response (ASGI middleware).

What this module owns:

* :class:`InputBounds`: a request's query string, headers and the fields of a form or
  JSON body are bounded before any route, audit entry or log sees them (414, 431, 413);
  the body as a whole is bounded by :class:`bettercare.app.main.BodyLimit`, the text
  that reaches the audit log and ``login_attempts`` by :func:`excerpt`;
* :class:`SecurityHeaders`: a Content-Security-Policy without inline script or style,
  no framing, ``nosniff``, a Referrer-Policy, HSTS when cookies are HTTPS-only, and
  ``Cache-Control: no-store`` on every response that may carry patient-level data.

Written as plain ASGI (not ``BaseHTTPMiddleware``) so streamed bodies stay streamed;
Starlette and FastAPI have no settings for these.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bettercare.domain.text import excerpt

__all__ = ["CSP", "InputBounds", "SecurityHeaders", "excerpt"]

MAX_PATH_BYTES = 2048
MAX_QUERY_BYTES = 8 * 1024
MAX_HEADER_BYTES = 8 * 1024  # one header's name and value
MAX_HEADERS_BYTES = 32 * 1024  # all of them
MAX_HEADERS = 100
#: One form field or JSON string. The largest real one is a return read back as JSON
#: (tens of kilobytes); a plan file is uploaded as a file part, bounded by the body limit.
MAX_FIELD_CHARS = 1024 * 1024
MAX_JSON_DEPTH = 64
_JSON_TYPES = (b"application/json", b"application/fhir+json")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
#: Paths whose answers may hold person-level data (named for the reader). Every answer
#: but a static file is sent with ``no-store``: a page of the app is never cached.
PATIENT_LEVEL_PREFIXES = ("/care", "/fhir/Patient", "/fhir/Encounter", "/fhir/Observation")
HSTS = "max-age=31536000; includeSubDomains"


class InputBounds:
    """ASGI middleware: bounds on the query string, headers and form/JSON fields."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse an oversized request (4xx) before the app sees it; else pass it on."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = _refusal(scope)
        if refusal is not None:
            await JSONResponse({"detail": refusal[1]}, refusal[0])(scope, receive, send)
            return
        ctype = dict(scope.get("headers") or []).get(b"content-type", b"").lower()
        if not ctype.startswith((b"application/x-www-form-urlencoded", *_JSON_TYPES)):
            await self.app(scope, receive, send)
            return
        body, more = b"", True
        messages: list[Message] = []
        while more:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            more = message.get("more_body", False)
        problem = _field_problem(ctype, body)
        if problem is not None:
            await JSONResponse({"detail": problem}, 413)(scope, receive, send)
            return
        replay = iter([{"type": "http.request", "body": body, "more_body": False}])

        async def replayed() -> Message:
            try:
                return next(replay)
            except StopIteration:
                return await receive()

        await self.app(scope, replayed, send)


def _refusal(scope: Scope) -> tuple[int, str] | None:
    if len(scope.get("raw_path") or scope.get("path", "").encode()) > MAX_PATH_BYTES:
        return 414, "path too long"
    if len(scope.get("query_string", b"")) > MAX_QUERY_BYTES:
        return 414, "query string too long"
    headers = scope.get("headers") or []
    total = 0
    for name, value in headers:
        size = len(name) + len(value)
        if size > MAX_HEADER_BYTES:
            return 431, "a request header is too large"
        total += size
    if total > MAX_HEADERS_BYTES or len(headers) > MAX_HEADERS:
        return 431, "request headers too large"
    return None


def _field_problem(ctype: bytes, body: bytes) -> str | None:
    if ctype.startswith(_JSON_TYPES):
        try:
            data = json.loads(body) if body.strip() else None
        except (ValueError, RecursionError):
            return None  # not JSON: the route answers 422
        for depth, text in _strings(data, 0):
            if depth > MAX_JSON_DEPTH:
                return "JSON nested too deeply"
            if len(text) > MAX_FIELD_CHARS:
                return f"a JSON value is longer than {MAX_FIELD_CHARS:,} characters"
        return None
    for name, value in parse_qsl(body.decode("latin-1"), keep_blank_values=True):
        if len(name) > 200 or len(value) > MAX_FIELD_CHARS:
            return f"a form field is longer than {MAX_FIELD_CHARS:,} characters"
    return None


def _strings(data: Any, depth: int) -> Iterator[tuple[int, str]]:
    """(depth, text) of every string (keys included) in a JSON value."""
    if isinstance(data, str):
        yield depth, data
    elif isinstance(data, dict):
        for k, v in data.items():
            yield depth, k
            yield from _strings(v, depth + 1)
    elif isinstance(data, list):
        for v in data:
            yield from _strings(v, depth + 1)
    elif depth > MAX_JSON_DEPTH:
        yield depth, ""


def csp_for_document(html: str) -> str:
    """The CSP for a self-contained document (the board pack).

    Its own inline ``<style>`` blocks are allowed by their SHA-256 hashes; nothing else
    inline.
    """
    import base64
    import hashlib

    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(m.encode()).digest()).decode() + "'"
        for m in re.findall(r"<style[^>]*>(.*?)</style>", html, flags=re.S)
    ]
    return CSP.replace("style-src 'self'", " ".join(["style-src 'self'", *hashes]))


def patient_level(path: str) -> bool:
    """True for a path whose answer may carry person-level data."""
    return path.startswith(PATIENT_LEVEL_PREFIXES)


class SecurityHeaders:
    """ASGI middleware: security headers on every response, no-store on patient-level ones."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add the headers to the response's start message."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        no_store = patient_level(path) or not path.startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if not (no_store and k.lower() in (b"cache-control", b"pragma"))
                ]
                have = {k.lower() for k, _ in headers}
                for name, value in _headers(self.hsts, no_store):
                    if name not in have:
                        headers.append((name, value))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def _headers(hsts: bool, no_store: bool) -> list[tuple[bytes, bytes]]:
    out = [
        (b"content-security-policy", CSP.encode()),
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    ]
    if hsts:
        out.append((b"strict-transport-security", HSTS.encode()))
    if no_store:
        out += [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]
    return out
