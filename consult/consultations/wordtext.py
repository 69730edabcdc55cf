"""The text a reader sees in a Word draft, and drafts in other formats.

Word keeps the numbers of its own list numbering (the "Numbering" button:
``w:numPr`` on a paragraph or on its style) out of the text: they are computed
from ``word/numbering.xml`` when the page is drawn. ``text_from_docx`` computes
them the same way (levels, formats, start values, restarts of lower levels,
``lvlOverride/startOverride`` of a list instance) and writes each in front of
its paragraph, so that "Điều 1.", "1." and "a)" reach the parser as the reader
sees them.

Tracked changes (Track Changes) are read as accepted: inserted and moved-to
text kept, deleted and moved-away text (``w:del``, ``w:moveFrom``, a deleted
paragraph mark) gone; ``read_docx`` says whether the file carried any.
Comments live in their own part of the file and never reach the text. A table
that only lays out the NĐ 30 header (Quốc hiệu, issuing body, số, date) or the
signature block (Nơi nhận beside TM./CHỦ TỊCH and the name) is read as the
paragraphs it holds, so that the parser puts them in the preamble and the
closing text as it does when they are typed as paragraphs; any other table
stays a table, one "| cell | cell |" line a row, in the part it stands in.

Other formats go through tools that render them as a reader would see them:
.doc and .odt through LibreOffice headless (converted to .docx), text PDFs
through poppler's ``pdftotext -layout``; a PDF with no text layer (a scan) is
refused with a message rather than read as an empty draft. Every way in goes
through ``consult.consultations.reader.read_draft_file``.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from consult.errors import DomainError

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


class UnreadableDraft(DomainError):
    """The file cannot be read as a draft; the message is for the officer."""


class ScannedPdf(UnreadableDraft):
    """A PDF whose pages are pictures of pages: it has no text to read, only OCR reads it."""


# --- Word list numbering ------------------------------------------------------------------------

def _roman(n: int) -> str:
    values = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"), (40, "XL"),
              (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
    out = ""
    for value, letters in values:
        while n >= value:
            out, n = out + letters, n - value
    return out


def _letter(n: int) -> str:
    # Word's letters: a..z, then aa, bb, ... (no Vietnamese đ: Word cannot make it).
    n -= 1
    return chr(ord("a") + n % 26) * (n // 26 + 1)


def format_number(value: int, fmt: str) -> str:
    if fmt == "lowerLetter":
        return _letter(value)
    if fmt == "upperLetter":
        return _letter(value).upper()
    if fmt == "lowerRoman":
        return _roman(value).lower()
    if fmt == "upperRoman":
        return _roman(value)
    if fmt in ("bullet", "none"):
        return ""
    if fmt == "decimalZero":
        return f"{value:02d}"
    return str(value)  # decimal and the rest


@dataclass
class _Level:
    start: int = 1
    fmt: str = "decimal"
    text: str = "%1."
    restart: int | None = None  # lvlRestart: restart after this (1-based) level; None: after any higher level


@dataclass
class _Numbering:
    abstract: dict[str, dict[int, _Level]] = field(default_factory=dict)
    num_to_abstract: dict[str, str] = field(default_factory=dict)
    overrides: dict[str, dict[int, int]] = field(default_factory=dict)  # numId -> {ilvl: start}
    style_num: dict[str, tuple[str, int]] = field(default_factory=dict)  # styleId -> (numId, ilvl)
    counters: dict[str, dict[int, int]] = field(default_factory=dict)  # abstractNumId -> {ilvl: value}
    used_overrides: set[str] = field(default_factory=set)

    def label(self, num_id: str, ilvl: int) -> str:
        abstract_id = self.num_to_abstract.get(num_id)
        if abstract_id is None or num_id == "0":
            return ""
        levels = self.abstract.get(abstract_id, {})
        level = levels.get(ilvl)
        if level is None:
            return ""
        counters = self.counters.setdefault(abstract_id, {})
        if num_id not in self.used_overrides and num_id in self.overrides:
            # A new list instance that restarts its numbering (startOverride).
            self.used_overrides.add(num_id)
            for override_level, start in self.overrides[num_id].items():
                counters[override_level] = start - 1
                for deeper in [k for k in counters if k > override_level]:
                    del counters[deeper]
        counters[ilvl] = counters.get(ilvl, levels[ilvl].start - 1) + 1
        # Lower levels restart when a higher level advances (unless lvlRestart says otherwise).
        for deeper, deeper_level in levels.items():
            if deeper > ilvl and deeper in counters:
                if deeper_level.restart is None or deeper_level.restart > ilvl:
                    del counters[deeper]
        if level.fmt in ("bullet", "none"):
            return ""

        def value(match: re.Match) -> str:
            n = int(match.group(1)) - 1
            lvl = levels.get(n, _Level())
            return format_number(counters.get(n, lvl.start), lvl.fmt)

        return re.sub(r"%(\d)", value, level.text)


def _read_numbering(document) -> _Numbering:
    from docx.opc.constants import RELATIONSHIP_TYPE as RT

    numbering = _Numbering()
    # Ask for the part without python-docx's numbering_part, which would try to create an
    # empty one (not implemented) in a document that has no list numbering.
    try:
        root = document.part.part_related_by(RT.NUMBERING).element
    except KeyError:  # no word/numbering.xml: no list numbers to compute
        root = None
    if root is not None:
        for abstract in root.iter(W + "abstractNum"):
            levels = {}
            for lvl in abstract.iter(W + "lvl"):
                ilvl = int(lvl.get(W + "ilvl", "0"))
                level = _Level()
                if (el := lvl.find(W + "start")) is not None:
                    level.start = int(el.get(W + "val", "1"))
                if (el := lvl.find(W + "numFmt")) is not None:
                    level.fmt = el.get(W + "val", "decimal")
                if (el := lvl.find(W + "lvlText")) is not None:
                    level.text = el.get(W + "val", "")
                if (el := lvl.find(W + "lvlRestart")) is not None:
                    level.restart = int(el.get(W + "val", "0"))
                levels[ilvl] = level
            numbering.abstract[abstract.get(W + "abstractNumId")] = levels
        for num in root.iter(W + "num"):
            num_id = num.get(W + "numId")
            if (el := num.find(W + "abstractNumId")) is not None:
                numbering.num_to_abstract[num_id] = el.get(W + "val")
            for override in num.iter(W + "lvlOverride"):
                start = override.find(W + "startOverride")
                if start is not None:
                    numbering.overrides.setdefault(num_id, {})[int(override.get(W + "ilvl", "0"))] = int(
                        start.get(W + "val", "1"))
    for style in document.styles.element.iter(W + "style"):
        num_pr = style.find(f"{W}pPr/{W}numPr")
        if num_pr is not None:
            num_id = num_pr.find(W + "numId")
            ilvl = num_pr.find(W + "ilvl")
            if num_id is not None:
                numbering.style_num[style.get(W + "styleId")] = (
                    num_id.get(W + "val"), int(ilvl.get(W + "val", "0")) if ilvl is not None else 0)
    return numbering


def _paragraph_number(p_element, numbering: _Numbering) -> str:
    num_pr = p_element.find(f"{W}pPr/{W}numPr")
    num_id, ilvl = None, 0
    if num_pr is not None:
        if (el := num_pr.find(W + "numId")) is not None:
            num_id = el.get(W + "val")
        if (el := num_pr.find(W + "ilvl")) is not None:
            ilvl = int(el.get(W + "val", "0"))
    if num_id is None:
        style = p_element.find(f"{W}pPr/{W}pStyle")
        if style is not None and style.get(W + "val") in numbering.style_num:
            num_id, style_ilvl = numbering.style_num[style.get(W + "val")]
            ilvl = ilvl if num_pr is not None else style_ilvl
    return numbering.label(num_id, ilvl) if num_id else ""


# Revision marks (Track Changes). A reader who accepts every change sees the inserted and
# moved-to text and not the deleted or moved-away text: ``w:del`` holds ``w:delText`` and
# ``w:moveFrom`` holds ordinary runs, so both are skipped as whole elements.
_REMOVED = {W + "del", W + "moveFrom"}
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_REVISION_TAGS = {W + name for name in ("ins", "del", "moveFrom", "moveTo", "rPrChange", "pPrChange",
                                       "sectPrChange", "tblPrChange", "trPrChange", "tcPrChange",
                                       "tblGridChange", "numberingChange", "cellIns", "cellDel")}


def has_revisions(root) -> bool:
    """Whether the document carries changes not yet accepted or rejected."""
    return any(el.tag in _REVISION_TAGS for el in root.iter())


def _paragraph_text(p_element, notes: _Notes | None = None) -> str:
    pieces = []

    def walk(node) -> None:
        for child in node:
            tag = child.tag
            if tag in _REMOVED or tag == W + "pPr" or tag == _MC_FALLBACK:
                # Deleted or moved-away text; the paragraph's own properties; the copy of a
                # text box kept for older readers beside the one read (mc:Choice).
                continue
            if tag == W + "t":
                pieces.append(child.text or "")
            elif tag in (W + "tab", W + "ptab"):
                pieces.append(" ")
            elif tag in (W + "br", W + "cr"):
                # A page break inside a paragraph is not a new paragraph.
                pieces.append(" " if child.get(W + "type") == "page" else "\n")
            elif tag == W + "noBreakHyphen":
                pieces.append("-")
            elif tag == W + "footnoteReference" and notes is not None:
                pieces.append(notes.reference(child.get(W + "id")))
            else:
                walk(child)

    walk(p_element)
    return "".join(pieces)


def _mark_removed(p_element) -> bool:
    """The paragraph mark itself was deleted or moved away: accepted, the paragraph is gone
    (its remaining text runs on into the next paragraph)."""
    rpr = p_element.find(f"{W}pPr/{W}rPr")
    return rpr is not None and any(child.tag in _REMOVED for child in rpr)


# --- footnotes -----------------------------------------------------------------------------------
# A footnote's reference is written into the text as the reader sees it, a raised number
# ("ở cơ sở¹"); the footnote's own text is kept apart (``DocxText.footnotes``), for the parser
# to attach to the part whose text carries the reference (``parser.attach_footnotes``).

_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def superscript(number: str) -> str:
    return number.translate(_SUPERSCRIPT)


def _read_footnotes(document) -> dict[str, str]:
    """The text of each footnote of ``word/footnotes.xml`` by its id (separators left out)."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.oxml import parse_xml

    try:
        part = document.part.part_related_by(RT.FOOTNOTES)
    except KeyError:
        return {}
    root = getattr(part, "element", None)
    if root is None:
        root = parse_xml(part.blob)
    found = {}
    for note in root.iterchildren(W + "footnote"):
        if note.get(W + "type") in ("separator", "continuationSeparator", "continuationNotice"):
            continue
        paragraphs = [_paragraph_text(p).strip() for p in note.iter(W + "p") if not _mark_removed(p)]
        found[note.get(W + "id")] = re.sub(r"\s+", " ", " ".join(x for x in paragraphs if x)).strip()
    return found


