"""Benchmark: the household's ballot flow through gunicorn, beside the same gunicorn's ceiling.

In one run, for each database and number of workers, with the same gunicorn settings (sync workers):
1. the ceiling: a constant Flask view, hammered by the load generator;
2. consult: an open online vote of N households; each flow is what a phone does:
   GET /b/<token> (the ballot page), then POST the choice (step=confirm) as the page's
   form does (the link's token is the household's credential: no cookie, no CSRF token).
   Every flow uses its own household.
Then the vote is counted with the board's shares and the count is compared with the
ballots acknowledged (HTTP 200).

The load generator is asyncio over raw HTTP/1.1 keep-alive connections on loopback
(never the Flask test client). Prints a table and a last line ``RESULT ...``.

    python bench/ballot_flow.py [--database sqlite|postgresql|both] [--workers 2 4] [--clients 32]
                                [--seconds 10] [--households 16000] [--database-url URL]

By default it runs SQLite and PostgreSQL (a throw-away server from Debian's binaries, as
in the tests), each with -w 2 and -w 4, and compares each with its own ceiling. It counts
the CPU a request costs in the workers and on the whole machine, and, in a further run of
the first number of workers, samples the workers with py-spy (without pausing them) and
prints where their CPU goes, library by library.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
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
# The board members' password: each picks up their own key share with it (consult/polls/keycards.py).
BOARD_PASSWORD = "mat-khau-to-lay-y-kien"

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
            if status != 200 or b'name="choice"' not in page:
                errors += 1
                continue
            body = urlencode({"step": "confirm", "choice": choice}).encode()
            middle = time.perf_counter()
            status, _, _ = await client.request("POST", f"/b/{token}", body=body)
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
    from consult.auth.pickup import cost_from_config
    from consult.auth.service import authenticate, create_user
    from consult.polls import keycards, service
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
    # The board: three accounts of their own, signed in once (their share-pickup keys).
    cost = cost_from_config(app.config)
    board = []
    for i, name in enumerate("ABC"):
        user = create_user(session, SYSTEM, username=f"to.{i}", full_name=name, role="officer",
                           password=BOARD_PASSWORD, commune_id=commune.id)
        board.append(authenticate(session, user.username, BOARD_PASSWORD, pickup_cost=cost))
    poll = service.create_poll(session, SYSTEM, commune, service.PollInput(
        title="Đo tải", question="Đồng ý?", matter_kind="k6", form="online", opens_at=now - timedelta(minutes=1),
        closes_at=now + timedelta(days=1), group_ids=[group.id],
        committee=[service.CommitteeInput("A", "Đại diện Ban công tác Mặt trận", True, user_id=board[0].id),
                   service.CommitteeInput("B", "Thành viên", user_id=board[1].id),
                   service.CommitteeInput("C", "Thành viên", user_id=board[2].id)],
        agreed_unnecessary_on=local_date(now), reported_on=local_date(now), devices_confirmed=True))
    service.open_poll(session, SYSTEM, poll)
    shares = [keycards.pick_up(session, SYSTEM, poll, user, BOARD_PASSWORD).code for user in board]
    ballots = service.issue_ballots(session, SYSTEM, poll)
    for ballot in ballots[: households // 2 + 1]:
        service.cast_online(session, ballot.token, "agree")
    service.close_consent(session, SYSTEM, poll, shares=shares[:2])
    session.commit()
    choice = poll.choices[0].id
    result = (app, session, poll.id, shares, [b.token for b in ballots], choice)
    return result


TICK = os.sysconf("SC_CLK_TCK")


def workers_cpu(master: int) -> float:
    """CPU seconds of a gunicorn master's workers: the live ones and those it has reaped."""
    def times(pid: int, first: int) -> int:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[first]) + int(fields[first + 1])

    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    live = 0
    for pid in children:
        try:
            live += times(int(pid), 11)  # utime, stime
        except (FileNotFoundError, ProcessLookupError):
            pass
    return (live + times(master, 13)) / TICK  # + cutime, cstime


