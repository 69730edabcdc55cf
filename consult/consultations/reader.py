"""One reader for every way a draft comes in.

The upload page (``service.read_draft``), ``flask --app consult parse-draft`` and the tests
all read a draft file through ``read_draft_file``: the same checks, the same messages, the
same text for .txt, .docx, .doc, .odt and .pdf. The file is first told by what it holds,
not by its name, so that a file that is not what its name says, or that is locked with a
password, gets a message saying so, in the officer's words, before any tool is run on it.
How each format's text is made is in ``wordtext`` (Word and LibreOffice, poppler).
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field

from collections.abc import Callable

from consult.consultations import ocr, wordtext
from consult.consultations.parser import ParsedDraft, attach_footnotes, parse_draft
from consult.consultations.wordtext import ScannedPdf, UnreadableDraft
from consult.uploads import UploadRejected, check_upload

# Drafts arrive as Word files (.docx, .doc), OpenDocument, PDF or plain text.
DRAFT_FORMATS = {"docx", "doc", "odt", "pdf", "txt"}
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
FIELD = "draft_file"  # the upload form's field, where its messages are shown

# What a file is, in the officer's words.
KIND_NAMES = {
    "pdf": "một tệp PDF",
    "docx": "một tệp Word .docx",
    "doc": "một tệp Word 97-2003 (.doc)",
    "odt": "một tệp OpenDocument .odt",
    "xlsx": "một bảng tính Excel (.xlsx)",
    "xls": "một bảng tính Excel 97-2003 (.xls)",
    "pptx": "một tệp trình chiếu PowerPoint (.pptx)",
    "ods": "một bảng tính OpenDocument (.ods)",
    "zip": "một tệp nén .zip",
    "rtf": "một tệp RTF",
    "png": "một ảnh PNG",
    "jpg": "một ảnh JPEG",
    "txt": "một tệp văn bản thuần",
}
# CFB (OLE2) directory names are UTF-16LE.
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_WORD_DOCUMENT = "WordDocument".encode("utf-16-le")
_WORKBOOK = "Workbook".encode("utf-16-le")
_CFB = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ODF_MIMETYPES = {"application/vnd.oasis.opendocument.text": "odt",
                  "application/vnd.oasis.opendocument.spreadsheet": "ods"}


@dataclass
class DraftText:
    """A draft file as its reader sees it, and what the officer should know about the file."""

    text: str
    filename: str
    extension: str
    mimetype: str
    data: bytes
    had_revisions: bool = False  # Track Changes not yet accepted: read as accepted
    # The footnotes, kept out of the text, by the number their reference shows ("¹" → "1").
    footnotes: dict[str, str] = field(default_factory=dict)
    scan: ocr.ScanText | None = None  # a scan, read by OCR

    def facts(self) -> dict:
        facts = {"filename": self.filename, "format": self.extension, "had_revisions": self.had_revisions,
                 "footnotes": len(self.footnotes)}
        if self.scan is not None:
            facts["ocr"] = {"pages": self.scan.pages, "confidence": self.scan.confidence}
        return facts

    def parse(self) -> ParsedDraft:
        """The draft's parts, each with the footnotes its text refers to (and, for a scan, the
        page it starts on and how sure OCR was of its words)."""
        parsed = parse_draft(self.text)
        attach_footnotes(parsed, self.footnotes)
        if self.scan is not None:
            ocr.locate(parsed, self.scan)
        return parsed


def sniff(data: bytes) -> tuple[str | None, bool]:
    """(what the file holds, whether it is locked with a password), from its bytes."""
    if data.startswith(b"%PDF-"):
        return "pdf", False
    if data.startswith(_CFB):
        # A Word, Excel or LibreOffice file saved with a password to open is an OLE2 file
        # holding the encrypted package (ECMA-376 Part 2, "Encryption"), whatever its name;
        # a Word 97-2003 file holds its WordDocument stream instead.
        if _ENCRYPTED_PACKAGE in data and _WORD_DOCUMENT not in data:
            return None, True
        if _WORD_DOCUMENT in data:
            return "doc", False
        if _WORKBOOK in data:
            return "xls", False
        return None, False
    if data.startswith(b"PK\x03\x04"):
        return _sniff_zip(data)
    if data.lstrip()[:5] == b"{\\rtf":
        return "rtf", False
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png", False
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg", False
    if b"\x00" not in data[:4096]:
        try:
            data.decode("utf-8")
            return "txt", False
        except UnicodeDecodeError:
            pass
    return None, False


def _sniff_zip(data: bytes) -> tuple[str | None, bool]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = {info.filename: info for info in archive.infolist()}
            if "word/document.xml" in infos:
                return "docx", False
            if "xl/workbook.xml" in infos:
                return "xlsx", False
            if "ppt/presentation.xml" in infos:
                return "pptx", False
            mimetype = infos.get("mimetype")
            if mimetype is not None and mimetype.file_size < 200:
                kind = _ODF_MIMETYPES.get(archive.read(mimetype).decode("ascii", "replace").strip())
                manifest = infos.get("META-INF/manifest.xml")
                # An OpenDocument file saved with a password keeps its manifest in the clear,
                # with the key's derivation for each encrypted member.
                locked = bool(manifest is not None and manifest.file_size < 1_000_000
                              and b"encryption-data" in archive.read(manifest))
                return kind, locked
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError):
        return None, False
    return "zip", False


def _clean_name(filename: str | None) -> str:
    return (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip() or "tep"


def _check_kind(name: str, extension: str, data: bytes) -> None:
    """Refuse, in words the officer can act on, a file locked with a password or one whose
    content is not what its name says."""
    kind, locked = sniff(data)
    if locked:
        raise UnreadableDraft(
            f"Tệp “{name}” được đặt mật khẩu để mở nên không đọc được. Hãy mở tệp, bỏ mật khẩu "
            "(trong Word: Tệp → Thông tin → Bảo vệ tài liệu → Mã hóa bằng mật khẩu, xóa mật khẩu rồi lưu) "
            "và tải lên lại.", field=FIELD)
    if kind is None or kind == extension:
        return  # what the bytes do not tell, the upload check and the format's reader do
    if extension == "txt" and kind != "txt":
        raise UnreadableDraft(f"Tệp “{name}” không đúng định dạng .txt như tên của nó: đây là {KIND_NAMES[kind]}."
                              + _rename_hint(kind), field=FIELD)
    if extension != "txt":
        raise UnreadableDraft(f"Tệp “{name}” không đúng định dạng .{extension} như tên của nó: đây là "
                              f"{KIND_NAMES[kind]}." + _rename_hint(kind), field=FIELD)


def _rename_hint(kind: str) -> str:
    if kind in DRAFT_FORMATS:
        return f" Hãy đổi tên tệp cho đúng (đuôi .{kind}) rồi tải lên lại."
    return " Hãy tải lên tệp dự thảo dạng .docx, .doc, .odt, .pdf hoặc .txt."


def read_draft_file(filename: str | None, data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES,
                    scans: bool = True, progress: Callable[[int, int], None] | None = None) -> DraftText:
    """The text of a draft file as its reader sees it, by the format its name says and its
    bytes confirm; ``UnreadableDraft`` (for the officer, tied to the upload field) otherwise.

    A scanned PDF is read by OCR (``ocr.read_scan``, ``progress`` after each page); with
    ``scans=False`` it raises ``ScannedPdf`` instead, for a caller that reads it later, in the
    background (the upload page)."""
    name = _clean_name(filename)
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if data and len(data) <= max_bytes and extension in DRAFT_FORMATS:
        _check_kind(name, extension, data)
    try:
        checked = check_upload(name, data, allowed=DRAFT_FORMATS, max_bytes=max_bytes)
    except UploadRejected as exc:
        raise UnreadableDraft(str(exc), field=FIELD) from None
    try:
        if checked.extension == "docx":
            try:
                read = wordtext.read_docx(checked.data)
            except Exception:  # noqa: BLE001 - any failure of a damaged .docx
                raise UnreadableDraft(f"Không đọc được tệp “{checked.filename}”: tệp bị hỏng hoặc không phải "
                                      "tệp Word.") from None
        elif checked.extension in ("doc", "odt"):
            read = wordtext.read_office(checked.data, f".{checked.extension}")
        elif checked.extension == "pdf":
            try:
                read = wordtext.read_pdf(checked.data)
            except ScannedPdf:
                why = ocr.available()
                if why:
                    raise UnreadableDraft(f"{wordtext.SCAN_MESSAGE} {why}") from None
                if not scans:
                    raise
                scan = ocr.read_scan(checked.data, progress)
                return DraftText(re.sub(r"\r\n?", "\n", scan.text), checked.filename, checked.extension,
                                 checked.mimetype, checked.data, scan=scan)
        else:
            read = wordtext.DocxText(checked.data.decode("utf-8-sig"))
    except UnreadableDraft as exc:
        exc.field = FIELD
        raise
    text = re.sub(r"\r\n?", "\n", read.text)
    return DraftText(text, checked.filename, checked.extension, checked.mimetype, checked.data,
                     had_revisions=read.had_revisions, footnotes=dict(read.footnotes))
