"""The report as .docx in the format of Nghị định 30/2020/NĐ-CP (Phụ lục I).

A4 portrait, margins 20/20/30/15 mm, Times New Roman; the issuing body and
the national motto side by side; number and symbol, place and date; the
type and subject in bold; justified body with a first-line indent; the table
with its header row repeated on every page; page numbers centred at the top
from page 2; "Nơi nhận" and the signature block.
"""

from __future__ import annotations

import io
import re
import zipfile
from xml.sax.saxutils import escape as xml_escape

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt

from consult.reports.service import ReportData, opening_paragraphs, report_subject
from consult.timeutil import to_local, vietnamese_long_date

FONT = "Times New Roman"
HEADERS = ["STT", "Điều, khoản, điểm", "Nội dung góp ý", "Cơ quan, đơn vị, cá nhân góp ý", "Ý kiến tiếp thu, giải trình"]
WIDTHS_CM = [1.3, 2.5, 5.5, 3.6, 5.1]  # 18 cm: A4 less the 30 mm and 15 mm margins


def _set_font(run, size: float, bold=False, italic=False):
    run.font.name = FONT
    run.font.size = Pt(size)
    run.bold, run.italic = bold, italic
    # East-Asian and complex-script slots too, so Word does not substitute.
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), FONT)


def _para(container, text="", size=14, bold=False, italic=False, align=None, indent=False, space_after=3):
    p = container.add_paragraph()
    if text:
        _set_font(p.add_run(text), size, bold, italic)
    fmt = p.paragraph_format
    fmt.space_after, fmt.space_before = Pt(space_after), Pt(0)
    if align is not None:
        p.alignment = align
    if indent:
        fmt.first_line_indent = Cm(1.27)
    return p


def _rule(p, cell_cm: float, rule_cm: float):
    """A short rule under a header block: a bottom border on an empty paragraph
    indented from both sides so that it is ``rule_cm`` long and centred."""
    side = Cm(max((cell_cm - rule_cm) / 2 - 0.2, 0))
    p.paragraph_format.left_indent = p.paragraph_format.right_indent = side
    p.paragraph_format.space_after = Pt(6)
    ppr = p._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    ppr.append(borders)
    return p


def _cell_text(cell, text, size=12, bold=False, italic=False, align=WD_ALIGN_PARAGRAPH.CENTER):
    for extra in cell.paragraphs[1:]:
        cell._tc.remove(extra._p)
    p = cell.paragraphs[0]
    for run in list(p.runs):
        p._p.remove(run._r)
    lines = (text or "").split("\n")
    for i, line in enumerate(lines):
        if i:
            p = cell.add_paragraph()
        p.alignment = align
        p.paragraph_format.space_after = Pt(0)
        if line:
            _set_font(p.add_run(line), size, bold, italic)


def _widths(table, widths_cm):
    """Column widths in the grid (what LibreOffice reads) and in every cell (what Word reads)."""
    for column, width in zip(table.columns, widths_cm):
        column.width = Cm(width)
    for row in table.rows:
        for cell, width in zip(row.cells, widths_cm):
            cell.width = Cm(width)


