"""A large household register imported in the background (issue #24 point 6: "with progress").

A file over ``IMPORT_INLINE_MAX_BYTES`` is checked for its kind by the page, written encrypted
to the jobs' input folder (never to the database), and imported by a job, all or nothing as an
inline import is, its rows counted on the job's page; the file is deleted as the job ends."""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import func, select

from consult.communes.models import Household
from consult.households import service
from consult.jobs.models import Job
from tests.support.helpers import login, run_jobs
from tests.web.test_households_views import _head, _upload  # the same head and upload


def _register(rows: int, *, bad_at: int | None = None) -> bytes:
    lines = ["Mã hộ,Đại diện hộ,Địa chỉ,Khu phố,Số nhân khẩu"]
    for n in range(1, rows + 1):
        code = "" if n == bad_at else f"KP1-{n:05d}"
        lines.append(f"{code},Nguyễn Văn Hộ {n},Số {n} đường Lê Lợi,Khu phố 1,{n % 9 + 1}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _fresh(session):
    session.rollback()
    session.expire_all()


def _inputs(app) -> Path:
    return Path(app.instance_path) / "job-inputs"


def test_a_large_register_is_imported_by_a_job_with_its_rows_counted(app, client, session):
    app.config.update(JOBS_IN_PROCESS=False, IMPORT_INLINE_MAX_BYTES=64 * 1024)
    _, kp1 = _head(session)
    login(client, "truong.kp1")
    data = _register(5_000)
    assert len(data) > 64 * 1024
    r = _upload(client, kp1, "so-ho.csv", data)
    assert r.status_code == 302 and "/jobs/" in r.headers["Location"]
    job_url = r.headers["Location"]
    _fresh(session)
    job = session.scalar(select(Job))
    assert job.kind == "household_import" and job.total >= 5_000 and session.scalar(
        select(func.count()).select_from(Household)) == 0
    # The file waits encrypted outside the database: no name of it in the job's row or its file.
    [stored] = list(_inputs(app).iterdir())
    assert b"Nguyen" not in stored.read_bytes() and "Nguyễn Văn Hộ 1".encode() not in stored.read_bytes()
    assert "Nguyễn" not in str(job.params)
    waiting = client.get(job_url).get_data(as_text=True)
    assert 'id="job-progress"' in waiting and 'http-equiv="refresh"' in waiting and "so-ho.csv" in waiting

    assert run_jobs(app) == 1
    _fresh(session)
    assert session.scalar(select(func.count()).select_from(Household)) == 5_000
    job = session.get(Job, job.id)
    assert job.status == "done" and job.done == job.total and job.params["added"] == 5_000
    assert not list(_inputs(app).iterdir())  # deleted as the job ended
    done = client.get(job_url).get_data(as_text=True)
    assert "Đã nhập: thêm 5000 hộ, cập nhật 0 hộ." in done and 'http-equiv="refresh"' not in done
    assert "jobs/" not in done.split('id="import-done"')[1].split("</main>")[0].replace(job_url, "")  # no download


def test_a_refused_register_in_a_job_names_its_rows_and_imports_nothing(app, client, session):
    app.config.update(JOBS_IN_PROCESS=False, IMPORT_INLINE_MAX_BYTES=64 * 1024)
    _, kp1 = _head(session)
    login(client, "truong.kp1")
    r = _upload(client, kp1, "so-ho.csv", _register(5_000, bad_at=4_321))
    job_url = r.headers["Location"]
    assert run_jobs(app) == 1
    _fresh(session)
    assert session.scalar(select(func.count()).select_from(Household)) == 0
    assert session.scalar(select(Job.status)) == "failed" and not list(_inputs(app).iterdir())
    page = client.get(job_url).get_data(as_text=True)
    assert "chưa nhập hộ nào" in page and "Dòng 4322: thiếu mã hộ." in page and 'id="import-errors"' in page


def test_a_large_file_that_is_not_what_its_name_says_is_refused_by_the_page_not_queued(app, client, session):
    app.config.update(JOBS_IN_PROCESS=False, IMPORT_INLINE_MAX_BYTES=1024)
    _, kp1 = _head(session)
    login(client, "truong.kp1")
    r = _upload(client, kp1, "so-ho.xlsx", b"%PDF-1.4 " + b"x" * 4096)
    assert r.status_code == 422 and "không đúng định dạng .xlsx" in r.get_data(as_text=True)
    _fresh(session)
    assert session.scalar(select(func.count()).select_from(Job)) == 0
    assert not _inputs(app).exists() or not list(_inputs(app).iterdir())


def test_an_xlsx_register_in_a_job_shows_rows_read_without_a_guessed_total(app, client, session):
    app.config.update(JOBS_IN_PROCESS=False, IMPORT_INLINE_MAX_BYTES=1024)
    _, kp1 = _head(session)
    login(client, "truong.kp1")
    book = Workbook()
    sheet = book.active
    sheet.append(["Mã hộ", "Đại diện hộ", "Địa chỉ", "Khu phố"])
    for n in range(1, 301):
        sheet.append([f"KP1-{n:03d}", f"Trần Thị {n}", f"Số {n}", "Khu phố 1"])
    out = io.BytesIO()
    book.save(out)
    r = _upload(client, kp1, "so-ho.xlsx", out.getvalue())
    waiting = client.get(r.headers["Location"]).get_data(as_text=True)
    assert '<progress id="job-progress">' in waiting  # indeterminate: an .xlsx's rows are not known before reading
    assert run_jobs(app) == 1
    _fresh(session)
    assert session.scalar(select(func.count()).select_from(Household)) == 300


def test_the_import_says_how_far_it_has_read(session):
    commune, kp1 = _head(session)
    seen: list[int] = []
    from consult.audit.service import SYSTEM

    service.import_households(session, SYSTEM, commune, service.read_rows("a.csv", _register(4_500)),
                              only_group=kp1, progress=seen.append)
    assert seen == [2_000, 4_000, 4_500]
