"""Who is acting, and the one permission check every service makes before its use case.

:class:`Caller` is the acting principal with where the request came from (the audit
log records both). :func:`permit` applies :func:`bettercare.domain.access.allowed`; a
refusal is written to the audit log and committed before :class:`AccessRefused` is raised,
so the trace survives whatever the request does next. The app maps the error to 401
(anonymous caller) or 403 once, in ``app/main.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from bettercare.domain.access import ANONYMOUS, Action, Principal, allowed
from bettercare.errors import NotPermitted
from bettercare.services import audit


@dataclass(frozen=True)
class Caller:
    """The acting principal, the peer address and the request line (for the audit log)."""

    principal: Principal = ANONYMOUS
    ip: str | None = None
    request_line: str | None = None

    @property
    def username(self) -> str:
        """The acting user's name."""
        return self.principal.username


class AccessRefused(NotPermitted):
    """The caller may not take an action on a target (already audit-logged)."""

    def __init__(self, principal: Principal, action: str, target: str) -> None:
        super().__init__(f"{principal.username} may not {action} {target}")
        self.principal = principal
        self.action = action
        self.target = target

    @property
    def status_code(self) -> int:
        """401 asks the caller to sign in; 403 refuses a signed-in caller."""
        return 401 if self.principal.anonymous else 403


def may(caller: Caller, action: Action, hwb_code: str | None = None) -> bool:
    """Whether the caller may take ``action`` on something of ``hwb_code`` (not audited)."""
    return allowed(caller.principal, action, hwb_code)


def permit(
    db: Session, caller: Caller, action: Action, target: str, hwb_code: str | None = None
) -> None:
    """Raise :class:`AccessRefused` (after auditing the refusal) unless the action is allowed."""
    if allowed(caller.principal, action, hwb_code):
        return
    audit.record(
        db,
        caller.principal,
        str(action),
        target,
        audit.DENIED,
        ip=caller.ip,
        hwb_code=hwb_code,
        detail=caller.request_line,
    )
    db.commit()
    raise AccessRefused(caller.principal, str(action), target)
