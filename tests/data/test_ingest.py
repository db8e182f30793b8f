"""Ingestion: transactions, idempotent re-load, opt-outs, pseudonyms, keys."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import duckdb
import pytest
from conftest import KEY, NHS, spells_rows, table_rows, write_csv, write_feeds
from typer.testing import CliRunner

from bettercare.cli.main import app
from bettercare.data import ingest as ingest_mod
from bettercare.data import pseudonymise
from bettercare.data.ingest import ingest
from bettercare.data.ingest.feed import Run
from bettercare.data.schema import FEEDS, STORE_TABLES

#: end to end (real ingests, DuckDB stores, Splink, synthetic populations): seconds each
pytestmark = pytest.mark.slow

KEY_B = KEY.encode()


def all_tables(store: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(store), read_only=True)
    try:
        names = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables ORDER BY 1"
            ).fetchall()
        ]
        return {n: con.execute(f"SELECT * FROM {n} ORDER BY ALL").fetchall() for n in names}
    finally:
        con.close()


def analytics_state(store: Path) -> dict[str, list[tuple]]:
    tables = all_tables(store)
    return {n: rows for n, rows in tables.items() if n != "ingest_log"} | {
        "ingest_log": [r[1:5] + r[5:9] for r in tables["ingest_log"]]
    }  # without run/time


def test_rollback_on_crash_mid_load(
    feed_dir: Path, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest(feed_dir, store, KEY_B)
    before = all_tables(store)
    # second load: new spells (written before the crash), then the social care step fails
    rows = [
        *spells_rows(),
        [
            "S9",
            NHS[5],
            "RR8",
            "elective",
            "2024-04-09",
            "2024-04-09",
            "K40",
            "false",
            "usual_residence",
            "",
        ],
    ]
    write_csv(feed_dir / "hospital_spells.csv", FEEDS["hospital_spells"].column_names, rows)

    def boom(self, con, ok):
        assert len(con.execute("SELECT * FROM hospital_spells").fetchall()) == 4
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Run, "_link", boom)
    with pytest.raises(RuntimeError, match="disk on fire"):
        ingest(feed_dir, store, KEY_B)
    assert all_tables(store) == before


def test_crash_exit_code_via_cli(
    feed_dir: Path, store: Path, key_env: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(self, con, ok):
        raise RuntimeError("boom")

    monkeypatch.setattr(Run, "_link", boom)
    result = CliRunner().invoke(app, ["ingest", str(feed_dir), "--store", str(store)])
    assert result.exit_code == 3
    assert "rolled back" in result.output
    assert all(not rows for t, rows in all_tables(store).items() if t in STORE_TABLES)


def test_reload_same_files_is_idempotent(feed_dir: Path, store: Path) -> None:
    first = ingest(feed_dir, store, KEY_B)
    state = analytics_state(store)
    second = ingest(feed_dir, store, KEY_B)
    after = analytics_state(store)
    assert first.outcome == second.outcome == "loaded"
    for table in (*STORE_TABLES, "quarantine", "opt_out_register"):
        assert after[table] == state[table], table
    assert len(after["ingest_log"]) == 2 * len(state["ingest_log"])  # each load is logged


def test_reload_replaces_the_months_the_file_covers(feed_dir: Path, store: Path) -> None:
    ingest(feed_dir, store, KEY_B)
    cols = FEEDS["hospital_spells"].column_names
    # a corrected April extract: S2 withdrawn, S4 added; May (S3) is not in the file
    rows = [
        spells_rows()[0],
        [
            "S4",
            NHS[2],
            "RR8",
            "elective",
            "2024-04-20",
            "2024-04-21",
            "K40",
            "false",
            "usual_residence",
            "",
        ],
    ]
    write_csv(feed_dir / "hospital_spells.csv", cols, rows)
    ingest(feed_dir, store, KEY_B)
    assert sorted(r[1] for r in table_rows(store, "hospital_spells")) == ["S1", "S3", "S4"]


def test_opt_outs_are_excluded(feed_dir: Path, store: Path) -> None:
    ingest(feed_dir, store, KEY_B)  # before the opt-out arrives
    opted = pseudonymise.pseudonym(KEY_B, NHS[0])
    assert any(r[0] == opted for r in table_rows(store, "hospital_spells"))
    write_csv(feed_dir / "opt_outs.csv", ["nhs_number"], [["999 000 0018"]])
    result = ingest(feed_dir, store, KEY_B)
    by_feed = {f.feed: f for f in result.feeds}
    assert by_feed["residents"].rows_opted_out == 1
    assert by_feed["hospital_spells"].rows_opted_out == 1
    assert by_feed["social_care_services"].rows_opted_out == 1
    for table in STORE_TABLES:
        cols = [
            c[0]
            for c in duckdb.connect(str(store), read_only=True)
            .execute(f"DESCRIBE {table}")
            .fetchall()
        ]
        if "person_id" in cols:
            assert all(r[0] != opted for r in table_rows(store, table)), table
    # later loads without the opt-out file still exclude the person (register in the store)
    (feed_dir / "opt_outs.csv").unlink()
    ingest(feed_dir, store, KEY_B)
    assert all(r[0] != opted for r in table_rows(store, "residents"))
    assert len(table_rows(store, "residents")) == 5


def test_pseudonym_is_keyed() -> None:
    a = pseudonymise.pseudonym(KEY_B, NHS[0])
    assert a == pseudonymise.pseudonym(KEY_B, NHS[0])
    assert a != pseudonymise.pseudonym(b"x" * 64, NHS[0])
    assert len(a) == 64 and NHS[0] not in a


def test_store_holds_no_identifiers(feed_dir: Path, store: Path) -> None:
    ingest(feed_dir, store, KEY_B)
    text = repr(all_tables(store))
    for n in NHS:
        assert n not in text
    for name in ("Margaret", "Thompson", "LS1 4AB", "Olivia"):
        assert name not in text
    raw = store.read_bytes()
    assert not any(n.encode() in raw for n in NHS)
    assert pseudonymise.pseudonym(KEY_B, NHS[0]) in text


def test_different_key_is_refused(feed_dir: Path, store: Path) -> None:
    ingest(feed_dir, store, KEY_B)
    with pytest.raises(ingest_mod.UsageError, match="different pseudonymisation key"):
        ingest(feed_dir, store, b"z" * 64)


def test_key_file_beside_the_data_is_refused(tmp_path: Path, feed_dir: Path, store: Path) -> None:
    store.parent.mkdir(parents=True)
    for place in (feed_dir / "k.key", store.parent / "k.key"):
        pseudonymise.new_key_file(place)
        result = CliRunner().invoke(
            app, ["ingest", str(feed_dir), "--store", str(store), "--key-file", str(place)]
        )
        assert result.exit_code == 2
        assert "inside" in result.output
        place.unlink()
    good = tmp_path / "secrets" / "k.key"
    result = CliRunner().invoke(app, ["key", "new", str(good)])
    assert result.exit_code == 0
    assert stat.S_IMODE(os.stat(good).st_mode) == 0o600
    result = CliRunner().invoke(
        app, ["ingest", str(feed_dir), "--store", str(store), "--key-file", str(good)]
    )
    assert result.exit_code == 0, result.output
    assert CliRunner().invoke(app, ["key", "new", str(good)]).exit_code == 2  # no overwrite


def test_parquet_input_loads_like_csv(tmp_path: Path) -> None:
    csv_dir = write_feeds(tmp_path / "csv")
    pq_dir = tmp_path / "pq"
    pq_dir.mkdir()
    con = duckdb.connect()
    for f in csv_dir.glob("*.csv"):
        con.execute(
            f"COPY (SELECT * FROM read_csv('{f}', all_varchar=true)) "
            f"TO '{pq_dir / (f.stem + '.parquet')}' (FORMAT parquet)"
        )
    a, b = tmp_path / "a" / "s.duckdb", tmp_path / "b" / "s.duckdb"
    ingest(csv_dir, a, KEY_B)
    ingest(pq_dir, b, KEY_B)
    for table in STORE_TABLES:
        assert table_rows(a, table) == table_rows(b, table)


def test_link_report_command(feed_dir: Path, store: Path, key_env: bytes) -> None:
    CliRunner().invoke(app, ["ingest", str(feed_dir), "--store", str(store)])
    result = CliRunner().invoke(app, ["link", "report", "--store", str(store)])
    assert result.exit_code == 0
    assert "match_rate" in result.output


def test_ingest_log_records_each_load(feed_dir: Path, store: Path) -> None:
    import hashlib

    ingest(feed_dir, store, KEY_B)
    log = {r[1]: r for r in table_rows(store, "ingest_log")}
    spells = log["hospital_spells"]
    digest = hashlib.sha256((feed_dir / "hospital_spells.csv").read_bytes()).hexdigest()
    assert spells[2:9] == ("hospital_spells.csv", digest, "2024-04,2024-05", 3, 3, 0, 0)


def test_identity_file_may_not_be_the_store_or_in_the_input(feed_dir: Path, store: Path) -> None:
    for bad in (store, feed_dir / "identities.duckdb"):
        with pytest.raises(ingest_mod.UsageError, match="identity file"):
            ingest(feed_dir, store, KEY_B, identity_file=bad)


def test_weak_or_missing_key_file(tmp_path: Path) -> None:
    short = tmp_path / "short.key"
    short.write_text("abc")
    short.chmod(0o600)
    with pytest.raises(pseudonymise.PseudonymKeyError, match="too short"):
        pseudonymise.load_key(short)
    with pytest.raises(pseudonymise.PseudonymKeyError, match="not found"):
        pseudonymise.load_key(tmp_path / "nope.key")
