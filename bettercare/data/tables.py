"""Tables of the web app's database (SQLAlchemy 2 typed mappings) and their base.

Below the app so the services and the care register's storage can use them. The schema
itself is created by the Alembic migrations in ``bettercare/app/migrations/versions``.

A change here needs a new migration (``alembic revision`` against both engines).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Boolean, Date, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    """Declarative base of every table of the app."""


def utcnow() -> datetime:
    """Timezone-aware now, stored in UTC."""
    return datetime.now(UTC)


class Hwb(Base):
    """A Health and Wellbeing Board: the unit of scope for partners, analysts and coordinators."""

    __tablename__ = "hwbs"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class User(Base):
    """A person who logs in; one role, scoped to one HWB unless the role reads every HWB."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(120), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(40))
    hwb_code: Mapped[str | None] = mapped_column(ForeignKey("hwbs.code"), nullable=True)
    organisation: Mapped[str | None] = mapped_column(String(200), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiToken(Base):
    """A bearer token for API clients (stored as a SHA-256 hash; OIDC can replace it later)."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WebSession(Base):
    """A signed-in browser session: the cookie names it, the server can end it.

    Only the SHA-256 of the session id is kept. Logout deletes the row; a password change
    or disabling the account deletes every row of the user (migration 0004).
    """

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LoginAttempt(Base):
    """Every login attempt, for rate limiting (kept in the database so it holds across workers)."""

    __tablename__ = "login_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(120), index=True)
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    success: Mapped[bool] = mapped_column(Boolean)


class PlanRecord(Base):
    """One BCF plan: the validated plan model as JSON, its workflow state and version.

    ``version`` is SQLAlchemy's version counter: an update whose version is stale raises
    ``StaleDataError`` (optimistic locking; the second of two concurrent saves is refused).
    """

    __tablename__ = "plans"
    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    hwb_code: Mapped[str] = mapped_column(ForeignKey("hwbs.code"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    framework: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(40), default="draft")
    assurance_outcome: Mapped[str | None] = mapped_column(String(60), nullable=True)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    body: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(120), nullable=True)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class AuditEvent(Base):
    """One line of the append-only audit log (database triggers refuse UPDATE and DELETE)."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(40))
    hwb_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    action: Mapped[str] = mapped_column(String(80))
    target: Mapped[str] = mapped_column(String(300))
    outcome: Mapped[str] = mapped_column(String(20))
    before: Mapped[str | None] = mapped_column(Text, nullable=True)
    after: Mapped[str | None] = mapped_column(Text, nullable=True)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)


class PlanTransition(Base):
    """One step of a plan's sign-off workflow (migration 0002): who moved it, when, why."""

    __tablename__ = "plan_transitions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"), index=True)
    from_state: Mapped[str] = mapped_column(String(40))
    to_state: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str | None] = mapped_column(String(60), nullable=True)
    actor: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


# --- the care coordination register (migration 0003) ------------------------------------
# Patient-level data for direct care only: read through the FHIR API and the care pages
# by the care coordinators of the patient's HWB (security.Action.VIEW_PATIENTS).


class CarePatient(Base):
    """A person of the register: identified (NHS number) for direct care, with the pseudonym."""

    __tablename__ = "care_patients"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nhs_number: Mapped[str] = mapped_column(String(10), unique=True)
    person_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    given_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    family_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    sex: Mapped[str | None] = mapped_column(String(1), nullable=True)
    gp_practice: Mapped[str | None] = mapped_column(String(10), nullable=True, index=True)
    hwb_code: Mapped[str] = mapped_column(ForeignKey("hwbs.code"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CareRiskAssessment(Base):
    """A risk score that placed a person in the register (model, date, tier, cohorts)."""

    __tablename__ = "care_risk_assessments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("care_patients.id"), index=True)
    probability: Mapped[float] = mapped_column(Float)
    tier: Mapped[str | None] = mapped_column(String(20), nullable=True)
    cohorts: Mapped[str] = mapped_column(String(200), default="")  # comma-separated
    model: Mapped[str] = mapped_column(String(60))
    assessed_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CarePlanRecord(Base):
    """A joint health and social care plan (versioned: a stale update is refused)."""

    __tablename__ = "care_plans"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("care_patients.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    title: Mapped[str | None] = mapped_column(String(200), nullable=True)
    period_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    period_end: Mapped[date | None] = mapped_column(Date, nullable=True)
    review_due: Mapped[date | None] = mapped_column(Date, nullable=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(120), nullable=True)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class CareTeamRecord(Base):
    """The care team around one person (versioned), with its members."""

    __tablename__ = "care_teams"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("care_patients.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    members: Mapped[list[CareTeamMemberRecord]] = relationship(
        cascade="all, delete-orphan", order_by="CareTeamMemberRecord.id", lazy="selectin"
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class CareTeamMemberRecord(Base):
    """A care team member; ``lead`` marks the accountable lead professional."""

    __tablename__ = "care_team_members"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(
        ForeignKey("care_teams.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str | None] = mapped_column(String(200), nullable=True)
    lead: Mapped[bool] = mapped_column(Boolean, default=False)
    start_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)
