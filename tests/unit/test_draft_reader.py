"""The one reader of draft files: a resolution as an office sends it (the NĐ 30 header and the
signature block laid out as tables, a table of fees in an article, Track Changes with a move,
a reviewer's comment), the same file as .odt, .doc and text PDF, and the files it must refuse
with a message the officer can act on."""

from __future__ import annotations

import io
import os
import shutil
import zipfile

import pytest

from consult.consultations import reader
from consult.consultations.parser import parse_draft
from consult.consultations.wordtext import UnreadableDraft
from tests.support.drafts import (
    COMMENT_TEXT,
    MOVED_SENTENCE,
    OFFICE_RECIPIENTS,
    OFFICE_SIGNATURE,
    OFFICE_PARTS,
    office_resolution,
    office_resolution_as,
    parts_of,
    password_protected_docx,
    password_protected_pdf,
)

# What must never be inside a part: the header, the signature block, the comment, the deleted
# and the moved-away text.
NOT_IN_PARTS = ["CỘNG HÒA", "Độc lập", "Số: /NQ-HĐND", "Nơi nhận", "TM. HỘI ĐỒNG", "CHỦ TỊCH",
                "Nguyễn Quốc Chung", "Lưu: VT", COMMENT_TEXT, "trong toàn tỉnh", "đã bị xóa",
                "Tổ chức chính trị - xã hội"]


def _need_office():
    if shutil.which("soffice") is None or shutil.which("pdftotext") is None:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("LibreOffice and poppler-utils are needed (Debian: libreoffice-writer-nogui, poppler-utils)")
        pytest.skip("LibreOffice not installed")


def _check_office_parse(parsed) -> None:
    assert parts_of(parsed) == OFFICE_PARTS
    for label, title, text in parts_of(parsed):
        for words in NOT_IN_PARTS:
            assert words not in text and words not in title, (label, words)
    assert parsed.closing.startswith("Nơi nhận:")
    # Read cell by cell (in a PDF, column by column): Nơi nhận and its list, then the signature.
    assert parsed.closing.split() == " ".join(OFFICE_RECIPIENTS + OFFICE_SIGNATURE).split()
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in parsed.preamble and "Số: /NQ-HĐND" in parsed.preamble


def test_header_and_signature_tables_stay_out_of_the_parts_and_a_body_table_stays_a_table():
    """The signature block laid out as a table goes to the closing text (not glued into the last
    article as "| Nơi nhận: ... | CHỦ TỊCH ... |"), the header table to the preamble; the table of
    fees stays a table, row by row, in Điều 2 khoản 1."""
    drafted = reader.read_draft_file("nghi-quyet.docx", office_resolution(revisions=False, comments=False))
    assert not drafted.had_revisions
    _check_office_parse(parse_draft(drafted.text))


def test_tables_and_typed_paragraphs_give_the_same_draft():
    as_tables = parse_draft(reader.read_draft_file("a.docx", office_resolution(revisions=False)).text)
    as_paragraphs = parse_draft(reader.read_draft_file("b.docx", office_resolution(tables=False,
                                                                                     revisions=False)).text)
    assert parts_of(as_tables) == parts_of(as_paragraphs) == OFFICE_PARTS
    assert as_tables.closing.split() == as_paragraphs.closing.split()


def test_tracked_changes_are_read_as_accepted_and_comments_never_reach_the_text():
    """Deleted runs, a deleted paragraph and moved-away text (w:moveFrom, a whole point and a
    sentence) are gone; inserted and moved-to text is there, once; the file is flagged."""
    drafted = reader.read_draft_file("nghi-quyet.docx", office_resolution(revisions=True, comments=True))
    assert drafted.had_revisions and drafted.facts()["had_revisions"] is True
    assert drafted.text.count(MOVED_SENTENCE.strip()) == 1
    for words in (COMMENT_TEXT, "trong toàn tỉnh", "đã bị xóa", "Tổ chức chính trị - xã hội"):
        assert words not in drafted.text
    parsed = parse_draft(drafted.text)
    _check_office_parse(parsed)
    article2 = next(p for p in parsed.parts if p.label == "Điều 2")
    assert MOVED_SENTENCE.strip() not in article2.children[1].text
    # Without the comment the text is the same: nothing of it was read.
    assert reader.read_draft_file("x.docx", office_resolution(revisions=True, comments=False)).text == drafted.text


