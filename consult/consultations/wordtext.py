"""The text a reader sees in a Word draft, and drafts in other formats.

Word keeps the numbers of its own list numbering (the "Numbering" button:
``w:numPr`` on a paragraph or on its style) out of the text: they are computed
from ``word/numbering.xml`` when the page is drawn. ``text_from_docx`` computes
them the same way (levels, formats, start values, restarts of lower levels,
``lvlOverride/startOverride`` of a list instance) and writes each in front of
its paragraph, so that "Điều 1.", "1." and "a)" reach the parser as the reader
sees them.

Other formats go through tools that render them as a reader would see them:
.doc and .odt through LibreOffice headless (converted to .docx), text PDFs
through poppler's ``pdftotext -layout``; a PDF with no text layer (a scan) is
refused with a message rather than read as an empty draft.
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


def _paragraph_text(p_element) -> str:
    pieces = []
    for node in p_element.iter():
        tag = node.tag
        if tag == W + "t":
            pieces.append(node.text or "")
        elif tag == W + "tab":
            pieces.append(" ")
        elif tag in (W + "br", W + "cr"):
            # A page break inside a paragraph is not a new paragraph.
            pieces.append(" " if node.get(W + "type") == "page" else "\n")
    return "".join(pieces)


def text_from_docx(data: bytes) -> str:
    """The paragraphs of a .docx as a reader sees them, list numbers included, as
    blank-line separated text; a table as one block of "| cell | cell |" rows."""
    from docx import Document

    document = Document(io.BytesIO(data))
    numbering = _read_numbering(document)
    blocks = []
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            blocks.append(_numbered(child, numbering))
        elif tag == "tbl":
            blocks.append(_table_text(child, numbering))
    return "\n\n".join(b for b in blocks if b.strip())


def _table_text(tbl, numbering: _Numbering) -> str:
    """A table kept as a table: one line a row, "| cell | cell |", in the part it stands in."""
    rows = []
    for tr in tbl.iterchildren(W + "tr"):
        cells = []
        for tc in tr.iterchildren(W + "tc"):
            text = " ".join(_numbered(p, numbering).strip() for p in tc.iter(W + "p"))
            cells.append(re.sub(r"\s+", " ", text).strip().replace("|", "/"))
        if any(cells):
            rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _numbered(p_element, numbering: _Numbering) -> str:
    text = _paragraph_text(p_element)
    number = _paragraph_number(p_element, numbering)
    if number and text.strip():
        return f"{number} {text.lstrip()}"
    return text


# --- other formats -------------------------------------------------------------------------------

def text_from_office(data: bytes, suffix: str) -> str:
    """A .doc or .odt, converted to .docx by LibreOffice headless (which renders its numbering)."""
    from consult import office

    try:
        converted = office.convert([data], suffix=suffix, target="docx")[0]
    except office.OfficeUnavailable as exc:
        raise UnreadableDraft(str(exc)) from None
    except (subprocess.SubprocessError, OSError, FileNotFoundError):
        raise UnreadableDraft(f"Không đọc được tệp {suffix}: tệp bị hỏng hoặc không đúng định dạng.") from None
    return text_from_docx(converted)


_PAGE_NUMBER_RE = re.compile(r"^\s*(?:[-–—]\s*)?(?:Trang\s+)?\d{1,4}(?:\s*/\s*\d{1,4})?(?:\s*[-–—])?\s*$",
                             re.IGNORECASE)


def text_from_pdf(data: bytes) -> str:
    """A text PDF through ``pdftotext -layout``: page numbers dropped, pages joined so that
    a sentence cut by a page break is mended by the parser. A scan is refused."""
    tool = shutil.which("pdftotext")
    if tool is None:
        raise UnreadableDraft("Máy chủ chưa cài pdftotext (poppler-utils) nên chưa đọc được tệp PDF.")
    with tempfile.TemporaryDirectory(prefix="consult-pdf-") as tmp:
        path = Path(tmp) / "draft.pdf"
        path.write_bytes(data)
        try:
            result = subprocess.run([tool, "-layout", "-enc", "UTF-8", str(path), "-"], capture_output=True,
                                    timeout=120, check=True)
        except (subprocess.SubprocessError, OSError):
            raise UnreadableDraft("Không đọc được tệp PDF: tệp bị hỏng hoặc được bảo vệ.") from None
    text = result.stdout.decode("utf-8", errors="replace")
    pages = []
    for page in text.split("\f"):
        lines = [line for line in page.splitlines() if not _PAGE_NUMBER_RE.match(line)]
        pages.append(_unlayout(lines))
    joined = "\n".join(p for p in pages if p.strip())
    if len(re.sub(r"\s", "", joined)) < 20:
        raise UnreadableDraft("Tệp PDF không có lớp chữ (có thể là bản chụp, bản quét): hãy tải lên tệp Word, "
                              "hoặc bản PDF xuất trực tiếp từ Word.")
    return joined


def _unlayout(lines: list[str]) -> str:
    """Layout lines to paragraphs: indentation dropped; a blank line separates paragraphs."""
    out = []
    for line in lines:
        out.append(line.strip())
    return "\n".join(out)