class _Notes:
    """Word numbers footnotes 1, 2, 3 in the order their references appear in the text."""

    def __init__(self, texts: dict[str, str]):
        self.texts = texts
        self.numbered: dict[str, str] = {}

    def reference(self, note_id: str | None) -> str:
        if note_id not in self.texts:
            return ""
        number = str(len(self.numbered) + 1)
        self.numbered[number] = self.texts[note_id]
        return superscript(number)


@dataclass
class DocxText:
    """A draft file as a reader sees it (a .docx, or another format read through one), with
    what the reader should know about the file."""

    text: str
    had_revisions: bool = False
    footnotes: dict[str, str] = field(default_factory=dict)  # number as shown -> the footnote's text


def read_docx(data: bytes) -> DocxText:
    """The paragraphs of a .docx as a reader sees them (changes accepted, list numbers
    included), as blank-line separated text; a body table as one block of "| cell | cell |"
    rows; the header (NĐ 30 Quốc hiệu, issuing body, số, date) and the signature block laid
    out as tables read as the paragraphs they hold, so that they stay out of the parts."""
    from docx import Document

    document = Document(io.BytesIO(data))
    numbering = _read_numbering(document)
    notes = _Notes(_read_footnotes(document))
    body = document.element.body
    blocks: list[str] = []
    carried = ""  # text of a paragraph whose mark was deleted, running on into the next one
    for child in _block_children(body):
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            if _mark_removed(child):
                carried += _paragraph_text(child, notes)
                continue
            text = _numbered(child, numbering, prefix=carried, notes=notes)
            carried = ""
            blocks.append(text)
        elif tag == "tbl":
            if carried.strip():
                blocks.append(carried)
            carried = ""
            blocks.append(_table_block(child, numbering, notes))
    if carried.strip():
        blocks.append(carried)
    return DocxText("\n\n".join(b for b in blocks if b.strip()), has_revisions(body), notes.numbered)


