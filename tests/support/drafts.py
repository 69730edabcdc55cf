"""Drafts made the way offices make them: Word's own list numbering, headings typed
in several styles, and the same file saved as .doc, .odt and PDF by LibreOffice."""

from __future__ import annotations

import functools
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


# --- a resolution as an office sends it: layout tables, Track Changes, comments ----------------

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_REVISION = 'w:author="Đ/c Tâm" w:date="2024-09-20T08:00:00Z"'


def _run_xml(text: str, *, deleted: bool = False) -> str:
    from xml.sax.saxutils import escape

    tag = "w:delText" if deleted else "w:t"
    return f'<w:r {W_NS}><{tag} xml:space="preserve">{escape(text)}</{tag}></w:r>'


def _revision_xml(kind: str, ident: int, text: str) -> str:
    """A run inside w:ins, w:del, w:moveFrom or w:moveTo, as Word writes it under Track Changes."""
    return (f'<w:{kind} {W_NS} w:id="{ident}" {_REVISION}>{_run_xml(text, deleted=kind == "del")}</w:{kind}>')


def _paragraph(document, *pieces):
    """A paragraph of plain text pieces (str) and revision pieces ((kind, text))."""
    paragraph = document.add_paragraph()
    for n, piece in enumerate(pieces):
        if isinstance(piece, str):
            paragraph.add_run(piece)
        elif piece[0] == "note":
            paragraph._p.append(parse_xml(
                f'<w:r {W_NS}><w:rPr><w:vertAlign w:val="superscript"/></w:rPr>'
                f'<w:footnoteReference w:id="{piece[1]}"/></w:r>'))
        else:
            kind, text = piece
            paragraph._p.append(parse_xml(_revision_xml(kind, 100 + len(paragraph._p) * 10 + n, text)))
    return paragraph


def _mark_revised(paragraph, kind: str, ident: int) -> None:
    """The paragraph's own mark deleted (w:del) or moved away (w:moveFrom): the whole paragraph goes."""
    ppr = paragraph._p.get_or_add_pPr()
    ppr.append(parse_xml(f'<w:rPr {W_NS}><w:{kind} w:id="{ident}" {_REVISION}/></w:rPr>'))


def _borderless(table) -> None:
    tbl_pr = table._tbl.tblPr
    tbl_pr.append(parse_xml(f'<w:tblBorders {W_NS}>' + "".join(
        f'<w:{side} w:val="nil"/>' for side in ("top", "left", "bottom", "right", "insideH", "insideV"))
        + "</w:tblBorders>"))


def _cell_lines(cell, lines: list[str], *, bold: bool = False) -> None:
    cell.text = ""
    first = cell.paragraphs[0]
    for n, line in enumerate(lines):
        paragraph = first if n == 0 else cell.add_paragraph()
        run = paragraph.add_run(line)
        run.bold = bold


OFFICE_HEADER = (["HỘI ĐỒNG NHÂN DÂN", "PHƯỜNG BÌNH AN"],
                 ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"],
                 ["Số: /NQ-HĐND"], ["Bình An, ngày   tháng   năm 2024"])
OFFICE_RECIPIENTS = ["Nơi nhận:", "- Thường trực HĐND tỉnh;", "- UBND phường;", "- Lưu: VT."]
OFFICE_SIGNATURE = ["TM. HỘI ĐỒNG NHÂN DÂN", "CHỦ TỊCH", "", "Nguyễn Quốc Chung"]
MOVED_SENTENCE = " Ủy ban MTTQ phường phối hợp giám sát."
COMMENT_TEXT = "Đề nghị xem lại phạm vi áp dụng."
FEE_TABLE = [("STT", "Khoản thu", "Mức thu"), ("1", "Quỹ phòng, chống thiên tai", "20.000 đồng/người"),
             ("2", "Quỹ đền ơn đáp nghĩa", "10.000 đồng/hộ")]


