"""The background worker freezes what it prepared out of full garbage collections."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator

import pytest

from bettercare.app.analytics_store import Worker


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the rest of the test process collects everything as before


def wait_for_freeze() -> int:
    """The freeze follows the job's result: wait for it (at most 10 s)."""
    for _ in range(1000):
        if gc.get_freeze_count():
            break
        time.sleep(0.01)
    return gc.get_freeze_count()


def test_an_idle_worker_freezes_the_objects_its_jobs_made(unfrozen: None) -> None:
    assert gc.get_freeze_count() == 0
    worker = Worker(freeze_when_idle=True)
    result = worker.submit(lambda: [{"prepared": i} for i in range(1000)]).result(timeout=30)
    assert wait_for_freeze() >= len(result)
    tracked = {id(o) for o in gc.get_objects()}  # the collected generations
    assert id(result) not in tracked
    assert id(result[0]) not in tracked


def test_a_busy_worker_freezes_only_when_its_queue_is_empty(unfrozen: None) -> None:
    worker = Worker(freeze_when_idle=True)
    queued = threading.Event()
    seen: list[int] = []

    def first() -> None:
        queued.wait(30)  # the second job is queued before this one ends

    done = worker.submit(first)
    second = worker.submit(lambda: seen.append(gc.get_freeze_count()))
    queued.set()
    done.result(timeout=30)
    second.result(timeout=30)
    assert seen == [0]  # nothing frozen between the two jobs
    assert wait_for_freeze() > 0  # and frozen once the queue ran dry


def test_a_worker_not_asked_to_freeze_never_does(unfrozen: None) -> None:
    Worker().submit(lambda: [{"prepared": i} for i in range(1000)]).result(timeout=30)
    time.sleep(0.2)
    assert gc.get_freeze_count() == 0
