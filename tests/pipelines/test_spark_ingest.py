"""The national run on Spark: a small synthetic England ingested by DuckDB and by Spark.

Two HWB areas of the England list at 1/500 scale, with rows made bad on purpose (a
date that is not a date, an NHS number failing modulus 11, a discharge before its
admission, a social care client without an NHS number, an opted-out resident), are
ingested into a DuckDB store and, by ``bettercare.data.spark_ingest`` on Spark local
mode, into a Parquet store. The stores are compared table by table, row for row
(pseudonyms, quarantined rows with their rules, opt-outs removed, links), and every
metric is computed on both (DuckDB on the DuckDB store, Spark on the Parquet store).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from bettercare.analytics.engine import compute_metrics, open_store
from bettercare.analytics.scheme_impact import load_scheme_activity
from bettercare.data.geography import hwb_by_code
from bettercare.data.ingest import ingest
from bettercare.data.schema import STORE_TABLES
from bettercare.data.synth.england import generate_england

pytestmark = [pytest.mark.spark, pytest.mark.slow]

CODES = ("E06000016", "E06000017")  # Leicester, Rutland
KEY = b"england-spark-ingest-test-key-" + b"0123456789abcdef" * 3
RUN_DATE = dt.date(2026, 12, 4)


def _as_text(table: pa.Table) -> pa.Table:
    return pa.table({n: pc.cast(table[n], pa.string()) for n in table.column_names})


def _spoil(feeds: Path) -> None:
    """Make a few rows bad, one per rule, so both ingests must quarantine them."""
    spells = _as_text(pq.read_table(feeds / "hospital_spells.parquet")).to_pydict()
    spells["admission_date"][0] = "not a date"  # bad_date
    good = spells["nhs_number"][1]
    spells["nhs_number"][1] = good[:9] + str((int(good[9]) + 1) % 10)  # nhs_number_mod11
    spells["discharge_date"][2] = "2000-01-01"  # discharge_before_admission
    pq.write_table(pa.table(spells), feeds / "hospital_spells.parquet")
    care = _as_text(pq.read_table(feeds / "social_care_services.parquet")).to_pydict()
    for i in range(0, len(care["nhs_number"]), 2):  # half linked by name, DOB and postcode
        care["nhs_number"][i] = None
    pq.write_table(pa.table(care), feeds / "social_care_services.parquet")
    residents = pq.read_table(feeds / "residents.parquet")
    opted = residents["nhs_number"][3].as_py()
    outs = pq.read_table(feeds / "opt_outs.parquet").to_pydict()
    outs["nhs_number"].append(opted)
    pq.write_table(pa.table(outs), feeds / "opt_outs.parquet")


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from bettercare.data.spark_ingest import ingest as ingest_on_spark

    root = tmp_path_factory.mktemp("england")
    areas = tuple(hwb_by_code()[c] for c in CODES)
    generate_england(0.002, ["2016/17"], 11, root / "feeds", areas=areas)
    _spoil(root / "feeds")
    on_duckdb = root / "duck" / "store.duckdb"
    a = ingest(root / "feeds", on_duckdb, KEY, run_date=RUN_DATE)
    on_spark = root / "spark" / "store.parquet"
    b = ingest_on_spark(str(root / "feeds"), str(on_spark), KEY, run_date=RUN_DATE)
    assert a.outcome == b.outcome == "quarantined"
    assert [(f.feed, f.status, f.rows_read, f.rows_loaded) for f in a.feeds] == [
        (f.feed, f.status, f.rows_read, f.rows_loaded) for f in b.feeds
    ]
    return on_duckdb, on_spark


def _frames(stores: tuple[Path, Path], sql_duck: str, table: str) -> tuple[pd.DataFrame, ...]:
    on_duckdb, on_spark = stores
    con = duckdb.connect(str(on_duckdb), read_only=True)
    try:
        a = con.execute(sql_duck).df()
    finally:
        con.close()
    glob = str(on_spark / table / "*.parquet")
    b = duckdb.sql(sql_duck.replace(f"FROM {table}", f"FROM read_parquet('{glob}')")).df()
    key = list(a.columns)
    a = a.sort_values(key, na_position="first").reset_index(drop=True)
    b = b[key].sort_values(key, na_position="first").reset_index(drop=True)
    return a, b


@pytest.mark.parametrize("table", STORE_TABLES)
def test_store_tables_equal_row_for_row(stores: tuple[Path, Path], table: str) -> None:
    a, b = _frames(stores, f"SELECT * FROM {table}", table)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)


def test_quarantined_rows_and_their_rules_equal(stores: tuple[Path, Path]) -> None:
    cols = 'feed, file, "row", "column", rule, severity, message, value'
    a, b = _frames(stores, f"SELECT {cols} FROM quarantine", "quarantine")
    assert {"bad_date", "nhs_number_mod11", "discharge_before_admission"} <= set(a.rule)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)


def test_opt_outs_and_links_equal(stores: tuple[Path, Path]) -> None:
    a, b = _frames(stores, "SELECT * FROM opt_out_register", "opt_out_register")
    assert len(a) >= 2
    pd.testing.assert_frame_equal(a, b)
    on_spark = stores[1]
    [(left,)] = duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{on_spark}/residents/*.parquet') WHERE person_id "
        f"IN (SELECT person_id FROM read_parquet('{on_spark}/opt_out_register/*.parquet'))"
    ).fetchall()
    assert left == 0  # the opted-out resident is gone
    links = "SELECT link_method, count(*) AS n FROM social_care_services GROUP BY 1"
    a, b = _frames(stores, links, "social_care_services")
    assert "probabilistic" in set(a.link_method)
    pd.testing.assert_frame_equal(a, b)


def test_ingest_log_counts_equal(stores: tuple[Path, Path]) -> None:
    cols = "feed, file, sha256, periods, rows_read, rows_loaded, rows_quarantined, rows_opted_out"
    a, b = _frames(stores, f"SELECT {cols} FROM ingest_log", "ingest_log")
    pd.testing.assert_frame_equal(a, b, check_dtype=False)


def test_scheme_activity_is_per_board_on_both(stores: tuple[Path, Path]) -> None:
    # every area is the base preset's: both boards have the same five scheme references
    sql = (
        "SELECT hwb_code, scheme_reference, sum(admissions_avoided) AS n FROM scheme_activity "
        "GROUP BY 1, 2"
    )
    a, b = _frames(stores, sql, "scheme_activity")
    assert set(a.hwb_code) == set(CODES)
    assert a.groupby("hwb_code").scheme_reference.nunique().to_dict() == dict.fromkeys(CODES, 5)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    # and a board's reader sees the same rows on either store
    read = []
    for store in stores:
        with open_store(store) as con:
            read.append(load_scheme_activity(con, CODES[0]))
    assert len(read[0]) == 5 * 12
    pd.testing.assert_frame_equal(read[0], read[1], check_dtype=False)


def test_metrics_on_spark_equal_duckdb(stores: tuple[Path, Path]) -> None:
    on_duckdb, on_spark = stores
    a = compute_metrics(on_duckdb, "month", backend="duckdb", period="2016/17")
    b = compute_metrics(on_spark, "month", backend="spark", period="2016/17")
    assert set(a.hwb_code) == set(CODES)
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12)


def test_a_bad_file_is_refused_with_the_same_finding_and_nothing_written(
    tmp_path: Path,
) -> None:
    from bettercare.data.spark_ingest import ingest as ingest_on_spark

    feeds = tmp_path / "feeds"
    feeds.mkdir()
    (feeds / "opt_outs.csv").write_text("nhs_number\n")
    (feeds / "population.csv").write_text("hwb_code,year,sex,age_band,population\n")
    (feeds / "residents.csv").write_text("nhs_number,given_name\n9434765919,Ann\n")
    a = ingest(feeds, tmp_path / "d" / "store.duckdb", KEY, run_date=RUN_DATE)
    store = tmp_path / "s" / "store.parquet"
    b = ingest_on_spark(str(feeds), str(store), KEY, run_date=RUN_DATE)
    shown = [(i.file, i.row, i.column, i.rule, i.message) for i in a.file_issues]
    assert shown == [(i.file, i.row, i.column, i.rule, i.message) for i in b.file_issues]
    assert any(i.rule == "missing_column" and i.column == "family_name" for i in b.file_issues)
    # the refused file wrote nothing; no partial store is left beside the store
    assert pq.read_table(store / "residents").num_rows == 0
    assert [p.name for p in store.parent.iterdir()] == ["store.parquet"]


# --- the national datasets' layouts (GP registrations, APC, ECDS, CLD, ONS, opt-out .dat)


@pytest.fixture(scope="module")
def national_stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A synthetic board in the national layouts, one attendance id repeated on purpose.

    1,500 residents: under the linkage's u sample (1.2 million resident pairs) every pair
    is used on both engines, so the match probabilities are equal too (above it each
    engine draws its own sample; docs/spark.md).
    """
    from bettercare.data.spark_ingest import ingest as ingest_on_spark
    from bettercare.data.synth import generate, preset

    root = tmp_path_factory.mktemp("national")
    feeds = root / "feeds"
    generate(preset("leicestershire").with_population(1500), ["2016/17"], 7, feeds, fmt="national")
    ecds = pd.read_csv(feeds / "ecds.csv", dtype=str, keep_default_na=False)
    ecds.loc[1, "ec_ident"] = ecds.loc[0, "ec_ident"]  # duplicate_key on attendance_id
    ecds.to_csv(feeds / "ecds.csv", index=False)
    on_duckdb = root / "duck" / "store.duckdb"
    a = ingest(feeds, on_duckdb, KEY, run_date=RUN_DATE)
    on_spark = root / "spark" / "store.parquet"
    b = ingest_on_spark(str(feeds), str(on_spark), KEY, run_date=RUN_DATE)
    assert a.file_issues == b.file_issues == []
    assert [(f.feed, f.file, f.status, f.rows_read, f.rows_loaded) for f in a.feeds] == [
        (f.feed, f.file, f.status, f.rows_read, f.rows_loaded) for f in b.feeds
    ]
    assert {f.file for f in b.feeds} >= {"gp_registrations.csv", "ecds.csv", "cld.csv"}
    return on_duckdb, on_spark


