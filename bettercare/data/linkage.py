"""Linking social care records to people: deterministic, then probabilistic (Splink).

* A social care row with a valid NHS number links deterministically: its pseudonym is
  the ``person_id`` (``link_method = 'nhs_number'``, ``match_probability = 1``).
* A row with a missing or invalid NHS number is compared with the *identities* of the
  residents (pseudonym, given name, family name, date of birth, postcode) by a
  Fellegi-Sunter model in Splink on an in-memory DuckDB connection (transient: nothing
  of it reaches the store).

The model:

* **Blocking** (:func:`_blocking_rules`): candidate pairs agree on the date of birth
  with a given or family initial (or the initials swapped), or with the postcode
  district; on the postcode with a given or family initial; on family name + given
  initial + day and month of birth; on given- and family-name prefixes + district +
  birth year; on the names swapped; and on two capped keys (:func:`capped_keys_sql`),
  set on a resident only where few residents share them: family-name prefix (three
  letters) + given initial + birth year where at most
  :data:`NAME_YEAR_KEY_MAX_RESIDENTS` residents share it, else the same + birth month
  where at most that many do (:data:`NAME_YEAR_KEY`); and, names alone, family name +
  given initial where at most :data:`NAME_KEY_MAX_RESIDENTS` residents share it
  (:data:`NAME_KEY`). A missing or mistyped date of birth, a move or a changed surname
  each still leaves a rule to find the pair. The capped keys' candidates per record are
  bounded by their caps however many residents there are; the other keys without a
  postcode (a date of birth with an initial, the names with the day and month of
  birth, the swapped names) still grow with the residents of one area, more slowly
  (per record, 100,000 -> 1,000,000 residents: 1.1 -> 2.8 for date of birth + given
  initial, 1.4 -> 5.9 for family name + initial + day and month; the uncapped
  family-name/birth-year key grew 2.9 -> 19.7, capped 2.7 -> 5.7). On the linkage
  benchmark the capped key keeps every true pair the uncapped one kept at 100,000 and
  300,000 residents, and at 1,000,000 all but 4 of 37,300 (no correct link lost), with
  the same F1 (``benchmarks/README.md``).
* **Comparisons**: each name by Jaro-Winkler (exact, *swapped* — the record's given name
  is the resident's family name or the reverse —, >= 0.92, >= 0.88, >= 0.7); date of
  birth (exact, one edit or adjacent swap of the text, day/month swapped, within a month
  / year / ten years); postcode (full, sector, district, area). Term-frequency adjustment
  on the exact level of each name (a shared rare surname is stronger evidence than a
  shared "Smith"), from the residents' own name frequencies.
* A comparison with no information — a column empty on either side, one value for all
  residents, or never agreeing between any record and any resident — is left out of the
  model and named in :attr:`ProbabilisticResult.notes` (expectation maximisation on it
  would fail or learn nothing).
* **Parameters**: documented priors (``_PRIORS``). u is re-estimated at any size by
  random sampling of resident pairs and shrunk towards the prior with
  :data:`U_PSEUDO_PAIRS` pseudo-pairs (a handful of residents moves u hardly at all; a
  population of thousands sets it); the sample is bounded (:data:`U_MAX_PAIRS`). m is
  re-estimated by expectation maximisation (blocked on date of birth, on postcode, then
  on names) given :data:`MIN_RECORDS_FOR_EM` records, on a seeded sample of at most
  :data:`EM_MAX_RECORDS` records against their candidate residents (the residents the
  blocking rules pair with them), with the whole population's name frequencies; so its
  cost is bounded too. A round that cannot run is skipped and noted.
* **Prior**: the probability that a record matches a given resident is
  ``1 / number of residents`` (each record belongs to one person at most), from the
  real population (no floor).
* **Decisions** (:class:`Thresholds`), from the model's own match weights, never tuned
  on synthetic truth. A record's best candidate is *eligible* when some name agrees at
  least loosely and its match weight beats the record's runner-up by 6.6 (99 to 1 that
  it is this resident rather than the runner-up). Eligible candidates at ``upper`` (0.99,
  a match weight of 6.6) or above are linked; below it they are linked in decreasing
  probability, down to ``lower`` (0.5: a match at least as likely as not), while the
  mean match probability of all the links — the model's estimate of their precision —
  stays at least ``target_precision`` (0.995). What is at least ``lower`` but not linked
  goes to clerical review.
* **Estimates without truth**: precision = mean match probability of the links; recall
  = sum of the links' probabilities / sum of the best candidates' probabilities (the
  model's expected number of true matches among all records).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import duckdb
import pyarrow as pa

from bettercare.data import duck

MIN_RECORDS_FOR_EM = 200
U_PSEUDO_PAIRS = 10_000  # weight of the prior u in the shrunk estimate, in resident pairs
M_PSEUDO_RECORDS = 500  # weight of the prior m after EM, in records
U_MAX_PAIRS = 1.2e6  # resident pairs sampled to estimate u (a fixed bound at any size)
EM_MAX_RECORDS = 2_000  # records (a seeded sample) EM trains on: its cost is bounded
NAME_KEY_MAX_RESIDENTS = 50  # names alone block only where this few residents share them
NAME_KEY = "name_key"  # family name + given initial where rare enough (see _blocking_rules)
#: family-name prefix + given initial + birth year (or, where too common, + birth month)
#: block only where at most this many residents share the key: chosen on the linkage
#: benchmark (benchmarks/README.md, "the family-name/birth-year key capped")
NAME_YEAR_KEY_MAX_RESIDENTS = 20
NAME_YEAR_KEY = "name_year_key"  # see capped_keys_sql
#: The stages of a probabilistic linkage, in order (progress and timing).
LINK_STAGES = ("prepare", "estimate u", "EM", "score pairs", "decide")
IDENTITY_COLUMNS = ("given_name", "family_name", "date_of_birth", "postcode")
COMPARISONS = IDENTITY_COLUMNS
WATERFALL_SAMPLE = 10

# m and u probabilities per comparison level, from the exact-match level down to "else".
_PRIORS: dict[str, tuple[list[float], list[float]]] = {
    # levels: exact, swapped with the other name, jw >= 0.92, jw >= 0.88, jw >= 0.7, else
    "given_name": (
        [0.84, 0.01, 0.06, 0.03, 0.03, 0.03],
        [0.01, 0.0002, 0.002, 0.003, 0.02, 0.9648],
    ),
    "family_name": (
        [0.85, 0.01, 0.06, 0.03, 0.02, 0.03],
        [0.002, 0.0002, 0.001, 0.002, 0.01, 0.9848],
    ),
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
# Labels of the non-null levels, in the order of _PRIORS (the review list's agreement
# pattern; gamma = number of levels - 1 - index).
LEVELS: dict[str, tuple[str, ...]] = {
    "given_name": ("exact", "swapped", "jw>=0.92", "jw>=0.88", "jw>=0.7", "different"),
    "family_name": ("exact", "swapped", "jw>=0.92", "jw>=0.88", "jw>=0.7", "different"),
    "date_of_birth": (
        "exact",
        "one edit",
        "day/month swapped",
        "within a month",
        "within a year",
        "within 10 years",
        "different",
    ),
    "postcode": ("exact", "sector", "district", "area", "different"),
}
# A UK postcode's shape (BS 7666): outward code A9, A99, AA9, AA99, A9A or AA9A, then 9AA.
UK_POSTCODE = r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$"


@dataclass(frozen=True)
class Thresholds:
    """Match-probability thresholds for linking and for clerical review.

    Link at ``upper`` or above, and below it down to ``lower`` while the links'
    estimated precision stays >= ``target_precision``; the rest from ``lower`` goes to
    review.
    """

    lower: float = 0.5
    upper: float = 0.99
    target_precision: float = 0.995

    def __post_init__(self) -> None:
        """Refuse thresholds out of order or outside (0, 1)."""
        if not 0 < self.lower <= self.upper < 1:
            raise ValueError(
                f"linkage thresholds must satisfy 0 < lower <= upper < 1, got "
                f"lower={self.lower}, upper={self.upper}"
            )
        if not 0 < self.target_precision <= 1:
            raise ValueError("target_precision must be in (0, 1]")

    @property
    def upper_weight(self) -> float:
        """The match weight (log2 odds) of ``upper``."""
        return math.log2(self.upper / (1 - self.upper))


DEFAULT_THRESHOLDS = Thresholds()
DEFAULT_THRESHOLD = DEFAULT_THRESHOLDS.upper


def _empty_links() -> pa.Table:
    return pa.table(
        {
            "record_id": pa.array([], pa.int64()),
            "person_id": pa.array([], pa.string()),
            "match_probability": pa.array([], pa.float64()),
        }
    )


def _empty_review() -> pa.Table:
    cols: dict[str, pa.Array] = {
        "record_id": pa.array([], pa.int64()),
        "person_id": pa.array([], pa.string()),
        "match_probability": pa.array([], pa.float64()),
        "match_weight": pa.array([], pa.float64()),
    }
    cols.update({c: pa.array([], pa.string()) for c in COMPARISONS})
    return pa.table(cols)


@dataclass
class ProbabilisticResult:
    """What a probabilistic linkage produced.

    ``links``: record_id, person_id, match_probability (the accepted best candidates);
    ``review``: record_id, person_id, match_probability, match_weight and the agreement
    level of each comparison (labels of :data:`LEVELS`, ``null`` where a side is
    missing, ``not used`` for a comparison left out) for pairs between the thresholds.
    """

    links: pa.Table
    candidate_pairs: int
    seconds: float
    trained: bool  # u re-estimated from the residents
    review: pa.Table = field(default_factory=_empty_review)
    em: bool = False  # m re-estimated by expectation maximisation
    notes: list[str] = field(default_factory=list)
    estimated_precision: float = float("nan")
    estimated_recall: float = float("nan")
    postcodes_not_uk_shaped: int = 0
    charts: dict[str, str] = field(default_factory=dict)  # name -> HTML document
    stage_seconds: dict[str, float] = field(default_factory=dict)  # LINK_STAGES -> seconds
    stage_cpu_seconds: dict[str, float] = field(default_factory=dict)  # the process's CPU


def standardise_sql(alias: str = "") -> dict[str, str]:
    """DuckDB expressions that clean the identity columns before comparison."""
    p = f"{alias}." if alias else ""

    def name(col: str) -> str:
        cleaned = f"regexp_replace(lower(trim({p}{col})), '[^a-z]', '', 'g')"
        return f"nullif({cleaned}, '')"

    pc = f"regexp_replace(upper({p}postcode), '[^A-Z0-9]', '', 'g')"
    postcode = (
        f"CASE WHEN regexp_matches({pc}, '{UK_POSTCODE}') "
        f"THEN substr({pc}, 1, length({pc}) - 3) || ' ' || substr({pc}, -3) END"
    )
    return {
        "given_name": name("given_name"),
        "family_name": name("family_name"),
        "date_of_birth": f"{p}date_of_birth",
        "dob_text": f"strftime({p}date_of_birth, '%Y-%m-%d')",
        "postcode": postcode,
        "postcode_district": f"split_part({postcode}, ' ', 1)",
    }


def not_uk_shaped_sql(column: str = "postcode") -> str:
    """True where ``column`` holds something that is not a UK-shaped postcode."""
    pc = f"regexp_replace(upper({column}), '[^A-Z0-9]', '', 'g')"
    return f"(nullif(trim({column}), '') IS NOT NULL AND NOT regexp_matches({pc}, '{UK_POSTCODE}'))"


def _name_comparison(col: str, other: str, term_frequency: bool = True) -> Any:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    return cl.CustomComparison(
        output_column_name=col,
        comparison_levels=[
            cll.NullLevel(col),
            cll.ExactMatchLevel(col, term_frequency_adjustments=term_frequency),
            # written in DuckDB's SQL; Splink translates it for Spark
            cll.CustomLevel(
                f'"{col}_l" = "{other}_r"', f"{col} swapped with {other}", base_dialect_str="duckdb"
            ),
            *[cll.JaroWinklerLevel(col, t) for t in (0.92, 0.88, 0.7)],
            cll.ElseLevel(),
        ],
    )


_DOB_WINDOWS: tuple[tuple[int, Literal["month", "year"]], ...] = (
    (1, "month"),
    (1, "year"),
    (10, "year"),
)


def _dob_comparison() -> Any:
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
            cll.CustomLevel(swapped, "day and month swapped", base_dialect_str="duckdb"),
            *[
                cll.AbsoluteDateDifferenceLevel(
                    "date_of_birth", input_is_string=False, threshold=n, metric=unit
                )
                for n, unit in _DOB_WINDOWS
            ],
            cll.ElseLevel(),
        ],
    )


def _comparison(name: str, term_frequency: bool = True) -> Any:
    import splink.comparison_library as cl

    if name == "given_name":
        return _name_comparison("given_name", "family_name", term_frequency)
    if name == "family_name":
        return _name_comparison("family_name", "given_name", term_frequency)
    if name == "date_of_birth":
        return _dob_comparison()
    return cl.PostcodeComparison("postcode")


def _blocking_rules(used: tuple[str, ...]) -> list[Any]:
    """Candidate-pair rules on the comparisons in use (each survives the loss of others).

    A date of birth or a postcode always comes with a name initial (or the postcode
    district), names with (part of) the date of birth; the two keys most shared as the
    population grows are capped (:func:`capped_keys_sql`): family-name prefix + given
    initial + birth year (:data:`NAME_YEAR_KEY`) and names alone (:data:`NAME_KEY`),
    each set only where few residents share it, so their candidates per record are
    bounded. The other keys without a postcode still have more residents behind them
    as the population of one area grows, though far fewer per key (the module
    docstring gives the figures).
    """
    from splink import block_on
    from splink.blocking_rule_library import CustomRule

    dob, pc = "date_of_birth" in used, "postcode" in used
    given, family = "given_name" in used, "family_name" in used
    gi, fi = "substr(given_name, 1, 1)", "substr(family_name, 1, 1)"
    rules: list[Any] = []
    if dob and given:
        rules.append(block_on("date_of_birth", gi))
    if dob and family:
        rules.append(block_on("date_of_birth", fi))
    if dob and given and family:
        # names swapped (or both wrong but their initials): two rules of two equalities
        # each, not one with an OR, so that DuckDB hash-joins on the date of birth *and*
        # the initial (an OR leaves it the date of birth alone as its join key: every
        # resident born that day, then a filter; quadratic in the residents)
        for a, b in (("given_name", "family_name"), ("family_name", "given_name")):
            rules.append(
                CustomRule(
                    'l."date_of_birth" = r."date_of_birth" AND '
                    f'substr(l."{a}", 1, 1) = substr(r."{b}", 1, 1)',
                    sql_dialect="duckdb",
                )
            )
    if dob and pc:
        rules.append(block_on("date_of_birth", "postcode_district"))
    if pc and given:
        rules.append(block_on("postcode", gi))
    if pc and family:
        rules.append(block_on("postcode", fi))
    if dob and given and family:
        rules.append(block_on(NAME_YEAR_KEY))
        rules.append(block_on("family_name", gi, "month(date_of_birth)", "day(date_of_birth)"))
    if given and family:
        rules.append(
            CustomRule(
                'l."given_name" = r."family_name" AND l."family_name" = r."given_name"',
                sql_dialect="duckdb",
            )
        )
        rules.append(block_on(NAME_KEY))
    if given and family and pc and dob:
        rules.append(
            block_on(
                "substr(given_name, 1, 2)",
                "substr(family_name, 1, 2)",
                "postcode_district",
                "year(date_of_birth)",
            )
        )
    return rules


def _settings(
    n_identities: int,
    used: tuple[str, ...],
    u: dict[str, list[float]] | None = None,
    link_type: Literal["link_only", "dedupe_only"] = "link_only",
    m: dict[str, list[float]] | None = None,
    term_frequency: bool = True,
) -> Any:
    from splink import SettingsCreator

    def prior(name: str) -> Any:
        m_prior, u_prior = _PRIORS[name]
        return _comparison(name, term_frequency).configure(
            m_probabilities=(m or {}).get(name, m_prior),
            u_probabilities=(u or {}).get(name, u_prior),
        )

    return SettingsCreator(
        link_type=link_type,
        unique_id_column_name="unique_id",
        probability_two_random_records_match=1.0 / max(n_identities, 2),
        comparisons=[prior(name) for name in used],
        blocking_rules_to_generate_predictions=_blocking_rules(used),
        retain_intermediate_calculation_columns=True,
        retain_matching_columns=True,
    )


def _estimate_u(
    db_api: Any, n_identities: int, used: tuple[str, ...], seed: int, term_frequency: bool = True
) -> dict[str, list[float]]:
    """U probabilities from random pairs of residents, shrunk towards the prior.

    Two random residents are almost never the same person. Shrinkage is by
    :data:`U_PSEUDO_PAIRS` pseudo-pairs; a level no sampled pair reached keeps its
    prior.
    """
    from splink import Linker

    pairs = min(U_MAX_PAIRS, n_identities * (n_identities - 1) / 2)
    table = db_api.register("ide", dataset_display_name="identities_for_u")
    linker = Linker(
        table,
        _settings(n_identities, used, link_type="dedupe_only", term_frequency=term_frequency),
        log_level=logging.ERROR,
        validate_settings=False,  # ours; the prediction's linker validates them
    )
    # The sample is bounded (U_MAX_PAIRS), so it is counted in one pass. Splink's default
    # counts it in 10 chunks (after a 1% probe) and stops once every level has 100
    # non-matching pairs; the rare agreement levels (the same date of birth, the same full
    # name) do not reach 100 in 1.2M random pairs, so the chunks added a query each (a job
    # each on Spark) for the same counts.
    linker.training.estimate_u_using_random_sampling(
        max_pairs=max(pairs, 1), seed=seed, min_count_per_level=None, num_chunks=1
    )
    return _shrunk_to_priors(linker, "u", pairs, U_PSEUDO_PAIRS)


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[Any, ...]:
    """The single row of ``sql`` (the connection left ready for more work)."""
    row = con.execute(sql).fetchone()
    con.complete()
    assert row is not None
    return tuple(row)


def _informative(
    con: duckdb.DuckDBPyConnection, em_planned: bool
) -> tuple[tuple[str, ...], list[str]]:
    """The comparisons that carry information, and a note for each one left out.

    A column that never agrees is left out only when EM will run (it would learn nothing
    or fail there); a few records that do not agree are no reason to drop a column.
    """
    used: list[str] = []
    notes: list[str] = []
    for col in COMPARISONS:
        (n_rec,) = _one(con, f"SELECT count({col}) FROM rec")
        n_ide, distinct = _one(con, f"SELECT count({col}), count(DISTINCT {col}) FROM ide")
        if n_rec == 0 or n_ide == 0:
            side = "the records" if n_rec == 0 else "the residents"
            notes.append(f"{col}: no values in {side}; comparison left out")
        elif distinct < 2:
            notes.append(f"{col}: one value for all residents; comparison left out")
        elif (
            em_planned
            and not _one(con, f"SELECT EXISTS (SELECT 1 FROM rec JOIN ide USING ({col}))")[0]
        ):
            notes.append(f"{col}: never agrees between a record and a resident; left out")
        else:
            used.append(col)
    return tuple(used), notes


def _em_trainer(
    db_api: Any,
    execute: Callable[[str], Any],
    n: int,
    used: tuple[str, ...],
    u: dict[str, list[float]] | None,
    term_frequency: bool,
) -> Any:
    """A linker for EM: the sampled records (``rec_em``) and their candidate residents.

    The candidates are the residents the prediction's blocking rules pair with a sampled
    record (``ide_em``), so EM's blocked pairs are bounded by the sample, not by the
    population. Name frequencies are the whole population's (``rec`` and ``ide``, as
    the prediction sees them), registered as Splink's term-frequency lookups.
    ``execute`` runs a DuckDB statement (on DuckDB itself, or transpiled for Spark).
    """
    from splink import Linker

    settings = _settings(n, used, u, term_frequency=term_frequency)
    blocker = Linker(
        [
            db_api.register("rec_em", dataset_display_name="records_em"),
            db_api.register("ide", dataset_display_name="identities_all"),
        ],
        settings,
        log_level=logging.ERROR,
        validate_settings=False,
    )
    blocked = blocker.inference.deterministic_link()
    execute(
        f"""CREATE TABLE ide_em AS SELECT * FROM ide WHERE unique_id IN (
              SELECT CASE WHEN source_dataset_l = 'records_em' THEN unique_id_r
                          ELSE unique_id_l END FROM {blocked.physical_name})"""
    )
    trainer = Linker(
        [
            db_api.register("rec_em", dataset_display_name="records_em2"),
            db_api.register("ide_em", dataset_display_name="identities_em"),
        ],
        _settings(n, used, u, term_frequency=term_frequency),
        log_level=logging.ERROR,
        validate_settings=False,
    )
    if term_frequency:
        for col in ("given_name", "family_name"):
            if col not in used:
                continue
            execute(
                f"""CREATE TABLE tf_em_{col} AS
                    SELECT {col}, count(*) / sum(count(*)) OVER () AS tf_{col}
                    FROM (SELECT {col} FROM rec UNION ALL SELECT {col} FROM ide)
                    WHERE {col} IS NOT NULL GROUP BY {col}"""
            )
            trainer.table_management.register_term_frequency_lookup(
                db_api.register(f"tf_em_{col}"), col
            )
    return trainer


def _em(linker: Any, used: tuple[str, ...], notes: list[str]) -> bool:
    """M probabilities by expectation maximisation, one round per blocking column.

    A round that cannot run (too few pairs, a level never reached) is skipped and noted,
    never raised.
    """
    from splink import block_on

    rounds = [
        ("date_of_birth", block_on("date_of_birth")),
        ("postcode", block_on("postcode")),
        ("family_name", block_on("family_name", "given_name")),
    ]
    ran = False
    for col, rule in rounds:
        if col not in used:
            continue
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, fix_probability_two_random_records_match=True
            )
            ran = True
        except Exception as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            notes.append(f"EM blocked on {col} skipped: {first[:200]}")
    return ran


def _shrunk_m(linker: Any, n_records: int) -> dict[str, list[float]]:
    """M probabilities after EM, shrunk towards the prior.

    Shrinkage is by :data:`M_PSEUDO_RECORDS` pseudo-records (a Dirichlet prior): EM on a
    few hundred records sets a rare level's m (a swapped day and month) from a handful
    of pairs, or to almost nothing.
    """
    return _shrunk_to_priors(linker, "m", n_records, M_PSEUDO_RECORDS)


def _shrunk_to_priors(linker: Any, which: str, n: float, pseudo: float) -> dict[str, list[float]]:
    """Each comparison's estimated m or u per level, shrunk towards its prior.

    ``(estimate x n + prior x pseudo) / (n + pseudo)``: ``n`` is the sample the estimate
    came from (records for m, pairs for u), ``pseudo`` the prior's weight. A level the
    estimate never reached keeps its prior.
    """
    index = {"m": 0, "u": 1}[which]
    out: dict[str, list[float]] = {}
    for comparison in linker._settings_obj.comparisons:
        name = comparison.output_column_name
        levels = [lv for lv in comparison.comparison_levels if not lv.is_null_level]
        prior = _PRIORS[name][index]
        estimated = [
            value if isinstance(value := getattr(lv, f"{which}_probability"), float) else p
            for lv, p in zip(levels, prior, strict=True)
        ]
        out[name] = [
            (e * n + p * pseudo) / (n + pseudo) for e, p in zip(estimated, prior, strict=True)
        ]
    return out


@contextmanager
def _quiet_splink() -> Iterator[None]:
    logger = logging.getLogger("splink")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _charts(
    linker: Any, pred: Any, con: duckdb.DuckDBPyConnection, thresholds: Thresholds
) -> dict[str, str]:
    """Splink's own charts as HTML documents (libraries inlined: they work offline).

    The waterfall shows match weights only (``remove_sensitive_data``).
    """
    out: dict[str, str] = {
        "match_weights": linker.visualisations.match_weights_chart().to_html(inline=True),
        "m_u_parameters": linker.visualisations.m_u_parameters_chart().to_html(inline=True),
        "threshold_selection": linker.visualisations.match_weights_histogram(pred).to_html(
            inline=True
        ),
    }
    sample = pred.as_record_list(limit=WATERFALL_SAMPLE)
    if sample:
        out["waterfall"] = linker.visualisations.waterfall_chart(
            sample, remove_sensitive_data=True
        ).to_html(inline=True)
    return out


def capped_keys_sql(records: str, identities: str) -> tuple[str, str]:
    """SELECTs adding the capped blocking keys to ``records`` and ``identities``.

    The two tables hold ``unique_id`` and the standardised identity columns
    (:func:`standardise_sql`); the SELECTs return them with :data:`NAME_KEY` and
    :data:`NAME_YEAR_KEY` added. A capped
    key is set on a resident only where few residents share it (NULL otherwise, so never
    a candidate): the residents behind a key, and so a record's candidate pairs from it,
    stay bounded however many residents there are.

    * :data:`NAME_KEY`: family name + given initial, where at most
      :data:`NAME_KEY_MAX_RESIDENTS` residents hold it.
    * :data:`NAME_YEAR_KEY`: the first three letters of the family name + given initial +
      birth year, where at most :data:`NAME_YEAR_KEY_MAX_RESIDENTS` residents hold it;
      where more do, the same + birth month, where at most that many hold it. A record
      takes the form its residents' group takes (the year form unless the residents
      behind it are too many).

    DuckDB SQL, run as it is by the DuckDB linkage and transpiled for Spark's.
    """
    name = "family_name || ' ' || substr(given_name, 1, 1)"
    year = (
        "substr(family_name, 1, 3) || ' ' || substr(given_name, 1, 1) || ' ' || "
        "CAST(year(date_of_birth) AS VARCHAR)"
    )
    month = f"{year} || '-' || CAST(month(date_of_birth) AS VARCHAR)"
    cap = NAME_YEAR_KEY_MAX_RESIDENTS
    rec = f"""SELECT r.*, {name} AS {NAME_KEY},
                     CASE WHEN y.residents > {cap} THEN {month} ELSE {year} END
                         AS {NAME_YEAR_KEY}
              FROM {records} r
              LEFT JOIN (SELECT {year} AS year_key, count(*) AS residents FROM {identities}
                         GROUP BY year_key) y ON y.year_key = {year}"""
    # counts by GROUP BY joined back, not three windows: a third of the CPU at 1M residents
    columns = ", ".join(f"k.{c}" for c in ("unique_id", *standardise_sql()))
    ide = f"""WITH k AS (SELECT *, {name} AS name_k, {year} AS year_k, {month} AS month_k
                         FROM {identities})
              SELECT {columns},
                     CASE WHEN n.residents <= {NAME_KEY_MAX_RESIDENTS} THEN k.name_k END
                         AS {NAME_KEY},
                     CASE WHEN y.residents <= {cap} THEN k.year_k
                          WHEN m.residents <= {cap} THEN k.month_k END AS {NAME_YEAR_KEY}
              FROM k
              LEFT JOIN (SELECT name_k, count(*) AS residents FROM k GROUP BY name_k) n
                  ON n.name_k = k.name_k
              LEFT JOIN (SELECT year_k, count(*) AS residents FROM k GROUP BY year_k) y
                  ON y.year_k = k.year_k
              LEFT JOIN (SELECT month_k, count(*) AS residents FROM k GROUP BY month_k) m
                  ON m.month_k = k.month_k"""
    return rec, ide


def _prepare(con: duckdb.DuckDBPyConnection, records: pa.Table, identities: pa.Table) -> None:
    """Tables ``rec`` and ``ide`` on ``con``: standardised identities and capped keys.

    The capped keys are :data:`NAME_KEY` and :data:`NAME_YEAR_KEY`
    (:func:`capped_keys_sql`). Also registers ``records_raw`` and ``identities_raw``.
    """
    con.register("records_raw", records)
    con.register("identities_raw", identities)
    std = standardise_sql()
    cols = ", ".join(f"{expr} AS {name}" for name, expr in std.items())
    con.execute(
        f"CREATE TABLE rec0 AS SELECT 'r' || CAST(record_id AS VARCHAR) AS unique_id, "
        f"{cols} FROM records_raw"
    )
    con.execute(f"CREATE TABLE ide0 AS SELECT person_id AS unique_id, {cols} FROM identities_raw")
    rec, ide = capped_keys_sql("rec0", "ide0")
    # in a fixed order (a join and a window do not keep one): u's and EM's seeded
    # samples draw by position, so the links are the same from run to run
    con.execute(f"CREATE TABLE rec AS SELECT * FROM ({rec}) ORDER BY unique_id")
    con.execute(f"CREATE TABLE ide AS SELECT * FROM ({ide}) ORDER BY unique_id")
    con.execute("DROP TABLE rec0")
    con.execute("DROP TABLE ide0")


@contextmanager
def _blocking_inputs(records: pa.Table, identities: pa.Table) -> Iterator[tuple[Any, list[Any]]]:
    """(connection, [records, identities] as Splink tables), prepared as the linkage's.

    For the benchmarks' looks at the blocking; Splink is quiet meanwhile.
    """
    from splink import DuckDBAPI

    con = duck.connect(":memory:")
    try:
        _prepare(con, records, identities)
        db_api = DuckDBAPI(con)
        with _quiet_splink():
            yield (
                con,
                [
                    db_api.register("rec", dataset_display_name="records"),
                    db_api.register("ide", dataset_display_name="identities"),
                ],
            )
    finally:
        con.close()


def blocking_pairs(records: pa.Table, identities: pa.Table) -> list[tuple[str, str, int]]:
    """The candidate pairs each prediction blocking rule adds, for a benchmark.

    One (rule, the equalities DuckDB joins on, pairs not already blocked by an earlier
    rule) per rule, counted exactly by Splink's blocking analysis on the standardised
    tables the linkage uses (every comparison in use).
    """
    from splink.blocking_analysis import count_comparisons_from_blocking_rules

    with _blocking_inputs(records, identities) as (_, tables):
        counts = count_comparisons_from_blocking_rules(
            tables,
            blocking_rules=_blocking_rules(COMPARISONS),
            link_type="link_only",
            record_sample_proportion=1.0,
        )
    return [
        (c["blocking_rule"], c["equi_join_conditions"], int(c["marginal_comparison_count"]))
        for c in counts
    ]


def candidate_pairs(records: pa.Table, identities: pa.Table) -> pa.Table:
    """Every (record_id, person_id) pair the prediction's blocking rules make.

    For a benchmark: which true pairs the blocking keeps (every comparison in use).
    """
    from splink import Linker

    with _blocking_inputs(records, identities) as (con, tables):
        linker = Linker(
            tables, _settings(identities.num_rows, COMPARISONS), log_level=logging.ERROR
        )
        blocked = linker.inference.deterministic_link()
        return con.sql(
            f"""SELECT DISTINCT
                   CAST(substr(CASE WHEN source_dataset_l = 'records' THEN unique_id_l
                                    ELSE unique_id_r END, 2) AS BIGINT) AS record_id,
                   CASE WHEN source_dataset_l = 'records' THEN unique_id_r
                        ELSE unique_id_l END AS person_id
                FROM {blocked.physical_name}"""
        ).to_arrow_table()


def _gamma_labels(pred: str, used: tuple[str, ...]) -> str:
    parts = []
    for col in COMPARISONS:
        if col not in used:
            parts.append(f"'not used' AS {col}")
            continue
        labels = LEVELS[col]
        cases = " ".join(
            f"WHEN {len(labels) - 1 - i} THEN '{label}'" for i, label in enumerate(labels)
        )
        parts.append(f"CASE gamma_{col} {cases} ELSE 'null' END AS {col}")
    return ", ".join(parts)


def scored_sql(pred: str, used: tuple[str, ...]) -> str:
    """DuckDB SQL: the scored pairs of ``pred`` (Splink's predictions) ranked per record.

    Over the table ``rejected_pairs`` (record_id, person_id): a rejected pair is never
    scored. Columns: record_id, person_id, match_probability, match_weight, name_agrees,
    the agreement label per comparison, rank and the runner-up's match weight.
    """
    name_cols = [c for c in ("given_name", "family_name") if c in used]
    # "some name agrees at least loosely": Jaro-Winkler >= 0.7 or swapped (gamma >= 1)
    name_ok = " OR ".join(f"gamma_{c} >= 1" for c in name_cols) or "TRUE"
    return f"""
        WITH p AS (
          SELECT CAST(substr(CASE WHEN source_dataset_l = 'records' THEN unique_id_l
                                  ELSE unique_id_r END, 2) AS BIGINT) AS record_id,
                 CASE WHEN source_dataset_l = 'records' THEN unique_id_r
                      ELSE unique_id_l END AS person_id,
                 match_probability, match_weight, ({name_ok}) AS name_agrees,
                 {_gamma_labels(pred, used)}
          FROM {pred}
        )
        SELECT *, row_number() OVER (PARTITION BY record_id
                                     ORDER BY match_probability DESC, person_id) AS rank,
                  lead(match_weight) OVER (PARTITION BY record_id
                                           ORDER BY match_probability DESC, person_id)
                    AS runner_up_weight
        FROM p ANTI JOIN rejected_pairs USING (record_id, person_id)
        """


def linked_sql(thresholds: Thresholds) -> str:
    """DuckDB SQL over ``scored``: the links (record_id, person_id, match_probability).

    Eligible: a record's best candidate, some name agreeing, a clear margin over the
    runner-up; linked: all eligible at >= upper, then the next most probable down to
    ``lower`` while the model's expected precision of the links (their mean match
    probability) stays >= ``target_precision``.
    """
    upper, lower = thresholds.upper, thresholds.lower
    return f"""
        WITH eligible AS (
          SELECT record_id, person_id, match_probability,
                 avg(match_probability) OVER (
                   ORDER BY match_probability DESC, record_id
                   ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running
          FROM scored
          WHERE rank = 1 AND match_probability >= {lower} AND name_agrees
            AND (runner_up_weight IS NULL
                 OR match_weight - runner_up_weight >= {thresholds.upper_weight})
        )
        SELECT record_id, person_id, match_probability FROM eligible
        WHERE match_probability >= {upper}
           OR running >= {thresholds.target_precision}"""


def review_sql(thresholds: Thresholds) -> str:
    """DuckDB SQL over ``scored`` and ``linked``: the pairs for clerical review."""
    return f"""SELECT record_id, person_id, match_probability, match_weight,
                   {", ".join(COMPARISONS)}
            FROM scored
            WHERE match_probability >= {thresholds.lower}
              AND record_id NOT IN (SELECT record_id FROM linked)
            ORDER BY record_id, match_probability DESC, person_id"""


#: DuckDB SQL over ``scored`` and ``linked``: the model's estimated precision and recall.
ESTIMATES_SQL = """SELECT (SELECT avg(match_probability) FROM linked),
       (SELECT sum(match_probability) FROM linked)
       / nullif((SELECT sum(match_probability) FROM scored WHERE rank = 1), 0)"""


def probabilistic_link(
    records: pa.Table,
    identities: pa.Table,
    thresholds: Thresholds | float = DEFAULT_THRESHOLDS,
    seed: int = 42,
    train_u: bool = True,
    em: bool = True,
    temp_directory: Path | None = None,
    rejected: pa.Table | None = None,
    charts: bool = False,
    term_frequency: bool = True,
    memory_limit: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> ProbabilisticResult:
    """Link ``records`` to ``identities``: one linked person per record at most.

    ``records`` hold record_id BIGINT + identity columns; ``identities`` person_id +
    identity columns.

    ``thresholds``: a :class:`Thresholds`, or one probability used as both thresholds
    (no review band). ``rejected``: (record_id, person_id) pairs a reviewer rejected,
    never linked or reviewed again. ``temp_directory``: where DuckDB may spill (names,
    dates of birth, postcodes) instead of ``.tmp`` in the working directory; the ingest
    passes its private one. ``charts``: also return Splink's charts as HTML.
    ``term_frequency``: adjust exact name agreement for the name's frequency (default;
    ``benchmarks/linkage.py --variants`` measures it off). ``memory_limit``: DuckDB's
    for the linkage's own connection (beyond it, DuckDB spills to ``temp_directory``).
    ``progress``: called with each stage's name (:data:`LINK_STAGES`) as it starts.
    """
    from splink import DuckDBAPI, Linker

    if not isinstance(thresholds, Thresholds):
        thresholds = Thresholds(float(thresholds), float(thresholds))
    start = time.perf_counter()
    if records.num_rows == 0 or identities.num_rows == 0:
        return ProbabilisticResult(_empty_links(), 0, time.perf_counter() - start, False)

    notes: list[str] = []
    stages: dict[str, float] = {}
    stages_cpu: dict[str, float] = {}
    current: list[tuple[str, float, float]] = []  # the stage under way, when it started

    def stage(name: str) -> None:
        now, cpu = time.perf_counter(), time.process_time()
        if current:
            stages[current[0][0]] = now - current[0][1]
            stages_cpu[current[0][0]] = cpu - current[0][2]
            current.clear()
        if name:
            current.append((name, now, cpu))
            if progress is not None:
                progress(name)

    stage("prepare")
    con = duck.connect(":memory:")
    try:
        if temp_directory is not None:
            quoted = str(temp_directory).replace("'", "''")
            con.execute(f"SET temp_directory = '{quoted}'")
        if memory_limit is not None:  # its joins cannot spill: a floor (data/duck.py)
            con.execute("SET memory_limit = ?", [duck.at_least_join_memory(memory_limit)])
        _prepare(con, records, identities)
        (not_uk,) = _one(
            con, f"SELECT count(*) FILTER (WHERE {not_uk_shaped_sql()}) FROM records_raw"
        )
        if not_uk:
            notes.append(
                f"{not_uk} record(s) with a postcode that is not UK-shaped: compared "
                "without a postcode"
            )
        con.execute("CREATE TABLE rejected_pairs (record_id BIGINT, person_id VARCHAR)")
        if rejected is not None and rejected.num_rows:
            con.register("rejected_raw", rejected)
            con.execute("INSERT INTO rejected_pairs SELECT record_id, person_id FROM rejected_raw")
        em_planned = em and records.num_rows >= MIN_RECORDS_FOR_EM
        used, skipped = _informative(con, em_planned)
        notes.extend(skipped)
        if not used:
            notes.append("no comparison carries information: nothing linked")
            return ProbabilisticResult(
                _empty_links(),
                0,
                time.perf_counter() - start,
                False,
                notes=notes,
                postcodes_not_uk_shaped=int(not_uk),
            )
        n = identities.num_rows
        db_api = DuckDBAPI(con)
        with _quiet_splink():
            u = None
            stage("estimate u")
            if train_u and n >= 2:
                try:
                    u = _estimate_u(db_api, n, used, seed, term_frequency)
                except Exception as exc:
                    notes.append(f"u estimation skipped: {str(exc).splitlines()[0][:200]}")
            left = db_api.register("rec", dataset_display_name="records")
            right = db_api.register("ide", dataset_display_name="identities")
            m: dict[str, list[float]] | None = None
            did_em = False
            stage("EM")
            if em_planned:
                # EM trains on a seeded sample of at most EM_MAX_RECORDS records: its
                # blocked pairs are bounded whatever the number of records
                n_em = min(records.num_rows, EM_MAX_RECORDS)
                sample = (
                    f"USING SAMPLE reservoir({n_em} ROWS) REPEATABLE ({seed})"
                    if n_em < records.num_rows
                    else ""
                )
                con.execute(f"CREATE TABLE rec_em AS SELECT * FROM rec {sample}")
                trainer = _em_trainer(db_api, con.execute, n, used, u, term_frequency)
                did_em = _em(trainer, used, notes)
                if did_em:
                    m = _shrunk_m(trainer, n_em)
            stage("score pairs")
            linker = Linker(
                [left, right],
                _settings(n, used, u, m=m, term_frequency=term_frequency),
                log_level=logging.ERROR,
            )
            pred = linker.inference.predict(threshold_match_probability=0.01)
            chart_html = _charts(linker, pred, con, thresholds) if charts else {}
        stage("decide")
        (pairs,) = _one(con, f"SELECT count(*) FROM {pred.physical_name}")
        con.execute(f"CREATE TABLE scored AS {scored_sql(pred.physical_name, used)}")
        con.execute(f"CREATE TABLE linked AS {linked_sql(thresholds)}")
        links = con.sql("SELECT * FROM linked ORDER BY record_id").to_arrow_table()
        review = con.sql(review_sql(thresholds)).to_arrow_table()
        est = _one(con, ESTIMATES_SQL)
    finally:
        con.close()
    stage("")
    precision, recall = (float("nan") if v is None else float(v) for v in est)
    return ProbabilisticResult(
        links,
        int(pairs),
        time.perf_counter() - start,
        u is not None,
        review=review,
        em=did_em,
        notes=notes,
        estimated_precision=precision,
        estimated_recall=recall,
        postcodes_not_uk_shaped=int(not_uk),
        charts=chart_html,
        stage_seconds=stages,
        stage_cpu_seconds=stages_cpu,
    )
