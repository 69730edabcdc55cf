"""Parse a Vietnamese draft (dự thảo) into its parts.

Input is the text as drafts arrive: often a cover letter (công văn, tờ trình)
and then the draft, pasted from a word processor or PDF, where a page break
can cut a sentence in two and markdown emphasis may have crept in.

Output: the preamble (everything before the first part: cover letter, "Căn cứ
..." lines, "QUYẾT NGHỊ:"), the tree of parts, and the closing text (the
"./." formula when it is not an article's own text, "Nơi nhận:", signature).

Parts, outermost first:
- chapter  "Chương I", title on the same or the next line
- section  "Mục 1" (inside a chapter) or a Roman-numeral section "I." / "II."
           as plans and reports use them (cited as "mục II")
- article  "Điều 1. Title"
- clause   "1." (khoản)
- point    "a)" ... "đ)" ... (điểm), in the Vietnamese alphabet's order

Numbers must follow on from the previous sibling (1, 2, 3; a, b, c, d, đ, e;
I, II, III); a line that starts like a marker but breaks the sequence is text,
which keeps a wrapped "2015;" or a quoted "1." from becoming a part. Bullet
lines ("- ", "+ ") stay in their part's text.

A footnote's reference stays in the text as the reader sees it, a raised number ("cơ sở¹");
``attach_footnotes`` then gives each footnote (read apart from the text by the file's reader,
``consult.consultations.reader``) to the part whose text carries its reference.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from consult.errors import DomainError

KIND_ORDER = {"annex": 0, "chapter": 1, "section": 2, "article": 3, "clause": 4, "point": 5}
POINT_LETTERS = list("abcdđeghiklmnopqrstuvxy")
ROMANS = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV",
          "XV", "XVI", "XVII", "XVIII", "XIX", "XX"]

_CHAPTER_RE = re.compile(r"^Chương\s+([IVXLC]+|\d+)\b\.?\s*[:.\-–]?\s*(.*)$", re.IGNORECASE)
_MUC_RE = re.compile(r"^Mục\s+(\d+|[IVXLC]+)\b\.?\s*[:.\-–]?\s*(.*)$")
# "Điều 1.", "ĐIỀU 1.", "Điều 1:", "Điều 1 -", "Điều 3a.", or "Điều 1" alone with its title on the next line.
_ARTICLE_RE = re.compile(r"^(?:Điều|ĐIỀU)\s+(\d+[a-zđ]?)\s*(?:[.:\-–—]\s*(.*)|$)")
_ROMAN_RE = re.compile(r"^([IVX]{1,5})\.\s+(\S.*)$")
# Clauses "1." "1)" "1/"; points "a)" "a." "a/" "(a)".
_CLAUSE_RE = re.compile(r"^(\d{1,3})[.)/]\s+(\S.*)$")
_POINT_RE = re.compile(r"^(?:\(([a-zđ])\)|([a-zđ])[).\/])\s+(\S.*)$")
# Bullets and table rows ("| cell | cell |") keep their own lines.
_BULLET_RE = re.compile(r"^(?:[-–+•]\s+\S|\|)")
_RESOLVE_RE = re.compile(r"^(QUYẾT\s+NGHỊ|QUYẾT\s+ĐỊNH)\s*:?\s*$")
_CLOSING_RE = re.compile(
    r"^(Nơi\s+nhận\s*:?|TM\.\s|KT\.\s|TL\.\s|Q\.\s|CHỦ\s+TỊCH$|PHÓ\s+CHỦ\s+TỊCH$|TRƯỞNG\s+BAN$)")
_END_MARK_RE = re.compile(r"\./\.\s*$")


class DraftParseError(DomainError):
    """No part could be found; the message is for the officer."""


@dataclass
class Node:
    kind: str
    number: str
    title: str = ""
    text: str = ""
    children: list["Node"] = field(default_factory=list)
    label: str = ""
    anchor: str = ""
    # The footnotes whose references ("¹") stand in this part's title or text, in order:
    # {"number": "1", "text": "..."}.
    footnotes: list[dict] = field(default_factory=list)
    # Read from a scan by OCR: the page the part starts on (from 1) and the mean confidence of
    # its words (0 to 100); None otherwise.
    page: int | None = None
    confidence: float | None = None

    def to_dict(self) -> dict:
        read = {"page": self.page, "confidence": self.confidence} if self.page is not None else {}
        return {
            "kind": self.kind,
            "number": self.number,
            "label": self.label,
            "anchor": self.anchor,
            "title": self.title,
            "text": self.text,
            "footnotes": list(self.footnotes),
            **read,
            "children": [c.to_dict() for c in self.children],
        }

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass
class ParsedDraft:
    preamble: str
    parts: list[Node]
    closing: str

    def to_dict(self) -> dict:
        return {"preamble": self.preamble, "closing": self.closing, "parts": [p.to_dict() for p in self.parts]}

    def walk(self):
        for part in self.parts:
            yield from part.walk()


# --- text clean-up -----------------------------------------------------------

def strip_markdown(text: str) -> str:
    """Remove **bold**, __bold__, *italic* markers and leading '#' headings."""
    text = re.sub(r"^\s{0,3}#{1,6}\s*", "", text)
    text = text.replace("**", "").replace("__", "")
    text = re.sub(r"(?<![\w*])\*(?=\S)|(?<=\S)\*(?![\w*])", "", text)
    return text


def _clean_line(line: str) -> str:
    line = unicodedata.normalize("NFC", line.replace("\u00a0", " ").replace("\t", " "))
    return re.sub(r"[ ]{2,}", " ", strip_markdown(line).strip())


def _starts_lower(text: str) -> bool:
    return bool(text) and text[0].islower()


def paragraphs_from_text(text: str) -> list[list[str]]:
    """Blank-line separated paragraphs, each a list of cleaned lines."""
    paragraphs, current = [], []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n").split("\n"):
        line = _clean_line(raw)
        if not line:
            if current:
                paragraphs.append(current)
                current = []
            continue
        current.append(line)
    if current:
        paragraphs.append(current)
    return paragraphs


# --- markers -------------------------------------------------------------------

@dataclass
class _Marker:
    kind: str
    number: str
    rest: str


def _match_marker(line: str) -> _Marker | None:
    if m := _CHAPTER_RE.match(line):
        return _Marker("chapter", m.group(1).upper(), m.group(2).strip())
    if m := _MUC_RE.match(line):
        return _Marker("section", m.group(1).upper(), m.group(2).strip())
    if m := _ARTICLE_RE.match(line):
        return _Marker("article", m.group(1), (m.group(2) or "").strip())
    if m := _ROMAN_RE.match(line):
        return _Marker("roman", m.group(1), m.group(2).strip())
    if m := _CLAUSE_RE.match(line):
        return _Marker("clause", m.group(1), m.group(2).strip())
    if m := _POINT_RE.match(line):
        return _Marker("point", m.group(1) or m.group(2), m.group(3).strip())
    return None


def _next_in_sequence(kind: str, previous: str | None) -> set[str]:
    if kind in ("chapter", "section") and previous is None:
        return {"I", "1"}
    if kind == "article" and previous is not None:
        # An article inserted by an amendment: "Điều 3a" after "Điều 3", "Điều 3b" after "Điều 3a".
        m = re.fullmatch(r"(\d+)([a-zđ]?)", previous)
        if m:
            base, letter = int(m.group(1)), m.group(2)
            following = _next_letters(letter) if letter else {"a"}
            return {str(base + 1)} | {f"{base}{x}" for x in following}
        return set()
    if kind in ("clause", "article") or (kind in ("chapter", "section") and previous.isdigit()):
        if previous is None:
            return {"1"}
        return {str(int(previous) + 1)} if previous.isdigit() else set()
    if kind == "point":
        if previous is None:
            return {"a"}
        return _next_letters(previous)
    # Roman numerals: chapters, Roman sections, Mục written in Roman.
    if previous is None:
        return {"I", "1"}
    if previous in ROMANS and ROMANS.index(previous) + 1 < len(ROMANS):
        return {ROMANS[ROMANS.index(previous) + 1]}
    return set()


def _next_letters(previous: str) -> set[str]:
    """The point after ``previous``: in the Vietnamese alphabet (a b c d đ e g ...), or in
    the Latin one that Word's own list numbering uses (a b c d e f ...)."""
    following = set()
    if previous in POINT_LETTERS and POINT_LETTERS.index(previous) + 1 < len(POINT_LETTERS):
        following.add(POINT_LETTERS[POINT_LETTERS.index(previous) + 1])
    if previous.isascii() and previous < "z":
        following.add(chr(ord(previous) + 1))
    return following


