"""A scanned draft, read by OCR as a background job (consult/jobs).

OCR takes seconds a page (``bench/ocr.py``), so the upload page saves the draft with its file
and no parts, and queues this job; the check page shows its progress, page by page, and then
the parts, each with the page it starts on and how sure OCR was of its words. The file is read
without holding any lock (the reader session is closed first), and the parts are written in
the transaction that finishes the job: a reading that fails leaves the draft as it was, with
the job's message on the check page.
"""

from __future__ import annotations

from consult.audit.service import Actor
from consult.consultations import reader as drafts
from consult.consultations import service
from consult.consultations.models import STATUS_DRAFT, Consultation
from consult.consultations.parser import DraftParseError
from consult.consultations.wordtext import UnreadableDraft
from consult.errors import DomainError
from consult.jobs.models import Job
from consult.jobs.service import JobError, Output, runner
from consult.textutil import nfc


@runner(service.SCAN_JOB_KIND)
def read_scanned_draft(session, reader, job: Job, progress) -> Output:
    """Read the scan queued by ``service.create_consultation`` and store its parts."""
    consultation = reader.get(Consultation, job.params["consultation_id"])
    if consultation is None or consultation.commune_id != job.commune_id:
        raise JobError("Không còn đợt lấy ý kiến này.")
    if consultation.status != STATUS_DRAFT or consultation.parts or consultation.ocr_job_id != job.id:
        raise JobError("Dự thảo đã được thay hoặc đã công khai; bản quét này không được đọc nữa.")
    filename, data = consultation.source_filename, consultation.source_blob
    reader.commit()  # no transaction held while OCR reads the pages
    try:
        drafted = drafts.read_draft_file(filename, data or b"", progress=progress)
        parsed = drafted.parse()
    except DraftParseError as exc:
        raise JobError(f"Đã nhận dạng chữ bản quét nhưng không nhận ra cấu trúc dự thảo: {exc} Nếu bản quét mờ, "
                       "hãy quét lại rõ hơn (200–300 dpi); hoặc tạo lại đợt lấy ý kiến với tệp Word, hay dán "
                       "nội dung dự thảo.") from None
    except UnreadableDraft as exc:
        raise JobError(str(exc)) from None
    consultation = session.get(Consultation, consultation.id)
    source = service.DraftSource(parsed, nfc(drafted.text), drafted.filename, drafted.mimetype, drafted.data)
    try:
        service.store_scan_reading(session, Actor(job.created_by_id, job.created_by, None), consultation, source)
    except DomainError as exc:
        raise JobError(str(exc)) from None
    return Output(source.text.encode("utf-8"), "van-ban-nhan-dang.txt", "text/plain; charset=utf-8")
