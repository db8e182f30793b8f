"""``/healthz`` says what the server can do: 503 when its database does not answer."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

pytestmark = pytest.mark.hostile


def test_healthz_and_readyz_answer_503_when_the_database_is_down(
    app: FastAPI, client: TestClient, tmp_path: Path
) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    working = app.state.engine
    app.state.engine = create_engine(f"sqlite:///{tmp_path}/no/such/dir/app.db")  # down
    try:
        r = client.get("/healthz")
        assert r.status_code == 503 and r.json()["status"] == "database unavailable"
        assert client.get("/readyz").status_code == 503
    finally:
        app.state.engine.dispose()
        app.state.engine = working


def test_readyz_answers_503_when_the_analytics_store_is_missing(
    app: FastAPI, client: TestClient, tmp_path: Path
) -> None:
    from bettercare.app.analytics_store import stores_of

    stores_of(app).store = tmp_path / "gone.duckdb"
    r = client.get("/readyz")
    assert r.status_code == 503 and "missing" in r.json()["status"]
    assert client.get("/healthz").status_code == 200
