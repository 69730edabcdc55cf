"""Load and crash: households vote through a real gunicorn (4 sync workers, Redis as the
rate limiter's storage) on loopback while its workers are killed, one and then all.

Every ballot the server acknowledged with a receipt is counted, none twice, on SQLite and
on PostgreSQL. A household whose request died with its worker tries again, as the error
page asks; if its first ballot was in fact recorded, the second attempt is refused as a
second vote, so a crash can leave a ballot recorded but unacknowledged, never lost once
acknowledged and never doubled.
"""

from __future__ import annotations

import http.client
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from consult import ROOT
from consult.audit.service import SYSTEM
from consult.polls import service
from consult.polls.models import Participation
from tests.support.polls import choice, close, group_with_households, open_vote, pass_consent

HOUSEHOLDS = 360
CLIENTS = 24
WORKERS = 4


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode}: {process.stdout.read() if process.stdout else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    """Debian's redis-server on a free loopback port, for the rate limiter's storage."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("redis-server not found; CI must run the load test on Redis (apt-get install redis-server).")
        pytest.skip("redis-server not installed")
    port = _free_port()
    folder = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                "--dir", str(folder), "--daemonize", "no"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _wait_for_port(port, process)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=30)


def _workers(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def _vote(port: int, token: str, agree, failures: list[str]) -> str:
    """One household's ballot: open the link, confirm. 'ok', 'again' (already recorded) or 'retry'."""
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", f"/b/{token}")
        response = connection.getresponse()
        page = response.read().decode()
        if "đã biểu quyết" in page:  # recorded before the worker died: its answer was lost, not the ballot
            return "again"
        if response.status != 200:
            failures.append(f"GET {response.status}")
            return "retry"
        connection.request("POST", f"/b/{token}", body=urlencode({"step": "confirm", "choice": agree}),
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        response = connection.getresponse()
        page = response.read().decode()
        connection.close()
    except Exception as exc:  # noqa: BLE001 - a worker killed mid-answer: the household tries again
        failures.append(type(exc).__name__)
        return "retry"
    if response.status == 200 and 'id="receipt"' in page:
        return "ok"
    if response.status == 409:
        return "again"
    failures.append(f"POST {response.status}")
    return "retry"


def test_acknowledged_ballots_are_all_counted_while_workers_are_killed(app, session, db_url, redis_url, capsys):
    commune, group = group_with_households(session, HOUSEHOLDS)
    poll = open_vote(session, commune, [group])
    pass_consent(session, poll)
    tokens = [ballot.token for ballot in service.issue_ballots(session, SYSTEM, poll)]
    agree = str(choice(poll, "agree"))
    session.commit()

    port = _free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CONSULT_")}
    environ.update(CONSULT_DATABASE_URL=db_url, CONSULT_SECRET_KEY="load-test-secret",
                   CONSULT_AUDIT_KEY=app.config["AUDIT_KEY"],
                   CONSULT_RATELIMIT_STORAGE_URL=redis_url, CONSULT_BIND=f"127.0.0.1:{port}",
                   WEB_CONCURRENCY=str(WORKERS), PYTHONPATH=str(ROOT),
                   GUNICORN_CMD_ARGS="--log-level warning --access-logfile /dev/null")
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "consult:create_app()"], cwd=ROOT, env=environ,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _wait_for_port(port, server)
        pending: queue.Queue[str] = queue.Queue()
        for token in tokens:
            pending.put(token)
        outcomes: dict[str, str] = {}
        last_failures: list[str] = []
        retries = [0]
        lock = threading.Lock()
        deadline = time.monotonic() + 240  # a stuck run fails with what it saw, never hangs CI

        def household_client():
            while time.monotonic() < deadline:
                try:
                    token = pending.get_nowait()
                except queue.Empty:
                    return
                outcome = _vote(port, token, agree, last_failures)
                with lock:
                    if outcome == "retry":
                        retries[0] += 1
                        if retries[0] > 20 * HOUSEHOLDS:
                            return
                        pending.put(token)
                    else:
                        outcomes[token] = outcome
                if outcome == "retry":
                    time.sleep(0.05)

        threads = [threading.Thread(target=household_client) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        kills = []
        for share, everyone in ((HOUSEHOLDS // 3, False), (2 * HOUSEHOLDS // 3, True)):
            while len(outcomes) < share and any(t.is_alive() for t in threads) and time.monotonic() < deadline:
                time.sleep(0.01)
            workers = _workers(server.pid)
            for pid in workers if everyone else workers[:1]:
                os.kill(pid, signal.SIGKILL)
            kills.append(len(workers) if everyone else 1)
        for thread in threads:
            thread.join(timeout=max(1.0, deadline - time.monotonic() + 60))
        assert server.poll() is None, "the gunicorn master died"
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=60)

    acknowledged = sum(1 for o in outcomes.values() if o == "ok")
    recorded_unacknowledged = sum(1 for o in outcomes.values() if o == "again")
    assert len(outcomes) == HOUSEHOLDS, (f"{HOUSEHOLDS - len(outcomes)} households never got an answer "
                                         f"({retries[0]} retries); last outcomes: {last_failures[-5:]}")
    assert "database is locked" not in output
    session.rollback()
    session.expire_all()
    marked = session.scalar(select(func.count()).select_from(Participation).where(
        Participation.poll_id == poll.id, Participation.phase == "vote"))
    result = close(session, poll)
    counted = result.total(int(agree))
    with capsys.disabled():
        print(f"\n[{session.get_bind().dialect.name}] gunicorn -w {WORKERS}, {CLIENTS} clients, workers killed "
              f"{kills}, {retries[0]} retries: acknowledged {acknowledged} + recorded before a crash "
              f"{recorded_unacknowledged} = marked {marked} = counted {counted}")
    assert marked == counted == acknowledged + recorded_unacknowledged == HOUSEHOLDS
    assert result.participated == HOUSEHOLDS
