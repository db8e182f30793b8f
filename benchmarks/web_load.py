"""Benchmark the web app under load: 50 signed-in users on the plan and dashboard pages.

    python benchmarks/web_load.py                      # 50 users, at most 3000 requests / 60 s
    python benchmarks/web_load.py --users 20 --requests 1000 --plan rutland-2014

Starts ``bettercare serve`` (one uvicorn process, as a user runs it) on a free
127.0.0.1 port with a fresh SQLite database holding the example plans and ``--users``
partner editors and analysts of the plan's HWB. Each simulated user signs in through the
login form (its own cookie jar), then requests the plan overview and the metrics
dashboard in turn as fast as the server answers, until the request budget or the time
limit is spent. The dashboard's metrics are prepared once before the clock starts (the
first view queues the measuring; later views read the cached result), so the figures are
for pages served, not for building the synthetic analytics store.

Prints requests per second and p50/p95/max latency per page, and the count of non-200
answers (which makes the exit code 1). Client and server share the machine: on 2 cores
the load generator takes part of the CPU the server would otherwise have.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
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
        for i in range(users):
            role = Role.PARTNER_EDITOR if i % 2 == 0 else Role.ANALYST
            name = f"bench{i:03d}"
            db.add(User(username=name, password_hash=hasher.hash(PASSWORD), role=str(role),
                        hwb_code=record.hwb_code, active=True))  # fmt: skip
            names.append(name)
        db.commit()
    app.state.engine.dispose()
    return names


def start_server(db_url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    """``bettercare serve`` on 127.0.0.1:port; returns once it answers /healthz."""
    env = {**os.environ, "BETTERCARE_ADMIN_PASSWORD": PASSWORD,
           "BETTERCARE_SECRET_KEY": "bench" * 10}  # fmt: skip
    cmd = [sys.executable, "-m", "bettercare", "serve", "--host", "127.0.0.1",
           "--port", str(port), "--database", db_url]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"error: the server exited ({proc.returncode}); see {log}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.terminate()
    sys.exit("error: the server did not start within 60 s")


async def sign_in(client: httpx.AsyncClient, username: str) -> None:
    page = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    if token is None:
        raise RuntimeError("no CSRF token on the login page")
    r = await client.post("/login", data={"username": username, "password": PASSWORD,
                                          "csrf_token": token.group(1)})  # fmt: skip
    if r.status_code not in (200, 303) or "bettercare_session" not in client.cookies:
        raise RuntimeError(f"sign-in of {username} failed: {r.status_code}")


async def warm_up(base: str, username: str, pages: dict[str, str], limit: float) -> None:
    """Request each page until it is served (the dashboard first measures the plan)."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        await sign_in(client, username)
        deadline = time.monotonic() + limit
        for name, path in pages.items():
            while True:
                r = await client.get(path)
                if r.status_code == 200 and PREPARING not in r.text:
                    break
                if time.monotonic() > deadline:
                    sys.exit(f"error: {name} ({path}) not ready after {limit:.0f} s: "
                             f"{r.status_code}")  # fmt: skip
                await asyncio.sleep(1)


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    sent: int = 0
    stop_at: float = float("inf")  # set when every user has signed in


async def user_loop(base: str, username: str, pages: dict[str, str], results: Results,
                    budget: int, ready: asyncio.Barrier) -> None:  # fmt: skip
    limits = httpx.Limits(max_connections=1)  # one browser tab: one request at a time
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        try:
            await sign_in(client, username)
        except Exception:
            await ready.abort()  # nobody waits for a user who never arrives
            raise
        await ready.wait()
        order = list(pages.items())
        i = 0
        while results.sent < budget and time.monotonic() < results.stop_at:
            results.sent += 1
            name, path = order[i % len(order)]
            i += 1
            t0 = time.perf_counter()
            r = await client.get(path)
            results.latencies[name].append(time.perf_counter() - t0)
            if r.status_code != 200:
                results.errors[name] += 1


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


async def run_load(base: str, names: list[str], pages: dict[str, str], budget: int,
                   seconds: float) -> tuple[Results, float]:  # fmt: skip
    """Every user signs in; then the clock starts and all request pages at once."""
    results = Results()
    ready = asyncio.Barrier(len(names) + 1)
    tasks = [asyncio.create_task(user_loop(base, n, pages, results, budget, ready))
             for n in names]  # fmt: skip
    await ready.wait()
    start = time.monotonic()
    results.stop_at = start + seconds
    await asyncio.gather(*tasks)  # each stops at the budget or the time limit
    return results, time.monotonic() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=50, help="concurrent signed-in users")
    ap.add_argument("--requests", type=int, default=3000, help="request budget (all users)")
    ap.add_argument("--seconds", type=float, default=60, help="time limit of the load phase")
    ap.add_argument("--plan", default="rutland-2014", help="plan id (an example plan)")
    ap.add_argument("--warm-up", type=float, default=300,
                    help="seconds allowed for the dashboard's first measuring")  # fmt: skip
    ap.add_argument("--keep", action="store_true",
                    help="keep the database, demo store and server log (else deleted)")  # fmt: skip
    args = ap.parse_args()

    pages = {
        "plan overview": f"/plans/{args.plan}",
        "metrics dashboard": f"/plans/{args.plan}/metrics",
    }
    work = Path(tempfile.mkdtemp(prefix="bettercare-web-load-"))
    db_url = f"sqlite:///{work / 'app.db'}"
    names = prepare_database(db_url, args.plan, args.users)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(db_url, port, work / "server.log")
    try:
        t0 = time.monotonic()
        asyncio.run(warm_up(base, names[0], pages, args.warm_up))
        print(f"server ready on {base}; dashboard prepared in {time.monotonic() - t0:.1f} s")
        results, elapsed = asyncio.run(run_load(base, names, pages, args.requests, args.seconds))
    finally:
        server.terminate()
        server.wait(timeout=30)
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    total = sum(len(v) for v in results.latencies.values())
    print(f"{args.users} users, {total} requests in {elapsed:.1f} s: "
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
        sys.exit(1)


if __name__ == "__main__":
    main()
