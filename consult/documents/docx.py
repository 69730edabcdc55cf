"""The plan (kế hoạch) and the letter asking for opinions (công văn), in the NĐ 30/2020 format."""

from __future__ import annotations

import re

from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.shared import Cm

from consult.adminpaper import (addressees, body, closing_block, grid_table, header_block, new_document, para, title,
                               to_bytes)
from consult.consultations.models import STATUS_PUBLISHED, Consultation, DraftPart
from consult.consultations.parser import table_cells, table_header, text_before_table
from consult.documents.models import KINDS, PLAN_FORMS, OutgoingDocument
from consult.documents.service import PlanInput, _deadline


def _issuer(consultation: Consultation) -> list[str]:
    return ["Ủy ban nhân dân", f"{consultation.commune.kind_label} {consultation.commune.name}"]


def _signer(mode: str) -> str:
    return "KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH" if mode == "KT" else "TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH"


def _number(entry: OutgoingDocument | None, kind: str) -> str:
    return entry.reference if entry else f"      /{KINDS[kind][1]}"


def _opening(consultation: Consultation, entry: OutgoingDocument | None, kind: str,
             heading: str | None = None, subject: str = "", trich_yeu: str | None = None):
    """A new document with the commune's header and its number from the register (blank
    until issued), then its kind and subject when given, or a công văn's trích yếu under
    its number; with "phường X" for the text."""
    commune = consultation.commune
    document = new_document()
    header_block(document, _issuer(consultation), _number(entry, kind), commune.name,
                 entry.issued_on if entry else None, subject=trich_yeu)
    if heading:
        title(document, heading, subject)
    return document, f"{commune.kind_label.lower()} {commune.name}"


def _heading(document, text: str) -> None:
    para(document, text, size=14, bold=True, space_after=3)


def _lines(document, text: str) -> None:
    for line in text.splitlines():
        if line.strip():
            body(document, line.strip())


def plan_docx(consultation: Consultation, plan: PlanInput, entry: OutgoingDocument | None) -> bytes:
    """Kế hoạch lấy ý kiến (Luật Điều 28 khoản 1; forms of Điều 26 khoản 1), sent to the
    commune's HĐND and Fatherland Front. Without a number it is a draft to read."""
    document, where = _opening(consultation, entry, "plan", "Kế hoạch",
                               f"Lấy ý kiến dự thảo {consultation.draft_name}")
    _heading(document, "I. MỤC ĐÍCH, YÊU CẦU")
    _lines(document, plan.purpose)
    _heading(document, "II. NỘI DUNG LẤY Ý KIẾN")
    articles = sum(1 for p in consultation.parts if p.kind == "article")
    chapters = sum(1 for p in consultation.parts if p.kind == "chapter")
    shape = (f" gồm {chapters} chương, {articles} điều" if chapters else f" gồm {articles} điều") if articles else ""
    body(document, f"Toàn văn dự thảo {consultation.draft_name}{shape}.")
    _heading(document, "III. HÌNH THỨC LẤY Ý KIẾN")
    body(document, "Kết hợp các hình thức sau (khoản 1 Điều 26 Luật Thực hiện dân chủ ở cơ sở):")
    for key in plan.forms:
        body(document, f"- {PLAN_FORMS[key]}.")
    _heading(document, "IV. CÁCH THỨC THỰC HIỆN")
    _lines(document, plan.method)
    _heading(document, "V. THỜI GIAN THỰC HIỆN")
    _lines(document, plan.timeline)
    _heading(document, "VI. TỔ CHỨC THỰC HIỆN")
    _lines(document, plan.assignments)
    # NĐ 30 Phụ lục I: the body of a văn bản ends with "./.".
    body(document, f"Trên đây là Kế hoạch lấy ý kiến dự thảo {consultation.draft_name} của Ủy ban nhân dân "
                   f"{where}./.")
    closing_block(document, f"- Thường trực HĐND {where};\n- Ủy ban MTTQ Việt Nam {where};\n"
                            "- Các ban, ngành, đoàn thể;\n- Ban điều hành các khu phố, thôn;\n- Lưu: VT, VP-TK.",
                  _signer(plan.signer_mode), plan.signer_name)
    return to_bytes(document)


