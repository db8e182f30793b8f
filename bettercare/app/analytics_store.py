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

When: in the background, never in a request. One job per plan *version* (and store
file) on one background thread (one job at a time, so a 2-core machine keeps serving
pages) measures the plan, draws the dashboard's charts and makes its board pack and
models; pages only read what it made. Jobs are queued when a plan is published or
reaches a published state, when a configured store is replaced, and after the server
starts (published plans; with ``--demo``, every plan):
:mod:`bettercare.app.preparation` queues them at :data:`BACKGROUND` priority, after the
server already answers. A page asking for a plan not yet prepared queues (or promotes)
its job at :data:`URGENT` priority and shows "being prepared" (HTTP 200), refreshing
itself until the result is ready. An edited plan or a replaced store is prepared afresh,
and page views never touch DuckDB. With ``serve --workers N`` each worker process
prepares for itself; a demo store is built by one of them under a file lock
(:func:`bettercare.data.file_lock.exclusive`) and reused by the others.
"""

from __future__ import annotations

import gc
import heapq
import itertools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
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
#: The modelling page's bases: the plan's stated ranges, and fitted to the store.
BASES = ("plan", "observed")
#: Measured plans kept in memory (each holds a few small frames and charts).
CACHE_SIZE = 32
_MAKING = threading.Lock()
_RUNS = itertools.count(1)
log = logging.getLogger(__name__)


#: Job priorities: a page someone is waiting for goes before background preparation.
URGENT, BACKGROUND = 0, 1


class Worker:
    """One background thread running jobs in turn (a daemon: Ctrl+C never waits for it).

    Jobs run by priority, then in the order queued: a job a page view waits for
    (:data:`URGENT`) overtakes the preparation queued at start-up or on publishing
    (:data:`BACKGROUND`), and :meth:`promote` moves a queued job to the front when someone
    asks for it. ``concurrent.futures.ThreadPoolExecutor`` has no priorities and joins its
    threads at exit (stopping the server would wait for a demo store being generated),
    hence this class. A job cut short leaves no ready marker, so the store is built again
    on the next start.
    """

    def __init__(self, freeze_when_idle: bool = False) -> None:
        """No thread until the first job.

        ``freeze_when_idle``: after the last queued job, freeze what is alive out of full
        garbage collections (:func:`freeze_long_lived`; a server's worker, not a test's).
        """
        self.freeze_when_idle = freeze_when_idle
        self._pending: list[list[Any]] = []  # [priority, order, future, fn, args]
        self._order = itertools.count()
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None

    def submit(self, fn: Callable[..., Any], *args: Any, priority: int = URGENT) -> Future[Any]:
        """Queue ``fn(*args)``; its future holds the result or the exception."""
        future: Future[Any] = Future()
        with self._ready:
            heapq.heappush(self._pending, [priority, next(self._order), future, fn, args])
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="analytics", daemon=True)
                self._thread.start()
            self._ready.notify()
        return future

    def promote(self, future: Future[Any]) -> None:
        """Run ``future``'s job next if it is still queued (someone is waiting for it)."""
        with self._ready:
            for entry in self._pending:
                if entry[2] is future and entry[0] > URGENT:
                    entry[0] = URGENT
                    heapq.heapify(self._pending)
                    return

    def alive(self) -> bool:
        """True when jobs can run: no thread yet (started on demand) or a live one."""
        return self._thread is None or self._thread.is_alive()

    def shutdown(self) -> None:
        """Cancel every queued job."""
        with self._ready:
            pending, self._pending = self._pending, []
        for entry in pending:
            entry[2].cancel()

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._pending:
                    self._ready.wait()
                _, _, future, fn, args = heapq.heappop(self._pending)
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # handed to whoever waits on the future
                future.set_exception(exc)
            with self._ready:
                idle = not self._pending
            if idle and self.freeze_when_idle:
                freeze_long_lived()


