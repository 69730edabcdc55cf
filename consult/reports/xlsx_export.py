"""The report as .xlsx: the synthesis table and a sheet of the units' replies.

Written in openpyxl's write-only mode, so ten thousand rows stream out
without holding a cell object per value.
"""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from consult.reports.docx_export import HEADERS
from consult.reports.service import ReportData, opening_paragraphs, report_subject
from consult.timeutil import format_datetime


def build_xlsx(data: ReportData) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Tổng hợp ý kiến")
    for i, width in enumerate([6, 22, 60, 40, 60], start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    bold = Font(name="Times New Roman", bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    title = WriteOnlyCell(sheet, value=("DỰ THẢO — " if not data.final else "") + report_subject(data.consultation))
    title.font = bold
    sheet.append([title])
    for text in opening_paragraphs(data):
        sheet.append([text])
    sheet.append([])
    header = []
    for text in HEADERS:
        cell = WriteOnlyCell(sheet, value=text)
        cell.font, cell.alignment = bold, wrap
        header.append(cell)
    sheet.append(header)
    number = 0
    for section in data.sections:
        for row in section.rows:
            number += 1
            sheet.append([number, section.label, row.text, "; ".join(row.senders), row.response])

    units = workbook.create_sheet("Đơn vị trả lời")
    for i, width in enumerate([6, 50, 30, 14, 20, 24], start=1):
        units.column_dimensions[get_column_letter(i)].width = width
    units.append([WriteOnlyCell(units, value=v) for v in
                  ("STT", "Đơn vị", "Tình trạng", "Số ý kiến", "Ngày trả lời", "Công văn")])
    for i, state in enumerate(data.replies.units, start=1):
        reply = state.reply
        letter = ""
        if reply and reply.letter_number:
            letter = f"Số {reply.letter_number}" + (f" ngày {reply.letter_date:%d/%m/%Y}" if reply.letter_date else "")
        units.append([i, state.unit.name, state.label, state.comments,
                      format_datetime(reply.received_at) if reply else "", letter])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