def office_resolution(*, tables: bool = True, revisions: bool = True, comments: bool = True,
                      footnotes: bool = False) -> bytes:
    """A draft resolution laid out as offices lay it out in Word: the NĐ 30 header in a borderless
    2×2 table, a table of fees in Điều 2, the signature block in a borderless 1×2 table (Nơi nhận
    in the left cell; TM., CHỦ TỊCH and the name in the right). With ``revisions``, Track Changes
    left unaccepted: an inserted and a deleted run, a deleted paragraph, a sentence moved from Điều 2
    to Điều 3 (w:moveFrom / w:moveTo) and a whole point moved away; with ``comments``, a reviewer's
    comment on Điều 1; with ``footnotes``, Word footnotes (``OFFICE_FOOTNOTES``) referred to from a
    "Căn cứ" line of the preamble, Điều 1 khoản 1 and Điều 2 khoản 1. ``tables=False`` types the
    header and signature as plain paragraphs."""
    def note(ident: int) -> list:
        return [("note", ident)] if footnotes else []

    document = Document()
    if tables:
        from docx.shared import Inches

        header = document.add_table(rows=2, cols=2)
        _borderless(header)
        for n, lines in enumerate(OFFICE_HEADER):
            _cell_lines(header.cell(n // 2, n % 2), lines, bold=n < 2)
        # The Quốc hiệu on one line, as NĐ 30 lays it out: a narrow left column, a wide right one.
        header.autofit = False
        for column, width in zip(header._tbl.tblGrid.findall(f"{{{_W}}}gridCol"), (Inches(2.3), Inches(4.2))):
            column.set(f"{{{_W}}}w", str(int(width.twips)))
        for row in header.rows:
            row.cells[0].width, row.cells[1].width = Inches(2.3), Inches(4.2)
    else:
        for lines in OFFICE_HEADER:
            document.add_paragraph("\n".join(lines))
    for text in ("DỰ THẢO", "NGHỊ QUYẾT", "Quy định các biện pháp bảo đảm thực hiện dân chủ ở cơ sở",
                 "HỘI ĐỒNG NHÂN DÂN PHƯỜNG BÌNH AN"):
        document.add_paragraph(text)
    _paragraph(document, "Căn cứ Luật Thực hiện dân chủ ở cơ sở ngày 10 tháng 11 năm 2022;", *note(1))
    for text in ("QUYẾT NGHỊ:", "Điều 1. Phạm vi điều chỉnh"):
        document.add_paragraph(text)
    clause = _paragraph(document, "1. Nghị quyết này quy định các biện pháp bảo đảm thực hiện dân chủ ở cơ sở",
                        *note(2),
                        *([("del", " trong toàn tỉnh"), ("ins", " trên địa bàn phường Bình An")] if revisions
                          else [" trên địa bàn phường Bình An"]), ".")
    if comments:
        document.add_comment(clause.runs[0], text=COMMENT_TEXT, author="Hội Cựu chiến binh", initials="CCB")
    if revisions:
        deleted = _paragraph(document, ("del", "2. Khoản này đã bị xóa khỏi dự thảo."))
        _mark_revised(deleted, "del", 7)
    document.add_paragraph("2. Đối tượng áp dụng:")
    document.add_paragraph("a) Cán bộ, công chức phường;")
    document.add_paragraph("b) Người dân cư trú trên địa bàn phường.")
    if revisions:
        moved = _paragraph(document, ("moveFrom", "c) Tổ chức chính trị - xã hội phường."))
        _mark_revised(moved, "moveFrom", 8)
    document.add_paragraph("Điều 2. Nội dung công khai")
    _paragraph(document, "1. Các khoản thu", *note(3), " được công khai theo bảng sau:")
    fees = document.add_table(rows=len(FEE_TABLE), cols=3)
    fees.style = "Table Grid"
    for r, row in enumerate(FEE_TABLE):
        for c, value in enumerate(row):
            fees.cell(r, c).text = value
    _paragraph(document, "2. Thời điểm công khai chậm nhất 05 ngày làm việc.",
               *([("moveFrom", MOVED_SENTENCE)] if revisions else []))
    document.add_paragraph("Điều 3. Tổ chức thực hiện")
    document.add_paragraph("1. Giao Ủy ban nhân dân phường tổ chức thực hiện Nghị quyết này.")
    _paragraph(document, "2. Giao Thường trực Hội đồng nhân dân phường giám sát.",
               ("moveTo", MOVED_SENTENCE) if revisions else MOVED_SENTENCE)
    if tables:
        signature = document.add_table(rows=1, cols=2)
        _borderless(signature)
        _cell_lines(signature.cell(0, 0), OFFICE_RECIPIENTS)
        _cell_lines(signature.cell(0, 1), OFFICE_SIGNATURE, bold=True)
        document.add_paragraph()  # Word always ends a document with a paragraph, after the last table
    else:
        for line in OFFICE_RECIPIENTS + OFFICE_SIGNATURE:
            document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return _with_footnotes(buffer.getvalue(), OFFICE_FOOTNOTE_XML) if footnotes else buffer.getvalue()


# Word keeps footnotes in word/footnotes.xml by id, in the order of their references, and shows
# them numbered 1, 2, 3 in that order: the preamble's, Điều 1 khoản 1's, Điều 2 khoản 1's.
OFFICE_FOOTNOTES = {"1": "Pháp lệnh số 34/2007/PL-UBTVQH11 hết hiệu lực từ ngày 01 tháng 7 năm 2023.",
                    "2": "Luật Thực hiện dân chủ ở cơ sở số 10/2022/QH15, có hiệu lực từ ngày 01 tháng 7 năm 2023.",
                    "3": "Theo Nghị định số 59/2023/NĐ-CP, Điều 11."}


def _footnote_xml(ident: str, text: str) -> str:
    from xml.sax.saxutils import escape

    # Word's Footnote Text: 10 pt under the 11 pt of the body; the number raised.
    return (f'<w:footnote w:id="{ident}"><w:p><w:pPr><w:pStyle w:val="FootnoteText"/></w:pPr>'
            f'<w:r><w:rPr><w:vertAlign w:val="superscript"/><w:sz w:val="20"/></w:rPr><w:footnoteRef/></w:r>'
            f'<w:r><w:rPr><w:sz w:val="20"/></w:rPr><w:t xml:space="preserve"> {escape(text)}</w:t></w:r></w:p>'
            f'</w:footnote>')


OFFICE_FOOTNOTE_XML = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:footnotes xmlns:w="{_W}">'
    '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
    '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/></w:r></w:p>'
    '</w:footnote>' + "".join(_footnote_xml(k, v) for k, v in OFFICE_FOOTNOTES.items()) + "</w:footnotes>")


def _with_footnotes(docx: bytes, footnotes_xml: str) -> bytes:
    """The .docx with its word/footnotes.xml part, related and typed as Word writes it."""
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(docx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", b'<Override PartName="/word/footnotes.xml" ContentType="application/'
                                    b'vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"/></Types>')
            elif item.filename == "word/_rels/document.xml.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Id="rIdFootnotes" Type="http://schemas.'
                                    b'openxmlformats.org/officeDocument/2006/relationships/footnotes" '
                                    b'Target="footnotes.xml"/></Relationships>')
            target.writestr(item, data)
        target.writestr("word/footnotes.xml", footnotes_xml.encode("utf-8"))
    return out.getvalue()


