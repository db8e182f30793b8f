"""First start: load the example plans and make sure an administrator can sign in."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bettercare.app import audit
from bettercare.app.models import PlanRecord, User
from bettercare.app.plans import import_plan_file
from bettercare.app.security import Principal, Role, hash_password

ADMIN_PASSWORD_ENV = "BETTERCARE_ADMIN_PASSWORD"
SYSTEM = Principal(username="system", role=Role.ADMIN)


def load_examples(db: Session, examples: Path | None) -> list[str]:
    """Import each ``*.yaml`` plan of ``examples`` when the database has no plans yet."""
    if examples is None or db.scalar(select(func.count()).select_from(PlanRecord)):
        return []
    loaded = []
    for path in sorted(examples.glob("*.yaml")):
        record = import_plan_file(db, path, SYSTEM.username)
        audit.record(db, SYSTEM, "import_plan", f"plan:{record.id}", after={"file": path.name})
        loaded.append(record.id)
    db.commit()
    return loaded


def create_user(
    db: Session,
    username: str,
    password: str,
    role: Role,
    hwb_code: str | None = None,
    organisation: str | None = None,
) -> User:
    """Add a user (argon2 hash); HWB-scoped roles need an HWB."""
    from bettercare.app.security import EVERY_HWB

    if role not in EVERY_HWB and role is not Role.PUBLIC and hwb_code is None:
        raise ValueError(f"a {role} user needs an HWB")
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=str(role),
        hwb_code=hwb_code,
        organisation=organisation,
        active=True,
    )
    db.add(user)
    db.flush()
    return user


def ensure_admin(db: Session) -> str | None:
    """Create the ``admin`` user when there are no users; return a generated password.

    The password is ``$BETTERCARE_ADMIN_PASSWORD`` if set (nothing is returned), else a
    random one returned once for the console.
    """
    if db.scalar(select(func.count()).select_from(User)):
        return None
    env = os.environ.get(ADMIN_PASSWORD_ENV)
    password = env or secrets.token_urlsafe(12)
    create_user(db, "admin", password, Role.ADMIN)
    audit.record(db, SYSTEM, "create_user", "user:admin", after={"role": "admin"})
    db.commit()
    return None if env else password
