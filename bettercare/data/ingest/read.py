"""Read a feed file (the first step of an ingest): header and rows as text.

Which files are feeds, the header, the rows as text; file-level problems reject the
whole file (:class:`FileRejected`).

File-level rule ids: ``unknown_feed``, ``duplicate_feed_file``, ``unreadable``,
``encoding``, ``empty_file``, ``wrong_delimiter``, ``missing_column``,
``unknown_column``, ``duplicate_column``, ``unexpected_type`` (a Parquet column that is
not one text, number, date or boolean value per row). Parse findings (row level):
``wrong_field_count``, ``truncated_last_row`` (the file's last record lacks fields).

Each finding is an :class:`Issue` with the file, the spreadsheet row (header = row 1,
first data row = row 2), the column, a rule id and a value that is masked for
identifiers. Row numbers count one line per record: a quoted value spanning lines
shifts the numbers of the rows after it.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

# the shared reading primitives, re-exported: the ingest's steps import them from here
from bettercare.data.feed_files import (
    ROW,
    SUFFIXES,
    TRUNCATED,
    FileRejected,
    Issue,
    check_header,
    read_feed_file,
    sha256,
)
from bettercare.data.national import COMPANIONS, NATIONAL_FILES, OTHER_SUFFIX, national_stem
from bettercare.data.national.convert import read_national
from bettercare.data.schema import FEEDS, FeedSpec

__all__ = [
    "ROW",
    "SUFFIXES",
    "TRUNCATED",
    "FileRejected",
    "Issue",
    "check_header",
    "discover",
    "read_feed",
    "sha256",
]


def discover(directory: Path) -> tuple[dict[str, Path], list[Issue]]:
    """Feed files in ``directory`` and the issues for files that cannot be used.

    A feed file is ``<feed>.csv`` or ``<feed>.parquet``, or a national dataset's file
    (:data:`bettercare.data.national.NATIONAL_FILES`, some with a suffix of their own,
    ``OTHER_SUFFIX``); a companion file (``COMPANIONS``) is read by its main file's
    reader. Unusable: an unknown feed name, two files for one feed, a companion without
    its main file.
    """
    directory = Path(directory)
    names = [p.name for p in directory.iterdir() if p.is_file()]
    found, issues = classify(names)
    return {feed: directory / name for feed, name in found.items()}, issues


def classify(names: list[str]) -> tuple[dict[str, str], list[Issue]]:
    """Which of the file ``names`` of a feed directory feed which feed (as :func:`discover`).

    Names only: the Spark ingest classifies the names it lists through Spark's file
    system with this same function.
    """
    present = set(names)
    found: dict[str, list[str]] = {}
    issues: list[Issue] = []
    for name in sorted(names):
        stem, suffix = _split(name)
        if name.startswith((".", "_")):
            continue
        if suffix not in (*SUFFIXES, ".tsv") and OTHER_SUFFIX.get(stem) != suffix:
            continue
        if stem in COMPANIONS:  # read by its main file's reader
            main = COMPANIONS[stem] + suffix
            if main not in present:
                issues.append(
                    Issue(
                        name,
                        None,
                        None,
                        "missing_companion",
                        f"{name}: read together with {main}, which is missing; add it",
                    )
                )
            continue
        feed_name = NATIONAL_FILES.get(stem, stem)
        if feed_name not in FEEDS or suffix == ".tsv":
            issues.append(
                Issue(
                    name,
                    None,
                    None,
                    "unknown_feed",
                    f"{name}: not a known feed file; expected one of {_known_files()} "
                    "(or .parquet)",
                )
            )
            continue
        found.setdefault(feed_name, []).append(name)
    files: dict[str, str] = {}
    for feed, feed_names in found.items():
        if len(feed_names) > 1:
            both = " and ".join(feed_names)
            issues += [
                Issue(
                    n,
                    None,
                    None,
                    "duplicate_feed_file",
                    f"{both}: two files for feed '{feed}'; keep one",
                )
                for n in feed_names
            ]
        else:
            files[feed] = feed_names[0]
    return files, issues


def _split(name: str) -> tuple[str, str]:
    """(stem, lower-case suffix) of a file name, as ``Path.stem`` and ``Path.suffix``."""
    path = Path(name)
    return path.stem, path.suffix.lower()


def _known_files() -> str:
    """The file names ingest knows: every feed's and every national dataset's."""
    return ", ".join(f + OTHER_SUFFIX.get(f, ".csv") for f in [*FEEDS, *NATIONAL_FILES])


def read_feed(path: Path, feed: FeedSpec) -> tuple[pa.Table, list[Issue]]:
    """The file's rows as text columns plus ``_row``, and the row issues of parsing.

    Row issues are rows with the wrong number of fields. Raises :class:`FileRejected`.

    A national dataset's file (its stem in ``NATIONAL_FILES``) is read in its own layout
    and converted into ``feed``'s (:mod:`bettercare.data.national`).
    """
    if national_stem(path.name, feed.name):
        return read_national(path)
    return read_feed_file(path, feed)
