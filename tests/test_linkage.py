"""Probabilistic linkage on a small hand-built case."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
from conftest import KEY, NHS, table_rows

from bettercare.data import pseudonymise
from bettercare.data.ingest import ingest
from bettercare.data.linkage import probabilistic_link

D = dt.date

IDENTITIES = pa.table(
    {
        "person_id": ["p1", "p2", "p3", "p4"],
        "given_name": ["Margaret", "John", "Mary", "Ahmed"],
        "family_name": ["Thompson", "Smith", "Smith", "Khan"],
        "date_of_birth": [D(1940, 3, 12), D(1950, 1, 1), D(1950, 1, 1), D(1960, 5, 5)],
        "postcode": ["LS1 4AB", "M1 1AA", "M1 1AA", "B1 1BB"],
    }
)


def test_noisy_record_links_and_a_different_person_does_not() -> None:
    records = pa.table(
        {
            "record_id": [10, 11, 12],
            # typo in both names, day/month digits swapped, postcode without space, lower case
            "given_name": ["Margret", "Peter", "MARY "],
            "family_name": ["Thomson", "Jones", "smith"],
            "date_of_birth": [D(1940, 3, 21), D(1950, 1, 1), D(1950, 1, 1)],
            "postcode": ["ls14ab", "M1 1AA", "M11AA"],
        }
    )
    result = probabilistic_link(records, IDENTITIES)
    links = {r["record_id"]: r for r in result.links.to_pylist()}
    assert links[10]["person_id"] == "p1"
    assert links[10]["match_probability"] >= 0.95
    assert 11 not in links  # same birthday and postcode as John Smith, but another person
    assert links[12]["person_id"] == "p3"  # Mary, not her household member John
    assert not result.trained  # priors only on a case this small


def test_empty_inputs() -> None:
    empty = IDENTITIES.slice(0, 0).select(
        ["given_name", "family_name", "date_of_birth", "postcode"]
    )
    records = empty.add_column(0, "record_id", pa.array([], pa.int64()))
    assert probabilistic_link(records, IDENTITIES).links.num_rows == 0


def test_ingest_links_social_care(feed_dir: Path, store: Path) -> None:
    result = ingest(feed_dir, store, KEY.encode())
    rows = {r[1]: r for r in table_rows(store, "social_care_services")}
    assert rows["C1"][-2:] == ("nhs_number", 1.0)
    assert rows["C2"][0] == pseudonymise.pseudonym(KEY.encode(), NHS[4])  # Olive Green
    assert rows["C2"][-2] == "probabilistic"
    assert rows["C3"][0] is None and rows["C3"][-2] is None
    assert result.linkage["linked_probabilistic"] == 1
    assert result.linkage["match_rate"] == 2 / 3


def test_truth_metrics_when_truth_file_present(feed_dir: Path, store: Path) -> None:
    import pyarrow.parquet as pq

    from bettercare.data.synth.truth import store_linkage_quality

    (feed_dir / "_truth").mkdir()
    pq.write_table(
        pa.table({"service_id": ["C1", "C2", "C3"], "nhs_number": [NHS[0], NHS[4], "9990000107"]}),
        feed_dir / "_truth" / "social_care_person.parquet",
    )
    linkage = ingest(feed_dir, store, KEY.encode()).linkage
    assert not any(k.startswith("truth") for k in linkage)  # the ingest never reads _truth/
    stats = store_linkage_quality(store, feed_dir, KEY.encode())
    assert stats["truth_precision"] == 1.0
    assert stats["truth_recall"] == 1.0  # C3's person is not a resident: not a miss
    assert stats["truth_true_positives"] == 1


def test_identity_file_links_a_later_social_care_extract(
    tmp_path: Path, feed_dir: Path, store: Path
) -> None:
    import os
    import stat

    from conftest import social_care_rows, write_csv

    from bettercare.data.schema import FEEDS

    id_file = tmp_path / "restricted" / "identities.duckdb"
    ingest(feed_dir, store, KEY.encode(), identity_file=id_file)
    assert stat.S_IMODE(os.stat(id_file).st_mode) == 0o600
    # next month: social care only, no residents feed in the run
    later = tmp_path / "may"
    later.mkdir()
    rows = social_care_rows()[1:2]
    rows[0][0], rows[0][8], rows[0][9] = "C7", "2024-06-02", ""
    write_csv(later / "social_care_services.csv", FEEDS["social_care_services"].column_names, rows)
    without = ingest(later, tmp_path / "other" / "s.duckdb", KEY.encode(), no_opt_outs=True)
    assert without.linkage["linked_probabilistic"] == 0
    result = ingest(later, store, KEY.encode(), identity_file=id_file)
    assert result.linkage["linked_probabilistic"] == 1
    linked = {r[1]: r[0] for r in table_rows(store, "social_care_services")}
    assert linked["C7"] == pseudonymise.pseudonym(KEY.encode(), NHS[4])
