"""Identifiers of known people in the wrong column: an NHS number known only to the store,
a resident's postcode, a name with its date of birth. One value is enough."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import KEY, NHS, RESIDENTS, residents_rows, spells_rows, write_csv, write_feeds

from bettercare.data.ingest import ingest
from bettercare.data.schema import FEEDS

from .helpers import files_holding, tables_holding

pytestmark = pytest.mark.hostile

KEY_B = KEY.encode()
SPELL_COLS = FEEDS["hospital_spells"].column_names
RES_COLS = FEEDS["residents"].column_names


@pytest.fixture
def store(tmp_path: Path) -> Path:
    store = tmp_path / "store" / "store.duckdb"
    result = ingest(write_feeds(tmp_path / "first"), store, KEY_B)
    assert result.outcome == "loaded", result.file_issues
    return store


def many_spells() -> list[list[object]]:
    """The fixture spells and 40 more (new ids): one planted value is under 3% of them."""
    rows = spells_rows()
    extra = []
    for k in range(40):
        row = list(rows[k % len(rows)])
        row[SPELL_COLS.index("spell_id")] = f"SX{k:03d}"
        extra.append(row)
    return rows + extra


def only(tmp_path: Path, feed: str, header: list[str], rows: list[list[object]]) -> Path:
    d = tmp_path / "next"
    d.mkdir()
    write_csv(d / f"{feed}.csv", header, rows)
    return d


def refused(result, file: str, column: str) -> bool:
    return (file, column, "identifier_in_column") in {
        (i.file, i.column, i.rule) for i in result.file_issues
    }


def test_an_nhs_number_known_only_to_the_store_is_refused(store: Path, tmp_path: Path) -> None:
    rows = many_spells()
    spelled = {r[1] for r in rows}
    other = next(n for n in NHS if n not in spelled)  # a resident with no spell in the file
    rows[0][SPELL_COLS.index("spell_id")] = other
    result = ingest(only(tmp_path, "hospital_spells", SPELL_COLS, rows), store, KEY_B)
    assert refused(result, "hospital_spells.csv", "spell_id")
    assert tables_holding(store, [other]) == {}
    assert files_holding(store.parent, [other]) == {}


def test_a_residents_postcode_in_a_spell_id_is_refused(tmp_path: Path) -> None:
    d = write_feeds(tmp_path / "in")
    rows = many_spells()
    postcode = RESIDENTS[3][5]
    rows[0][SPELL_COLS.index("spell_id")] = postcode
    write_csv(d / "hospital_spells.csv", SPELL_COLS, rows)
    store = tmp_path / "store" / "store.duckdb"
    result = ingest(d, store, KEY_B)
    assert refused(result, "hospital_spells.csv", "spell_id")
    assert tables_holding(store, [postcode]) == {}


def test_a_name_beside_its_date_of_birth_is_refused(store: Path, tmp_path: Path) -> None:
    rows = residents_rows()
    rows[4][RES_COLS.index("gp_practice")] = RESIDENTS[4][2]  # Green, on Olive Green's row
    result = ingest(only(tmp_path, "residents", RES_COLS, rows), store, KEY_B)
    assert refused(result, "residents.csv", "gp_practice")
    assert tables_holding(store, ["Green"]) == {}
    assert "Green" not in (store.parent / "ingest_report.csv").read_text()


def test_the_identity_file_is_consulted_on_a_reload(tmp_path: Path) -> None:
    ids = tmp_path / "ids" / "identities.duckdb"
    store = tmp_path / "store" / "store.duckdb"
    first = ingest(write_feeds(tmp_path / "first"), store, KEY_B, identity_file=ids)
    assert first.outcome == "loaded", first.file_issues
    rows = many_spells()
    rows[0][SPELL_COLS.index("spell_id")] = RESIDENTS[5][5]  # a postcode: the store has none
    d = only(tmp_path, "hospital_spells", SPELL_COLS, rows)
    result = ingest(d, store, KEY_B, identity_file=ids)
    assert refused(result, "hospital_spells.csv", "spell_id")


def test_ordinary_ids_and_codes_are_not_taken_for_identifiers(store: Path, tmp_path: Path) -> None:
    """The same file without a planted value loads (no false refusal)."""
    result = ingest(only(tmp_path, "hospital_spells", SPELL_COLS, many_spells()), store, KEY_B)
    assert result.outcome in ("loaded", "quarantined"), result.file_issues
