"""Clerical review of uncertain links: the store's review list and decisions.

A social care record whose best candidate resident has a match probability between the
lower and upper thresholds (:class:`bettercare.data.linkage.Thresholds`) is not linked;
the pair goes to ``linkage_review``: a ``pair_id`` (a hash of the keyed pseudonym of
the record's standardised identity and the resident's pseudonym), the resident's
pseudonym, one ``service_id`` of the record (to find it in the council's system), the
match probability and weight, and the agreement level of each comparison — never a
name, date of birth or postcode. An authorised user (one who holds the store's
pseudonymisation key) accepts or rejects pairs; ``linkage_decisions`` keeps the
decisions and every later load re-applies them: a rejected pair is never linked again,
an accepted one always is (``link_method = 'clerical_review'``).
"""

from __future__ import annotations

import csv
import getpass
from dataclasses import dataclass
from pathlib import Path

import duckdb

from bettercare.data import duck, pseudonymise
from bettercare.errors import BadInput

DECISIONS = ("accept", "reject")
REVIEW_COLUMNS = (
    "pair_id",
    "person_id",
    "service_id",
    "records",
    "match_probability",
    "match_weight",
    "given_name",
    "family_name",
    "date_of_birth",
    "postcode",
)
REVIEW_DDL = (
    # pairs between the thresholds awaiting a decision (replaced by each load)
    """CREATE TABLE IF NOT EXISTS linkage_review (
      pair_id VARCHAR PRIMARY KEY, run_id VARCHAR, person_id VARCHAR, service_id VARCHAR,
      records BIGINT, match_probability DOUBLE, match_weight DOUBLE, given_name VARCHAR,
      family_name VARCHAR, date_of_birth VARCHAR, postcode VARCHAR)""",
    # a reviewer's decisions, kept and re-applied on every later load
    """CREATE TABLE IF NOT EXISTS linkage_decisions (
      pair_id VARCHAR PRIMARY KEY, person_id VARCHAR, decision VARCHAR,
      decided_by VARCHAR, decided_at TIMESTAMP)""",
)


class ReviewError(BadInput):
    """A review command that cannot be carried out (one line, for the CLI)."""


@dataclass(frozen=True)
class Decision:
    """One reviewer decision on a pair of the review list."""

    pair_id: str
    decision: str  # "accept" | "reject"


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The review tables of the store (idempotent)."""
    for ddl in REVIEW_DDL:
        con.execute(ddl)


def _open(store: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    if not store.is_file():
        raise ReviewError(f"{store} not found")
    try:
        return duck.connect(store, read_only=read_only)
    except (duck.DatabaseFileError, duckdb.Error) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ReviewError(f"cannot open the store {store}: {first}") from None


def review_list(store: Path) -> list[dict[str, object]]:
    """The pending pairs, most probable first (no raw identifiers)."""
    con = _open(store, read_only=True)
    try:
        try:
            rows = con.execute(
                f"SELECT {', '.join(REVIEW_COLUMNS)} FROM linkage_review "
                "ORDER BY match_probability DESC, pair_id"
            ).fetchall()
        except duckdb.CatalogException:
            return []
        finally:
            con.complete()
    finally:
        con.close()
    return [dict(zip(REVIEW_COLUMNS, row, strict=True)) for row in rows]


def read_decisions_csv(path: Path) -> list[Decision]:
    """Decisions from a CSV with columns ``pair_id`` and ``decision`` (accept|reject).

    A bad row is a :class:`ReviewError` naming file, row and field.
    """
    try:
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = {"pair_id", "decision"} - set(reader.fieldnames or [])
            if missing:
                raise ReviewError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
            out = []
            for i, row in enumerate(reader, start=2):
                decision = (row["decision"] or "").strip().lower()
                if decision not in DECISIONS:
                    raise ReviewError(
                        f"{path} row {i}: decision {row['decision']!r} must be accept or reject"
                    )
                pair_id = (row["pair_id"] or "").strip()
                if not pair_id:
                    raise ReviewError(f"{path} row {i}: pair_id is empty")
                out.append(Decision(pair_id, decision))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ReviewError(f"{path}: cannot read: {exc}") from None
    return out


def decide(store: Path, key: bytes, decisions: list[Decision]) -> int:
    """Record ``decisions``, all or none.

    Each pair must be on the review list or already decided (a decision can be changed);
    the key must be the store's.
    """
    for d in decisions:
        if d.decision not in DECISIONS:
            raise ReviewError(f"pair {d.pair_id}: decision must be accept or reject")
    con = _open(store, read_only=False)
    try:
        row = con.execute("SELECT value FROM store_meta WHERE name = 'key_check'").fetchone()
        con.complete()
        if row is None or row[0] != pseudonymise.key_check_value(key):
            raise ReviewError(
                "the key is not this store's pseudonymisation key: only a holder of the "
                "key may review links"
            )
        create_tables(con)
        con.execute("BEGIN")
        user = getpass.getuser()
        for d in decisions:
            found = con.execute(
                "SELECT person_id FROM linkage_review WHERE pair_id = ? UNION ALL "
                "SELECT person_id FROM linkage_decisions WHERE pair_id = ?",
                [d.pair_id, d.pair_id],
            ).fetchone()
            con.complete()
            if found is None:
                con.execute("ROLLBACK")
                raise ReviewError(f"pair {d.pair_id} is not on the review list")
            con.execute(
                "INSERT OR REPLACE INTO linkage_decisions VALUES (?, ?, ?, ?, now()::TIMESTAMP)",
                [d.pair_id, found[0], d.decision, user],
            )
            con.execute("DELETE FROM linkage_review WHERE pair_id = ?", [d.pair_id])
        con.execute("COMMIT")
    except duckdb.CatalogException:
        raise ReviewError(f"{store}: no linkage has been run in this store") from None
    finally:
        con.close()
    return len(decisions)


def decision_list(store: Path) -> list[tuple[str, str, str]]:
    """(pair_id, person_id, decision) of every decision kept in the store."""
    con = _open(store, read_only=True)
    try:
        try:
            rows = con.execute(
                "SELECT pair_id, person_id, decision FROM linkage_decisions ORDER BY pair_id"
            ).fetchall()
        except duckdb.CatalogException:
            return []
        finally:
            con.complete()
    finally:
        con.close()
    return [(str(a), str(b), str(c)) for a, b, c in rows]
