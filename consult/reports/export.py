"""One entry point for the report's files, used by the pages and the CLI."""

from __future__ import annotations

from consult.reports.docx_export import build_docx
from consult.reports.service import ReportData
from consult.reports.xlsx_export import build_xlsx

MIMETYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def export(data: ReportData, fmt: str) -> bytes:
    if fmt == "docx":
        return build_docx(data)
    if fmt == "xlsx":
        return build_xlsx(data)
    raise ValueError(f"unknown format {fmt}")


def filename(data: ReportData, fmt: str) -> str:
    draft = "du-thao-" if not data.final else ""
    return f"{draft}bao-cao-tong-hop-y-kien-{data.consultation.id}.{fmt}"
