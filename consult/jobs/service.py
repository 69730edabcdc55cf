"""The job queue: rows in the database, so a ward runs it with no extra server.

A job is enqueued by a page and run by ``flask --app consult worker`` (production:
one or more worker processes beside gunicorn), or, with ``JOBS_IN_PROCESS`` (the
default, for the single-process embedded setup), by the one worker thread of the web
process (``consult.worker``), which the page wakes. Runners claim a job with a conditional UPDATE,
so two never run the same job; a job whose runner died (no heartbeat for
``STALE_AFTER``) is queued again, up to ``MAX_ATTEMPTS``. A job's result is an encrypted
file, never a column (``consult.jobs.results``): the row keeps the job's progress only.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from consult.errors import DomainError
from consult.jobs.models import DONE, FAILED, QUEUED, RUNNING, Job
from consult.jobs.results import ResultStore
from consult.timeutil import utcnow

STALE_AFTER = timedelta(minutes=5)
MAX_ATTEMPTS = 3
KEEP_RESULT = timedelta(hours=24)


@dataclass
class Output:
    data: bytes | None  # None: nothing to download (the job's row says what was done)
    name: str = ""
    mimetype: str = ""


class JobError(DomainError):
    """The job cannot be done; the message is for the user."""


# kind -> runner(session, reader, job, progress) -> Output. ``session`` writes, in the transaction
# that stores the result; ``reader`` reads without holding a write lock (SQLite) while the
# work is done; ``progress(done, total)`` records how far it is.
RUNNERS: dict[str, Callable[..., Output]] = {}


# The result store of the job being run, for a runner that reads its own input
# (``CURRENT_RESULTS.get().inputs()``: an uploaded register).
CURRENT_RESULTS: ContextVar[ResultStore] = ContextVar("consult_job_results")


def runner(kind: str):
    def register(fn):
        RUNNERS[kind] = fn
        return fn
    return register


def enqueue(session: Session, *, commune_id: int, kind: str, title: str, params: dict, user_id: int, user_name: str,
            total: int = 0, now: datetime | None = None) -> Job:
    job = Job(commune_id=commune_id, kind=kind, title=title, params=params, status=QUEUED, total=total,
              created_by_id=user_id, created_by=user_name, created_at=now or utcnow())
    session.add(job)
    session.flush()
    return job


def _claim(session: Session, now: datetime) -> Job | None:
    """Take the oldest queued job (or one whose runner died) with a conditional UPDATE."""
    stale = now - STALE_AFTER
    candidates = session.scalars(select(Job.id).where(or_(
        Job.status == QUEUED, (Job.status == RUNNING) & (Job.heartbeat_at < stale))).order_by(Job.id).limit(5)).all()
    for job_id in candidates:
        claimed = session.execute(update(Job).where(
            Job.id == job_id, or_(Job.status == QUEUED, (Job.status == RUNNING) & (Job.heartbeat_at < stale)))
            .values(status=RUNNING, started_at=now, heartbeat_at=now, attempts=Job.attempts + 1))
        session.commit()
        if claimed.rowcount == 1:
            job = session.get(Job, job_id)
            session.refresh(job)
            session.commit()  # no transaction (on SQLite, no write lock) held while the job runs
            return job
    return None


def run_one(sessionmaker, reader_sessionmaker=None, now: Callable[[], datetime] = utcnow, *,
            results: ResultStore) -> bool:
    """Run the next job, if any; True when one was run (done or failed). Its result goes to
    ``results``."""
    session: Session = sessionmaker()
    reader: Session = (reader_sessionmaker or sessionmaker)()
    try:
        job = _claim(session, now())
        if job is None:
            return False
        if job.attempts > MAX_ATTEMPTS:
            _finish(session, job, now(), results,
                    error="Đã thử nhiều lần nhưng không thực hiện được; hãy tạo lại yêu cầu.")
            return True
        progress_session: Session = sessionmaker()

        def progress(done: int, total: int) -> None:
            progress_session.execute(update(Job).where(Job.id == job.id).values(done=done, total=total,
                                                                                 heartbeat_at=now()))
            progress_session.commit()

        running = CURRENT_RESULTS.set(results)
        try:
            output = RUNNERS[job.kind](session, reader, job, progress)
        except JobError as exc:
            session.rollback()
            _finish(session, job, now(), results, error=str(exc))
            return True
        except Exception:
            session.rollback()
            _finish(session, job, now(), results,
                    error="Lỗi hệ thống khi thực hiện; hãy thử lại hoặc báo quản trị viên.")
            raise
        finally:
            CURRENT_RESULTS.reset(running)
            progress_session.close()
            reader.close()
        _finish(session, job, now(), results, output=output)
        return True
    finally:
        session.close()


def _finish(session: Session, job: Job, now: datetime, results: ResultStore, *, output: Output | None = None,
            error: str | None = None):
    """Finish the job in the runner's transaction (the job's own writes commit with it); the
    result's file is written first, so a job marked done always has it (a file left by a
    commit that failed names no live code, and ``purge`` removes it)."""
    job = session.merge(job)
    # A job's sealed inputs (a vote's key shares) live only as long as the job.
    if any(key.startswith("sealed_") for key in job.params or {}):
        job.params = {key: value for key, value in job.params.items() if not key.startswith("sealed_")}
    job.status, job.finished_at, job.heartbeat_at = (DONE if output else FAILED), now, now
    job.error = error
    job.result = None
    if output:
        if output.data is not None:  # a job whose result is in its row only (an import's counts) has no file
            results.write(job, output.data)
            job.result_name, job.result_type = output.name, output.mimetype
        job.done = job.total
        job.expires_at = now + KEEP_RESULT
    session.commit()


def run_pending(sessionmaker, reader_sessionmaker=None, now: Callable[[], datetime] = utcnow, *,
                results: ResultStore) -> int:
    """Run queued jobs until none is left; the number run."""
    count = 0
    while run_one(sessionmaker, reader_sessionmaker, now, results=results):
        count += 1
    purge(sessionmaker, now(), results=results)
    return count


def has_queued(sessionmaker) -> bool:
    session: Session = sessionmaker()
    try:
        return session.scalar(select(Job.id).where(Job.status == QUEUED).limit(1)) is not None
    finally:
        session.close()


def purge(sessionmaker, now: datetime, *, results: ResultStore) -> int:
    """Drop the jobs whose results have expired, and their files (a slips PDF holds the
    households' links), and any file no finished job owns; the number of jobs dropped."""
    session: Session = sessionmaker()
    try:
        gone = session.execute(delete(Job).where(Job.expires_at < now)).rowcount
        session.commit()
        results.sweep(set(session.scalars(select(Job.id).where(Job.status.in_((DONE, RUNNING))))))
        # An input lives while its job waits or runs.
        results.inputs().sweep(set(session.scalars(select(Job.id).where(Job.status.in_((QUEUED, RUNNING))))))
        session.commit()
        return gone
    finally:
        session.close()
