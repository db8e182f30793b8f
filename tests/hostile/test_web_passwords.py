"""The password policy: an admin cannot set a common password, however long."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from bettercare.app import passwords

from .conftest import csrf_of

pytestmark = pytest.mark.hostile


@pytest.mark.parametrize(
    "password", ["password1234", "Password1234!", "qwertyuiop12", "123456789012"]
)
def test_common_passwords_are_refused(password: str) -> None:
    assert passwords.problem(password, "newuser") is not None


def test_a_long_uncommon_password_is_accepted() -> None:
    assert passwords.problem("tinned-heron-lantern-47", "newuser") is None


def test_admin_cannot_create_a_user_with_password1234(
    client: TestClient, login: Callable[[str], TestClient]
) -> None:
    login("admin")
    token = csrf_of(client.get("/admin").text)
    fields = {"username": "newuser", "password": "password1234", "role": "analyst"}
    r = client.post("/admin/users", data={"csrf_token": token, **fields, "hwb_code": "E06000017"})
    assert r.status_code == 422
    assert "too common" in r.text
