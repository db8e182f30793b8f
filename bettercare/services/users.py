"""Users and the audit log in the web app: sign-in, bearer tokens, user admin, log reading.

Sign-in checks credentials through the authenticator the app hands in (today
:func:`bettercare.app.security.authenticate`: argon2id passwords), so an OIDC login can
replace it without touching this module. Failed attempts are rate limited by user and by
address; every attempt is logged and audited. Users are deactivated, never deleted, so
the audit log's names stay meaningful. Only the admin manages users and reads the log.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.orm import Session

from bettercare.data import passwords
from bettercare.data.tables import ApiToken, AuditEvent, Hwb, LoginAttempt, User, WebSession
from bettercare.domain.access import ANONYMOUS, EVERY_HWB, Action, Principal, Role
from bettercare.domain.dates import parse_uk_date
from bettercare.domain.text import excerpt
from bettercare.errors import BadInput, NotFound
from bettercare.services import audit
from bettercare.services.access import Caller, permit

#: Checks a username and password in a session: the active user, or None.
Authenticator = Callable[[Session, str, str], User | None]

PAGE_SIZE = 50
#: Rows in one CSV export (the log is append-only and can grow: export in filtered slices).
MAX_EXPORT_ROWS = 100_000
USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.\-]{2,119}$")
OUTCOMES = (audit.OK, audit.DENIED, audit.INVALID, audit.CONFLICT)


# --- signing in ------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginLimits:
    """Failed attempts allowed within a window, per username and per address."""

    window_seconds: int
    per_user: int
    per_ip: int


@dataclass(frozen=True)
class SignIn:
    """The answer to a sign-in: HTTP-like status (200, 401, 429) and the principal."""

    status: int
    principal: Principal | None = None
    user: User | None = None
    #: When rate limited (429): the moment the next attempt will be allowed (UTC)
    retry_at: datetime | None = None


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _retry_at(db: Session, username: str, ip: str | None, limits: LoginLimits) -> datetime | None:
    """When a new attempt is allowed again (None: allowed now).

    Failed attempts count within a sliding window: with ``n`` failures in the window and a
    limit ``L``, attempts are allowed again once the oldest ``n - L + 1`` have left it, at
    the ``(n - L + 1)``-th oldest failure plus the window. The same for the username and
    for the address; the later of the two wins. An unknown username is limited exactly as
    a known one, so the time tells nothing about which usernames exist.
    """
    window = timedelta(seconds=limits.window_seconds)
    failed = select(LoginAttempt.at).where(
        LoginAttempt.at >= datetime.now(UTC) - window, LoginAttempt.success.is_(False)
    )
    times: list[datetime] = []
    checks = [(LoginAttempt.username == excerpt(username, 120), limits.per_user)]
    if ip is not None:
        checks.append((LoginAttempt.ip == ip, limits.per_ip))
    for where, limit in checks:
        at = [_aware(a) for a in db.scalars(failed.where(where).order_by(LoginAttempt.at))]
        if len(at) >= limit:
            times.append(at[len(at) - limit] + window)
    return max(times) if times else None


def locked_message(retry_at: datetime | None) -> str:
    """What a rate-limited user reads: when they can try again, and what else to do."""
    if retry_at is None:
        return "Too many failed sign-in attempts. Try again shortly."
    minutes = max(1, -(-int((retry_at - datetime.now(UTC)).total_seconds()) // 60))
    return (
        "Too many failed sign-in attempts for this username or from this computer. "
        f"You can try again after {retry_at:%H:%M} UTC on {retry_at.day} "
        f"{retry_at:%B %Y} (in {minutes} minute{'s' if minutes != 1 else ''}). "
        "If you cannot wait, ask an administrator to unlock your account."
    )


def _refuse(db: Session, username: str, ip: str | None, detail: str) -> None:
    audit.record(db, ANONYMOUS, "login", f"user:{username}", audit.DENIED, ip=ip, detail=detail)
    db.commit()


def sign_in(
    db: Session,
    username: str,
    password: str,
    ip: str | None,
    limits: LoginLimits,
    authenticate: Authenticator,
    principal_of: Callable[[User], Principal],
) -> SignIn:
    """Check credentials: 429 when rate limited, 401 when wrong, else 200 and the principal."""
    retry_at = _retry_at(db, username, ip or "-", limits)
    if retry_at is not None:
        _refuse(db, username, ip, "rate limited")
        return SignIn(429, retry_at=retry_at)
    user = authenticate(db, username, password)
    db.add(  # bounded: an anonymous caller chooses what is written here, forever
        LoginAttempt(
            username=excerpt(username, 120) or "",
            ip=excerpt(ip, 64) or "-",
            success=user is not None,
        )
    )
    if user is None:
        _refuse(db, username, ip, "bad credentials")
        return SignIn(401)
    principal = principal_of(user)
    audit.record(db, principal, "login", f"user:{username}", ip=ip)
    db.commit()
    return SignIn(200, principal, user)


def locked_usernames(db: Session, limits: LoginLimits) -> list[tuple[str, datetime]]:
    """Usernames refused sign-in right now for failed attempts, with when that ends."""
    since = datetime.now(UTC) - timedelta(seconds=limits.window_seconds)
    q = (
        select(LoginAttempt.username)
        .where(LoginAttempt.at >= since, LoginAttempt.success.is_(False))
        .group_by(LoginAttempt.username)
        .having(func.count() >= limits.per_user)
        .order_by(LoginAttempt.username)
    )
    out = []
    for name in db.scalars(q):
        at = _retry_at(db, name, None, limits)  # the username's own limit
        if at is not None:
            out.append((name, at))
    return out


def unlock(db: Session, caller: Caller, username: str) -> None:
    """Lift a sign-in lockout: forget the username's failed attempts (admin; audited).

    The attempts stay in the audit log, which is append-only.
    """
    permit(db, caller, Action.MANAGE_USERS, f"user:{username}")
    name = excerpt(username, 120) or ""
    db.execute(
        delete(LoginAttempt).where(LoginAttempt.username == name, LoginAttempt.success.is_(False))
    )
    audit.record(db, caller.principal, "unlock_user", f"user:{name}", ip=caller.ip)
    db.commit()


def revoke_sessions(db: Session, user_id: int) -> None:
    """End every web session and API token of a user at once (password change, disabling)."""
    db.execute(delete(WebSession).where(WebSession.user_id == user_id))
    db.execute(delete(ApiToken).where(ApiToken.user_id == user_id))


def sign_out(db: Session, caller: Caller) -> None:
    """Record a sign-out (nothing for an anonymous caller)."""
    if caller.principal.anonymous:
        return
    audit.record(db, caller.principal, "logout", f"user:{caller.username}", ip=caller.ip)
    db.commit()


def issue_token(db: Session, user: User, issue: Callable[[Session, User], str]) -> str:
    """A new bearer token for ``user`` from ``issue`` (the app's token store), committed."""
    value = issue(db, user)
    db.commit()
    return value


# --- users -----------------------------------------------------------------------------


@dataclass
class UsersPage:
    """The admin's users page: users, HWBs, roles, and a form's errors and values."""

    users: list[User]
    hwbs: list[Hwb]
    roles: list[Role]
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    message: str | None = None
    status: int = 200

    def context(self) -> dict[str, Any]:
        """The template's context."""
        return {
            "users": self.users,
            "hwbs": self.hwbs,
            "roles": self.roles,
            "errors": self.errors,
            "values": self.values,
            "message": self.message,
        }


def users_page(
    db: Session,
    caller: Caller,
    *,
    created: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
) -> UsersPage:
    """Users and the form to create one (admin only)."""
    permit(db, caller, Action.MANAGE_USERS, "admin:users")
    if created and USERNAME.match(created):
        message = f"User {created} created."
    return UsersPage(
        users=list(db.scalars(select(User).order_by(User.username))),
        hwbs=list(db.scalars(select(Hwb).order_by(Hwb.name))),
        roles=list(Role),
        errors=errors or {},
        values=values or {},
        message=message,
        status=status,
    )


def user_errors(
    db: Session, username: str, password: str, role: str, hwb_code: str, min_password: int
) -> dict[str, str]:
    """What is wrong with a new user's details, by field (empty: fine)."""
    errors: dict[str, str] = {}
    if not USERNAME.match(username):
        errors["username"] = (
            "3 to 120 characters: lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    elif db.scalar(select(User).where(User.username == username)) is not None:
        errors["username"] = f"the username '{username}' is taken"
    if len(password) < min_password:
        errors["password"] = f"a password needs at least {min_password} characters"
    elif reason := passwords.problem(password, username):
        errors["password"] = reason
    try:
        parsed = Role(role)
    except ValueError:
        errors["role"] = "choose one of the roles"
        return errors
    if hwb_code and db.get(Hwb, hwb_code) is None:
        errors["hwb_code"] = f"no Health and Wellbeing Board '{hwb_code}'"
    elif parsed not in EVERY_HWB and parsed is not Role.PUBLIC and not hwb_code:
        role_name = parsed.value.replace("_", " ")
        errors["hwb_code"] = f"the {role_name} role works within one HWB: choose it"
    return errors


@dataclass(frozen=True)
class NewUser:
    """A new user's details as the form sent them."""

    username: str
    password: str
    role: str
    hwb_code: str
    organisation: str


def add_user(
    db: Session,
    caller: Caller,
    new: NewUser,
    create: Callable[[Session, str, str, Role, str | None, str | None], User],
    min_password: int,
) -> UsersPage | None:
    """Create a user (None) or return the page with the form's errors (status 422)."""
    permit(db, caller, Action.MANAGE_USERS, "admin:users")
    username = new.username.strip().lower()
    hwb = new.hwb_code.strip()
    values = {
        "username": username,
        "role": new.role,
        "hwb_code": hwb,
        "organisation": new.organisation,
    }
    errors = user_errors(db, username, new.password, new.role, hwb, min_password)
    if errors:
        audit.record(
            db,
            caller.principal,
            "create_user",
            f"user:{username}",
            audit.INVALID,
            detail="; ".join(f"{k}: {v}" for k, v in errors.items()),
            ip=caller.ip,
        )
        db.commit()
        return users_page(db, caller, errors=errors, values=values, status=422)
    user = create(
        db, username, new.password, Role(new.role), hwb or None, new.organisation.strip() or None
    )
    audit.record(
        db,
        caller.principal,
        "create_user",
        f"user:{username}",
        after={"role": user.role, "hwb_code": user.hwb_code, "organisation": user.organisation},
        ip=caller.ip,
    )
    db.commit()
    return None


def set_active(db: Session, caller: Caller, user_id: int, wanted: bool) -> UsersPage | None:
    """Deactivate or reactivate a user (None); never oneself (the page, status 409)."""
    permit(db, caller, Action.MANAGE_USERS, f"user-id:{user_id}")
    user = db.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    if user.id == caller.principal.user_id and not wanted:
        audit.record(
            db,
            caller.principal,
            "deactivate_user",
            f"user:{user.username}",
            audit.INVALID,
            detail="an admin cannot deactivate themselves",
            ip=caller.ip,
        )
        db.commit()
        return users_page(db, caller, status=409, message="You cannot deactivate your own account.")
    before = user.active
    user.active = wanted
    if not wanted:
        revoke_sessions(db, user.id)  # every session and token ends now
    audit.record(
        db,
        caller.principal,
        "reactivate_user" if wanted else "deactivate_user",
        f"user:{user.username}",
        before={"active": before},
        after={"active": wanted},
        ip=caller.ip,
    )
    db.commit()
    return None


# --- audit log -------------------------------------------------------------------------


def _filtered(
    actor: str | None,
    outcome: str | None,
    action: str | None,
    q: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> Select[Any]:
    stmt = select(AuditEvent)
    if actor:
        stmt = stmt.where(AuditEvent.actor == actor)
    if outcome:
        stmt = stmt.where(AuditEvent.outcome == outcome)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    # control characters dropped: PostgreSQL cannot compare a NUL
    for word in "".join(c for c in q or "" if ord(c) >= 32 and ord(c) != 127).split():
        like = f"%{word.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(AuditEvent.actor).like(like),
                func.lower(AuditEvent.action).like(like),
                func.lower(AuditEvent.target).like(like),
            )
        )
    if since is not None:
        stmt = stmt.where(AuditEvent.at >= datetime.combine(since, time.min, UTC))
    if until is not None:
        stmt = stmt.where(
            AuditEvent.at < datetime.combine(until + timedelta(days=1), time.min, UTC)
        )
    return stmt


def _date_filters(
    since: str | None, until: str | None
) -> tuple[date | None, date | None, dict[str, str]]:
    """The date range of the log's filter, read as UK dates; errors by field."""
    errors: dict[str, str] = {}
    found: dict[str, date | None] = {"since": None, "until": None}
    for name, label, text in (("since", "From", since), ("until", "To", until)):
        if text and text.strip():
            try:
                found[name] = parse_uk_date(text)
            except BadInput as exc:
                errors[name] = f"{label}: {exc}"
    start, end = found["since"], found["until"]
    if start and end and end < start:
        errors["until"] = "To: the end of the range is before its start"
    return start, end, errors


def may_read_audit(db: Session, caller: Caller) -> None:
    """NotPermitted unless the caller reads the audit log (the admin)."""
    permit(db, caller, Action.VIEW_AUDIT, "audit")


@dataclass
class AuditPage:
    """One page of the audit log, newest first, with its filters."""

    rows: list[AuditEvent]
    total: int
    page: int
    pages: int
    filters: dict[str, str]
    outcomes: tuple[str, ...]
    actions: list[str]
    errors: dict[str, str] = field(default_factory=dict)

    def context(self) -> dict[str, Any]:
        """The template's context."""
        return dict(vars(self))


def audit_page(
    db: Session,
    caller: Caller,
    page: int,
    actor: str | None = None,
    outcome: str | None = None,
    action: str | None = None,
    q: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> AuditPage:
    """The audit log, newest first, :data:`PAGE_SIZE` a page.

    Filtered by actor, outcome and action, searched for words in the actor, action or
    target (``q``), within a date range (``since``, ``until``: UK dates, inclusive). A
    date that cannot be read is reported by its field and that bound is not applied.
    """
    may_read_audit(db, caller)
    start, end, errors = _date_filters(since, until)
    stmt = _filtered(
        actor,
        outcome,
        action,
        q,
        None if "since" in errors else start,
        None if "until" in errors else end,
    )
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = list(
        db.scalars(
            stmt.order_by(AuditEvent.id.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
        )
    )
    actions = list(db.scalars(select(AuditEvent.action).distinct().order_by("action")))
    named = (
        ("actor", actor),
        ("outcome", outcome),
        ("action", action),
        ("q", q),
        ("since", since),
        ("until", until),
    )
    filters = {k: v.strip() for k, v in named if v and v.strip()}
    return AuditPage(
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        filters=filters,
        outcomes=OUTCOMES,
        actions=actions,
        errors=errors,
    )


def audit_csv(
    db: Session,
    caller: Caller,
    actor: str | None = None,
    outcome: str | None = None,
    action: str | None = None,
    q: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> str:
    """The (filtered) log as CSV, oldest first, at most :data:`MAX_EXPORT_ROWS`; audited.

    A date of the range that cannot be read is refused (``BadInput``), not ignored.
    """
    may_read_audit(db, caller)
    start, end, errors = _date_filters(since, until)
    if errors:
        raise BadInput(next(iter(errors.values())))
    stmt = _filtered(actor, outcome, action, q, start, end)
    text = audit.export_csv(db.scalars(stmt.order_by(AuditEvent.id).limit(MAX_EXPORT_ROWS)))
    audit.record(
        db,
        caller.principal,
        "export_audit",
        "audit",
        detail=(
            f"actor={actor or ''} outcome={outcome or ''} action={action or ''} "
            f"q={q or ''} since={since or ''} until={until or ''}"
        ),
        ip=caller.ip,
    )
    db.commit()
    return text
