"""The linkage's blocking rules: hash-joinable, and the swapped initials still found."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from bettercare.data.linkage import COMPARISONS, _blocking_rules, blocking_pairs

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
