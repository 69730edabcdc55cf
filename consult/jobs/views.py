"""A job's page (a progress bar that refreshes itself, no script needed) and its result."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_login import current_user

from consult.access import ALL_STAFF, staff_required
from consult.db import db_session
from consult.jobs.models import DONE, FAILED, STATUS_LABELS, Job
from consult.jobs.results import ResultStore
from consult.timeutil import utcnow

bp = Blueprint("jobs", __name__)


def _own(job_id: int) -> Job:
    """Only the one who asked for it sees a job (a slips PDF holds the households' links)."""
    job = db_session().get(Job, job_id)
    if job is None or job.created_by_id != current_user.id:
        abort(404)
    return job


GONE = ("Tệp đã được tải về một lần (hoặc đã hết hạn) nên đã bị xóa khỏi máy chủ. Cần bản khác thì in lại "
        "phiếu từ trang cuộc biểu quyết; các phiếu in trước đó sẽ hết hiệu lực.")


def _expired(job: Job) -> bool:
    return bool(job.expires_at and job.expires_at < utcnow())


@bp.route("/jobs/<int:job_id>")
@staff_required(*ALL_STAFF)
def show(job_id: int):
    job = _own(job_id)
    percent = min(100, int(100 * job.done / job.total)) if job.total else (100 if job.status == DONE else 0)
    results = ResultStore.of_app(current_app)
    if _expired(job):
        results.delete(job.id)
    return render_template("jobs/show.html", job=job, labels=STATUS_LABELS, percent=percent,
                           finished=job.status in (DONE, FAILED), expired=_expired(job),
                           available=job.status == DONE and results.exists(job.id))


@bp.route("/jobs/<int:job_id>/download")
@staff_required(*ALL_STAFF)
def download(job_id: int):
    """The result, once, to its creator: the file is deleted as it is sent (a slips PDF holds
    the households' live codes; printing again makes new ones)."""
    job = _own(job_id)
    if job.status != DONE:
        abort(404)
    results = ResultStore.of_app(current_app)
    data = None if _expired(job) else results.read(job)
    if request.method != "HEAD":
        results.delete(job.id)
    if data is None:
        return render_template("error.html", code=410, message=GONE), 410
    return Response(data, mimetype=job.result_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(job.result_name or 'ket-qua')}",
        "Cache-Control": "no-store"})
