"""A draft file read the same way through the upload page and through ``flask --app consult
parse-draft``: every format, the layout tables and Track Changes, and the files refused with a
message (beside the upload field, nothing saved; a ClickException, no traceback)."""

from __future__ import annotations

import io
import json
import os
import shutil
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import func, select

from consult.consultations.models import Consultation, DraftPart
from consult.timeutil import format_datetime, utcnow
from tests.support.drafts import (
    COMMENT_TEXT,
    OFFICE_PARTS,
    office_resolution,
    office_resolution_as,
    parts_of,
    password_protected_docx,
    password_protected_pdf,
    scanned_seed_page,
)
from tests.support.helpers import login, make_commune, make_unit, make_user, post_form


def _need_office():
    if shutil.which("soffice") is None or shutil.which("pdftotext") is None:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("LibreOffice and poppler-utils are needed (Debian: libreoffice-writer-nogui, poppler-utils)")
        pytest.skip("LibreOffice not installed")


def _officer(client, session):
    commune = make_commune(session)
    unit = make_unit(session, commune, "Ủy ban MTTQ phường")
    secret = pyotp.random_base32()
    make_user(session, "tam.vptk", "officer", commune, totp=secret)
    session.commit()
    login(client, "tam.vptk", totp_secret=secret)
    return unit


def _upload(client, unit, filename: str, data: bytes):
    now = utcnow()
    form = {
        "title": "Lấy ý kiến góp ý dự thảo Nghị quyết về dân chủ ở cơ sở", "doc_kind": "nghi_quyet",
        "issuing_body": "Ủy ban nhân dân phường Bình An", "officer_name": "Đ/c Tâm",
        "opens_at": format_datetime(now + timedelta(minutes=5)),
        "closes_at": format_datetime(now + timedelta(days=21)),
        "residents_may_comment": "y", "units": [str(unit.id)], "draft_text": "",
        "draft_file": (io.BytesIO(data), filename),
    }
    return post_form(client, "/consultations/new", form, content_type="multipart/form-data")


def _stored_parts(session) -> list[tuple[str, str, str]]:
    return [(p.label, p.title, p.text) for p in session.scalars(select(DraftPart).order_by(DraftPart.position))]


def test_officer_uploads_a_resolution_with_tables_and_tracked_changes(client, session):
    """The check page shows the parts as a reader sees them, the signature block in the closing
    text, and says that the file carried changes not yet accepted."""
    unit = _officer(client, session)
    r = _upload(client, unit, "nghi-quyet.docx", office_resolution(revisions=True, comments=True))
    assert r.status_code == 302, r.get_data(as_text=True)[-1500:]
    c = session.scalar(select(Consultation))
    assert c.source_had_revisions is True
    assert _stored_parts(session) == OFFICE_PARTS
    assert "Nguyễn Quốc Chung" in c.closing_text and "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in c.preamble
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert 'id="had-revisions"' in page and "Track Changes" in page and "chưa được chấp nhận" in page
    assert COMMENT_TEXT not in page and "trong toàn tỉnh" not in page


