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

OK = "ok"
DENIED = "denied"
INVALID = "invalid"
CONFLICT = "conflict"

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


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return _clean(value)
    return json.dumps(value, sort_keys=True, default=str)


def _clean(value: str | None) -> str | None:
    """The text as PostgreSQL can store it (no NUL characters).

    Refused input may carry NULs: schemathesis found a NUL username made the audit write
    of the refusal a 500 on PostgreSQL.
    """
    return value.replace("\x00", "\ufffd") if value else value


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
        actor=principal.username,
        role=str(principal.role),
        hwb_code=hwb_code if hwb_code is not None else principal.hwb_code,
        action=action,
        target=_clean(target) or "",
        outcome=outcome,
        before=_text(before),
        after=_text(after),
        detail=_clean(detail),
        ip=ip,
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