# What a reader sees in each part of ``office_resolution``: (label, title, text).
OFFICE_PARTS = [
    ("Điều 1", "Phạm vi điều chỉnh", ""),
    ("Điều 1, khoản 1", "", "Nghị quyết này quy định các biện pháp bảo đảm thực hiện dân chủ ở cơ sở trên địa bàn "
                            "phường Bình An."),
    ("Điều 1, khoản 2", "", "Đối tượng áp dụng:"),
    ("Điều 1, khoản 2, điểm a", "", "Cán bộ, công chức phường;"),
    ("Điều 1, khoản 2, điểm b", "", "Người dân cư trú trên địa bàn phường."),
    ("Điều 2", "Nội dung công khai", ""),
    # The body table: its header row ends the khoản's text, each row is a part of its own.
    ("Điều 2, khoản 1", "", "Các khoản thu được công khai theo bảng sau:\n"
                            "| STT | Khoản thu | Mức thu |"),
    ("Điều 2, khoản 1, dòng 1", "", "| 1 | Quỹ phòng, chống thiên tai | 20.000 đồng/người |"),
    ("Điều 2, khoản 1, dòng 2", "", "| 2 | Quỹ đền ơn đáp nghĩa | 10.000 đồng/hộ |"),
    ("Điều 2, khoản 2", "", "Thời điểm công khai chậm nhất 05 ngày làm việc."),
    ("Điều 3", "Tổ chức thực hiện", ""),
    ("Điều 3, khoản 1", "", "Giao Ủy ban nhân dân phường tổ chức thực hiện Nghị quyết này."),
    ("Điều 3, khoản 2", "", "Giao Thường trực Hội đồng nhân dân phường giám sát. Ủy ban MTTQ phường phối hợp "
                            "giám sát."),
]


