"""Background jobs over the database: the slips of a whole ward printed outside the request."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from consult.audit.models import AuditEntry
from consult.jobs import service as jobs
from consult.jobs.results import ResultStore
from consult.jobs.models import DONE, FAILED, QUEUED, RUNNING, Job
from consult.polls import jobs as slip_jobs
from consult.polls import service
from consult.polls.models import BallotToken
from consult.audit.service import SYSTEM
from tests.support.helpers import make_user
from tests.support.polls import group_with_households, open_vote

BASE = "https://binhan.example.vn"


def _makers(app):
    return app.extensions["consult_writer_sessionmaker"], app.extensions["consult_sessionmaker"]


def _results(app):
    return ResultStore.of_app(app)


def _slips_job(session, households=12, **kwargs):
    commune, group = group_with_households(session, households)
    head = make_user(session, "truong.kp1", "group_head", commune, group=group)
    poll = open_vote(session, commune, [group], form="ballot", chosen_by_head_and_front=True)
    job = jobs.enqueue(session, commune_id=commune.id, kind=slip_jobs.KIND, title=f"In phiếu: {poll.title}",
                       params=slip_jobs.params(poll, BASE), user_id=head.id, user_name=head.username,
                       total=households, **kwargs)
    session.commit()
    return poll, job


def _fresh(session, model, key):
    session.rollback()
    session.expire_all()
    return session.get(model, key)


def test_a_slips_job_prints_every_household_and_records_the_slips_with_the_pdf(app, session, tmp_path):
    poll, job = _slips_job(session)
    old = service.issue_ballots(session, SYSTEM, poll)  # slips printed before: they stop working
    session.commit()
    assert jobs.run_pending(*_makers(app), results=_results(app)) == 1
    job = _fresh(session, Job, job.id)
    assert job.status == DONE and job.done == job.total == 12 and job.error is None
    pdf = _results(app).read(job)
    assert job.result is None and pdf.startswith(b"%PDF") and job.result_name == f"phieu-bieu-quyet-{poll.id}.pdf"
    assert job.expires_at - job.finished_at == jobs.KEEP_RESULT
    (tmp_path / "slips.pdf").write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(tmp_path / "slips.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert text.count("Mã hộ:") == 12 and "PHIẾU LẤY Ý KIẾN HỘ GIA ĐÌNH" in text
    live = session.scalar(select(func.count()).select_from(BallotToken).where(
        BallotToken.poll_id == poll.id, BallotToken.revoked_at.is_(None)))
    assert live == 12
    with pytest.raises(service.BallotRejected, match="đã bị hủy"):
        service.find_token(session, token=old[0].token)
    assert session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "poll.ballots_issued", AuditEntry.actor_name == "truong.kp1")) == 1


def test_a_job_is_claimed_by_one_runner_only(app, session):
    _, job = _slips_job(session)
    writer, _ = _makers(app)
    first, second = writer(), writer()
    try:
        claimed = jobs._claim(first, job.created_at)
        assert claimed is not None and claimed.id == job.id and claimed.status == RUNNING
        assert jobs._claim(second, job.created_at) is None
    finally:
        first.close()
        second.close()


def test_a_print_that_cannot_be_done_fails_with_a_message_and_changes_nothing(app, session):
    poll, job = _slips_job(session)
    before = service.issue_ballots(session, SYSTEM, poll)
    poll.status = "closed"  # the vote ended before the print ran
    session.commit()
    jobs.run_pending(*_makers(app), results=_results(app))
    job = _fresh(session, Job, job.id)
    assert job.status == FAILED and "đang mở" in job.error and job.result is None
    assert not _results(app).exists(job.id)
    assert session.scalar(select(func.count()).select_from(BallotToken).where(BallotToken.poll_id == poll.id)) == \
        len(before)


def test_a_job_whose_runner_died_is_run_again_then_given_up(app, session):
    _, job = _slips_job(session)
    job.status, job.heartbeat_at, job.attempts = RUNNING, job.created_at - jobs.STALE_AFTER * 2, 1
    session.commit()
    assert jobs.run_one(*_makers(app), results=_results(app))
    assert _fresh(session, Job, job.id).status == DONE
    job = _fresh(session, Job, job.id)
    job.status, job.heartbeat_at, job.attempts = RUNNING, job.created_at - jobs.STALE_AFTER * 2, jobs.MAX_ATTEMPTS
    job.result = None
    session.commit()
    assert jobs.run_one(*_makers(app), results=_results(app))
    job = _fresh(session, Job, job.id)
    assert job.status == FAILED and "nhiều lần" in job.error


def test_results_are_purged_when_they_expire(app, session):
    _, job = _slips_job(session)
    jobs.run_pending(*_makers(app), results=_results(app))
    job = _fresh(session, Job, job.id)
    results = _results(app)
    assert jobs.purge(_makers(app)[0], job.expires_at - timedelta(seconds=1), results=results) == 0
    job_id = job.id
    assert results.exists(job_id)
    assert jobs.purge(_makers(app)[0], job.expires_at + timedelta(seconds=1), results=results) == 1
    assert _fresh(session, Job, job_id) is None and not results.exists(job_id)


def test_a_queued_job_waits_for_a_runner(app, session):
    _, job = _slips_job(session)
    assert _fresh(session, Job, job.id).status == QUEUED and jobs.has_queued(_makers(app)[1])


def test_slips_of_a_closed_vote_are_not_queued(session):
    commune, group = group_with_households(session, 3)
    head = make_user(session, "truong.kp1", "group_head", commune, group=group)
    poll = open_vote(session, commune, [group], form="ballot", chosen_by_head_and_front=True)
    poll.status = "closed"
    with pytest.raises(service.PollError, match="đang mở"):
        slip_jobs.queue_print(session, poll, BASE, user_id=head.id, user_name=head.username)
    assert session.scalar(select(func.count()).select_from(Job)) == 0
