"""PDF previews of the generated documents, made once per document in the background.

An officer checks a document laid out in pages before printing and signing it: the report
(báo cáo tổng hợp, tiếp thu, giải trình ý kiến), a vote's decision or minutes, the commune's
recognition, a covenant's dossier. Laying a .docx out takes LibreOffice; started cold for each
request that is seconds of a web worker. So a preview is a job (``KIND``): the page renders the
.docx (python-docx, a fraction of a second), and

- when a preview of exactly this content was made (``content_hash``) and is still kept, it is
  sent at once;
- otherwise the .docx is written to the jobs' encrypted input folder and a job queued, and the
  page says the PDF is being made, how far it is, and links to itself: the same address sends
  the PDF once it is there.

The job converts with the worker's warm LibreOffice (``office.preview_pdf``: a LibreOffice kept
running behind unoserver, a fraction of a second a document), and keeps the PDF as its result:
encrypted, outside the database, for ``jobs.service.KEEP_RESULT``. The result is found again by
the commune and the content hash, so a second officer asking for the same document, or the same
officer again, gets the same file; a document whose content changed (an answer edited, a date)
has another hash and another preview. Who may see a preview is decided by the document's own page,
which renders the .docx first: the lookup only ever returns a PDF of the bytes just rendered.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from urllib.parse import quote

from flask import Response, current_app, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from consult import office
from consult.jobs.models import DONE, FAILED, QUEUED, RUNNING, STATUS_LABELS, Job
from consult.jobs.results import ResultStore
from consult.jobs.service import CURRENT_RESULTS, JobError, Output, enqueue, runner
from consult.timeutil import utcnow

KIND = "pdf_preview"
PDF = "application/pdf"
# The waiting page does not refresh itself: a timed refresh is one the reader cannot stop
# (WCAG 2.2.1, axe's meta-refresh); it offers the link that opens the PDF, most often made by then.
RETRY_AFTER_SECONDS = 2


def content_hash(document: bytes) -> str:
    """The document's content: sha256 over its parts (name, length, bytes, in the archive's
    order), not over the .docx file, in which python-docx stamps every part with the time it was
    written (two renders of one document a second apart differ as files, not as documents).
    Anything that is not a zip is hashed as it is."""
    digest = hashlib.sha256(b"consult-preview-v1\0")
    try:
        with zipfile.ZipFile(io.BytesIO(document)) as archive:
            for info in archive.infolist():
                data = archive.read(info)
                name = info.filename.encode()
                digest.update(len(name).to_bytes(4, "big") + name + len(data).to_bytes(8, "big") + data)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError):
        return hashlib.sha256(b"consult-preview-raw\0" + document).hexdigest()
    return digest.hexdigest()


def _jobs(session: Session, commune_id: int, digest: str) -> list[Job]:
    """This commune's previews of ``digest``, newest first (a commune has a few a day: they are
    kept ``KEEP_RESULT``, then purged)."""
    jobs = session.scalars(select(Job).where(Job.kind == KIND, Job.commune_id == commune_id)
                           .order_by(Job.id.desc())).all()
    return [job for job in jobs if (job.params or {}).get("hash") == digest]


def find(session: Session, results: ResultStore, commune_id: int, digest: str) -> tuple[Job | None, bytes | None]:
    """(the job, its PDF) of a preview made; (the job, None) of one queued, running or failed
    last; (None, None) when there is none to wait for."""
    now = utcnow()
    for job in _jobs(session, commune_id, digest):
        if job.status == DONE:
            if job.expires_at and job.expires_at < now:
                continue
            pdf = results.read(job)
            if pdf is not None:
                return job, pdf
            continue
        return job, None  # queued, running, or the last attempt failed
    return None, None


def queue(session: Session, app, *, commune_id: int, document: bytes, digest: str, name: str, title: str,
          url: str, user_id: int, user_name: str) -> Job:
    job = enqueue(session, commune_id=commune_id, kind=KIND, title=f"Bản PDF xem trước: {title}"[:300],
                  params={"hash": digest, "name": name[-200:], "url": url[-1000:]},
                  user_id=user_id, user_name=user_name, total=1)
    ResultStore.of_app(app).inputs().write(job, document)
    return job


@runner(KIND)
def make_preview(session, reader, job: Job, progress) -> Output:
    inputs = CURRENT_RESULTS.get().inputs()
    try:
        document = inputs.read(job)
        if document is None:
            raise JobError("Tài liệu cần chuyển không còn trên máy chủ; hãy mở lại bản xem trước.")
        progress(0, 1)
        try:
            pdf = office.preview_pdf(document, python=current_app.config.get("OFFICE_PYTHON") or None)
        except office.OfficeUnavailable as exc:
            raise JobError(str(exc)) from None
        return Output(pdf, job.params.get("name") or "xem-truoc.pdf", PDF)
    finally:
        inputs.delete(job.id)


def respond(session: Session, *, commune_id: int, document: bytes, name: str, title: str, back: str) -> Response:
    """The page's answer to a preview of ``document``: the PDF when it is made, else the page that
    waits for it (queueing the job if none is under way). ``back`` is where the waiting page
    leads back to."""
    from flask_login import current_user

    from consult import worker
    from consult.access import current_actor

    results = ResultStore.of_app(current_app)
    digest = content_hash(document)
    job, pdf = find(session, results, commune_id, digest)
    if pdf is not None:
        response = Response(pdf, mimetype=PDF, headers={
            "Content-Disposition": f"inline; filename*=UTF-8''{quote(name)}"})
        response.headers["Cache-Control"] = "private, no-cache"
        response.set_etag(digest)
        return response.make_conditional(request)
    retry = job is not None and job.status == FAILED and request.args.get("lai") == "1"
    if job is None or retry:
        job = queue(session, current_app, commune_id=commune_id, document=document, digest=digest, name=name,
                    title=title, url=request.path, user_id=current_user.id, user_name=current_actor().name)
        session.commit()
        worker.wake(current_app)
    ahead = 0
    if job.status == QUEUED:
        ahead = len(session.scalars(select(Job.id).where(Job.status.in_((QUEUED, RUNNING)), Job.id < job.id)).all())
    failed = job.status == FAILED
    response = Response(render_template("previews/waiting.html", job=job, title=title, back=back, failed=failed,
                                        label=STATUS_LABELS[job.status], ahead=ahead,
                                        open_url=request.path, retry_url=request.path + "?lai=1"),
                        status=200 if failed else 202)
    response.headers["Cache-Control"] = "no-store"
    if not failed:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
