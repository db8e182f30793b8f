"""How the web app gets an analytics store, and the plan measured on it, without waiting.

Owns where the store of a plan comes from and when it is measured; the measuring is the
analytics layer's (:func:`bettercare.reporting.board_pack.measure`, the same analytics as
``bettercare metrics``), the figures and charts are reporting's.

Where the store comes from:

* ``bettercare serve --store PATH`` (``settings.store``): every plan is measured on it.
  A plan of an HWB the store does not hold gets a clear message instead of metrics.
* no store (the demo): a small synthetic store per plan, for plans whose HWB has a
  synthetic preset (:data:`bettercare.data.synth.presets.PRESETS`: Leicester,
  Leicestershire, Rutland, Lancashire). It is generated, ingested (NHS numbers validated
  and pseudonymised) and measured by :func:`bettercare.analytics.pipeline.run_synthetic`
  in ``<database>.analytics/<plan id>/`` beside the app's SQLite file (``./bettercare-
  app.analytics`` for PostgreSQL), built once and reused after a restart. A plan with no
  preset (e.g. the fictional Marlbury) is shown from its own quarterly returns only.

When: never at server start (start stays fast). The first request for a plan's metrics
queues a job on one background thread (one job at a time, so a 2-core machine keeps
serving pages); the page shows "metrics are being prepared" and refreshes itself until
the result is ready. Results are kept in memory per plan *version* and store file, so an
edited plan or a replaced store is measured afresh, and page views never touch DuckDB.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bettercare.domain.periods import fy_start_year
from bettercare.domain.plan import Plan

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
READY_FILE = "ready.json"
_MAKING = threading.Lock()
_RUNS = itertools.count(1)
log = logging.getLogger(__name__)
#: Held while matplotlib draws: its style context (``rc_context``) is process-global, so
#: two threads drawing at once could leave each other's settings behind.
CHARTS_LOCK = threading.Lock()


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
    #: the dashboard's charts, drawn once with the measuring (:func:`pages.metrics.draw_charts`)
    charts: Any = None
    synthetic: bool = False
    population: int | None = None
    years: tuple[str, ...] = ()
    #: which measuring this is (unique in the process): caches of what is made from it key on it
    run: int = 0


def preset_for(plan: Plan) -> str | None:
    """The synthetic preset of the plan's HWB (matched on the ONS code), if there is one."""
    from bettercare.data.synth.presets import PRESETS, preset

    if not plan.hwb.ons_code:
        return None
    return next((p for p in PRESETS if preset(p).area.hwb_code == plan.hwb.ons_code), None)


def synthetic_years(plan: Plan) -> list[str]:
    """The plan's financial years and the year before (the baseline, more SPC points)."""
    first = fy_start_year(sorted(plan.financial_years)[0])
    before = f"{first - 1}/{str(first)[2:]}"
    return [before, *sorted(plan.financial_years)]


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
    ) -> None:
        """``store``: the configured store (None: demo stores under ``root``)."""
        self.store = store
        self.root = root
        self.population = population
        self.seed = seed
        self._lock = threading.Lock()
        self._jobs: OrderedDict[tuple[str, int, str, float], Future[StoreStatus]] = OrderedDict()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="analytics")
        self._memos: dict[str, OrderedDict[tuple[Any, ...], Any]] = {}

    def memo(self, name: str) -> OrderedDict[tuple[Any, ...], Any]:
        """This app's cache ``name`` of what pages make from its plans (board packs, models)."""
        return self._memos.setdefault(name, OrderedDict())

    # -- what a page asks --------------------------------------------------------------
    def status(self, plan_id: str, version: int, plan: Plan) -> StoreStatus:
        """The plan's metrics now: ready, being prepared (a job is queued), failed or none."""
        path, note = self._store_of(plan_id, plan)
        if path is None:
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
        if path is None:
            return StoreStatus(StoreState.NONE, note)
        future = self._job(plan_id, version, plan, path)
        future.exception(timeout)  # waits; raises TimeoutError if it takes longer
        return _outcome(future)

    def shutdown(self) -> None:
        """Stop taking jobs (a running one finishes)."""
        self._pool.shutdown(wait=False, cancel_futures=True)

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

    def _job(self, plan_id: str, version: int, plan: Plan, path: Path) -> Future[StoreStatus]:
        # A configured store replaced on disk is measured afresh; a demo store is ours.
        mtime = path.stat().st_mtime if not self._demo and path.is_file() else 0.0
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
    def _prepare(self, plan_id: str, plan: Plan, path: Path) -> StoreStatus:
        """Build the demo store if it is missing, then measure the plan on it."""
        from bettercare.app.pages.metrics import draw_charts
        from bettercare.reporting.board_pack import BoardPackError, measure

        years: tuple[str, ...] = ()
        try:
            if self._demo:
                years = self._ensure_synthetic(plan_id, plan)
            linked = measure(plan, path)
            with CHARTS_LOCK:
                charts = draw_charts(plan, linked)
        except BoardPackError as exc:
            return StoreStatus(StoreState.FAILED, str(exc), synthetic=self._demo)
        except (OSError, ValueError) as exc:  # generator or ingest refused the demo run
            return StoreStatus(
                StoreState.FAILED, f"the demo store could not be built: {exc}", synthetic=True
            )
        return StoreStatus(
            StoreState.READY,
            linked=linked,
            charts=charts,
            synthetic=self._demo,
            population=self.population if self._demo else None,
            years=years,
            run=next(_RUNS),
        )

    def _ensure_synthetic(self, plan_id: str, plan: Plan) -> tuple[str, ...]:
        """The plan's demo store: reused when a finished one exists, else generated."""
        from bettercare.analytics.pipeline import run_synthetic
        from bettercare.data.synth.presets import preset

        work = self.root / plan_id
        marker = work / READY_FILE
        years = synthetic_years(plan)
        wanted = {"population": self.population, "seed": self.seed, "years": years}
        if marker.is_file() and json.loads(marker.read_text(encoding="utf-8")) == wanted:
            return tuple(years)
        marker.unlink(missing_ok=True)
        name = preset_for(plan)
        assert name is not None  # _store_of only queues plans with a preset
        params = preset(name).with_population(self.population).with_plan_schemes(plan)
        run_synthetic(params, years, self.seed, work, grains=())
        marker.write_text(json.dumps(wanted), encoding="utf-8")
        return tuple(years)


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
            stores = AnalyticsStores(settings.store, analytics_dir(settings))
            app.state.analytics = stores
        return stores
