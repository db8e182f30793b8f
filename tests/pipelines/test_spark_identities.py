"""The restricted identity file on Spark: social care linked by the identities it holds.

A first run loads the residents with ``--identities`` (the file then holds their names,
dates of birth and postcodes by pseudonym); a second run has social care only (no
residents feed): its clients without an NHS number are linked probabilistically against
the identity file's people, on DuckDB and on Spark alike (conftest's noisy copy of Olive
Green links to her; Peter Jones, nobody's, stays unlinked).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from conftest import KEY, NHS, social_care_rows, write_csv, write_feeds

from bettercare.data import identities, pseudonymise
from bettercare.data.ingest import ingest
from bettercare.data.schema import FEEDS

pytestmark = [pytest.mark.spark, pytest.mark.slow]

KEY_B = KEY.encode()


def _social_care_only(directory: Path) -> Path:
    directory.mkdir(parents=True)
    write_csv(directory / "opt_outs.csv", ["nhs_number"], [])
    cols = FEEDS["social_care_services"].column_names
    write_csv(directory / "social_care_services.csv", cols, social_care_rows())
    return directory


def _links(store: Path, spark: bool) -> list[tuple[str, str | None, str | None]]:
    sql = "SELECT service_id, person_id, link_method FROM social_care_services ORDER BY 1"
    if spark:
        return duckdb.sql(
            sql.replace(
                "social_care_services", f"read_parquet('{store}/social_care_services/*.parquet')"
            )
        ).fetchall()
    con = duckdb.connect(str(store), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_the_identity_file_links_social_care_on_both_engines(tmp_path: Path) -> None:
    from bettercare.data.spark_ingest import ingest as ingest_on_spark

    first = write_feeds(tmp_path / "first")
    later = _social_care_only(tmp_path / "later")
    # DuckDB: residents with --identities, then social care alone
    ids_duck = tmp_path / "private" / "duck-identities.duckdb"
    duck_store = tmp_path / "d" / "store.duckdb"
    assert ingest(first, duck_store, KEY_B, identity_file=ids_duck).outcome == "loaded"
    a = ingest(later, duck_store, KEY_B, identity_file=ids_duck)
    # Spark: the same two runs, each writing its store afresh
    ids_spark = tmp_path / "private" / "spark-identities.duckdb"
    spark_store = tmp_path / "s" / "store.parquet"
    ingest_on_spark(str(first), str(spark_store), KEY_B, identity_file=str(ids_spark))
    held = identities.read(ids_spark, KEY_B)
    assert held is not None and held.num_rows == 6  # conftest's six residents
    assert sorted(held["person_id"].to_pylist()) == sorted(
        pseudonymise.pseudonym(KEY_B, n) for n in NHS
    )
    b = ingest_on_spark(str(later), str(spark_store), KEY_B, identity_file=str(ids_spark))
    assert a.linkage["linked_probabilistic"] == b.linkage["linked_probabilistic"] == 1
    assert b.linkage["identities_available"] == 1
    links = _links(spark_store, True)
    assert links == _links(duck_store, False)
    olive = pseudonymise.pseudonym(KEY_B, NHS[4])
    assert links[1] == ("C2", olive, "probabilistic")  # Olivia Grene, 1935-07-03
    assert links[2] == ("C3", None, None)  # Peter Jones: nobody's


def test_an_identity_file_of_another_key_is_refused_on_spark(tmp_path: Path) -> None:
    from bettercare.data.ingest import UsageError
    from bettercare.data.spark_ingest import ingest as ingest_on_spark

    ids = tmp_path / "private" / "identities.duckdb"
    identities.bind_key(ids, b"another-key-" + b"0123456789abcdef" * 3)
    later = _social_care_only(tmp_path / "later")
    store = tmp_path / "s" / "store.parquet"
    with pytest.raises(UsageError, match="different pseudonymisation key"):
        ingest_on_spark(str(later), str(store), KEY_B, identity_file=str(ids))
    assert not store.exists()
