"""First start: load the example plans and make sure an administrator can sign in."""

from __future__ import annotations

import os
import secrets
from datetime import date
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bettercare.app.security import Role, hash_password
from bettercare.data.plan_store import import_plan_file
from bettercare.data.tables import PlanRecord, User
from bettercare.domain.access import SYSTEM
from bettercare.services import audit

ADMIN_PASSWORD_ENV = "BETTERCARE_ADMIN_PASSWORD"


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


DEMO_PASSWORD_ENV = "BETTERCARE_DEMO_PASSWORD"
DEMO_HWB = "E06000017"  # Rutland (examples/rutland_2014.yaml)
DEMO_USERS: tuple[tuple[str, Role, str | None], ...] = (
    ("editor", Role.PARTNER_EDITOR, DEMO_HWB),
    ("analyst", Role.ANALYST, DEMO_HWB),
    ("coordinator", Role.CARE_COORDINATOR, DEMO_HWB),
    ("assurer", Role.ASSURER, None),
)


def ensure_demo(db: Session, today: date, people: int = 300) -> str | None:
    """For ``serve --demo``: a user per role (Rutland) and a synthetic care register.

    Idempotent: users that exist are left alone, and the register is filled only when
    Rutland has nobody in it. Returns the demo users' password when it was generated
    (``$BETTERCARE_DEMO_PASSWORD`` sets it instead). Synthetic people only (999-range
    NHS numbers).
    """
    from bettercare.data.care_register import count_patients
    from bettercare.pipelines.care_demo import demo_register

    env = os.environ.get(DEMO_PASSWORD_ENV)
    password = env or secrets.token_urlsafe(12)
    made = False
    for username, role, hwb in DEMO_USERS:
        if db.scalar(select(func.count()).select_from(User).where(User.username == username)):
            continue
        create_user(db, username, password, role, hwb, organisation="demo")
        audit.record(db, SYSTEM, "create_user", f"user:{username}", after={"role": str(role)})
        made = True
    if not count_patients(db, DEMO_HWB):
        n = demo_register(db, DEMO_HWB, people, today, seed=0, key=None)
        audit.record(db, SYSTEM, "register_demo", f"hwb:{DEMO_HWB}", after={"people": n})
    db.commit()
    return password if made and not env else None
