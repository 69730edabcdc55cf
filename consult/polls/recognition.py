"""The commune's answer to a community's decision (Luật Điều 21 khoản 2; NĐ 61/2023 Điều 11 for a
hương ước, quy ước), as .docx in the NĐ 30/2020 layout:

- the quyết định công nhận of the UBND cấp xã (or, for a khoản 5 matter, of the Ban Thường trực
  Ủy ban MTTQ Việt Nam cấp xã: ``rules.recognition``), with the number and date recorded by
  ``deadlines.recognise``: its căn cứ, Điều 1 (what is recognised, with the community's result),
  Điều 2 (when it takes effect), Điều 3 (who carries it out), Nơi nhận and the signature; a
  recognised hương ước follows it, on its own pages, as the text "ban hành kèm theo";
- the letter of refusal (công văn "V/v không công nhận ..."), with the reasons recorded by
  ``deadlines.refuse_recognition`` and what the community may do next.

The signer's name is left blank for the chairman to sign above it: the commune's chairman is not
recorded with the vote.
"""

from __future__ import annotations

from datetime import date

from docx.enum.text import WD_ALIGN_PARAGRAPH
from sqlalchemy import select
from sqlalchemy.orm import Session

from consult.adminpaper import (addressees, body, closing_block, header_block, new_document, para, set_font, title,
                                to_bytes)
from consult.audit.models import AuditEntry
from consult.covenants import documents as covenant_documents
from consult.covenants import service as covenants
from consult.covenants.models import Covenant
from consult.polls import rules
from consult.polls.models import FORM_BALLOT, FORM_MEETING, Poll
from consult.timeutil import format_date, local_date

UBND, MTTQ = "ubnd", "mttq"

LAW_LOCAL_GOVERNMENT = "Căn cứ Luật Tổ chức chính quyền địa phương ngày 16 tháng 6 năm 2025;"
LAW_FRONT = "Căn cứ Luật Mặt trận Tổ quốc Việt Nam ngày 09 tháng 6 năm 2015;"
LAW_DEMOCRACY = "Căn cứ Luật Thực hiện dân chủ ở cơ sở ngày 10 tháng 11 năm 2022;"
DECREE_61 = ("Căn cứ Nghị định số 61/2023/NĐ-CP ngày 16 tháng 8 năm 2023 của Chính phủ về xây dựng và thực hiện "
             "hương ước, quy ước của cộng đồng dân cư;")
DECREE_59 = ("Căn cứ Nghị định số 59/2023/NĐ-CP ngày 14 tháng 8 năm 2023 của Chính phủ quy định chi tiết một số "
             "điều của Luật Thực hiện dân chủ ở cơ sở;")


class NotAvailable(LookupError):
    """The document does not exist: the decision has not been recognised (or refused)."""


# --- who and what -----------------------------------------------------------------------------

def _by(poll: Poll) -> str:
    return rules.recognition(poll.matter_kind, poll.commune_wide).by or UBND


def _commune(poll: Poll) -> str:
    return f"{poll.commune.kind_label.lower()} {poll.commune.name}"


def _issuer(poll: Poll, by: str) -> list[str]:
    commune = f"{poll.commune.kind_label} {poll.commune.name}"
    if by == MTTQ:
        return ["Ủy ban MTTQ Việt Nam", commune, "Ban Thường trực"]
    return ["Ủy ban nhân dân", commune]


def issuing_body(poll: Poll) -> str:
    """The body that recognises, in prose: 'Ủy ban nhân dân phường Bình An'."""
    if _by(poll) == MTTQ:
        return f"Ban Thường trực Ủy ban Mặt trận Tổ quốc Việt Nam {_commune(poll)}"
    return f"Ủy ban nhân dân {_commune(poll)}"


def _signer(by: str) -> str:
    return "TM. BAN THƯỜNG TRỰC\nCHỦ TỊCH" if by == MTTQ else "TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH"


def _community(poll: Poll) -> str:
    if poll.group is not None:
        return f"cộng đồng dân cư {poll.group.full_name}"
    return f"các cộng đồng dân cư trên địa bàn {_commune(poll)}"


