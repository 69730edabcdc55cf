"""A throw-away PostgreSQL server from Debian's binaries, for the tests.

initdb into a temporary folder, start on a free loopback port, stop at the end.
PostgreSQL refuses to run as root, so as root the server runs as the
``postgres`` user that Debian's package creates. ``start(replication=True)``
and ``start_standby()`` make a primary and its hot standby (pg_basebackup -R).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def find_bindir() -> str | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                        key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    if candidates:
        return str(Path(candidates[-1]).parent)
    found = shutil.which("pg_ctl")
    return str(Path(found).resolve().parent) if found else None


def require_bindir() -> str:
    """The binaries, or a skip; under CI a failure, never a skip (as ``pg_server`` in conftest)."""
    import pytest

    bindir = find_bindir()
    if bindir is None:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("PostgreSQL binaries not found; CI must test on PostgreSQL (apt-get install postgresql).")
        pytest.skip("PostgreSQL binaries not installed")
    return bindir


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    def __init__(self, bindir: str):
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="consult-pg-"))
        self.datadir = self.root / "data"
        self.port = free_port()
        self.as_user = None
        if os.geteuid() == 0:
            self.as_user = "postgres"
            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        self.superuser = self.as_user or pwd.getpwuid(os.geteuid()).pw_name

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if self.as_user:
            cmd = ["runuser", "-u", self.as_user, "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=self.root)

    def start(self, *, replication: bool = False) -> "PostgresServer":
        """A new cluster; with ``replication``, one that a standby can stream from."""
        self._run(f"{self.bindir}/initdb", "-D", str(self.datadir), "-A", "trust", "-E", "UTF8",
                  "--locale=C.UTF-8", "-U", self.superuser)
        settings = {}
        if replication:
            settings = {"wal_level": "replica", "max_wal_senders": "4"}
            with open(self.datadir / "pg_hba.conf", "a") as hba:
                hba.write("host replication all 127.0.0.1/32 trust\n")
        self._pg_ctl_start(settings)
        return self

    def _pg_ctl_start(self, settings: dict[str, str]) -> None:
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300")
        options += "".join(f" -c {name}={value}" for name, value in settings.items())
        self._run(f"{self.bindir}/pg_ctl", "-D", str(self.datadir), "-o", options, "-w", "-t", "60",
                  "-l", str(self.root / "log"), "start")

    def start_standby(self) -> "PostgresServer":
        """A hot standby of this server (started with ``replication=True``) on its own port:
        ``pg_basebackup -R`` copies the cluster and writes ``standby.signal`` and the
        ``primary_conninfo`` it streams from."""
        standby = PostgresServer(self.bindir)
        standby._run(f"{self.bindir}/pg_basebackup", "-D", str(standby.datadir), "-h", "127.0.0.1",
                     "-p", str(self.port), "-U", self.superuser, "-X", "stream", "-R", "-c", "fast")
        standby._pg_ctl_start({"hot_standby": "on"})
        return standby

    def wait_replayed_by(self, standby: "PostgresServer", dbname: str = "postgres", timeout: float = 30) -> None:
        """Until the standby has replayed everything this primary has written so far."""
        from sqlalchemy import create_engine, text

        primary_engine, standby_engine = create_engine(self.url(dbname)), create_engine(standby.url(dbname))
        try:
            with primary_engine.connect() as conn:
                target = conn.scalar(text("SELECT pg_current_wal_lsn()::text"))
            deadline = time.monotonic() + timeout
            with standby_engine.connect() as conn:
                while not conn.scalar(text("SELECT pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn)"),
                                      {"lsn": target}):
                    conn.rollback()
                    assert time.monotonic() < deadline, f"the standby has not replayed {target} in {timeout} s"
                    time.sleep(0.02)
        finally:
            primary_engine.dispose()
            standby_engine.dispose()

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.superuser}@127.0.0.1:{self.port}/{dbname}"

    def stop(self) -> None:
        try:
            self._run(f"{self.bindir}/pg_ctl", "-D", str(self.datadir), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
