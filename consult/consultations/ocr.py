"""Scanned drafts read by OCR.

Signed drafts often reach a ward only as scans: PDF pages that are pictures of pages (told by
``wordtext.scanned_pages``). Such a file is read by Debian's ``tesseract-ocr`` with its
Vietnamese data (``tesseract-ocr-vie``), through ``pytesseract``, one page at a time:

- each page is rendered by poppler (``pdftoppm``, grey) at the resolution of its scan, kept
  between 150 and 300 dpi: rendering a 150-dpi scan at 300 dpi doubles tesseract's time and
  gains no letter (measured on a seed page: 99.7 % of characters right either way);
- tesseract reads it with its page segmentation (``--psm 3``: the NĐ 30 header's two columns
  are two blocks) and gives every word with its confidence (its TSV output);
- the lines are written as the page shows them, blank lines between paragraphs, page numbers
  left out, so that the draft parser reads them as it reads a text PDF.

The words keep their page and confidence. ``locate`` follows each part of the parsed draft
through them, so the check page can say on which page a part stands and how sure the reading
is, and list the parts read with low confidence among what the officer checks before
publishing. A long scan is read in a background job (``consultations.jobs``) that reports its
progress page by page; ``flask --app consult parse-draft`` reads it in the foreground.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from consult.consultations.parser import POINT_LETTERS, ParsedDraft
from consult.consultations.wordtext import PAGE_NUMBER_RE, UnreadableDraft

LANGUAGE = "vie"
MIN_DPI, MAX_DPI = 150, 300
PAGE_TIMEOUT = 180  # seconds for tesseract on one page
MAX_PAGES = 100
# A part read with a mean word confidence below this is listed among what to check.
LOW_CONFIDENCE = 80.0
_LOOK_AHEAD = 40  # OCR words searched for each word of a part (the headings' "Điều 1." between)


@dataclass(frozen=True)
class Word:
    text: str
    page: int  # from 1
    confidence: float  # tesseract's, 0 to 100


@dataclass
class ScanText:
    """A scan as OCR read it: its text, and every word with its page and confidence."""

    text: str
    pages: int
    words: list[Word] = field(default_factory=list)

    @property
    def confidence(self) -> float | None:
        """The mean confidence of the words read, 0 to 100."""
        return round(sum(w.confidence for w in self.words) / len(self.words), 1) if self.words else None


def available() -> str | None:
    """Why scans cannot be read on this server, or None when they can."""
    if shutil.which("tesseract") is None or shutil.which("pdftoppm") is None:
        return ("Máy chủ chưa cài bộ nhận dạng chữ (tesseract-ocr, tesseract-ocr-vie) nên chưa đọc được bản quét. "
                "Hãy tải lên tệp Word, hoặc bản PDF xuất trực tiếp từ Word.")
    try:
        import pytesseract

        if LANGUAGE not in pytesseract.get_languages(config=""):
            return ("Máy chủ chưa cài dữ liệu tiếng Việt của bộ nhận dạng chữ (tesseract-ocr-vie) nên chưa đọc "
                    "được bản quét. Hãy tải lên tệp Word, hoặc bản PDF xuất trực tiếp từ Word.")
    except Exception:  # noqa: BLE001 - the tool is there but does not answer
        return "Bộ nhận dạng chữ của máy chủ không chạy được; hãy báo quản trị viên."
    return None


def page_count(data: bytes) -> int:
    """The number of pages of a PDF, from poppler's ``pdfinfo``."""
    with tempfile.TemporaryDirectory(prefix="consult-ocr-") as tmp:
        path = Path(tmp) / "scan.pdf"
        path.write_bytes(data)
        return _page_count(path)


def _page_count(path: Path) -> int:
    try:
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, timeout=60, check=True).stdout
    except (subprocess.SubprocessError, OSError):
        raise UnreadableDraft("Không đọc được tệp PDF: tệp bị hỏng.") from None
    match = re.search(rb"^Pages:\s+(\d+)", info, re.MULTILINE)
    return int(match.group(1)) if match else 0


def _scan_dpi(path: Path) -> dict[int, int]:
    """Each page's scan resolution (from 1), from ``pdfimages -list``: its largest image's."""
    try:
        listing = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, timeout=60,
                                 check=True).stdout.decode("ascii", "replace")
    except (subprocess.SubprocessError, OSError):
        return {}
    dpi: dict[int, tuple[int, int]] = {}
    for line in listing.splitlines()[2:]:
        fields = line.split()
        if len(fields) > 13 and fields[0].isdigit() and fields[3].isdigit() and fields[4].isdigit():
            try:
                ppi = round(float(fields[12]))
            except ValueError:
                continue
            pixels = int(fields[3]) * int(fields[4])
            page = int(fields[0])
            if pixels > dpi.get(page, (0, 0))[0]:
                dpi[page] = (pixels, ppi)
    return {page: ppi for page, (_, ppi) in dpi.items()}