def _heads(poll: Poll) -> list[str]:
    """Who answers for the community: its head and its Ban công tác Mặt trận's head (Luật Điều 20 khoản 2)."""
    if poll.group is None:
        return ["Trưởng các thôn, tổ dân phố trên địa bàn", "Trưởng Ban công tác Mặt trận các khu dân cư"]
    group = poll.group
    return [covenant_documents.head_of(group),
            f"Trưởng Ban công tác Mặt trận {covenant_documents.lower_first(group.full_name)}"]


def _decided_on(poll: Poll) -> date | None:
    return local_date(poll.decided_at) if poll.decided_at else None


def _decision_name(poll: Poll) -> str:
    """The community's document the commune received: 'Nghị quyết của Hội nghị cộng đồng dân cư
    Khu phố 1 ngày 05/03/2027'."""
    where = poll.group.full_name if poll.group else f"trên địa bàn {_commune(poll)}"
    if poll.form == FORM_MEETING:
        name = f"Nghị quyết của Hội nghị cộng đồng dân cư {where}"
    elif poll.form == FORM_BALLOT:
        name = f"Biên bản kết quả lấy ý kiến hộ gia đình bằng phiếu của cộng đồng dân cư {where}"
    else:
        name = f"Biên bản kết quả biểu quyết trực tuyến của cộng đồng dân cư {where}"
    decided = _decided_on(poll)
    return name + (f" ngày {format_date(decided)}" if decided else "")


def _subject(poll: Poll, covenant: Covenant | None) -> str:
    """What is recognised: 'hương ước khu phố 1', or the community's result on the matter."""
    if covenant is not None:
        return covenant_documents.lower_first(covenant.title)
    return f"kết quả biểu quyết của {_community(poll)} về {covenant_documents.lower_first(poll.title)}"


def _counts(session: Session, poll: Poll) -> str:
    from consult.polls.service import attendance_count, tally, total_households

    result = tally(session, poll)
    households = total_households(poll)
    took_part = attendance_count(session, poll) if poll.form == FORM_MEETING else result.participated
    return (f"tổng số hộ gia đình {households}; số hộ {'có mặt' if poll.form == FORM_MEETING else 'tham gia'} "
            f"{took_part}")


def _outcome(poll: Poll) -> str:
    """The community's result as recorded, without the leading "Thông qua:" (only a result that
    passed is recognised or refused)."""
    text = (poll.outcome_text or "").strip().rstrip(".")
    return text[len("Thông qua:"):].strip() if text.startswith("Thông qua:") else text


def _article(document, number: int, text: str, *, keep_with_next: bool = False):
    """'Điều 1.' in bold, then the article's text, one justified paragraph."""
    p = body(document, "")
    set_font(p.add_run(f"Điều {number}. "), 14, bold=True)
    set_font(p.add_run(text), 14)
    p.paragraph_format.keep_with_next = keep_with_next
    return p


# --- the quyết định công nhận ---------------------------------------------------------------------

