"""Safe ingest: identifiers checked by value, opt-outs first, a private temp
directory, nothing lost, odd files rejected alone; plausible dates.

Every bad-input case checks that the store is unchanged (row count and content hash of
every table) and, where identifiers are involved, scans every file the run wrote (store,
WAL, temp directory, report) for a raw NHS number, name or postcode."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import os
import shutil
import sqlite3
import stat
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import (
    KEY,
    NHS,
    RESIDENTS,
    residents_rows,
    social_care_rows,
    spells_rows,
    table_rows,
    write_csv,
    write_feeds,
)
from typer.testing import CliRunner

from bettercare.cli.main import app
from bettercare.data import pseudonymise, redaction
from bettercare.data.ingest import UsageError, connect, identifiers, ingest, temp_directory
from bettercare.data.schema import FEEDS

#: end to end (real ingests, DuckDB stores, Splink, synthetic populations): seconds each
pytestmark = pytest.mark.slow

KEY_B = KEY.encode()
SPELL_COLS = FEEDS["hospital_spells"].column_names

OTHER_ROWS: dict[str, list[list[object]]] = {
    "delayed_transfers": [
        ["D1", NHS[0], "S1", "RR8", "2024-04-01", 3, "awaiting_assessment", "nhs"],
        ["D2", NHS[1], "S2", "RR8", "2024-04-01", 2, "housing", "social_care"],
    ],
    "reablement_episodes": [
        ["R1", NHS[0], "S1", "2024-04-10", "2024-04-11", "at_home"],
        ["R2", NHS[3], "", "2024-05-02", "2024-05-03", "care_home"],
    ],
    "ae_attendances": [
        ["A1", NHS[0], "RR8", "2024-04-03", "type_1", "ambulance", "admitted", 84, "E01000001", ""],
        ["A2", NHS[1], "RR8", "2024-05-01", "type_3", "other", "discharged", 74, "", "A12345"],
    ],
    "experience_responses": [
        ["X1", NHS[2], "gpps", "2024-04-15", "support_to_manage_ltc", "true"],
        ["X2", NHS[4], "ascs", "2024-05-15", "support_to_manage_ltc", "false"],
    ],
}


def feed_rows(feed: str) -> list[list[object]]:
    return {
        "residents": residents_rows,
        "hospital_spells": spells_rows,
        "social_care_services": social_care_rows,
    }.get(feed, lambda: [list(r) for r in OTHER_ROWS[feed]])()


def write_all_feeds(directory: Path) -> Path:
    write_feeds(directory)
    for feed in OTHER_ROWS:
        write_csv(directory / f"{feed}.csv", FEEDS[feed].column_names, feed_rows(feed))
    return directory


def raw_identifiers() -> list[str]:
    """Every NHS number, name and postcode of the fixture feeds (as written)."""
    values = set(NHS)
    for _, given, family, _, _, postcode in RESIDENTS:
        values |= {given, family, postcode}
    for row in social_care_rows():
        values |= {row[2], row[3], row[5]}
    values.discard("")
    return sorted(values)


def files_holding(root: Path, needles: list[str], skip: tuple[Path, ...] = ()) -> dict[str, list]:
    """{file: [needles found]} for every file under ``root`` (bytes, as written)."""
    found: dict[str, list] = {}
    for path in root.rglob("*"):
        if path.is_file() and path not in skip:
            data = path.read_bytes()
            hits = [n for n in needles if n.encode() in data]
            if hits:
                found[str(path.relative_to(root))] = hits
    return found


def store_state(store: Path) -> dict[str, tuple[int, str]]:
    """Row count and SHA-256 of the sorted rows of every table in the store."""
    con = duckdb.connect(str(store), read_only=True)
    try:
        names = [r[0] for r in con.execute("SHOW TABLES").fetchall()]
        state = {}
        for name in names:
            rows = con.execute(f"SELECT * FROM {name} ORDER BY ALL").fetchall()
            state[name] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
        return state
    finally:
        con.close()


def report(store: Path) -> list[dict[str, str]]:
    with open(store.parent / "ingest_report.csv", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def loaded_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding every fixture feed (loaded once; tests copy it)."""
    root = tmp_path_factory.mktemp("loaded")
    store = root / "store" / "store.duckdb"
    result = ingest(write_all_feeds(root / "in"), store, KEY_B)
    assert result.outcome == "loaded", result.file_issues
    return store