@pytest.mark.parametrize("target", ["odt", "doc", "pdf"])
def test_the_same_resolution_as_odt_doc_and_text_pdf(target):
    """Saved by LibreOffice as .odt, .doc and PDF: the same parts, the same text in each part (the
    PDF's table of fees found again from its columns), the signature in the closing text."""
    _need_office()
    drafted = reader.read_draft_file(f"nghi-quyet.{target}", office_resolution_as(target))
    assert drafted.extension == target and not drafted.had_revisions
    _check_office_parse(parse_draft(drafted.text))


@pytest.mark.parametrize("target", ["odt", "doc"])
def test_tracked_changes_kept_by_odt_and_doc_are_read_as_accepted(target):
    _need_office()
    drafted = reader.read_draft_file(f"nghi-quyet.{target}", office_resolution_as(target, revisions=True))
    assert drafted.had_revisions
    _check_office_parse(parse_draft(drafted.text))


def test_a_pdf_table_wrapped_cell_and_the_paragraph_after_it():
    from consult.consultations.wordtext import _unlayout

    lines = ["1. Bảng:",
             "STT       Khoản thu              Mức thu",
             "1         Quỹ phòng, chống       20.000 đồng",
             "          thiên tai",
             "2         Quỹ khuyến học         10.000 đồng",
             "2. Khoản sau bảng."]
    assert _unlayout(lines).splitlines() == ["1. Bảng:", "| STT | Khoản thu | Mức thu |",
                                             "| 1 | Quỹ phòng, chống thiên tai | 20.000 đồng |",
                                             "| 2 | Quỹ khuyến học | 10.000 đồng |", "2. Khoản sau bảng."]
    # Two columns side by side are not a table: the signature block is read column by column.
    two = ["Nơi nhận:            TM. ỦY BAN NHÂN DÂN", "- Lưu: VT.           CHỦ TỊCH"]
    assert _unlayout(two).splitlines() == ["Nơi nhận:", "- Lưu: VT.", "", "TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"]
    header = ["ỦY BAN NHÂN DÂN        CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"]
    assert _unlayout(header).splitlines() == header


# --- what the reader refuses ----------------------------------------------------------------------

def _refused(filename: str, data: bytes) -> str:
    with pytest.raises(UnreadableDraft) as caught:
        reader.read_draft_file(filename, data)
    assert caught.value.field == "draft_file"
    return str(caught.value)


def test_a_docx_saved_with_a_password_is_told_as_such():
    message = _refused("du-thao.docx", password_protected_docx())
    assert "được đặt mật khẩu" in message and "“du-thao.docx”" in message
    # Named .doc, the same locked package is told the same way.
    assert "được đặt mật khẩu" in _refused("du-thao.doc", password_protected_docx())


def test_an_odt_saved_with_a_password_is_told_as_such():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", os.urandom(512))
        archive.writestr("META-INF/manifest.xml",
                         '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
                         '<manifest:file-entry manifest:full-path="content.xml"><manifest:encryption-data '
                         'manifest:checksum-type="SHA1/1K"/></manifest:file-entry></manifest:manifest>')
    assert "được đặt mật khẩu" in _refused("du-thao.odt", buffer.getvalue())


def test_an_encrypted_pdf_is_told_as_such():
    _need_office()
    message = _refused("du-thao.pdf", password_protected_pdf(office_resolution(revisions=False)))
    assert "được đặt mật khẩu (mã hóa)" in message


