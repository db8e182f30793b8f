"""How the web app gets an analytics store, and the plan measured on it, without waiting.

Owns where the store of a plan comes from and when it is measured; the measuring is the
analytics layer's (:func:`bettercare.reporting.board_pack.measure`, the same analytics as
``bettercare metrics``), the figures and charts are reporting's.

Where the store comes from:

* ``bettercare serve --store PATH`` (``settings.store``): every plan is measured on it.
  A plan of an HWB the store does not hold gets a clear message instead of metrics.
* no store (the demo): a small synthetic store per plan, for plans whose HWB has a
  synthetic preset (:mod:`bettercare.pipelines.demo_store`: Leicester,
  Leicestershire, Rutland, Lancashire). It is generated, ingested (NHS numbers validated
  and pseudonymised) and measured by :func:`bettercare.pipelines.synthetic.run_synthetic`
  in ``<database>.analytics/<plan id>/`` beside the app's SQLite file (``./bettercare-
  app.analytics`` for PostgreSQL), built once and reused after a restart. A plan with no
  preset (e.g. the fictional Marlbury) is shown from its own quarterly returns only.
* ``bettercare serve --figures PATH`` (``settings.figures``): published figures, measured
  with the store, or alone for a plan with no store (each figure says its source).

When: never at server start (start stays fast). The first request for a plan's metrics
queues a job on one background thread (one job at a time, so a 2-core machine keeps
serving pages); the page shows "metrics are being prepared" and refreshes itself until
the result is ready. Results are kept in memory per plan *version* and store file, so an
edited plan or a replaced store is measured afresh, and page views never touch DuckDB.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bettercare.domain.plan import Plan
from bettercare.pipelines.demo_store import (  # the demo store's recipe (and re-exported)
    ensure_demo_store,
    preset_for,
)
from bettercare.services.dashboard import (  # one drawing at a time (matplotlib is global)
    CHARTS_LOCK,
    draw_charts,
)
from bettercare.services.figures import peers_from_file

if TYPE_CHECKING:
    from fastapi import FastAPI

    from bettercare.app.settings import AppSettings
    from bettercare.reporting.board_pack import LinkedData

#: Residents of a demo store: enough for stable monthly rates, small enough to build in
#: well under a minute on a laptop (rates per 100,000 do not depend on it).
SYNTHETIC_POPULATION = 20_000
SYNTHETIC_SEED = 42
#: Measured plans kept in memory (each holds a few small frames and charts).
CACHE_SIZE = 32
_MAKING = threading.Lock()
_RUNS = itertools.count(1)
log = logging.getLogger(__name__)


class Worker:
    """One background thread running jobs in turn (a daemon: Ctrl+C never waits for it).

    ``concurrent.futures.ThreadPoolExecutor`` joins its threads at exit, so stopping the
    server would wait for a demo store being generated. A job cut short leaves no ready
    marker, so the store is built again on the next start.
    """

    def __init__(self) -> None:
        """No thread until the first job."""
        self._jobs: queue.SimpleQueue[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]]
        self._jobs = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """Queue ``fn(*args)``; its future holds the result or the exception."""
        future: Future[Any] = Future()
        self._jobs.put((future, fn, args))
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="analytics", daemon=True)
                self._thread.start()
        return future

    def alive(self) -> bool:
        """True when jobs can run: no thread yet (started on demand) or a live one."""
        return self._thread is None or self._thread.is_alive()

    def shutdown(self) -> None:
        """Cancel every queued job."""
        while True:
            try:
                future, _, _ = self._jobs.get_nowait()
            except queue.Empty:
                return
            future.cancel()

    def _run(self) -> None:
        while True:
            future, fn, args = self._jobs.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # handed to whoever waits on the future
                future.set_exception(exc)


class StoreState(StrEnum):
    """Where a plan's metrics are."""

    READY = "ready"  # measured: ``linked`` holds the figures
    PREPARING = "preparing"  # a background job is building or measuring the store
    FAILED = "failed"  # the store could not be built or measured: ``message`` says why
    NONE = "none"  # no store for this plan: the page shows the plan's own returns


