"""When the app prepares a plan's reports in the background: publishing, changes, start-up.

:mod:`bettercare.app.analytics_store` owns *how* a plan is prepared (one background
thread measures it and makes its dashboard charts, board pack and models); this module
owns *when*, so that page views find the results made:

* after the server starts (:func:`lifespan`): every published plan (published as a board
  paper, or assured or in monitoring), and with ``--demo`` every plan, the demo users'
  board first. The server answers at once: the plans are listed and queued on a thread
  of their own, and the preparing runs after, behind any page a user waits for. With
  ``--demo`` the demo stores start being built even earlier, in a process of their own
  while the database is seeded (:func:`start_demo_stores`);
* after a change (:class:`PrepareOnChange`): a plan a successful POST changed (published,
  a workflow step, an edit) that is published (or, in the demo, any plan) is queued again
  for its new version;
* when a configured store (``--store``) or figures database (``--figures``) is replaced on
  disk: the published plans are queued again (checked every :data:`WATCH_SECONDS`).

``AppSettings.prepare_in_background`` off (the web tests' default) leaves only the
preparing a page view asks for.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.process
import re
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bettercare.app.analytics_store import freeze_long_lived, stores_of
from bettercare.app.seed import DEMO_HWB
from bettercare.services import board_pack as packs

if TYPE_CHECKING:
    from fastapi import FastAPI

    from bettercare.app.settings import AppSettings

log = logging.getLogger(__name__)

#: Seconds between checks of a configured store or figures database for a replacement.
WATCH_SECONDS = 30.0
_PLAN_POST = re.compile(r"^/plans/([^/]+)(?:/|$)")


def prepare_all(app: FastAPI) -> int:
    """Queue the preparation of every plan to prepare (see the module); returns how many."""
    settings: AppSettings = app.state.settings
    stores = stores_of(app)
    with app.state.sessions() as db:
        chosen = packs.plans_to_prepare(db, settings.demo, DEMO_HWB if settings.demo else None)
    for ref, plan in chosen:
        stores.prepare(ref.id, ref.version, plan)
    return len(chosen)


def prepare_one(app: FastAPI, plan_id: str) -> bool:
    """Queue the plan's preparation if it is one to prepare; True if queued."""
    settings: AppSettings = app.state.settings
    with app.state.sessions() as db:
        found = packs.plan_to_prepare(db, plan_id, settings.demo)
    if found is None:
        return False
    ref, plan = found
    stores_of(app).prepare(ref.id, ref.version, plan)
    return True


def build_demo_stores(root: Path, examples: Path, first_hwb: str = DEMO_HWB) -> None:
    """Build the example plans' demo stores under ``root``, the demo users' board first.

    Run by ``bettercare serve --demo`` in a process of its own (:func:`start_demo_stores`)
    while the database is seeded and the server starts, so the stores are (nearly) made
    when the server's background thread comes to measure them: each store is built under
    its file lock, so the server waits for one being built, then reuses it.
    """
    from bettercare.app.analytics_store import SYNTHETIC_POPULATION, SYNTHETIC_SEED
    from bettercare.data.plan_files import load_plan
    from bettercare.pipelines.demo_store import ensure_demo_store, preset_for

    plans = [load_plan(path) for path in sorted(examples.glob("*.yaml"))]
    plans.sort(key=lambda p: (p.hwb.ons_code != first_hwb, p.plan_id))
    for plan in plans:
        if preset_for(plan) is not None:
            ensure_demo_store(plan, root / plan.plan_id, SYNTHETIC_POPULATION, SYNTHETIC_SEED)


def start_demo_stores(settings: AppSettings) -> multiprocessing.process.BaseProcess | None:
    """Start :func:`build_demo_stores` in a daemon process (None: not the demo, or no store)."""
    from bettercare.app.analytics_store import analytics_dir

    if not settings.demo or settings.store is not None or settings.examples_dir is None:
        return None
    process = multiprocessing.get_context("spawn").Process(
        target=_build_quietly,
        args=(analytics_dir(settings), settings.examples_dir),
        name="demo-stores",
        daemon=True,
    )
    process.start()
    return process


def _build_quietly(root: Path, examples: Path) -> None:
    try:
        build_demo_stores(root, examples)
    except Exception:  # the server's own jobs build what is missing, and say why
        log.exception("building the demo stores ahead of the server failed")


def _stamp(paths: tuple[Path | None, ...]) -> tuple[float, ...]:
    return tuple(p.stat().st_mtime if p is not None and p.is_file() else 0.0 for p in paths)


def _start_and_watch(app: FastAPI, stop: threading.Event) -> None:
    """Queue the plans, then re-queue them whenever the store or figures file is replaced."""
    settings: AppSettings = app.state.settings
    if not settings.prepare_in_background:
        return
    try:
        prepare_all(app)
        files = (settings.store, settings.figures)
        seen = _stamp(files)
        while any(files) and not stop.wait(WATCH_SECONDS):
            now = _stamp(files)
            if now != seen:
                seen = now
                prepare_all(app)
    except Exception:  # a database that went away: pages then prepare on demand
        log.exception("preparing the plans in the background failed")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The server's start and stop: start the background preparation; cancel it at exit."""
    stop = threading.Event()
    thread = threading.Thread(
        target=_start_and_watch, args=(app, stop), name="prepare-plans", daemon=True
    )
    if app.state.settings.prepare_in_background:  # a server (the web tests' apps: not)
        freeze_long_lived()  # the app and its libraries, imported: out of full collections
        stores_of(app).freeze_when_idle()  # and what each run of preparing made
    thread.start()  # the server answers while the plans are listed and queued
    try:
        yield
    finally:
        stop.set()
        stores_of(app).shutdown()  # queued jobs are cancelled; a running one finishes


class PrepareOnChange:
    """ASGI middleware: after a successful POST that changed a plan, prepare it again."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; after a POST to a plan answered below 400, queue the plan."""
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        found = _PLAN_POST.match(scope["path"])
        status = 0

        async def seen(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, seen)
        wanted = scope["app"].state.settings.prepare_in_background
        if wanted and found is not None and 200 <= status < 400 and found.group(1) != "import":
            app = scope["app"]
            threading.Thread(target=_queue_quietly, args=(app, found.group(1)), daemon=True).start()


def _queue_quietly(app: FastAPI, plan_id: str) -> None:
    try:
        prepare_one(app, plan_id)
    except Exception:  # never the request's problem: the page prepares it on demand
        log.exception("queueing plan %s for preparation failed", plan_id)