@pytest.mark.parametrize("table", STORE_TABLES)
def test_national_layouts_give_equal_store_tables(
    national_stores: tuple[Path, Path], table: str
) -> None:
    a, b = _frames(national_stores, f"SELECT * FROM {table}", table)
    assert len(a) or table == "scheme_activity"
    pd.testing.assert_frame_equal(a, b, check_dtype=False)


def test_national_findings_name_the_national_fields_on_both(
    national_stores: tuple[Path, Path],
) -> None:
    cols = 'feed, file, "row", "column", rule, severity, message, value'
    a, b = _frames(national_stores, f"SELECT {cols} FROM quarantine", "quarantine")
    repeated = a[(a.file == "ecds.csv") & (a.rule == "duplicate_key")]
    assert set(repeated.column) == {"ec_ident"}  # the national field, not attendance_id
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    log = (
        "SELECT feed, file, sha256, periods, rows_read, rows_loaded, rows_opted_out FROM ingest_log"
    )
    a, b = _frames(national_stores, log, "ingest_log")
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    a, b = _frames(national_stores, "SELECT * FROM opt_out_register", "opt_out_register")
    assert len(a) > 0  # the opt-out check's .dat files read on both
    pd.testing.assert_frame_equal(a, b)


def test_national_metrics_on_spark_equal_duckdb(national_stores: tuple[Path, Path]) -> None:
    on_duckdb, on_spark = national_stores
    a = compute_metrics(on_duckdb, "month", backend="duckdb", period="2016/17")
    b = compute_metrics(on_spark, "month", backend="spark", period="2016/17")
    assert len(a) > 0
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12)