def freeze_long_lived() -> None:
    """Move every object alive now out of the garbage collector's full collections.

    What a worker holds for its lifetime (the imported libraries, the prepared metrics,
    charts, board packs and models: ~450k objects) would otherwise be traversed by every
    full collection, which a page view's allocations trigger every few seconds; on this
    project's 2-core machine one took 0.3-1.7 s, stalling every request in the worker (the
    overview's p95 under load was those pauses). Frozen objects are still freed when their
    last reference goes; only a reference cycle among them would outlive its use, and the
    prepared results are replaced per plan version, not churned. The standard library's
    documented use of :func:`gc.freeze` (a long-lived server process).
    """
    gc.collect()
    gc.freeze()


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
    #: the board pack (:class:`~bettercare.reporting.board_pack.BoardPack`), built with the
    #: measuring so a page view never builds it (None: it could not be made, see the log)
    pack: Any = None
    #: the modelling page's (model, message) per basis ("plan", "observed"), likewise
    models: dict[str, tuple[Any, str | None]] = field(default_factory=dict)


#: What is prepared for a plan version, in the order its jobs run.
PARTS = ("metrics", "pack", "models")


@dataclass(frozen=True)
class Preparation:
    """A plan version's jobs: the measuring, the board pack and the models (futures)."""

    futures: dict[str, Future[Any]]

    def status(self, part: str) -> StoreStatus:
        """The measuring's status with ``part`` (done) added: "pack", "models" or "all"."""
        status = _outcome(self.futures["metrics"])
        if part in ("pack", "all"):
            status = replace(status, pack=_result(self.futures["pack"]))
        if part in ("models", "all"):
            status = replace(status, models=_result(self.futures["models"]) or {})
        return status