# --- the tree builder -------------------------------------------------------------

class _Builder:
    def __init__(self):
        self.root = Node("root", "")
        self.stack: list[Node] = [self.root]
        # Last child number of each kind under each container (by id).
        self.last_number: dict[tuple[int, str], str] = {}
        self.last_article: str | None = None  # articles number through the whole document
        self.current: Node | None = None  # the node receiving text
        self.heading_pending: Node | None = None  # chapter/section waiting for its title line

    def _container_for(self, kind: str) -> Node | None:
        """The open node a new part of ``kind`` would go under, or None."""
        level = KIND_ORDER[kind]
        for node in reversed(self.stack):
            if node.kind == "root" or KIND_ORDER[node.kind] < level:
                if kind == "point" and node.kind not in ("clause", "article", "section"):
                    return None
                if kind == "clause" and node.kind not in ("article", "section", "root"):
                    return None
                return node
        return self.root

    def accepts(self, marker: _Marker) -> bool:
        kind = "section" if marker.kind == "roman" else marker.kind
        if marker.kind == "roman":
            # A Roman section is a top-level division; not inside articles.
            if any(n.kind == "article" for n in self.stack):
                return False
        if kind == "article":
            return marker.number in _next_in_sequence("article", self.last_article)
        container = self._container_for(kind)
        if container is None:
            return False
        previous = self.last_number.get((id(container), kind))
        return marker.number in _next_in_sequence(kind, previous)

    def open(self, marker: _Marker) -> Node:
        kind = "section" if marker.kind == "roman" else marker.kind
        container = self._container_for(kind) if kind != "article" else self._article_container()
        while self.stack[-1] is not container:
            self.stack.pop()
        node = Node(kind, marker.number)
        if kind in ("chapter", "section", "article"):
            node.title = marker.rest
            if not marker.rest:
                self.heading_pending = node
        else:
            node.text = marker.rest
        if kind == "article":
            self.last_article = marker.number
        self.last_number[(id(container), kind)] = marker.number
        container.children.append(node)
        self.stack.append(node)
        self.current = node
        return node

    def _article_container(self) -> Node:
        for node in reversed(self.stack):
            if node.kind in ("root", "chapter", "section"):
                return node
        return self.root

    def add_text(self, text: str, *, new_paragraph: bool) -> None:
        node = self.current
        if node is None:
            return
        if self.heading_pending is node and not node.title:
            node.title = text
            self.heading_pending = None
            return
        field_name = "text"
        # A heading wrapped onto a line starting in lower case is still the title.
        if (node.kind in ("chapter", "section", "article") and not node.text and not new_paragraph
                and _starts_lower(text)):
            field_name = "title"
        elif node.kind in ("chapter", "section", "article") and not node.text:
            new_paragraph = True
        value = getattr(node, field_name)
        if not value:
            setattr(node, field_name, text)
        elif new_paragraph or _BULLET_RE.match(text) or _after_short_heading(value, text):
            setattr(node, field_name, value + "\n" + text)
        else:
            setattr(node, field_name, value + " " + text)


