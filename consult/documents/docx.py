"""The plan (kế hoạch) and the letter asking for opinions (công văn), in the NĐ 30/2020 format."""

from __future__ import annotations

from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK

from consult.adminpaper import body, closing_block, header_block, new_document, para, title, to_bytes
from consult.consultations.models import Consultation
from consult.documents.models import KINDS, PLAN_FORMS, OutgoingDocument
from consult.documents.service import PlanInput, _deadline, _draft_name


def _issuer(consultation: Consultation) -> list[str]:
    return ["Ủy ban nhân dân", f"{consultation.commune.kind_label} {consultation.commune.name}"]


def _signer(mode: str) -> str:
    return "KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH" if mode == "KT" else "TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH"


def _number(entry: OutgoingDocument | None, kind: str) -> str:
    return entry.reference if entry else f"      /{KINDS[kind][1]}"


def _opening(consultation: Consultation, entry: OutgoingDocument | None, kind: str,
             heading: str | None = None, subject: str = ""):
    """A new document with the commune's header and its number from the register (blank
    until issued), then its kind and subject when given; with "phường X" for the text."""
    commune = consultation.commune
    document = new_document()
    header_block(document, _issuer(consultation), _number(entry, kind), commune.name,
                 entry.issued_on if entry else None)
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
                               f"Lấy ý kiến dự thảo {_draft_name(consultation)}")
    _heading(document, "I. MỤC ĐÍCH, YÊU CẦU")
    _lines(document, plan.purpose)
    _heading(document, "II. NỘI DUNG LẤY Ý KIẾN")
    articles = sum(1 for p in consultation.parts if p.kind == "article")
    chapters = sum(1 for p in consultation.parts if p.kind == "chapter")
    shape = (f" gồm {chapters} chương, {articles} điều" if chapters else f" gồm {articles} điều") if articles else ""
    body(document, f"Toàn văn dự thảo {_draft_name(consultation)}{shape}.")
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
    body(document, f"Trên đây là Kế hoạch lấy ý kiến dự thảo {_draft_name(consultation)} của Ủy ban nhân dân {where}.")
    closing_block(document, f"- Thường trực HĐND {where};\n- Ủy ban MTTQ Việt Nam {where};\n"
                            "- Các ban, ngành, đoàn thể;\n- Ban điều hành các khu phố, thôn;\n- Lưu: VT, VP-TK.",
                  _signer(plan.signer_mode), plan.signer_name)
    return to_bytes(document)


