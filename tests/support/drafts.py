"""Drafts made the way offices make them: Word's own list numbering, headings typed
in several styles, and the same file saved as .doc, .odt and PDF by LibreOffice."""

from __future__ import annotations

import io

from docx import Document
from docx.oxml import parse_xml

W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _abstract(abstract_id: int, levels: list[tuple[str, str]]) -> str:
    lvls = "".join(
        f'<w:lvl w:ilvl="{i}"><w:start w:val="1"/><w:numFmt w:val="{fmt}"/><w:lvlText w:val="{text}"/>'
        f'<w:lvlJc w:val="left"/><w:pPr><w:ind w:left="{360 * (i + 1)}" w:hanging="360"/></w:pPr></w:lvl>'
        for i, (fmt, text) in enumerate(levels))
    return f'<w:abstractNum {W_NS} w:abstractNumId="{abstract_id}"><w:multiLevelType w:val="multilevel"/>{lvls}' \
           f'</w:abstractNum>'


def _num(num_id: int, abstract_id: int, restart_level: int | None = None) -> str:
    override = (f'<w:lvlOverride w:ilvl="{restart_level}"><w:startOverride w:val="1"/></w:lvlOverride>'
                if restart_level is not None else "")
    return f'<w:num {W_NS} w:numId="{num_id}"><w:abstractNumId w:val="{abstract_id}"/>{override}</w:num>'


def _numbered(document, text: str, num_id: int, level: int):
    paragraph = document.add_paragraph(text)
    paragraph._p.get_or_add_pPr().append(parse_xml(
        f'<w:numPr {W_NS}><w:ilvl w:val="{level}"/><w:numId w:val="{num_id}"/></w:numPr>'))
    return paragraph


def word_numbered_draft(*, restart_instance: bool = True) -> bytes:
    """A resolution whose Điều, khoản and điểm all come from Word's list numbering
    (numbering.xml): three levels, lower levels restarting under each article, and a
    second list instance that restarts its clauses with startOverride."""
    document = Document()
    numbering = document.part.numbering_part.element
    numbering.insert(0, parse_xml(_abstract(90, [("decimal", "Điều %1."), ("decimal", "%2."),
                                                  ("lowerLetter", "%3)")])))
    numbering.insert(1, parse_xml(_abstract(91, [("decimal", "%1."), ("lowerLetter", "%2)")])))
    numbering.append(parse_xml(_num(90, 90)))
    numbering.append(parse_xml(_num(91, 91)))
    numbering.append(parse_xml(_num(92, 91, restart_level=0)))
    document.add_paragraph("HỘI ĐỒNG NHÂN DÂN PHƯỜNG BÌNH AN")
    document.add_paragraph("DỰ THẢO NGHỊ QUYẾT")
    document.add_paragraph("Căn cứ Luật Thực hiện dân chủ ở cơ sở ngày 10 tháng 11 năm 2022;")
    document.add_paragraph("QUYẾT NGHỊ:")
    _numbered(document, "Phạm vi điều chỉnh", 90, 0)
    _numbered(document, "Nghị quyết này quy định nội dung, hình thức công khai.", 90, 1)
    _numbered(document, "Đối tượng áp dụng gồm:", 90, 1)
    _numbered(document, "Cán bộ, công chức phường;", 90, 2)
    _numbered(document, "Người dân cư trú trên địa bàn.", 90, 2)
    _numbered(document, "Nội dung công khai", 90, 0)
    _numbered(document, "Các nội dung phải công khai:", 90, 1)
    for text in ("Kế hoạch sử dụng đất;", "Dự toán ngân sách;", "Các khoản thu;", "Chính sách an sinh;",
                 "Kết quả thanh tra."):
        _numbered(document, text, 90, 2)
    _numbered(document, "Thời điểm công khai chậm nhất 05 ngày làm việc.", 90, 1)
    _numbered(document, "Tổ chức thực hiện", 90, 0)
    # The clauses of Điều 3 are a list of their own, restarted by Word (startOverride);
    # or, as LibreOffice's .doc export keeps them, the article's own level.
    num, level = (92, 0) if restart_instance else (90, 1)
    _numbered(document, "Giao Ủy ban nhân dân phường tổ chức thực hiện.", num, level)
    _numbered(document, "Giao Thường trực Hội đồng nhân dân giám sát.", num, level)
    document.add_paragraph("Nơi nhận:")
    document.add_paragraph("- Như Điều 3;")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


