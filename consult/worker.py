"""The worker: the work no page does itself, and the one place that runs it.

A page only adds rows (a job, an outgoing mail) and calls ``wake``. The work is done in
passes (``run_pass``): run the queued jobs, queue the group heads' deadline reminders
(once a minute: the deadlines move by days), deliver the mail that is due. Two things run
passes, both by calling ``run_pass``:

- ``flask --app consult worker`` (beside gunicorn, with ``CONSULT_JOBS_IN_PROCESS=0``; then
  nothing in the web processes runs background work);
- with ``JOBS_IN_PROCESS`` (the embedded setup, the default), ONE thread of the web
  process, ``InProcessWorker``, started once. It is started by the app's first request in the
  serving process (``init_app``), never at import, at ``create_app`` or by a CLI command
  (``db upgrade``, ``demo``...), and not in tests unless a test starts it. A pass runs when a
  page wakes the thread, and every ``WORKER_POLL_SECONDS`` otherwise (mail to retry, a
  deadline reached, work queued by another process).

Under gunicorn with ``preload_app`` the app is built in the master, which serves no
request, and each worker is a fork of it (a thread does not survive a fork): so the
thread is started after the fork, by a worker's first request, and in ONE worker only.
The worker that holds an exclusive lock on ``instance/worker.lock`` runs it; the others
try again every ``RETRY_LOCK_SECONDS``, so that when that worker is recycled
(``max_requests``) or killed, another takes over. One rather than one per worker: a job is
claimed by a conditional UPDATE, but mail delivery claims no row, so two threads could
send the same message twice (and on SQLite every runner is one more writer). A page of
another worker cannot wake the thread: its work waits for the next poll.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from flask import Flask

from consult.timeutil import utcnow

try:
    import fcntl
except ImportError:  # not on POSIX: no lock between processes, each runs its thread
    fcntl = None

THREAD_NAME = "consult-worker"
DEADLINES_EVERY = 60.0  # seconds
RETRY_LOCK_SECONDS = 30.0
LOCK_FILE = "worker.lock"


@dataclass
class Pass:
    """What one pass did."""
    jobs: int = 0
    reminded: int = 0
    mailed: dict[str, int] = field(default_factory=lambda: {"sent": 0, "retry": 0, "failed": 0})


def run_pass(app: Flask, *, deadlines: bool, now: Callable[[], datetime] = utcnow) -> Pass:
    """One pass of the background work, in an app context: the queued jobs, then (with
    ``deadlines``) the heads' reminders of Luật Điều 20 khoản 3, then the mail that is due."""
    from consult.jobs.results import ResultStore
    from consult.jobs.service import run_pending
    from consult.mail.service import SmtpSettings, deliver_due, queue_deadline_reminders

    writer = app.extensions["consult_writer_sessionmaker"]
    reader = app.extensions["consult_sessionmaker"]
    done = Pass()
    done.jobs = run_pending(writer, reader, now, results=ResultStore.of_app(app))
    if deadlines:
        session = writer()
        try:
            done.reminded = queue_deadline_reminders(session, base_url=app.config.get("PUBLIC_BASE_URL") or "",
                                                     now=now())
            session.commit()
        finally:
            session.close()
    done.mailed = deliver_due(writer, SmtpSettings.from_config(app.config), now=now())
    return done