def letter_docx(consultation: Consultation, entry: OutgoingDocument | None, *, plan_entry: OutgoingDocument | None,
                signer_mode: str, signer_name: str, reply_url: str) -> bytes:
    """The công văn xin ý kiến to the invited units (as the seed letter 491/UBND), the draft
    attached after it: units answer in writing, "nhất trí, không có ý kiến" included."""
    document, where = _opening(consultation, entry, "letter")
    para(document, f"V/v lấy ý kiến góp ý dự thảo {_draft_name(consultation)}", size=12, space_after=6)
    para(document, "Kính gửi:", size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    for invitation in sorted(consultation.invitations, key=lambda i: i.unit.name):
        para(document, f"- {invitation.unit.name};", size=14, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    para(document, "", space_after=6)
    body(document, "Căn cứ Luật Thực hiện dân chủ ở cơ sở ngày 10 tháng 11 năm 2022 (Điều 25, 26 và 28);")
    if plan_entry:
        body(document, f"Thực hiện Kế hoạch số {plan_entry.reference} ngày {plan_entry.issued_on:%d/%m/%Y} của Ủy ban "
                       f"nhân dân {where} về lấy ý kiến dự thảo {_draft_name(consultation)};")
    body(document, f"Ủy ban nhân dân {where} đề nghị các cơ quan, đơn vị nghiên cứu, góp ý dự thảo "
                   f"{_draft_name(consultation)} (gửi kèm theo). Đề nghị các cơ quan, đơn vị trả lời bằng văn bản, "
                   "kể cả trường hợp nhất trí, không có ý kiến, để tổng hợp, lưu hồ sơ.")
    contact = f" (qua Văn phòng - Thống kê, đồng chí {consultation.officer_name}" + (
        f", {consultation.officer_contact})" if consultation.officer_contact else ")")
    body(document, f"Văn bản góp ý gửi về Ủy ban nhân dân {where}{contact} trước {_deadline(consultation)}, hoặc gửi "
                   f"trực tuyến tại {reply_url}.")
    body(document, "Rất mong nhận được sự quan tâm phối hợp của các cơ quan, đơn vị./.")
    closing_block(document, "- Như trên;\n- Thường trực HĐND (để b/c);\n- Lưu: VT, VP-TK.", _signer(signer_mode),
                  signer_name)
    # The draft attached, after a page break.
    document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    para(document, "DỰ THẢO", size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    para(document, f"(Kèm theo Công văn số {_number(entry, 'letter')} của Ủy ban nhân dân {where})", size=13,
         italic=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=6)
    for part in consultation.parts:
        if part.kind in ("chapter", "annex", "section"):
            para(document, f"{part.label}{(' ' + part.title) if part.title else ''}", size=14, bold=True,
                 align=WD_ALIGN_PARAGRAPH.CENTER, space_after=3)
        elif part.kind == "article":
            para(document, f"Điều {part.number}. {part.title or ''}".strip(), size=14, bold=True, space_after=3)
        if part.text:
            marker = {"clause": f"{part.number}. ", "point": f"{part.number}) "}.get(part.kind, "")
            body(document, marker + part.text)
    return to_bytes(document)


def hdnd_docx(consultation: Consultation, data, entry: OutgoingDocument | None, *, signer_mode: str,
              signer_name: str, results_url: str, postings=()) -> bytes:
    """A short report of the consultation's outcome to the HĐND (Luật Điều 28 khoản 5): how it
    was held, who answered, what was accepted and what was explained, where the results are public."""
    from consult.reports.service import opening_paragraphs

    document, where = _opening(consultation, entry, "hdnd", "Báo cáo",
                               f"Kết quả lấy ý kiến dự thảo {_draft_name(consultation)}")
    para(document, f"Kính gửi: Hội đồng nhân dân {where}", size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER,
         space_after=6)
    _heading(document, "I. TÌNH HÌNH LẤY Ý KIẾN")
    for paragraph in opening_paragraphs(data):
        body(document, paragraph)
    _heading(document, "II. KẾT QUẢ TIẾP THU, GIẢI TRÌNH")
    explained = [row for row in data.rows() if row.cluster.decision == "not_accepted"]
    accepted = [row for row in data.rows() if row.cluster.decision in ("accepted", "partly")]
    body(document, f"Ủy ban nhân dân đã tiếp thu {len(accepted)} nội dung và giải trình {len(explained)} nội dung "
                   "không tiếp thu; kết quả tổng hợp, tiếp thu, giải trình đã được công khai tại " + results_url
         + "".join(f"; {p.place} (từ ngày {p.posted_on:%d/%m/%Y})" for p in postings) + ".")
    for row in explained[:10]:
        body(document, f"- Không tiếp thu: “{row.text[:300]}” — {row.cluster.explanation or ''}")
    _heading(document, "III. KIẾN NGHỊ")
    body(document, f"Ủy ban nhân dân {where} kính trình Hội đồng nhân dân xem xét tại kỳ họp thường lệ gần nhất "
                   "(khoản 5 Điều 28 Luật Thực hiện dân chủ ở cơ sở)./.")
    closing_block(document, f"- Thường trực HĐND {where};\n- Các đại biểu HĐND {where};\n"
                            f"- Ủy ban MTTQ Việt Nam {where};\n- Lưu: VT, VP-TK.",
                  _signer(signer_mode), signer_name)
    return to_bytes(document)
