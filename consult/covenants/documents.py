"""A hương ước, quy ước on paper (NĐ 61/2023 Điều 10, 11; NĐ 30/2020 layout).

- its text laid out with its own structure: each Chương, Mục and Điều heading a bold paragraph
  of its own, each khoản, điểm and line of the text its own paragraph, as the group typed it
  (the text is kept as plain lines; ``consult.consultations.parser`` tells a real heading from a
  line that only starts like one, e.g. "Điều 5 của Hương ước này..." quoted in a clause);
- that text as an annex: "ban hành kèm theo" the UBND's quyết định công nhận, or attached to the
  community's nghị quyết (never pasted into one justified paragraph of the decision);
- the hồ sơ đề nghị công nhận the group head sends the commune's UBND (NĐ 61 Điều 11): the tờ trình
  listing what the hồ sơ holds, the synthesis of the households' comments, and the adopted text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt
from sqlalchemy.orm import Session

from consult.adminpaper import (body, closing_block, header_block, new_document, para, rule, text_width,
                                text_width_cm, title, to_bytes)
from consult.consultations.parser import DraftParseError, parse_draft, strip_markdown
from consult.covenants import service
from consult.covenants.models import Covenant
from consult.polls.models import FORM_MEETING, FORM_ONLINE, Poll
from consult.timeutil import format_date, format_datetime, local_date

_CHAPTER_RE = re.compile(r"^Chương\s+([IVXLC]+|\d+)\b\.?\s*[:.\-–]?\s*(.*)$", re.IGNORECASE)
_SECTION_RE = re.compile(r"^Mục\s+(\d+|[IVXLC]+)\b\.?\s*[:.\-–]?\s*(.*)$", re.IGNORECASE)
_ROMAN_RE = re.compile(r"^([IVX]{1,5})\.\s+(\S.*)$")
_ARTICLE_RE = re.compile(r"^Điều\s+(\d+[a-zđ]?)\s*(?:[.:\-–—]\s*(.*)|$)", re.IGNORECASE)

CHAPTER, CHAPTER_TITLE, SECTION, ARTICLE, TEXT = "chapter", "chapter_title", "section", "article", "text"


@dataclass(frozen=True)
class Block:
    """One paragraph of the laid-out text: a heading (its kind) or a line of text."""

    kind: str
    text: str


def _headings(text: str) -> list[tuple[str, str]]:
    """The (kind, number) of every real chapter, section and article, in order, as the draft
    parser accepts them (numbers in sequence); none when the text has no parts at all."""
    try:
        parsed = parse_draft(text)
    except DraftParseError:
        return []
    return [(node.kind, node.number.upper()) for node in parsed.walk() if node.kind in (CHAPTER, SECTION, ARTICLE)]


def _heading_of(line: str) -> tuple[str, str, str] | None:
    """(kind, number, the rest of the line) when the line starts like a heading."""
    if m := _CHAPTER_RE.match(line):
        return CHAPTER, m.group(1).upper(), m.group(2).strip()
    if m := _SECTION_RE.match(line):
        return SECTION, m.group(1).upper(), m.group(2).strip()
    if m := _ARTICLE_RE.match(line):
        return ARTICLE, m.group(1).upper(), (m.group(2) or "").strip()
    if m := _ROMAN_RE.match(line):
        return SECTION, m.group(1), m.group(2).strip()
    return None


def blocks(text: str) -> list[Block]:
    """The text as paragraphs: every non-empty line one paragraph, in the order typed, its
    words unchanged; lines that open a chapter, section or article marked as headings. A
    chapter's or an article's title on the next line joins its heading."""
    expected = _headings(text)
    lines = [unicodedata.normalize("NFC", strip_markdown(raw.replace("\u00a0", " ")).strip())
             for raw in (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    result: list[Block] = []
    position, pending = 0, None  # the heading whose title is on the next line
    for line in lines:
        if not line:
            continue
        if pending is not None:
            kind, pending = pending, None
            if kind == CHAPTER:
                result.append(Block(CHAPTER_TITLE, line))
            else:
                result[-1] = Block(kind, f"{result[-1].text.rstrip('.')}. {line}")
            continue
        found = _heading_of(line)
        if found and position < len(expected) and (found[0], found[1]) == expected[position]:
            position += 1
            kind, number, rest = found
            if kind == CHAPTER:
                result.append(Block(CHAPTER, f"Chương {number}"))
                if rest:
                    result.append(Block(CHAPTER_TITLE, rest))
                else:
                    pending = CHAPTER
                continue
            result.append(Block(kind, line))
            if not rest and kind == ARTICLE:
                pending = ARTICLE
            continue
        result.append(Block(TEXT, line))
    return result


def add_text(document, text: str) -> None:
    """The text with its structure (NĐ 30 Phụ lục I for the parts of a text): "Chương I" and its
    title centred and bold, an article's heading bold with the body's indent, every other line a
    justified paragraph of its own. A heading keeps with the line after it."""
    for block in blocks(text):
        if block.kind in (CHAPTER, CHAPTER_TITLE, SECTION):
            p = para(document, block.text, size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER,
                     space_after=3 if block.kind != CHAPTER else 0)
            if block.kind == CHAPTER:
                p.paragraph_format.space_before = Pt(6)
            p.paragraph_format.keep_with_next = True
        elif block.kind == ARTICLE:
            p = para(document, block.text, size=14, bold=True, align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent=True,
                     space_after=6)
            p.paragraph_format.keep_with_next = True
        else:
            body(document, block.text)


def _kind_and_name(covenant: Covenant) -> tuple[str, str]:
    """("HƯƠNG ƯỚC", "KHU PHỐ 1") from "Hương ước khu phố 1"; the kind alone leads a title that lacks it."""
    label = covenant.kind_label
    name = covenant.title.strip()
    if name.lower().startswith(label.lower()):
        name = name[len(label):].strip(" :-–")
    return label.upper(), name.upper()


def add_annex(document, covenant: Covenant, text: str, note: str, *, heading: str | None = None) -> None:
    """The text on a new page: an optional "PHỤ LỤC", the kind and the title in bold capitals, the
    italic note of what it goes with ("Ban hành kèm theo Quyết định số ..."), a short rule, then
    the text with its own structure (``add_text``)."""
    kind, name = _kind_and_name(covenant)
    first = para(document, heading or kind, size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    first.paragraph_format.page_break_before = True
    if heading:
        para(document, kind, size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    if name:
        para(document, name, size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    para(document, note, size=14, italic=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    width = text_width(document).cm
    rule(para(document, ""), width, max(min(text_width_cm(name or kind, 14, bold=True), width) / 3, 2.0))
    para(document, "", space_after=6)
    add_text(document, text)


# --- the decision of the community (Luật Điều 20 khoản 2) ------------------------------------------

def decision_content(session: Session, poll: Poll) -> str | None:
    """Item "3. Nội dung" of the community's decision when the vote adopts a hương ước, quy ước:
    the question, and where the text is (its annex), instead of the text run into the item;
    None for any other vote."""
    covenant = service.of_poll(session, poll)
    if covenant is None or not (covenant.final_text or poll.content):
        return None
    shape = _shape(covenant.final_text or poll.content)
    return (f"3. Nội dung: {poll.question} Toàn văn {covenant.kind_label.lower()} trình cộng đồng dân cư{shape} "
            "tại Phụ lục kèm theo văn bản này.")


def with_annex(session: Session, poll: Poll, data: bytes) -> bytes:
    """The community's decision (``data``, a .docx) with the hương ước put to the vote after it,
    as its annex with its chapters and articles; any other decision unchanged."""
    covenant = service.of_poll(session, poll)
    text = (covenant.final_text or poll.content) if covenant else None
    if not text:
        return data
    import io

    from docx import Document

    document = Document(io.BytesIO(data))
    what = "Nghị quyết của Hội nghị cộng đồng dân cư" if poll.form == FORM_MEETING else "Biên bản của cộng đồng dân cư"
    when = f" ngày {format_date(poll.decided_at)}" if poll.decided_at else ""
    add_annex(document, covenant, text, f"(Kèm theo {what} {covenant.group.full_name}{when})", heading="PHỤ LỤC")
    return to_bytes(document)


def _shape(text: str) -> str:
    found = blocks(text)
    chapters = sum(1 for b in found if b.kind == CHAPTER)
    articles = sum(1 for b in found if b.kind == ARTICLE)
    if not articles:
        return ""
    return f" (gồm {chapters} chương, {articles} điều)" if chapters else f" (gồm {articles} điều)"


# --- the hồ sơ đề nghị công nhận (NĐ 61 Điều 11) ------------------------------------------------

def lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


HEAD_WORDS = {"to_dan_pho": "Tổ trưởng"}  # every other kind: "Trưởng thôn", "Trưởng khu phố", ...


def head_of(group) -> str:
    """'Trưởng khu phố 1', 'Tổ trưởng tổ dân phố 3' (Luật Điều 20 khoản 2 names the group's head)."""
    return f"{HEAD_WORDS.get(group.kind, 'Trưởng')} {lower_first(group.full_name)}"


def _issuer(covenant: Covenant) -> list[str]:
    return [f"{covenant.commune.kind_label} {covenant.commune.name}", covenant.group.full_name]


def how_adopted(poll: Poll) -> str:
    if poll.form == FORM_MEETING:
        return f"tại Hội nghị cộng đồng dân cư {poll.group.full_name if poll.group else ''}".rstrip()
    if poll.form == FORM_ONLINE:
        return "bằng biểu quyết trực tuyến"
    return "bằng phiếu lấy ý kiến hộ gia đình (sau cuộc họp không đủ số hộ tham dự)"


def dossier_docx(session: Session, covenant: Covenant) -> bytes:
    """The hồ sơ đề nghị công nhận of a hương ước, quy ước adopted by its community (NĐ 61/2023
    Điều 11; Luật Điều 21 khoản 2): the group head's tờ trình to the commune's UBND, saying how the
    text was commented on (Điều 9) and adopted (Điều 10) and listing what the hồ sơ holds; the
    synthesis of the households' comments; the adopted text with its structure. The community's
    nghị quyết (or biên bản) of the vote is the vote's own document, listed and sent beside it."""
    progress = service.progress(session, covenant)
    poll = progress.deciding
    if poll is None or progress.stage not in (service.ADOPTED, service.RECOGNISED, service.REFUSED):
        raise service.CovenantError("Chỉ lập hồ sơ đề nghị công nhận khi hương ước, quy ước đã được cộng đồng dân cư "
                                    "thông qua (Nghị định 61/2023/NĐ-CP, Điều 11).")
    from consult.polls.service import attendance_count, tally, total_households

    group, commune = covenant.group, covenant.commune
    where = f"{commune.kind_label.lower()} {commune.name}"
    kind = covenant.kind_label.lower()
    name = lower_first(covenant.title)
    text = covenant.final_text or poll.content
    comments = service.comments(session, covenant)
    adopted_on = local_date(poll.decided_at)
    households = total_households(poll)
    result = tally(session, poll)
    agree = next((result.total(c.id) for c in poll.choices if c.kind == "agree"), 0)
    took_part = attendance_count(session, poll) if poll.form == FORM_MEETING else result.participated
    decision = "Nghị quyết của Hội nghị cộng đồng dân cư" if poll.form == FORM_MEETING else "Biên bản kết quả"

    document = new_document()
    header_block(document, _issuer(covenant), "      /TTr", commune.name, poll.sent_on)
    title(document, "Tờ trình", f"Về việc đề nghị công nhận {name}")
    para(document, f"Kính gửi: Ủy ban nhân dân {where}.", size=14, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=6)
    body(document, "Căn cứ Luật Thực hiện dân chủ ở cơ sở ngày 10 tháng 11 năm 2022 (khoản 3 Điều 15, Điều 21);")
    body(document, "Căn cứ Nghị định số 61/2023/NĐ-CP ngày 16 tháng 8 năm 2023 của Chính phủ về xây dựng và thực hiện "
                   "hương ước, quy ước của cộng đồng dân cư;")
    if covenant.comments_open_at:
        body(document, f"Dự thảo {kind} đã được công khai để các hộ gia đình góp ý từ "
                       f"{format_datetime(covenant.comments_open_at)} đến {format_datetime(covenant.comments_close_at)} "
                       f"(Điều 9 Nghị định 61/2023/NĐ-CP); đã nhận {len(comments)} ý kiến góp ý, được tổng hợp, tiếp "
                       "thu trong văn bản trình cộng đồng dân cư.")
    body(document, f"Ngày {format_date(adopted_on)}, {name} đã được thông qua {how_adopted(poll)}: tổng số hộ gia "
                   f"đình {households}; số hộ {'có mặt' if poll.form == FORM_MEETING else 'tham gia'} {took_part}; số "
                   f"hộ tán thành {agree} (Điều 10 Nghị định 61/2023/NĐ-CP; khoản 1 Điều 21 Luật Thực hiện dân chủ ở "
                   "cơ sở).")
    body(document, f"{head_of(group)} kính đề nghị Ủy ban nhân dân {where} xem xét, công nhận {name} theo khoản 2 "
                   "Điều 21 Luật Thực hiện dân chủ ở cơ sở và Điều 11 Nghị định 61/2023/NĐ-CP.")
    body(document, "Hồ sơ gửi kèm theo gồm:")
    items = [
        f"1. Tờ trình đề nghị công nhận {name} (văn bản này);",
        f"2. {decision} {group.full_name} ngày {format_date(adopted_on)} thông qua {kind};",
        f"3. Toàn văn {kind} đã được cộng đồng dân cư thông qua{_shape(text)};",
        f"4. Bản tổng hợp ý kiến góp ý của các hộ gia đình đối với dự thảo ({len(comments)} ý kiến).",
    ]
    for item in items:
        body(document, item)
    last = body(document, f"Kính trình Ủy ban nhân dân {where} xem xét, công nhận./.")
    last.paragraph_format.keep_with_next = True
    closing_block(document, f"- Như trên;\n- Ban công tác Mặt trận {lower_first(group.full_name)};\n"
                            f"- Lưu: {group.full_name}.", _head_title(group), "")

    _comments_page(document, covenant, comments)
    add_annex(document, covenant, text, f"(Đã được cộng đồng dân cư {group.full_name} thông qua ngày "
                                        f"{format_date(adopted_on)})")
    return to_bytes(document)


def _head_title(group) -> str:
    from consult.polls import rules

    return rules.HEAD_TITLES.get(group.kind, "TRƯỞNG KHU DÂN CƯ")


def _comments_page(document, covenant: Covenant, comments) -> None:
    """The synthesis of the households' comments on the draft: when, how, what; never who
    (the hồ sơ needs the opinions, not the households' names: Luật 91/2025/QH15)."""
    from consult.adminpaper import cell_margins, cell_text, column_widths, keep_rows_together, widths

    first = para(document, "BẢN TỔNG HỢP", size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    first.paragraph_format.page_break_before = True
    para(document, f"Ý kiến góp ý của các hộ gia đình đối với dự thảo {lower_first(covenant.title)}", size=14,
         bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=6)
    if covenant.comments_open_at:
        body(document, f"Thời gian lấy ý kiến: từ {format_datetime(covenant.comments_open_at)} đến "
                       f"{format_datetime(covenant.comments_close_at)}. Số ý kiến: {len(comments)} "
                       f"({sum(1 for c in comments if c.channel == 'paper')} bằng văn bản, "
                       f"{sum(1 for c in comments if c.channel != 'paper')} trực tuyến).")
    if not comments:
        body(document, "Không có hộ gia đình nào gửi ý kiến góp ý.")
        return
    table = document.add_table(rows=1, cols=4)
    table.style = "Table Grid"
    widths(table, column_widths(document, [1.2, 2.6, 2.4, 10.3]))
    cell_margins(table, 0.15, 0.15)
    for cell, heading in zip(table.rows[0].cells, ["STT", "Ngày", "Hình thức", "Nội dung góp ý"]):
        cell_text(cell, heading, size=12, bold=True)
    for number, comment in enumerate(comments, start=1):
        cells = table.add_row().cells
        cell_text(cells[0], str(number), size=12)
        cell_text(cells[1], format_date(comment.created_at), size=12)
        cell_text(cells[2], "Văn bản" if comment.channel == "paper" else "Trực tuyến", size=12)
        cell_text(cells[3], comment.text, size=12, align=WD_ALIGN_PARAGRAPH.LEFT)
    widths(table, column_widths(document, [1.2, 2.6, 2.4, 10.3]))
    keep_rows_together(table, header_rows=1)