def machine_cpu() -> float:
    """CPU seconds the whole machine was busy (all processes: workers, database, load generator)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / TICK  # not idle, not waiting for the disk


async def metered(process: subprocess.Popen, run) -> tuple[tuple, float, float]:
    """Run a measurement; also return the CPU its workers and the whole machine spent."""
    workers, machine = workers_cpu(process.pid), machine_cpu()
    result = await run
    return result, workers_cpu(process.pid) - workers, machine_cpu() - machine


# Where a worker's CPU goes, by the innermost frame of a known library in each sample (py-spy).
PROFILE_PARTS = [
    ("encryption (libsodium through PyNaCl)", ("/nacl/", "consult/polls/secrecy.py")),
    ("psycopg", ("/psycopg/",)),
    ("SQLAlchemy (and sqlite3 under it)", ("/sqlalchemy/",)),
    ("Jinja and the templates", ("/jinja2/", "/templates/", "markupsafe")),
    ("Flask-Limiter", ("/flask_limiter/", "/limits/")),
    ("Flask-Login, Flask-WTF, itsdangerous", ("/flask_login/", "/flask_wtf/", "/wtforms/", "/itsdangerous/")),
    ("Flask and Werkzeug", ("/flask/", "/werkzeug/")),
    ("gunicorn: the rest (accept, HTTP parsing, access log)", ("/gunicorn/", "/logging/", "/socket.py")),
    ("consult's own code", ("/consult/",)),
]


def start_profiles(master: int, seconds: float, folder: Path) -> list[tuple[subprocess.Popen, Path]]:
    """py-spy sampling every worker of a gunicorn master, without pausing them."""
    profiles = []
    for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split():
        output = folder / f"worker-{pid}.txt"
        profiles.append((subprocess.Popen(
            ["py-spy", "record", "--pid", pid, "--duration", str(max(1, int(seconds))), "--rate", "200",
             "--format", "raw", "--nonblocking", "--output", str(output)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), output))
    return profiles


def profile_shares(profiles: list[tuple[subprocess.Popen, Path]]) -> list[tuple[str, float]]:
    """The share of the samples of each part of PROFILE_PARTS (the rest: Python's own library)."""
    counts: dict[str, int] = {}
    for process, output in profiles:
        process.wait(timeout=120)
        if not output.exists():
            continue
        for line in output.read_text(errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            part = "Python's standard library and the rest"
            for frame in reversed(stack.split(";")):  # from the innermost frame out
                if frame.startswith("close_graceful (gunicorn/"):
                    part = "gunicorn: after the response, waiting for the client to close (close_graceful)"
                    break
                if frame.startswith("write (gunicorn/"):
                    part = "gunicorn: sending the response (sendall, the loopback's kernel work)"
                    break
                # "function (sqlalchemy/engine/base.py:1872)": py-spy names files from their sys.path entry
                path = "/" + frame[frame.rfind("(") + 1:frame.rfind(":")]
                found = next((name for name, marks in PROFILE_PARTS if any(m in path for m in marks)), None)
                if found:
                    part = found
                    break
            counts[part] = counts.get(part, 0) + int(count)
    total = sum(counts.values()) or 1
    return sorted(((part, n / total) for part, n in counts.items()), key=lambda item: -item[1])


def measure(folder: Path, instance: Path, url: str, tokens: list[str], choice: int, workers: int, clients: int,
            seconds: float, profile: bool = False) -> dict:
    """The ceiling, then the flows, with the same gunicorn settings. Each starts with a warm-up that is
    not measured: a worker's first requests load the code and compile the templates (with 32 clients,
    a second's wait for the first of each). Flows take the next unused tokens of ``tokens``."""
    process, port = start_gunicorn(folder, "ceiling_app", workers, {})
    try:
        asyncio.run(ceiling(port, clients, WARM_UP))
        started = time.perf_counter()
        (ceiling_rps, ceiling_p99), ceiling_workers, ceiling_machine = asyncio.run(
            metered(process, ceiling(port, clients, seconds)))
        ceiling_requests = ceiling_rps * (time.perf_counter() - started)
    finally:
        stop(process)
    process, port = start_gunicorn(folder, "consult_app", workers,
                                   {"BENCH_INSTANCE": str(instance), "BENCH_DATABASE_URL": url})
    try:
        warm = asyncio.run(flows(port, tokens, choice, clients, WARM_UP))
        started = time.perf_counter()
        (flow_rate, p99, post_p99, acknowledged, errors), flow_workers, flow_machine = asyncio.run(
            metered(process, flows(port, tokens, choice, clients, seconds)))
        flow_requests = 2 * flow_rate * (time.perf_counter() - started)
        shares = []
        if profile and shutil.which("py-spy"):
            # A separate run, so that the sampling does not touch the figures above.
            profiles = start_profiles(process.pid, seconds / 2, folder)
            profiled = asyncio.run(flows(port, tokens, choice, clients, seconds / 2))
            acknowledged, errors = acknowledged + profiled[3], errors + profiled[4]
            shares = profile_shares(profiles)
    finally:
        stop(process)
    if not tokens:
        sys.exit("every household voted before the time was up: run with more --households")
    return dict(workers=workers, ceiling_rps=ceiling_rps, ceiling_p99=ceiling_p99, flow_rate=flow_rate, p99=p99,
                post_p99=post_p99, ratio=flow_rate * 2 / ceiling_rps, acknowledged=acknowledged + warm[3],
                errors=errors + warm[4], shares=shares,
                # CPU milliseconds a request costs: in the workers, and on the whole machine
                ceiling_workers_ms=ceiling_workers / ceiling_requests * 1000,
                ceiling_machine_ms=ceiling_machine / ceiling_requests * 1000,
                flow_workers_ms=flow_workers / flow_requests * 1000, flow_machine_ms=flow_machine / flow_requests * 1000)


def run_database(url: str, folder: Path, name: str, workers_list: list[int], args) -> tuple[str, list[dict], int, int]:
    """One open vote on one database, flows with each number of workers, then the count."""
    instance = folder / name / "instance"
    instance.mkdir(parents=True)
    app, session, poll_id, shares, tokens, choice = prepare(url, instance, args.households)
    dialect = session.get_bind().dialect.name
    session.close()
    app.extensions["consult_engine"].dispose()
    queue = list(reversed(tokens))
    rows = [measure(folder, instance, url, queue, choice, workers, args.clients, args.seconds,
                    profile=args.profile and n == 0)
            for n, workers in enumerate(workers_list)]

    from datetime import timedelta

    from consult import create_app
    from consult.audit.service import SYSTEM
    from consult.polls import service
    from consult.polls.models import Poll

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "b" * 64, "INSTANCE_PATH": str(instance)})
    session = app.extensions["consult_sessionmaker"]()
    poll = session.get(Poll, poll_id)
    # At the vote's fixed end: an earlier count would need the board's reason.
    counted = service.close_poll(session, SYSTEM, poll, shares=shares[:2],
                                 now=poll.closes_at + timedelta(seconds=1))
    tallied = counted.total(choice)
    session.commit()
    session.close()
    app.extensions["consult_engine"].dispose()
    return dialect, rows, sum(row["acknowledged"] for row in rows), tallied


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--households", type=int, default=16000)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--database-url", default=None, help="a PostgreSQL database to use instead of starting one")
    parser.add_argument("--no-profile", dest="profile", action="store_false",
                        help="skip sampling the workers with py-spy (done for the first number of workers)")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="consult-bench-") as tmp:
        folder = Path(tmp)
        (folder / "ceiling_app.py").write_text(CEILING_APP)
        (folder / "consult_app.py").write_text(CONSULT_APP)
        if args.database in ("sqlite", "both"):
            results.append(run_database(f"sqlite:///{folder}/bench.sqlite3", folder, "sqlite", args.workers, args))
        if args.database in ("postgresql", "both"):
            server = None
            url = args.database_url
            if url is None:
                # The tests' throw-away server (Debian's binaries; fsync off, as in the tests).
                from tests.support.pgserver import PostgresServer, find_bindir
                bindir = find_bindir()
                if bindir is None:
                    print("PostgreSQL is not installed (Debian's postgresql package): measured on SQLite only")
                else:
                    server = PostgresServer(bindir).start()
                    url = server.url()
            try:
                if url is not None:
                    results.append(run_database(url, folder, "postgresql", args.workers, args))
            finally:
                if server is not None:
                    server.stop()

    print(f"| database, gunicorn workers ({args.clients} clients, {args.seconds:.0f} s each) | ceiling: constant "
          "Flask view | ballot flow (GET + POST) | ratio (flows/s × 2) / ceiling, goal ≥ 0.5 | p99 / POST p99 "
          "(goal < 100 ms) | CPU a request, workers: ceiling / ballot | CPU a request, whole machine: ceiling / "
          "ballot |")
    print("|---|---|---|---|---|---|---|")
    for dialect, rows, _, _ in results:
        for row in rows:
            print(f"| {dialect}, -w {row['workers']} | {row['ceiling_rps']:,.0f} req/s (p99 "
                  f"{row['ceiling_p99'] * 1000:.0f} ms) | {row['flow_rate']:,.1f} flows/s | {row['ratio']:.2f} | "
                  f"{row['p99'] * 1000:.0f} / {row['post_p99'] * 1000:.0f} ms | {row['ceiling_workers_ms']:.2f} / "
                  f"{row['flow_workers_ms']:.2f} ms | {row['ceiling_machine_ms']:.2f} / {row['flow_machine_ms']:.2f} ms |")
    for dialect, rows, _, _ in results:
        for row in rows:
            if row["shares"]:
                print(f"\nWhere the workers' CPU goes ({dialect}, -w {row['workers']}; py-spy, by the innermost frame of "
                      "each library):\n\n| part | share |\n|---|---|")
                for part, share in row["shares"]:
                    print(f"| {part} | {share:.0%} |")
    print()
    for dialect, rows, acknowledged, tallied in results:
        errors = sum(row["errors"] for row in rows)
        print(f"{dialect}: acknowledged {acknowledged}, counted after the close {tallied}, errors {errors}")
    every = [(dialect, row) for dialect, rows, _, _ in results for row in rows]
    worst_dialect, worst = min(every, key=lambda item: item[1]["ratio"])
    fields = " ".join(f"ratio_{dialect}_w{row['workers']}={row['ratio']:.3f} p99_ms_{dialect}_w{row['workers']}="
                      f"{row['p99'] * 1000:.0f}" for dialect, row in every)
    counts_match = all(acknowledged == tallied for _, _, acknowledged, tallied in results)
    print(f"RESULT worst_ratio={worst['ratio']:.3f} worst={worst_dialect}_w{worst['workers']} {fields} "
          f"acknowledged_equals_counted={counts_match}")
    if not counts_match:
        sys.exit("acknowledged ballots and the count differ")


if __name__ == "__main__":
    main()
