"""The published report's files, made once per published version and served as files.

Công khai kết quả (Luật Điều 28 khoản 3) makes the report public: anyone may download it as
.docx or .xlsx, as often as they like. Building the report of 50,000 opinions takes seconds
of one worker, so a public URL that rebuilt it on every request would let two clients looping
on it stop the platform. The files are therefore built once for each published version (the
consultation and the instant its results were published), by a background job queued when the
results are published, written beside each other in ``instance/published-reports/`` (aside,
then renamed: a reader sees a whole file or none), and sent from there.

A public request that finds no file (a version published before these files existed, a folder
lost with a machine) does not build it: it queues the job, once, and answers "being prepared"
with ``Retry-After``. The job runs in the worker (or the in-process thread of the embedded
setup) like every other job.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from consult.consultations.models import STATUS_PUBLISHED, Consultation
from consult.jobs.models import QUEUED, RUNNING, Job
from consult.jobs.service import JobError, Output, enqueue, runner
from consult.reports import service
from consult.reports.export import MIMETYPES, export

FOLDER = "published-reports"
KIND = "published_report"


def folder_of(app) -> Path:
    return Path(app.instance_path) / FOLDER


def version(consultation: Consultation) -> str:
    """The published version's name: the consultation and the instant of publication (µs)."""
    stamp = consultation.results_published_at
    return f"{consultation.id}-{round(stamp.timestamp() * 1_000_000)}" if stamp else ""


def path(folder: Path, consultation: Consultation, fmt: str) -> Path:
    return Path(folder) / f"{version(consultation)}.{fmt}"


def ready(folder: Path, consultation: Consultation, fmt: str) -> Path | None:
    """The file of this published version, if it has been made."""
    if consultation.status != STATUS_PUBLISHED or fmt not in MIMETYPES or not version(consultation):
        return None
    target = path(folder, consultation, fmt)
    return target if target.is_file() else None


def build(session: Session, consultation: Consultation, folder: Path) -> list[Path]:
    """Make every format of the published version (the public report: senders as published)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    data = service.report_data(session, consultation, public=True)
    made = []
    for fmt in MIMETYPES:
        target = path(folder, consultation, fmt)
        temporary = folder / f".{target.name}.{os.getpid()}.{time.monotonic_ns()}.tmp"
        temporary.write_bytes(export(data, fmt))
        temporary.replace(target)
        made.append(target)
    # Files of this consultation's earlier versions are no longer served.
    for old in folder.glob(f"{consultation.id}-*"):
        if old.suffix.lstrip(".") in MIMETYPES and not old.name.startswith(version(consultation) + "."):
            old.unlink(missing_ok=True)
    return made


def queue_build(session: Session, consultation: Consultation, *, user_id: int, user_name: str) -> Job | None:
    """Queue the job that makes the files, unless one is already queued or running for this version."""
    pending = session.scalars(select(Job).where(Job.kind == KIND, Job.commune_id == consultation.commune_id,
                                                Job.status.in_((QUEUED, RUNNING)))).all()
    if any(job.params.get("version") == version(consultation) for job in pending):
        return None
    return enqueue(session, commune_id=consultation.commune_id, kind=KIND,
                   title=f"Tệp báo cáo công khai: {consultation.title}"[:300],
                   params={"consultation_id": consultation.id, "version": version(consultation)},
                   user_id=user_id, user_name=user_name)


def publisher(session: Session, consultation: Consultation) -> tuple[int, str] | None:
    """Who published the results (the audit trail): the job is queued in their name."""
    from consult.audit.models import AuditEntry

    entry = session.scalar(select(AuditEntry).where(
        AuditEntry.action == "consultation.publish_results", AuditEntry.object_type == "consultation",
        AuditEntry.object_id == str(consultation.id)).order_by(AuditEntry.id.desc()).limit(1))
    if entry is None or entry.actor_id is None:
        return None
    return entry.actor_id, entry.actor_name


@runner(KIND)
def build_published(session, reader, job: Job, progress) -> Output:
    consultation = reader.get(Consultation, job.params["consultation_id"])
    if consultation is None or consultation.commune_id != job.commune_id or consultation.status != STATUS_PUBLISHED:
        raise JobError("Kết quả của đợt lấy ý kiến này không còn được công khai.")
    if version(consultation) != job.params.get("version"):
        raise JobError("Kết quả đã được công khai lại; tệp của lần công khai mới được làm riêng.")
    made = build(reader, consultation, folder_of(current_app))
    reader.commit()
    return Output(("\n".join(p.name for p in made)).encode(), f"tep-cong-khai-{consultation.id}.txt", "text/plain")