@dataclass(frozen=True)
class StoreStatus:
    """A plan's metrics as the page shows them, with where they came from."""

    state: StoreState
    message: str = ""
    linked: LinkedData | None = None
    #: the dashboard's charts, drawn once with the measuring
    #: (:func:`bettercare.services.dashboard.draw_charts`)
    charts: Any = None
    synthetic: bool = False
    population: int | None = None
    years: tuple[str, ...] = ()
    #: which measuring this is (unique in the process): caches of what is made from it key on it
    run: int = 0


def analytics_dir(settings: AppSettings) -> Path:
    """Where demo stores are kept: beside a SQLite database, else in the working folder."""
    prefix = "sqlite:///"
    url = settings.database_url
    if url.startswith(prefix) and ":memory:" not in url:
        db = Path(url[len(prefix) :])
        return db.with_name(db.stem + ".analytics")
    return Path.cwd() / "bettercare-app.analytics"


class AnalyticsStores:
    """The app's analytics stores and a cache of plans measured on them (one per app)."""

    def __init__(
        self,
        store: Path | None,
        root: Path,
        population: int = SYNTHETIC_POPULATION,
        seed: int = SYNTHETIC_SEED,
        figures: Path | None = None,
        peers: Path | None = None,
    ) -> None:
        """``store``: the configured store (None: demo stores under ``root``).

        ``figures``: a figures database of published figures, measured with the store,
        or alone for a plan with no store (a board without person-level data).
        ``peers``: a peer file naming each board's peers (default: its NHS region).
        """
        self.store = store
        self.figures = figures
        self.peers = peers
        self.root = root
        self.population = population
        self.seed = seed
        self._lock = threading.Lock()
        self._jobs: OrderedDict[tuple[str, int, str, float], Future[StoreStatus]] = OrderedDict()
        self._pool = Worker()
        self._memos: dict[str, OrderedDict[tuple[Any, ...], Any]] = {}

    def ready(self) -> str | None:
        """None when the analytics worker can take jobs, else why not (the readiness probe)."""
        if self.store is not None and not self.store.is_file():
            return f"analytics store {self.store.name} is missing"
        if not self._pool.alive():
            return "analytics worker stopped"
        return None

    def memo(self, name: str) -> OrderedDict[tuple[Any, ...], Any]:
        """This app's cache ``name`` of what pages make from its plans (board packs, models)."""
        return self._memos.setdefault(name, OrderedDict())

    # -- what a page asks --------------------------------------------------------------
    def status(self, plan_id: str, version: int, plan: Plan) -> StoreStatus:
        """The plan's metrics now: ready, being prepared (a job is queued), failed or none."""
        path, note = self._store_of(plan_id, plan)
        if path is None and not self._published_only(plan):
            return StoreStatus(StoreState.NONE, note)
        future = self._job(plan_id, version, plan, path)
        if not future.done():
            doing = (
                "A small synthetic analytics store is being generated, ingested and measured "
                "for the demo; this takes a minute or so."
                if self._demo
                else "The plan is being measured on the analytics store."
            )
            return StoreStatus(
                StoreState.PREPARING, f"{doing} This page refreshes itself.", synthetic=self._demo
            )
        return _outcome(future)

    def wait(self, plan_id: str, version: int, plan: Plan, timeout: float = 600) -> StoreStatus:
        """Block until the plan's metrics are ready or failed (for tests and the CLI)."""
        path, note = self._store_of(plan_id, plan)
        if path is None and not self._published_only(plan):
            return StoreStatus(StoreState.NONE, note)
        future = self._job(plan_id, version, plan, path)
        future.exception(timeout)  # waits; raises TimeoutError if it takes longer
        return _outcome(future)

    def shutdown(self) -> None:
        """Cancel the queued jobs (a running one finishes)."""
        self._pool.shutdown()

    # -- where the store is ------------------------------------------------------------
    @property
    def _demo(self) -> bool:
        return self.store is None

    def _store_of(self, plan_id: str, plan: Plan) -> tuple[Path | None, str]:
        if self.store is not None:
            return self.store, ""
        if preset_for(plan) is None:
            return None, (
                f"No analytics store is configured and there is no synthetic data for "
                f"{plan.hwb.name}: shown from the plan's own quarterly returns. Start the "
                "server with --store PATH to measure it on linked data."
            )
        return self.root / plan_id / "store" / "bettercare.duckdb", ""

    def _published_only(self, plan: Plan) -> bool:
        """True when the plan has no store but published figures can measure it."""
        return self.figures is not None and plan.hwb.ons_code is not None

    def _job(
        self, plan_id: str, version: int, plan: Plan, path: Path | None
    ) -> Future[StoreStatus]:
        # A configured store (or figures database) replaced on disk is measured afresh.
        mtime = path.stat().st_mtime if path and not self._demo and path.is_file() else 0.0
        if self.figures is not None and self.figures.is_file():
            mtime += self.figures.stat().st_mtime
        key = (plan_id, version, str(path), mtime)
        with self._lock:
            future = self._jobs.get(key)
            if future is None:
                future = self._pool.submit(self._prepare, plan_id, plan, path)
                self._jobs[key] = future
                while len(self._jobs) > CACHE_SIZE:
                    self._jobs.popitem(last=False)
            else:
                self._jobs.move_to_end(key)
            return future

    # -- the background job ------------------------------------------------------------
    def _prepare(self, plan_id: str, plan: Plan, path: Path | None) -> StoreStatus:
        """Build the demo store if it is missing, then measure the plan on it.

        ``path`` None: the plan is measured on the published figures alone.
        """
        from bettercare.reporting.board_pack import BoardPackError, measure

        years: tuple[str, ...] = ()
        try:
            if self._demo and path is not None:
                years = self._ensure_synthetic(plan_id, plan)
            peers = peers_from_file(self.peers, plan.hwb.ons_code)
            linked = measure(plan, path, figures=self.figures, peers=peers)
            with CHARTS_LOCK:
                charts = draw_charts(plan, linked)
        except BoardPackError as exc:
            return StoreStatus(StoreState.FAILED, str(exc), synthetic=self._demo)
        except (OSError, ValueError) as exc:  # generator or ingest refused the demo run
            return StoreStatus(
                StoreState.FAILED, f"the demo store could not be built: {exc}", synthetic=True
            )
        synthetic = self._demo and path is not None
        return StoreStatus(
            StoreState.READY,
            linked=linked,
            charts=charts,
            synthetic=synthetic,
            population=self.population if synthetic else None,
            years=years,
            run=next(_RUNS),
        )

    def _ensure_synthetic(self, plan_id: str, plan: Plan) -> tuple[str, ...]:
        """The plan's demo store: reused when a finished one exists, else generated."""
        return ensure_demo_store(plan, self.root / plan_id, self.population, self.seed)


def _outcome(future: Future[StoreStatus]) -> StoreStatus:
    """A finished job's status; an unexpected error is logged and shown as a failure."""
    exc = future.exception()
    if exc is None:
        return future.result()
    log.error("measuring a plan failed", exc_info=exc)
    return StoreStatus(
        StoreState.FAILED, f"an unexpected error ({type(exc).__name__}); see the server log"
    )


def stores_of(app: FastAPI) -> AnalyticsStores:
    """The app's :class:`AnalyticsStores`, made on first use from its settings."""
    with _MAKING:
        stores: AnalyticsStores | None = getattr(app.state, "analytics", None)
        if stores is None:
            settings: AppSettings = app.state.settings
            stores = AnalyticsStores(
                settings.store,
                analytics_dir(settings),
                figures=settings.figures,
                peers=settings.peers,
            )
            app.state.analytics = stores
        return stores
