"""Administrative documents in the format of Nghị định 30/2020/NĐ-CP (Phụ lục I):
the pieces every .docx of consult shares.

A4 portrait, margins 20/20/30/15 mm, Times New Roman; the issuing body and the
national motto side by side, each with a rule drawn right under its text (1/3 of
the issuer's line, the motto's full length); number and symbol, place and date
in italics; the subject (trích yếu) with a short rule under it; page numbers
centred at the top from page 2.

Every table is at most as wide as the text area (16.5 cm between the margins),
with its width, its columns' widths and a fixed layout written out, so that
neither Word nor LibreOffice lets it run into the margins.

The rules are bottom borders of an empty paragraph one point high placed right
after the text: a border belongs to its paragraph and moves with it, where a
floating line would drift with the page.
"""

from __future__ import annotations

import io
import unicodedata
from datetime import date
from functools import lru_cache
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Emu, Mm, Pt, Twips

from consult.timeutil import vietnamese_long_date

FONT = "Times New Roman"
CELL_MARGIN_CM = 0.19  # Word's default left and right cell margin (108 twips)

# The order of w:tblPr's and w:trPr's children in the schema (ECMA-376 §17.4.60, §17.4.82).
_TBLPR_ORDER = ["tblStyle", "tblpPr", "tblOverlap", "bidiVisual", "tblStyleRowBandSize", "tblStyleColBandSize",
                "tblW", "jc", "tblCellSpacing", "tblInd", "tblBorders", "shd", "tblLayout", "tblCellMar", "tblLook",
                "tblCaption", "tblDescription"]
_TRPR_ORDER = ["cnfStyle", "divId", "gridBefore", "gridAfter", "wBefore", "wAfter", "cantSplit", "trHeight",
               "tblHeader", "tblCellSpacing", "jc", "hidden", "ins", "del", "trPrChange"]


def _set_child(parent, name: str, order: list[str], **attrs):
    """Put (or replace) ``w:name`` in ``parent`` at its place in the schema's sequence."""
    old = parent.find(qn(f"w:{name}"))
    if old is not None:
        parent.remove(old)
    el = OxmlElement(f"w:{name}")
    for key, value in attrs.items():
        el.set(qn(f"w:{key}"), str(value))
    later = order[order.index(name) + 1:]
    anchor = next((child for child in parent if child.tag in {qn(f"w:{n}") for n in later}), None)
    if anchor is None:
        parent.append(el)
    else:
        anchor.addprevious(el)
    return el


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


# --- measuring text -------------------------------------------------------------------

_FONT_FILES = {
    (False, False): ["times.ttf", "Times New Roman.ttf", "LiberationSerif-Regular.ttf"],
    (True, False): ["timesbd.ttf", "Times New Roman Bold.ttf", "LiberationSerif-Bold.ttf"],
    (False, True): ["timesi.ttf", "Times New Roman Italic.ttf", "LiberationSerif-Italic.ttf"],
    (True, True): ["timesbi.ttf", "Times New Roman Bold Italic.ttf", "LiberationSerif-BoldItalic.ttf"],
}
_FONT_DIRS = ["/usr/share/fonts", "/usr/local/share/fonts", "/Library/Fonts", "C:/Windows/Fonts"]


@lru_cache(maxsize=4)
def _font(bold: bool, italic: bool):
    """Times New Roman, or Liberation Serif (the same widths), at 1000 px; None when neither is installed."""
    try:
        from PIL import ImageFont
    except ImportError:  # pragma: no cover - Pillow comes with qrcode[pil]
        return None
    for name in _FONT_FILES[(bold, italic)]:
        for root in _FONT_DIRS:
            for path in Path(root).rglob(name) if Path(root).is_dir() else ():
                try:
                    return ImageFont.truetype(str(path), 1000)
                except OSError:
                    continue
    return None


def text_width_cm(text: str, size: float, bold: bool = False, italic: bool = False) -> float:
    """The printed width of one line of ``text`` in Times New Roman at ``size`` points."""
    # Vietnamese tone marks stack above or below their letter and add no width; the letter's
    # own width stands for the accented one (which Liberation Serif may lack).
    base = "".join(ch for ch in unicodedata.normalize("NFD", text) if unicodedata.category(ch) != "Mn")
    font = _font(bold, italic)
    if font is not None:
        em = font.getlength(base) / 1000
    else:  # average advance widths of Times New Roman: capitals are wider
        em = sum(0.62 if ch.isupper() else 0.28 if ch == " " else 0.45 for ch in base)
    return em * size / 72 * 2.54