def recognition_docx(session: Session, poll: Poll) -> bytes:
    """Quyết định công nhận (Luật Điều 21 khoản 2): the number and date the commune recorded; the
    căn cứ (Luật Tổ chức chính quyền địa phương, or Luật Mặt trận for the MTTQ; Luật Thực hiện dân
    chủ ở cơ sở; NĐ 61/2023 for a hương ước, NĐ 59/2023 otherwise; the community's nghị quyết or
    biên bản); Điều 1 what is recognised and the community's result; Điều 2 it takes effect on the
    day of recognition (khoản 3, 4: on recognition; khoản 1, 2 commune-wide: the date the UBND
    sets, which is that day); Điều 3 who carries it out; Nơi nhận; "TM. ỦY BAN NHÂN DÂN / CHỦ TỊCH".
    A hương ước, quy ước follows as the text ban hành kèm theo, with its chapters and articles."""
    if not (poll.recognised_on and poll.recognition_number):
        raise NotAvailable("Chưa ghi quyết định công nhận.")
    by = _by(poll)
    covenant = covenants.of_poll(session, poll) if poll.matter_kind == "k3" else None
    subject = _subject(poll, covenant)
    issuer = issuing_body(poll)
    commune = _commune(poll)
    number, on = poll.recognition_number, poll.recognised_on

    document = new_document()
    header_block(document, _issuer(poll, by), number, poll.commune.name, on)
    title(document, "Quyết định", f"Về việc công nhận {subject}")
    authority = (f"BAN THƯỜNG TRỰC ỦY BAN MẶT TRẬN TỔ QUỐC VIỆT NAM {commune.upper()}" if by == MTTQ
                 else f"ỦY BAN NHÂN DÂN {commune.upper()}")
    para(document, authority, size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=6)
    grounds = [LAW_FRONT if by == MTTQ else LAW_LOCAL_GOVERNMENT, LAW_DEMOCRACY,
               DECREE_61 if poll.matter_kind == "k3" else DECREE_59,
               f"Căn cứ {_decision_name(poll)} về {covenant_documents.lower_first(poll.title)};"]
    received = f" (hồ sơ nhận ngày {format_date(poll.received_on)})" if poll.received_on else ""
    grounds.append(f"Xét đề nghị của {' và '.join(_heads(poll))}{received}.")
    for line in grounds:
        p = body(document, "")
        set_font(p.add_run(line), 14, italic=True)
    para(document, "QUYẾT ĐỊNH:", size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=6)

    decided = _decided_on(poll)
    how = covenant_documents.how_adopted(poll)
    what = (f"Công nhận {subject} được {_community(poll)} thông qua {how}"
            + (f" ngày {format_date(decided)}" if decided else ""))
    if covenant is not None:
        what += " (ban hành kèm theo Quyết định này)"
    _article(document, 1, f"{what}. Kết quả: {_counts(session, poll)}; {_outcome(poll)}.")
    effect = f"Quyết định này có hiệu lực kể từ ngày ký. {subject[:1].upper()}{subject[1:]} có hiệu lực kể từ ngày " \
             f"{format_date(on)} (khoản 2 Điều 21 Luật Thực hiện dân chủ ở cơ sở)."
    _article(document, 2, effect)
    heads = _heads(poll)
    duty = ""
    if covenant is not None:
        duty = (f"{heads[0][:1].upper()}{heads[0][1:]} có trách nhiệm tổ chức phổ biến, niêm yết công khai "
                f"{covenant.kind_label.lower()} tại nhà văn hóa và trên hệ thống loa của khu dân cư, tổ chức thực "
                "hiện và định kỳ đánh giá việc thực hiện. ")
    office = ("Ủy viên Ban Thường trực Ủy ban Mặt trận Tổ quốc Việt Nam" if by == MTTQ
              else "Công chức Văn phòng - Thống kê, các ban, ngành, đoàn thể")
    households = f"các hộ gia đình {poll.group.full_name}" if poll.group else "các hộ gia đình có liên quan"
    _article(document, 3, f"{duty}{office} {commune}, {', '.join(heads)} và {households} chịu trách nhiệm thi hành "
                          "Quyết định này./.", keep_with_next=True)
    other = f"Ủy ban MTTQ Việt Nam {commune}" if by == UBND else f"Ủy ban nhân dân {commune}"
    closing_block(document, f"- Như Điều 3;\n- Thường trực HĐND {commune};\n- {other};\n- Lưu: VT, VP-TK.",
                  _signer(by), "")
    if covenant is not None:
        covenant_documents.add_annex(
            document, covenant, covenant.final_text or poll.content,
            f"(Ban hành kèm theo Quyết định số {number} ngày {format_date(on)} của {issuer})")
    return to_bytes(document)


# --- the letter of refusal ------------------------------------------------------------------------

def letter_date(session: Session, poll: Poll) -> date | None:
    """The letter's date: the day the refusal was recorded (the audit entry of
    ``deadlines.refuse_recognition``), never before the day the decision was received."""
    at = session.scalar(select(AuditEntry.at).where(
        AuditEntry.action == "poll.recognition_refused", AuditEntry.object_type == "poll",
        AuditEntry.object_id == str(poll.id)).order_by(AuditEntry.id.desc()).limit(1))
    day = local_date(at) if at else None
    if day and poll.received_on and day < poll.received_on:
        return poll.received_on
    return day


