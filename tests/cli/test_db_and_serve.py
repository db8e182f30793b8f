"""``bettercare db upgrade`` and the settings the server's workers read back."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from bettercare.app.settings import AppSettings, to_environment
from bettercare.cli.main import app

runner = CliRunner()


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as con:
        return {r[0] for r in con.execute("select name from sqlite_master where type='table'")}


def test_db_upgrade_creates_the_schema_and_is_idempotent(tmp_path):
    db = tmp_path / "app.db"
    url = f"sqlite:///{db}"
    first = runner.invoke(app, ["db", "upgrade", "--database", url])
    assert first.exit_code == 0, first.output
    assert {"alembic_version", "users", "plans"} <= _tables(db)
    again = runner.invoke(app, ["db", "upgrade", "--database", url])
    assert again.exit_code == 0 and "up to date" in again.output


def test_db_upgrade_reads_the_database_from_the_environment(tmp_path, monkeypatch):
    db = tmp_path / "env.db"
    monkeypatch.setenv("BETTERCARE_DATABASE_URL", f"sqlite:///{db}")
    done = runner.invoke(app, ["db", "upgrade"])
    assert done.exit_code == 0, done.output
    assert "alembic_version" in _tables(db)


def test_db_upgrade_refuses_an_unusable_database_in_one_line(tmp_path):
    done = runner.invoke(app, ["db", "upgrade", "--database", "nosuchdriver://x/y"])
    assert done.exit_code != 0
    assert "Traceback" not in done.output


def test_settings_come_from_the_environment_and_options_win(monkeypatch, tmp_path):
    monkeypatch.setenv("BETTERCARE_DATABASE_URL", "sqlite:///from-env.db")
    monkeypatch.setenv("BETTERCARE_COOKIE_SECURE", "true")
    monkeypatch.setenv("BETTERCARE_STORE", str(tmp_path / "s.duckdb"))
    from_env = AppSettings()
    assert from_env.database_url == "sqlite:///from-env.db"
    assert from_env.cookie_secure is True
    assert from_env.store == tmp_path / "s.duckdb"
    assert AppSettings(database_url="sqlite:///option.db").database_url == "sqlite:///option.db"


def test_a_worker_reads_back_the_settings_it_was_given(monkeypatch, tmp_path):
    given = AppSettings(
        database_url="sqlite:///w.db", store=tmp_path / "s.duckdb", cookie_secure=True, demo=True
    )
    env = to_environment(given)
    assert "BETTERCARE_SECRET_KEY" not in env
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert AppSettings() == given


def test_serve_refuses_a_bad_peer_file_in_one_line(tmp_path):
    bad = tmp_path / "peers.csv"
    bad.write_text("area,neighbour\nE06000017,E06000016\n")
    args = ["serve", "--database", f"sqlite:///{tmp_path / 'a.db'}", "--peers", str(bad)]
    done = runner.invoke(app, args)
    assert done.exit_code == 2, done.output
    lines = [ln for ln in done.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and "hwb_code,peer_code" in lines[0]
    assert not (tmp_path / "a.db").exists()  # refused before the database is touched


def test_a_worker_reads_back_the_peer_file(monkeypatch, tmp_path):
    given = AppSettings(database_url="sqlite:///w.db", peers=tmp_path / "peers.csv")
    for name, value in to_environment(given).items():
        monkeypatch.setenv(name, value)
    assert AppSettings().peers == tmp_path / "peers.csv"
