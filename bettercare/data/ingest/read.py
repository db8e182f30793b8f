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
from bettercare.data.national import COMPANIONS, NATIONAL_FILES, OTHER_SUFFIX
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
    found: dict[str, list[Path]] = {}
    issues: list[Issue] = []
    for path in sorted(p for p in Path(directory).iterdir() if p.is_file()):
        suffix = path.suffix.lower()
        if path.name.startswith((".", "_")):
            continue
        if suffix not in (*SUFFIXES, ".tsv") and OTHER_SUFFIX.get(path.stem) != suffix:
            continue
        if path.stem in COMPANIONS:  # read by its main file's reader
            main = path.with_name(COMPANIONS[path.stem] + suffix)
            if not main.is_file():
                issues.append(
                    Issue(
                        path.name,
                        None,
                        None,
                        "missing_companion",
                        f"{path.name}: read together with {main.name}, which is missing; add it",
                    )
                )
            continue
        feed_name = NATIONAL_FILES.get(path.stem, path.stem)
        if feed_name not in FEEDS or path.suffix.lower() == ".tsv":
            issues.append(
                Issue(
                    path.name,
                    None,
                    None,
                    "unknown_feed",
                    f"{path.name}: not a known feed file; expected one of {_known_files()} "
                    "(or .parquet)",
                )
            )
            continue
        found.setdefault(feed_name, []).append(path)
    files: dict[str, Path] = {}
    for feed, paths in found.items():
        if len(paths) > 1:
            names = " and ".join(p.name for p in paths)
            issues += [
                Issue(
                    p.name,
                    None,
                    None,
                    "duplicate_feed_file",
                    f"{names}: two files for feed '{feed}'; keep one",
                )
                for p in paths
            ]
        else:
            files[feed] = paths[0]
    return files, issues


def _known_files() -> str:
    """The file names ingest knows: every feed's and every national dataset's."""
    return ", ".join(f + OTHER_SUFFIX.get(f, ".csv") for f in [*FEEDS, *NATIONAL_FILES])


def read_feed(path: Path, feed: FeedSpec) -> tuple[pa.Table, list[Issue]]:
    """The file's rows as text columns plus ``_row``, and the row issues of parsing.

    Row issues are rows with the wrong number of fields. Raises :class:`FileRejected`.

    A national dataset's file (its stem in ``NATIONAL_FILES``) is read in its own layout
    and converted into ``feed``'s (:mod:`bettercare.data.national`).
    """
    if path.stem in NATIONAL_FILES and path.stem != feed.name:
        return read_national(path)
    return read_feed_file(path, feed)
