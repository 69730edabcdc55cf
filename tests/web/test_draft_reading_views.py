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
    ("du-thao.pdf", _scan_pdf, "không có lớp chữ: các trang là ảnh chụp, bản quét"),
    ("ban-quet.pdf", lambda tmp: scanned_seed_page(), "không có lớp chữ: các trang là ảnh chụp, bản quét"),
    # About 150 characters of a digital-signature box over the scanned page: still a scan.
    ("ban-quet-ky-so.pdf", lambda tmp: scanned_seed_page(signature_box=True),
     "không có lớp chữ: các trang là ảnh chụp, bản quét"),
]


@pytest.mark.parametrize("name, make, message", BAD_FILES)
def test_bad_files_are_told_beside_the_upload_field_and_save_nothing(client, session, tmp_path, name, make,
                                                                      message):
    if name.endswith(".pdf"):
        _need_office()
    unit = _officer(client, session)
    r = _upload(client, unit, name, make(tmp_path))
    assert r.status_code in (200, 422)
    page = r.get_data(as_text=True)
    error = page[page.index('id="draft_file-error"'):]
    assert message in error[:error.index("</small>")]
    assert session.scalar(select(func.count()).select_from(Consultation)) == 0
    assert session.scalar(select(func.count()).select_from(DraftPart)) == 0


@pytest.mark.parametrize("name, make, message", BAD_FILES)
def test_bad_files_are_told_by_parse_draft_without_a_traceback(runner, tmp_path, name, make, message):
    if name.endswith(".pdf"):
        _need_office()
    path = tmp_path / name
    path.write_bytes(make(tmp_path))
    result = runner.invoke(args=["parse-draft", str(path)])
    assert result.exit_code == 1 and message in result.output and result.output.startswith("Error: ")
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
