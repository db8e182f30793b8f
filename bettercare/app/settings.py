"""The server's settings: where its database is, the session secret, the analytics store.

Read from the environment (pydantic-settings): each field ``name`` from
``$BETTERCARE_<NAME>``, e.g. ``BETTERCARE_DATABASE_URL``, ``BETTERCARE_SECRET_KEY``,
``BETTERCARE_STORE``, ``BETTERCARE_EXAMPLES_DIR``, ``BETTERCARE_COOKIE_SECURE``. Values
given to the constructor (the command line's options) win over the environment. See
docs/operators.md.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "BETTERCARE_"
SECRET_ENV = f"{ENV_PREFIX}SECRET_KEY"
DATABASE_ENV = f"{ENV_PREFIX}DATABASE_URL"


class AppSettings(BaseSettings):
    """Settings for one server; every field has an embedded default for the demo."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

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
    peers: Path | None = Field(
        None,
        description="Peer file (`group,hwb_code` or `hwb_code,peer_code`): each board's peers "
        "for benchmarks, funnel plots and goals (default: the other boards of its NHS region)",
    )
    demo: bool = Field(
        False, description="Create a demo user per role (Rutland) and a synthetic care register"
    )
    prepare_in_background: bool = Field(
        True,
        description="Prepare published plans' metrics, board packs and models in the "
        "background after start-up and on changes (off: only when a page asks, e.g. tests)",
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


def to_environment(settings: AppSettings) -> dict[str, str]:
    """``settings`` as ``$BETTERCARE_*`` variables: what a server worker reads back.

    Fields left unset (None) are omitted; the session key is not included (the caller
    passes the resolved key on purpose).
    """
    env = {}
    for name, value in settings.model_dump(exclude={"secret_key"}).items():
        if value is None:
            continue
        text = str(value).lower() if isinstance(value, bool) else str(value)
        env[f"{ENV_PREFIX}{name.upper()}"] = text
    return env
