"""Social care linkage: deterministic on the pseudonym, else probabilistic
(:mod:`bettercare.data.linkage`). Scoring links against the synthetic generator's truth
is not the ingest's job: :mod:`bettercare.data.synth.truth`."""

from __future__ import annotations

from pathlib import Path

import duckdb

from bettercare.data import linkage
from bettercare.data.ingest.read import ROW
from bettercare.data.ingest.store import arrow


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
    """Link the social care rows of the TEMP table ``ok``: on the pseudonym where the NHS
    number is valid, else probabilistically (Splink) against the TEMP ``identities``.
    Returns the linkage figures (written to ``linkage_report`` once the file is
    accepted)."""
    con.execute(f"ALTER TABLE {ok} ADD COLUMN link_method VARCHAR")
    con.execute(f"ALTER TABLE {ok} ADD COLUMN match_probability DOUBLE")
    con.execute(
        f"UPDATE {ok} SET link_method = 'nhs_number', match_probability = 1.0 "
        "WHERE person_id IS NOT NULL"
    )
    stats: dict[str, float] = {}
    total, det = con.execute(f"SELECT count(*), count(person_id) FROM {ok}").fetchone()
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
    return stats


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