def text_from_docx(data: bytes) -> str:
    """The text of a .docx as a reader sees it (see ``read_docx``)."""
    return read_docx(data).text


def _block_children(parent):
    """The body's paragraphs and tables, in order, content controls (``w:sdt``) opened."""
    for child in parent.iterchildren():
        if child.tag == W + "sdt":
            content = child.find(W + "sdtContent")
            if content is not None:
                yield from _block_children(content)
        elif child.tag in (W + "p", W + "tbl"):
            yield child


# The NĐ 30 header: Quốc hiệu and Tiêu ngữ, or "Số: ..." beside the place and date.
_HEADER_RE = re.compile(r"CỘNG\s+HÒA\s+XÃ\s+HỘI\s+CHỦ\s+NGHĨA|Độc\s+lập\s*[-–—]\s*Tự\s+do", re.IGNORECASE)
_NUMBER_RE = re.compile(r"^\s*Số\s*:")
_DATE_RE = re.compile(r"ngày\s+[\d. ]*tháng\s+[\d. ]*năm\s+\d{4}", re.IGNORECASE)
# The signature block: "Nơi nhận:" in one cell; the authority (TM., KT., TL., TUQ., Q.), the
# office held and the signer's name in another (NĐ 30 Điều 13 and Phụ lục I).
_SIGNATURE_RE = re.compile(r"^\s*(Nơi\s+nhận\b|TM\.|KT\.|TL\.|TUQ\.|Q\.\s|CHỦ\s+TỊCH\b|PHÓ\s+CHỦ\s+TỊCH\b"
                           r"|TRƯỞNG\s+BAN\b|CHÁNH\s+VĂN\s+PHÒNG\b)")
