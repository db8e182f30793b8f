"""The figures database: published figures kept in one DuckDB file.

Table ``published_figures``: one row per metric, area and period (the key), with the
numbers as published, whether the figure was suppressed, and where it came from (layout,
indicator id, file, row, load time). Loading a file replaces the figures of the same
keys (a re-published year) and keeps the rest. The database is written whole or not at
all: it is copied to a temporary file beside it, changed there, then moved into place
(:func:`bettercare.data.atomic.staged_file`), so a failure leaves it as it was.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from bettercare.data import duck
from bettercare.data.atomic import staged_file
from bettercare.data.figures.read import ReadResult
from bettercare.errors import BadInput, NotFound

DEFAULT_FIGURES_DB = Path("bettercare-figures.duckdb")
TABLE = "published_figures"
COLUMNS = (
    "metric",
    "area_code",
    "area_name",
    "area_type",
    "period",
    "numerator",
    "denominator",
    "value",
    "lower_95",
    "upper_95",
    "lower_998",
    "upper_998",
    "suppressed",
    "value_note",
    "layout",
    "indicator_id",
    "source_file",
    "source_row",
    "loaded_at",
)
_DDL = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    metric VARCHAR NOT NULL, area_code VARCHAR NOT NULL, area_name VARCHAR,
    area_type VARCHAR NOT NULL, period VARCHAR NOT NULL,
    numerator DOUBLE, denominator DOUBLE, value DOUBLE,
    lower_95 DOUBLE, upper_95 DOUBLE, lower_998 DOUBLE, upper_998 DOUBLE,
    suppressed BOOLEAN NOT NULL, value_note VARCHAR, layout VARCHAR NOT NULL,
    indicator_id VARCHAR, source_file VARCHAR NOT NULL, source_row INTEGER NOT NULL,
    loaded_at TIMESTAMP NOT NULL,
    PRIMARY KEY (metric, area_code, period)
)
"""


@dataclass(frozen=True)
class LoadSummary:
    """What a load did."""

    database: Path
    layout: str
    loaded: int
    replaced: int
    suppressed: int
    skipped: dict[str, int]
    total: int  # figures in the database afterwards


def _frame(result: ReadResult, source: str, now: dt.datetime) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "metric": r.metric,
                "area_code": r.area_code,
                "area_name": r.area_name,
                "area_type": r.area_type.value,
                "period": r.period,
                "numerator": r.numerator,
                "denominator": r.denominator,
                "value": r.value,
                "lower_95": r.lower_95,
                "upper_95": r.upper_95,
                "lower_998": r.lower_998,
                "upper_998": r.upper_998,
                "suppressed": r.suppressed,
                "value_note": r.value_note,
                "layout": r.layout,
                "indicator_id": r.indicator_id,
                "source_file": source,
                "source_row": r.row,
                "loaded_at": now,
            }
            for r in result.rows
        ],
        columns=list(COLUMNS),
    ).astype({c: "float64" for c in COLUMNS[5:12]})


def load_figures(result: ReadResult, database: Path, source: str) -> LoadSummary:
    """Write the validated rows of one file into ``database`` (created if missing), atomically."""
    database = Path(database)
    try:
        duck.check_file(database)
    except duck.DatabaseFileError as exc:
        raise BadInput(str(exc)) from None
    frame = _frame(result, source, dt.datetime.now(dt.UTC).replace(tzinfo=None))
    try:
        with staged_file(database, ".duckdb") as staged:
            staged.unlink()
            if database.is_file() and database.stat().st_size:
                shutil.copyfile(database, staged)
            con = duck.connect(staged)
            try:
                con.execute(_DDL)
                con.register("incoming", frame)
                replaced = con.execute(
                    f"SELECT count(*) FROM {TABLE} t JOIN incoming i USING "
                    "(metric, area_code, period)"
                ).fetchone()
                con.execute(
                    f"DELETE FROM {TABLE} t USING incoming i WHERE t.metric = i.metric AND "
                    "t.area_code = i.area_code AND t.period = i.period"
                )
                con.execute(f"INSERT INTO {TABLE} SELECT {', '.join(COLUMNS)} FROM incoming")
                total = con.execute(f"SELECT count(*) FROM {TABLE}").fetchone()
                con.execute("CHECKPOINT")
            finally:
                con.close()
    except (duckdb.Error, duck.DatabaseFileError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise BadInput(f"figures database {database} could not be written: {first}") from None
    return LoadSummary(
        database=database,
        layout=result.layout,
        loaded=len(frame),
        replaced=int(replaced[0]) if replaced else 0,
        suppressed=int(frame.suppressed.sum()),
        skipped=dict(result.skipped),
        total=int(total[0]) if total else 0,
    )


def read_figures(database: Path) -> pd.DataFrame:
    """Every figure in ``database`` (columns :data:`COLUMNS`); NotFound/BadInput one line."""
    database = Path(database)
    if not database.is_file():
        raise NotFound(
            f"no figures database at {database} (load one with `bettercare figures load`)"
        )
    try:
        con = duck.connect(database, read_only=True)
    except duck.DatabaseFileError as exc:
        raise BadInput(str(exc)) from None
    try:
        frame = con.execute(f"SELECT {', '.join(COLUMNS)} FROM {TABLE}").df()
    except duckdb.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise BadInput(f"{database} holds no published figures: {first}") from None
    finally:
        con.close()
    return frame
