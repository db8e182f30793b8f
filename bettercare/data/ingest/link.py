"""Social care linkage: on the pseudonym, else probabilistic, with clerical review.

Deterministic on the pseudonym, else probabilistic (:mod:`bettercare.data.linkage`),
with clerical review of the uncertain pairs. Scoring links against the
synthetic generator's truth is not the ingest's job: :mod:`bettercare.data.synth.truth`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from bettercare.data import link_review, linkage
from bettercare.data.ingest.read import ROW
from bettercare.data.ingest.store import arrow, lend_memory


def _row(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[Any, ...]:
    """The single row of ``sql``, the connection left ready for more work."""
    row = con.execute(sql).fetchone()
    con.complete()
    assert row is not None  # an aggregate or UPDATE always returns one row
    return tuple(row)


def charts_directory(store: Path) -> Path:
    """Where a load writes Splink's linkage charts: ``<store>.linkage/`` (mode 0700)."""
    return store.with_name(store.name + ".linkage")


def _record_key_sql() -> str:
    """A keyed pseudonym of a record's standardised identity (ASCII by construction).

    The same client identity gets the same key in every load, so a reviewer's decision
    on (record identity, resident) applies again; it cannot be reversed without the key.
    """
    std = linkage.standardise_sql()
    parts = " || '|' || ".join(
        f"coalesce({std[c]}, '')" for c in ("given_name", "family_name", "dob_text", "postcode")
    )
    return f"bc_pseudonym('linkage-record|' || {parts})"


def _pair_id_sql(record_key: str, person_id: str) -> str:
    return f"substr(sha256({record_key} || '|' || {person_id}), 1, 16)"


def link_social_care(
    con: duckdb.DuckDBPyConnection,
    ok: str,
    *,
    has_identities: bool,
    threshold: float,
    directory: Path,
    key: bytes,
    temp_directory: Path,
    run_id: str = "",
    memory_limit: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, float]:
    """Link the social care rows of the TEMP table ``ok`` to people.

    On the pseudonym where the NHS number is valid, else probabilistically (Splink)
    against the TEMP ``identities``, with the reviewer's decisions
    (``linkage_decisions``) re-applied: a rejected pair is never linked, an accepted one
    always (``link_method = 'clerical_review'``). Pairs between the thresholds replace
    the store's ``linkage_review`` list; Splink's charts go to :func:`charts_directory`.
    Returns the linkage figures (written to ``linkage_report`` once the file is
    accepted).
    """
    con.execute(f"ALTER TABLE {ok} ADD COLUMN link_method VARCHAR")
    con.execute(f"ALTER TABLE {ok} ADD COLUMN match_probability DOUBLE")
    con.execute(
        f"UPDATE {ok} SET link_method = 'nhs_number', match_probability = 1.0 "
        "WHERE person_id IS NOT NULL"
    )
    link_review.create_tables(con)
    stats: dict[str, float] = {}
    total, det = _row(con, f"SELECT count(*), count(person_id) FROM {ok}")
    stats["records"] = total
    stats["linked_nhs_number"] = det
    stats["needing_probabilistic"] = total - det
    stats["linked_probabilistic"] = 0
    stats["linked_clerical_review"] = 0
    if total > det:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE link_records AS SELECT record_id, service_id, "
            f"{_record_key_sql()} AS record_key FROM (SELECT {ROW} AS record_id, service_id, "
            "given_name, family_name, date_of_birth__t AS date_of_birth, postcode "
            f"FROM {ok} WHERE person_id IS NULL)"
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE link_decided AS SELECT r.record_id, d.person_id, "
            "d.decision FROM link_records r JOIN linkage_decisions d "
            f"ON d.pair_id = {_pair_id_sql('r.record_key', 'd.person_id')}"
        )
    if has_identities and total > det:
        records = arrow(
            con,
            f"SELECT {ROW} AS record_id, given_name, family_name, "
            f"date_of_birth__t AS date_of_birth, postcode FROM {ok} "
            "WHERE person_id IS NULL",
        )
        people = arrow(con, "SELECT * FROM identities")
        rejected = arrow(
            con, "SELECT record_id, person_id FROM link_decided WHERE decision = 'reject'"
        )
        thresholds = linkage.Thresholds(min(linkage.DEFAULT_THRESHOLDS.lower, threshold), threshold)
        with lend_memory(con, memory_limit) as linkage_memory:
            res = linkage.probabilistic_link(
                records,
                people,
                thresholds,
                temp_directory=temp_directory / "linkage",
                rejected=rejected,
                charts=True,
                memory_limit=linkage_memory,
                progress=progress,
            )
            del people, records
        con.complete()
        con.register("prob_links", res.links)
        con.execute(
            f"UPDATE {ok} SET person_id = p.person_id, link_method = 'probabilistic', "
            f"match_probability = p.match_probability FROM prob_links p "
            f"WHERE {ok}.{ROW} = p.record_id"
        )
        con.complete()
        con.unregister("prob_links")
        _replace_review(con, res.review, run_id)
        _write_charts(res.charts, temp_directory)
        stats["linked_probabilistic"] = res.links.num_rows
        stats["candidate_pairs"] = res.candidate_pairs
        stats["linkage_seconds"] = res.seconds
        stats["linkage_cpu_seconds"] = sum(res.stage_cpu_seconds.values())
        stats["model_trained"] = float(res.trained)
        stats["model_em"] = float(res.em)
        stats["comparisons_left_out"] = float(sum("left out" in note for note in res.notes))
        stats["postcodes_not_uk_shaped"] = res.postcodes_not_uk_shaped
        stats["estimated_precision"] = res.estimated_precision
        stats["estimated_recall"] = res.estimated_recall
    if total > det:
        # accepted pairs always link (whatever the model says now)
        (n_accepted,) = _row(
            con,
            f"""UPDATE {ok} SET person_id = d.person_id, link_method = 'clerical_review',
                  match_probability = 1.0
                FROM link_decided d
                WHERE {ok}.{ROW} = d.record_id AND d.decision = 'accept'""",
        )
        stats["linked_clerical_review"] = n_accepted
        (stats["linked_probabilistic"],) = _row(
            con, f"SELECT count(*) FROM {ok} WHERE link_method = 'probabilistic'"
        )
        (stats["review_pairs"],) = _row(con, "SELECT count(*) FROM linkage_review")
    linked = stats["linked_probabilistic"] + stats["linked_clerical_review"]
    stats["unlinked"] = total - det - linked
    stats["match_rate"] = (det + linked) / total if total else 0.0
    stats["identities_available"] = float(has_identities)
    return stats


