"""Probabilistic linkage on Spark: the DuckDB linkage's model through Splink's SparkAPI.

The same model as :func:`bettercare.data.linkage.probabilistic_link`, from the same
definitions: the standardisation (``standardise_sql``, transpiled), the capped
blocking keys (``capped_keys_sql``, transpiled), the comparisons, priors, blocking rules
and settings (``_settings``), u from random resident pairs shrunk to the priors
(``_estimate_u``), EM on the records' candidate residents (``_em_trainer``, ``_em``,
``_shrunk_m``), and the decisions (``scored_sql``, ``linked_sql``, ``review_sql``,
``ESTIMATES_SQL``). Only the engine differs: Splink generates Spark SQL, and
Jaro-Winkler and Damerau-Levenshtein are Splink's Scala functions (its jar,
:mod:`.session`).

Where the two may differ: EM's record sample above ``EM_MAX_RECORDS`` records (Spark's
``sample`` is not DuckDB's reservoir sample) and u's pair sample above ``U_MAX_PAIRS``
pairs (Splink samples with each engine's random function); below both bounds every
record and every pair is used, and the links are equal (the test in
``tests/pipelines/test_spark_ingest.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bettercare.data import linkage as lk
from bettercare.data.spark_ingest.sql import run, to_spark


@dataclass
class SparkLinkResult:
    """Links (record_id, person_id, match_probability) and review pairs as DataFrames."""

    links: Any
    review: Any
    candidate_pairs: int = 0
    trained: bool = False
    em: bool = False
    notes: list[str] = field(default_factory=list)
    estimated_precision: float = float("nan")
    estimated_recall: float = float("nan")
    postcodes_not_uk_shaped: int = 0


def _informative(spark: Any, em_planned: bool) -> tuple[tuple[str, ...], list[str]]:
    """As :func:`bettercare.data.linkage._informative`, on the views ``rec`` and ``ide``."""
    used: list[str] = []
    notes: list[str] = []
    for col in lk.COMPARISONS:
        n_rec = spark.sql(f"SELECT count({col}) FROM rec").first()[0]
        n_ide, distinct = spark.sql(f"SELECT count({col}), count(DISTINCT {col}) FROM ide").first()
        if n_rec == 0 or n_ide == 0:
            side = "the records" if n_rec == 0 else "the residents"
            notes.append(f"{col}: no values in {side}; comparison left out")
        elif distinct < 2:
            notes.append(f"{col}: one value for all residents; comparison left out")
        elif em_planned and not spark.sql(f"SELECT 1 FROM rec JOIN ide USING ({col}) LIMIT 1").take(
            1
        ):
            notes.append(f"{col}: never agrees between a record and a resident; left out")
        else:
            used.append(col)
    return tuple(used), notes


def probabilistic_link(
    spark: Any,
    records: Any,
    identities: Any,
    thresholds: lk.Thresholds,
    *,
    seed: int = 42,
    progress: Callable[[str], None] | None = None,
) -> SparkLinkResult:
    """Link ``records`` (record_id + identity columns) to ``identities`` (person_id + ...).

    Both are Spark DataFrames; so are the result's links and review pairs.
    """
    from splink import Linker, SparkAPI

    def stage(name: str) -> None:
        if progress is not None:
            progress(name)

    empty = spark.createDataFrame(
        [], "record_id BIGINT, person_id STRING, match_probability DOUBLE"
    )
    n_records, n = records.count(), identities.count()
    if n_records == 0 or n == 0:
        return SparkLinkResult(empty, empty)
    stage("prepare")
    records.localCheckpoint().createOrReplaceTempView("records_raw")
    identities.localCheckpoint().createOrReplaceTempView("identities_raw")
    std = lk.standardise_sql()
    cols = ", ".join(f"{to_spark(expr)} AS {name}" for name, expr in std.items())
    run(
        spark,
        f"CREATE TABLE rec0 AS SELECT 'r' || CAST(record_id AS VARCHAR) AS unique_id, {cols} "
        "FROM records_raw",
    )
    run(spark, f"CREATE TABLE ide0 AS SELECT person_id AS unique_id, {cols} FROM identities_raw")
    rec, ide = lk.capped_keys_sql("rec0", "ide0")
    run(spark, f"CREATE TABLE rec AS {rec}")
    run(spark, f"CREATE TABLE ide AS {ide}")
    not_uk = run(spark, f"SELECT count(*) FROM records_raw WHERE {lk.not_uk_shaped_sql()}").first()[
        0
    ]
    notes: list[str] = []
    if not_uk:
        notes.append(
            f"{not_uk} record(s) with a postcode that is not UK-shaped: compared without a postcode"
        )
    spark.createDataFrame([], "record_id BIGINT, person_id STRING").createOrReplaceTempView(
        "rejected_pairs"
    )
    em_planned = n_records >= lk.MIN_RECORDS_FOR_EM
    used, skipped = _informative(spark, em_planned)
    notes.extend(skipped)
    if not used:
        notes.append("no comparison carries information: nothing linked")
        return SparkLinkResult(empty, empty, notes=notes, postcodes_not_uk_shaped=int(not_uk))
    db_api = SparkAPI(spark_session=spark, break_lineage_method="persist")
    u: dict[str, list[float]] | None = None
    m: dict[str, list[float]] | None = None
    did_em = False
    with lk._quiet_splink():
        stage("estimate u")
        if n >= 2:
            try:
                u = lk._estimate_u(db_api, n, used, seed, True)
            except Exception as exc:
                notes.append(f"u estimation skipped: {str(exc).splitlines()[0][:200]}")
        stage("EM")
        if em_planned:
            n_em = min(n_records, lk.EM_MAX_RECORDS)
            sample = spark.table("rec")
            if n_em < n_records:  # a seeded sample (not DuckDB's reservoir sample)
                sample = sample.sample(fraction=min(1.0, 1.2 * n_em / n_records), seed=seed)
                sample = sample.orderBy("unique_id").limit(n_em)
            sample.cache().createOrReplaceTempView("rec_em")
            trainer = lk._em_trainer(db_api, lambda sql: run(spark, sql), n, used, u, True)
            did_em = lk._em(trainer, used, notes)
            if did_em:
                m = lk._shrunk_m(trainer, n_em)
        stage("score pairs")
        linker = Linker(
            [
                db_api.register("rec", dataset_display_name="records"),
                db_api.register("ide", dataset_display_name="identities"),
            ],
            lk._settings(n, used, u, m=m),
            log_level=logging.ERROR,
        )
        pred = linker.inference.predict(threshold_match_probability=0.01)
    stage("decide")
    pairs = spark.sql(f"SELECT count(*) FROM {pred.physical_name}").first()[0]
    run(spark, f"CREATE TABLE scored AS {lk.scored_sql(pred.physical_name, used)}")
    links = run(spark, f"CREATE TABLE linked AS {lk.linked_sql(thresholds)}")
    review = run(spark, lk.review_sql(thresholds))
    precision, recall = run(spark, lk.ESTIMATES_SQL).first()
    return SparkLinkResult(
        links,
        review,
        int(pairs),
        u is not None,
        did_em,
        notes,
        float("nan") if precision is None else float(precision),
        float("nan") if recall is None else float(recall),
        int(not_uk),
    )
