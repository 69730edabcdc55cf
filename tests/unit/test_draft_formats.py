"""Drafts as offices send them: Word's list numbering, typed variants of the headings,
.doc, .odt and PDF (made from the same file by LibreOffice), and a scan."""

from __future__ import annotations

import os
import shutil

import pytest

from consult import office
from consult.consultations import ocr, reader, service
from consult.consultations.parser import parse_draft
from consult.consultations.wordtext import text_from_docx
from tests.support.drafts import (TYPED_VARIANTS_TREE, WORD_NUMBERED_TREE, tree, typed_variants_draft,
                                  word_numbered_draft)


def _need_office():
    if shutil.which("soffice") is None or shutil.which("pdftotext") is None:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("LibreOffice and poppler-utils are needed (Debian: libreoffice-writer-nogui, poppler-utils)")
        pytest.skip("LibreOffice not installed")


def test_word_list_numbering_is_read_as_the_reader_sees_it():
    """The numbers of Word's "Numbering" button are not in the text runs; they are computed from
    numbering.xml (levels, formats, lower levels restarting, startOverride)."""
    text = text_from_docx(word_numbered_draft())
    assert "Điều 1. Phạm vi điều chỉnh" in text and "a) Cán bộ, công chức phường;" in text
    assert "e) Kết quả thanh tra." in text and "\n\n1. Giao Ủy ban nhân dân phường" in text
    assert tree(service.read_draft(filename="du-thao.docx", data=word_numbered_draft()).parsed) == WORD_NUMBERED_TREE


def test_headings_and_numbers_typed_in_every_common_way():
    parsed = service.read_draft(filename="quy-che.docx", data=typed_variants_draft()).parsed
    assert tree(parsed) == TYPED_VARIANTS_TREE
    assert parsed.parts[1].text == "Bảo đảm công khai, minh bạch."


@pytest.mark.parametrize("target", ["doc", "odt", "pdf"])
def test_the_same_draft_as_doc_odt_and_pdf(target):
    """A .doc, an .odt and a text PDF made from the Word file by LibreOffice parse to the same tree."""
    _need_office()
    data = office.convert([word_numbered_draft(restart_instance=False)], suffix=".docx", target=target)[0]
    parsed = service.read_draft(filename=f"du-thao.{target}", data=data).parsed
    assert tree(parsed) == WORD_NUMBERED_TREE


def test_a_scanned_pdf_is_kept_for_ocr_not_taken_as_an_empty_draft(tmp_path):
    """A PDF with no text layer (a scan) is not parsed as an empty draft: it is kept whole,
    marked as a scan, for OCR to read after the draft is saved."""
    _need_office()
    from PIL import Image

    image = tmp_path / "scan.pdf"
    Image.new("RGB", (600, 800), "white").save(image, "PDF")
    if ocr.available():
        pytest.skip(ocr.available())
    source = service.read_draft(filename="scan.pdf", data=image.read_bytes())
    assert source.scanned and source.parsed.parts == [] and source.data == image.read_bytes()
    assert source.mimetype == "application/pdf"


def test_a_scan_is_refused_beside_its_field_when_the_server_has_no_ocr(tmp_path, monkeypatch):
    """On a server without tesseract, a scan is refused at the upload with the reason, not
    saved to fail in the background."""
    _need_office()
    from PIL import Image

    image = tmp_path / "scan.pdf"
    Image.new("RGB", (600, 800), "white").save(image, "PDF")
    tools = tmp_path / "bin"
    tools.mkdir()
    for name in ("pdfinfo", "pdftoppm", "pdftotext", "pdffonts"):
        if shutil.which(name):
            (tools / name).symlink_to(shutil.which(name))
    monkeypatch.setenv("PATH", str(tools))  # poppler only: tesseract is really absent
    with pytest.raises(service.ConsultationError, match="không có lớp chữ.*tesseract-ocr") as refused:
        service.read_draft(filename="scan.pdf", data=image.read_bytes())
    assert refused.value.field == reader.FIELD