def _replace_review(con: duckdb.DuckDBPyConnection, review: pa.Table, run_id: str) -> None:
    """Replace the pending review list with this load's pairs between the thresholds.

    One row per record identity and resident; decided pairs are not listed again.
    """
    con.register("review_now", review)
    con.execute("DELETE FROM linkage_review")
    con.execute(
        f"""INSERT INTO linkage_review
            SELECT {_pair_id_sql("r.record_key", "v.person_id")} AS pair_id, ?, v.person_id,
                   min(r.service_id), count(*), max(v.match_probability),
                   max(v.match_weight), any_value(v.given_name), any_value(v.family_name),
                   any_value(v.date_of_birth), any_value(v.postcode)
            FROM review_now v JOIN link_records r USING (record_id)
            WHERE {_pair_id_sql("r.record_key", "v.person_id")} NOT IN
                  (SELECT pair_id FROM linkage_decisions)
            GROUP BY ALL""",
        [run_id],
    )
    con.complete()
    con.unregister("review_now")


def _write_charts(charts: dict[str, str], temp_directory: Path) -> None:
    """Write Splink's charts as ``<store>.linkage/<name>.html``.

    Directory mode 0700, files 0600: the waterfall holds match weights only, but the
    model is the store's.
    """
    if not charts:
        return
    # the run's temp directory is <store>.tmp (ingest.store.temp_directory)
    store = temp_directory.with_name(temp_directory.name.removesuffix(".tmp"))
    out = charts_directory(store)
    out.mkdir(mode=0o700, exist_ok=True)
    os.chmod(out, 0o700)
    for name, html in charts.items():
        path = out / f"{name}.html"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(html)


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