WORD_NUMBERED_TREE = [
    ("Điều 1", "Phạm vi điều chỉnh", [("Điều 1, khoản 1", []), ("Điều 1, khoản 2", ["a", "b"])]),
    ("Điều 2", "Nội dung công khai", [("Điều 2, khoản 1", ["a", "b", "c", "d", "e"]), ("Điều 2, khoản 2", [])]),
    ("Điều 3", "Tổ chức thực hiện", [("Điều 3, khoản 1", []), ("Điều 3, khoản 2", [])]),
]


def typed_variants_draft() -> bytes:
    """Headings and numbers typed by many hands: "ĐIỀU 1." in capitals, "Điều 2:", "Điều 3 -",
    a title on the next line, an inserted "Điều 4a", clauses "1)" and "2/", points "a.", "b/", "(c)"."""
    document = Document()
    for text in ["DỰ THẢO QUY CHẾ", "QUYẾT NGHỊ:",
                 "ĐIỀU 1. PHẠM VI ĐIỀU CHỈNH", "1) Quy chế này quy định việc lấy ý kiến.",
                 "2/ Áp dụng với các khu phố:", "a. Khu phố 1;", "b/ Khu phố 2;", "(c) Khu phố 3.",
                 "Điều 2: Nguyên tắc", "Bảo đảm công khai, minh bạch.",
                 "Điều 3 - Hình thức", "1. Niêm yết tại trụ sở.", "2. Đăng trên trang thông tin điện tử.",
                 "Điều 4", "Thời gian lấy ý kiến", "Ít nhất 20 ngày.",
                 "Điều 4a. Lấy ý kiến trực tuyến", "Thực hiện trên cổng thông tin.",
                 "Điều 5. Hiệu lực", "Quy chế có hiệu lực kể từ ngày ký./."]:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


TYPED_VARIANTS_TREE = [
    ("Điều 1", "PHẠM VI ĐIỀU CHỈNH", [("Điều 1, khoản 1", []), ("Điều 1, khoản 2", ["a", "b", "c"])]),
    ("Điều 2", "Nguyên tắc", []),
    ("Điều 3", "Hình thức", [("Điều 3, khoản 1", []), ("Điều 3, khoản 2", [])]),
    ("Điều 4", "Thời gian lấy ý kiến", []),
    ("Điều 4a", "Lấy ý kiến trực tuyến", []),
    ("Điều 5", "Hiệu lực", []),
]


def tree(parsed) -> list:
    """(label, title, [(clause label, [point numbers])]) per article, to compare with the expected tree."""
    out = []
    for article in parsed.parts:
        clauses = [(c.label, [p.number for p in c.children]) for c in article.children if c.kind == "clause"]
        out.append((article.label, article.title, clauses))
    return out


def seed_as_docx(text: str) -> bytes:
    """A seed (the cover letter, then the draft, as text) typed into Word the way an office
    does: one paragraph per line, the **bold** headings as bold runs, Times New Roman 14."""
    import re

    from docx.shared import Pt

    document = Document()
    style = document.styles["Normal"]
    style.font.name, style.font.size = "Times New Roman", Pt(14)
    for line in text.splitlines():
        if not line.strip():
            continue
        paragraph = document.add_paragraph()
        for i, piece in enumerate(re.split(r"\*\*", line)):
            if piece:
                paragraph.add_run(piece).bold = i % 2 == 1
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
