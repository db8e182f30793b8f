"""Benchmark the web app under load: 50 signed-in users on the plan and dashboard pages.

    python benchmarks/web_load.py                      # SQLite and PostgreSQL, 2 workers
    python benchmarks/web_load.py --databases sqlite --workers 1 --users 20
    python benchmarks/web_load.py --think 0            # no reading time: a stress figure

For each database (``sqlite``: a fresh file; ``postgresql``: a private server started for
the run from the Debian package's binaries, as tests/web/pgserver.py does, and stopped
after) this starts ``bettercare serve --workers N`` (N=2 by default) on a free 127.0.0.1
port, holding the example plans (the measured plan published, so each worker prepares
it in the background at start-up) and ``--users`` partner editors and analysts of the
plan's HWB. Each simulated user signs in through the login form (its own cookie jar),
then requests the plan overview and the metrics dashboard in turn, until the request
budget or the time limit is spent, pausing a random (exponential) ``--think`` seconds
(default 2) before each page as a person reading them would, the first included (50
people do not click at one instant; the first version started every user at once, and
that one burst of 50 overview requests was ~10% of the overview's samples and all of its
p95), or as fast as the server answers (``--think 0``: a stress figure, latency = users /
throughput). The
dashboard's metrics, the board pack and the models are prepared before the clock starts
(every worker answers ``--streak`` times in a row without "being prepared"), so the
figures are for pages served, not for building the synthetic analytics store.

Prints requests per second and p50/p95/max latency per page, and the count of non-200
answers (which makes the exit code 1), then p95 per page per database. Client and
server share the machine: on 2 cores the load generator takes part of the CPU the server
would otherwise have, and figures measured while other jobs run are upper bounds.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from argon2 import PasswordHasher

from bettercare.app.main import create_app
from bettercare.app.models import PlanRecord, User
from bettercare.app.security import Role
from bettercare.app.settings import AppSettings
from bettercare.app.startup import prepare

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # tests.web.pgserver: the tests' throwaway PostgreSQL server
PASSWORD = "bench-password-0123456789"
PREPARING = "being prepared"  # the dashboard's text while the metrics are measured


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare_database(db_url: str, plan_id: str, users: int) -> list[str]:
    """Migrate, load the examples and add ``users`` users of the plan's HWB."""
    os.environ["BETTERCARE_ADMIN_PASSWORD"] = PASSWORD
    settings = AppSettings(database_url=db_url, examples_dir=REPO / "examples",
                           secret_key="bench" * 10)  # fmt: skip
    prepare(settings)
    app = create_app(settings)
    # Cheapest argon2id: signing 50 users in is set-up, not what is measured (the server
    # verifies each hash with the parameters stored in it).
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    names = []
    with app.state.sessions() as db:
        record = db.get(PlanRecord, plan_id)
        if record is None:
            sys.exit(f"error: no plan {plan_id!r} among the examples")
        record.published = True  # prepared by every worker in the background at start-up
        for i in range(users):
            role = Role.PARTNER_EDITOR if i % 2 == 0 else Role.ANALYST
            name = f"bench{i:03d}"
            db.add(User(username=name, password_hash=hasher.hash(PASSWORD), role=str(role),
                        hwb_code=record.hwb_code, active=True))  # fmt: skip
            names.append(name)
        db.commit()
    app.state.engine.dispose()
    return names