# Layout tables have few rows; a table of data in the body has more.
_LAYOUT_ROWS = 4


def _rows(tbl, numbering: _Numbering, notes: _Notes | None = None) -> list[list[list[str]]]:
    """The table's rows (deleted rows left out), each a list of cells, each a list of its
    paragraphs' texts."""
    rows = []
    for tr in tbl.iterchildren(W + "tr"):
        trpr = tr.find(W + "trPr")
        if trpr is not None and any(child.tag in _REMOVED for child in trpr):
            continue
        cells = []
        for tc in tr.iterchildren(W + "tc"):
            cells.append([_numbered(p, numbering, notes=notes).strip() for p in tc.iter(W + "p")
                          if not _mark_removed(p)])
        rows.append(cells)
    return rows


def layout_kind(rows: list[list[list[str]]]) -> str | None:
    """'header' or 'signature' when the table only lays out the NĐ 30 header or the signature
    block; None for a table of the draft's content."""
    if not rows or len(rows) > _LAYOUT_ROWS:
        return None
    cells = [[line for line in cell if line] for row in rows for cell in row]
    text = "\n".join(line for cell in cells for line in cell)
    if _HEADER_RE.search(text) or (any(cell and _NUMBER_RE.match(cell[0]) for cell in cells)
                                   and _DATE_RE.search(text)):
        return "header"
    if any(cell and _SIGNATURE_RE.match(cell[0]) for cell in cells):
        return "signature"
    return None


