"""Identifiers of known people, found exactly: an identifier in the wrong place at any share.

:mod:`.identifiers` judges columns by the *shape* of their values, and only from a share
of a column up (random ids look like NHS numbers now and then). This step needs no share:
a value in a column that is not declared to hold that kind of identifier is an
identifier in the wrong place when it *equals* one of a person the ingest knows:

* an NHS number (normalised, valid modulus 11) of a person in the same file (its
  declared ``nhs_number`` column), in the store (any table with a ``person_id``: the
  value's keyed pseudonym is looked up) or in the run's identities (the residents feed
  of this run or the restricted identity file, ``--identities``);
* a postcode (case and spaces ignored) of a person in the same file or those identities;
* a name (given, family, or both) of such a person together with that person's date of
  birth anywhere on the same row (``yyyy-mm-dd`` or ``dd/mm/yyyy``).

Rule: the file is refused (finding ``identifier_in_column``, the column and a count,
never a value) and nothing of it is written, whatever the share. The store keeps no names
or postcodes, so on a reload without ``--identities`` only NHS numbers are checked
against the store.

Cost: hash semi-joins in DuckDB over the file's values (no pattern is matched on every
value); the pseudonym (an HMAC) is computed only for the distinct values of undeclared
columns that are valid NHS numbers, and the store is consulted only when there are any;
dates are parsed only on rows holding a known name; the identities' postcodes and
(name, date of birth) keys are built once per run (again only when the identities are
replaced: :func:`forget_identities`), not once per file. Measured before that on a
shared 2-core machine (synthetic Leicestershire, 60,000 residents): about 0.5-1 s for
25,000 A&E rows and 1-2 s for the residents file; 5-6 s of a 22-40 s ingest in all.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, Protocol

import duckdb

from bettercare.data import nhs_numbers
from bettercare.data.duck import at_least_join_memory
from bettercare.data.feed_files import FileRejected, Issue
from bettercare.data.ingest import identifiers
from bettercare.data.national import national_stem
from bettercare.data.schema import FeedSpec

_ROW = "_row"
_DATE_RE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}"


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _v(col: str) -> str:
    return f"nullif(trim(CAST(\"{col}\" AS VARCHAR)), '')"


def _pc(expr: str) -> str:
    return f"upper(replace({expr}, ' ', ''))"


def _date(expr: str) -> str:
    """SQL: the date a text holds (ISO or dd/mm/yyyy), else NULL."""
    return (
        f"CASE WHEN regexp_full_match({expr}, {_q(_DATE_RE)}) THEN coalesce("
        f"TRY_CAST({expr} AS DATE), CAST(try_strptime({expr}, '%d/%m/%Y') AS DATE)) END"
    )


class ScanEngine(Protocol):
    """Where the scan's DuckDB SQL runs: DuckDB here, Spark in :mod:`bettercare.data.spark_ingest`.

    The scan's rules are written once, as DuckDB SQL; an engine runs it (transpiled
    where it is not DuckDB) and holds the scan's working tables.
    """

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        """Every row of the DuckDB query ``sql``."""
        ...

    def make(self, name: str, sql: str) -> None:
        """Create (or replace) the working table ``name`` from the query ``sql``."""
        ...

    def append(self, name: str, sql: str) -> None:
        """Add the rows of ``sql`` to the working table ``name``."""
        ...

    def drop(self, name: str) -> None:
        """Drop the working table ``name`` if it exists."""
        ...

    def has(self, name: str) -> bool:
        """Whether the working table (or the run's ``identities``) ``name`` exists."""
        ...

    def ref(self, name: str) -> str:
        """How SQL names the working table ``name``."""
        ...

    def person_id_sources(self) -> list[str]:
        """Queries of the ``person_id`` of every table of the store and the run so far."""
        ...


class _DuckEngine:
    """The scan on the ingest's DuckDB connection (TEMP tables, ``bc_pseudonym``)."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return self.con.execute(sql).fetchall()

    def make(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")

    def append(self, name: str, sql: str) -> None:
        self.con.execute(f"INSERT INTO temp.main.{name} {sql}")

    def drop(self, name: str) -> None:
        self.con.execute(f"DROP TABLE IF EXISTS temp.main.{name}")

    def has(self, name: str) -> bool:
        return bool(
            self.con.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'temp' "
                "AND table_name = ?",
                [name],
            ).fetchall()[0][0]
        )

    def ref(self, name: str) -> str:
        return f"temp.main.{name}"

    def person_id_sources(self) -> list[str]:
        con = self.con
        return [
            f'SELECT person_id FROM temp.main."{t}"' for t in _tables_with(con, "person_id", True)
        ] + [f'SELECT person_id FROM "{t}"' for t in _tables_with(con, "person_id", False)]


def _tables_with(con: duckdb.DuckDBPyConnection, column: str, temp: bool) -> list[str]:
    """Tables of the store (or the TEMP tables) that have ``column``."""
    db = "temp" if temp else str(_one(con, "SELECT current_database()"))
    rows = con.execute(
        "SELECT DISTINCT table_name FROM duckdb_columns() WHERE column_name = ? "
        "AND database_name = ? AND schema_name = 'main'",
        [column, db],
    ).fetchall()
    return sorted(r[0] for r in rows)


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    row = con.execute(sql).fetchone()
    return row[0] if row else None


def _union(parts: list[str]) -> str:
    return " UNION ALL ".join(parts)


def refuse_duckdb_file(
    con: duckdb.DuckDBPyConnection, view: str, name: str, feed: FeedSpec
) -> None:
    """:func:`refuse_file` on the ingest's DuckDB connection (``bc_pseudonym`` registered).

    ``view`` is the feed file read as text with its row numbers (``_row``).
    """
    refuse_file(_DuckEngine(con), view, name, feed, exact=_scan_in_join_memory)


def _scan_in_join_memory(
    engine: _DuckEngine, view: str, feed: FeedSpec, nhs_shaped: set[str], values: str
) -> list[tuple[str, str, str]]:
    """:func:`scan_on` on DuckDB, with at least the memory its hash joins need."""
    con = engine.con
    # The scan's hash joins (semi-joins on every value of every undeclared column) cannot
    # spill: under a tighter ingest ``memory_limit`` they get the floor of
    # :func:`~bettercare.data.duck.at_least_join_memory` for the scan alone, and the limit
    # is restored after it (the rest of the ingest spills as configured).
    (limit,) = con.execute("SELECT current_setting('memory_limit')").fetchone() or ("",)
    wanted = at_least_join_memory(str(limit))
    raised = wanted != str(limit)
    if raised:
        con.execute(f"SET memory_limit = '{wanted}'")
    try:
        return scan_on(engine, view, feed, nhs_shaped, values)
    finally:
        if raised:
            con.execute(f"SET memory_limit = '{limit}'")


#: The working table of a file's columns' distinct values, made once for both scans.
_VALUES = "_scan_values"


def refuse_file(
    engine: ScanEngine,
    view: str,
    name: str,
    feed: FeedSpec,
    exact: Callable[..., list[tuple[str, str, str]]] | None = None,
) -> None:
    """Refuse the file ``name`` (:class:`FileRejected`) if it holds identifiers in the wrong place.

    Both checks, on either engine: identifiers by shape
    (:func:`bettercare.data.ingest.identifiers.counts_sql`, judged by
    :func:`~bettercare.data.ingest.identifiers.judge`), then known people's identifiers at
    any share (``exact``, default :func:`scan_on`), both on each column's distinct values
    (:func:`~bettercare.data.ingest.identifiers.column_values_sql`), made once. A column
    with no value shaped like a valid NHS number cannot hold a known person's one, so the
    exact NHS-number lookup leaves it out. A national file's findings name its own
    fields. Both engines' ingests refuse a file through this one function.
    """
    engine.make(_VALUES, identifiers.column_values_sql(view, feed.column_names))
    try:
        shapes: dict[str, dict[str, int]] = {}
        rows = engine.rows(identifiers.counts_sql(feed, engine.ref(_VALUES)))
        found = identifiers.judge(rows, feed, shapes)
        nhs_shaped = {c for c, n in shapes.items() if n["nhs_number"]}
        flagged = {c for c, _, _ in found}  # a column flagged by shape is not repeated
        exact_found = (exact or scan_on)(engine, view, feed, nhs_shaped, _VALUES)
        found += [f for f in exact_found if f[0] not in flagged]
    finally:
        with contextlib.suppress(Exception):  # keep the first error, if any
            engine.drop(_VALUES)
    stem = national_stem(name, feed.name)
    if found and stem:
        from bettercare.data.national.convert import name_identifier_findings

        found = name_identifier_findings(stem, found)
    if found:
        raise FileRejected(
            [
                Issue(name, None, col, rule, f"{name}: {text}; nothing of it loaded")
                for col, rule, text in found
            ]
        )


def scan_on(
    engine: ScanEngine, view: str, feed: FeedSpec, nhs_shaped: set[str], values: str
) -> list[tuple[str, str, str]]:
    """(column, rule, message) for each column of ``view`` holding a known person's identifier.

    On any :class:`ScanEngine` (the same SQL, the same findings). ``nhs_shaped``: the
    columns holding at least one value shaped like a valid NHS number (the shape check's
    counts, whose test admits every value this one looks up); only they are looked up as
    NHS numbers. ``values``: the engine's working table of each
    column's distinct values and their counts
    (:func:`bettercare.data.ingest.identifiers.column_values_sql` over ``view``): the
    postcodes and names are then looked up once per distinct value, not per row.
    """
    kinds = feed.identifier_kinds
    cols = feed.column_names
    nhs_cols = [c for c in cols if c in nhs_shaped]
    hits: dict[str, int] = {}
    nhs = _nhs_hits(engine, view, cols, kinds, nhs_cols)
    for col, n in nhs + _postcode_hits(engine, view, cols, kinds, values):
        hits[col] = hits.get(col, 0) + n
    for col, n in _name_dob_hits(engine, view, cols, kinds, values):
        hits[col] = hits.get(col, 0) + n
    return [
        (
            col,
            "identifier_in_column",
            f"column '{col}' holds {n:,} value(s) equal to an identifier (NHS number, "
            "postcode, or name with date of birth) of a person in this load or the store: "
            "an identifier in the wrong place, refused whatever the share",
        )
        for col, n in sorted(hits.items())
    ]


def _nhs_hits(
    engine: ScanEngine,
    view: str,
    cols: list[str],
    kinds: dict[str, str],
    candidates: list[str],
) -> list[tuple[str, int]]:
    undeclared = [c for c in candidates if kinds.get(c) != "nhs_number"]
    if not undeclared:
        return []
    parts = []
    for c in undeclared:
        v = _v(c)  # only 10 to 12 characters can be an NHS number (spaces or dashes)
        d = f"CASE WHEN length({v}) BETWEEN 10 AND 12 THEN {nhs_numbers.sql_normalise(v)} END"
        parts.append(f"SELECT {_q(c)} AS col, {d} AS d FROM {view}")
    cand = (
        f"SELECT col, d FROM ({_union(parts)}) WHERE d IS NOT NULL "
        f"AND {nhs_numbers.sql_is_valid_digits('d')}"
    )
    if not engine.rows(f"SELECT 1 FROM ({cand}) LIMIT 1"):
        # the common case: no valid NHS number outside its column, nothing to look up
        return []
    known_raw = [
        f"SELECT {nhs_numbers.sql_normalise(_v(c))} AS d FROM {view}"
        for c in cols
        if kinds.get(c) == "nhs_number"
    ]
    pid_sources = engine.person_id_sources()
    conds = []
    if known_raw:
        conds.append(f"d IN ({_union(known_raw)})")
    if pid_sources:
        conds.append(f"bc_pseudonym(d) IN ({_union(pid_sources)})")
    if not conds:
        return []
    sql = (
        f"WITH cand AS ({cand}), u AS (SELECT DISTINCT d FROM cand), "
        f"known AS (SELECT d FROM u WHERE {' OR '.join(conds)}) "
        "SELECT col, count(*) FROM cand WHERE d IN (SELECT d FROM known) GROUP BY col"
    )
    return [(c, int(n)) for c, n in engine.rows(sql)]


#: The identities' postcodes and (name, date of birth) keys, built once per identities
#: table (TEMP; dropped by :func:`forget_identities` whenever it is replaced).
_KNOWN_POSTCODES = "_scan_known_postcodes"
_KNOWN_NAMES = "_scan_known_names"
_KNOWN_NAME_VALUES = "_scan_known_name_values"  # the names alone (each feed's first filter)


def forget_identities(con: duckdb.DuckDBPyConnection | ScanEngine) -> None:
    """Drop the keys built from the TEMP ``identities`` (call after replacing it)."""
    engine = _DuckEngine(con) if isinstance(con, duckdb.DuckDBPyConnection) else con
    for table in (_KNOWN_POSTCODES, _KNOWN_NAMES, _KNOWN_NAME_VALUES):
        engine.drop(table)


def _known_identities(engine: ScanEngine) -> bool:
    """Build the identities' keys if not built yet; False when there are no identities."""
    if not engine.has("identities"):
        return False
    people = (
        "SELECT lower(given_name) AS given, lower(family_name) AS family, "
        f"CAST(date_of_birth AS DATE) AS dob, {_pc('postcode')} AS pc "
        f"FROM {engine.ref('identities')}"
    )
    if not engine.has(_KNOWN_POSTCODES):
        engine.make(
            _KNOWN_POSTCODES,
            f"SELECT DISTINCT pc FROM ({people}) WHERE pc IS NOT NULL AND length(pc) >= 5",
        )
    if not engine.has(_KNOWN_NAMES):
        engine.make(_KNOWN_NAMES, _name_keys(people))
    if not engine.has(_KNOWN_NAME_VALUES):
        engine.make(_KNOWN_NAME_VALUES, f"SELECT DISTINCT v FROM {engine.ref(_KNOWN_NAMES)}")
    return True


def _name_keys(people: str) -> str:
    """SQL: the distinct (name, date of birth) keys of ``people`` (given, family, dob)."""
    return (
        f"WITH p AS ({people}), k AS (SELECT given AS v, dob FROM p UNION ALL "
        "SELECT family, dob FROM p UNION ALL SELECT given || ' ' || family, dob FROM p) "
        "SELECT DISTINCT v, dob FROM k WHERE length(v) >= 2 AND dob IS NOT NULL"
    )


def _file_people(view: str, cols: list[str], kinds: dict[str, str]) -> str | None:
    """SQL: (given, family, dob, pc) of the people of the file's own declared columns.

    None when it declares no name or postcode.
    """
    names = [c for c in cols if kinds.get(c) == "name"]
    given = next((c for c in names if "given" in c), None)
    family = next((c for c in names if "family" in c), None)
    postcode = next((c for c in cols if kinds.get(c) == "postcode"), None)
    if not (given or family or postcode):
        return None
    g = f"lower({_v(given)})" if given else "NULL"
    f = f"lower({_v(family)})" if family else "NULL"
    dob = _date(_v("date_of_birth")) if "date_of_birth" in cols else "NULL"
    pc = _pc(_v(postcode)) if postcode else "NULL"
    return f"SELECT {g} AS given, {f} AS family, CAST({dob} AS DATE) AS dob, {pc} AS pc FROM {view}"


def _postcode_hits(
    engine: ScanEngine, view: str, cols: list[str], kinds: dict[str, str], values: str
) -> list[tuple[str, int]]:
    """(column, rows) holding a known person's postcode: each distinct value looked up once."""
    known = _known_identities(engine)
    own = _file_people(view, cols, kinds)
    undeclared = [c for c in cols if kinds.get(c) != "postcode"]
    if (not known and own is None) or not undeclared:
        return []
    sources = [f"SELECT pc FROM {engine.ref(_KNOWN_POSTCODES)}"] if known else []
    if own is not None:
        sources.append(f"SELECT pc FROM ({own}) WHERE pc IS NOT NULL AND length(pc) >= 5")
    sql = (  # a hash semi-join on the distinct values, their rows counted
        f"SELECT col, sum(n) FROM {engine.ref(values)} "
        f"WHERE col IN ({', '.join(map(_q, undeclared))}) "
        f"AND {_pc('v')} IN ({_union(sources)}) GROUP BY col"
    )
    return [(c, int(n)) for c, n in engine.rows(sql)]


def _name_dob_hits(
    engine: ScanEngine,
    view: str,
    cols: list[str],
    kinds: dict[str, str],
    values: str,
) -> list[tuple[str, int]]:
    known = _known_identities(engine)
    own = _file_people(view, cols, kinds)
    undeclared = [c for c in cols if kinds.get(c) != "name"]
    if (not known and own is None) or not undeclared:
        return []
    sources = [f"SELECT v, dob FROM {engine.ref(_KNOWN_NAMES)}"] if known else []
    if own is not None:
        sources.append(f"SELECT * FROM ({_name_keys(own)})")
    kd = sources[0] if len(sources) == 1 else f"SELECT DISTINCT v, dob FROM ({_union(sources)})"
    # The values that are names, found one column at a time into a table against the
    # known names made once: as one query (a UNION of every column, each filtered by the
    # names, then dated by a second UNION) the planner built a hash table of every known
    # name per column, 14 at once for the residents file: out of memory at DuckDB's 1 GB
    # with 5.7M residents even when no value was a name. Usually empty: nothing to date.
    # The identities' names alone are made once per run; a file with people of its own
    # (the residents) adds its names in a table for this file.
    hits = "_scan_name_hits"
    known_values = _KNOWN_NAME_VALUES if own is None else "_scan_name_values"
    made = [hits] if own is None else [hits, known_values]
    try:
        if own is not None:
            engine.make(known_values, f"SELECT DISTINCT v FROM ({kd})")
        named = engine.rows(  # only the columns where some distinct value is a known name
            f"SELECT DISTINCT col FROM {engine.ref(values)} WHERE col IN "
            f"({', '.join(map(_q, undeclared))}) "
            f"AND lower(v) IN (SELECT v FROM {engine.ref(known_values)})"
        )
        undeclared = [c for c in undeclared if (c,) in named]
        if not undeclared:
            return []
        for i, c in enumerate(undeclared):
            found = (
                f"SELECT {_q(c)} AS col, {_ROW} AS r, v FROM (SELECT {_ROW}, "
                f"lower({_v(c)}) AS v FROM {view}) "
                f"WHERE v IN (SELECT v FROM {engine.ref(known_values)})"
            )
            if i == 0:
                engine.make(hits, found)
            else:
                engine.append(hits, found)
        if not engine.rows(f"SELECT count(*) FROM {engine.ref(hits)}")[0][0]:
            return []
        dates = _union(
            [
                f"SELECT {_ROW} AS r, {_date(_v(c))} AS dt FROM {view} "
                f"WHERE {_ROW} IN (SELECT r FROM {engine.ref(hits)})"
                for c in cols
            ]
        )
        sql = (
            f"WITH kd AS ({kd}), n AS (SELECT * FROM {engine.ref(hits)}), "
            f"d AS (SELECT DISTINCT r, dt FROM ({dates}) WHERE dt IS NOT NULL) "
            "SELECT n.col, count(DISTINCT n.r) FROM n JOIN kd ON n.v = kd.v "
            "JOIN d ON d.r = n.r AND d.dt = kd.dob GROUP BY n.col"
        )
        return [(c, int(n)) for c, n in engine.rows(sql)]
    finally:
        for table in made:
            engine.drop(table)
