"""The append-only audit log: who, when, what, before and after, and the outcome.

Every change and every refused attempt is recorded here. Refusals are written in their
own transaction so a rolled-back request still leaves its trace. The table refuses
UPDATE and DELETE at the database (triggers in migration 0001), on SQLite and PostgreSQL.
Reading and exporting the log for the admin is :mod:`bettercare.services.users`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bettercare.data.safe_csv import escape_cell
from bettercare.data.tables import AuditEvent
from bettercare.domain.access import Principal
from bettercare.domain.text import excerpt

OK = "ok"
DENIED = "denied"
INVALID = "invalid"
CONFLICT = "conflict"

#: The most of each text an entry keeps (characters): an entry is written forever, so
#: what a caller sends is stored as a bounded excerpt (:func:`bettercare.domain.text.excerpt`).
BOUNDS = {
    "actor": 120,
    "role": 40,
    "hwb_code": 64,
    "action": 80,
    "target": 300,
    "outcome": 20,
    "detail": 2000,
    "ip": 64,
    "before": 512 * 1024,  # a plan's body (tens of kilobytes) before and after a change
    "after": 512 * 1024,
}

EXPORT_COLUMNS = (
    "id",
    "at",
    "actor",
    "role",
    "hwb_code",
    "action",
    "target",
    "outcome",
    "before",
    "after",
    "detail",
    "ip",
)


def _text(value: Any, field: str) -> str | None:
    if value is None or isinstance(value, str):
        return _clean(value, field)
    return _clean(json.dumps(value, sort_keys=True, default=str), field)


def _clean(value: str | None, field: str) -> str | None:
    """The text as it is kept: a bounded excerpt, control characters (NUL too) escaped.

    Refused input may carry NULs: schemathesis found a NUL username made the audit write
    of the refusal a 500 on PostgreSQL; and an anonymous 9 MB username was once written
    in full, forever.
    """
    return excerpt(value, BOUNDS[field]) if value else value


def record(
    db: Session,
    principal: Principal,
    action: str,
    target: str,
    outcome: str = OK,
    *,
    before: Any = None,
    after: Any = None,
    detail: str | None = None,
    ip: str | None = None,
    hwb_code: str | None = None,
) -> AuditEvent:
    """Add one event to ``db``'s transaction (committed with the change it describes)."""
    event = AuditEvent(
        actor=_clean(principal.username, "actor") or "",
        role=_clean(str(principal.role), "role") or "",
        hwb_code=_clean(hwb_code if hwb_code is not None else principal.hwb_code, "hwb_code"),
        action=_clean(action, "action") or "",
        target=_clean(target, "target") or "",
        outcome=_clean(outcome, "outcome") or "",
        before=_text(before, "before"),
        after=_text(after, "after"),
        detail=_clean(detail, "detail"),
        ip=_clean(ip, "ip"),
    )
    db.add(event)
    return event


def record_now(
    factory: sessionmaker[Session],
    principal: Principal,
    action: str,
    target: str,
    outcome: str,
    **kwargs: Any,
) -> None:
    """Write one event in a transaction of its own (refusals, failed logins)."""
    with factory() as db:
        record(db, principal, action, target, outcome, **kwargs)
        db.commit()


def events(
    db: Session,
    *,
    limit: int = 200,
    offset: int = 0,
    actor: str | None = None,
    outcome: str | None = None,
) -> list[AuditEvent]:
    """The newest events first, optionally for one actor or outcome."""
    q = select(AuditEvent).order_by(AuditEvent.id.desc())
    if actor:
        q = q.where(AuditEvent.actor == actor)
    if outcome:
        q = q.where(AuditEvent.outcome == outcome)
    return list(db.scalars(q.limit(limit).offset(offset)))


def export_csv(rows: Iterable[AuditEvent]) -> str:
    """The log as CSV (for the admin's export); text that a spreadsheet would run is escaped.

    Actors, targets and details come from users (a username, a URL path, form input),
    so every text cell goes through :func:`~bettercare.data.safe_csv.escape_cell`.
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for e in rows:
        writer.writerow(
            [e.at.isoformat() if c == "at" else escape_cell(getattr(e, c)) for c in EXPORT_COLUMNS]
        )
    return out.getvalue()