class InProcessWorker:
    """The one thread of a web process that runs passes (``JOBS_IN_PROCESS``).

    ``wake`` asks for a pass; ``wait_idle`` waits until a pass that began after the last
    ``wake`` has ended (tests wait on it, never on the wall clock)."""

    def __init__(self, app: Flask, *, poll_seconds: float | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.app = app
        self.poll_seconds = float(poll_seconds if poll_seconds is not None
                                  else app.config.get("WORKER_POLL_SECONDS", 5))
        self.clock = clock
        self._state = threading.Condition()
        self._asked = 0  # passes asked for (wake)
        self._done = 0  # the last ask a finished pass answered
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._lock_fd: int | None = None
        self._last_try = float("-inf")
        self._deadlines_at = float("-inf")

    # --- starting, once ------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether this process runs the thread (a fork's copy of the object does not)."""
        return self._pid == os.getpid() and self._thread is not None and self._thread.is_alive()

    def ensure_started(self) -> bool:
        """Start the thread unless this process runs it already; at most one attempt every
        ``RETRY_LOCK_SECONDS`` while another process holds the lock. True when running here."""
        if self.running:
            return True
        with self._state:
            if self.running:
                return True
            now = self.clock()
            if self._pid == os.getpid() and now - self._last_try < RETRY_LOCK_SECONDS:
                return False
            self._last_try = now
            return self._start()

    def start(self) -> bool:
        """Start the thread now (tests; ``ensure_started`` for the serving process)."""
        with self._state:
            return self.running or self._start()

    def _start(self) -> bool:
        if not self.app.config.get("JOBS_IN_PROCESS", True):
            return False
        if self._pid != os.getpid():  # a fork's copy: nothing of the parent's thread or lock is ours
            self._thread, self._lock_fd, self._pid = None, None, os.getpid()
        if not self._take_lock():
            return False
        self._stopping = False
        self._asked += 1  # a first pass at once: work queued before this process started
        self._thread = threading.Thread(target=self._loop, name=THREAD_NAME, daemon=True)
        self._thread.start()
        return True

    def _take_lock(self) -> bool:
        if fcntl is None or self._lock_fd is not None:
            return True
        folder = Path(self.app.instance_path)
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._lock_fd = fd
        return True

    def stop(self, timeout: float = 30.0) -> None:
        """End the thread after its pass (tests) and let another process take over."""
        with self._state:
            self._stopping = True
            self._state.notify_all()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._thread = None
        if self._lock_fd is not None and self._pid == os.getpid():
            os.close(self._lock_fd)  # closing the file lets the lock go
        self._lock_fd = None

    # --- asking for work ------------------------------------------------------------------

    def wake(self) -> None:
        """A row was added for the worker: run a pass soon. Starts nothing."""
        with self._state:
            self._asked += 1
            self._state.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until a pass begun after the last ``wake`` has ended; False on timeout."""
        with self._state:
            target = self._asked
            return self._state.wait_for(lambda: self._done >= target or not self.running, timeout)

    def _loop(self) -> None:
        while True:
            with self._state:
                self._state.wait_for(lambda: self._stopping or self._asked > self._done, self.poll_seconds)
                if self._stopping:
                    self._state.notify_all()
                    return
                target = self._asked
            try:
                self._pass()
            except Exception:  # noqa: BLE001 - a failed pass (the job is marked failed) must not end the thread
                self.app.logger.exception("background work failed")
            with self._state:
                self._done = max(self._done, target)
                self._state.notify_all()

    def _pass(self) -> Pass:
        deadlines = self.clock() - self._deadlines_at >= DEADLINES_EVERY
        if deadlines:
            self._deadlines_at = self.clock()
        with self.app.app_context():  # as in the worker command: a job may ask for the app's folders
            return run_pass(self.app, deadlines=deadlines)


def init_app(app: Flask) -> None:
    """Give the app its in-process worker (not started), and, in the embedded setup outside
    tests, start it on the first request of the serving process."""
    app.extensions["consult_worker"] = worker = InProcessWorker(app)
    if app.config.get("JOBS_IN_PROCESS", True) and not app.testing:
        @app.before_request
        def _start_the_worker():
            if not worker.running:
                worker.ensure_started()


def wake(app: Flask) -> None:
    """Tell this process's worker thread, if it runs here, that work was queued (a page calls
    this after its commit). Without the thread (``JOBS_IN_PROCESS`` off, tests, another
    gunicorn worker holding the lock) the work waits for the next pass of whoever runs it."""
    worker = app.extensions.get("consult_worker")
    if worker is not None:
        worker.wake()
