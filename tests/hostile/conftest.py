"""The web app's fixtures (tests/web/conftest.py) for the hostile suite's HTTP tests:
the same app per test on both engines (SQLite; PostgreSQL where it can be started)."""

from web.conftest import (  # noqa: F401  (fixtures, registered by import)
    PASSWORD,
    app,
    client,
    csrf_of,
    database_url,
    login,
    postgres_server,
)