@pytest.fixture
def store_copy(loaded_store: Path, tmp_path: Path) -> Path:
    target = tmp_path / "store" / "store.duckdb"
    target.parent.mkdir()
    shutil.copy(loaded_store, target)
    return target


def one_file(tmp_path: Path, feed: str, header: list[str], rows: list[list[object]]) -> Path:
    d = tmp_path / "next"
    d.mkdir(exist_ok=True)
    write_csv(d / f"{feed}.csv", header, rows)
    return d


# -- 1. identifiers by value -----------------------------------------------------------


def _swaps() -> list[tuple[str, str, str]]:
    """(feed, identifier column, other column) for every pair of an identifier column and
    another column of the same feed (two identifiers of one kind swapped are harmless)."""
    cases, seen = [], set()
    for feed in FEEDS.values():
        kinds = feed.identifier_kinds
        for ident, kind in kinds.items():
            for other in feed.column_names:
                pair = (feed.name, frozenset((ident, other)))
                if other != ident and kinds.get(other) != kind and pair not in seen:
                    seen.add(pair)
                    cases.append((feed.name, ident, other))
    return cases


@pytest.mark.parametrize(("feed", "ident", "other"), _swaps())
def test_swapped_identifier_column_rejects_the_file(
    feed: str, ident: str, other: str, store_copy: Path, tmp_path: Path
) -> None:
    cols = FEEDS[feed].column_names
    i, j = cols.index(ident), cols.index(other)
    rows = feed_rows(feed)
    for r in rows:
        r[i], r[j] = r[j], r[i]
    before = store_state(store_copy)
    result = ingest(one_file(tmp_path, feed, cols, rows), store_copy, KEY_B)
    assert result.outcome == "rejected"
    assert [f.status for f in result.feeds] == ["rejected"]
    rules = {(i.column, i.rule) for i in result.file_issues}
    assert rules & {(ident, "identifier_column_mismatch"), (other, "identifier_in_column")}
    assert store_state(store_copy) == before
    # nothing identifying in any file the run wrote (store, WAL, temp, report)
    assert files_holding(store_copy.parent, raw_identifiers()) == {}
    assert not temp_directory(store_copy).exists()


def test_swapped_columns_exit_2_via_cli(store_copy: Path, tmp_path: Path, key_env: bytes) -> None:
    cols = FEEDS["social_care_services"].column_names
    rows = social_care_rows()
    for r in rows:  # the reported case: service_id and nhs_number headers swapped
        r[0], r[1] = r[1], r[0]
    d = one_file(tmp_path, "social_care_services", cols, rows)
    out = CliRunner().invoke(app, ["ingest", str(d), "--store", str(store_copy)])
    assert out.exit_code == 2
    assert "column 'service_id' holds NHS numbers" in out.output
    assert NHS[0] not in out.output and "Traceback" not in out.output


def test_an_identifier_in_a_column_without_one_is_rejected(
    store_copy: Path, tmp_path: Path
) -> None:
    # population has no identifier column at all; a column of NHS numbers fails closed
    rows = [[NHS[k], 2024, "F", "65-69", 100 + k] for k in range(3)]
    d = one_file(tmp_path, "population", FEEDS["population"].column_names, rows)
    before = store_state(store_copy)
    result = ingest(d, store_copy, KEY_B)
    assert result.outcome == "rejected"
    ((column, rule),) = {(i.column, i.rule) for i in result.file_issues}
    assert (column, rule) == ("hwb_code", "identifier_in_column")
    assert store_state(store_copy) == before
    assert files_holding(store_copy.parent, NHS) == {}