def read_scan(data: bytes, progress: Callable[[int, int], None] | None = None) -> ScanText:
    """Read a scanned PDF page by page; ``progress(pages read, pages)`` after each page."""
    import pytesseract
    from PIL import Image

    why = available()
    if why:
        raise UnreadableDraft(why)
    with tempfile.TemporaryDirectory(prefix="consult-ocr-") as tmp:
        folder = Path(tmp)
        path = folder / "scan.pdf"
        path.write_bytes(data)
        pages = _page_count(path)
        if pages > MAX_PAGES:
            raise UnreadableDraft(f"Bản quét có {pages} trang, quá {MAX_PAGES} trang đọc được một lần. Hãy tách tệp, "
                                  "hoặc tải lên tệp Word của dự thảo.")
        resolutions = _scan_dpi(path)
        lines: list[str] = []
        words: list[Word] = []
        if progress:
            progress(0, pages)
        for page in range(1, pages + 1):
            dpi = min(MAX_DPI, max(MIN_DPI, resolutions.get(page, MAX_DPI)))
            image = folder / f"page-{page}"
            try:
                subprocess.run(["pdftoppm", "-f", str(page), "-l", str(page), "-r", str(dpi), "-gray", "-png",
                                "-singlefile", str(path), str(image)], capture_output=True, timeout=120, check=True)
                with Image.open(f"{image}.png") as picture:
                    table = pytesseract.image_to_data(picture, lang=LANGUAGE, config="--psm 3",
                                                      output_type=pytesseract.Output.DICT, timeout=PAGE_TIMEOUT)
            except (subprocess.SubprocessError, OSError, RuntimeError):
                raise UnreadableDraft(f"Không đọc được trang {page} của bản quét.") from None
            finally:
                Path(f"{image}.png").unlink(missing_ok=True)
            page_lines, page_words = _page_text(table, page)
            if lines and page_lines:
                lines.append("")
            lines += page_lines
            words += page_words
            if progress:
                progress(page, pages)
    text = "\n".join(mend_markers(lines)).strip("\n")
    if len(re.sub(r"[\W\d_]", "", text)) < 20:
        raise UnreadableDraft("Không nhận ra chữ tiếng Việt nào trên các trang quét (ảnh mờ, trang trắng hoặc "
                              "không phải văn bản). Hãy quét lại rõ hơn (200–300 dpi), hoặc tải lên tệp Word.")
    return ScanText(text, pages, words)


def _page_text(table: dict, page: int) -> tuple[list[str], list[Word]]:
    """The lines of one page (blank lines between paragraphs, page numbers left out) and its
    words in the same order, from tesseract's TSV."""
    rows: dict[tuple[int, int, int], list[tuple[str, float]]] = {}
    for i, word in enumerate(table["text"]):
        word = unicodedata.normalize("NFC", (word or "").strip())
        confidence = float(table["conf"][i])
        if not word or confidence < 0:
            continue
        rows.setdefault((table["block_num"][i], table["par_num"][i], table["line_num"][i]), []).append(
            (word, confidence))
    lines: list[str] = []
    words: list[Word] = []
    paragraph = None
    for (block, par, _), row in rows.items():
        line = " ".join(word for word, _ in row)
        if PAGE_NUMBER_RE.match(line):
            continue
        if paragraph is not None and paragraph != (block, par):
            lines.append("")
        paragraph = (block, par)
        lines.append(line)
        words += [Word(word, page, confidence) for word, confidence in row]
    return lines, words


# OCR's usual slips on the markers the parser goes by: "5," or "5:" for "5." at the head of a
# clause, and "đ)" for "d)" (or the other way round) where the sequence of points asks for the
# other letter. Only a marker at the start of a line is mended, and only into the one the
# sequence expects, so a line the draft really numbers "đ)" after "d)" stays as it is.
_CLAUSE_SLIP_RE = re.compile(r"^(\d{1,3})[,:](\s+[A-ZĐÀ-Ỹ])")
_ARTICLE_SLIP_RE = re.compile(r"^((?:Điều|ĐIỀU)\s+\d{1,3})[,:](\s)")
_RESET_RE = re.compile(r"^(?:(?:Điều|ĐIỀU)\s+\d|\d{1,3}\.\s|(?:Chương|CHƯƠNG|Mục|MỤC)\s)")
_POINT_HEAD_RE = re.compile(r"^([a-zđ])\)(\s)")


def mend_markers(lines: list[str]) -> list[str]:
    mended: list[str] = []
    last_point: str | None = None
    for line in lines:
        line = _ARTICLE_SLIP_RE.sub(r"\1.\2", _CLAUSE_SLIP_RE.sub(r"\1.\2", line))
        if _RESET_RE.match(line):
            last_point = None
        elif match := _POINT_HEAD_RE.match(line):
            letter = match.group(1)
            index = POINT_LETTERS.index(last_point) + 1 if last_point in POINT_LETTERS else 0
            expected = POINT_LETTERS[index] if index < len(POINT_LETTERS) else None
            if expected and letter != expected and {letter, expected} == {"d", "đ"}:
                line = expected + line[1:]
                letter = expected
            last_point = letter
        mended.append(line)
    return mended


def _key(word: str) -> str:
    return re.sub(r"[^\w]", "", word.casefold())


def locate(parsed: ParsedDraft, scan: ScanText) -> None:
    """Give each part the page it starts on and the mean confidence of its words, by following
    its title and text through the words OCR read, in order."""
    keys = [_key(w.text) for w in scan.words]
    cursor = 0
    for node in parsed.walk():
        matched: list[Word] = []
        for token in f"{node.title} {node.text}".split():
            token = _key(token)
            if not token:
                continue
            for index in range(cursor, min(cursor + _LOOK_AHEAD, len(keys))):
                if keys[index] == token:
                    matched.append(scan.words[index])
                    cursor = index + 1
                    break
        if matched:
            node.page = matched[0].page
            node.confidence = round(sum(w.confidence for w in matched) / len(matched), 1)
        elif cursor < len(scan.words):
            node.page = scan.words[cursor].page