def _next_steps(poll: Poll, covenant: Covenant | None, heads: list[str], issuer: str) -> str:
    """What the community may do after a refusal: amend and adopt again (a hương ước: NĐ 61 Điều
    9-11), hold the election again, or vote again, and send the new result (Luật Điều 20 khoản 3)."""
    who = f"{heads[0]} phối hợp với {heads[1]}"
    if covenant is not None:
        kind = covenant.kind_label.lower()
        return (f"Đề nghị {who} tổ chức sửa đổi, bổ sung {kind} theo các nội dung nêu trên, công khai dự thảo để các "
                f"hộ gia đình góp ý ít nhất 30 ngày (Điều 9 Nghị định số 61/2023/NĐ-CP), tổ chức hội nghị cộng đồng "
                f"dân cư thông qua lại (Điều 10) và gửi hồ sơ đề nghị công nhận về {issuer} (Điều 11).")
    if poll.matter_kind in rules.ELECTION_KINDS:
        return (f"Đề nghị {who} khắc phục các nội dung nêu trên và tổ chức bầu lại theo hướng dẫn của {issuer}; kết "
                "quả được gửi trong thời hạn 05 ngày làm việc kể từ ngày bầu (khoản 3 Điều 20 Luật Thực hiện dân "
                "chủ ở cơ sở).")
    return (f"Đề nghị {who} khắc phục các nội dung nêu trên và tổ chức để cộng đồng dân cư bàn, biểu quyết lại; "
            "kết quả được gửi trong thời hạn 05 ngày làm việc kể từ ngày biểu quyết (khoản 3 Điều 20 Luật Thực "
            "hiện dân chủ ở cơ sở).")


def refusal_docx(session: Session, poll: Poll) -> bytes:
    """Công văn trả lời không công nhận (Luật Điều 21 khoản 2: a refusal is answered in writing with
    its reasons): V/v under the number, Kính gửi the community's head and its Ban công tác Mặt
    trận's head, what was received and when, each reason recorded as its own paragraph, that the
    result does not take effect, what the community may do next, Nơi nhận and the signature. The
    letter's number is left for the register; its date is the day the refusal was recorded."""
    if not poll.refusal_reason:
        raise NotAvailable("Chưa ghi việc không công nhận.")
    by = _by(poll)
    covenant = covenants.of_poll(session, poll) if poll.matter_kind == "k3" else None
    subject = _subject(poll, covenant)
    issuer = issuing_body(poll)
    heads = _heads(poll)
    commune = _commune(poll)

    document = new_document()
    header_block(document, _issuer(poll, by), f"      /{'MTTQ-BTT' if by == MTTQ else 'UBND'}", poll.commune.name,
                 letter_date(session, poll), subject=f"V/v không công nhận {subject}")
    para(document, "", space_after=6)
    addressees(document, heads)
    received = f"Ngày {format_date(poll.received_on)}, {issuer}" if poll.received_on else issuer
    body(document, f"{received} nhận được {_decision_name(poll)} về {covenant_documents.lower_first(poll.title)} "
                   f"(kết quả: {_outcome(poll)}).")
    grounds = "khoản 2 Điều 21 Luật Thực hiện dân chủ ở cơ sở" + (
        " và Điều 11 Nghị định số 61/2023/NĐ-CP" if covenant is not None else "")
    body(document, f"Căn cứ {grounds}, sau khi xem xét, {issuer} không công nhận {subject}, vì các lý do sau:")
    for line in poll.refusal_reason.splitlines():
        line = line.strip()
        if line:
            body(document, line if line[:1] in "-+•" or line[:1].isdigit() else f"- {line}")
    effect = "được công nhận" if rules.recognition(poll.matter_kind, poll.commune_wide).by else "được thông qua"
    body(document, f"Do đó, {subject} chưa có hiệu lực (theo khoản 2 Điều 21 Luật Thực hiện dân chủ ở cơ sở, nội dung "
                   f"này chỉ có hiệu lực khi {effect}).")
    body(document, _next_steps(poll, covenant, heads, issuer))
    body(document, f"Trường hợp chưa thống nhất với các lý do nêu trên, đề nghị phản ánh bằng văn bản về {issuer} để "
                   "được xem xét, trả lời.")
    body(document, f"{issuer} thông báo để {heads[0]} và {heads[1]} biết, thực hiện./.")
    other = f"Ủy ban MTTQ Việt Nam {commune}" if by == UBND else f"Ủy ban nhân dân {commune}"
    closing_block(document, f"- Như trên;\n- Thường trực HĐND {commune};\n- {other};\n- Lưu: VT, VP-TK.",
                  _signer(by), "")
    return to_bytes(document)