# With ``footnotes``: the references as raised numbers in the text, each footnote under its part.
OFFICE_FOOTNOTE_PARTS = [
    (label, title, text.replace("dân chủ ở cơ sở trên", "dân chủ ở cơ sở² trên").replace("khoản thu được",
                                                                                           "khoản thu³ được"))
    for label, title, text in OFFICE_PARTS]
OFFICE_PART_FOOTNOTES = {"Điều 1, khoản 1": [{"number": "2", "text": OFFICE_FOOTNOTES["2"]}],
                         "Điều 2, khoản 1": [{"number": "3", "text": OFFICE_FOOTNOTES["3"]}]}


def footnotes_of(parsed) -> dict[str, list[dict]]:
    """{label: footnotes} of the parts that have any (a ParsedDraft or parse-draft's JSON)."""
    if isinstance(parsed, dict):
        def walk(nodes):
            for node in nodes:
                yield node["label"], node["footnotes"]
                yield from walk(node["children"])
        return {label: notes for label, notes in walk(parsed["parts"]) if notes}
    return {n.label: n.footnotes for n in parsed.walk() if n.footnotes}


def parts_of(parsed) -> list[tuple[str, str, str]]:
    """(label, title, text) of every part, in order (a ParsedDraft or parse-draft's JSON)."""
    if isinstance(parsed, dict):
        def walk(nodes):
            for node in nodes:
                yield node["label"], node["title"], node["text"]
                yield from walk(node["children"])
        return list(walk(parsed["parts"]))
    return [(n.label, n.title, n.text) for n in parsed.walk()]


# --- files locked with a password ----------------------------------------------------------------

def password_protected_docx() -> bytes:
    """A .docx as Word saves it with a password to open (ECMA-376 Part 2 agile encryption): not
    a zip but an OLE2 compound file holding the streams EncryptionInfo and EncryptedPackage.
    The encrypted bytes are random: what matters is the container a reader finds."""
    import os
    import struct

    end, free, fat_sector, no_stream = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
    info = (b"\x04\x00\x04\x00\x40\x00\x00\x00"
            + b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
              b'<encryption xmlns="http://schemas.microsoft.com/office/2006/encryption">'
              b'<keyData saltSize="16" blockSize="16" keyBits="256" hashSize="64" cipherAlgorithm="AES" '
              b'cipherChaining="ChainingModeCBC" hashAlgorithm="SHA512"/></encryption>').ljust(4096, b"\x00")
    package = struct.pack("<Q", 12_345) + os.urandom(4088)

    def entry(name: str, kind: int, *, right=no_stream, child=no_stream, start=end, size=0) -> bytes:
        encoded = (name.encode("utf-16-le") + b"\x00\x00") if name else b""
        return (encoded.ljust(64, b"\x00") + struct.pack("<HBB", len(encoded), kind, 1)
                + struct.pack("<III", no_stream, right, child) + b"\x00" * 16 + b"\x00" * 4 + b"\x00" * 16
                + struct.pack("<IQ", start, size))

    directory = (entry("Root Entry", 5, child=1) + entry("EncryptionInfo", 2, right=2, start=2, size=4096)
                 + entry("EncryptedPackage", 2, start=10, size=4096) + entry("", 0))
    fat = [fat_sector, end] + list(range(3, 10)) + [end] + list(range(11, 18)) + [end]
    fat += [free] * (128 - len(fat))
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16
              + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\x00" * 6
              + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, end, 0, end, 0)
              + struct.pack("<I", 0) + struct.pack("<I", free) * 108)
    assert len(header) == 512
    return header + struct.pack("<128I", *fat) + directory + info + package


