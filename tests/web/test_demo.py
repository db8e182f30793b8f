"""``bettercare serve --demo``: a user per role and a synthetic care register to try."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bettercare.app.main import create_app
from bettercare.app.models import User
from bettercare.app.settings import AppSettings
from bettercare.app.startup import prepare

from .conftest import EXAMPLES, csrf_of

DEMO_PASSWORD = "demo-password-for-tests"


def _app(tmp_path: Path, monkeypatch, demo: bool = True):
    monkeypatch.setenv("BETTERCARE_DEMO_PASSWORD", DEMO_PASSWORD)
    monkeypatch.setenv("BETTERCARE_ADMIN_PASSWORD", "admin-password-for-tests")
    settings = AppSettings(
        database_url=f"sqlite:///{tmp_path / 'app.db'}",
        examples_dir=EXAMPLES,
        secret_key="d" * 48,
        demo=demo,
        prepare_in_background=False,  # no demo store built behind the test's back
    )
    first = prepare(settings)
    assert first.demo_password is None  # chosen through the environment
    return create_app(settings)


def test_demo_users_and_register(tmp_path: Path, monkeypatch) -> None:
    app = _app(tmp_path, monkeypatch)
    with TestClient(app) as client:
        token = csrf_of(client.get("/login").text)
        r = client.post(
            "/login",
            data={"username": "coordinator", "password": DEMO_PASSWORD, "csrf_token": token},
            follow_redirects=False,
        )
        assert r.status_code == 303
        page = client.get("/care")
        assert page.status_code == 200
        assert "/care/patients/" in page.text  # the synthetic people at risk
        assert "People at risk in Rutland Health and Wellbeing Board" in page.text
    again = _app(tmp_path, monkeypatch)  # a restart adds nobody twice
    with again.state.sessions() as db:
        assert db.scalar(select(func.count()).select_from(User)) == 5  # admin + 4 demo users


def test_no_demo_users_without_the_flag(tmp_path: Path, monkeypatch) -> None:
    app = _app(tmp_path, monkeypatch, demo=False)
    with app.state.sessions() as db:
        assert db.scalars(select(User.username)).all() == ["admin"]