def _after_short_heading(value: str, text: str) -> bool:
    """'1. Mục đích' then 'Bảo đảm ...' on the next line: a heading, not a wrap."""
    last = value.rsplit("\n", 1)[-1]
    return len(last) < 60 and not last.rstrip().endswith((",", ";", ":", ".", "-")) and text[:1].isupper()


def _join_page_breaks(paragraphs: list[list[str]]) -> list[list[str]]:
    """A paragraph that starts in lower case continues the previous one."""
    joined: list[list[str]] = []
    for para in paragraphs:
        if joined and _starts_lower(para[0]) and not _POINT_RE.match(para[0]):
            joined[-1] = joined[-1][:-1] + [joined[-1][-1] + " " + para[0]] + para[1:]
        else:
            joined.append(list(para))
    return joined


def _find_body_start(paragraphs: list[list[str]]) -> tuple[int, int]:
    """(paragraph, line) where the parts begin.

    After the last "QUYẾT NGHỊ:" / "QUYẾT ĐỊNH:" line when there is one
    (a cover letter or tờ trình before it may hold numbered text of its own);
    otherwise at the first chapter, article or Roman section.
    """
    resolve_at = None
    for pi, para in enumerate(paragraphs):
        for li, line in enumerate(para):
            if _RESOLVE_RE.match(line):
                resolve_at = (pi, li + 1)
    if resolve_at is not None:
        pi, li = resolve_at
        return (pi, li) if li < len(paragraphs[pi]) else (pi + 1, 0)
    for pi, para in enumerate(paragraphs):
        for li, line in enumerate(para):
            marker = _match_marker(line)
            if marker and marker.kind in ("chapter", "article", "roman") and marker.number in ("I", "1"):
                return pi, li
    # A flat list of numbered clauses (the check page flags it for the officer to rebuild).
    for pi, para in enumerate(paragraphs):
        for li, line in enumerate(para):
            marker = _match_marker(line)
            if marker and marker.kind == "clause" and marker.number == "1":
                return pi, li
    return len(paragraphs), 0