# --- page and tables ----------------------------------------------------------------------

def text_width(document) -> Emu:
    """The width between the margins of the document's last section (16.5 cm on the decree's A4)."""
    section = document.sections[-1]
    return Emu(section.page_width - section.left_margin - section.right_margin)


def column_widths(document, weights: list[float]) -> list[float]:
    """Widths in cm, proportional to ``weights``, that fill the text width and never exceed it."""
    total_twips = text_width(document).twips
    twips = [int(total_twips * w / sum(weights)) for w in weights]
    return [Twips(t).cm for t in twips]


def widths(table, widths_cm):
    """Column widths in the grid (what LibreOffice reads), in every cell (what Word reads) and the
    table's own width, with a fixed layout: the table is exactly as wide as its columns."""
    twips = [int(round(Cm(w).twips)) for w in widths_cm]
    for column, width in zip(table.columns, twips):
        column.width = Twips(width)
    for row in table.rows:
        for cell, width in zip(row.cells, twips):
            cell.width = Twips(width)
    tblpr = table._tbl.tblPr
    _set_child(tblpr, "tblW", _TBLPR_ORDER, w=sum(twips), type="dxa")
    _set_child(tblpr, "tblLayout", _TBLPR_ORDER, type="fixed")
    table.autofit = False


def cell_margins(table, left_cm: float, right_cm: float) -> None:
    """The left and right margin inside every cell of ``table``."""
    tblpr = table._tbl.tblPr
    margins = _set_child(tblpr, "tblCellMar", _TBLPR_ORDER)
    for side, value in (("left", left_cm), ("right", right_cm)):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:w"), str(int(round(Cm(value).twips))))
        el.set(qn("w:type"), "dxa")
        margins.append(el)


def keep_rows_together(table, *, header_rows: int = 0) -> None:
    """No row split across two pages (w:cantSplit); the first ``header_rows`` repeat on every page (w:tblHeader)."""
    for i, row in enumerate(table.rows):
        keep_row_together(row, header=i < header_rows)


def keep_row_together(row, *, header: bool = False) -> None:
    trpr = row._tr.get_or_add_trPr()
    _set_child(trpr, "cantSplit", _TRPR_ORDER)
    if header:
        _set_child(trpr, "tblHeader", _TRPR_ORDER)


def rule(p, cell_cm: float, rule_cm: float):
    """A rule right under the paragraph before ``p``: ``p`` is an empty paragraph one point high,
    without spacing, whose bottom border is ``rule_cm`` long and centred in ``cell_cm``."""
    side = Cm(max((cell_cm - rule_cm) / 2, 0))
    fmt = p.paragraph_format
    fmt.left_indent = fmt.right_indent = side
    fmt.first_line_indent = Cm(0)
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.line_spacing = Pt(1)  # exact: the border sits at the foot of the line above
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    previous = p._p.getprevious()
    if previous is not None and previous.tag == qn("w:p"):
        from docx.text.paragraph import Paragraph

        Paragraph(previous, p._parent).paragraph_format.space_after = Pt(0)
    ppr = p._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "0"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    # w:pBdr comes right after w:pStyle, w:keepNext ... w:pageBreakBefore, w:framePr, w:widowControl, w:numPr, w:suppressLineNumbers
    anchor = next((child for child in ppr if child.tag in {qn("w:shd"), qn("w:tabs"), qn("w:suppressAutoHyphens"),
                                                            qn("w:spacing"), qn("w:ind"), qn("w:jc")}), None)
    if anchor is None:
        ppr.append(borders)
    else:
        anchor.addprevious(borders)
    # The paragraph mark at one point too, or its font's line height would push the border down.
    rpr = OxmlElement("w:rPr")
    size = OxmlElement("w:sz")
    size.set(qn("w:val"), "2")
    rpr.append(size)
    ppr.append(rpr)
    return p


def _inner_cm(cell_cm: float) -> float:
    return max(cell_cm - 2 * CELL_MARGIN_CM, 0)


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


