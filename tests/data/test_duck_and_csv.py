"""The DuckDB connection helper (no extension autoload, one-line errors) and CSV-injection
escaping ("Smaller" list)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from bettercare.cli.main import app
from bettercare.data import duck, safe_csv


def _sqlite(path: Path) -> Path:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE linkage_report (x INTEGER)")
    con.commit()
    con.close()
    return path


def test_connections_have_extension_autoload_and_autoinstall_off(tmp_path: Path) -> None:
    con = duck.connect(tmp_path / "a.duckdb")
    settings = dict(
        con.execute(
            "SELECT name, value FROM duckdb_settings() WHERE name IN "
            "('autoinstall_known_extensions', 'autoload_known_extensions')"
        ).fetchall()
    )
    con.close()
    assert settings == {
        "autoinstall_known_extensions": "false",
        "autoload_known_extensions": "false",
    }


def test_sqlite_and_text_files_are_refused_before_duckdb_opens_them(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    with pytest.raises(duck.DatabaseFileError, match="is a SQLite database"):
        duck.connect(_sqlite(tmp_path / "s.db"), read_only=True)
    with pytest.raises(duck.DatabaseFileError, match="not a DuckDB database"):
        duck.connect(text)
    assert text.read_text() == "hello\n"  # untouched
    con = duck.connect(tmp_path / "new.duckdb")  # a new file is fine
    con.execute("CREATE TABLE t (x INTEGER)")
    con.close()
    duck.connect(tmp_path / "new.duckdb", read_only=True).close()


def test_locked_store_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    holder = duckdb.connect(str(path))
    try:
        holder.execute("CREATE TABLE t (x INTEGER)")
        # the same process may not open one file with two configurations: DuckDB says so
        with pytest.raises(duck.DatabaseFileError) as info:
            duck.connect(path, read_only=True)
        assert "\n" not in str(info.value)
    finally:
        holder.close()


@pytest.mark.parametrize("kind", ["sqlite", "text"])
def test_link_report_on_a_non_duckdb_store_exits_2(tmp_path: Path, kind: str) -> None:
    if kind == "sqlite":
        store = _sqlite(tmp_path / "store.duckdb")
    else:
        store = tmp_path / "store.duckdb"
        store.write_text("not a database\n")
    before = store.read_bytes()
    result = CliRunner().invoke(app, ["link", "report", "--store", str(store)])
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "not a DuckDB database" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert store.read_bytes() == before


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        ("", ""),
        (-5, -5),  # numbers stay numbers
        (-1.5, -1.5),
        (None, None),
    ],
)
def test_escape_cell(value: object, escaped: object) -> None:
    assert safe_csv.escape_cell(value) == escaped


def test_escape_frame_escapes_text_only(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"name": ["=cmd|' /C calc'!A0", "ok", None], "delta": [-1.5, 2.0, -3.0], "n": [-1, 0, 1]}
    )
    out = tmp_path / "x.csv"
    safe_csv.to_csv(frame, out)
    back = pd.read_csv(out, keep_default_na=False)
    assert back["name"].tolist() == ["'=cmd|' /C calc'!A0", "ok", ""]
    assert back["delta"].tolist() == [-1.5, 2.0, -3.0]
    assert back["n"].tolist() == [-1, 0, 1]
    assert frame["name"][0].startswith("=")  # the caller's frame is not modified


def test_sql_escape_matches_python_rule() -> None:
    values = ["=1", "+1", "-1", "@a", "\tx", "\rx", "x", "", None, "'=already"]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (i INTEGER, v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(values)))
    rows = con.execute(f"SELECT {safe_csv.sql_escape('v')} FROM t ORDER BY i").fetchall()
    assert [r[0] for r in rows] == [safe_csv.escape_cell(v) for v in values]


def test_metrics_on_a_sqlite_store_is_a_metric_data_error(tmp_path: Path) -> None:
    from bettercare.analytics.engine import open_store
    from bettercare.analytics.metrics import MetricDataError

    store = _sqlite(tmp_path / "store.duckdb")
    with pytest.raises(MetricDataError, match="SQLite database"), open_store(store):
        pass


def test_copy_to_csv_escapes_text_columns_only(tmp_path: Path) -> None:
    con = duckdb.connect()
    con.execute('CREATE TABLE run_issues (file VARCHAR, "row" BIGINT, value VARCHAR, x DOUBLE)')
    con.execute(
        "INSERT INTO run_issues VALUES ('a.csv', 2, '=HYPERLINK(\"http://x\")', -1.5), "
        "('-b.csv', 3, NULL, 2.0)"
    )
    out = tmp_path / "ingest_report.csv"
    safe_csv.copy_to_csv(con, 'SELECT * FROM run_issues ORDER BY "row"', out)
    back = pd.read_csv(out, keep_default_na=False)
    assert back.columns.tolist() == ["file", "row", "value", "x"]
    assert back["file"].tolist() == ["a.csv", "'-b.csv"]
    assert back["value"].tolist() == ['\'=HYPERLINK("http://x")', ""]
    assert back["row"].tolist() == [2, 3] and back["x"].tolist() == [-1.5, 2.0]