def _render(paragraphs: list[list[str]]) -> str:
    return "\n\n".join("\n".join(p) for p in paragraphs if p).strip()


def _build(body: list[list[str]], preamble_paras: list[list[str]]) -> tuple[_Builder, tuple[int, int] | None]:
    """Parts from the body's paragraphs; where the closing text starts, if it does."""
    builder = _Builder()
    closing_from: tuple[int, int] | None = None
    for pi, para in enumerate(body):
        new_paragraph = True
        for li, line in enumerate(para):
            if _CLOSING_RE.match(line):
                closing_from = (pi, li)
                break
            marker = _match_marker(line)
            if marker and builder.accepts(marker):
                builder.open(marker)
                new_paragraph = False
                continue
            if builder.current is None:
                # Text before the first part (e.g. a title under QUYẾT NGHỊ).
                preamble_paras.append([line])
                continue
            if _END_MARK_RE.search(line) and li == 0 and not _is_first_text(builder.current):
                # "Nghị quyết này ... thông qua ...và có hiệu lực ...  ./." after
                # a clause: the document's closing formula, not the clause.
                closing_from = (pi, li)
                break
            builder.add_text(line, new_paragraph=new_paragraph and li == 0)
            new_paragraph = False
        if closing_from:
            break
    return builder, closing_from


# An attachment after the signature: "QUY CHẾ ... (Ban hành kèm theo Quyết định số ...)".
_ANNEX_RE = re.compile(r"^(QUY CHẾ|QUY ĐỊNH|ĐIỀU LỆ|HƯƠNG ƯỚC|QUY ƯỚC|PHỤ LỤC|KẾ HOẠCH|DANH MỤC)\b")
_ANNEXED_RE = re.compile(r"^\(?\s*(?:Ban hành\s+|Được ban hành\s+)?kèm theo\b", re.IGNORECASE)


