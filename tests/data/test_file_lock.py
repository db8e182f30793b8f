"""The file lock lets one process at a time into the block (data/file_lock.py)."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

from bettercare.data.file_lock import exclusive


def _hold(lock: str, log: str, name: str) -> None:
    with exclusive(Path(lock)):
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"{name} in\n")
        time.sleep(1.0)
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"{name} out\n")


def test_two_processes_take_turns(tmp_path):
    lock, log = tmp_path / "x.lock", tmp_path / "log.txt"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_hold, args=(str(lock), str(log), n)) for n in "ab"]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    lines = log.read_text().split()
    # never "a in, b in": each is out before the other is in
    assert len(lines) == 8
    first, second = lines[0], lines[4]
    assert lines[:4] == [first, "in", first, "out"]
    assert lines[4:] == [second, "in", second, "out"]
    assert {first, second} == {"a", "b"}


def test_the_lock_file_is_private(tmp_path):
    with exclusive(tmp_path / "sub" / "y.lock"):
        pass
    assert (tmp_path / "sub" / "y.lock").stat().st_mode & 0o777 == 0o600
