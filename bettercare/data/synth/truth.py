"""How well the store's social care links match the synthetic generator's truth.

The generator writes ``_truth/social_care_person.parquet`` (each social care row's true
NHS number) beside the feeds. This module owns scoring links against it: precision and
recall of the probabilistic (and clerically reviewed) links, and deterministic links to
the wrong person. Synthetic data only: the production ingest never reads ``_truth/``.
Used by the tests and ``benchmarks/``; it does not link anything itself
(:mod:`bettercare.data.ingest.link`).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from bettercare.data import duck, pseudonymise

#: The truth file under a generator output directory.
TRUTH_FILE = Path("_truth") / "social_care_person.parquet"


def read_truth(feeds: Path) -> pa.Table:
    """``service_id`` and the true ``nhs_number`` of each generated social care row."""
    return pq.read_table(Path(feeds) / TRUTH_FILE, columns=["service_id", "nhs_number"])


def precision_recall(true_links: int, links: int, findable: int) -> tuple[float, float]:
    """Precision and recall of links against the truth.

    Precision = correct links / links; recall = correct links / records whose true
    person was there to be found (1.0 when nothing was linked or nothing findable).
    """
    return (
        true_links / links if links else 1.0,
        true_links / findable if findable else 1.0,
    )


def store_linkage_quality(store: Path, feeds: Path, key: bytes) -> dict[str, float]:
    """Score the store's ``social_care_services`` links against the truth in ``feeds``.

    A true person is findable when they are among the store's residents. Links other
    than on the NHS number (``probabilistic``, ``clerical_review``) are scored; links on
    the NHS number should never be wrong (``truth_nhs_number_links_wrong``). Rows the
    ingest did not load (quarantined, opted out) are not scored. ``key`` is the store's
    pseudonymisation key (the truth holds NHS numbers).
    """
    truth = read_truth(feeds)
    pids = pseudonymise.pseudonym_array(key, truth.column("nhs_number").cast(pa.string()))
    con = duck.connect(store, read_only=True)
    try:
        con.register(
            "truth",
            pa.table({"service_id": truth.column("service_id"), "true_person_id": pids}),
        )
        row = con.execute(
            """SELECT
              count(*) FILTER (WHERE link_method <> 'nhs_number'
                               AND s.person_id = t.true_person_id),
              count(*) FILTER (WHERE link_method <> 'nhs_number'),
              count(*) FILTER (WHERE t.true_person_id IN (SELECT person_id FROM residents)
                               AND link_method IS DISTINCT FROM 'nhs_number'),
              count(*) FILTER (WHERE link_method = 'nhs_number'
                               AND s.person_id IS DISTINCT FROM t.true_person_id)
            FROM social_care_services s JOIN truth t USING (service_id)"""
        ).fetchone()
    finally:
        con.close()
    tp, links, findable, nhs_wrong = row if row is not None else (0, 0, 0, 0)
    precision, recall = precision_recall(tp, links, findable)
    return {
        "truth_true_positives": tp,
        "truth_false_positives": links - tp,
        "truth_false_negatives": findable - tp,
        "truth_precision": precision,
        "truth_recall": recall,
        "truth_nhs_number_links_wrong": nhs_wrong,
    }
