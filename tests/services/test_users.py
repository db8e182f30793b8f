"""The users service without HTTP: sign-in limits, new users' checks, the audit log."""

from __future__ import annotations

import pytest

from bettercare.data.tables import User
from bettercare.domain.access import Principal, Role
from bettercare.errors import NotFound, NotPermitted
from bettercare.services import users

from .conftest import RUTLAND, events

LIMITS = users.LoginLimits(window_seconds=600, per_user=3, per_ip=100)


def _check(db, username: str, password: str) -> User | None:
    """A stand-in authenticator: the stored user whose password is 'right'."""
    found = db.query(User).filter(User.username == username).one_or_none()
    return found if found is not None and password == "right" else None


def _principal(user: User) -> Principal:
    return Principal(user.username, Role(user.role), user.hwb_code, user.id)


def test_sign_in_is_rate_limited_after_three_failures(db, editor) -> None:
    statuses = [
        users.sign_in(db, "editor", "wrong", "198.51.100.7", LIMITS, _check, _principal).status
        for _ in range(4)
    ]
    assert statuses == [401, 401, 401, 429]
    # even the right password waits for the window once the limit is reached
    right = users.sign_in(db, "editor", "right", "198.51.100.7", LIMITS, _check, _principal)
    assert right.status == 429 and right.principal is None
    assert len(events(db, action="login", outcome="denied")) == 5


def test_a_good_sign_in_returns_the_principal_and_is_audited(db, editor) -> None:
    result = users.sign_in(db, "editor", "right", "198.51.100.7", LIMITS, _check, _principal)
    assert result.status == 200 and result.principal is not None
    assert result.principal.hwb_code == RUTLAND
    assert events(db, action="login", outcome="ok")[-1].actor == "editor"


@pytest.mark.parametrize(
    ("username", "password", "role", "hwb", "field"),
    [
        ("ab", "a-long-enough-password", "analyst", RUTLAND, "username"),
        ("editor", "a-long-enough-password", "analyst", RUTLAND, "username"),  # taken
        ("newuser", "short", "analyst", RUTLAND, "password"),
        ("newuser", "newuser", "analyst", RUTLAND, "password"),
        ("newuser", "a-long-enough-password", "wizard", RUTLAND, "role"),
        ("newuser", "a-long-enough-password", "analyst", "", "hwb_code"),
        ("newuser", "a-long-enough-password", "analyst", "E99999999", "hwb_code"),
    ],
)
def test_user_errors_name_the_field(db, editor, username, password, role, hwb, field) -> None:
    assert field in users.user_errors(db, username, password, role, hwb, 12)


def test_an_assurer_needs_no_hwb(db) -> None:
    assert users.user_errors(db, "assurer1", "a-long-enough-password", "assurer", "", 12) == {}


def test_only_the_admin_manages_users(db, editor) -> None:
    with pytest.raises(NotPermitted):
        users.users_page(db, editor)


def test_an_admin_cannot_deactivate_themselves(db, admin) -> None:
    page = users.set_active(db, admin, admin.principal.user_id, False)
    assert page is not None and page.status == 409
    assert db.get(User, admin.principal.user_id).active


def test_deactivating_an_unknown_user_is_not_found(db, admin) -> None:
    with pytest.raises(NotFound):
        users.set_active(db, admin, 999_999, False)


def test_the_audit_log_pages_and_filters(db, admin, editor) -> None:
    users.users_page(db, admin)  # nothing audited: a read
    with pytest.raises(NotPermitted):
        users.users_page(db, editor)
    page = users.audit_page(db, admin, 1, actor="editor")
    assert [e.outcome for e in page.rows] == ["denied"]
    assert page.total == 1 and page.pages == 1 and page.filters == {"actor": "editor"}
    text = users.audit_csv(db, admin, outcome="denied")
    assert text.splitlines()[0].startswith("id,at,actor")
    assert len(text.splitlines()) == 2  # the header and the one refusal
