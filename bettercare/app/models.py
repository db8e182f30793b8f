"""The app's tables, re-exported: they live in :mod:`bettercare.data.tables`.

Kept so Alembic's environment and existing callers keep one import path.
"""

from __future__ import annotations

from bettercare.data.tables import (
    ApiToken,
    AuditEvent,
    Base,
    CarePatient,
    CarePlanRecord,
    CareRiskAssessment,
    CareTeamMemberRecord,
    CareTeamRecord,
    Hwb,
    LoginAttempt,
    PlanRecord,
    PlanTransition,
    User,
    WebSession,
    utcnow,
)

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Base",
    "CarePatient",
    "CarePlanRecord",
    "CareRiskAssessment",
    "CareTeamMemberRecord",
    "CareTeamRecord",
    "Hwb",
    "LoginAttempt",
    "PlanRecord",
    "PlanTransition",
    "User",
    "WebSession",
    "utcnow",
]
