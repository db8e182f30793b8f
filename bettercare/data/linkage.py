"""Linking social care records to people: deterministic, then probabilistic (Splink).

* A social care row with a valid NHS number links deterministically: its pseudonym is
  the ``person_id`` (``link_method = 'nhs_number'``, ``match_probability = 1``).
* A row with a missing or invalid NHS number is compared with the *identities* of the
  residents (pseudonym, given name, family name, date of birth, postcode) by a
  Fellegi-Sunter model in Splink on an in-memory DuckDB connection (transient: nothing
  of it reaches the store). Candidate pairs come from blocking rules on date of birth,
  on postcode, and on family-name prefix + birth year. Comparisons (no term-frequency
  adjustment): Jaro-Winkler on each name (exact, >= 0.92, >= 0.88, >= 0.7); date of
  birth (exact, one edit or adjacent swap, day/month swapped, within a month / year /
  ten years); postcode (full, sector, district, area).
* Parameters: documented priors (``_PRIORS``), so small runs behave predictably. With at
  least :data:`MIN_IDENTITIES_TO_TRAIN` residents the u probabilities are re-estimated
  by random sampling of resident pairs (``train_u``). m probabilities stay at the priors
  by default; ``em=True`` re-estimates them by expectation maximisation (blocked on date
  of birth, then on postcode) given :data:`MIN_RECORDS_FOR_EM` records. The prior
  probability that a record matches a given resident is ``1 / number of residents``
  (each record belongs to one resident), the number taken as at least
  :data:`MIN_POPULATION` so that a tiny extract does not make every candidate likely.
* The best candidate per record is accepted when ``match_probability >=``
  :data:`DEFAULT_THRESHOLD` (0.8, chosen on the synthetic truth: see
  ``benchmarks/linkage.py``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from bettercare.data import duck

DEFAULT_THRESHOLD = 0.8
MIN_IDENTITIES_TO_TRAIN = 10_000
MIN_RECORDS_FOR_EM = 1000
MIN_POPULATION = 50_000  # floor for the prior on small extracts (conservative)
IDENTITY_COLUMNS = ("given_name", "family_name", "date_of_birth", "postcode")

# m and u probabilities per comparison level, from the exact-match level down to "else".
_PRIORS = {
    # levels: exact, jw >= 0.92, jw >= 0.88, jw >= 0.7, else
    "given_name": ([0.87, 0.07, 0.03, 0.02, 0.01], [0.01, 0.002, 0.003, 0.02, 0.965]),
    "family_name": ([0.86, 0.07, 0.03, 0.02, 0.02], [0.002, 0.001, 0.002, 0.01, 0.985]),
    # levels: exact, one edit or adjacent swap of the text, day/month swapped, <= 1 month,
    # <= 1 year, <= 10 years, else
    "date_of_birth": (
        [0.88, 0.06, 0.02, 0.01, 0.01, 0.01, 0.01],
        [0.00004, 0.0005, 0.00004, 0.0027, 0.03, 0.25, 0.71672],
    ),
    # levels: exact, sector, district, area, else. A person who moved usually stays in
    # the same postcode area (an HWB is mostly one or two areas), hence m(area) > m(else).
    "postcode": ([0.75, 0.04, 0.05, 0.10, 0.06], [0.0001, 0.002, 0.02, 0.2, 0.7779]),
}


@dataclass
class ProbabilisticResult:
    links: pa.Table  # record_id, person_id, match_probability (best candidate >= threshold)
    candidate_pairs: int
    seconds: float
    trained: bool


def standardise_sql(alias: str = "") -> dict[str, str]:
    """DuckDB expressions that clean the identity columns before comparison."""
    p = f"{alias}." if alias else ""

    def name(col: str) -> str:
        cleaned = f"regexp_replace(lower(trim({p}{col})), '[^a-z]', '', 'g')"
        return f"nullif({cleaned}, '')"

    pc = f"regexp_replace(upper({p}postcode), '[^A-Z0-9]', '', 'g')"
    postcode = (
        f"CASE WHEN length({pc}) BETWEEN 5 AND 7 "
        f"THEN substr({pc}, 1, length({pc}) - 3) || ' ' || substr({pc}, -3) END"
    )
    return {
        "given_name": name("given_name"),
        "family_name": name("family_name"),
        "date_of_birth": f"{p}date_of_birth",
        "dob_text": f"strftime({p}date_of_birth, '%Y-%m-%d')",
        "postcode": postcode,
    }


def _dob_comparison():
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    swapped = (
        'year("date_of_birth_l") = year("date_of_birth_r") AND '
        'month("date_of_birth_l") = day("date_of_birth_r") AND '
        'day("date_of_birth_l") = month("date_of_birth_r")'
    )
    return cl.CustomComparison(
        output_column_name="date_of_birth",
        comparison_levels=[
            cll.NullLevel("date_of_birth"),
            cll.ExactMatchLevel("date_of_birth"),
            cll.DamerauLevenshteinLevel("dob_text", 1),
            cll.CustomLevel(swapped, "day and month swapped"),
            *[
                cll.AbsoluteDateDifferenceLevel(
                    "date_of_birth", input_is_string=False, threshold=n, metric=unit
                )
                for n, unit in ((1, "month"), (1, "year"), (10, "year"))
            ],
            cll.ElseLevel(),
        ],
    )


def _settings(
    n_identities: int, u: dict[str, list[float]] | None = None, link_type: str = "link_only"
):
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    def prior(name: str, comparison):
        m, u_prior = _PRIORS[name]
        # no term-frequency adjustment: predictable on small extracts, and the date of
        # birth separates people with common names
        return comparison.configure(
            m_probabilities=m,
            u_probabilities=(u or {}).get(name, u_prior),
            term_frequency_adjustments=False,
        )

    return SettingsCreator(
        link_type=link_type,
        unique_id_column_name="unique_id",
        probability_two_random_records_match=1.0 / max(n_identities, MIN_POPULATION),
        comparisons=[
            prior("given_name", cl.JaroWinklerAtThresholds("given_name", [0.92, 0.88, 0.7])),
            prior("family_name", cl.JaroWinklerAtThresholds("family_name", [0.92, 0.88, 0.7])),
            prior("date_of_birth", _dob_comparison()),
            prior("postcode", cl.PostcodeComparison("postcode")),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("date_of_birth"),
            block_on("postcode"),
            block_on("substr(family_name, 1, 3)", "year(date_of_birth)"),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


def _estimate_u(db_api, n_identities: int, seed: int) -> dict[str, list[float]]:
    """u probabilities from random pairs of residents (two random residents are almost
    never the same person), keeping the prior for a level no sampled pair reached."""
    from splink import Linker

    table = db_api.register("ide", dataset_display_name="identities_for_u")
    linker = Linker(
        table, _settings(n_identities, link_type="dedupe_only"), log_level=logging.WARNING
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1.2e6, seed=seed)
    out: dict[str, list[float]] = {}
    for comparison in linker._settings_obj.comparisons:
        name = comparison.output_column_name
        levels = [lv for lv in comparison.comparison_levels if not lv.is_null_level]
        prior = _PRIORS[name][1]
        out[name] = [
            lv.u_probability if isinstance(lv.u_probability, float) else p
            for lv, p in zip(levels, prior, strict=True)
        ]
    return out


def probabilistic_link(
    records: pa.Table,
    identities: pa.Table,
    threshold: float = DEFAULT_THRESHOLD,
    seed: int = 42,
    train_u: bool = True,
    em: bool = False,
    temp_directory: Path | None = None,
) -> ProbabilisticResult:
    """Link ``records`` (record_id BIGINT + identity columns) to ``identities``
    (person_id + identity columns); one accepted person per record at most.
    ``temp_directory``: where DuckDB may spill (names, dates of birth, postcodes) instead
    of its default ``.tmp`` in the working directory; the ingest passes its private one."""
    from splink import DuckDBAPI, Linker, block_on

    start = time.perf_counter()
    empty = pa.table(
        {
            "record_id": pa.array([], pa.int64()),
            "person_id": pa.array([], pa.string()),
            "match_probability": pa.array([], pa.float64()),
        }
    )
    if records.num_rows == 0 or identities.num_rows == 0:
        return ProbabilisticResult(empty, 0, time.perf_counter() - start, False)

    con = duck.connect(":memory:")
    try:
        if temp_directory is not None:
            quoted = str(temp_directory).replace("'", "''")
            con.execute(f"SET temp_directory = '{quoted}'")
        con.register("records_raw", records)
        con.register("identities_raw", identities)
        std = standardise_sql()
        cols = ", ".join(f"{expr} AS {name}" for name, expr in std.items())
        con.execute(
            f"CREATE TABLE rec AS SELECT 'r' || CAST(record_id AS VARCHAR) AS unique_id, "
            f"{cols} FROM records_raw"
        )
        con.execute(
            f"CREATE TABLE ide AS SELECT person_id AS unique_id, {cols} FROM identities_raw"
        )
        db_api = DuckDBAPI(con)
        left = db_api.register("rec", dataset_display_name="records")
        right = db_api.register("ide", dataset_display_name="identities")
        trained = train_u and identities.num_rows >= MIN_IDENTITIES_TO_TRAIN
        u = _estimate_u(db_api, identities.num_rows, seed) if trained else None
        linker = Linker([left, right], _settings(identities.num_rows, u), log_level=logging.WARNING)
        if em and records.num_rows >= MIN_RECORDS_FOR_EM:
            linker.training.estimate_parameters_using_expectation_maximisation(
                block_on("date_of_birth"), fix_probability_two_random_records_match=True
            )
            linker.training.estimate_parameters_using_expectation_maximisation(
                block_on("postcode"), fix_probability_two_random_records_match=True
            )
        pred = linker.inference.predict(threshold_match_probability=min(threshold, 0.5))
        pairs = con.execute(f"SELECT count(*) FROM {pred.physical_name}").fetchone()[0]
        con.complete()
        links = con.sql(
            f"""
            WITH p AS (
              SELECT CASE WHEN starts_with(unique_id_l, 'r') AND source_dataset_l = 'records'
                          THEN unique_id_l ELSE unique_id_r END AS rid,
                     CASE WHEN source_dataset_l = 'records' THEN unique_id_r
                          ELSE unique_id_l END AS pid,
                     match_probability
              FROM {pred.physical_name}
            )
            SELECT CAST(substr(rid, 2) AS BIGINT) AS record_id, pid AS person_id,
                   match_probability
            FROM p
            QUALIFY row_number() OVER (PARTITION BY rid
                                       ORDER BY match_probability DESC, pid) = 1
                AND match_probability >= {float(threshold)}
            ORDER BY record_id
            """
        ).to_arrow_table()
    finally:
        con.close()
    return ProbabilisticResult(links, int(pairs), time.perf_counter() - start, trained)
