"""The background work runs in the worker (STYLE principle 8): the ``worker`` command, or,
in the embedded setup, ONE thread per process, started once by the serving process's first
request; pages only queue rows and wake it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from consult import create_app, worker
from consult.jobs.models import DONE, Job
from consult.mail.models import SENT, TOPIC_SEND_LATE, OutgoingMail
from consult.polls.models import STATUS_DECIDED
from consult.timeutil import utcnow
from tests.support.background import threads_started, worker_threads
from tests.support.helpers import make_user
from tests.support.polls import group_with_households, open_vote
from tests.support.smtp import SmtpServer


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


def _queued_slips_and_a_late_decision(session):
    """A whole ward's slips queued as a job, and a vote decided 30 days ago whose decision the
    head has not yet sent (Luật Điều 20 khoản 3: 5 working days)."""
    from consult.jobs import service as jobs
    from consult.polls import jobs as slip_jobs

    commune, group = group_with_households(session, 6)
    group.head_email = "truongkp1@binhan.vn"
    head = make_user(session, "truong.kp1", "group_head", commune, group=group)
    slips = open_vote(session, commune, [group], form="ballot", chosen_by_head_and_front=True)
    job = jobs.enqueue(session, commune_id=commune.id, kind=slip_jobs.KIND, title="In phiếu",
                       params=slip_jobs.params(slips, "https://binhan.example.vn"), user_id=head.id,
                       user_name=head.username, total=6)
    decided = open_vote(session, commune, [group])
    decided.status, decided.outcome_passed, decided.decided_at = STATUS_DECIDED, True, utcnow() - timedelta(days=30)
    session.commit()
    return job, decided


def test_the_worker_thread_runs_a_queued_job_and_a_due_reminder(app, session, smtp):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port, MAIL_FROM="vp@binhan.vn")
    job, decided = _queued_slips_and_a_late_decision(session)
    background = app.extensions["consult_worker"]
    assert background.start()  # its first pass runs at once: work left from before a restart
    try:
        assert background.wait_idle(timeout=60)
    finally:
        background.stop()
    session.expire_all()
    assert session.get(Job, job.id).status == DONE
    [mail] = session.scalars(select(OutgoingMail).where(OutgoingMail.poll_id == decided.id))
    assert mail.topic == TOPIC_SEND_LATE and mail.status == SENT
    assert len(smtp.to("truongkp1@binhan.vn")) == 1


def test_one_worker_thread_per_process_however_often_it_is_asked(app, session, worker_thread):
    from consult.jobs import service as jobs

    job, _ = _queued_slips_and_a_late_decision(session)
    for _ in range(20):
        assert worker_thread.ensure_started() and worker_thread.start()
        worker.wake(app)
    assert worker_threads() == [worker_thread._thread]
    # Another copy of the app in the same instance folder (another gunicorn worker): the lock
    # on instance/worker.lock is held, so it runs no second thread.
    other = worker.InProcessWorker(app)
    assert not other.start() and not other.ensure_started()
    assert worker_threads() == [worker_thread._thread]
    assert worker_thread.wait_idle(timeout=60)
    session.expire_all()
    assert session.get(Job, job.id).status == DONE
    assert not jobs.has_queued(app.extensions["consult_sessionmaker"])


def test_when_its_worker_stops_another_process_takes_over(app, worker_thread):
    other = worker.InProcessWorker(app)
    assert not other.start()
    worker_thread.stop()
    assert worker_threads() == []
    assert other.start()
    try:
        assert len(worker_threads()) == 1
    finally:
        other.stop()


def test_with_jobs_in_process_off_the_web_process_runs_nothing(app, session):
    app.config["JOBS_IN_PROCESS"] = False
    job, _ = _queued_slips_and_a_late_decision(session)
    background = app.extensions["consult_worker"]
    assert not background.start() and not background.ensure_started()
    worker.wake(app)
    assert worker_threads() == [] and background.wait_idle(timeout=0)
    session.expire_all()
    assert session.get(Job, job.id).status == "queued"


def _serving_app(db_url, tmp_path, **config):
    instance = tmp_path / "serving"
    instance.mkdir(exist_ok=True)
    return create_app({"DATABASE_URL": db_url, "SECRET_KEY": "test-secret-key", "INSTANCE_PATH": str(instance),
                       "RATELIMIT_STORAGE_URL": "memory://", **config})


def test_the_serving_process_starts_its_one_thread_on_its_first_request_only(db_url, tmp_path):
    """Not at create_app (gunicorn's master builds the app and forks), not in a CLI command:
    the first request of the process that serves starts it, and no later request another."""
    with threads_started() as started:
        app = _serving_app(db_url, tmp_path)
        assert app.test_cli_runner().invoke(args=["audit", "head"]).exit_code == 0
    assert started == []
    background = app.extensions["consult_worker"]
    try:
        with threads_started() as started:
            for _ in range(10):
                assert app.test_client().get("/healthz").status_code == 200
                app.test_client().get("/staff")
        assert [t.name for t in started] == [worker.THREAD_NAME] and worker_threads() == started
    finally:
        background.stop()
        app.extensions["consult_engine"].dispose()


def test_a_serving_process_without_jobs_in_process_starts_no_thread(db_url, tmp_path):
    app = _serving_app(db_url, tmp_path, JOBS_IN_PROCESS=False)
    try:
        with threads_started() as started:
            for _ in range(3):
                assert app.test_client().get("/healthz").status_code == 200
        assert started == []
    finally:
        app.extensions["consult_engine"].dispose()


def test_the_worker_command_runs_the_same_pass(app, session, runner, smtp):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port, MAIL_FROM="vp@binhan.vn")
    job, decided = _queued_slips_and_a_late_decision(session)
    with threads_started() as started:
        result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "Đã chạy 1 việc." in result.output and "Đã xếp 1 thư nhắc hạn" in result.output
    assert "Thư: đã gửi 1" in result.output and started == []
    session.expire_all()
    assert session.get(Job, job.id).status == DONE and len(smtp.to("truongkp1@binhan.vn")) == 1