@pytest.mark.parametrize("name, make, said", [
    ("du-thao.docx", lambda: b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n", "đây là một tệp PDF. Hãy đổi tên tệp cho đúng (đuôi .pdf)"),
    ("du-thao.pdf", lambda: office_resolution(revisions=False), "đây là một tệp Word .docx"),
    ("du-thao.doc", lambda: office_resolution(revisions=False), "không đúng định dạng .doc như tên của nó"),
    ("du-thao.txt", lambda: office_resolution(revisions=False), "không đúng định dạng .txt"),
    ("du-thao.odt", lambda: office_resolution(revisions=False), "đây là một tệp Word .docx"),
    ("du-thao.docx", lambda: b"{\\rtf1\\ansi Dieu 1}", "đây là một tệp RTF"),
    ("du-thao.docx", lambda: _xlsx(), "đây là một bảng tính Excel (.xlsx)"),
    ("du-thao.pdf", lambda: b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "đây là một ảnh PNG"),
])
def test_a_file_that_is_not_what_its_name_says(name, make, said):
    message = _refused(name, make())
    assert "không đúng định dạng" in message and said in message and f"“{name}”" in message


def _xlsx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


def test_a_text_file_with_a_byte_order_mark_reads_without_it():
    drafted = reader.read_draft_file("du-thao.txt", "\ufeffQUYẾT NGHỊ:\r\nĐiều 1. Phạm vi\r\n".encode("utf-8"))
    assert drafted.text == "QUYẾT NGHỊ:\nĐiều 1. Phạm vi\n"
    assert parse_draft(drafted.text).parts[0].title == "Phạm vi"


# --- footnotes ----------------------------------------------------------------------------------

from tests.support.drafts import (  # noqa: E402
    OFFICE_FOOTNOTE_PARTS,
    OFFICE_FOOTNOTES,
    OFFICE_PART_FOOTNOTES,
    footnotes_of,
)


def _check_footnotes(drafted) -> None:
    assert drafted.footnotes == OFFICE_FOOTNOTES
    parsed = drafted.parse()
    assert parts_of(parsed) == OFFICE_FOOTNOTE_PARTS
    assert footnotes_of(parsed) == OFFICE_PART_FOOTNOTES
    for label, title, text in parts_of(parsed):
        for note in OFFICE_FOOTNOTES.values():
            assert note not in text and note[:20] not in text, label
    # The one referred to from a "Căn cứ" line is written under the preamble, as on the page.
    assert parsed.preamble.endswith("2022;¹\n\nQUYẾT NGHỊ:\n\n¹ " + OFFICE_FOOTNOTES["1"])
    _check_closing(parsed)


def _check_closing(parsed) -> None:
    assert parsed.closing.startswith("Nơi nhận:") and "Nguyễn Quốc Chung" in parsed.closing
    for note in OFFICE_FOOTNOTES.values():
        assert note not in parsed.closing


def test_word_footnotes_are_kept_apart_and_attached_to_the_part_that_refers_to_them():
    """Word numbers footnotes in the order of their references; each reference is read as the
    raised number the reader sees, the footnote's text goes with its part, never into the text."""
    _check_footnotes(reader.read_draft_file("nghi-quyet.docx", office_resolution(revisions=False, footnotes=True)))


@pytest.mark.parametrize("target", ["odt", "doc", "pdf"])
def test_footnotes_of_odt_doc_and_text_pdf(target):
    """In the PDF the references are small raised numbers glued to words ("khoản thu3") and the
    footnotes lines at the foot of the page: both are recognised from poppler's runs of text."""
    _need_office()
    _check_footnotes(reader.read_draft_file(f"nghi-quyet.{target}", office_resolution_as(target, footnotes=True)))


def test_a_pdf_footnote_at_a_page_end_does_not_cut_the_sentence_that_crosses_it():
    """A clause running from one page onto the next, on a page with a footnote: the footnote's
    line between the two halves is taken out, and the clause reads whole."""
    _need_office()
    from docx import Document

    from consult import office
    from tests.support.drafts import _paragraph, _with_footnotes, OFFICE_FOOTNOTE_XML

    document = Document()
    for text in ("DỰ THẢO QUY CHẾ", "QUYẾT NGHỊ:"):
        document.add_paragraph(text)
    _paragraph(document, "Điều 1. Phạm vi điều chỉnh", ("note", 1))
    long_clause = " ".join(f"Khu phố số {n} niêm yết dự thảo tại nhà văn hóa và đọc trên loa truyền thanh."
                           for n in range(1, 60))
    document.add_paragraph("1. " + long_clause)
    document.add_paragraph("Điều 2. Hiệu lực")
    document.add_paragraph("Quy chế có hiệu lực kể từ ngày ký./.")
    buffer = io.BytesIO()
    document.save(buffer)
    pdf = office.convert([_with_footnotes(buffer.getvalue(), OFFICE_FOOTNOTE_XML)], suffix=".docx", target="pdf")[0]
    drafted = reader.read_draft_file("quy-che.pdf", pdf)
    parsed = drafted.parse()
    article1 = parsed.parts[0]
    assert article1.title == "Phạm vi điều chỉnh¹"
    assert article1.footnotes == [{"number": "1", "text": OFFICE_FOOTNOTES["1"]}]
    assert article1.children[0].text == long_clause
    assert [p.label for p in parsed.parts] == ["Điều 1", "Điều 2"]


def test_the_square_metre_is_not_a_footnote():
    from consult.consultations.parser import footnote_references

    assert footnote_references("Diện tích 500 m² đất, 20 km², 3 m³ nước¹ và ha² ở cơ sở²³") == ["1", "23"]


def test_footnotes_follow_their_reference_when_a_part_is_split_or_merged(session):
    from consult.audit.service import SYSTEM
    from consult.consultations import service
    from tests.support.helpers import make_commune
    from datetime import timedelta
    from consult.timeutil import utcnow

    commune = make_commune(session)
    source = service.read_draft(filename="nq.docx", data=office_resolution(revisions=False, footnotes=True))
    now = utcnow()
    facts = service.ConsultationFacts(title="Nghị quyết", doc_kind="nghi_quyet", issuing_body="HĐND",
                                      officer_name="Tâm", opens_at=now, closes_at=now + timedelta(days=21))
    c = service.create_consultation(session, SYSTEM, commune, facts, source, [], now=now)
    session.commit()
    stored = {p.label: p.footnotes for p in c.parts if p.footnotes}
    assert stored == OFFICE_PART_FOOTNOTES
    clause = next(p for p in c.parts if p.label == "Điều 1, khoản 1")
    new = service.split_part(session, SYSTEM, c, clause.id, at_text="thực hiện dân chủ", kind="clause", number="9")
    assert clause.footnotes == [] and new.footnotes == OFFICE_PART_FOOTNOTES["Điều 1, khoản 1"]
    service.merge_part(session, SYSTEM, c, new.id)
    assert clause.footnotes == OFFICE_PART_FOOTNOTES["Điều 1, khoản 1"] and "cơ sở²" in clause.text


def test_a_scan_with_a_digital_signature_box_is_told_it_is_a_scan():
    """A scanned page carrying the ~150 characters of a signing tool's box is a scan (read by
    OCR), not a text draft whose "Điều 1." could not be found."""
    _need_office()
    from consult.consultations.wordtext import ScannedPdf
    from tests.support.drafts import SIGNATURE_BOX, scanned_seed_page

    data = scanned_seed_page(signature_box=True)
    assert 120 <= len(SIGNATURE_BOX) <= 180
    for data in (scanned_seed_page(), data):
        with pytest.raises(ScannedPdf) as caught:
            reader.read_draft_file("ban-quet.pdf", data, scans=False)
        assert "không có lớp chữ: các trang là ảnh chụp, bản quét" in str(caught.value)


def test_a_text_pdf_with_one_scanned_signature_page_is_still_read():
    """The signed last page scanned and appended to a text PDF: the draft is read from its text."""
    _need_office()
    import subprocess
    import tempfile
    from pathlib import Path

    from tests.support.drafts import scanned_seed_page

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "a.pdf").write_bytes(office_resolution_as("pdf"))
        (folder / "b.pdf").write_bytes(scanned_seed_page(signature_box=True))
        subprocess.run(["pdfunite", str(folder / "a.pdf"), str(folder / "b.pdf"), str(folder / "c.pdf")], check=True)
        data = (folder / "c.pdf").read_bytes()
    assert parts_of(reader.read_draft_file("nghi-quyet.pdf", data).parse()) == OFFICE_PARTS