def _header_block(document, data: ReportData):
    c = data.consultation
    commune = c.commune
    table = document.add_table(rows=2, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    _widths(table, [6.5, 11.5])
    body = f"ỦY BAN NHÂN DÂN\n{commune.kind_label.upper()} {commune.name.upper()}"
    _cell_text(table.cell(0, 0), body, size=13, bold=True)
    _rule(table.cell(0, 0).add_paragraph(), 6.5, 2.2)
    right = table.cell(0, 1)
    _cell_text(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", size=12.5, bold=True)
    motto = right.add_paragraph()
    motto.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _set_font(motto.add_run("Độc lập - Tự do - Hạnh phúc"), 13.5, bold=True)
    _rule(right.add_paragraph(), 11.5, 6.2)
    number = data.settings.number or "      /BC-UBND"
    _cell_text(table.cell(1, 0), f"Số: {number}", size=13)
    when = data.settings.report_date or to_local(data.generated_at).date()
    place = data.settings.place or commune.name
    _cell_text(table.cell(1, 1), vietnamese_long_date(when, place), size=14, italic=True)


def _add_page_number_header(section):
    """Page numbers centred at the top from page 2 (NĐ 30 Điều 14)."""
    section.different_first_page_header_footer = True
    p = section.header.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = p.add_run()
    _set_font(run, 13)
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._r.append(el)


def _draft_mark(section):
    """'DỰ THẢO' at the top of every page of a report that is not final."""
    for header in (section.first_page_header, section.header):
        p = header.add_paragraph() if header.paragraphs[0].text or header.paragraphs[0].runs else header.paragraphs[0]
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        _set_font(p.add_run("DỰ THẢO"), 13, bold=True)


def _table(document, data: ReportData):
    table = document.add_table(rows=1, cols=len(HEADERS))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    _widths(table, WIDTHS_CM)
    header = table.rows[0]
    trpr = header._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    trpr.append(repeat)
    for i, (cell, title) in enumerate(zip(header.cells, HEADERS)):
        cell.width = Cm(WIDTHS_CM[i])
        _cell_text(cell, title, size=12, bold=True)
    # One prototype row with a placeholder per cell. The rows themselves are
    # written as text into document.xml after saving (see _fill_rows): an
    # lxml element per cell, run and paragraph of ten thousand rows would
    # take several hundred megabytes.
    proto_row = table.add_row()
    for i, cell in enumerate(proto_row.cells):
        _cell_text(cell, _placeholder(i), size=12,
                   align=WD_ALIGN_PARAGRAPH.CENTER if i == 0 else WD_ALIGN_PARAGRAPH.LEFT)
    return table


def _placeholder(i: int) -> str:
    return f"@@CELL{i}@@"


def _row_values(data: ReportData):
    number = 0
    for section in data.sections:
        for row in section.rows:
            number += 1
            senders = row.senders
            who = "; ".join(senders) if len(senders) == 1 else f"{len(senders)} ý kiến: " + "; ".join(senders)
            yield [str(number), section.label, row.text, who, row.response]


_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _element_start(xml: str, tag: str, before: int) -> int:
    """Where the innermost <tag> or <tag ...> opening before ``before`` starts."""
    return max(xml.rfind(f"<{tag}>", 0, before), xml.rfind(f"<{tag} ", 0, before))


def _fill_rows(docx_bytes: bytes, rows) -> bytes:
    """Replace the prototype row of the saved document by one row per value list."""
    source = zipfile.ZipFile(io.BytesIO(docx_bytes))
    xml = source.read("word/document.xml").decode("utf-8")
    first = xml.index(_placeholder(0))
    start = _element_start(xml, "w:tr", first)
    end = xml.index("</w:tr>", first) + len("</w:tr>")
    proto = xml[start:end]
    paragraphs = []
    for i in range(len(HEADERS)):
        at = proto.index(_placeholder(i))
        paragraphs.append(proto[_element_start(proto, "w:p", at):proto.index("</w:p>", at) + len("</w:p>")])
    target = io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as result:
        for item in source.infolist():
            if item.filename != "word/document.xml":
                result.writestr(item, source.read(item.filename))
                continue
            # Streamed row by row: the whole table never sits in memory as one string.
            with result.open(item, "w") as handle:
                handle.write(xml[:start].encode("utf-8"))
                for values in rows:
                    row = proto
                    for i, value in enumerate(values):
                        lines = _XML_UNSAFE.sub("", value).split("\n")
                        row = row.replace(paragraphs[i], "".join(
                            paragraphs[i].replace(_placeholder(i), xml_escape(line)) for line in lines), 1)
                    handle.write(row.encode("utf-8"))
                handle.write(xml[end:].encode("utf-8"))
    return target.getvalue()


def build_docx(data: ReportData) -> bytes:
    c = data.consultation
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    style = document.styles["Normal"]
    style.font.name, style.font.size = FONT, Pt(14)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    _add_page_number_header(section)
    if not data.final:
        _draft_mark(section)

    _header_block(document, data)
    _para(document, "", space_after=6)
    _para(document, "BÁO CÁO", size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    _para(document, report_subject(c), size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=12)

    _para(document, "I. TÌNH HÌNH LẤY Ý KIẾN", size=14, bold=True, indent=True)
    for text in opening_paragraphs(data):
        p = _para(document, text, size=14, align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent=True, space_after=6)
        p.paragraph_format.line_spacing = 1.15
    _para(document, "II. TỔNG HỢP, TIẾP THU, GIẢI TRÌNH Ý KIẾN GÓP Ý", size=14, bold=True, indent=True)
    _table(document, data)

    _para(document, "", space_after=6)
    closing = document.add_table(rows=1, cols=2)
    closing.autofit = False
    _widths(closing, [8.5, 9.5])
    left, right = closing.rows[0].cells
    _cell_text(left, "Nơi nhận:", size=12, bold=True, italic=True, align=WD_ALIGN_PARAGRAPH.LEFT)
    for line in (data.settings.recipients or "- Lưu: VT.").splitlines():
        q = left.add_paragraph()
        q.paragraph_format.space_after = Pt(0)
        _set_font(q.add_run(line), 11)
    if data.settings.signer_mode == "KT":
        title = "KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH"
    else:
        title = "TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH"
    _cell_text(right, title, size=14, bold=True)
    for _ in range(3):
        right.add_paragraph()
    name = right.add_paragraph()
    name.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _set_font(name.add_run(data.settings.signer_name or ""), 14, bold=True)

    buffer = io.BytesIO()
    document.save(buffer)
    return _fill_rows(buffer.getvalue(), _row_values(data))