def _split_annexes(lines: list[list[str]]) -> tuple[list[list[str]], list[tuple[str, list[list[str]]]]]:
    """The closing text, and the attachments that follow it: (title, paragraphs) each."""
    flat = [(pi, li, line) for pi, para in enumerate(lines) for li, line in enumerate(para)]
    starts = []
    for k, (pi, li, line) in enumerate(flat):
        if _ANNEX_RE.match(line) and any(_ANNEXED_RE.match(x[2]) for x in flat[k + 1:k + 5]):
            starts.append(k)
    if not starts:
        return lines, []

    def paragraphs(a: int, b: int) -> list[list[str]]:
        out: list[list[str]] = []
        last = None
        for pi, _, line in flat[a:b]:
            if pi != last:
                out.append([])
                last = pi
            out[-1].append(line)
        return out

    closing = paragraphs(0, starts[0])
    annexes = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(flat)
        k = start
        title_lines = []
        while k < end and not _ANNEXED_RE.match(flat[k][2]):
            title_lines.append(flat[k][2])
            k += 1
        annexes.append((" ".join(title_lines), paragraphs(k + 1, end)))
    return closing, annexes


def parse_draft(text: str) -> ParsedDraft:
    """Parse pasted or extracted text into preamble, parts and closing text; an attachment
    issued with the document (a Quy chế "ban hành kèm theo", a Phụ lục) becomes a part of
    its own kind holding its own tree."""
    paragraphs = _join_page_breaks(paragraphs_from_text(text))
    start_p, start_l = _find_body_start(paragraphs)
    preamble_paras = paragraphs[:start_p] + ([paragraphs[start_p][:start_l]] if start_l else [])
    body = paragraphs[start_p:]
    if body and start_l:
        body = [body[0][start_l:]] + body[1:]

    builder, closing_from = _build(body, preamble_paras)
    closing = ""
    parts = builder.root.children
    if closing_from:
        pi, li = closing_from
        closing_paras, annexes = _split_annexes([body[pi][li:]] + body[pi + 1:])
        closing = _render(closing_paras)
        for number, (title, annex_body) in enumerate(annexes, start=1):
            annex = Node("annex", str(number), title=title)
            start = _annex_body_start(annex_body)
            intro: list[list[str]] = []
            annex_builder, annex_closing = _build(annex_body[start:], intro)
            annex.children = annex_builder.root.children
            head = _render(annex_body[:start] + intro)
            if annex_closing:
                cpi, cli = annex_closing
                tail = _render([annex_body[start:][cpi][cli:]] + annex_body[start:][cpi + 1:])
                head = "\n\n".join(x for x in (head, tail) if x)
            if not annex.children:
                head = _render(annex_body)
            annex.text = head
            parts.append(annex)
    if not parts:
        raise DraftParseError(
            "Không tìm thấy phần nào của dự thảo (Chương, Mục, Điều, khoản, điểm hoặc mục I, II...). "
            "Hãy kiểm tra văn bản: mỗi Điều bắt đầu bằng “Điều 1.”, mỗi khoản bằng “1.”, mỗi điểm bằng “a)”.")
    split_table_rows(parts)
    assign_labels(parts)
    return ParsedDraft(preamble=_render(preamble_paras), parts=parts, closing=closing)


# --- tables -------------------------------------------------------------------------

# A row of a table as the readers write it: "| cell | cell |" (wordtext keeps body tables so).
_TABLE_LINE_RE = re.compile(r"^\|.*\|$")


def table_cells(line: str) -> list[str]:
    """The cells of one "| cell | cell |" line."""
    return [cell.strip() for cell in line.strip()[1:-1].split("|")]


def row_words(line: str) -> str:
    """A row read as words, its cells apart: "1 · Quỹ đền ơn đáp nghĩa · 10.000 đồng/hộ"."""
    return " · ".join(cell for cell in table_cells(line) if cell)


