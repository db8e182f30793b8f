"""The server's settings: where its database is, the session secret, the analytics store."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import BaseModel, Field

SECRET_ENV = "BETTERCARE_SECRET_KEY"
DATABASE_ENV = "BETTERCARE_DATABASE_URL"


class AppSettings(BaseModel):
    """Settings for one server; every field has an embedded default for the demo."""

    database_url: str = Field(
        "sqlite:///bettercare-app.db",
        description="SQLAlchemy URL: sqlite:///file.db (default) or postgresql+psycopg://...",
    )
    secret_key: str | None = Field(
        None,
        description="Signs session cookies; default: $BETTERCARE_SECRET_KEY, else a random "
        "key kept in a 0600 file beside a SQLite database",
    )
    examples_dir: Path | None = Field(
        None, description="Plan YAML files loaded on first start (default: the repo's examples/)"
    )
    store: Path | None = Field(None, description="Analytics store (DuckDB) for metrics pages")
    figures: Path | None = Field(
        None,
        description="Figures database of published figures (`bettercare figures load`): "
        "peers, funnel plots, goals and the ICB view",
    )
    demo: bool = Field(
        False, description="Create a demo user per role (Rutland) and a synthetic care register"
    )
    cookie_secure: bool = Field(
        False, description="Send the session cookie over HTTPS only (set behind TLS)"
    )
    login_attempts: int = Field(
        5, ge=1, description="Failed logins allowed per username per window"
    )
    login_attempts_per_ip: int = Field(
        50,
        ge=1,
        description="Failed logins allowed per client address per window (higher: one "
        "office or proxy address serves many people, and one guesser must not lock them out)",
    )
    login_window_seconds: int = Field(900, ge=1, description="Rate-limit window for logins")
    session_max_age_seconds: int = Field(8 * 3600, ge=60)

    def resolved_secret(self) -> str:
        """The session signing key: configured, from the environment, or kept on disk."""
        if self.secret_key:
            return self.secret_key
        if env := os.environ.get(SECRET_ENV):
            return env
        path = self.secret_file()
        if path is None:
            # A server database (PostgreSQL): sessions last only as long as the process.
            return secrets.token_urlsafe(48)
        if path.exists():
            return path.read_text(encoding="utf-8").strip()
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(key)
        return key

    def secret_file(self) -> Path | None:
        """Where the generated session key is kept (beside a SQLite file), else None."""
        prefix = "sqlite:///"
        if not self.database_url.startswith(prefix) or ":memory:" in self.database_url:
            return None
        db = Path(self.database_url[len(prefix) :])
        return db.with_name(db.name + ".secret")


def default_examples_dir() -> Path | None:
    """The repository's ``examples/`` folder when running from a checkout."""
    here = Path(__file__).resolve().parents[2] / "examples"
    return here if here.is_dir() else None
