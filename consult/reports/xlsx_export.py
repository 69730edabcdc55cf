"""The report as .xlsx: the synthesis table, the consultation's facts and the units' replies.

Ready to print: A4 landscape, fitted to the page's width, the header row
repeated on every page, long texts wrapped; on screen the header row stays in
view.

openpyxl (write-only mode) writes the workbook with one prototype row in the
table; the table's rows are then written as text in its place (``_fill_rows``),
with the prototype's styles: a styled cell object per value of ten thousand
rows took longer than the rest of the export together.
"""

from __future__ import annotations

import io
import re
import zipfile
from xml.sax.saxutils import escape as xml_escape

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from consult.reports.docx_export import HEADERS
from consult.reports.service import ReportData, opening_paragraphs, report_date_line, report_subject
from consult.timeutil import format_datetime

FONT = "Times New Roman"


def _print_setup(sheet, *, header_row: int) -> None:
    """A4 landscape, all columns on one page's width, the header row on every page and frozen on screen.

    Set before the first row: a write-only sheet writes its view with the first row.
    """
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as needed
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_options.horizontalCentered = True
    sheet.page_margins.left = sheet.page_margins.right = 0.5
    sheet.page_margins.top = sheet.page_margins.bottom = 0.6
    sheet.print_title_rows = f"{header_row}:{header_row}"
    sheet.freeze_panes = f"A{header_row + 1}"
    sheet.oddFooter.center.text = "Trang &P/&N"


def _style(sheet, font: Font, alignment: Alignment) -> StyleArray:
    """The style of one cell, registered once: setting ``cell.font`` on each of fifty thousand
    cells hashes the font every time and took most of the export."""
    cell = WriteOnlyCell(sheet)
    cell.font, cell.alignment = font, alignment
    return cell._style


# A cell that starts like this would be read as a formula by a spreadsheet (formula injection):
# it is written as text, always.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cells(sheet, values, style: StyleArray):
    row = []
    for value in values:
        cell = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str) and value.startswith(FORMULA_STARTS):
            cell.data_type = "s"
        cell._style = StyleArray(style)
        row.append(cell)
    return row


def build_xlsx(data: ReportData) -> bytes:
    workbook = Workbook(write_only=True)
    bold = Font(name=FONT, bold=True)
    plain = Font(name=FONT)
    wrap = Alignment(wrap_text=True, vertical="top")

    sheet = workbook.create_sheet("Tổng hợp ý kiến")
    heading = _style(sheet, bold, Alignment(wrap_text=True, vertical="center", horizontal="center"))
    text = _style(sheet, plain, wrap)
    centre = _style(sheet, plain, Alignment(wrap_text=True, vertical="top", horizontal="center"))
    for i, width in enumerate([6, 22, 60, 36, 60], start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    _print_setup(sheet, header_row=3)
    sheet.merged_cells.add("A1:E1")
    sheet.merged_cells.add("A2:E2")
    sheet.row_dimensions[1].height = 36
    title = ("DỰ THẢO — " if not data.final else "") + report_subject(data.consultation)
    sheet.append(_cells(sheet, [title], heading))
    sheet.append(_cells(sheet, [report_date_line(data)],
                        _style(sheet, Font(name=FONT, italic=True), Alignment(horizontal="center"))))
    sheet.append(_cells(sheet, HEADERS, heading))
    sheet.append(_cells(sheet, [0], centre) + _cells(sheet, [_PROTO] * 4, text))

    facts = workbook.create_sheet("Tình hình lấy ý kiến")
    facts.column_dimensions["A"].width = 120
    _print_setup(facts, header_row=1)
    facts.append(_cells(facts, [report_subject(data.consultation)], heading))
    for paragraph in opening_paragraphs(data):
        facts.append(_cells(facts, [paragraph], text))

    units = workbook.create_sheet("Đơn vị trả lời")
    for i, width in enumerate([6, 50, 30, 14, 20, 24], start=1):
        units.column_dimensions[get_column_letter(i)].width = width
    _print_setup(units, header_row=1)
    units.append(_cells(units, ("STT", "Đơn vị", "Tình trạng", "Số ý kiến", "Ngày trả lời", "Công văn"), heading))
    for i, state in enumerate(data.replies.units, start=1):
        reply = state.reply
        letter = ""
        if reply and reply.letter_number:
            letter = f"Số {reply.letter_number}" + (f" ngày {reply.letter_date:%d/%m/%Y}" if reply.letter_date else "")
        units.append(_cells(units, [i, state.unit.name, state.label, state.comments,
                                    format_datetime(reply.received_at) if reply else "", letter], text))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return _fill_rows(buffer.getvalue(), _row_values(data), first=4)


_PROTO = "@@PROTOTYPE@@"
_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EXCEL_MAX = 32_767  # characters in one cell


def _row_values(data: ReportData):
    number = 0
    for section in data.sections:
        for row in section.rows:
            number += 1
            senders = "; ".join(row.senders)
            if row.count > 1:
                senders = f"{row.count} ý kiến: {senders}"
            yield number, [section.label, row.text, senders, row.response]


def _text(value: str) -> str:
    value = _XML_UNSAFE.sub("", value)
    if len(value) > _EXCEL_MAX:
        value = value[:_EXCEL_MAX - 1] + "…"
    return xml_escape(value)


def _fill_rows(xlsx_bytes: bytes, rows, *, first: int) -> bytes:
    """Replace the table's prototype row (row ``first``) by one row per (number, texts), in its styles.

    The table is the sheet's last rows, and write-only sheets carry no <dimension>: nothing else to renumber.
    """
    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes))
    name = next(n for n in source.namelist() if n.startswith("xl/worksheets/")
                and _PROTO.encode() in source.read(n))
    xml = source.read(name).decode("utf-8")
    proto = re.search(rf'<row r="{first}"[^>]*>.*?</row>', xml, re.S)
    styles = dict(re.findall(rf'<c r="([A-Z]+){first}" s="(\d+)"', proto.group(0)))
    columns = ["B", "C", "D", "E"]
    target = io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as result:
        for item in source.infolist():
            if item.filename != name:
                result.writestr(item, source.read(item.filename))
                continue
            with result.open(item, "w") as handle:
                head = xml[:proto.start()]
                handle.write(head.encode("utf-8"))
                for offset, (number, texts) in enumerate(rows):
                    r = first + offset
                    cells = "".join(
                        f'<c r="{col}{r}" s="{styles[col]}" t="inlineStr"><is><t xml:space="preserve">'
                        f"{_text(value)}</t></is></c>" for col, value in zip(columns, texts))
                    handle.write(f'<row r="{r}"><c r="A{r}" s="{styles["A"]}" t="n"><v>{number}</v></c>{cells}</row>'
                                 .encode("utf-8"))
                handle.write(xml[proto.end():].encode("utf-8"))
    return target.getvalue()
