"""Files for the Spark ingest through Spark's own file system (local, HDFS, S3, DBFS).

Listing a feed directory, reading a feed file as text columns plus ``_row`` (the
spreadsheet row number: header = 1), its SHA-256, the store's key check, and the
rename that puts a finished store in place. Nothing here assumes a local disk: every
path goes through Hadoop's ``FileSystem`` of the running Spark session.
"""

from __future__ import annotations

import csv
import hashlib
import re
from typing import Any

from bettercare.data.feed_files import ROW, FileRejected, Issue, check_header
from bettercare.data.ingest.read import classify
from bettercare.data.national import national_stem
from bettercare.data.schema import FeedSpec

_COMPLEX = ("array", "struct", "map", "binary")


def _fs(spark: Any, path: str) -> tuple[Any, Any]:
    jvm = spark.sparkContext._jvm
    jpath = jvm.org.apache.hadoop.fs.Path(path)
    return jpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), jpath


def basename(path: str) -> str:
    """The file name of ``path``."""
    return path.rstrip("/").rsplit("/", 1)[-1]


def is_dir(spark: Any, path: str) -> bool:
    """Whether ``path`` is a directory."""
    fs, jpath = _fs(spark, path)
    return bool(fs.exists(jpath) and fs.getFileStatus(jpath).isDirectory())


def delete(spark: Any, path: str) -> None:
    """Remove ``path`` (recursively) if it exists."""
    fs, jpath = _fs(spark, path)
    if fs.exists(jpath):
        fs.delete(jpath, True)


def replace(spark: Any, new: str, store: str) -> None:
    """Put the finished store ``new`` at ``store`` (an earlier store moved aside first)."""
    fs, jstore = _fs(spark, store)
    _, jnew = _fs(spark, new)
    old = f"{store}.old-{basename(new).rsplit('-', 1)[-1]}"
    _, jold = _fs(spark, old)
    if fs.exists(jstore) and not fs.rename(jstore, jold):
        raise OSError(f"cannot move the earlier store {store} aside")
    if not fs.rename(jnew, jstore):
        if fs.exists(jold):
            fs.rename(jold, jstore)
        raise OSError(f"cannot rename {new} to {store}")
    delete(spark, old)


def discover(spark: Any, directory: str) -> tuple[dict[str, str], list[Issue]]:
    """Feed files in ``directory`` and unusable ones, as the DuckDB ingest finds them.

    The names are listed through Spark's file system and classified by
    :func:`bettercare.data.ingest.read.classify`: internal feed files
    (``<feed>.csv`` / ``.parquet``) and national dataset files
    (:data:`bettercare.data.national.NATIONAL_FILES`); an unknown feed name, two files
    for one feed, or a companion without its main file is an issue.
    """
    fs, jpath = _fs(spark, directory)
    names = [str(s.getPath().getName()) for s in fs.listStatus(jpath) if s.isFile()]
    found, issues = classify(names)
    return {feed: f"{directory}/{name}" for feed, name in found.items()}, issues


def local_path(path: str) -> str | None:
    """The local file system path of ``path`` (None: it is on HDFS, S3, DBFS...)."""
    if path.startswith("file://"):
        return path[len("file://") :]
    if path.startswith("file:"):
        return path[len("file:") :]
    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", path)
    return None if scheme and len(scheme.group(1)) > 1 else path  # C:\ is a drive


def read_national_file(spark: Any, path: str, feed: FeedSpec) -> tuple[Any, list[Issue]]:
    """A national dataset's file converted on the driver into ``feed``'s layout.

    The national readers (:func:`bettercare.data.national.convert.read_national`) are
    Python over Arrow: they run on the Spark driver, so the file must be where the driver
    reads it (a local path or a mount such as ``/dbfs/...``); the converted rows (text
    columns plus ``_row``) are then handed to Spark. Raises :class:`FileRejected` with
    the DuckDB ingest's findings, or ``national_file_not_local`` for a path the driver
    cannot open.
    """
    from pathlib import Path

    from bettercare.data.national.convert import read_national

    name = basename(path)
    local = local_path(path)
    if local is None:
        raise FileRejected(
            [
                Issue(
                    name,
                    None,
                    None,
                    "national_file_not_local",
                    f"{name}: a national dataset's file is converted on the Spark driver, "
                    "which reads local paths only (a mount such as /dbfs/... is local); put "
                    "it there, or supply the feed in the internal layout (docs/spark.md)",
                )
            ]
        )
    table, issues = read_national(Path(local))
    table = table.select([*feed.column_names, ROW])
    schema = ", ".join(f"`{c}` STRING" for c in feed.column_names) + f", {ROW} BIGINT"
    # through pandas: Arrow carries it to the JVM in batches (spark.sql.execution.arrow)
    return spark.createDataFrame(table.to_pandas(), schema), issues