def grid_table(document, header: list[str] | None, rows: list[list[str]], *, size: float = 12):
    """A bordered table across the text width (a draft's own table): columns weighted by
    their longest cell, the header row bold and repeated on every page, no row split."""
    columns = max([len(header or [])] + [len(r) for r in rows])
    every = ([header] if header else []) + rows
    # Each column as wide as its longest cell (up to 40 letters), never narrower than "STT" in bold.
    weights = [max([min(len(r[i]) if i < len(r) else 0, 40) for r in every] + [5]) for i in range(columns)]
    table = document.add_table(rows=0, cols=columns)
    table.style = "Table Grid"
    for index, values in enumerate(every):
        cells = table.add_row().cells
        head = bool(header) and index == 0
        for i, cell in enumerate(cells):
            value = values[i] if i < len(values) else ""
            align = WD_ALIGN_PARAGRAPH.CENTER if head or len(value) <= 4 else WD_ALIGN_PARAGRAPH.LEFT
            cell_text(cell, value, size=size, bold=head, align=align)
    widths(table, column_widths(document, weights))
    keep_rows_together(table, header_rows=1 if header else 0)
    para(document, "", size=6, space_after=0)  # a little air before the text goes on
    return table


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
    style.element.rPr.rFonts.set(qn("w:cs"), FONT)
    _default_fonts(document)
    _do_not_stretch_manual_breaks(document)
    add_page_numbers(section)
    return document


def _default_fonts(document) -> None:
    """Times New Roman in the document's defaults too (w:docDefaults), in place of the template's
    theme fonts (Calibri, Cambria: Carlito and Caladea in LibreOffice) that an empty paragraph,
    a table style or a page-number field would otherwise fall back to."""
    defaults = document.styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr")) if defaults is not None else None
    if rpr is None:
        return
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in list(fonts.attrib):
        del fonts.attrib[attr]
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), FONT)


def _do_not_stretch_manual_breaks(document) -> None:
    """w:doNotExpandShiftReturn: a justified line that ends with a manual line break is not
    stretched to the margin (Word and LibreOffice both read it), as a paragraph's last line is not."""
    settings = document.settings.element
    compat = settings.find(qn("w:compat"))
    if compat is None:
        compat = OxmlElement("w:compat")
        settings.append(compat)
    if compat.find(qn("w:doNotExpandShiftReturn")) is None:
        compat.insert(0, OxmlElement("w:doNotExpandShiftReturn"))


ISSUER_SIZE, NATION_SIZE, MOTTO_SIZE = 13, 12.5, 13.5
MOTTO = "Độc lập - Tự do - Hạnh phúc"