def _table_block(tbl, numbering: _Numbering, notes: _Notes | None = None) -> str:
    rows = _rows(tbl, numbering, notes)
    if layout_kind(rows):
        # Read as a reader reads the page: row by row, each cell a paragraph of its lines.
        return "\n\n".join("\n".join(line for line in cell if line)
                             for row in rows for cell in row if any(cell))
    return _table_text(rows)


def _table_text(rows: list[list[list[str]]]) -> str:
    """A table kept as a table: one line a row, "| cell | cell |", in the part it stands in."""
    lines = []
    for row in rows:
        cells = [re.sub(r"\s+", " ", " ".join(cell)).strip().replace("|", "/") for cell in row]
        if any(cells):
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _numbered(p_element, numbering: _Numbering, prefix: str = "", notes: _Notes | None = None) -> str:
    text = prefix + _paragraph_text(p_element, notes)
    number = _paragraph_number(p_element, numbering)
    if number and text.strip():
        return f"{number} {text.lstrip()}"
    return text


# --- other formats -------------------------------------------------------------------------------

def read_office(data: bytes, suffix: str) -> DocxText:
    """A .doc or .odt, converted to .docx by LibreOffice headless (which renders its numbering
    and keeps its tracked changes as Word's), then read as a .docx."""
    from consult import office

    try:
        converted = office.convert([data], suffix=suffix, target="docx")[0]
    except office.OfficeUnavailable:
        raise UnreadableDraft(f"Máy chủ chưa cài LibreOffice nên chưa đọc được tệp {suffix}.") from None
    except (subprocess.SubprocessError, OSError):
        # LibreOffice writes nothing for a damaged file or one locked with a password.
        raise UnreadableDraft(f"Không đọc được tệp {suffix}: tệp bị hỏng, được đặt mật khẩu hoặc không đúng "
                              "định dạng.") from None
    return read_docx(converted)


def text_from_office(data: bytes, suffix: str) -> str:
    """The text of a .doc or .odt (see ``read_office``)."""
    return read_office(data, suffix).text


PAGE_NUMBER_RE = re.compile(r"^\s*(?:[-–—]\s*)?(?:Trang\s+)?\d{1,4}(?:\s*/\s*\d{1,4})?(?:\s*[-–—])?\s*$",
                             re.IGNORECASE)


def read_pdf(data: bytes) -> DocxText:
    """A text PDF as its reader sees it: ``pdftotext -layout`` for the text, poppler's
    ``pdftohtml -xml`` (each run of text with its font size and position) for the footnotes:
    their lines at the foot of a page are taken out of the text, and each reference, a number
    in a smaller raised font glued to a word ("cơ sở1"), is written as a raised number
    ("cơ sở¹"), the parser then attaching each footnote to the part that refers to it."""
    with tempfile.TemporaryDirectory(prefix="consult-pdf-") as tmp:
        path = Path(tmp) / "draft.pdf"
        path.write_bytes(data)
        layout = _pdftotext(path)
        notes = _pdf_footnotes(path)
        scanned = _scanned_pages(path, layout.split("\f"))
    if scanned and 2 * len(scanned) >= len([p for p in layout.split("\f") if p.strip()] or [0]):
        raise ScannedPdf(SCAN_MESSAGE)
    lines: list[str] = []
    for number, page in enumerate(layout.split("\f")):
        foot, markers = notes.foot_lines.get(number, set()), notes.markers.get(number, [])
        page = _raise_markers(page, markers)
        lines += [line for line in page.splitlines()
                  if not PAGE_NUMBER_RE.match(line) and re.sub(r"\s+", " ", line).strip() not in foot]
    # The pages as one run of lines: a table or a signature block may go on over a page break.
    joined = _unlayout(lines).strip("\n")
    if len(re.sub(r"\s", "", joined)) < 20:
        raise ScannedPdf(SCAN_MESSAGE)
    return DocxText(joined, footnotes=notes.texts)


