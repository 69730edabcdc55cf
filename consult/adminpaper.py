"""Administrative documents in the format of Nghị định 30/2020/NĐ-CP (Phụ lục I):
the pieces every .docx of consult shares.

A4 portrait, margins 20/20/30/15 mm, Times New Roman; the issuing body and the
national motto side by side, each with a short rule; number and symbol, place
and date in italics; page numbers centred at the top from page 2.
"""

from __future__ import annotations

from datetime import date

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt

from consult.timeutil import vietnamese_long_date

FONT = "Times New Roman"


def set_font(run, size: float, bold=False, italic=False):
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


def para(container, text="", size=14, bold=False, italic=False, align=None, indent=False, space_after=3):
    p = container.add_paragraph()
    if text:
        set_font(p.add_run(text), size, bold, italic)
    fmt = p.paragraph_format
    fmt.space_after, fmt.space_before = Pt(space_after), Pt(0)
    if align is not None:
        p.alignment = align
    if indent:
        fmt.first_line_indent = Cm(1.27)
    return p


def rule(p, cell_cm: float, rule_cm: float):
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


def cell_text(cell, text, size=12, bold=False, italic=False, align=WD_ALIGN_PARAGRAPH.CENTER):
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
            set_font(p.add_run(line), size, bold, italic)


def widths(table, widths_cm):
    """Column widths in the grid (what LibreOffice reads) and in every cell (what Word reads)."""
    for column, width in zip(table.columns, widths_cm):
        column.width = Cm(width)
    for row in table.rows:
        for cell, width in zip(row.cells, widths_cm):
            cell.width = Cm(width)


def add_page_numbers(section):
    """Page numbers centred at the top from page 2 (NĐ 30 Điều 14)."""
    section.different_first_page_header_footer = True
    p = section.header.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = p.add_run()
    set_font(run, 13)
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._r.append(el)



def new_document():
    """An empty A4 portrait document with the decree's margins, font and page numbers."""
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    style = document.styles["Normal"]
    style.font.name, style.font.size = FONT, Pt(14)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    add_page_numbers(section)
    return document


def header_block(document, issuer_lines: list[str], number: str, place: str, when: date | None) -> None:
    """Issuing body | national motto; number | place and date (NĐ 30 Điều 8-10)."""
    table = document.add_table(rows=2, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    widths(table, [6.5, 11.5])
    cell_text(table.cell(0, 0), "\n".join(line.upper() for line in issuer_lines), size=13, bold=True)
    rule(table.cell(0, 0).add_paragraph(), 6.5, 2.2)
    right = table.cell(0, 1)
    cell_text(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", size=12.5, bold=True)
    motto = right.add_paragraph()
    motto.alignment = WD_ALIGN_PARAGRAPH.CENTER
    set_font(motto.add_run("Độc lập - Tự do - Hạnh phúc"), 13.5, bold=True)
    rule(right.add_paragraph(), 11.5, 6.2)
    cell_text(table.cell(1, 0), f"Số: {number}", size=13)
    date_text = vietnamese_long_date(when, place) if when else f"{place}, ngày     tháng     năm"
    cell_text(table.cell(1, 1), date_text, size=14, italic=True)


def body(document, text: str):
    p = para(document, text, size=14, align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent=True, space_after=6)
    p.paragraph_format.line_spacing = 1.15
    return p


def title(document, kind: str, subject: str) -> None:
    para(document, "", space_after=6)
    para(document, kind.upper(), size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    para(document, subject, size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=12)


def signatures(document, blocks: list[tuple[str, str]]) -> None:
    """Signature blocks side by side: (title in capitals, name)."""
    table = document.add_table(rows=1, cols=len(blocks))
    table.autofit = False
    widths(table, [18 / len(blocks)] * len(blocks))
    for cell, (heading, name) in zip(table.rows[0].cells, blocks):
        cell_text(cell, heading, size=13, bold=True)
        note = cell.add_paragraph()
        note.alignment = WD_ALIGN_PARAGRAPH.CENTER
        set_font(note.add_run("(ký, ghi rõ họ tên)"), 12, italic=True)
        for _ in range(3):
            cell.add_paragraph()
        last = cell.add_paragraph()
        last.alignment = WD_ALIGN_PARAGRAPH.CENTER
        set_font(last.add_run(name), 13, bold=True)


def closing_block(document, recipients: str, signer_title: str, signer_name: str) -> None:
    """"Nơi nhận:" (bold italic 12 pt, list 11 pt) beside the signer's title and name."""
    para(document, "", space_after=6)
    table = document.add_table(rows=1, cols=2)
    table.autofit = False
    widths(table, [8.5, 9.5])
    left, right = table.rows[0].cells
    cell_text(left, "Nơi nhận:", size=12, bold=True, italic=True, align=WD_ALIGN_PARAGRAPH.LEFT)
    for line in recipients.splitlines():
        q = left.add_paragraph()
        q.paragraph_format.space_after = Pt(0)
        set_font(q.add_run(line), 11)
    cell_text(right, signer_title, size=14, bold=True)
    for _ in range(3):
        right.add_paragraph()
    name = right.add_paragraph()
    name.alignment = WD_ALIGN_PARAGRAPH.CENTER
    set_font(name.add_run(signer_name), 14, bold=True)


def to_bytes(document) -> bytes:
    import io

    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
