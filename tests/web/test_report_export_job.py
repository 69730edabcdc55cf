"""A report of more opinions than EXPORT_INLINE_MAX is exported by a background job (consult/reports
/exports.py): the page never builds it, asking again leads to the same job, the file is given once
to the one who asked, and at the limit it is still built inline."""

from __future__ import annotations

import io

import pyotp
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import func, select

from consult.jobs.models import Job
from consult.opinions.service import add_resident_opinion
from consult.reports import exports
from tests.support.helpers import login, make_commune, make_consultation, make_group, make_user, run_jobs


def _setup(session, opinions: int):
    commune = make_commune(session)
    group = make_group(session, commune, name="Khu phố 2")
    secrets_ = {name: pyotp.random_base32() for name in ("tam.vptk", "hoa.vptk")}
    for name, secret in secrets_.items():
        make_user(session, name, "officer", commune, totp=secret)
    c = make_consultation(session, commune, [])
    for i in range(opinions):
        add_resident_opinion(session, c, part_id=c.parts[1].id, text=f"Ý kiến số {i} về mức đóng góp",
                             name=f"Người dân {i}", group_id=group.id)
    session.commit()
    return c, secrets_


def _jobs(session) -> int:
    session.commit()
    n = session.scalar(select(func.count()).select_from(Job).where(Job.kind == exports.KIND))
    session.commit()
    return n


def test_a_large_report_is_exported_by_a_job_and_given_once_to_who_asked(app, client, session):
    c, secrets_ = _setup(session, 4)
    app.config["EXPORT_INLINE_MAX"] = 3
    login(client, "tam.vptk", totp_secret=secrets_["tam.vptk"])
    url = f"/reports/consultations/{c.id}/export.docx"
    first = client.get(url)
    assert first.status_code == 302 and "/jobs/" in first.headers["Location"]
    assert client.get(url).headers["Location"] == first.headers["Location"] and _jobs(session) == 1
    page = client.get(first.headers["Location"]).get_data(as_text=True)
    assert "Đang tạo tệp báo cáo tổng hợp ý kiến" in page and 'id="job-download"' not in page
    assert run_jobs(app) == 1
    page = client.get(first.headers["Location"]).get_data(as_text=True)
    assert 'id="job-download"' in page and "Tải tệp về" in page
    job_id = int(first.headers["Location"].rstrip("/").split("/")[-1])
    made = client.get(f"/jobs/{job_id}/download")
    assert made.status_code == 200 and "bao-cao-tong-hop-y-kien" in made.headers["Content-Disposition"]
    text = "\n".join(cell.text for t in Document(io.BytesIO(made.data)).tables for row in t.rows for cell in row.cells)
    assert all(f"Ý kiến số {i} về mức đóng góp" in text for i in range(4))
    assert client.get(f"/jobs/{job_id}/download").status_code == 410  # once
    # Asked again after it is done: a new job.
    assert client.get(url).headers["Location"] != first.headers["Location"] and _jobs(session) == 2
    client.get("/auth/logout")
    # Another officer neither sees that job nor downloads its file.
    login(client, "hoa.vptk", totp_secret=secrets_["hoa.vptk"])
    assert client.get(first.headers["Location"]).status_code == 404
    assert client.get(f"/jobs/{job_id}/download").status_code == 404
    xlsx = client.get(f"/reports/consultations/{c.id}/export.xlsx")
    assert xlsx.status_code == 302 and xlsx.headers["Location"] != first.headers["Location"]


def test_at_the_limit_the_report_is_still_built_in_the_page(app, client, session):
    c, secrets_ = _setup(session, 3)
    app.config["EXPORT_INLINE_MAX"] = 3
    login(client, "tam.vptk", totp_secret=secrets_["tam.vptk"])
    r = client.get(f"/reports/consultations/{c.id}/export.xlsx")
    assert r.status_code == 200 and _jobs(session) == 0
    sheet = load_workbook(io.BytesIO(r.data)).active
    assert sum("Ý kiến số" in str(cell.value) for row in sheet.iter_rows() for cell in row) == 3


def test_a_large_reports_pdf_is_built_and_laid_out_by_the_job(app, client, session, tmp_path):
    from tests.web.test_previews import _need_office, _text

    _need_office()
    c, secrets_ = _setup(session, 4)
    app.config["EXPORT_INLINE_MAX"] = 3
    login(client, "tam.vptk", totp_secret=secrets_["tam.vptk"])
    asked = client.get(f"/reports/consultations/{c.id}/export.pdf")
    assert asked.status_code == 302 and "/jobs/" in asked.headers["Location"] and _jobs(session) == 1
    assert "PDF để xem trước" in client.get(asked.headers["Location"]).get_data(as_text=True)
    assert run_jobs(app) == 1
    job_id = int(asked.headers["Location"].rstrip("/").split("/")[-1])
    made = client.get(f"/jobs/{job_id}/download")
    assert made.status_code == 200 and made.mimetype == "application/pdf" and made.data.startswith(b"%PDF")
    assert ".pdf" in made.headers["Content-Disposition"]
    text = _text(made.data, tmp_path)
    assert "BÁO CÁO" in text and all(f"Ý kiến số {i} về mức đóng góp" in text for i in range(4))