def password_protected_pdf(document: bytes) -> bytes:
    """A PDF exported by LibreOffice with a password to open (its PDF export's EncryptFile)."""
    import subprocess
    import tempfile
    from pathlib import Path

    from consult import office

    options = ('pdf:writer_pdf_Export:{"EncryptFile":{"type":"boolean","value":"true"},'
               '"DocumentOpenPassword":{"type":"string","value":"matkhau"}}')
    with tempfile.TemporaryDirectory(prefix="consult-test-") as tmp:
        folder = Path(tmp)
        (folder / "draft.docx").write_bytes(document)
        subprocess.run([office.soffice(), f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless",
                        "--norestore", "--convert-to", options, "--outdir", str(folder / "out"),
                        str(folder / "draft.docx")], check=True, capture_output=True, timeout=180,
                       env=office.font_environment(folder))
        return (folder / "out" / "draft.pdf").read_bytes()


def office_resolution_as(target: str, *, revisions: bool = False, footnotes: bool = False) -> bytes:
    """``office_resolution`` saved by LibreOffice headless as .odt, .doc or PDF (made once a run)."""
    return _converted(target, revisions, footnotes)


@functools.lru_cache(maxsize=None)
def _converted(target: str, revisions: bool, footnotes: bool) -> bytes:
    from consult import office

    source = office_resolution(revisions=revisions, comments=revisions, footnotes=footnotes)
    return source if target == "docx" else office.convert([source], suffix=".docx", target=target)[0]


# --- scans -----------------------------------------------------------------------------------------

SIGNATURE_BOX = ("Ký bởi: Ủy ban nhân dân phường Bình An. Email: ubnd.binhan@binhduong.gov.vn. "
                 "Cơ quan: Tỉnh Bình Dương. Thời gian ký: 19.09.2024 16:42:05 +07:00")


def seed_pdf(name: str = "binh-an-cong-van-va-du-thao-nghi-quyet.txt") -> bytes:
    """A real seed typed into Word and laid out by LibreOffice (made once a run)."""
    return _seed_pdf(name)


@functools.lru_cache(maxsize=None)
def _seed_pdf(name: str) -> bytes:
    from consult import office
    from tests.support.helpers import SEEDS

    return office.to_pdf(seed_as_docx((SEEDS / name).read_text(encoding="utf-8")))


def as_scan(pdf: bytes, *, first: int = 1, last: int | None = None, dpi: int = 150,
            signature_box: bool = False) -> bytes:
    """Pages of a PDF as a scanner makes them: rasterised by poppler (pdftoppm, grey) and put
    back into a PDF as images; with ``signature_box``, the digital-signature box a signing tool
    stamps on the first: about 150 characters of real text over the image."""
    import subprocess
    import tempfile
    from pathlib import Path

    from fpdf import FPDF

    with tempfile.TemporaryDirectory(prefix="consult-scan-") as tmp:
        folder = Path(tmp)
        (folder / "page.pdf").write_bytes(pdf)
        command = ["pdftoppm", "-f", str(first), "-r", str(dpi), "-gray", "-png"]
        if last is not None:
            command += ["-l", str(last)]
        subprocess.run(command + [str(folder / "page.pdf"), str(folder / "scan")], check=True, capture_output=True,
                       timeout=300)
        document = FPDF(unit="mm", format="A4")
        for image in sorted(folder.glob("scan*.png")):
            document.add_page()
            document.image(str(image), x=0, y=0, w=210, h=297)
            if signature_box:
                document.add_font("DejaVu", fname="/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
                document.set_font("DejaVu", size=7)
                document.set_xy(120, 250)
                document.multi_cell(75, 3.5, SIGNATURE_BOX, border=1)
                signature_box = False
        return bytes(document.output())


@functools.lru_cache(maxsize=None)
def scanned_seed_page(*, signature_box: bool = False, page: int = 1) -> bytes:
    """One page of a real seed (``seed_pdf``) as a scanner makes it, 150 dpi grey (``as_scan``)."""
    return as_scan(seed_pdf(), first=page, last=page, signature_box=signature_box)


# A khoản that ends with a table (header row, two rows), then the next khoản.
TABLE_DRAFT = """QUYẾT NGHỊ:
Điều 1. Các khoản đóng góp
1. Các khoản thu được công khai theo bảng sau:
| STT | Khoản thu | Mức thu |
| 1 | Quỹ phòng, chống thiên tai | 20.000 đồng/người |
| 2 | Quỹ đền ơn đáp nghĩa | 10.000 đồng/hộ |
2. Thời điểm công khai chậm nhất 05 ngày làm việc.
Điều 2. Tổ chức thực hiện
Giao Ủy ban nhân dân phường tổ chức thực hiện.
"""
