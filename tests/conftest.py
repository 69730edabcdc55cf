"""Fixtures: every database test runs on SQLite and on a real PostgreSQL.

The schema is built once per backend with the Alembic migrations into a
template (a file for SQLite, a template database for PostgreSQL); each test
then gets a fresh copy of it.
"""

from __future__ import annotations

import itertools
import os
import shutil

import pytest
from sqlalchemy import create_engine, text

from consult import create_app, migrate
from tests.support.pgserver import PostgresServer, find_bindir

BACKENDS = ["sqlite", "postgresql"]
_counter = itertools.count()

if "faketime" in os.environ.get("LD_PRELOAD", ""):
    # CI runs the suite under libfaketime at instants where the Vietnamese and UTC
    # dates differ, with DONT_FAKE_MONOTONIC=1 (a faked monotonic clock never ends
    # the rate limiter's timer threads). libfaketime 0.9.10 then fails
    # clock_nanosleep(TIMER_ABSTIME) with EINVAL, which time.sleep uses; sleep on
    # select's relative timeout instead.
    import select
    import time as _time

    def _sleep(seconds: float) -> None:
        select.select([], [], [], max(0.0, seconds))

    _time.sleep = _sleep


def _must_run_everything() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def pg_server():
    bindir = find_bindir()
    if bindir is None:
        if _must_run_everything():
            pytest.fail("PostgreSQL binaries not found; CI must test on PostgreSQL (apt-get install postgresql).")
        pytest.skip("PostgreSQL binaries not installed")
    server = PostgresServer(bindir).start()
    engine = create_engine(server.url(), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("CREATE DATABASE consult_template"))
    engine.dispose()
    migrate.upgrade(server.url("consult_template"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path):
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        target = tmp_path / "test.sqlite3"
        shutil.copyfile(template, target)
        yield f"sqlite:///{target}"
        return
    server = request.getfixturevalue("pg_server")
    name = f"t{os.getpid()}_{next(_counter)}"
    admin = create_engine(server.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE consult_template'))
    yield server.url(name)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def app(db_url, tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir(exist_ok=True)
    application = create_app({
        "TESTING": True,
        "DATABASE_URL": db_url,
        "SECRET_KEY": "test-secret-key",
        "INSTANCE_PATH": str(instance),
        "RATELIMIT_STORAGE_URL": "memory://",
        # The share-pickup key's Argon2id at libsodium's minimum: tests sign in often.
        "PICKUP_KDF_OPSLIMIT": 1,
        "PICKUP_KDF_MEMLIMIT": 8192,
    })
    yield application
    application.extensions["consult_engine"].dispose()


@pytest.fixture
def session(app):
    """A session outside any request, for arranging data and checking results."""
    s = app.extensions["consult_sessionmaker"]()
    yield s
    s.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def worker_thread(app):
    """The embedded setup's one worker thread (consult/worker.py), which tests start only
    when they ask for it; a test waits for its pass with ``wait_idle``, never on the clock."""
    worker = app.extensions["consult_worker"]
    worker.poll_seconds = 3600  # it runs when woken only: no pass races the test's own writes
    assert worker.start() and worker.wait_idle(timeout=60)  # its first pass, before the test writes
    yield worker
    worker.stop()


@pytest.fixture
def live_server(app):
    """The app served by a threaded server on a free loopback port."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def now():
    """The suite's clock: the instant the test starts (CI also runs the suite under libfaketime).

    Tests that depend on "now" take it from here and pass it to the services, never
    reading the wall clock again inside an assertion.
    """
    from consult.timeutil import utcnow

    return utcnow()