def test_identifier_like_values_are_masked_in_findings(store_copy: Path, tmp_path: Path) -> None:
    """A stray identifier-like value (too few to reject the file, and no identifier of a
    person of the load: those refuse the file, tests/hostile) is quarantined with its
    value masked, in the report and in the store's quarantine table."""
    cols = FEEDS["residents"].column_names
    rows = residents_rows()
    rows[1][cols.index("sex")] = "Jones"  # a name where a code belongs (1 of 6 rows)
    rows[2][cols.index("hwb_code")] = "ZZ9 9ZZ"  # a postcode (1 of 6)
    result = ingest(one_file(tmp_path, "residents", cols, rows), store_copy, KEY_B)
    assert result.outcome == "quarantined"
    shown = {(r["column"], r["value"]) for r in report(store_copy)}
    assert ("sex", "<name?>") in shown and ("hwb_code", "<postcode?>") in shown
    assert files_holding(store_copy.parent, ["Jones", "ZZ9 9ZZ"]) == {}


def test_a_headerless_file_puts_no_data_into_the_report(store_copy: Path, tmp_path: Path) -> None:
    d = tmp_path / "next"
    d.mkdir()
    path = write_csv(d / "residents.csv", FEEDS["residents"].column_names, residents_rows())
    path.write_text(path.read_text().split("\n", 1)[1])  # the header row dropped
    before = store_state(store_copy)
    result = ingest(d, store_copy, KEY_B)
    assert result.outcome == "rejected"
    assert {i.rule for i in result.file_issues} == {"missing_column", "unknown_column"}
    assert store_state(store_copy) == before
    assert files_holding(store_copy.parent, raw_identifiers()) == {}


def test_display_and_redact_mask_every_identifier_kind() -> None:
    con = duckdb.connect()
    show = identifiers.sql_display("v")
    values = ["9990000018", "999 000 0018", "LE7 1AB", "Margaret", "emergency", "ref 9990000026"]
    got = [con.execute(f"SELECT {show} FROM (SELECT ? AS v)", [v]).fetchone()[0] for v in values]
    assert got == ["999*****18", "999*******18", "<postcode?>", "<name?>", "emergency", "<number>"]
    text = redaction.redact("bad row 9990000018,Margaret,LS1 4AB")
    assert text == "bad row 999*****18,Margaret,<postcode?>"


# -- 2. opt-outs first -----------------------------------------------------------------


def test_rejected_opt_out_list_commits_nothing_person_level(tmp_path: Path) -> None:
    d = write_all_feeds(tmp_path / "in")
    write_csv(d / "opt_outs.csv", ["nhs_number", "date"], [[NHS[0], "2024-01-02"]], delimiter=";")
    write_csv(
        d / "population.csv", FEEDS["population"].column_names, [["E08000035", 2024, "F", "90+", 7]]
    )
    store = tmp_path / "store" / "s.duckdb"
    result = ingest(d, store, KEY_B)
    assert result.outcome == "rejected"
    status = {f.feed: f.status for f in result.feeds}
    assert status.pop("population") == "loaded"  # not person-level
    assert set(status.values()) == {"rejected"}
    rules = {i.file: i.rule for i in result.file_issues}
    assert rules["opt_outs.csv"] == "wrong_delimiter"
    assert rules["hospital_spells.csv"] == "opt_outs_unavailable"
    for table in ("residents", "hospital_spells", "social_care_services", "delayed_transfers"):
        assert table_rows(store, table) == []


def test_rejected_opt_out_list_leaves_the_store_unchanged(store_copy: Path, tmp_path: Path) -> None:
    d = write_all_feeds(tmp_path / "next")
    write_csv(d / "opt_outs.csv", ["nhs_number", "x"], [[NHS[0], 1]], delimiter=";")
    before = store_state(store_copy)
    result = ingest(d, store_copy, KEY_B)
    assert result.outcome == "rejected"
    assert store_state(store_copy) == before


