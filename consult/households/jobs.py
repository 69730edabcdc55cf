"""A large household register imported in the background (consult/jobs): the page shows how
many rows are read, and no web request runs longer than a moment.

The file never lies in the database: the page checks its kind, then writes it encrypted to
the jobs' input folder (``jobs.results.InputStore``); the job reads it, imports it all or
nothing exactly as the page would (``service.import_households``) and deletes it as it ends.
The job's row keeps only what it did (how many households were added and updated) or, for a
refused file, the reasons row by row.
"""

from __future__ import annotations

from consult.audit.service import Actor
from consult.communes.models import Commune, ResidentialGroup
from consult.jobs.models import Job
from consult.jobs.results import ResultStore
from consult.jobs.service import CURRENT_RESULTS, JobError, Output, enqueue, runner
from consult.households import service

KIND = "household_import"
# Row messages kept on the job's page of a refused file (the page of an inline import shows all).
MAX_LISTED = 200


def queue_import(session, app, group: ResidentialGroup, filename: str, data: bytes, *, user_id: int,
                 user_name: str) -> Job:
    """Check the file's kind now (a refusal is shown beside the form), then queue its import."""
    service.read_rows(filename, data, max_bytes=app.config["UPLOAD_MAX_BYTES"])
    job = enqueue(session, commune_id=group.commune_id, kind=KIND, title=f"Nhập danh sách hộ: {group.full_name}",
                  params={"group_id": group.id, "filename": filename[-200:]}, user_id=user_id, user_name=user_name,
                  total=service.estimated_rows(filename, data))
    ResultStore.of_app(app).inputs().write(job, data)
    return job


@runner(KIND)
def import_register(session, reader, job: Job, progress) -> Output:
    inputs = CURRENT_RESULTS.get().inputs()
    try:
        data = inputs.read(job)
        if data is None:
            raise JobError("Tệp nhập không còn trên máy chủ; hãy chọn tệp và nhập lại.")
        # Read and checked on the reader, written by ``session`` at the end: on SQLite the write
        # lock is not held while the file is read (the progress is written meanwhile).
        group = reader.get(ResidentialGroup, job.params["group_id"])
        if group is None or group.commune_id != job.commune_id:
            raise JobError("Không còn khu dân cư này.")
        total = job.total
        try:
            result = service.import_households(
                reader, Actor(job.created_by_id, job.created_by, None), reader.get(Commune, group.commune_id),
                service.read_rows(job.params["filename"], data), only_group=group,
                progress=lambda rows: progress(rows, max(total, rows)), writer=session)
        except service.ImportRejected as refusal:
            listed = [*refusal.errors[:MAX_LISTED]] + ([f"… và {len(refusal.errors) - MAX_LISTED} dòng lỗi khác."]
                                                     if len(refusal.errors) > MAX_LISTED else [])
            raise JobError("\n".join([str(refusal), *listed])) from None
        job.params = {**job.params, "added": result.added, "updated": result.updated}
        return Output(None)
    finally:
        inputs.delete(job.id)
