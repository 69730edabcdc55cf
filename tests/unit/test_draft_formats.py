"""Drafts as offices send them: Word's list numbering, typed variants of the headings,
.doc, .odt and PDF (made from the same file by LibreOffice), and a scan."""

from __future__ import annotations

import os
import shutil

import pytest

from consult import office
from consult.consultations import service
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


def test_a_scanned_pdf_gets_a_message_not_an_empty_draft(tmp_path):
    """A PDF with no text layer (a scan) is refused with a clear message."""
    _need_office()
    from PIL import Image

    image = tmp_path / "scan.pdf"
    Image.new("RGB", (600, 800), "white").save(image, "PDF")
    with pytest.raises(service.ConsultationError, match="không có lớp chữ"):
        service.read_draft(filename="scan.pdf", data=image.read_bytes())


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