def header_block(document, issuer_lines: list[str], number: str, place: str, when: date | None, *,
                 subject: str | None = None) -> None:
    """Issuing body | national motto; number | place and date (NĐ 30 Điều 8-10, Phụ lục I).

    The issuer's rule is a third of its longest line; the motto's as long as the motto.
    The date line is ``vietnamese_long_date`` (a day below 10 and the months 1 and 2 padded).
    A công văn's subject ("V/v ...", its trích yếu) stands under the number in the left
    column, centred, 12 pt upright, 6 pt below it (NĐ 30 Phụ lục I, mục II.6.b).
    """
    left_cm, right_cm = column_widths(document, [6.0, 10.5])
    table = document.add_table(rows=2, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    widths(table, [left_cm, right_cm])
    issuer = [line.upper() for line in issuer_lines]
    cell_text(table.cell(0, 0), "\n".join(issuer), size=ISSUER_SIZE, bold=True)
    longest = max((text_width_cm(line, ISSUER_SIZE, bold=True) for line in issuer), default=3.0)
    rule(table.cell(0, 0).add_paragraph(), _inner_cm(left_cm), min(longest, _inner_cm(left_cm)) / 3)
    right = table.cell(0, 1)
    cell_text(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", size=NATION_SIZE, bold=True)
    motto = right.add_paragraph()
    motto.alignment = WD_ALIGN_PARAGRAPH.CENTER
    set_font(motto.add_run(MOTTO), MOTTO_SIZE, bold=True)
    rule(right.add_paragraph(), _inner_cm(right_cm), text_width_cm(MOTTO, MOTTO_SIZE, bold=True))
    cell_text(table.cell(1, 0), f"Số: {number}", size=13)
    date_text = vietnamese_long_date(when, place) if when else f"{place}, ngày     tháng     năm"
    cell_text(table.cell(1, 1), date_text, size=14, italic=True)
    for cell in table.rows[1].cells:  # the rules have no spacing: keep the number and date a little below
        cell.paragraphs[0].paragraph_format.space_before = Pt(6)
    if subject:
        trich_yeu = table.cell(1, 0).add_paragraph()
        trich_yeu.alignment = WD_ALIGN_PARAGRAPH.CENTER
        trich_yeu.paragraph_format.space_before, trich_yeu.paragraph_format.space_after = Pt(6), Pt(0)
        set_font(trich_yeu.add_run(subject), 12)


def body(document, text: str):
    """Body text: 14 pt, justified, first line indented 1.27 cm. Each line of ``text`` is a paragraph
    of its own: a manual line break inside a justified paragraph would stretch the line before it
    across the page (NĐ 30 justifies the body, never a paragraph's last or broken line).
    Returns the last paragraph."""
    lines = [line.strip() for line in (text or "").split("\n")]
    lines = [line for line in lines if line] or [""]
    for line in lines:
        p = para(document, line, size=14, align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent=True, space_after=6)
        p.paragraph_format.line_spacing = 1.15
    return p


def addressees(document, names: list[str], *, size: float = 14) -> None:
    """"Kính gửi:" (regular, 14 pt; NĐ 30 Phụ lục I, mục II.9): one addressee on the same line, ending
    with "."; several on lines of their own, each "- name;", the last ending ".", the dashes aligned
    under the colon. The block is centred on the page as far as it fits."""
    names = [name.strip().rstrip(";.").strip() for name in names if name and name.strip()]
    lead = "Kính gửi:"
    total = text_width(document).cm
    if len(names) <= 1:
        line = f"{lead} {names[0]}." if names else lead
        width = min(text_width_cm(line, size), total)
        p = para(document, line, size=size, space_after=6)
        p.paragraph_format.left_indent = Cm(max((total - width) / 2, 0))
        return
    dash_at = text_width_cm("Kính gửi", size)  # under the colon
    items = [f"- {name}{';' if i < len(names) - 1 else '.'}" for i, name in enumerate(names)]
    widest = max(text_width_cm(item, size) for item in items)
    start = max(min((total - dash_at - widest) / 2, total / 3), 0)
    p = para(document, lead, size=size, space_after=0)
    p.paragraph_format.left_indent = Cm(start)
    p.paragraph_format.keep_with_next = True
    hang = text_width_cm("- ", size)
    for i, item in enumerate(items):
        q = para(document, item, size=size, space_after=6 if i == len(items) - 1 else 0)
        q.paragraph_format.left_indent = Cm(start + dash_at + hang)  # a wrapped name continues under the name
        q.paragraph_format.first_line_indent = Cm(-hang)


def title(document, kind: str, subject: str) -> None:
    """The document's kind in capitals, its subject (trích yếu) under it, and a rule under
    the subject a third of its longest line long (NĐ 30 Phụ lục I)."""
    para(document, "", space_after=6)
    para(document, kind.upper(), size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    para(document, subject, size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    line_cm = min(text_width_cm(subject, 14, bold=True), text_width(document).cm)
    rule(para(document, ""), text_width(document).cm, max(line_cm / 3, 2.0))
    para(document, "", space_after=6)


def _fitted_columns(document, needs_cm: list[float]) -> list[float]:
    """Columns at least as wide as each one needs, sharing what is left equally, within the text width;
    when they cannot all fit, in proportion to their needs."""
    total = text_width(document).cm
    if sum(needs_cm) <= total:
        extra = (total - sum(needs_cm)) / len(needs_cm)
        return column_widths(document, [need + extra for need in needs_cm])
    return column_widths(document, needs_cm)


def signatures(document, blocks: list[tuple[str, str]]) -> None:
    """Signature blocks side by side: (title in capitals, name). Each column is wide enough for its
    title on one line where the text width allows ("TRƯỞNG BAN CÔNG TÁC MẶT TRẬN" needs 8.2 cm)."""
    table = document.add_table(rows=1, cols=len(blocks))
    needs = [max([text_width_cm(line, 13, bold=True) for line in heading.split("\n")]
                 + [text_width_cm(name, 13, bold=True), text_width_cm("(ký, ghi rõ họ tên)", 12, italic=True)])
             + 2 * CELL_MARGIN_CM + 0.3 for heading, name in blocks]
    widths(table, _fitted_columns(document, needs))
    keep_rows_together(table)
    for cell, (heading, name) in zip(table.rows[0].cells, blocks):
        signature_cell(cell, heading, name)


def signature_cell(cell, heading: str, name: str) -> None:
    """One signer's slot (NĐ 30): the title in bold, "(ký, ghi rõ họ tên)", room to sign, the name."""
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
    """"Nơi nhận:" (bold italic 12 pt, list 11 pt) beside the signer's title and name; the last
    paragraph of the text goes with them to the next page rather than leave them alone on one."""
    if document.paragraphs:
        document.paragraphs[-1].paragraph_format.keep_with_next = True
    para(document, "", space_after=6).paragraph_format.keep_with_next = True
    table = document.add_table(rows=1, cols=2)
    widths(table, column_widths(document, [7.5, 9.0]))
    keep_rows_together(table)
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
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
