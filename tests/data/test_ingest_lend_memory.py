"""The ingest's DuckDB memory limit is shared: the linkage borrows most of it while it runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from bettercare.data import duck
from bettercare.data.ingest.store import connect, lend_memory


def _limit(con) -> float:  # type: ignore[no-untyped-def]
    (setting,) = con.execute("SELECT current_setting('memory_limit')").fetchone()
    return duck.memory_bytes(setting)


@pytest.mark.parametrize(
    ("limit", "store_keeps", "linkage_gets"),
    [
        ("1GB", 250e6, "750MB"),  # a quarter stays, three quarters are lent
        ("2GB", 500e6, "1500MB"),
        ("100MB", 64e6, "64MB"),  # neither below the joins' floor (data/duck.py)
    ],
)
def test_linkage_borrows_the_store_memory_and_returns_it(
    tmp_path: Path, limit: str, store_keeps: float, linkage_gets: str
) -> None:
    con = connect(tmp_path / "store.duckdb", memory_limit=limit)
    try:
        before = _limit(con)
        with lend_memory(con, limit) as lent:
            assert lent == linkage_gets
            # DuckDB reports the limit in binary units, rounded
            assert _limit(con) == pytest.approx(store_keeps, rel=0.05)
        assert _limit(con) == before
    finally:
        con.close()


def test_no_limit_lends_nothing(tmp_path: Path) -> None:
    con = connect(tmp_path / "store.duckdb")
    try:
        before = _limit(con)
        with lend_memory(con, None) as lent:
            assert lent is None
            assert _limit(con) == before
    finally:
        con.close()


def test_the_store_limit_comes_back_after_an_error(tmp_path: Path) -> None:
    con = connect(tmp_path / "store.duckdb", memory_limit="1GB")
    try:
        with pytest.raises(RuntimeError), lend_memory(con, "1GB"):
            raise RuntimeError("linkage failed")
        assert _limit(con) == pytest.approx(1e9, rel=0.1)
    finally:
        con.close()
