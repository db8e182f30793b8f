"""Write a result whole or not at all: stage it in a private temp directory, then move it.

Owns the one "write into a temp dir, then move into place" helper of the package: a
report folder (:func:`staged_directory`), the synthetic feeds (:func:`staging_directory`
and :func:`swap_into_place`), the metrics outputs (:func:`staged_entries`) and single
files such as an XLSX return (:func:`staged_file`). A failure
before the move leaves what was there untouched and removes the staging directory. The
staging directory sits beside (or inside) the target so the move is a rename on one file
system. It does not own what is written.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def staging_directory(out_dir: Path) -> Path:
    """A new, empty, private (0700) directory beside ``out_dir`` to build it in."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))


def swap_into_place(staged: Path, out_dir: Path) -> None:
    """Replace ``out_dir`` (if any) by ``staged``: two renames, then the old one removed."""
    old = None
    if out_dir.exists():
        old = out_dir.with_name(f".{out_dir.name}-old-{os.getpid()}")
        shutil.rmtree(old, ignore_errors=True)
        out_dir.rename(old)
    staged.rename(out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextmanager
def staged_directory(out_dir: Path) -> Iterator[Path]:
    """Yield a staging directory that replaces ``out_dir`` whole when the block ends normally.

    On an exception it is removed and ``out_dir`` is left as it was.
    """
    out_dir = Path(out_dir)
    staged = staging_directory(out_dir)
    try:
        yield staged
        swap_into_place(staged, out_dir)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise


@contextmanager
def staged_entries(out_dir: Path) -> Iterator[Path]:
    """Yield a staging directory whose entries each replace the same-named entry of ``out_dir``.

    The staging directory lies inside ``out_dir``; entries (files and folders) replace
    theirs when the block ends normally; other entries of ``out_dir`` stay. On an
    exception nothing in ``out_dir`` changes.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".staged-", dir=out_dir) as tmp:
        staged = Path(tmp)
        yield staged
        for entry in sorted(staged.iterdir()):
            target = out_dir / entry.name
            if entry.is_dir():
                swap_into_place(entry, target)
            else:
                os.replace(entry, target)


@contextmanager
def staged_file(out: Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temp file path beside ``out`` that replaces ``out`` when the block ends normally.

    On an exception it is removed and ``out`` is left as it was.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{out.stem}-", suffix=suffix or out.suffix, dir=out.parent)
    os.close(fd)
    staged = Path(name)
    try:
        yield staged
        os.replace(staged, out)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