SCAN_MESSAGE = ("Tệp PDF không có lớp chữ: các trang là ảnh chụp, bản quét (chỉ có ít chữ, như khung chữ ký số "
                "hoặc con dấu).")
# A page scanned at 100 dpi or more is an image this large; a page that carries one and less
# text than a short paragraph (a digital-signature box, a stamp's words) is a scan.
_SCAN_PIXELS = 600
_SCAN_TEXT_CHARS = 400


def _scanned_pages(path: Path, pages: list[str]) -> set[int]:
    """The pages (from 0) that are images of a page, from ``pdfimages -list``."""
    tool = shutil.which("pdfimages")
    if tool is None:
        return set()
    try:
        listing = subprocess.run([tool, "-list", str(path)], capture_output=True, timeout=60,
                                 check=True).stdout.decode("ascii", "replace")
    except (subprocess.SubprocessError, OSError):
        return set()
    scanned = set()
    for line in listing.splitlines()[2:]:
        fields = line.split()
        if len(fields) > 4 and fields[0].isdigit() and fields[3].isdigit() and fields[4].isdigit():
            index = int(fields[0]) - 1
            large = min(int(fields[3]), int(fields[4])) >= _SCAN_PIXELS
            text = pages[index] if 0 <= index < len(pages) else ""
            if large and len(re.sub(r"\s", "", text)) < _SCAN_TEXT_CHARS:
                scanned.add(index)
    return scanned


def text_from_pdf(data: bytes) -> str:
    """The text of a text PDF (see ``read_pdf``): page numbers dropped, pages joined so that a
    sentence cut by a page break is mended by the parser. A scan is refused."""
    return read_pdf(data).text


def _pdftotext(path: Path) -> str:
    tool = shutil.which("pdftotext")
    if tool is None:
        raise UnreadableDraft("Máy chủ chưa cài pdftotext (poppler-utils) nên chưa đọc được tệp PDF.")
    try:
        result = subprocess.run([tool, "-layout", "-enc", "UTF-8", str(path), "-"], capture_output=True,
                                timeout=120, check=True)
    except subprocess.CalledProcessError as exc:
        if b"password" in (exc.stderr or b"").lower():
            raise UnreadableDraft(
                "Tệp PDF được đặt mật khẩu (mã hóa) nên không đọc được. Hãy tải lên bản PDF không đặt mật "
                "khẩu, hoặc tệp Word của dự thảo.") from None
        raise UnreadableDraft("Không đọc được tệp PDF: tệp bị hỏng.") from None
    except (subprocess.SubprocessError, OSError):
        raise UnreadableDraft("Không đọc được tệp PDF: tệp bị hỏng.") from None
    return result.stdout.decode("utf-8", errors="replace")


@dataclass
class _Run:
    """A run of text on a PDF page, as ``pdftohtml -xml`` gives it (pixels from the top left)."""

    top: int
    left: int
    width: int
    height: int
    size: float
    text: str


@dataclass
class _PdfNotes:
    texts: dict[str, str] = field(default_factory=dict)  # number -> footnote text
    foot_lines: dict[int, set[str]] = field(default_factory=dict)  # page index -> its footnote lines
    markers: dict[int, list[tuple[str, str]]] = field(default_factory=dict)  # page -> (words before, number)
    height: dict[int, int] = field(default_factory=dict)


_SMALLER = 0.92  # a footnote's font against the body's
_MARKER_SIZE = 0.8  # a reference's raised number against the body's
_NOTE_START_RE = re.compile(r"^(\d{1,3})\s*(\S.*)$")