def test_a_zip_bomb_is_refused_before_it_is_unpacked():
    """A .docx that unpacks to hundreds of MB is refused from its zip directory, not read."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"<w:document/>" + b" " * (210 * 1024 * 1024))
    assert len(buffer.getvalue()) < 1024 * 1024
    with pytest.raises(service.ConsultationError, match="giải nén quá lớn"):
        service.read_draft(filename="bom.docx", data=buffer.getvalue())


def test_the_parser_keeps_the_old_plain_text_forms():
    parsed = parse_draft("QUYẾT NGHỊ:\nĐiều 1. A\n1. Một.\na) Điểm a.\nb) Điểm b.\nđ) không phải điểm tiếp.\n")
    assert [p.number for p in parsed.parts[0].children[0].children] == ["a", "b"]


DECISION_WITH_QUY_CHE = """ỦY BAN NHÂN DÂN PHƯỜNG BÌNH AN
DỰ THẢO QUYẾT ĐỊNH
Về việc ban hành Quy chế lấy ý kiến Nhân dân
QUYẾT ĐỊNH:
Điều 1. Ban hành kèm theo Quyết định này Quy chế lấy ý kiến Nhân dân.
Điều 2. Quyết định có hiệu lực kể từ ngày ký.
Điều 3. Văn phòng HĐND và UBND phường chịu trách nhiệm thi hành Quyết định này./.
Nơi nhận:
- Như Điều 3;
- Lưu: VT.
TM. ỦY BAN NHÂN DÂN
CHỦ TỊCH

QUY CHẾ
Lấy ý kiến Nhân dân trên địa bàn phường
(Ban hành kèm theo Quyết định số /QĐ-UBND ngày / /2024 của UBND phường Bình An)

Chương I
QUY ĐỊNH CHUNG
Điều 1. Phạm vi điều chỉnh
Quy chế này quy định việc lấy ý kiến.
Điều 2. Nguyên tắc
1. Công khai.
2. Đúng thời hạn:
a) Ít nhất 20 ngày;
b) Ghi rõ hạn cuối.
Chương II
TỔ CHỨC THỰC HIỆN
Điều 3. Trách nhiệm
Văn phòng chủ trì.

PHỤ LỤC
Danh sách khu phố
(Kèm theo Quy chế lấy ý kiến Nhân dân)

