"""Probabilistic linkage on a small hand-built case."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest
from conftest import KEY, NHS, table_rows

from bettercare.data import pseudonymise
from bettercare.data.ingest import ingest
from bettercare.data.linkage import probabilistic_link

#: end to end (real ingests, DuckDB stores, Splink, synthetic populations): seconds each
pytestmark = pytest.mark.slow

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
    # Mary is never linked to her household member John; in a population of four, with
    # "Smith" three times in seven names, the margin over John is short of 99:1 -> review
    assert links.get(12, {"person_id": "p3"})["person_id"] == "p3"
    review = result.review.to_pylist()
    assert next(r["person_id"] for r in review if r["record_id"] == 12) == "p3"
    assert {r["record_id"] for r in review} >= {11}  # no name agrees: review, never a link


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


# --- robust model, clerical review ----------------------------------------


def _population(n: int, seed: int = 7) -> pa.Table:
    """``n`` synthetic residents with distinct identities (names from the generator's
    lists, dates of birth 1920-1960, Leeds postcodes)."""
    import numpy as np

    from bettercare.data.synth import names

    rng = np.random.default_rng(seed)
    given = [names.FEMALE[i % len(names.FEMALE)] for i in rng.integers(0, 10**6, n)]
    family = [names.FAMILY[i % len(names.FAMILY)] for i in rng.integers(0, 10**6, n)]
    dob = [D(1920, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 14_600, n)]
    postcode = [
        f"LS{a} {b}A{c}"
        for a, b, c in zip(
            rng.integers(1, 30, n),
            rng.integers(1, 10, n),
            "ABDEFGHJLNPQRSTUWXYZ" * (n // 20 + 1),
            strict=False,
        )
    ]
    return pa.table(
        {
            "person_id": [f"p{i}" for i in range(n)],
            "given_name": given,
            "family_name": family,
            "date_of_birth": dob,
            "postcode": postcode,
        }
    )


def _records_from(people: pa.Table, n: int) -> pa.Table:
    """The first ``n`` residents as records (record_id = 1000 + index), one letter of the
    family name doubled."""
    sub = people.slice(0, n)
    return pa.table(
        {
            "record_id": [1000 + i for i in range(n)],
            "given_name": sub.column("given_name"),
            "family_name": [f + f[-1] for f in sub.column("family_name").to_pylist()],
            "date_of_birth": sub.column("date_of_birth"),
            "postcode": sub.column("postcode"),
        }
    )


def test_em_leaves_out_an_empty_or_constant_comparison_and_says_so() -> None:
    from bettercare.data.linkage import MIN_RECORDS_FOR_EM

    people = _population(400)
    records = _records_from(people, MIN_RECORDS_FOR_EM + 50)
    no_postcode = records.set_column(
        4, "postcode", pa.array([None] * records.num_rows, pa.string())
    )
    result = probabilistic_link(no_postcode, people, em=True)  # must not raise
    assert "postcode: no values in the records; comparison left out" in result.notes
    assert result.em and result.links.num_rows >= 0.95 * records.num_rows
    assert set(result.review.column("postcode").to_pylist()) <= {"not used"}

    constant = people.set_column(4, "postcode", pa.array(["LS1 1AA"] * people.num_rows))
    result = probabilistic_link(records, constant, em=True)
    assert "postcode: one value for all residents; comparison left out" in result.notes
    assert result.links.num_rows >= 0.95 * records.num_rows


def test_prior_follows_the_population_size_without_a_floor() -> None:
    from bettercare.data.linkage import _settings

    for n in (4, 20_000, 1_000_000):
        settings = _settings(n, ("given_name", "family_name"))
        assert settings.probability_two_random_records_match == 1 / n


def test_swapped_names_link() -> None:
    records = pa.table(
        {
            "record_id": [1],
            "given_name": ["Khan"],
            "family_name": ["Ahmed"],
            "date_of_birth": [D(1960, 5, 5)],
            "postcode": ["B1 1BB"],
        }
    )
    result = probabilistic_link(records, IDENTITIES)
    assert result.links.to_pylist()[0]["person_id"] == "p4"


def test_missing_date_of_birth_still_blocked_and_linked() -> None:
    records = pa.table(
        {
            "record_id": [1, 2],
            "given_name": ["Margaret", "Ahmed"],
            "family_name": ["Thompson", "Khan"],
            "date_of_birth": pa.array([None, None], pa.date32()),
            "postcode": ["LS1 4AB", None],  # record 2: no postcode either
        }
    )
    result = probabilistic_link(records, IDENTITIES)
    links = {r["record_id"]: r["person_id"] for r in result.links.to_pylist()}
    assert links[1] == "p1"
    candidates = links | {r["record_id"]: r["person_id"] for r in result.review.to_pylist()}
    assert candidates[2] == "p4"  # blocked on family name + given initial


def test_non_uk_postcode_is_reported_not_silently_dropped() -> None:
    records = pa.table(
        {
            "record_id": [1, 2],
            "given_name": ["Margaret", "Olive"],
            "family_name": ["Thompson", "Green"],
            "date_of_birth": [D(1940, 3, 12), D(1935, 7, 30)],
            "postcode": ["D02 X285", "ls1 4ab"],
        }
    )
    result = probabilistic_link(records, IDENTITIES)
    assert result.postcodes_not_uk_shaped == 1
    assert any("not UK-shaped" in note for note in result.notes)


def test_non_uk_postcode_is_an_ingest_finding(feed_dir: Path, store: Path) -> None:
    from conftest import social_care_rows, write_csv

    from bettercare.data.schema import FEEDS

    rows = social_care_rows()
    rows[1][5] = "NFA"  # C2 (Olive Green, no NHS number): no fixed abode
    write_csv(
        feed_dir / "social_care_services.csv", FEEDS["social_care_services"].column_names, rows
    )
    result = ingest(feed_dir, store, KEY.encode())
    assert result.issue_counts[("social_care_services.csv", "pattern", "warning")] == 1
    assert result.linkage["postcodes_not_uk_shaped"] == 1
    assert result.linkage["linked_probabilistic"] == 1  # still linked, on the rest


def _review_feed(feed_dir: Path) -> None:
    """Social care with one record (C8, no NHS number) that has the birthday and postcode
    of John and Mary Smith but neither name: never linked by the model, only reviewed."""
    from conftest import social_care_rows, write_csv

    from bettercare.data.schema import FEEDS

    rows = social_care_rows()[:1]
    rows.append(["C8", "", "Peter", "Jones", "1950-01-01", "M1 1AA", *rows[0][6:]])
    write_csv(
        feed_dir / "social_care_services.csv", FEEDS["social_care_services"].column_names, rows
    )


def test_review_list_round_trips_decisions(feed_dir: Path, store: Path, key_env: bytes) -> None:
    from typer.testing import CliRunner

    from bettercare.cli.main import app
    from bettercare.data import link_review

    _review_feed(feed_dir)
    first = ingest(feed_dir, store, KEY.encode())
    assert first.linkage["linked_probabilistic"] == 0
    pending = link_review.review_list(store)
    by_person = {r["person_id"]: r["pair_id"] for r in pending}
    john, mary = (pseudonymise.pseudonym(KEY.encode(), NHS[i]) for i in (1, 2))
    assert set(by_person) == {john, mary}
    assert all(r["service_id"] == "C8" for r in pending)
    assert {r["given_name"] for r in pending} == {"different"}

    runner = CliRunner(env={"COLUMNS": "250"})
    listed = runner.invoke(
        app, ["link", "review", "list", "--store", str(store)], env={"COLUMNS": "240"}
    )
    assert listed.exit_code == 0 and by_person[john] in listed.output
    ok = runner.invoke(app, ["link", "review", "reject", by_person[john], "--store", str(store)])
    assert ok.exit_code == 0, ok.output
    decisions = feed_dir.parent / "decisions.csv"
    decisions.write_text(f"pair_id,decision\n{by_person[mary]},accept\n")
    ok = runner.invoke(
        app, ["link", "review", "accept", "--decisions", str(decisions), "--store", str(store)]
    )
    assert ok.exit_code == 0, ok.output
    assert link_review.review_list(store) == []

    again = ingest(feed_dir, store, KEY.encode())  # the decisions are re-applied
    assert again.linkage["linked_clerical_review"] == 1
    rows = {r[1]: r for r in table_rows(store, "social_care_services")}
    assert rows["C8"][0] == mary and rows["C8"][-2:] == ("clerical_review", 1.0)
    assert link_review.review_list(store) == []  # decided pairs are not listed again
    assert sorted(d for _, _, d in link_review.decision_list(store)) == ["accept", "reject"]


def test_rejected_pairs_are_never_linked_again(feed_dir: Path, store: Path) -> None:
    from bettercare.data import link_review

    _review_feed(feed_dir)
    ingest(feed_dir, store, KEY.encode())
    pairs = [link_review.Decision(r["pair_id"], "reject") for r in link_review.review_list(store)]
    assert link_review.decide(store, KEY.encode(), pairs) == 2
    again = ingest(feed_dir, store, KEY.encode())
    rows = {r[1]: r for r in table_rows(store, "social_care_services")}
    assert rows["C8"][0] is None and again.linkage["review_pairs"] == 0


def test_review_decisions_need_the_store_key_and_a_listed_pair(feed_dir: Path, store: Path) -> None:
    import pytest

    from bettercare.data import link_review

    _review_feed(feed_dir)
    ingest(feed_dir, store, KEY.encode())
    pair = link_review.review_list(store)[0]["pair_id"]
    with pytest.raises(link_review.ReviewError, match="not this store's"):
        link_review.decide(
            store, b"another-key-0123456789abcdef0123456789", [link_review.Decision(pair, "accept")]
        )
    with pytest.raises(link_review.ReviewError, match="not on the review list"):
        link_review.decide(store, KEY.encode(), [link_review.Decision("feedfeed", "accept")])
    bad = feed_dir.parent / "bad.csv"
    bad.write_text(f"pair_id,decision\n{pair},maybe\n")
    with pytest.raises(link_review.ReviewError, match=r"bad.csv row 2: decision 'maybe'"):
        link_review.read_decisions_csv(bad)
    assert link_review.decision_list(store) == []  # nothing half-written


def test_no_raw_identifiers_in_review_output_or_charts(
    feed_dir: Path, store: Path, key_env: bytes
) -> None:
    import re

    from typer.testing import CliRunner

    from bettercare.cli.main import app
    from bettercare.data.ingest.link import charts_directory

    _review_feed(feed_dir)
    ingest(feed_dir, store, KEY.encode())
    listed = CliRunner(env={"COLUMNS": "250"}).invoke(
        app, ["link", "review", "list", "--store", str(store)]
    )
    assert "Linkage review (2 pairs)" in listed.output
    review_rows = table_rows(store, "linkage_review")
    charts = charts_directory(store)
    assert {p.name for p in charts.iterdir()} >= {
        "match_weights.html",
        "m_u_parameters.html",
        "waterfall.html",
        "threshold_selection.html",
    }
    texts = [listed.output, repr(review_rows)] + [
        p.read_text(encoding="utf-8") for p in charts.iterdir()
    ]
    raw = [r"\bpeter\b", r"\bjones\b", r"\bsmith\b", r"1950-01-01", r"m1 ?1aa", *NHS]
    for text in texts:
        for pattern in raw:
            assert not re.search(pattern, text, re.IGNORECASE), pattern
