"""Benchmark: the household's ballot flow through gunicorn, beside the same gunicorn's ceiling.

In one run, with the same gunicorn settings (sync workers, -w 2 by default):
1. the ceiling: a constant Flask view, hammered by the load generator;
2. consult: an open online vote of N households on SQLite (or --database-url); each
   flow is what a phone does: GET /b/<token> (the ballot page, its cookie and CSRF
   token), then POST the choice (step=confirm). Every flow uses its own household.
Then the vote is counted with the board's shares and the count is compared with the
ballots acknowledged (HTTP 200).

The load generator is asyncio over raw HTTP/1.1 keep-alive connections on loopback
(never the Flask test client). Prints a table and a last line ``RESULT ...``.

    python bench/ballot_flow.py [--workers 2] [--clients 32] [--seconds 15] [--households 12000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CEILING_APP = '''
from flask import Flask
app = Flask(__name__)

@app.get("/")
def constant():
    return "ok"
'''

CONSULT_APP = '''
import os
from consult import create_app
app = create_app({"INSTANCE_PATH": os.environ["BENCH_INSTANCE"], "DATABASE_URL": os.environ["BENCH_DATABASE_URL"],
                  "SECRET_KEY": "b" * 64, "TOKEN_RATE_LIMIT": "10000000 per minute",
                  "RATELIMIT_STORAGE_URL": "memory://"})
'''


WARM_UP = 2.0  # seconds


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(folder: Path, module: str, workers: int, env: dict) -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
                                "--chdir", str(folder), "--timeout", "60", "--log-level", "warning", f"{module}:app"],
                               env={**os.environ, "CONSULT_ALLOW_MEMORY_RATELIMIT": "1", **env, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("gunicorn did not start")


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


class Client:
    """One keep-alive HTTP/1.1 connection, from its own loopback address.

    Sync workers close every connection, so the server keeps each one in TIME_WAIT for
    a minute; a thousand connections a second from one address would soon reuse a port
    still waiting there, and that SYN waits a second to be sent again. Phones come from
    many addresses: so do the clients (127.0.<phase>.<n>)."""

    def __init__(self, port: int, source: str):
        self.port, self.source = port, source
        self.reader = self.writer = None

    async def request(self, method: str, path: str, *, body: bytes = b"", headers: dict | None = None):
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port,
                                                                     local_addr=(self.source, 0))
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: keep-alive"]
        for key, value in (headers or {}).items():
            lines.append(f"{key}: {value}")
        if body:
            lines += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        response_headers = {}
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            key, _, value = line.decode("latin-1").partition(":")
            response_headers.setdefault(key.strip().lower(), []).append(value.strip())
        length = int(response_headers.get("content-length", ["0"])[0])
        data = await self.reader.readexactly(length) if length else b""
        if "close" in response_headers.get("connection", [""])[0].lower():
            self.writer.close()
            self.writer = None
        return status, response_headers, data


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] if values else 0.0


async def ceiling(port: int, clients: int, seconds: float) -> tuple[float, float]:
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds

    async def worker(n):
        client = Client(port, f"127.0.1.{n + 1}")
        while time.perf_counter() < stop_at:
            begin = time.perf_counter()
            status, _, _ = await client.request("GET", "/")
            latencies.append(time.perf_counter() - begin)
            assert status == 200

    started = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(clients)))
    return len(latencies) / (time.perf_counter() - started), percentile(latencies, 0.99)


async def flows(port: int, queue: list[str], choice: int, clients: int, seconds: float):
    """Flows until the time is up, each with the next unused token of ``queue`` (taken from its end)."""
    latencies, posts, acknowledged, errors = [], [], 0, 0
    stop_at = time.perf_counter() + seconds

    async def worker(n):
        nonlocal acknowledged, errors
        client = Client(port, f"127.0.2.{n + 1}")
        while queue and time.perf_counter() < stop_at:
            token = queue.pop()
            begin = time.perf_counter()
            status, headers, page = await client.request("GET", f"/b/{token}")
            cookie = headers.get("set-cookie", [""])[0].split(";", 1)[0]
            csrf = re.search(rb'name="csrf_token" value="([^"]+)"', page)
            if status != 200 or csrf is None:
                errors += 1
                continue
            body = urlencode({"csrf_token": csrf.group(1).decode(), "step": "confirm", "choice": choice}).encode()
            middle = time.perf_counter()
            status, _, _ = await client.request("POST", f"/b/{token}", body=body, headers={"Cookie": cookie})
            end = time.perf_counter()
            latencies.extend([middle - begin, end - middle])
            posts.append(end - middle)
            if status == 200:
                acknowledged += 1
            else:
                errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(clients)))
    elapsed = time.perf_counter() - started
    return acknowledged / elapsed, percentile(latencies, 0.99), percentile(posts, 0.99), acknowledged, errors


def prepare(url: str, instance: Path, households: int):
    from consult import create_app, migrate
    from consult.audit.service import SYSTEM
    from consult.communes.models import Household
    from consult.communes.service import save_commune, save_group
    from consult.polls import service
    from consult.timeutil import local_date, utcnow
    from datetime import timedelta

    migrate.upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "b" * 64, "INSTANCE_PATH": str(instance)})
    session = app.extensions["consult_sessionmaker"]()
    commune = save_commune(session, SYSTEM, None, kind="phuong", name="Đo Tải", province="Bình Dương")
    group = save_group(session, SYSTEM, commune, None, kind="khu_pho", name="Khu phố 1")
    session.add_all([Household(commune_id=commune.id, group_id=group.id, code=f"H{i:05d}", representative="Đại diện",
                               address="Địa chỉ") for i in range(households)])
    now = utcnow()
    poll = service.create_poll(session, SYSTEM, commune, service.PollInput(
        title="Đo tải", question="Đồng ý?", matter_kind="k6", form="online", opens_at=now - timedelta(minutes=1),
        closes_at=now + timedelta(days=1), group_ids=[group.id],
        committee=[service.CommitteeInput("A", "Đại diện Ban công tác Mặt trận", True),
                   service.CommitteeInput("B", "Thành viên"), service.CommitteeInput("C", "Thành viên")],
        agreed_unnecessary_on=local_date(now), reported_on=local_date(now), devices_confirmed=True))
    shares = [s.code for s in service.open_poll(session, SYSTEM, poll)]
    ballots = service.issue_ballots(session, SYSTEM, poll)
    for ballot in ballots[: households // 2 + 1]:
        service.cast_online(session, ballot.token, "agree")
    service.close_consent(session, SYSTEM, poll, shares=shares[:2])
    session.commit()
    choice = poll.choices[0].id
    result = (app, session, poll.id, shares, [b.token for b in ballots], choice)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--households", type=int, default=12000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="consult-bench-") as tmp:
        folder = Path(tmp)
        (folder / "ceiling_app.py").write_text(CEILING_APP)
        (folder / "consult_app.py").write_text(CONSULT_APP)
        instance = folder / "instance"
        instance.mkdir()
        url = args.database_url or f"sqlite:///{folder}/bench.sqlite3"
        app, session, poll_id, shares, tokens, choice = prepare(url, instance, args.households)
        dialect = session.get_bind().dialect.name
        session.close()
        app.extensions["consult_engine"].dispose()

        # Each run starts with a warm-up that is not measured: a worker's first requests load the
        # code and compile the templates (with 32 clients, a second's wait for the first of each).
        process, port = start_gunicorn(folder, "ceiling_app", args.workers, {})
        try:
            asyncio.run(ceiling(port, args.clients, WARM_UP))
            ceiling_rps, ceiling_p99 = asyncio.run(ceiling(port, args.clients, args.seconds))
        finally:
            stop(process)
        env = {"BENCH_INSTANCE": str(instance), "BENCH_DATABASE_URL": url}
        process, port = start_gunicorn(folder, "consult_app", args.workers, env)
        try:
            queue = list(reversed(tokens))
            warm = asyncio.run(flows(port, queue, choice, args.clients, WARM_UP))
            flow_rate, p99, post_p99, acknowledged, errors = asyncio.run(
                flows(port, queue, choice, args.clients, args.seconds))
            acknowledged, errors = acknowledged + warm[3], errors + warm[4]
        finally:
            stop(process)

        from consult import create_app
        from consult.audit.service import SYSTEM
        from consult.polls import service
        from consult.polls.models import Poll

        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "b" * 64, "INSTANCE_PATH": str(instance)})
        session = app.extensions["consult_sessionmaker"]()
        counted = service.close_poll(session, SYSTEM, session.get(Poll, poll_id), shares=shares[:2])
        tallied = counted.total(choice)
        session.commit()

    ratio = flow_rate * 2 / ceiling_rps
    print(f"| measure ({dialect}, gunicorn -w {args.workers}, {args.clients} clients, {args.seconds:.0f} s) | value |")
    print("|---|---|")
    print(f"| ceiling: constant Flask view | {ceiling_rps:,.0f} req/s, p99 {ceiling_p99 * 1000:.0f} ms |")
    print(f"| ballot flow (GET + POST) | {flow_rate:,.1f} flows/s, p99 {p99 * 1000:.0f} ms, POST p99 "
          f"{post_p99 * 1000:.0f} ms |")
    print(f"| ratio (flows/s × 2) / ceiling | {ratio:.2f} (goal ≥ 0.5) |")
    print(f"| acknowledged / counted after the close / errors | {acknowledged} / {tallied} / {errors} |")
    print(f"RESULT ceiling_rps={ceiling_rps:.0f} flows_per_s={flow_rate:.1f} ratio={ratio:.3f} p99_ms={p99 * 1000:.0f} "
          f"post_p99_ms={post_p99 * 1000:.0f} acknowledged={acknowledged} counted={tallied} errors={errors} "
          f"database={dialect} workers={args.workers}")
    if acknowledged != tallied:
        sys.exit("acknowledged ballots and the count differ")


if __name__ == "__main__":
    main()