def test_a_file_without_tracked_changes_says_nothing_of_them(client, session):
    unit = _officer(client, session)
    r = _upload(client, unit, "nghi-quyet.docx", office_resolution(revisions=False))
    assert r.status_code == 302
    c = session.scalar(select(Consultation))
    assert c.source_had_revisions is False and _stored_parts(session) == OFFICE_PARTS
    assert 'id="had-revisions"' not in client.get(r.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize("target", ["odt", "doc", "pdf"])
def test_officer_uploads_the_same_resolution_as_odt_doc_and_pdf(client, session, target):
    _need_office()
    unit = _officer(client, session)
    r = _upload(client, unit, f"nghi-quyet.{target}", office_resolution_as(target))
    assert r.status_code == 302, r.get_data(as_text=True)[-1500:]
    assert _stored_parts(session) == OFFICE_PARTS
    assert "Nguyễn Quốc Chung" in session.scalar(select(Consultation.closing_text))


@pytest.mark.parametrize("target", ["docx", "odt", "doc", "pdf"])
def test_parse_draft_reads_every_format_as_the_upload_page_does(runner, tmp_path, target):
    """An .odt no longer crashes parse-draft, a .doc or PDF is no longer taken for a text file."""
    if target != "docx":
        _need_office()
    path = tmp_path / f"nghi-quyet.{target}"
    path.write_bytes(office_resolution_as(target))
    result = runner.invoke(args=["parse-draft", str(path)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert parts_of(data) == OFFICE_PARTS
    assert data["closing"].startswith("Nơi nhận:") and "Nguyễn Quốc Chung" in data["closing"]
    assert data["source"] == {"filename": path.name, "format": target, "had_revisions": False, "footnotes": 0}


def test_parse_draft_reads_tracked_changes_as_accepted(runner, tmp_path):
    path = tmp_path / "nghi-quyet.docx"
    path.write_bytes(office_resolution(revisions=True, comments=True))
    result = runner.invoke(args=["parse-draft", str(path)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert parts_of(data) == OFFICE_PARTS and data["source"]["had_revisions"] is True
    assert COMMENT_TEXT not in result.output and "trong toàn tỉnh" not in result.output


def _scan_pdf(tmp_path) -> bytes:
    from PIL import Image

    path = tmp_path / "scan.pdf"
    Image.new("RGB", (600, 800), "white").save(path, "PDF")
    return path.read_bytes()


BAD_FILES = [
    ("du-thao.docx", lambda tmp: password_protected_docx(), "được đặt mật khẩu để mở"),
    ("du-thao.pdf", lambda tmp: password_protected_pdf(office_resolution(revisions=False)),
     "được đặt mật khẩu (mã hóa)"),
    ("du-thao.docx", lambda tmp: b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n", "không đúng định dạng .docx như tên của nó: đây là "
                                                                   "một tệp PDF"),
    ("du-thao.pdf", lambda tmp: office_resolution(revisions=False), "không đúng định dạng .pdf như tên của nó: đây là "
                                                                    "một tệp Word .docx"),
]
# A scan is read by OCR: the upload page saves it and reads it in the background (below), and
# parse-draft reads it at once, telling an image with no text as such.
BLANK_SCAN = ("du-thao.pdf", _scan_pdf, "Không nhận ra chữ tiếng Việt nào trên các trang quét")


@pytest.mark.parametrize("name, make, message", BAD_FILES)
def test_bad_files_are_told_beside_the_upload_field_and_save_nothing(client, session, tmp_path, name, make,
                                                                      message):
    if name.endswith(".pdf"):
        _need_office()
    unit = _officer(client, session)
    r = _upload(client, unit, name, make(tmp_path))
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    error = page[page.index('id="draft_file-error"'):]
    assert message in error[:error.index("</small>")]
    assert session.scalar(select(func.count()).select_from(Consultation)) == 0
    assert session.scalar(select(func.count()).select_from(DraftPart)) == 0


@pytest.mark.parametrize("name, make, message", [*BAD_FILES, BLANK_SCAN])
def test_bad_files_are_told_by_parse_draft_without_a_traceback(runner, tmp_path, name, make, message):
    if name.endswith(".pdf"):
        _need_office()
    path = tmp_path / name
    path.write_bytes(make(tmp_path))
    result = runner.invoke(args=["parse-draft", str(path)])
    # The error is the last line (a scan's reading reports its pages before it).
    last = result.output.rstrip("\n").splitlines()[-1]
    assert result.exit_code == 1 and last.startswith("Error: ") and message in last
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output


# --- footnotes ----------------------------------------------------------------------------------

from tests.support.drafts import OFFICE_FOOTNOTE_PARTS, OFFICE_FOOTNOTES, OFFICE_PART_FOOTNOTES, footnotes_of  # noqa


@pytest.mark.parametrize("target", ["docx", "pdf"])
def test_footnotes_are_stored_with_their_part_and_shown_under_it_publicly_and_in_the_report(
        client, session, target):
    from consult.communes.models import Commune
    from consult.opinions.service import add_resident_opinion
    from tests.support.helpers import make_group

    if target == "pdf":
        _need_office()
    unit = _officer(client, session)
    group = make_group(session, session.scalar(select(Commune)))
    session.commit()
    r = _upload(client, unit, f"nghi-quyet.{target}", office_resolution_as(target, footnotes=True))
    assert r.status_code == 302, r.get_data(as_text=True)[-1500:]
    assert _stored_parts(session) == OFFICE_FOOTNOTE_PARTS
    stored = {p.label: p.footnotes for p in session.scalars(select(DraftPart)) if p.footnotes}
    assert stored == OFFICE_PART_FOOTNOTES
    c = session.scalar(select(Consultation))
    check = client.get(f"/consultations/{c.id}").get_data(as_text=True)
    assert OFFICE_FOOTNOTES["2"] in check
    published = post_form(client, f"/consultations/{c.id}/publish", {}, get_url=f"/consultations/{c.id}")
    assert published.status_code == 302
    session.rollback()  # a new transaction sees the publication
    assert c.status == "open"
    clause = session.scalar(select(DraftPart).where(DraftPart.label == "Điều 1, khoản 1"))
    public = client.get(f"/c/{c.commune.slug}/consultations/{c.id}").get_data(as_text=True)
    section = public[public.index(f'id="{clause.anchor}"'):]
    section = section[:section.index("</section>")]
    assert f'id="{clause.anchor}-chu-thich"' in section and OFFICE_FOOTNOTES["2"] in section
    assert OFFICE_FOOTNOTES["3"] not in section  # Điều 2 khoản 1's stays under it
    add_resident_opinion(session, c, part_id=clause.id, text="Đề nghị ghi rõ số hiệu Luật.", name="Lan",
                         group_id=group.id, now=c.opens_at + timedelta(minutes=1))
    session.commit()
    workspace = client.get(f"/reports/consultations/{c.id}").get_data(as_text=True)
    assert f'id="{clause.anchor}-chu-thich"' in workspace and OFFICE_FOOTNOTES["2"] in workspace


@pytest.mark.parametrize("target", ["docx", "pdf"])
def test_parse_draft_prints_each_part_s_footnotes(runner, tmp_path, target):
    if target == "pdf":
        _need_office()
    path = tmp_path / f"nghi-quyet.{target}"
    path.write_bytes(office_resolution_as(target, footnotes=True))
    result = runner.invoke(args=["parse-draft", str(path)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert parts_of(data) == OFFICE_FOOTNOTE_PARTS and footnotes_of(data) == OFFICE_PART_FOOTNOTES
    assert data["source"]["footnotes"] == 3


# --- scans, read by OCR in the background -----------------------------------------------------------

def _need_ocr():
    from consult.consultations import ocr

    _need_office()
    if ocr.available():
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("tesseract-ocr and tesseract-ocr-vie are needed")
        pytest.skip(ocr.available())


SEED_PAGE = 4  # Điều 1 of the Bình An resolution, its khoản 1 and điểm a, b


def test_a_scan_is_saved_read_in_the_background_with_progress_then_checked_part_by_part(app, client, session):
    """The upload saves the draft with its file at once and queues the reading; the check page
    shows its progress and refuses to publish; once read, each part says its page and how sure
    OCR was, and a part's words can be corrected before publishing."""
    from consult.audit.models import AuditEntry
    from consult.jobs.models import DONE, QUEUED, Job
    from tests.support.helpers import run_jobs

    _need_ocr()
    app.config["JOBS_IN_PROCESS"] = False  # the job is run below, as the worker would
    unit = _officer(client, session)
    r = _upload(client, unit, "nghi-quyet-ban-quet.pdf", scanned_seed_page(page=SEED_PAGE))
    assert r.status_code == 302, r.get_data(as_text=True)[-1500:]
    c = session.scalar(select(Consultation))
    job = session.get(Job, c.ocr_job_id)
    assert job.kind == "read_scan" and job.status == QUEUED and job.params == {"consultation_id": c.id}
    assert c.parts == [] and c.read_by_ocr is False and c.source_blob.startswith(b"%PDF")
    check = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "đang nhận dạng chữ" in check and 'id="scan-progress"' in check and 'http-equiv="refresh"' in check
    refused = post_form(client, f"/consultations/{c.id}/publish", {}, get_url=f"/consultations/{c.id}",
                        follow_redirects=True)
    assert "chưa được đọc xong" in refused.get_data(as_text=True)

    assert run_jobs(app) == 1
    session.rollback()  # a new transaction sees the writes
    job = session.get(Job, c.ocr_job_id)
    assert job.status == DONE and job.done == job.total == 1
    assert c.read_by_ocr is True
    labels = [p.label for p in c.parts]
    assert labels == ["Điều 1", "Điều 1, khoản 1", "Điều 1, khoản 1, điểm a", "Điều 1, khoản 1, điểm b"]
    assert all(p.ocr_page == 1 and 80 <= p.ocr_confidence <= 100 for p in c.parts)
    assert "QUYẾT NGHỊ" in c.preamble and "dieu 1 thong qua cac bien phap" in c.search_text
    check = client.get(f"/consultations/{c.id}").get_data(as_text=True)
    assert 'id="read-by-ocr"' in check and 'id="scan-progress"' not in check and 'http-equiv="refresh"' not in check
    point_b = c.parts[3]
    assert f'id="{point_b.anchor}-ocr">Trang 1 · nhận dạng {point_b.ocr_confidence:.0f}%' in check
    # The officer corrects a word OCR misread; the part is then marked as read by a person.
    url = f"/consultations/{c.id}/parts/{point_b.id}/text"
    form_page = client.get(url).get_data(as_text=True)
    assert 'id="scan-page"' in form_page and f"/consultations/{c.id}/source#page=1" in form_page
    empty = post_form(client, url, {"title": "", "text": "  "})
    assert empty.status_code == 422
    page = empty.get_data(as_text=True)
    assert "không được để trống" in page[page.index('id="text-error"'):][:400]
    session.rollback()  # a new transaction sees the writes
    assert session.get(DraftPart, point_b.id).text.startswith("Rà soát")
    corrected = point_b.text.replace("Rà soát", "Rà soát lại", 1)
    done = post_form(client, url, {"title": "", "text": corrected})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"#{point_b.anchor}")
    session.rollback()  # a new transaction sees the writes
    part = session.get(DraftPart, point_b.id)
    assert part.text == corrected and part.ocr_confidence is None and part.ocr_page == 1
    assert f'id="{point_b.anchor}-ocr">Trang 1 · đã sửa' in client.get(f"/consultations/{c.id}").get_data(as_text=True)
    actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert "consultation.read_scan" in actions and "draft_part.edit_text" in actions
    shown = client.get(f"/consultations/{c.id}/source")
    assert shown.status_code == 200 and shown.headers["Content-Disposition"].startswith("inline")
    published = post_form(client, f"/consultations/{c.id}/publish", {}, get_url=f"/consultations/{c.id}")
    assert published.status_code == 302
    session.rollback()  # a new transaction sees the writes
    assert session.get(Consultation, c.id).status == "open"


def test_a_scan_with_no_text_fails_its_reading_with_the_reason_and_keeps_the_draft_empty(app, client, session,
                                                                                          tmp_path):
    from consult.jobs.models import FAILED, Job
    from tests.support.helpers import run_jobs

    _need_ocr()
    app.config["JOBS_IN_PROCESS"] = False
    unit = _officer(client, session)
    r = _upload(client, unit, "trang-trang.pdf", _scan_pdf(tmp_path))
    assert r.status_code == 302
    assert run_jobs(app) == 1
    session.rollback()
    c = session.scalar(select(Consultation))
    assert session.get(Job, c.ocr_job_id).status == FAILED and c.parts == [] and not c.read_by_ocr
    check = client.get(f"/consultations/{c.id}").get_data(as_text=True)
    box = check[check.index('id="scan-reading"'):]
    assert "Không đọc được bản quét" in box[:600] and "Không nhận ra chữ tiếng Việt" in box[:800]
    assert 'http-equiv="refresh"' not in check
    refused = post_form(client, f"/consultations/{c.id}/publish", {}, get_url=f"/consultations/{c.id}",
                        follow_redirects=True)
    assert "chưa được đọc xong" in refused.get_data(as_text=True)


def test_parse_draft_reads_a_scan_by_ocr_with_each_part_s_page_and_confidence(runner, tmp_path):
    _need_ocr()
    path = tmp_path / "ban-quet.pdf"
    path.write_bytes(scanned_seed_page(page=SEED_PAGE))
    result = runner.invoke(args=["parse-draft", str(path)])
    assert result.exit_code == 0, result.output
    assert "Nhận dạng chữ bản quét: đã đọc 1/1 trang" in result.stderr
    data = json.loads(result.stdout)
    assert data["source"]["ocr"]["pages"] == 1 and 80 <= data["source"]["ocr"]["confidence"] <= 100
    article = data["parts"][0]
    assert article["label"] == "Điều 1" and article["page"] == 1 and 80 <= article["confidence"] <= 100
    assert [c["label"] for c in article["children"][0]["children"]] == ["Điều 1, khoản 1, điểm a",
                                                                      "Điều 1, khoản 1, điểm b"]
