"""The synthesis report as .docx in the format of Nghị định 30/2020/NĐ-CP:
the layout comes from ``consult.adminpaper``; the table fills the text width
(never the margins), its header row repeats on every page and no row is split
across two pages; "DỰ THẢO" stands at the top while an opinion lacks a decision.
"""

from __future__ import annotations

import io
import re
import zipfile
from xml.sax.saxutils import escape as xml_escape

from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH

from consult.adminpaper import (body, cell_margins, cell_text, closing_block, column_widths, header_block,
                                keep_row_together, new_document, para, set_font, title, widths)
from consult.reports.service import ReportData, closing_paragraph, opening_paragraphs, report_subject
from consult.timeutil import local_date

HEADERS = ["STT", "Điều, khoản, điểm", "Nội dung góp ý", "Cơ quan, đơn vị, cá nhân góp ý", "Ý kiến tiếp thu, giải trình"]
# Shares of the text width (16.5 cm on A4 less the 30 mm and 15 mm margins).
COLUMN_WEIGHTS = [1.1, 2.4, 5.2, 3.2, 4.6]


def _draft_mark(section):
    """'DỰ THẢO' at the top of every page of a report that is not final."""
    for header in (section.first_page_header, section.header):
        p = header.add_paragraph() if header.paragraphs[0].text or header.paragraphs[0].runs else header.paragraphs[0]
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        set_font(p.add_run("DỰ THẢO"), 13, bold=True)


def _table(document, data: ReportData):
    table = document.add_table(rows=1, cols=len(HEADERS))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    widths(table, column_widths(document, COLUMN_WEIGHTS))
    cell_margins(table, 0.1, 0.1)
    header = table.rows[0]
    keep_row_together(header, header=True)
    for cell, heading in zip(header.cells, HEADERS):
        cell_text(cell, heading, size=12, bold=True)
    # One prototype row with a placeholder per cell. The rows themselves are
    # written as text into document.xml after saving (see _fill_rows): an
    # lxml element per cell, run and paragraph of ten thousand rows would
    # take several hundred megabytes. Its w:cantSplit goes into every row.
    proto_row = table.add_row()
    keep_row_together(proto_row)
    for i, cell in enumerate(proto_row.cells):
        cell_text(cell, _placeholder(i), size=12,
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
    document = new_document()
    section = document.sections[0]
    if not data.final:
        _draft_mark(section)
    commune = c.commune
    header_block(document, ["Ủy ban nhân dân", f"{commune.kind_label} {commune.name}"],
                 data.settings.number or "      /BC-UBND", data.settings.place or commune.name,
                 data.settings.report_date or local_date(data.generated_at))
    title(document, "Báo cáo", report_subject(c))

    para(document, "I. TÌNH HÌNH LẤY Ý KIẾN", size=14, bold=True, indent=True)
    for text in opening_paragraphs(data):
        body(document, text)
    para(document, "II. TỔNG HỢP, TIẾP THU, GIẢI TRÌNH Ý KIẾN GÓP Ý", size=14, bold=True, indent=True)
    _table(document, data)
    para(document, "", space_after=0)
    body(document, closing_paragraph(data))

    if data.settings.signer_mode == "KT":
        signer = "KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH"
    else:
        signer = "TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH"
    closing_block(document, data.settings.recipients or "- Lưu: VT.", signer, data.settings.signer_name or "")

    buffer = io.BytesIO()
    document.save(buffer)
    return _fill_rows(buffer.getvalue(), _row_values(data))