def test_an_unreadable_opt_out_entry_holds_back_person_level_feeds(
    store_copy: Path, tmp_path: Path
) -> None:
    d = write_all_feeds(tmp_path / "next")
    write_csv(d / "opt_outs.csv", ["nhs_number"], [[NHS[0]], ["9990000019"]])  # bad check digit
    before = store_state(store_copy)
    result = ingest(d, store_copy, KEY_B)
    assert result.outcome == "rejected"
    rules = {i.file: i.rule for i in result.file_issues}
    assert rules["opt_outs.csv"] == "opt_out_list_invalid"
    assert rules["residents.csv"] == "opt_outs_unavailable"
    assert store_state(store_copy) == before
    assert ("2", "nhs_number_mod11") not in {(r["row"], r["rule"]) for r in report(store_copy)}
    assert ("3", "nhs_number_mod11") in {(r["row"], r["rule"]) for r in report(store_copy)}


def test_a_repeated_opt_out_entry_still_opts_out(tmp_path: Path) -> None:
    d = write_all_feeds(tmp_path / "in")
    write_csv(d / "opt_outs.csv", ["nhs_number"], [[NHS[0]], [NHS[0]]])
    store = tmp_path / "store" / "s.duckdb"
    result = ingest(d, store, KEY_B)
    assert result.outcome == "loaded"
    opted = pseudonymise.pseudonym(KEY_B, NHS[0])
    assert table_rows(store, "opt_out_register") == [(opted,)]
    assert opted not in {r[0] for r in table_rows(store, "residents")}


def test_first_load_without_opt_out_list_is_refused(tmp_path: Path, key_env: bytes) -> None:
    d = write_all_feeds(tmp_path / "in")
    (d / "opt_outs.csv").unlink()
    store = tmp_path / "store" / "s.duckdb"
    out = CliRunner().invoke(app, ["ingest", str(d), "--store", str(store)])
    assert out.exit_code == 2
    assert "never had an opt-out list" in out.output and "--no-opt-outs" in out.output
    assert table_rows(store, "residents") == [] and table_rows(store, "hospital_spells") == []
    out = CliRunner().invoke(app, ["ingest", str(d), "--store", str(store), "--no-opt-outs"])
    assert out.exit_code == 0, out.output
    assert len(table_rows(store, "residents")) == 6


def test_a_store_with_an_opt_out_list_needs_no_new_one(store_copy: Path, tmp_path: Path) -> None:
    d = one_file(tmp_path, "hospital_spells", SPELL_COLS, spells_rows())
    assert ingest(d, store_copy, KEY_B).outcome == "loaded"


# -- 3. no identifiers at rest outside the store ---------------------------------------


def test_crash_leftovers_in_the_temp_directory_are_removed(
    store_copy: Path, tmp_path: Path
) -> None:
    tmp = temp_directory(store_copy)
    tmp.mkdir(mode=0o755)
    (tmp / "duckdb_temp_storage_S32K-0.tmp").write_text(f"{NHS[0]},Margaret,LS1 4AB\n")
    con = connect(store_copy)  # what every ingest opens
    try:
        assert sorted(tmp.iterdir()) == []  # the crashed run's spill is gone
        assert stat.S_IMODE(os.stat(tmp).st_mode) == 0o700
        settings = con.execute(
            "SELECT current_setting('temp_directory'), "
            "current_setting('autoinstall_known_extensions'), "
            "current_setting('autoload_known_extensions')"
        ).fetchone()
        assert settings == (str(tmp), False, False)
    finally:
        con.close()
    tmp.mkdir(exist_ok=True)
    (tmp / "left.tmp").write_text(NHS[1])
    d = one_file(tmp_path, "hospital_spells", SPELL_COLS, spells_rows())
    assert ingest(d, store_copy, KEY_B).outcome == "loaded"
    assert not tmp.exists()  # removed at the end of the run too
    assert files_holding(store_copy.parent, raw_identifiers()) == {}