def table_header(part_text: str) -> list[str] | None:
    """The column heads of a part's table: its text's last line when that is a table row (the
    rows themselves are the part's children of kind ``row``)."""
    lines = (part_text or "").rstrip().splitlines()
    return table_cells(lines[-1]) if lines and _TABLE_LINE_RE.match(lines[-1].strip()) else None


def text_before_table(part_text: str) -> str:
    """A part's text without its table's header line."""
    lines = (part_text or "").rstrip().splitlines()
    return "\n".join(lines[:-1]).rstrip() if table_header(part_text) is not None else (part_text or "")


def split_table_rows(parts: list[Node]) -> None:
    """A table that ends a part's text becomes rows an opinion can point at: each body row a
    child part of kind ``row`` (numbered 1, 2, 3 in order: "Điều 2, khoản 1, dòng 1"), ahead of
    the part's own children; the header row stays as the last line of the part's text. A
    table followed by more text in the same part stays text, where it stands."""
    for node in parts:
        if node.kind == "row":
            continue
        split_table_rows(node.children)
        lines = node.text.splitlines()
        start = len(lines)
        while start > 0 and _TABLE_LINE_RE.match(lines[start - 1].strip()):
            start -= 1
        table = [line.strip() for line in lines[start:]]
        if not table:
            continue
        first = table_cells(table[0])
        # The first line heads the columns ("STT | Khoản thu | Mức thu") unless it is itself a
        # numbered row ("1 | ...").
        header = [] if first and re.fullmatch(r"\d{1,4}\.?", first[0]) else table[:1]
        body = table[len(header):]
        if not body:
            continue
        node.text = "\n".join([*lines[:start], *header]).strip()
        node.children[:0] = [Node("row", str(n), text=line) for n, line in enumerate(body, 1)]


def _annex_body_start(paragraphs: list[list[str]]) -> int:
    """The attachment's parts begin at its first chapter, article or Roman section."""
    for pi, para in enumerate(paragraphs):
        marker = _match_marker(para[0])
        if marker and marker.kind in ("chapter", "article", "roman") and marker.number in ("I", "1"):
            return pi
    return 0


def _is_first_text(node: Node) -> bool:
    """True when the node is an article (or section) that has no text and no children yet."""
    return node.kind in ("article", "section", "chapter") and not node.text and not node.children


# --- labels and anchors -----------------------------------------------------------

_LABEL_WORD = {"chapter": "Chương", "section": "Mục", "article": "Điều", "clause": "khoản", "point": "điểm",
               "annex": "Văn bản kèm theo"}


def anchor_token(number: str) -> str:
    """'đ' → 'dd' so that điểm đ and điểm d never share an anchor."""
    number = number.lower().replace("đ", "dd")
    return re.sub(r"[^a-z0-9]+", "-", number).strip("-")


def _label_for(kind: str, number: str, ancestors: list[Node]) -> str:
    chain = [a for a in ancestors if a.kind != "chapter" or kind == "chapter"]
    # An article's label stands alone ("Điều 5"); clauses and points carry their article.
    if kind in ("clause", "point"):
        chain = [a for a in chain if a.kind in ("article", "clause") or (a.kind == "section" and not any(
            x.kind == "article" for x in chain))]
    elif kind == "article":
        chain = []
    elif kind == "section":
        chain = [a for a in ancestors if a.kind == "chapter"]
    words = [f"{_LABEL_WORD[a.kind]} {a.number}" for a in chain] + [f"{_LABEL_WORD[kind]} {number}"]
    label = ", ".join(words)
    return label[0].upper() + label[1:]


def _anchor_for(kind: str, number: str, ancestors: list[Node]) -> str:
    chain = [a for a in ancestors if a.kind in ("article", "clause")] if kind in ("clause", "point") else []
    if kind in ("clause", "point") and not any(a.kind == "article" for a in ancestors):
        chain = [a for a in ancestors if a.kind in ("section", "clause")]
    if kind == "section":
        chain = [a for a in ancestors if a.kind == "chapter"]
    words = [f"{_slug_word(a.kind)}-{anchor_token(a.number)}" for a in chain]
    words.append(f"{_slug_word(kind)}-{anchor_token(number)}")
    return "-".join(words)


