"""The linkage's blocking rules: hash-joinable, the swapped initials still found, capped keys."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa
import pytest

from bettercare.data import duck
from bettercare.data.linkage import (
    COMPARISONS,
    NAME_YEAR_KEY,
    NAME_YEAR_KEY_MAX_RESIDENTS,
    _blocking_rules,
    _prepare,
    blocking_pairs,
    candidate_pairs,
    capped_keys_sql,
    probabilistic_link,
    standardise_sql,
)

D = dt.date

# a resident and records that agree on the date of birth and nothing else but one
# initial across the names (districts, postcodes and other initials all differ)
RESIDENT = pa.table(
    {
        "person_id": ["p1"],
        "given_name": ["Kate"],
        "family_name": ["Smith"],
        "date_of_birth": [D(1950, 6, 1)],
        "postcode": ["LS1 4AB"],
    }
)


CROSS = (  # the two halves of "initials swapped" (which side is l depends on the join)
    'l."date_of_birth" = r."date_of_birth" AND substr(l."given_name", 1, 1) = '
    'substr(r."family_name", 1, 1)',
    'l."date_of_birth" = r."date_of_birth" AND substr(l."family_name", 1, 1) = '
    'substr(r."given_name", 1, 1)',
)


def _records(given: str, family: str) -> pa.Table:
    return pa.table(
        {
            "record_id": [1],
            "given_name": [given],
            "family_name": [family],
            "date_of_birth": [D(1950, 6, 1)],
            "postcode": ["M1 1AA"],
        }
    )


def test_no_rule_has_an_or() -> None:
    """An OR leaves DuckDB a join on the common part alone (the date of birth)."""
    for rule in _blocking_rules(COMPARISONS):
        sql = rule.get_blocking_rule("duckdb").blocking_rule_sql
        assert " or " not in sql.lower(), sql


def test_record_given_initial_is_resident_family_initial() -> None:
    # Sarah Brown / Kate Smith: S(arah) = S(mith), born the same day
    counts = blocking_pairs(_records("Sarah", "Brown"), RESIDENT)
    found = [(rule, n) for rule, _, n in counts if n]
    assert len(found) == 1 and found[0][1] == 1
    assert found[0][0] in CROSS


def test_record_family_initial_is_resident_given_initial() -> None:
    # Tom Kerr / Kate Smith: K(err) = K(ate), born the same day
    counts = blocking_pairs(_records("Tom", "Kerr"), RESIDENT)
    found = [(rule, n) for rule, _, n in counts if n]
    assert len(found) == 1 and found[0][1] == 1
    assert found[0][0] in CROSS


def test_no_shared_initial_no_pair() -> None:
    # Tom Brown / Kate Smith: born the same day, no initial in common
    assert sum(n for _, _, n in blocking_pairs(_records("Tom", "Brown"), RESIDENT)) == 0


# --- the capped family-name/birth-year key --------------------------------------------

CAP = NAME_YEAR_KEY_MAX_RESIDENTS


def _people(given: str, family: str, births: list[dt.date], prefix: str) -> pa.Table:
    return pa.table(
        {
            "person_id": [f"{prefix}{i}" for i in range(len(births))],
            "given_name": [given] * len(births),
            "family_name": [family] * len(births),
            "date_of_birth": births,
            # each at a different district: no postcode rule pairs them with anyone
            "postcode": [f"B{i + 1} 1AA" for i in range(len(births))],
        }
    )


def _keys(records: pa.Table, identities: pa.Table) -> tuple[dict[str, Any], dict[str, Any]]:
    con = duck.connect(":memory:")
    try:
        _prepare(con, records, identities)
        rec = dict(con.execute(f"SELECT unique_id, {NAME_YEAR_KEY} FROM rec").fetchall())
        ide = dict(con.execute(f"SELECT unique_id, {NAME_YEAR_KEY} FROM ide").fetchall())
    finally:
        con.close()
    return rec, ide


def _keys_case() -> tuple[pa.Table, pa.Table]:
    residents = pa.concat_tables(
        [
            # CAP Jane Smiths born in 1950 (on different days): the year key, kept
            _people("Jane", "Smith", [D(1950, 1 + i % 12, 1 + i) for i in range(CAP)], "s"),
            # CAP + 1 Kate Joneses born in 1970, all but one in January: too many for the
            # year key; the month key holds CAP in January (kept) and one in February
            _people(
                "Kate", "Jones", [D(1970, 1, 1 + i) for i in range(CAP)] + [D(1970, 2, 1)], "j"
            ),
            # CAP + 1 John Browns born in March 1960: too many for the year and the month
            _people("John", "Brown", [D(1960, 3, 1 + i) for i in range(CAP + 1)], "b"),
        ]
    )
    records = pa.table(
        {
            "record_id": [1, 2, 3],
            "given_name": ["J", "Katherine", "Jon"],
            "family_name": ["Smithson", "Jonas", "Browne"],
            "date_of_birth": [D(1950, 12, 31), D(1970, 1, 30), D(1960, 3, 30)],
            "postcode": ["M1 1AA"] * 3,
        }
    )
    return records, residents


_KEYS_CASE = _keys_case()


def test_name_year_key_is_kept_only_where_few_residents_share_it() -> None:
    records, residents = _KEYS_CASE
    rec, ide = _keys(records, residents)
    assert {ide[f"s{i}"] for i in range(CAP)} == {"smi j 1950"}
    assert {ide[f"j{i}"] for i in range(CAP)} == {"jon k 1970-1"}
    assert ide[f"j{CAP}"] == "jon k 1970-2"
    assert {ide[f"b{i}"] for i in range(CAP + 1)} == {None}
    # a record takes the form its residents take: the year, or the month where too many
    assert rec == {"r1": "smi j 1950", "r2": "jon k 1970-1", "r3": "bro j 1960-3"}


# a resident and a record that agree only on the capped key's parts: the family name's
# first three letters, the given initial and the birth year (no shared date of birth,
# postcode, district, full family name, or swapped names)
ONLY_BY_YEAR_KEY = pa.table(
    {
        "record_id": [1],
        "given_name": ["Margaret"],
        "family_name": ["Thomson"],
        "date_of_birth": [D(1940, 3, 21)],
        "postcode": ["M1 1AA"],
    }
)
MARGARET = {
    "person_id": "p1",
    "given_name": "Margaret",
    "family_name": "Thompson",
    "date_of_birth": D(1940, 3, 12),
    "postcode": "LS1 4AB",
}


def _others(n: int) -> list[dict[str, Any]]:
    """``n`` residents who share no blocking key with the record (other names, 1980s)."""
    given = ["Ahmed", "Bilal", "Chloe", "David", "Ewa", "Fatima", "Grace", "Hugo"]
    family = ["Khan", "Lewis", "Novak", "Patel", "Quinn", "Reid", "Walsh", "Young"]
    return [
        {
            "person_id": f"o{i}",
            "given_name": given[i % 8],
            "family_name": family[i // 8 % 8],
            "date_of_birth": D(1980 + i % 10, 1 + i % 12, 1 + i % 28),
            "postcode": f"B{1 + i % 30} {1 + i % 9}AB",
        }
        for i in range(n)
    ]


def test_record_found_only_by_the_year_key_is_a_candidate_and_links() -> None:
    residents = pa.Table.from_pylist([MARGARET, *_others(60)])
    found = [(rule, n) for rule, _, n in blocking_pairs(ONLY_BY_YEAR_KEY, residents) if n]
    assert found == [(f'l."{NAME_YEAR_KEY}" = r."{NAME_YEAR_KEY}"', 1)]
    assert candidate_pairs(ONLY_BY_YEAR_KEY, residents).to_pylist() == [
        {"record_id": 1, "person_id": "p1"}
    ]
    links = probabilistic_link(ONLY_BY_YEAR_KEY, residents).links.to_pylist()
    assert [(r["record_id"], r["person_id"]) for r in links] == [(1, "p1")]


def test_record_found_only_by_the_year_key_is_no_candidate_where_the_key_is_common() -> None:
    # more than the cap of Thompsons called M born in March 1940: no key, no pair
    namesakes = [
        MARGARET | {"person_id": f"t{i}", "date_of_birth": D(1940, 3, 1 + i)} for i in range(CAP)
    ]
    residents = pa.Table.from_pylist([MARGARET, *namesakes, *_others(60)])
    pairs = blocking_pairs(ONLY_BY_YEAR_KEY, residents)
    assert sum(n for _, _, n in pairs) == 0


@pytest.mark.spark
def test_capped_keys_on_spark_equal_duckdb() -> None:
    from bettercare.data.spark_ingest.session import spark_session
    from bettercare.data.spark_ingest.sql import run

    records, residents = _KEYS_CASE
    rec, ide = _keys(records, residents)
    con = duck.connect(":memory:")
    try:  # the standardised tables the capped keys start from, as the linkage makes them
        _prepare(con, records, residents)
        columns = ", ".join(["unique_id", *standardise_sql()])
        rec0 = con.sql(f"SELECT {columns} FROM rec").to_arrow_table()
        ide0 = con.sql(f"SELECT {columns} FROM ide").to_arrow_table()
    finally:
        con.close()
    spark = spark_session()
    spark.createDataFrame(rec0.to_pandas()).createOrReplaceTempView("rec0")
    spark.createDataFrame(ide0.to_pandas()).createOrReplaceTempView("ide0")
    rec_sql, ide_sql = capped_keys_sql("rec0", "ide0")
    got_rec = {r[0]: r[1] for r in run(spark, rec_sql).select("unique_id", NAME_YEAR_KEY).collect()}
    got_ide = {r[0]: r[1] for r in run(spark, ide_sql).select("unique_id", NAME_YEAR_KEY).collect()}
    assert (got_rec, got_ide) == (rec, ide)
