"""An NHS number in a column that should not hold one is refused at any share.

The synthetic feeds in both layouts, with the patient's own NHS number written into the
spell id (``hospital_spells.spell_id``; ``susspellid`` of the APC episodes) of 0.1%, 1%,
12% and 100% of the spells, on a first load and on a reload into a loaded store. The
by-shape check alone (a share of 20% and more) let the lower shares through.
"""

from __future__ import annotations

import csv
import math
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bettercare.data.ingest import ingest
from bettercare.data.synth import generate, preset

from .helpers import files_holding, tables_holding

pytestmark = pytest.mark.hostile

KEY = b"h" * 8 + b"ostile-suite-key-0123456789abcdefXYZ"
SHARES = (0.001, 0.01, 0.12, 1.0)
#: the files a first load needs: the opt-out list, the residents and the spells
FIRST_LOAD = {
    "internal": ("opt_outs.parquet", "residents.parquet"),
    "national": ("ndop_request.dat", "ndop_response.dat", "gp_registrations.csv"),
}
SPELLS = {"internal": "hospital_spells.parquet", "national": "apc_episodes.csv"}
FIELD = {"internal": "spell_id", "national": "susspellid"}


@pytest.fixture(scope="module")
def feeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("feeds")
    params = preset("rutland").with_population(6000)  # ~1,200 spells
    out = {}
    for fmt in ("internal", "national"):
        generate(params, ["2016/17"], 11, root / fmt, fmt=fmt)
        out[fmt] = root / fmt
    return out


@pytest.fixture(scope="module")
def loaded(feeds: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A store per layout holding the clean feeds."""
    out = {}
    for fmt, directory in feeds.items():
        store = tmp_path_factory.mktemp(f"loaded_{fmt}") / "store.duckdb"
        result = ingest(directory, store, KEY)
        assert result.outcome == "loaded", result.file_issues
        out[fmt] = store
    return out


def poison_internal(source: Path, target: Path, share: float) -> list[str]:
    """The spells with ``spell_id`` set to the NHS number in ``share`` of the rows."""
    table = pq.read_table(source)
    n = max(1, math.ceil(share * table.num_rows))
    ids = table.column("spell_id").to_pylist()
    nhs = table.column("nhs_number").to_pylist()
    every = table.num_rows / n
    rows = sorted({int(i * every) for i in range(n)})
    for r in rows:
        ids[r] = nhs[r]
    i = table.column_names.index("spell_id")
    pq.write_table(table.set_column(i, "spell_id", pa.array(ids, pa.string())), target)
    return sorted({nhs[r] for r in rows})


def poison_national(source: Path, target: Path, share: float) -> list[str]:
    """The episodes with ``susspellid`` set to the NHS number for ``share`` of the spells
    (every episode of a chosen spell; at most one spell per person)."""
    with open(source, newline="") as fh:
        rows = list(csv.DictReader(fh))
    spells: dict[str, str] = {}
    for r in rows:
        spells.setdefault(r["susspellid"], r["newnhsno"])
    n = max(1, math.ceil(share * len(spells)))
    chosen: dict[str, str] = {}
    people: set[str] = set()
    for spell, nhs in spells.items():
        if len(chosen) == n:
            break
        if nhs not in people:
            chosen[spell] = nhs
            people.add(nhs)
    assert len(chosen) >= min(n, len(set(spells.values())))
    for r in rows:
        if r["susspellid"] in chosen:
            r["susspellid"] = chosen[r["susspellid"]]
    with open(target, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), quoting=csv.QUOTE_ALL)
        w.writeheader()
        w.writerows(rows)
    return sorted(chosen.values())


def poisoned_dir(
    feeds: Path, fmt: str, root: Path, share: float, *, first: bool
) -> tuple[Path, list[str]]:
    d = root / "in"
    d.mkdir()
    if first:
        for name in FIRST_LOAD[fmt]:
            shutil.copy(feeds / name, d / name)
    poison = poison_internal if fmt == "internal" else poison_national
    planted = poison(feeds / SPELLS[fmt], d / SPELLS[fmt], share)
    return d, planted


def assert_refused_and_nothing_raw(result, fmt: str, store: Path, planted: list[str]) -> None:
    spells = next(f for f in result.feeds if f.file == SPELLS[fmt])
    assert spells.status == "rejected"
    found = {(i.column, i.rule) for i in result.file_issues if i.file == SPELLS[fmt]}
    assert (FIELD[fmt], "identifier_in_column") in found, found
    assert tables_holding(store, planted) == {}
    assert files_holding(store.parent, planted) == {}


@pytest.mark.parametrize("fmt", ["internal", "national"])
@pytest.mark.parametrize("share", SHARES)
def test_first_load_refuses_nhs_numbers_in_the_spell_id(
    feeds: dict[str, Path], tmp_path: Path, fmt: str, share: float
) -> None:
    d, planted = poisoned_dir(feeds[fmt], fmt, tmp_path, share, first=True)
    store = tmp_path / "store" / "store.duckdb"
    result = ingest(d, store, KEY)
    assert result.outcome == "rejected"
    assert_refused_and_nothing_raw(result, fmt, store, planted)


@pytest.mark.parametrize("fmt", ["internal", "national"])
@pytest.mark.parametrize("share", SHARES)
def test_reload_refuses_nhs_numbers_in_the_spell_id(
    feeds: dict[str, Path], loaded: dict[str, Path], tmp_path: Path, fmt: str, share: float
) -> None:
    store = tmp_path / "store" / "store.duckdb"
    store.parent.mkdir()
    shutil.copy(loaded[fmt], store)
    d, planted = poisoned_dir(feeds[fmt], fmt, tmp_path, share, first=False)
    result = ingest(d, store, KEY)
    assert result.outcome == "rejected"
    assert_refused_and_nothing_raw(result, fmt, store, planted)