def test_a_bad_memory_limit_is_a_usage_error_leaving_no_temp_directory(
    store_copy: Path,
) -> None:
    with pytest.raises(UsageError, match="memory limit 'lots'"):
        connect(store_copy, memory_limit="lots")
    assert not temp_directory(store_copy).exists()


def test_files_the_ingest_creates_are_private(tmp_path: Path) -> None:
    old = os.umask(0o022)  # a permissive umask, as a library caller may have
    try:
        store = tmp_path / "store" / "s.duckdb"
        assert ingest(write_all_feeds(tmp_path / "in"), store, KEY_B).outcome == "loaded"
    finally:
        os.umask(old)
    modes = {
        p.name: stat.S_IMODE(p.stat().st_mode) for p in [store.parent, *store.parent.iterdir()]
    }
    assert modes == {
        "store": 0o700,
        "s.duckdb": 0o600,
        "ingest_report.csv": 0o600,
        "s.duckdb.linkage": 0o700,  # Splink's linkage charts
    }


def test_linkage_spills_only_to_the_private_temp_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Splink's in-memory DuckDB would spill names and dates of birth to ``./.tmp``; the
    ingest gives it a directory inside its own private one."""
    from bettercare.data import linkage

    real, used = linkage.probabilistic_link, []

    def recording(*args, **kwargs):
        used.append(kwargs.get("temp_directory"))
        return real(*args, **kwargs)

    monkeypatch.setattr(linkage, "probabilistic_link", recording)
    store = tmp_path / "store" / "s.duckdb"
    assert ingest(write_all_feeds(tmp_path / "in"), store, KEY_B).outcome == "loaded"
    assert used == [temp_directory(store) / "linkage"]


def test_a_sqlite_file_as_the_store_is_a_one_line_error(tmp_path: Path, key_env: bytes) -> None:
    store = tmp_path / "store.duckdb"
    lite = sqlite3.connect(store)
    lite.execute("CREATE TABLE t (x)")
    lite.commit()
    lite.close()
    before = store.read_bytes()
    with pytest.raises(UsageError, match="is a SQLite database, not a DuckDB"):
        ingest(write_all_feeds(tmp_path / "in"), store, KEY_B)
    out = CliRunner().invoke(app, ["ingest", str(tmp_path / "in"), "--store", str(store)])
    assert out.exit_code == 2 and "SQLite" in out.output and "Traceback" not in out.output
    assert store.read_bytes() == before


@pytest.mark.slow
def test_kill_9_under_memory_pressure_leaves_no_identifiers(tmp_path: Path) -> None:
    """An ingest killed while DuckDB spills (memory limit 24 MB) leaves spilled files in its
    temp directory; the next run removes them before it loads anything, and no raw NHS
    number is left beside the store."""
    import signal
    import subprocess
    import sys
    import time

    from bettercare.data.synth import generate, preset

    feeds = tmp_path / "feeds"
    generate(preset("rutland").with_population(20000), ["2016/17"], 3, feeds)
    nhs = pq.read_table(feeds / "residents.parquet").column("nhs_number").to_pylist()
    store = tmp_path / "store" / "s.duckdb"
    tmp = temp_directory(store)
    code = (
        "import sys; from pathlib import Path; from bettercare.data.ingest import ingest; "
        f"ingest(Path(sys.argv[1]), Path(sys.argv[2]), {KEY_B!r}, memory_limit='24MB')"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    proc = subprocess.Popen([sys.executable, "-c", code, str(feeds), str(store)], env=env)
    spilled: list[Path] = []
    try:
        # poll until DuckDB has spilled to the temp directory (a bound for a hung run, not a
        # timing assertion), then kill mid-run
        deadline = time.monotonic() + 600
        while proc.poll() is None and time.monotonic() < deadline:
            try:  # the ingest may remove its temp files between two looks
                spilled = [p for p in tmp.iterdir() if p.is_file() and p.stat().st_size]
            except FileNotFoundError:
                spilled = []
            if spilled:
                break
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    # the test means something only if the ingest was killed mid-run with spilled files
    assert proc.returncode == -signal.SIGKILL, (
        f"the ingest ended (exit {proc.returncode}) before it was killed: nothing was tested"
    )
    assert spilled, "nothing had spilled when the ingest was killed: nothing was tested"
    assert any(p.exists() for p in spilled), "the killed run left no spilled file behind"
    con = connect(store)  # the next run starts: what the killed run spilled is gone
    try:
        assert not any(p.exists() for p in spilled)
        assert files_holding(store.parent, nhs, skip=(store,)) == {}
    finally:
        con.close()


# -- 4. nothing lost -------------------------------------------------------------------


def test_fewer_rows_for_a_month_than_loaded_is_rejected(store_copy: Path, tmp_path: Path) -> None:
    d = one_file(tmp_path, "hospital_spells", SPELL_COLS, spells_rows()[:1])  # April: 2 -> 1
    before = store_state(store_copy)
    result = ingest(d, store_copy, KEY_B)
    assert result.outcome == "rejected"
    (issue,) = result.file_issues
    assert (issue.file, issue.rule, issue.value) == (
        "hospital_spells.csv",
        "fewer_rows_than_loaded",
        "2024-04: 2 -> 1",
    )
    assert "hospital_spells 2024-04: 2 rows loaded, 1 in this file" in issue.message
    assert store_state(store_copy) == before
    result = ingest(d, store_copy, KEY_B, replace=True)
    assert result.outcome == "loaded"
    assert sorted(r[1] for r in table_rows(store_copy, "hospital_spells")) == ["S1", "S3"]


def test_a_truncated_last_row_is_rejected(store_copy: Path, tmp_path: Path) -> None:
    d = one_file(tmp_path, "hospital_spells", SPELL_COLS, spells_rows())
    path = d / "hospital_spells.csv"
    path.write_bytes(path.read_bytes()[:-30])  # cut mid-row, as a failed copy would
    before = store_state(store_copy)
    result = ingest(d, store_copy, KEY_B)
    assert result.outcome == "rejected"
    (issue,) = result.file_issues
    assert (issue.rule, issue.row) == ("truncated_last_row", 4)
    assert store_state(store_copy) == before
    result = ingest(d, store_copy, KEY_B, replace=True)  # accepted: the cut row quarantined
    assert result.outcome == "quarantined"
    assert [(i["row"], i["rule"]) for i in report(store_copy)] == [("4", "truncated_last_row")]
    # S3 (May) stays from the earlier load: the file's valid rows cover April only
    assert sorted(r[1] for r in table_rows(store_copy, "hospital_spells")) == ["S1", "S2", "S3"]


@pytest.mark.parametrize(
    "column",
    [
        pa.array([["RR8"], ["RR8"], ["RR8"]], pa.list_(pa.string())),
        pa.array([b"RR8", b"\xff\xfe", b"RR8"], pa.binary()),
        pa.array([{"a": 1}, {"a": 2}, {"a": 3}]),
    ],
    ids=["list", "invalid-utf8-binary", "struct"],
)
def test_an_unexpected_column_type_rejects_that_file_alone(
    column: pa.Array, tmp_path: Path
) -> None:
    d = write_all_feeds(tmp_path / "in")
    (d / "hospital_spells.csv").unlink()
    rows = spells_rows()
    table = pa.table(
        {
            c: column if c == "provider_code" else pa.array([str(r[k]) for r in rows])
            for k, c in enumerate(SPELL_COLS)
        }
    )
    pq.write_table(table, d / "hospital_spells.parquet")
    store = tmp_path / "store" / "s.duckdb"
    result = ingest(d, store, KEY_B)
    assert result.outcome == "rejected"
    ((file, rule, col),) = {(i.file, i.rule, i.column) for i in result.file_issues}
    assert (file, rule, col) == ("hospital_spells.parquet", "unexpected_type", "provider_code")
    assert table_rows(store, "hospital_spells") == []
    assert len(table_rows(store, "residents")) == 6  # the good files still load


# -- 5. plausible dates ----------------------------------------------------------------


def _spells_plus(extra: list[object]) -> list[list[object]]:
    return [*spells_rows(), extra]


@pytest.mark.parametrize(
    ("admitted", "rule"),
    [
        ("0001-01-01", "implausible_date"),
        ("1899-12-31", "implausible_date"),
        ("2099-01-01", "future_date"),
        ("2024-06-02", "future_date"),  # after the run date below
        ("1939-06-01", "before_birth"),  # NHS[0] was born 1940-03-12
    ],
)
def test_implausible_event_dates_are_quarantined(
    admitted: str, rule: str, store_copy: Path, tmp_path: Path
) -> None:
    bad = ["S9", NHS[0], "RR8", "elective", admitted, "", "K40", "false", "", ""]
    d = one_file(tmp_path, "hospital_spells", SPELL_COLS, _spells_plus(bad))
    result = ingest(d, store_copy, KEY_B, run_date=dt.date(2024, 6, 1))
    assert result.outcome == "quarantined"
    found = [(i["row"], i["rule"], i["severity"]) for i in report(store_copy)]
    assert (("5", rule, "error")) in found
    assert sorted(r[1] for r in table_rows(store_copy, "hospital_spells")) == ["S1", "S2", "S3"]


def test_death_before_birth_and_service_before_birth(store_copy: Path, tmp_path: Path) -> None:
    cols = FEEDS["residents"].column_names
    rows = residents_rows()
    rows[5][cols.index("date_of_death")] = "1930-01-01"  # born 1938-11-02
    d = one_file(tmp_path, "residents", cols, rows)
    sc_cols = FEEDS["social_care_services"].column_names
    sc = social_care_rows()
    sc[0][sc_cols.index("start_date")] = "1940-01-01"  # born 1940-03-12 (own column)
    write_csv(d / "social_care_services.csv", sc_cols, sc)
    result = ingest(d, store_copy, KEY_B, replace=True)
    assert result.outcome == "quarantined"
    found = {(i["file"], i["row"], i["rule"]) for i in report(store_copy)}
    assert ("residents.csv", "7", "death_before_birth") in found
    assert ("social_care_services.csv", "2", "before_birth") in found
    assert "C1" not in {r[1] for r in table_rows(store_copy, "social_care_services")}


def test_rows_outside_the_declared_extract_period_are_quarantined(
    store_copy: Path, tmp_path: Path
) -> None:
    d = one_file(tmp_path, "hospital_spells", SPELL_COLS, spells_rows())
    april = (dt.date(2024, 4, 1), dt.date(2024, 4, 30))
    result = ingest(d, store_copy, KEY_B, extract_period=april)
    assert result.outcome == "quarantined"
    ((row, rule),) = {(i["row"], i["rule"]) for i in report(store_copy)}
    assert (row, rule) == ("4", "outside_extract_period")  # S3, admitted 2024-05-01


def test_cli_replace_and_extract_period(store_copy: Path, tmp_path: Path, key_env: bytes) -> None:
    d = one_file(tmp_path, "hospital_spells", SPELL_COLS, spells_rows()[:1])
    base = ["ingest", str(d), "--store", str(store_copy)]
    out = CliRunner().invoke(app, base)
    assert out.exit_code == 2 and "fewer_rows_than_loaded" in out.output
    out = CliRunner().invoke(app, [*base, "--extract-period", "2024-04"])
    assert out.exit_code == 2 and "expected FIRST..LAST" in out.output
    out = CliRunner().invoke(
        app, [*base, "--replace", "--extract-period", "2024-04-01..2024-04-30"]
    )
    assert out.exit_code == 0, out.output
    assert sorted(r[1] for r in table_rows(store_copy, "hospital_spells")) == ["S1", "S3"]