def _result(future: Future[Any]) -> Any:
    """A finished job's result; None (logged) when it failed or was cancelled."""
    if future.cancelled():
        return None
    exc = future.exception()
    if exc is not None:
        log.error("preparing a plan's report failed", exc_info=exc)
        return None
    return future.result()


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
        self._jobs: OrderedDict[tuple[str, int, str, float], Preparation] = OrderedDict()
        self._pool = Worker()
        self._memos: dict[str, OrderedDict[tuple[Any, ...], Any]] = {}

    def freeze_when_idle(self) -> None:
        """Freeze what the worker prepared after each run of jobs (a server process)."""
        self._pool.freeze_when_idle = True

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
        """The plan's metrics now: ready, being prepared (a job is queued), failed or none.

        For the metrics page: a plan with no store is shown from its returns at once.
        """
        path, note = self._store_of(plan_id, plan)
        if path is None and not self._published_only(plan):
            return StoreStatus(StoreState.NONE, note)
        return self._now(self._job(plan_id, version, plan, path), path, "metrics")

    def prepared(self, plan_id: str, version: int, plan: Plan, part: str = "pack") -> StoreStatus:
        """The plan with its board pack (``part`` "pack") or models ("models") made.

        PREPARING until the part is made (its job is queued, or run next). For the board
        pack and modelling pages, which only read what the jobs made; a plan with no store
        gets jobs too (its pack and model are made in the background).
        """
        path, _ = self._store_of(plan_id, plan)
        return self._now(self._job(plan_id, version, plan, path), path, part)

    def prepare(self, plan_id: str, version: int, plan: Plan) -> None:
        """Queue the plan's preparation behind any page someone waits for (publish, start)."""
        path, _ = self._store_of(plan_id, plan)
        self._job(plan_id, version, plan, path, BACKGROUND)

    def wait(self, plan_id: str, version: int, plan: Plan, timeout: float = 600) -> StoreStatus:
        """Block until the plan is prepared (ready, failed or none; for tests and the CLI)."""
        path, _ = self._store_of(plan_id, plan)
        job = self._job(plan_id, version, plan, path)
        for part in PARTS:
            self._pool.promote(job.futures[part])
        for part in PARTS:
            job.futures[part].exception(timeout)  # waits; TimeoutError if it takes longer
        return job.status("all")

    def pdf(self, key: tuple[Any, ...], pack: Any) -> bytes | None:
        """The pack's PDF if made, else None and the PDF queued (WeasyPrint, in the background)."""
        from bettercare.services.board_pack import pack_pdf

        with self._lock:
            pdfs: OrderedDict[tuple[Any, ...], Future[bytes]] = self.memo("pdf_jobs")
            future = pdfs.get(key)
            if future is None:
                future = self._pool.submit(pack_pdf, self.memo("board_pack_pdfs"), key, pack)
                pdfs[key] = future
                while len(pdfs) > CACHE_SIZE:
                    pdfs.popitem(last=False)
        if not future.done():
            self._pool.promote(future)
            return None
        return future.result()

    def _now(self, job: Preparation, path: Path | None, part: str) -> StoreStatus:
        """What the page shows of ``part``: made, or PREPARING (its jobs then run next)."""
        needed = PARTS[: PARTS.index(part) + 1] if part == "pack" else ("metrics", part)
        waiting = [job.futures[p] for p in dict.fromkeys(needed) if not job.futures[p].done()]
        if waiting:
            for future in waiting:  # in the order queued: the measuring runs first
                self._pool.promote(future)
            doing = (
                "A small synthetic analytics store is being generated, ingested and measured "
                "for the demo; this takes a minute or so."
                if self._demo and path is not None and not job.futures["metrics"].done()
                else "The plan is being measured and its reports drawn."
            )
            return StoreStatus(
                StoreState.PREPARING, f"{doing} This page refreshes itself.", synthetic=self._demo
            )
        return job.status(part)

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
        self, plan_id: str, version: int, plan: Plan, path: Path | None, priority: int = URGENT
    ) -> Preparation:
        """The plan version's jobs: measure, then pack, then models (queued if new)."""
        # A configured store (or figures database) replaced on disk is measured afresh.
        mtime = path.stat().st_mtime if path and not self._demo and path.is_file() else 0.0
        if self.figures is not None and self.figures.is_file():
            mtime += self.figures.stat().st_mtime
        key = (plan_id, version, str(path), mtime)
        with self._lock:
            job = self._jobs.get(key)
            if job is None:
                measured = self._pool.submit(self._prepare, plan_id, plan, path, priority=priority)
                pack = self._pool.submit(self._pack, plan_id, plan, measured, priority=priority)
                models = self._pool.submit(
                    self._models, plan_id, version, plan, measured, priority=priority
                )
                job = Preparation({"metrics": measured, "pack": pack, "models": models})
                self._jobs[key] = job
                while len(self._jobs) > CACHE_SIZE:
                    self._jobs.popitem(last=False)
            else:
                self._jobs.move_to_end(key)
        return job

    # -- the background jobs -----------------------------------------------------------
    def _prepare(self, plan_id: str, plan: Plan, path: Path | None) -> StoreStatus:
        """Measure the plan (building the demo store if missing) and draw its dashboard.

        ``path`` None: the plan is measured on the published figures alone, or (with none)
        not at all (its board pack and model are made all the same).
        """
        started = time.perf_counter()
        if path is None and not self._published_only(plan):
            status = StoreStatus(StoreState.NONE, self._store_of(plan_id, plan)[1])
        else:
            status = self._measure(plan_id, plan, path)
        log.info("plan %s measured in %.1f s", plan_id, time.perf_counter() - started)
        return status

    def _pack(self, plan_id: str, plan: Plan, measured: Future[StoreStatus]) -> Any:
        """The board pack, made from the measuring (run before it on this thread)."""
        from bettercare.services import board_pack as packs

        started = time.perf_counter()
        linked = _outcome(measured).linked if measured.done() else None
        try:
            pack = packs.build_pack(plan, linked)
        except Exception:  # shown as "could not be made" on the page, with the log
            log.exception("making the board pack of %s failed", plan_id)
            return None
        log.info("board pack of %s made in %.1f s", plan_id, time.perf_counter() - started)
        return pack

    def _models(
        self, plan_id: str, version: int, plan: Plan, measured: Future[StoreStatus]
    ) -> dict[str, tuple[Any, str | None]]:
        """The modelling page's (model, message) per basis, fitted to the measured store."""
        from bettercare.services import board_pack as packs

        started = time.perf_counter()
        linked = _outcome(measured).linked if measured.done() else None
        store = Path(linked.store) if linked is not None else None
        ref = packs.PlanVersion(plan_id, version)
        memo = self.memo("impact_models")
        models = {basis: packs.model_view(memo, ref, plan, store, basis) for basis in BASES}
        log.info("models of %s made in %.1f s", plan_id, time.perf_counter() - started)
        return models

    def _measure(self, plan_id: str, plan: Plan, path: Path | None) -> StoreStatus:
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
    if future.cancelled():  # the server is stopping
        return StoreStatus(StoreState.FAILED, "the preparation was cancelled")
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
