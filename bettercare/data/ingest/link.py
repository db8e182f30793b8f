"""Social care linkage: on the pseudonym, else probabilistic; quality against truth.

Deterministic on the pseudonym, else probabilistic (:mod:`bettercare.data.linkage`);
quality against the generator's truth file.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from bettercare.data import duck, linkage, pseudonymise
from bettercare.data.ingest.read import ROW
from bettercare.data.ingest.store import arrow

TRUTH_FILE = Path("_truth") / "social_care_person.parquet"


def link_social_care(
    con: duckdb.DuckDBPyConnection,
    ok: str,
    *,
    has_identities: bool,
    threshold: float,
    directory: Path,
    key: bytes,
    temp_directory: Path,
) -> dict[str, float]:
    """Link the social care rows of the TEMP table ``ok`` to people.

    On the pseudonym where the NHS number is valid, else probabilistically (Splink)
    against the TEMP ``identities``. Returns the linkage figures (written to
    ``linkage_report`` once the file is accepted).
    """
    con.execute(f"ALTER TABLE {ok} ADD COLUMN link_method VARCHAR")
    con.execute(f"ALTER TABLE {ok} ADD COLUMN match_probability DOUBLE")
    con.execute(
        f"UPDATE {ok} SET link_method = 'nhs_number', match_probability = 1.0 "
        "WHERE person_id IS NOT NULL"
    )
    stats: dict[str, float] = {}
    total, det = duck.one(con, f"SELECT count(*), count(person_id) FROM {ok}")
    stats["records"] = total
    stats["linked_nhs_number"] = det
    stats["needing_probabilistic"] = total - det
    if has_identities and total > det:
        records = arrow(
            con,
            f"SELECT {ROW} AS record_id, given_name, family_name, "
            f"date_of_birth__t AS date_of_birth, postcode FROM {ok} "
            "WHERE person_id IS NULL",
        )
        people = arrow(con, "SELECT * FROM identities")
        res = linkage.probabilistic_link(
            records, people, threshold, temp_directory=temp_directory / "linkage"
        )
        con.complete()
        con.register("prob_links", res.links)
        con.execute(
            f"UPDATE {ok} SET person_id = p.person_id, link_method = 'probabilistic', "
            f"match_probability = p.match_probability FROM prob_links p "
            f"WHERE {ok}.{ROW} = p.record_id"
        )
        con.complete()
        con.unregister("prob_links")
        stats["linked_probabilistic"] = res.links.num_rows
        stats["candidate_pairs"] = res.candidate_pairs
        stats["linkage_seconds"] = res.seconds
        stats["model_trained"] = float(res.trained)
    else:
        stats["linked_probabilistic"] = 0
    stats["unlinked"] = total - det - stats["linked_probabilistic"]
    stats["match_rate"] = (det + stats["linked_probabilistic"]) / total if total else 0.0
    stats["identities_available"] = float(has_identities)
    stats.update(truth_metrics(con, ok, directory, key, has_identities))
    return stats


def truth_metrics(
    con: duckdb.DuckDBPyConnection, ok: str, directory: Path, key: bytes, has_identities: bool
) -> dict[str, float]:
    """Precision / recall of probabilistic links against the generator's truth file.

    Synthetic data only.
    """
    path = directory / TRUTH_FILE
    if not path.is_file():
        return {}
    truth = pq.read_table(path, columns=["service_id", "nhs_number"])
    pids = pseudonymise.pseudonym_array(key, truth.column("nhs_number").cast(pa.string()))
    con.complete()
    con.register(
        "truth", pa.table({"service_id": truth.column("service_id"), "true_person_id": pids})
    )
    known = "(SELECT person_id FROM identities)" if has_identities else "(SELECT NULL)"
    tp, fp, fn_, n_det_wrong = duck.one(
        con,
        f"""SELECT
          count(*) FILTER (WHERE link_method = 'probabilistic'
                           AND o.person_id = tr.true_person_id),
          count(*) FILTER (WHERE link_method = 'probabilistic'
                           AND o.person_id IS DISTINCT FROM tr.true_person_id),
          count(*) FILTER (WHERE (link_method IS NULL OR (link_method = 'probabilistic'
                           AND o.person_id IS DISTINCT FROM tr.true_person_id))
                           AND tr.true_person_id IN {known}),
          count(*) FILTER (WHERE link_method = 'nhs_number'
                           AND o.person_id IS DISTINCT FROM tr.true_person_id)
        FROM {ok} o JOIN truth tr ON o.service_id = tr.service_id""",
    )
    con.complete()
    con.unregister("truth")
    return {
        "truth_true_positives": tp,
        "truth_false_positives": fp,
        "truth_false_negatives": fn_,
        "truth_precision": tp / (tp + fp) if tp + fp else 1.0,
        "truth_recall": tp / (tp + fn_) if tp + fn_ else 1.0,
        "truth_nhs_number_links_wrong": n_det_wrong,
    }


def latest_linkage_report(store: Path) -> dict[str, float]:
    """The linkage metrics of the most recent run that loaded social care."""
    con = duckdb.connect(str(store), read_only=True)
    try:
        rows = con.execute(
            """SELECT metric, value FROM linkage_report WHERE run_id = (
                 SELECT run_id FROM ingest_log WHERE feed = 'social_care_services'
                 ORDER BY loaded_at DESC LIMIT 1)"""
        ).fetchall()
    except duckdb.CatalogException:
        return {}
    finally:
        con.close()
    return dict(rows)