def _slug_word(kind: str) -> str:
    return {"chapter": "chuong", "section": "muc", "article": "dieu", "clause": "khoan", "point": "diem"}[kind]


def annex_name(title: str) -> str:
    """'QUY CHẾ Lấy ý kiến ...' → 'Quy chế': how an attachment's parts are cited."""
    m = _ANNEX_RE.match(title or "")
    return m.group(1).capitalize() if m else "Văn bản kèm theo"


def assign_labels(parts: list[Node], ancestors: list[Node] | None = None) -> None:
    ancestors = ancestors or []
    for node in parts:
        if node.kind == "row":  # "Điều 2, khoản 1, dòng 3": a row of its part's table
            parent = ancestors[-1]
            node.label, node.anchor = f"{parent.label}, dòng {node.number}", f"{parent.anchor}-dong-{node.number}"
            continue
        if node.kind == "annex":
            name = annex_name(node.title)
            same = [p for p in parts if p.kind == "annex" and annex_name(p.title) == name]
            node.label = f"{name} kèm theo" + (f" số {same.index(node) + 1}" if len(same) > 1 else "")
            node.anchor = f"kem-theo-{anchor_token(node.number)}"
            assign_labels(node.children, [node])
            continue
        inner = [a for a in ancestors if a.kind != "annex"]
        node.label = _label_for(node.kind, node.number, inner)
        node.anchor = _anchor_for(node.kind, node.number, inner)
        annex = next((a for a in ancestors if a.kind == "annex"), None)
        if annex is not None:
            node.label = f"{annex_name(annex.title)}: {node.label}"
            node.anchor = f"{annex.anchor}-{node.anchor}"
        assign_labels(node.children, ancestors + [node])


# --- footnotes ----------------------------------------------------------------------

_SUPERSCRIPT_DIGITS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
# A footnote's reference as the reader sees it: a raised number after a word or a sign; not
# the ² and ³ of a unit (m², km³).
_REFERENCE_RE = re.compile(r"(?<!\bm)(?<!\bkm)(?<!\bcm)(?<!\bdm)(?<!\bha)[⁰¹²³⁴⁵⁶⁷⁸⁹]+")


def footnote_references(text: str) -> list[str]:
    """The footnote numbers referred to in ``text``, in order ("¹" → "1")."""
    return [m.group().translate({ord(c): str(i) for i, c in enumerate(_SUPERSCRIPT_DIGITS)})
            for m in _REFERENCE_RE.finditer(text or "")]


def attach_footnotes(parsed: ParsedDraft, footnotes: dict[str, str]) -> None:
    """Give each footnote to the part whose title or text carries its reference; one referred
    to only in the preamble or the closing text is written under it, as on the page."""
    placed: set[str] = set()
    for node in parsed.walk():
        for number in footnote_references(f"{node.title}\n{node.text}"):
            if number in footnotes and number not in placed:
                node.footnotes.append({"number": number, "text": footnotes[number]})
                placed.add(number)
    for name in ("preamble", "closing"):
        value = getattr(parsed, name)
        lines = []
        for number in footnote_references(value):
            if number in footnotes and number not in placed:
                raised = number.translate({ord(str(i)): c for i, c in enumerate(_SUPERSCRIPT_DIGITS)})
                lines.append(f"{raised} {footnotes[number]}")
                placed.add(number)
        if lines:
            setattr(parsed, name, value + "\n\n" + "\n".join(lines))


# --- .docx ------------------------------------------------------------------------

def text_from_docx(data: bytes) -> str:
    """The text of a .docx as a reader sees it (Word's list numbers included)."""
    from consult.consultations.wordtext import text_from_docx as read

    return read(data)