def _numbered(spark: Any, frame: Any) -> Any:
    """``frame`` with ``_row`` = its position + 2 (file order; works across partitions)."""
    from pyspark.sql.types import LongType, StructField, StructType

    schema = StructType([*frame.schema.fields, StructField(ROW, LongType(), False)])
    rdd = frame.rdd.zipWithIndex().map(lambda pair: (*pair[0], pair[1] + 2))
    return spark.createDataFrame(rdd, schema)


def _as_text(field: Any) -> str:
    """Spark SQL: a Parquet column as the DuckDB ingest's reader writes it as text."""
    name, kind = f"`{field.name}`", field.dataType.simpleString()
    if kind in ("float", "double"):  # 3.0 -> '3' (as Arrow casts it), 2.5 -> '2.5'
        return (
            f"CASE WHEN {name} = floor({name}) AND abs({name}) < 1e15 "
            f"THEN CAST(CAST({name} AS BIGINT) AS STRING) ELSE CAST({name} AS STRING) END"
        )
    return f"CAST({name} AS STRING)"


def read_feed(spark: Any, path: str, feed: FeedSpec) -> tuple[Any, list[Issue]]:
    """The file's rows as text columns plus ``_row``, and the rows it could not read.

    Raises :class:`FileRejected` for a file-level problem (header, column types), with
    the DuckDB ingest's rule ids and messages.
    """
    name = basename(path)
    if national_stem(name, feed.name):
        return read_national_file(spark, path, feed)
    if path.lower().endswith(".parquet"):
        try:
            frame = spark.read.parquet(path)
        except Exception as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
            raise FileRejected(
                [
                    Issue(
                        name,
                        None,
                        None,
                        "unreadable",
                        f"{name}: not a readable Parquet file ({first})",
                    )
                ]
            ) from None
        check_header(name, feed, list(frame.columns))
        exprs = []
        for f in frame.schema.fields:
            if f.name not in feed.column_names:
                continue
            kind = f.dataType.simpleString()
            if kind.startswith(_COMPLEX):
                raise FileRejected(
                    [
                        Issue(
                            name,
                            None,
                            f.name,
                            "unexpected_type",
                            f"{name}: column '{f.name}' has type {kind}; expected one text, "
                            "number, date or boolean value per row",
                        )
                    ]
                )
            exprs.append(f"{_as_text(f)} AS `{f.name}`")
        return _numbered(spark, frame.selectExpr(*exprs).select(*feed.column_names)), []
    first = spark.read.text(path).first()
    if first is None or not first[0].strip():
        raise FileRejected([Issue(name, 1, None, "empty_file", f"{name}: no header row")])
    header = [h.strip() for h in next(csv.reader([first[0].lstrip("\ufeff")]))]
    check_header(name, feed, header)
    schema = ", ".join(f"`{h}` STRING" for h in header) + ", _corrupt STRING"
    frame = (
        spark.read.option("header", True)
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", "_corrupt")
        .schema(schema)
        .csv(path)
    )
    numbered = _numbered(spark, frame).cache()
    bad = numbered.where("_corrupt IS NOT NULL").select(ROW, "_corrupt").collect()
    issues = [
        Issue(
            name,
            int(r[0]),
            None,
            "wrong_field_count",
            f"row has {len(next(csv.reader([r[1]])))} fields, header has {len(header)}",
        )
        for r in bad
    ]
    rows = numbered.where("_corrupt IS NULL").select(*feed.column_names, ROW)
    return rows, issues


def sha256(spark: Any, path: str) -> str:
    """Hex SHA-256 of the file's bytes, read through Spark's file system."""
    data = spark.sparkContext.binaryFiles(path).map(lambda kv: kv[1]).first()
    return hashlib.sha256(data).hexdigest()


def key_check(spark: Any, store: str) -> str | None:
    """The key check value an existing Parquet store holds (None: no store there)."""
    meta = f"{store}/store_meta"
    fs, jpath = _fs(spark, meta)
    if not fs.exists(jpath):
        return None
    row = spark.read.parquet(meta).where("name = 'key_check'").first()
    return None if row is None else str(row["value"])