STT
Khu phố
Số hộ
1
Khu phố 1
120
"""


def test_a_quyet_dinh_with_its_quy_che_and_phu_luc():
    """A decision 'ban hành kèm theo' a Quy chế: the Quy chế after the signature is a tree of its own
    (Chương, Điều, khoản, điểm), and the Phụ lục is a part of its own, not the closing text."""
    parsed = parse_draft(DECISION_WITH_QUY_CHE)
    assert [p.label for p in parsed.parts] == ["Điều 1", "Điều 2", "Điều 3", "Quy chế kèm theo",
                                               "Phụ lục kèm theo"]
    assert "Nơi nhận:" in parsed.closing and "Phạm vi điều chỉnh" not in parsed.closing
    quy_che = parsed.parts[3]
    assert quy_che.kind == "annex" and quy_che.title.startswith("QUY CHẾ Lấy ý kiến Nhân dân")
    assert [c.label for c in quy_che.children] == ["Quy chế: Chương I", "Quy chế: Chương II"]
    article = quy_che.children[0].children[1]
    assert article.label == "Quy chế: Điều 2" and article.anchor == "kem-theo-1-dieu-2"
    assert [p.label for p in article.children[1].children] == ["Quy chế: Điều 2, khoản 2, điểm a",
                                                               "Quy chế: Điều 2, khoản 2, điểm b"]
    annex = parsed.parts[4]
    assert annex.title.startswith("PHỤ LỤC Danh sách khu phố") and "Khu phố 1" in annex.text
    anchors = [n.anchor for n in parsed.walk()]
    assert len(anchors) == len(set(anchors))


FLAT = """DỰ THẢO KẾ HOẠCH
1. Mục đích của kế hoạch.
2. Yêu cầu đối với các khu phố.
3. Nội dung: niêm yết tại trụ sở.
4. Niêm yết tại nhà văn hóa.
5. Thời gian thực hiện.
"""


def test_a_flat_list_is_flagged_and_rebuilt_into_a_tree_keeping_its_parts(session):
    """After a wrong parse the officer indents and outdents parts and renumbers; the tree is rebuilt and
    every part keeps its id (so the opinions attached to it stay attached)."""
    from consult.audit.service import SYSTEM
    from tests.support.helpers import make_commune, make_consultation

    commune = make_commune(session)
    c = make_consultation(session, commune, [], text=FLAT, publish=False)
    doubts = service.parse_doubts(c)
    assert any("danh sách phẳng" in d.message for d in doubts)
    ids = [p.id for p in c.parts]
    third, fourth = c.parts[2], c.parts[3]
    service.indent_part(session, SYSTEM, c, fourth.id)  # 4 becomes a point of 3
    assert (fourth.kind, fourth.parent_id, fourth.label) == ("point", third.id, "Khoản 3, điểm a")
    service.outdent_part(session, SYSTEM, c, fourth.id)
    assert fourth.parent_id is None and fourth.kind == "clause"
    service.renumber_parts(session, SYSTEM, c)
    assert [p.number for p in c.parts] == ["1", "2", "3", "4", "5"]
    assert sorted(p.id for p in c.parts) == sorted(ids)
    with pytest.raises(service.ConsultationError, match="Không có phần đứng trước"):
        service.indent_part(session, SYSTEM, c, c.parts[0].id)


def test_numbers_that_skip_and_parts_left_in_the_preamble_are_pointed_at(session):
    from tests.support.helpers import make_commune, make_consultation

    commune = make_commune(session)
    c = make_consultation(session, commune, [], text="QUYẾT NGHỊ:\nĐiều 1. A\n1. Một.\n2. Hai.\n", publish=False)
    c.parts[2].number = "4"
    c.preamble = "Điều 1. Bị xếp nhầm\n1. Khoản lạc."
    doubts = service.parse_doubts(c)
    assert any("không liền mạch (chờ 2)" in d.message and d.part is c.parts[2] for d in doubts)
    assert any(d.part is None and "phần mở đầu" in d.message for d in doubts)


def test_a_phu_luc_table_stays_a_table():
    """Tables are kept as tables (a row a line), not flattened cell by cell into the closing text."""
    import io

    from docx import Document

    document = Document()
    for text in ["QUYẾT NGHỊ:", "Điều 1. Phê duyệt danh sách khu phố tại Phụ lục kèm theo.",
                 "Điều 2. Hiệu lực kể từ ngày ký./.", "Nơi nhận:", "- Lưu: VT.", "PHỤ LỤC", "Danh sách khu phố",
                 "(Kèm theo Nghị quyết số /NQ-HĐND)"]:
        document.add_paragraph(text)
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate([("STT", "Khu phố", "Số hộ"), ("1", "Khu phố 1", "120"), ("2", "Khu phố 2", "95")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    buffer = io.BytesIO()
    document.save(buffer)
    parsed = service.read_draft(filename="nq.docx", data=buffer.getvalue()).parsed
    annex = parsed.parts[-1]
    assert annex.kind == "annex" and annex.label == "Phụ lục kèm theo"
    # Its header row ends the annex's text; each body row is a part an opinion can point at.
    assert annex.text == "| STT | Khu phố | Số hộ |"
    assert [(r.kind, r.label, r.anchor, r.text) for r in annex.children] == [
        ("row", "Phụ lục kèm theo, dòng 1", "kem-theo-1-dong-1", "| 1 | Khu phố 1 | 120 |"),
        ("row", "Phụ lục kèm theo, dòng 2", "kem-theo-1-dong-2", "| 2 | Khu phố 2 | 95 |")]
    assert "Khu phố 1" not in parsed.closing
