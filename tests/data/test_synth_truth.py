"""Scoring the store's social care links against the generator's truth (hand-worked)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bettercare.data.pseudonymise import pseudonym
from bettercare.data.synth.truth import TRUTH_FILE, precision_recall, store_linkage_quality

KEY = b"t" * 64
# residents A, B, C; D is not a resident (cannot be found)
A, B, C, D = "9434765919", "9434765870", "4010232137", "9990000018"


def _store(path: Path, links: list[tuple[str, str | None, str | None]]) -> Path:
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE residents (person_id VARCHAR)")
    con.executemany("INSERT INTO residents VALUES (?)", [[pseudonym(KEY, n)] for n in (A, B, C)])
    con.execute(
        "CREATE TABLE social_care_services (service_id VARCHAR, person_id VARCHAR, "
        "link_method VARCHAR)"
    )
    con.executemany("INSERT INTO social_care_services VALUES (?, ?, ?)", links)
    con.close()
    return path


def test_precision_and_recall_against_the_truth(tmp_path: Path) -> None:
    feeds = tmp_path / "feeds"
    (feeds / TRUTH_FILE).parent.mkdir(parents=True)
    truth = {"s1": A, "s2": B, "s3": C, "s4": A, "s5": D, "s6": B}
    pq.write_table(
        pa.table({"service_id": list(truth), "nhs_number": list(truth.values())}),
        feeds / TRUTH_FILE,
    )
    p = {n: pseudonym(KEY, n) for n in (A, B, C)}
    store = _store(
        tmp_path / "s.duckdb",
        [
            ("s1", p[A], "probabilistic"),  # right
            ("s2", p[C], "probabilistic"),  # wrong person
            ("s3", None, None),  # missed (C is a resident)
            ("s4", p[A], "clerical_review"),  # right
            ("s5", None, None),  # D is not a resident: not findable
            ("s6", p[B], "nhs_number"),  # deterministic, right
        ],
    )
    q = store_linkage_quality(store, feeds, KEY)
    # links 3 (s1, s2, s4), right 2; findable 4 (s1..s4): recall 2/4
    assert q["truth_true_positives"] == 2
    assert q["truth_false_positives"] == 1
    assert q["truth_false_negatives"] == 2
    assert q["truth_precision"] == pytest.approx(2 / 3)
    assert q["truth_recall"] == pytest.approx(0.5)
    assert q["truth_nhs_number_links_wrong"] == 0


def test_nothing_to_score_is_perfect() -> None:
    assert precision_recall(0, 0, 0) == (1.0, 1.0)
    assert precision_recall(3, 4, 6) == (0.75, 0.5)