def letter_docx(consultation: Consultation, entry: OutgoingDocument | None, *, plan_entry: OutgoingDocument | None,
                signer_mode: str, signer_name: str, reply_url: str) -> bytes:
    """The công văn xin ý kiến to the invited units (as the seed letter 491/UBND), the draft
    attached after it: units answer in writing, "nhất trí, không có ý kiến" included."""
    document, where = _opening(consultation, entry, "letter",
                               trich_yeu=f"V/v lấy ý kiến góp ý dự thảo {consultation.draft_name}")
    para(document, "", space_after=6)
    addressees(document, [i.unit.name for i in sorted(consultation.invitations, key=lambda i: i.unit.name)])
    body(document, "Căn cứ Luật Thực hiện dân chủ ở cơ sở ngày 10 tháng 11 năm 2022 (Điều 25, 26 và 28);")
    if plan_entry:
        body(document, f"Thực hiện Kế hoạch số {plan_entry.reference} ngày {plan_entry.issued_on:%d/%m/%Y} của Ủy ban "
                       f"nhân dân {where} về lấy ý kiến dự thảo {consultation.draft_name};")
    body(document, f"Ủy ban nhân dân {where} đề nghị các cơ quan, đơn vị nghiên cứu, góp ý dự thảo "
                   f"{consultation.draft_name} (gửi kèm theo). Đề nghị các cơ quan, đơn vị trả lời bằng văn bản, "
                   "kể cả trường hợp nhất trí, không có ý kiến, để tổng hợp, lưu hồ sơ.")
    contact = f" (qua Văn phòng - Thống kê, đồng chí {consultation.officer_name}" + (
        f", {consultation.officer_contact})" if consultation.officer_contact else ")")
    body(document, f"Văn bản góp ý gửi về Ủy ban nhân dân {where}{contact} trước {_deadline(consultation)}, hoặc gửi "
                   f"trực tuyến tại {reply_url}.")
    body(document, "Rất mong nhận được sự quan tâm phối hợp của các cơ quan, đơn vị./.")
    closing_block(document, "- Như trên;\n- Thường trực HĐND (để b/c);\n- Lưu: VT, VP-TK.", _signer(signer_mode),
                  signer_name)
    # The draft attached, after a page break, as its drafter wrote it.
    document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    para(document, "DỰ THẢO", size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    para(document, f"(Kèm theo Công văn số {_number(entry, 'letter')} của Ủy ban nhân dân {where})", size=13,
         italic=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=6)
    draft_body(document, consultation)
    return to_bytes(document)


def hdnd_docx(consultation: Consultation, data, entry: OutgoingDocument | None, *, signer_mode: str,
              signer_name: str, results_url: str, postings=()) -> bytes:
    """A short report of the consultation's outcome to the HĐND (Luật Điều 28 khoản 5): how it
    was held, who answered, what was accepted and what was explained, where the results are public.

    Both parts count the same thing: the opinions received (``data.total_opinions``: every
    resident's and unit's opinion, a unit's "nhất trí, không có ý kiến" being an answer, not an
    opinion), and, of them, those accepted, partly accepted, explained and noted; identical
    opinions answered together are one "nội dung". The results are said to be public only once
    they are (``Consultation.status``), else the report is a preview that says they are not yet."""
    from consult.reports.models import DECISION_ACCEPTED, DECISION_NOTED, DECISION_PARTLY, DECISION_REJECTED
    from consult.reports.service import opening_paragraphs

    document, where = _opening(consultation, entry, "hdnd", "Báo cáo",
                               f"Kết quả lấy ý kiến dự thảo {consultation.draft_name}")
    addressees(document, [f"Hội đồng nhân dân {where}"])
    _heading(document, "I. TÌNH HÌNH LẤY Ý KIẾN")
    for paragraph in opening_paragraphs(data):
        body(document, paragraph)
    _heading(document, "II. KẾT QUẢ TIẾP THU, GIẢI TRÌNH")
    n = data.counts
    rows = list(data.rows())
    explained = [row for row in rows if row.cluster.decision == DECISION_REJECTED]
    summary = (f"Trong tổng số {data.total_opinions} ý kiến góp ý ({len(rows)} nội dung, các ý kiến giống nhau được "
               f"tổng hợp thành một nội dung), Ủy ban nhân dân đã tiếp thu {n[DECISION_ACCEPTED]} ý kiến, tiếp thu "
               f"một phần {n[DECISION_PARTLY]} ý kiến, giải trình (không tiếp thu) {n[DECISION_REJECTED]} ý kiến, "
               f"ghi nhận {n[DECISION_NOTED]} ý kiến")
    summary += f"; còn {data.undecided} ý kiến chưa xử lý." if data.undecided else "."
    body(document, summary)
    if consultation.status == STATUS_PUBLISHED:
        body(document, "Kết quả tổng hợp, tiếp thu, giải trình đã được công khai tại " + results_url
             + "".join(f"; {p.place} (từ ngày {p.posted_on:%d/%m/%Y})" for p in postings) + ".")
    else:
        body(document, "Kết quả tổng hợp, tiếp thu, giải trình chưa được công khai; sẽ được công khai tại "
                       f"{results_url} (khoản 3 Điều 28 Luật Thực hiện dân chủ ở cơ sở).")
    if explained:
        body(document, f"Các nội dung không tiếp thu ({n[DECISION_REJECTED]} ý kiến) và lý do giải trình:")
    for row in explained:
        count = f" ({row.count} ý kiến)" if row.count > 1 else ""
        text = " ".join(row.text.split())
        text = text if len(text) <= 300 else text[:299].rstrip() + "…"
        body(document, f"- Không tiếp thu{count}: “{text}” — {' '.join((row.cluster.explanation or '').split())}")
    _heading(document, "III. KIẾN NGHỊ")
    body(document, f"Ủy ban nhân dân {where} kính trình Hội đồng nhân dân xem xét tại kỳ họp thường lệ gần nhất "
                   "(khoản 5 Điều 28 Luật Thực hiện dân chủ ở cơ sở)./.")
    closing_block(document, f"- Thường trực HĐND {where};\n- Các đại biểu HĐND {where};\n"
                            f"- Ủy ban MTTQ Việt Nam {where};\n- Lưu: VT, VP-TK.",
                  _signer(signer_mode), signer_name)
    return to_bytes(document)


# --- the draft as its drafter wrote it ----------------------------------------------------------
#
# The parser keeps a part's place in the tree and a label to cite it by ("Mục II, khoản 1"); the
# attachment shows the draft as written instead: its kind and title, its opening (issuer, "Căn cứ"
# lines, "QUYẾT NGHỊ:"), each part under the heading its drafter typed ("I.", "Chương I", "Mục 1",
# "Điều 1.", "1.", "a)"), and its closing clause ("Nghị quyết này ... có hiệu lực ..../.").

# A line naming the draft's kind, alone or with its title after it: "NGHỊ QUYẾT", "DỰ THẢO QUY CHẾ".
_KIND_LINE = re.compile(r"^(?:DỰ THẢO\s+)?(NGHỊ QUYẾT|QUYẾT ĐỊNH|QUY CHẾ|QUY ĐỊNH|KẾ HOẠCH|HƯƠNG ƯỚC|QUY ƯỚC|"
                        r"ĐỀ ÁN|CHƯƠNG TRÌNH|ĐIỀU LỆ)(?:\s+(.*))?$")
_RESOLVE_LINE = re.compile(r"^(QUYẾT\s+NGHỊ|QUYẾT\s+ĐỊNH)\s*:\s*$")
_GROUNDS_LINE = re.compile(r"^(Căn cứ|Xét|Theo đề nghị)\b")
# Where a draft's closing text turns into its recipients and signature (as the parser reads it).
_SIGNATURE_LINE = re.compile(
    r"^(Nơi\s+nhận\s*:?|TM\.\s|KT\.\s|TL\.\s|Q\.\s|CHỦ\s+TỊCH$|PHÓ\s+CHỦ\s+TỊCH$|TRƯỞNG\s+BAN$)")


def _paragraphs(text: str) -> list[list[str]]:
    """Blank-line separated paragraphs of ``text``, each a list of its stripped lines."""
    out: list[list[str]] = []
    for block in re.split(r"\n\s*\n", text or ""):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        if lines:
            out.append(lines)
    return out


def _is_capitals(line: str) -> bool:
    return any(ch.isalpha() for ch in line) and line == line.upper()


def _unwrap(lines: list[str]) -> list[str]:
    """The lines of one paragraph as the drafter's lines: a line that a PDF or a narrow page
    wrapped is joined to the one before it; a "Căn cứ" line, a line in capitals and a line after
    one ending in ";", ":" or "." stand alone."""
    out: list[str] = []
    for line in lines:
        if out and not (_GROUNDS_LINE.match(line) or _is_capitals(line) or _is_capitals(out[-1])
                        or out[-1].endswith((";", ":", "."))):
            glue = "" if re.search(r"\S-$", out[-1]) else " "
            out[-1] = out[-1] + glue + line
        else:
            out.append(line)
    return out


def draft_head(consultation: Consultation) -> tuple[str, str, list[str]]:
    """The draft's kind ("NGHỊ QUYẾT"), its title and the lines of its opening (issuer, "Căn cứ",
    "QUYẾT NGHỊ:"), read from the end of the preamble: after any cover letter, from the last line
    that names the draft's kind. Without one, the consultation's kind and the draft's name."""
    paragraphs = _paragraphs(consultation.preamble)
    found = None
    for pi, lines in enumerate(paragraphs):
        for li, line in enumerate(lines):
            if _is_capitals(line) and not _RESOLVE_LINE.match(line) and _KIND_LINE.match(line):
                found = (pi, li)
    if found is None:
        kind, title_text = _fallback_head(consultation)
        return kind, title_text, []
    pi, li = found
    match = _KIND_LINE.match(paragraphs[pi][li])
    kind = match.group(1)
    title_lines = [match.group(2)] if match.group(2) else []
    rest = paragraphs[pi][li + 1:]
    following = paragraphs[pi + 1:]
    if not title_lines:
        if rest:
            title_lines, rest = rest, []
        elif following and not _opening_line(following[0][0]):
            title_lines, following = following[0], following[1:]
    opening = _unwrap(rest) + [line for lines in following for line in _unwrap(lines)]
    title_text = " ".join(title_lines).strip() or _fallback_head(consultation)[1]
    return kind, title_text, opening


def _opening_line(line: str) -> bool:
    """A line of the draft's opening rather than its title: the issuer, a ground, "QUYẾT NGHỊ:"."""
    return bool(_GROUNDS_LINE.match(line) or _RESOLVE_LINE.match(line)
                or re.match(r"^(HỘI ĐỒNG NHÂN DÂN|ỦY BAN NHÂN DÂN|UỶ BAN NHÂN DÂN)\b", line))


def _fallback_head(consultation: Consultation) -> tuple[str, str]:
    """'Nghị quyết về dân chủ ở cơ sở' → ('NGHỊ QUYẾT', 'Về dân chủ ở cơ sở')."""
    name = consultation.draft_name.strip("“” ")
    kind = consultation.doc_kind_label.split(",")[0]
    if name.lower().startswith(kind.lower()):
        rest = name[len(kind):].strip(" “”")
        return kind.upper(), (rest[:1].upper() + rest[1:]) if rest else name
    return kind.upper(), name


def draft_closing(consultation: Consultation) -> list[str]:
    """The draft's closing clause ("Nghị quyết này ... có hiệu lực ... ./."), without the
    recipients and the signature that follow it."""
    lines: list[str] = []
    for paragraph in _paragraphs(consultation.closing_text):
        for line in _unwrap(paragraph):
            if _SIGNATURE_LINE.match(line):
                return lines
            lines.append(line)
    return lines


def written_heading(part: DraftPart, parents: dict[int, DraftPart], source_text: str = "") -> list[str]:
    """The heading of a chapter, section, article or attachment as written: ["Chương I", title],
    ["Mục 1", title], ["I. TITLE"], ["Điều 1. Title"]; the parser's label ("Mục I") is how the
    part is cited, not how it was written."""
    title_text = (part.title or "").strip()
    if part.kind == "chapter":
        return [f"Chương {part.number}"] + ([title_text] if title_text else [])
    if part.kind == "section":
        in_chapter = any(p.kind == "chapter" for p in _ancestors(part, parents))
        typed_muc = re.search(rf"^\W*Mục\s+{re.escape(part.number)}\b", source_text or "", re.MULTILINE)
        if in_chapter or typed_muc or not re.fullmatch(r"[IVXLC]+", part.number):
            return [f"Mục {part.number}"] + ([title_text] if title_text else [])
        return [f"{part.number}. {title_text}".strip()]
    if part.kind == "article":
        return [f"Điều {part.number}. {title_text}".strip()]
    if part.kind == "annex":
        return [title_text or part.label]
    return []


def _ancestors(part: DraftPart, parents: dict[int, DraftPart]) -> list[DraftPart]:
    chain, current = [], parents.get(part.parent_id) if part.parent_id else None
    while current is not None:
        chain.append(current)
        current = parents.get(current.parent_id) if current.parent_id else None
    return chain


def _text_paragraph(document, text: str, *, italic: bool = False):
    p = para(document, text, size=14, italic=italic, align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent=True, space_after=6)
    p.paragraph_format.line_spacing = 1.15
    return p


def draft_body(document, consultation: Consultation) -> None:
    """The draft in ``document`` as its drafter wrote it (see above)."""
    kind, title_text, opening = draft_head(consultation)
    title(document, kind, title_text)
    for line in opening:
        if _RESOLVE_LINE.match(line) or _is_capitals(line):
            para(document, line, size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=6)
        else:
            _text_paragraph(document, line, italic=bool(_GROUNDS_LINE.match(line)))
    parents = {p.id: p for p in consultation.parts}
    closing = draft_closing(consultation)
    closed = False
    for part in consultation.parts:
        if part.kind == "annex" and not closed:
            for line in closing:
                body(document, line)
            closed = True
        heading = written_heading(part, parents, consultation.source_text)
        if part.kind in ("chapter", "annex") or (part.kind == "section" and heading[0].startswith("Mục")):
            for line in heading:
                para(document, line, size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=3)
        elif heading:  # "I. MỤC ĐÍCH, YÊU CẦU", "Điều 1. Phạm vi": bold, one tab in (NĐ 30 Phụ lục I)
            p = para(document, heading[0], size=14, bold=True, align=WD_ALIGN_PARAGRAPH.JUSTIFY, space_after=3)
            p.paragraph_format.first_line_indent = Cm(1.27)
        if part.kind == "row":
            continue  # written with its part's table, below
        marker = {"clause": f"{part.number}. ", "point": f"{part.number}) "}.get(part.kind, "")
        rows = [p for p in consultation.parts if p.parent_id == part.id and p.kind == "row"]
        text = text_before_table(part.text) if rows else part.text
        lines = [line.strip() for line in (text or "").split("\n") if line.strip()]
        if marker and not lines:
            lines = [""]
        for i, line in enumerate(lines):
            body(document, (marker if i == 0 else "") + line)
        if rows:
            grid_table(document, table_header(part.text), [table_cells(r.text) for r in rows])
    if not closed:
        for line in closing:
            body(document, line)
