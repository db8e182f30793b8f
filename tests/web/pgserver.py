"""A throwaway PostgreSQL server for the tests: initdb in a temp dir, one port on 127.0.0.1.

Safe under pytest-xdist: each worker process starts its own server (the fixture is
per session, and each worker is a session) in its own temp directory, on its own port.

The Debian ``postgresql`` package (``.ci/run`` installs it) provides the binaries in
``/usr/lib/postgresql/<version>/bin``; nothing of the system's own cluster is used or
started. PostgreSQL refuses to run as root, so as root the server runs as the package's
``postgres`` user (``runuser``). The tests' session fixture starts one server, creates a
database per test and stops the server at the end, leaving no service running.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg

BINDIR_ENV = "BETTERCARE_PG_BINDIR"
SERVICE_USER = "postgres"  # created by the Debian package
SUPERUSER = "bettercare"  # the cluster's superuser (trust auth, 127.0.0.1 only)


class PostgresUnavailable(RuntimeError):
    """The binaries or the user to run them as are missing, or the server did not start."""


def find_bindir() -> Path | None:
    """Where ``initdb``/``pg_ctl`` live: ``$BETTERCARE_PG_BINDIR``, PATH, or the newest Debian."""
    if env := os.environ.get(BINDIR_ENV):
        return Path(env)
    if initdb := shutil.which("initdb"):
        return Path(initdb).parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return versions[-1].parent if versions else None


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """One private cluster: :meth:`start`, :meth:`create_database` per test, :meth:`stop`."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="bettercare-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self._as_service_user = os.geteuid() == 0
        self._started = False

    def _run(self, *args: str) -> None:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self._as_service_user:
            cmd = ["runuser", "-u", SERVICE_USER, "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise PostgresUnavailable(
                f"{' '.join(args[:1])} failed ({done.returncode}): {done.stderr.strip()} {tail}"
            )

    def start(self) -> None:
        """initdb (trust auth, no fsync: a test cluster) and start on 127.0.0.1:port."""
        if not (self.bindir / "initdb").exists():
            raise PostgresUnavailable(f"no initdb in {self.bindir}")
        if self._as_service_user:
            try:
                shutil.chown(self.root, user=SERVICE_USER)
            except LookupError as exc:
                raise PostgresUnavailable(f"no '{SERVICE_USER}' user to run PostgreSQL") from exc
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            SUPERUSER,
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        )
        for attempt in range(3):
            options = (
                f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                "-c max_connections=200"
            )
            try:
                self._run(
                    "pg_ctl",
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.root / "server.log"),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    "60",
                    "start",
                )
                break
            except PostgresUnavailable:
                # another test process (pytest-xdist worker) took the port between our
                # look and the server's bind: try a new one
                if attempt == 2:
                    raise
                self.port = free_port()
        self._started = True

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete its files."""
        try:
            if self._started:
                self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
                self._started = False
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        """A SQLAlchemy URL (psycopg 3) for ``database`` on this server."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(
            f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/postgres", autocommit=True
        )

    def create_database(self) -> str:
        """A new empty database; returns its name."""
        name = f"t_{uuid.uuid4().hex[:16]}"
        with self._admin() as con:
            con.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        """Drop ``name``, closing any connection a test left open."""
        with self._admin() as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