def start_server(db_url: str, port: int, work: Path, workers: int) -> subprocess.Popen[bytes]:
    """``bettercare serve --workers N`` on 127.0.0.1:port in ``work``; returns once it answers."""
    env = {**os.environ, "BETTERCARE_ADMIN_PASSWORD": PASSWORD,
           "BETTERCARE_SECRET_KEY": "bench" * 10}  # fmt: skip
    cmd = [sys.executable, "-m", "bettercare", "serve", "--host", "127.0.0.1",
           "--port", str(port), "--database", db_url, "--workers", str(workers)]  # fmt: skip
    log = (work / "server.log").open("wb")
    proc = subprocess.Popen(cmd, env=env, cwd=work, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"error: the server exited ({proc.returncode}); see {work / 'server.log'}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.terminate()
    sys.exit("error: the server did not start within 120 s")


async def sign_in(client: httpx.AsyncClient, username: str) -> None:
    page = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    if token is None:
        raise RuntimeError("no CSRF token on the login page")
    r = await client.post("/login", data={"username": username, "password": PASSWORD,
                                          "csrf_token": token.group(1)})  # fmt: skip
    if r.status_code not in (200, 303) or "bettercare_session" not in client.cookies:
        raise RuntimeError(f"sign-in of {username} failed: {r.status_code}")


async def warm_up(base: str, username: str, pages: dict[str, str], limit: float,
                  streak: int) -> None:  # fmt: skip
    """Request each page until ``streak`` answers in a row are served (every worker ready)."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        await sign_in(client, username)
        deadline = time.monotonic() + limit
        for name, path in pages.items():
            ready = 0
            while ready < streak:
                r = await client.get(path)
                ready = ready + 1 if r.status_code == 200 and PREPARING not in r.text else 0
                if time.monotonic() > deadline:
                    sys.exit(f"error: {name} ({path}) not ready after {limit:.0f} s: "
                             f"{r.status_code}")  # fmt: skip
                if not ready:
                    await asyncio.sleep(1)


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    sent: int = 0
    stop_at: float = float("inf")  # set when every user has signed in


async def user_loop(base: str, username: str, pages: dict[str, str], results: Results,
                    budget: int, ready: asyncio.Barrier, think: float) -> None:  # fmt: skip
    limits = httpx.Limits(max_connections=1)  # one browser tab: one request at a time
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        try:
            await sign_in(client, username)
        except Exception:
            await ready.abort()  # nobody waits for a user who never arrives
            raise
        await ready.wait()
        if think > 0:  # people reading arrive at their own moments, not all at one instant
            await asyncio.sleep(random.expovariate(1 / think))
        order = list(pages.items())
        i = 0
        while results.sent < budget and time.monotonic() < results.stop_at:
            results.sent += 1
            name, path = order[i % len(order)]
            i += 1
            t0 = time.perf_counter()
            try:
                r = await client.get(path)
            except httpx.RemoteProtocolError:  # a kept-alive connection the server closed
                r = await client.get(path)  # while the others signed in: as a browser, again
            results.latencies[name].append(time.perf_counter() - t0)
            if r.status_code != 200 or PREPARING in r.text:
                results.errors[name] += 1
            if think > 0:  # a person reading the page before the next click
                await asyncio.sleep(random.expovariate(1 / think))


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


async def run_load(base: str, names: list[str], pages: dict[str, str], budget: int,
                   seconds: float, think: float) -> tuple[Results, float]:  # fmt: skip
    """Every user signs in; then the clock starts and all request pages at once."""
    results = Results()
    ready = asyncio.Barrier(len(names) + 1)
    tasks = [asyncio.create_task(user_loop(base, n, pages, results, budget, ready, think))
             for n in names]  # fmt: skip
    await ready.wait()
    start = time.monotonic()
    results.stop_at = start + seconds
    await asyncio.gather(*tasks)  # each stops at the budget or the time limit
    return results, time.monotonic() - start


def postgres_url(work: Path) -> tuple[str, Callable[[], None]]:
    """A fresh database on a private PostgreSQL server, and how to stop the server."""
    from tests.web.pgserver import PostgresServer, PostgresUnavailable, find_bindir

    bindir = find_bindir()
    if bindir is None:
        sys.exit("error: PostgreSQL is not installed (apt-get install postgresql)")
    server = PostgresServer(bindir)
    try:
        server.start()
    except PostgresUnavailable as exc:
        server.stop()
        sys.exit(f"error: PostgreSQL did not start: {exc}")
    return server.url(server.create_database()), server.stop


def measure(database: str, args: argparse.Namespace, pages: dict[str, str],
            store_cache: Path) -> dict[str, list[float]]:  # fmt: skip
    """One database: set up, start the server, warm up, load; print and return latencies."""
    work = Path(tempfile.mkdtemp(prefix=f"bettercare-web-load-{database}-"))
    stop_db: Callable[[], None] = lambda: None  # noqa: E731
    if database == "sqlite":
        db_url = f"sqlite:///{work / 'app.db'}"
        analytics = work / "app.analytics"
    else:
        db_url, stop_db = postgres_url(work)
        analytics = work / "bettercare-app.analytics"  # a server database: in the cwd
    # the demo store is built once per run and reused by the next database (same plan)
    store_cache.mkdir(parents=True, exist_ok=True)
    analytics.symlink_to(store_cache, target_is_directory=True)
    server = None
    try:
        names = prepare_database(db_url, args.plan, args.users)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_server(db_url, port, work, args.workers)
        t0 = time.monotonic()
        # every page the start-up preparation makes (metrics, board pack, models) is ready
        # before the clock starts: no background job competes with the measured pages
        prepared = {**pages, "board pack": f"/plans/{args.plan}/board-pack",
                    "modelling": f"/plans/{args.plan}/model"}  # fmt: skip
        asyncio.run(warm_up(base, names[0], prepared, args.warm_up, args.streak))
        print(f"{database}: server ready on {base} ({args.workers} workers); "
              f"dashboard prepared in {time.monotonic() - t0:.1f} s")  # fmt: skip
        # The load generator's own pauses must not count as the server's latency: this
        # process imported the whole app to set the database up (~300k objects), and a
        # full collection of those (~200 ms here) would stall every simulated user at once.
        gc.collect()
        gc.freeze()
        results, elapsed = asyncio.run(
            run_load(base, names, pages, args.requests, args.seconds, args.think)
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=60)
        stop_db()
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    total = sum(len(v) for v in results.latencies.values())
    print(f"{database}: {args.users} users, {total} requests in {elapsed:.1f} s: "
          f"{total / elapsed:.1f} requests/s overall")  # fmt: skip
    print(f"{'page':<20} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'max ms':>8} {'non-200':>8}")  # fmt: skip
    for name in pages:
        lat = results.latencies.get(name, [])
        if not lat:
            print(f"{name:<20} {0:>8}")
            continue
        print(f"{name:<20} {len(lat):>8} {len(lat) / elapsed:>7.1f} "
              f"{percentile(lat, 50) * 1000:>8.0f} {percentile(lat, 95) * 1000:>8.0f} "
              f"{max(lat) * 1000:>8.0f} {results.errors.get(name, 0):>8}")  # fmt: skip
    if any(results.errors.values()):
        print(f"{database}: {sum(results.errors.values())} answers not 200 or not ready")
    return dict(results.latencies) | {"errors": [float(sum(results.errors.values()))]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--databases", nargs="+", choices=["sqlite", "postgresql"],
                    default=["sqlite", "postgresql"], help="databases, in turn")  # fmt: skip
    ap.add_argument("--workers", type=int, default=2, help="server processes (serve --workers)")
    ap.add_argument("--users", type=int, default=50, help="concurrent signed-in users")
    ap.add_argument("--requests", type=int, default=3000, help="request budget (all users)")
    ap.add_argument("--seconds", type=float, default=60, help="time limit of the load phase")
    ap.add_argument("--think", type=float, default=2.0,
                    help="mean seconds a user reads a page before the next "
                         "(0: none, a closed-loop stress figure)")  # fmt: skip
    ap.add_argument("--plan", default="rutland-2014", help="plan id (an example plan)")
    ap.add_argument("--warm-up", type=float, default=600,
                    help="seconds allowed for the dashboard's first measuring")  # fmt: skip
    ap.add_argument("--streak", type=int, default=20,
                    help="answers in a row served before the clock starts")  # fmt: skip
    ap.add_argument("--keep", action="store_true",
                    help="keep the databases, demo store and server logs")  # fmt: skip
    args = ap.parse_args()

    pages = {
        "plan overview": f"/plans/{args.plan}",
        "metrics dashboard": f"/plans/{args.plan}/metrics",
    }
    store_cache = Path(tempfile.mkdtemp(prefix="bettercare-web-load-store-"))
    figures: dict[str, dict[str, list[float]]] = {}
    try:
        for database in args.databases:
            figures[database] = measure(database, args, pages, store_cache)
    finally:
        if not args.keep:
            shutil.rmtree(store_cache, ignore_errors=True)
    think = f"think {args.think:g} s" if args.think else "no think time"
    print(f"\np95 ms per page ({args.users} users, {args.workers} workers, {think})")
    print(f"{'page':<20} " + " ".join(f"{d:>10}" for d in figures))
    for name in pages:
        cells = [f"{percentile(f[name], 95) * 1000:>10.0f}" if f.get(name) else f"{'-':>10}"
                 for f in figures.values()]  # fmt: skip
        print(f"{name:<20} " + " ".join(cells))
    if any(f["errors"][0] for f in figures.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
