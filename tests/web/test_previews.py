"""PDF previews made once per document content, in the background (consult.previews): the page
never lays a document out itself, the same content is converted once, changed content again, a
commune never gets another's preview, and a failed conversion says why and can be tried again."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import zipfile
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import func, select

from consult import office, previews
from consult.jobs.models import DONE, FAILED, Job
from consult.jobs.results import ResultStore
from consult.opinions.service import add_resident_opinion
from consult.timeutil import utcnow
from tests.support.covenants import recognised_covenant
from tests.support.helpers import login, make_commune, make_consultation, make_group, make_user, preview_pdf, run_jobs


def _need_office():
    if shutil.which("soffice") is None or shutil.which("pdftotext") is None:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("LibreOffice and poppler-utils are needed")
        pytest.skip("LibreOffice not installed")


def _text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "preview.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(text.split())  # a table cell's lines joined


def _previews(session) -> int:
    session.commit()  # a new snapshot (SQLite), and none kept open while the pages write
    count = session.scalar(select(func.count()).select_from(Job).where(Job.kind == previews.KIND))
    session.commit()
    return count


def _officer_and_consultation(session):
    commune = make_commune(session)
    group = make_group(session, commune, name="Khu phố 2")
    secret = pyotp.random_base32()
    make_user(session, "tam.vptk", "officer", commune, totp=secret)
    c = make_consultation(session, commune, [])
    add_resident_opinion(session, c, part_id=c.parts[1].id, text="Đề nghị giảm mức thu xuống 10.000 đồng",
                         name="Trần Thị Ửng", group_id=group.id)
    session.commit()
    return commune, group, c, secret


def test_report_preview_is_made_once_per_content_and_again_when_the_content_changes(app, client, session, tmp_path):
    _need_office()
    _, group, c, secret = _officer_and_consultation(session)
    login(client, "tam.vptk", totp_secret=secret)
    url = f"/reports/consultations/{c.id}/export.pdf"

    waiting = client.get(url)
    assert waiting.status_code == 202 and waiting.headers["Cache-Control"] == "no-store"
    page = waiting.get_data(as_text=True)
    assert "Bản PDF xem trước" in page and 'id="preview-progress"' in page and b"%PDF" not in waiting.data
    # Asking again while it waits queues nothing more.
    assert client.get(url).status_code == 202 and _previews(session) == 1
    job = session.scalars(select(Job).where(Job.kind == previews.KIND)).one()
    # The document waits encrypted outside the database: the row holds its hash, not its text.
    assert set(job.params) == {"hash", "name", "url"} and job.params["url"] == url
    assert ResultStore.of_app(app).inputs().exists(job.id)

    assert run_jobs(app) == 1
    first = client.get(url)
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    assert "inline" in first.headers["Content-Disposition"] and first.headers["Cache-Control"] == "private, no-cache"
    text = _text(first.data, tmp_path)
    assert "BÁO CÁO Tổng hợp, tiếp thu, giải trình ý kiến" in text and "Trần Thị Ửng" in text
    assert "Lê Văn Ỷ" not in text
    assert not ResultStore.of_app(app).inputs().exists(job.id)  # the input is gone with the job

    # The same content is rendered again (another zip, stamped another second): the same PDF, no job.
    again = client.get(url)
    assert again.status_code == 200 and again.data == first.data and _previews(session) == 1
    assert client.get(url, headers={"If-None-Match": again.headers["ETag"].strip('"')}).status_code == 304

    # A new opinion changes the report: a new preview, which holds it.
    add_resident_opinion(session, c, part_id=c.parts[1].id, text="Bổ sung khoản 3 về người cao tuổi",
                         name="Lê Văn Ỷ", group_id=group.id)
    session.commit()
    changed = preview_pdf(client, app, url)
    assert _previews(session) == 2 and "Lê Văn Ỷ" in _text(changed, tmp_path)


def test_the_content_hash_ignores_the_zip_stamps_and_sees_every_part(tmp_path):
    def docx(parts: dict[str, bytes], stamp: tuple) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in parts.items():
                archive.writestr(zipfile.ZipInfo(name, date_time=stamp), data)
        return out.getvalue()

    parts = {"[Content_Types].xml": b"<Types/>", "word/document.xml": "<w:t>Điều 1</w:t>".encode()}
    one, two = docx(parts, (2026, 1, 1, 0, 0, 0)), docx(parts, (2026, 12, 3, 17, 0, 2))
    assert one != two and previews.content_hash(one) == previews.content_hash(two)
    assert previews.content_hash(docx({**parts, "word/document.xml": "<w:t>Điều 2</w:t>".encode()},
                                      (2026, 1, 1, 0, 0, 0))) != previews.content_hash(one)
    # A part's bytes moved into its name is another document.
    assert previews.content_hash(docx({"ab": b"c"}, (2026, 1, 1, 0, 0, 0))) != previews.content_hash(
        docx({"a": b"bc"}, (2026, 1, 1, 0, 0, 0)))
    assert previews.content_hash(b"not a zip") != previews.content_hash(b"not a zap")


def test_a_preview_is_never_found_from_another_commune(app, session):
    home, _, c, _ = _officer_and_consultation(session)
    other = make_commune(session, name="Tân Phú")
    session.flush()
    officer = make_user(session, "lan.vptk", "officer", other)
    session.flush()
    job = previews.queue(session, app, commune_id=home.id, document=b"PK...", digest="ab" * 32, name="x.pdf",
                         title="x", url="/x", user_id=officer.id, user_name="x")
    job.status, job.expires_at = DONE, utcnow() + timedelta(hours=1)
    ResultStore.of_app(app).write(job, b"%PDF-1.7 of the home commune")
    session.commit()
    results = ResultStore.of_app(app)
    assert previews.find(session, results, home.id, "ab" * 32)[1] == b"%PDF-1.7 of the home commune"
    assert previews.find(session, results, other.id, "ab" * 32) == (None, None)
    # An expired one is not sent either.
    job.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    assert previews.find(session, results, home.id, "ab" * 32) == (None, None)


def test_a_failed_conversion_says_why_and_is_tried_again_on_request(app, client, session, monkeypatch):
    _, _, c, secret = _officer_and_consultation(session)
    login(client, "tam.vptk", totp_secret=secret)
    url = f"/reports/consultations/{c.id}/export.pdf"

    def missing(*args, **kwargs):
        raise office.OfficeUnavailable("Máy chủ chưa cài LibreOffice nên chưa xem trước được bản PDF.")

    monkeypatch.setattr(office, "preview_pdf", missing)
    assert client.get(url).status_code == 202
    run_jobs(app)
    failed = client.get(url)
    page = failed.get_data(as_text=True)
    assert failed.status_code == 200 and failed.mimetype == "text/html"
    assert "Máy chủ chưa cài LibreOffice" in page and 'id="preview-retry"' in page and 'id="preview-open"' not in page
    assert _previews(session) == 1  # reloading the page does not queue it again and again
    monkeypatch.undo()
    _need_office()
    assert client.get(url + "?lai=1").status_code == 202 and _previews(session) == 2
    assert run_jobs(app) == 1
    assert client.get(url).data.startswith(b"%PDF")
    assert [j.status for j in session.scalars(select(Job).where(Job.kind == previews.KIND).order_by(Job.id))] == [
        FAILED, DONE]


def test_decision_and_dossier_previews(app, client, session, tmp_path):
    _need_office()
    covenant, poll = recognised_covenant(session)
    secret = pyotp.random_base32()
    make_user(session, "tam.vptk", "officer", covenant.commune, totp=secret)
    make_user(session, "truong.kp1", "group_head", covenant.commune, group=covenant.group)
    session.commit()
    login(client, "tam.vptk", totp_secret=secret)
    text = _text(preview_pdf(client, app, f"/polls/{poll.id}/recognition/decision.pdf"), tmp_path)
    assert "Về việc công nhận hương ước khu phố 1" in text
    client.get("/auth/logout")
    login(client, "truong.kp1")
    assert client.get(f"/polls/{poll.id}/recognition/decision.pdf").status_code == 403
    assert "TỜ TRÌNH" in _text(preview_pdf(client, app, f"/covenants/{covenant.id}/dossier.pdf"), tmp_path)
