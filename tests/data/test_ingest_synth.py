"""End to end: the synthetic generator's output ingests cleanly and links well."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from bettercare.data.ingest import ingest
from bettercare.data.schema import STORE_TABLES
from bettercare.data.synth import generate, preset
from bettercare.data.synth.truth import store_linkage_quality

#: end to end (real ingests, DuckDB stores, Splink, synthetic populations): seconds each
pytestmark = pytest.mark.slow

KEY = b"s" * 64


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "feeds"
    generate(preset("rutland").with_population(3000), ["2016/17"], 7, out)
    return out


def test_synthetic_feeds_ingest_and_link(synth_dir: Path, tmp_path: Path) -> None:
    store = tmp_path / "store" / "s.duckdb"
    result = ingest(synth_dir, store, KEY)
    assert result.outcome == "loaded", result.issue_counts
    loaded = {f.feed: f.rows_loaded for f in result.feeds}
    assert loaded["residents"] > 2500 and loaded["hospital_spells"] > 0
    stats = result.linkage
    assert stats["needing_probabilistic"] > 0
    assert not any(k.startswith("truth") for k in stats)  # the ingest never reads _truth/
    quality = store_linkage_quality(store, synth_dir, KEY)
    assert quality["truth_precision"] >= 0.95
    assert quality["truth_recall"] >= 0.9
    assert quality["truth_nhs_number_links_wrong"] == 0

    # no raw NHS number from any feed survives anywhere in the store
    raw = set(pq.read_table(synth_dir / "residents.parquet").column("nhs_number").to_pylist())
    con = duckdb.connect(str(store), read_only=True)
    for table in (*STORE_TABLES, "quarantine", "ingest_log", "opt_out_register"):
        for row in con.execute(f"SELECT * FROM {table}").fetchall():
            assert not raw.intersection(map(str, row)), table
    con.close()
    # idempotent: a second identical load leaves the analytics tables unchanged
    before = _snapshot(store)
    assert ingest(synth_dir, store, KEY).outcome == "loaded"
    assert _snapshot(store) == before


def _snapshot(store: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(store), read_only=True)
    try:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in STORE_TABLES}
    finally:
        con.close()
