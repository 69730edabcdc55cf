"""A large report exported in the background (consult/jobs).

The officer's .docx or .xlsx of the report is built in the request while the consultation is
small; past ``EXPORT_INLINE_MAX`` opinions (the .docx of 50,000 takes seconds of a worker) the
page queues a job, shows its progress page and the file is downloaded from there, once, by the
one who asked (``jobs.views.download``), like every job's result: encrypted, outside the
database, for at most a day. Asking again while one is under way leads to the same job. The
PDF preview of such a report is made the same way: the .docx built and laid out in the job.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from consult import office
from consult.consultations.models import Consultation
from consult.jobs.models import QUEUED, RUNNING, Job
from consult.jobs.service import JobError, Output, enqueue, runner
from consult.opinions.models import Opinion
from consult.reports import service
from consult.reports.export import MIMETYPES, export, filename

KIND = "report_export"
# The .pdf of a large report is made by the same job: the .docx built, then laid out, never in a
# request (the small report's PDF goes through consult.previews, cached by its content).
FORMATS = (*MIMETYPES, "pdf")


def opinions(session: Session, consultation: Consultation) -> int:
    return session.scalar(select(func.count()).select_from(Opinion).where(
        Opinion.consultation_id == consultation.id)) or 0


def queue_export(session: Session, consultation: Consultation, fmt: str, *, user_id: int, user_name: str) -> Job:
    """The export job of this consultation and format for this user: the one under way, or a new one."""
    pending = session.scalars(select(Job).where(Job.kind == KIND, Job.created_by_id == user_id,
                                                Job.status.in_((QUEUED, RUNNING)))).all()
    for job in pending:
        if job.params.get("consultation_id") == consultation.id and job.params.get("fmt") == fmt:
            return job
    label = {"docx": "Word (.docx)", "xlsx": "Excel (.xlsx)", "pdf": "PDF để xem trước"}[fmt]
    return enqueue(session, commune_id=consultation.commune_id, kind=KIND,
                   title=f"Báo cáo tổng hợp ý kiến ({label}): {consultation.title}"[:300],
                   params={"consultation_id": consultation.id, "fmt": fmt}, user_id=user_id, user_name=user_name,
                   total=1)


@runner(KIND)
def build_export(session, reader, job: Job, progress) -> Output:
    progress(0, 1)  # before ``session`` opens its write transaction (SQLite: one writer at a time)
    # On ``session``, the writer: building the report keeps its groups in step with the opinions
    # (a write), committed with the job's end.
    consultation = session.get(Consultation, job.params["consultation_id"])
    fmt = job.params.get("fmt")
    if consultation is None or consultation.commune_id != job.commune_id or fmt not in FORMATS:
        raise JobError("Không còn đợt lấy ý kiến này.")
    data = service.report_data(session, consultation)
    if fmt == "pdf":  # the .docx laid out by the worker's LibreOffice (consult.office), in the same job
        try:
            pdf = office.preview_pdf(export(data, "docx"), python=current_app.config.get("OFFICE_PYTHON") or None)
        except office.OfficeUnavailable as exc:
            raise JobError(str(exc)) from None
        return Output(pdf, filename(data, "pdf"), "application/pdf")
    return Output(export(data, fmt), filename(data, fmt), MIMETYPES[fmt])
