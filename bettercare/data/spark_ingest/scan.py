"""Identifiers by value on Spark: the DuckDB ingest's two scans, run by Spark.

The scans are written once, as DuckDB SQL: :func:`bettercare.data.ingest.identifiers.counts_sql`
(identifiers by shape, judged by :func:`~bettercare.data.ingest.identifiers.judge`) and
:func:`bettercare.data.ingest.identifier_scan.scan_on` (a known person's NHS number,
postcode, or name beside their date of birth, at any share). :class:`SparkScan` is the
:class:`~bettercare.data.ingest.identifier_scan.ScanEngine` that runs that SQL on Spark
(transpiled by :func:`.sql.to_spark`, ``bc_pseudonym`` as HMAC-SHA256 in Spark SQL) and
holds its working tables as materialised temporary views. A file with an identifier in
the wrong place is refused by :func:`~bettercare.data.ingest.identifier_scan.refuse_file`,
with the DuckDB ingest's findings, before anything of it is staged.

Known people: the NHS numbers of the file's own declared column and, through their
pseudonyms, of every table of this run so far with a ``person_id`` (the store tables
loaded before this file, the opt-out register, the identities); the names, dates of
birth and postcodes of the run's identities (the residents feed). A Spark run writes a
new store, so there is no earlier store to consult.
"""

from __future__ import annotations

from typing import Any

from bettercare.data.ingest import identifier_scan
from bettercare.data.schema import FeedSpec
from bettercare.data.spark_ingest.sql import to_spark


class SparkScan:
    """The identifier scans' engine for one Spark ingest run."""

    def __init__(self, spark: Any, key: bytes):
        self.spark, self.key = spark, key
        self.views: set[str] = set()  # working tables made by this run
        self.people: list[str] = []  # views of the run's person_id columns

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        """Every row of the DuckDB query ``sql``, run on Spark."""
        return [tuple(r) for r in self.spark.sql(to_spark(sql, self.key)).collect()]

    def _put(self, name: str, frame: Any) -> None:
        # materialised: a later query reads the rows, not the plan that made them
        frame.localCheckpoint().createOrReplaceTempView(self.ref(name))
        self.views.add(name)

    def make(self, name: str, sql: str) -> None:
        """Create (or replace) the working table ``name`` from ``sql``."""
        self._put(name, self.spark.sql(to_spark(sql, self.key)))

    def append(self, name: str, sql: str) -> None:
        """Add the rows of ``sql`` to the working table ``name``."""
        more = self.spark.sql(to_spark(sql, self.key))
        self._put(name, self.spark.table(self.ref(name)).unionByName(more))

    def drop(self, name: str) -> None:
        """Drop the working table ``name`` if this run made it."""
        if name in self.views:
            self.spark.catalog.dropTempView(self.ref(name))
            self.views.discard(name)

    def has(self, name: str) -> bool:
        """Whether this run has made the working table ``name``."""
        return name in self.views

    def ref(self, name: str) -> str:
        """The temporary view holding ``name`` (prefixed: no clash with a user's table)."""
        return f"bc_scan_{name.strip('_')}"

    def person_id_sources(self) -> list[str]:
        """Queries of every ``person_id`` of the run so far (see :meth:`set_people`)."""
        return [f"SELECT person_id FROM {self.ref(v)}" for v in self.people]

    def set_people(self, frames: list[Any]) -> None:
        """The run's tables with a ``person_id`` so far (store tables, opt-outs, identities)."""
        for name in self.people:
            self.drop(name)
        self.people = []
        for i, frame in enumerate(frames):
            name = f"people_{i}"
            frame.select("person_id").createOrReplaceTempView(self.ref(name))
            self.views.add(name)
            self.people.append(name)

    def set_identities(self, frame: Any) -> None:
        """The run's identities (person_id, names, date of birth, postcode) from now on."""
        frame.createOrReplaceTempView(self.ref("identities"))
        self.views.add("identities")
        identifier_scan.forget_identities(self)

    def close(self) -> None:
        """Drop every working table of the run."""
        for name in list(self.views):
            self.drop(name)


def refuse_identifiers(engine: SparkScan, raw: Any, name: str, feed: FeedSpec) -> None:
    """Raise ``FileRejected`` when the file's rows ``raw`` hold identifiers in the wrong place.

    ``raw``: the file read as text columns plus ``_row`` (:func:`.files.read_feed`).
    """
    view = engine.ref("raw_feed")
    raw.createOrReplaceTempView(view)
    try:
        identifier_scan.refuse_file(engine, view, name, feed)
    finally:
        engine.spark.catalog.dropTempView(view)
