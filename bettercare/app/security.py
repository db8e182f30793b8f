"""One security model for pages, the JSON API and the FHIR API: roles, scope, logins.

Who may do what is decided in :mod:`bettercare.domain.access` (re-exported here): roles,
actions and the scope rule. The services check it before each use case and record a
refusal in the audit log (:func:`bettercare.services.access.permit`), raising
``NotPermitted``; ``app/main.py`` answers 401 for an anonymous caller, 403 otherwise.

Authentication: password login (argon2id hashes) into a signed session cookie, with a
CSRF token for every unsafe request made with that cookie; API clients use a bearer
token instead (``POST /auth/token``). Both resolve to a :class:`Principal`, so an OIDC
login can later replace passwords without touching any route.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, Request
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bettercare.app.db import get_db
from bettercare.data.tables import ApiToken, User, WebSession
from bettercare.domain.access import (
    ANONYMOUS,
    EVERY_HWB,
    PERMISSIONS,
    Action,
    Principal,
    Role,
    allowed,
)
from bettercare.errors import NotPermitted
from bettercare.services import audit
from bettercare.services.access import AccessRefused
from bettercare.services.users import revoke_sessions

__all__ = [
    "ANONYMOUS",
    "EVERY_HWB",
    "PERMISSIONS",
    "AccessDenied",
    "Action",
    "Principal",
    "Role",
    "allowed",
]


def client_ip(request: Request) -> str | None:
    """The peer address (no proxy headers are trusted)."""
    return request.client.host if request.client else None


#: Raised by :func:`authorize`: the services' refusal (one class, already audit-logged;
#: ``app/main.py`` answers 401 to an anonymous caller, 403 otherwise).
AccessDenied = AccessRefused


def authorize(
    request: Request,
    principal: Principal,
    action: Action,
    target: str,
    hwb_code: str | None = None,
) -> None:
    """A check at the edge, outside any service (the routes use the services' ``permit``).

    Raises :class:`AccessDenied` after writing the refusal to the audit log in a
    transaction of its own.
    """
    if allowed(principal, action, hwb_code):
        return
    audit.record_now(
        request.app.state.sessions,
        principal,
        str(action),
        target,
        audit.DENIED,
        ip=client_ip(request),
        hwb_code=hwb_code,
        detail=f"{request.method} {request.url.path}",
    )
    raise AccessDenied(principal, str(action), target)


# --- passwords -------------------------------------------------------------------------

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
MIN_PASSWORD_LENGTH = 12


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches (constant-time in the library)."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when the user does not exist (timing reveals no names).

    Made on first use: hashing is slow on purpose, so not at import.
    """
    return _hasher.hash(secrets.token_urlsafe(16))


def authenticate(db: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, else None."""
    # no username holds a control character (PostgreSQL cannot even compare a NUL)
    user = (
        None
        if any(ord(c) < 32 or ord(c) == 127 for c in username)
        else db.scalar(select(User).where(User.username == username))
    )
    if user is None or not user.active:
        verify_password(_dummy_hash(), password)
        return None
    return user if verify_password(user.password_hash, password) else None


# --- bearer tokens ---------------------------------------------------------------------

TOKEN_LIFETIME = timedelta(hours=8)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(db: Session, user: User) -> str:
    """A new bearer token for ``user`` (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    db.add(
        ApiToken(
            token_hash=_token_hash(token),
            user_id=user.id,
            expires_at=datetime.now(UTC) + TOKEN_LIFETIME,
        )
    )
    return token


def principal_of(user: User, via_token: bool = False) -> Principal:
    """The principal a user acts as."""
    return Principal(
        username=user.username,
        role=Role(user.role),
        hwb_code=user.hwb_code,
        user_id=user.id,
        via_token=via_token,
    )


def _user_for_token(db: Session, token: str) -> User | None:
    row = db.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token)))
    if row is None:
        return None
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    if expires < datetime.now(UTC):
        return None
    user = db.get(User, row.user_id)
    return user if user is not None and user.active else None


def start_session(db: Session, user_id: int) -> str:
    """A new server-side session for the user: its id, for the signed cookie."""
    sid = secrets.token_urlsafe(32)
    db.add(WebSession(id=_token_hash(sid), user_id=user_id, created_at=datetime.now(UTC)))
    return sid


def end_session(db: Session, sid: object) -> None:
    """End one session (logout): its cookie, even a saved copy, signs no one in again."""
    if isinstance(sid, str):
        db.execute(delete(WebSession).where(WebSession.id == _token_hash(sid)))


def set_password(db: Session, user: User, password: str) -> None:
    """Change ``user``'s password and end every session and token they hold."""
    user.password_hash = hash_password(password)
    revoke_sessions(db, user.id)


def _session_user(db: Session, request: Request) -> User | None:
    """The user of the cookie's session, if the server still holds that session."""
    user_id, sid = request.session.get("user_id"), request.session.get("sid")
    if not isinstance(user_id, int) or not isinstance(sid, str):
        return None
    row = db.get(WebSession, _token_hash(sid))
    if row is None or row.user_id != user_id:
        return None
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
    max_age = getattr(request.app.state.settings, "session_max_age_seconds", 8 * 3600)
    if created + timedelta(seconds=max_age) < datetime.now(UTC):
        return None
    user = db.get(User, user_id)
    return user if user is not None and user.active else None


def principal_in(db: Session, request: Request) -> Principal:
    """The caller, from a bearer token or the session cookie, looked up in ``db``.

    A cookie signs its user in only while the server still holds its session
    (:func:`start_session`): logout, a password change or disabling the account ends it.
    """
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        user = _user_for_token(db, auth[7:].strip())
        return principal_of(user, via_token=True) if user else ANONYMOUS
    user = _session_user(db, request)
    if user is not None:
        return principal_of(user)
    return ANONYMOUS


def current_principal(request: Request, db: Session = Depends(get_db)) -> Principal:
    """FastAPI dependency: the caller, looked up in the request's one session.

    Kept on ``request.state`` too, for the exception handlers of ``app/main.py``.
    """
    principal = principal_in(db, request)
    request.state.principal = principal
    return principal


# --- CSRF ------------------------------------------------------------------------------

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def csrf_token(request: Request) -> str:
    """The session's CSRF token (created on first use); templates put it in every form."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


class CsrfFailed(NotPermitted):
    """An unsafe request made with the session cookie lacked the session's CSRF token."""


async def csrf_protect(request: Request) -> None:
    """App-wide dependency: unsafe cookie-authenticated requests must carry the CSRF token.

    The token comes in the ``X-CSRF-Token`` header or a ``csrf_token`` form field. Bearer
    token requests carry no ambient authority, so they need none; nor do JSON bodies
    (``application/json``, ``application/fhir+json``), which a browser sends cross-site only
    after a CORS preflight that this server never grants.
    """
    if request.method in SAFE_METHODS:
        return
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("application/json", "application/fhir+json"):
        return
    expected = request.session.get("csrf")
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get("csrf_token")
        sent = value if isinstance(value, str) else None
    if not (
        isinstance(expected, str)
        and sent
        and hmac.compare_digest(expected.encode(), sent.encode())  # str: ASCII only
    ):
        raise CsrfFailed()
