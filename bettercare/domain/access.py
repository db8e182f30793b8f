"""Who may do what: roles, actions, the principal and the one permission rule.

Pure and typed (no I/O): :data:`PERMISSIONS` maps each action to the roles that may take
it, and :func:`allowed` adds the scope rule (a user acts within their own Health and
Wellbeing Board unless their role reads every HWB). The web app's services check it
before every use case; :mod:`bettercare.app.security` signs people in.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """The roles of the web app; each user has one."""

    PUBLIC = "public"  # published board papers only
    PARTNER_EDITOR = "partner_editor"  # edits the plans of their own HWB
    ANALYST = "analyst"  # aggregate metrics of their own HWB
    CARE_COORDINATOR = "care_coordinator"  # patient-level data of their own HWB
    ASSURER = "assurer"  # reads every HWB, records the assurance outcome
    ADMIN = "admin"  # users, the audit log, everything


class Action(StrEnum):
    """Everything a route can ask permission for."""

    VIEW_PUBLISHED = "view_published"
    VIEW_PLAN = "view_plan"
    EDIT_PLAN = "edit_plan"
    AGREE_PLAN = "agree_plan"  # partners agree the draft
    APPROVE_PLAN = "approve_plan"  # HWB approval recorded
    SUBMIT_PLAN = "submit_plan"
    ASSURE_PLAN = "assure_plan"
    REOPEN_PLAN = "reopen_plan"  # back to draft, with a reason (who, by state: domain.workflow)
    IMPORT_PLAN = "import_plan"
    PUBLISH_PLAN = "publish_plan"  # make a plan public as a board paper, or withdraw it
    VIEW_METRICS = "view_metrics"
    UPLOAD_RETURN = "upload_return"
    VIEW_PATIENTS = "view_patients"
    EDIT_CARE_RECORDS = "edit_care_records"
    VIEW_AUDIT = "view_audit"
    MANAGE_USERS = "manage_users"


_ALL = frozenset(Role)
_SIGNED_IN = _ALL - {Role.PUBLIC}
PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.VIEW_PUBLISHED: _ALL,
    Action.VIEW_PLAN: _SIGNED_IN,
    Action.EDIT_PLAN: frozenset({Role.PARTNER_EDITOR, Role.ADMIN}),
    Action.AGREE_PLAN: frozenset({Role.PARTNER_EDITOR, Role.ADMIN}),
    Action.APPROVE_PLAN: frozenset({Role.PARTNER_EDITOR, Role.ADMIN}),
    Action.SUBMIT_PLAN: frozenset({Role.PARTNER_EDITOR, Role.ADMIN}),
    Action.ASSURE_PLAN: frozenset({Role.ASSURER, Role.ADMIN}),
    # Which of these may, from which state: bettercare.domain.workflow.REOPEN_ROLES.
    Action.REOPEN_PLAN: frozenset({Role.PARTNER_EDITOR, Role.ASSURER, Role.ADMIN}),
    Action.IMPORT_PLAN: frozenset({Role.PARTNER_EDITOR, Role.ADMIN}),
    Action.PUBLISH_PLAN: frozenset({Role.PARTNER_EDITOR, Role.ADMIN}),
    Action.VIEW_METRICS: frozenset(
        {Role.PARTNER_EDITOR, Role.ANALYST, Role.CARE_COORDINATOR, Role.ASSURER, Role.ADMIN}
    ),
    Action.UPLOAD_RETURN: frozenset({Role.PARTNER_EDITOR, Role.ADMIN}),
    # Patient-level data is for direct care only: not even the admin reads it.
    Action.VIEW_PATIENTS: frozenset({Role.CARE_COORDINATOR}),
    Action.EDIT_CARE_RECORDS: frozenset({Role.CARE_COORDINATOR}),
    Action.VIEW_AUDIT: frozenset({Role.ADMIN}),
    Action.MANAGE_USERS: frozenset({Role.ADMIN}),
}
# Roles whose scope is every HWB (all others act within their own).
EVERY_HWB = frozenset({Role.ASSURER, Role.ADMIN})


@dataclass(frozen=True)
class Principal:
    """Who is asking: a user (role, HWB) or the anonymous public."""

    username: str
    role: Role
    hwb_code: str | None = None
    user_id: int | None = None
    via_token: bool = False

    @property
    def anonymous(self) -> bool:
        """True for a caller who has not signed in."""
        return self.user_id is None


ANONYMOUS = Principal(username="anonymous", role=Role.PUBLIC)


def allowed(principal: Principal, action: Action, hwb_code: str | None = None) -> bool:
    """May ``principal`` take ``action`` on something of ``hwb_code`` (None: not HWB-scoped)?"""
    if principal.role not in PERMISSIONS[action]:
        return False
    if hwb_code is None or principal.role in EVERY_HWB or action is Action.VIEW_PUBLISHED:
        return True
    return principal.hwb_code == hwb_code


#: The principal of work the system does itself (first-run seeding, CLI imports).
SYSTEM = Principal(username="system", role=Role.ADMIN)