def _pdf_runs(path: Path) -> tuple[list[list[_Run]], list[int]]:
    """The runs of text of each page, and each page's height; nothing when the tool is missing."""
    import xml.etree.ElementTree as ET

    tool = shutil.which("pdftohtml")
    if tool is None:
        return [], []
    try:
        result = subprocess.run([tool, "-xml", "-i", "-q", "-stdout", "-enc", "UTF-8", str(path)],
                                capture_output=True, timeout=120, check=True)
        root = ET.fromstring(result.stdout)
    except (subprocess.SubprocessError, OSError, ET.ParseError):
        return [], []
    sizes: dict[str, float] = {}
    pages, heights = [], []
    for page in root.iter("page"):
        for spec in page.iter("fontspec"):
            sizes[spec.get("id")] = float(spec.get("size", "0"))
        runs = []
        for el in page.iter("text"):
            text = "".join(el.itertext())
            if text.strip():
                runs.append(_Run(int(el.get("top", 0)), int(el.get("left", 0)), int(el.get("width", 0)),
                                 int(el.get("height", 0)), sizes.get(el.get("font"), 0.0), text))
        pages.append(runs)
        heights.append(int(page.get("height", 0)))
    return pages, heights


def _lines(runs: list[_Run]) -> list[list[_Run]]:
    """Runs grouped into the lines they stand on, top to bottom, left to right."""
    lines: list[list[_Run]] = []
    for run in sorted(runs, key=lambda r: (r.top, r.left)):
        if lines and abs(run.top - lines[-1][0].top) <= 3:
            lines[-1].append(run)
        else:
            lines.append([run])
    return [sorted(line, key=lambda r: r.left) for line in lines]


def _pdf_footnotes(path: Path) -> _PdfNotes:
    """The footnotes of a text PDF: a reference is a number in a smaller font raised against
    the body's run it is glued to; a footnote is a line in the lower half of the page, in a
    smaller font, starting with the number of a reference made on that page (or before, for a
    note carried over), its following lines up to the next such line or the page's end."""
    pages, heights = _pdf_runs(path)
    notes = _PdfNotes()
    weights: dict[float, int] = {}
    for runs in pages:
        for run in runs:
            weights[run.size] = weights.get(run.size, 0) + len(run.text.strip())
    if not weights:
        return notes
    body = max(weights, key=weights.get)
    expected: list[str] = []
    for index, runs in enumerate(pages):
        for run in runs:
            number = run.text.strip()
            if not (number.isdigit() and len(number) <= 3 and run.size <= body * _MARKER_SIZE):
                continue
            before = [r for r in runs if r.size >= body * _SMALLER and abs(r.left + r.width - run.left) <= 4
                      and r.top - 2 <= run.top <= r.top + r.height / 2]
            if before:
                words = before[0].text.split()[-3:]
                if words:
                    notes.markers.setdefault(index, []).append((" ".join(words), number))
                    expected.append(number)
        current: str | None = None
        for line in _lines(runs):
            text = re.sub(r"\s+", " ", "".join(r.text for r in line)).strip()
            letters = [r for r in line if not r.text.strip().isdigit()]
            size = max((r.size for r in letters), default=body)
            start = _NOTE_START_RE.match(text)
            low = heights[index] and line[0].top > heights[index] / 2
            if low and size < body * _SMALLER and start and start.group(1) in expected \
                    and start.group(1) not in notes.texts:
                current = start.group(1)
                notes.texts[current] = start.group(2)
            elif current is not None and size < body * _SMALLER and not text.isdigit():
                notes.texts[current] += " " + text
            else:
                if current is not None and size >= body * _SMALLER:
                    current = None
                continue
            notes.foot_lines.setdefault(index, set()).add(text)
    # A reference whose footnote was not found is left as it was printed.
    for index in list(notes.markers):
        notes.markers[index] = [(w, n) for w, n in notes.markers[index] if n in notes.texts]
    return notes


def _raise_markers(page: str, markers: list[tuple[str, str]]) -> str:
    """Each reference glued to its words ("cơ sở1", "cơ sở 1") written as a raised number."""
    position = 0
    for words, number in markers:
        pattern = r"\s+".join(map(re.escape, words.split())) + r"\s?" + number + r"(?!\d)"
        match = re.compile(pattern).search(page, position)
        if match is None:
            continue
        replaced = match.group()[:-len(number)].rstrip() + superscript(number)
        page = page[:match.start()] + replaced + page[match.end():]
        position = match.start() + len(replaced)
    return page


_GAP_RE = re.compile(r"\S(?:\S| (?! ))*")  # a run of text, single spaces inside, 2+ spaces end it
_TABLE_COLUMNS = 3  # two columns side by side are the header or the signature block, not data
_ALIGN = 2  # characters a column's start may move from row to row


def _segments(line: str) -> list[tuple[int, str]]:
    """(column, text) of each run of text of a layout line."""
    return [(m.start(), m.group()) for m in _GAP_RE.finditer(line)]


def _unlayout(lines: list[str]) -> str:
    """Layout lines to paragraphs: indentation dropped; a blank line separates paragraphs. A
    table of the draft (rows of three or more columns that line up) becomes "| cell | cell |"
    rows, as a table in a .docx does; a line holding only some of the columns continues the
    cells of the row above (a cell wrapped onto two lines), unless it holds the first alone."""
    lines = _signature_columns(lines)
    out: list[str] = []
    columns: list[int] | None = None
    rows: list[list[str]] = []

    def flush() -> None:
        nonlocal columns, rows
        if rows:
            out.extend("| " + " | ".join(cell.strip() for cell in row) + " |" for row in rows)
        columns, rows = None, []

    for n, line in enumerate(lines):
        segments = _segments(line)
        starts = [start for start, _ in segments]
        if columns is None and len(segments) >= _TABLE_COLUMNS:
            following = _segments(lines[n + 1]) if n + 1 < len(lines) else []
            if len(following) == len(segments) and _aligned([x for x, _ in following], starts):
                columns, rows = starts, []
        if columns is not None:
            if len(segments) == len(columns) and _aligned(starts, columns):
                rows.append([text.replace("|", "/") for _, text in segments])
                continue
            slots = [_slot(start, columns) for start in starts]
            # Text alone in the first column is the paragraph after the table, not a wrapped cell.
            if (segments and rows and None not in slots and len(set(slots)) == len(slots)
                    and slots != [0]):
                for slot, (_, text) in zip(slots, segments):
                    rows[-1][slot] += " " + text.replace("|", "/")
                continue
            flush()
        out.append(line.strip())
    flush()
    return "\n".join(out)


def _signature_columns(lines: list[str]) -> list[str]:
    """The signature block printed in two columns (Nơi nhận on the left; TM., CHỦ TỊCH and the
    name on the right) read column by column, as in a .docx's signature table: the left
    column's lines, a blank line, the right column's."""
    out: list[str] = []
    n = 0
    while n < len(lines):
        segments = _segments(lines[n])
        if len(segments) != 2 or not (_SIGNATURE_RE.match(segments[0][1]) or _SIGNATURE_RE.match(segments[1][1])):
            out.append(lines[n])
            n += 1
            continue
        split = segments[1][0]
        left: list[str] = []
        right: list[str] = []
        while n < len(lines):
            segments = _segments(lines[n])
            if not segments:
                left.append("")
                right.append("")
            elif len(segments) == 2 and segments[0][0] + len(segments[0][1]) < split:
                # The right column's text may start left of its column: the name centred under
                # a shorter line, pulled left by the layout.
                left.append(segments[0][1])
                right.append(segments[1][1])
            elif len(segments) == 1 and segments[0][0] >= split - 4:
                right.append(segments[0][1])
            elif len(segments) == 1 and segments[0][0] + len(segments[0][1]) < split:
                left.append(segments[0][1])
            else:
                break
            n += 1
        out.extend(_squeeze(left) + [""] + _squeeze(right) + [""])
    return out


def _squeeze(lines: list[str]) -> list[str]:
    """Lines without the blank ones at either end or doubled inside."""
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    while kept and not kept[-1]:
        kept.pop()
    return kept


def _aligned(starts: list[int], columns: list[int]) -> bool:
    return len(starts) == len(columns) and all(abs(a - b) <= _ALIGN for a, b in zip(starts, columns))


def _slot(start: int, columns: list[int]) -> int | None:
    for index, column in enumerate(columns):
        if abs(start - column) <= _ALIGN:
            return index
    return None
