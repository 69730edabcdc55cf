"""Opinions: residents' comments and invited units' written replies.

Invited units must answer in writing, "nhất trí, không có ý kiến" included
(seed letter 491/UBND); every opinion is saved only while the consultation is
open, checked in the transaction that saves it (Luật Điều 28 khoản 2).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from consult.audit.service import Actor, record
from consult.communes.models import Unit
from consult.communes.service import group_of
from consult.consultations.models import Consultation, DraftPart, Invitation
from consult.consultations.service import ConsultationClosed, ConsultationError
from consult.opinions.models import (
    AUTHOR_RESIDENT,
    AUTHOR_UNIT,
    CHANNEL_ONLINE,
    Opinion,
    UnitReply,
)
from consult.textsearch import search_blob, words_condition
from consult.textutil import nfc
from consult.timeutil import format_datetime, utcnow
from consult.uploads import UploadRejected, check_upload

MAX_OPINION_CHARS = 10_000
_PHONE_RE = re.compile(r"^(\+84|0)\d{9,10}$")


class OpinionRejected(ConsultationError):
    """Bad input for an opinion; the message is for the person who typed it."""


def _lock_open(session: Session, consultation: Consultation, now: datetime) -> None:
    """Re-read the consultation under a row lock and check it is open at ``now``."""
    fresh = session.execute(
        select(Consultation.status, Consultation.opens_at, Consultation.closes_at)
        .where(Consultation.id == consultation.id).with_for_update()
    ).one()
    if fresh.status != "open" or now >= fresh.closes_at:
        raise ConsultationClosed(
            f"Đã hết thời hạn góp ý ({format_datetime(fresh.closes_at)}). Ý kiến không được ghi nhận.")
    if now < fresh.opens_at:
        raise ConsultationClosed(f"Chưa đến thời gian góp ý (bắt đầu {format_datetime(fresh.opens_at)}).")


def check_text(text: str | None) -> str:
    """Kept exactly as typed (only Unicode composition is normalised)."""
    text = nfc(text or "")
    if not text.strip():
        raise OpinionRejected("Nội dung góp ý đang để trống.")
    if "\x00" in text:  # no text column of PostgreSQL holds it
        raise OpinionRejected("Nội dung góp ý có ký tự không hợp lệ (ký tự NUL).")
    if len(text) > MAX_OPINION_CHARS:
        raise OpinionRejected(f"Nội dung góp ý dài {len(text):,} ký tự, vượt quá {MAX_OPINION_CHARS:,} ký tự cho phép."
                              .replace(",", "."))
    return text


# "Nhất trí, không có ý kiến" and its variants, read without diacritics, case or
# punctuation: an answer, not an opinion to answer.
_SUBJECT = r"(?:(?:don vi|chung toi|co quan|ban|hoi|uy ban)\s+)?"
_AGREE = (r"(?:(?:hoan toan|co ban|ve co ban)\s+)?(?:nhat tri|thong nhat|dong y|tan thanh)"
          r"(?:\s+(?:voi|theo|nhu))?(?:\s+(?:toan bo|tat ca|cac))?(?:\s+noi dung)?(?:\s+(?:cua|trong))?"
          r"(?:\s+(?:ban|cac))?(?:\s+(?:du thao|van ban)(?:\s+(?:nghi quyet|quy che|ke hoach|huong uoc|quy uoc|"
          r"quyet dinh|de an|nay))?)?")
_NO_COMMENT = r"khong(?:\s+co)?\s+(?:y kien|gop y|de xuat)(?:\s+(?:gop y|dong gop|bo sung|them|khac|gi|nao|nua))*"
_CLAUSE = rf"{_SUBJECT}(?:{_AGREE}|{_NO_COMMENT})"
_AGREEMENT_ONLY = re.compile(rf"{_CLAUSE}(?:\s+(?:va\s+)?{_CLAUSE})*(?:\s+a)?")


def is_agreement_only(text: str | None) -> bool:
    """Whether a unit's "comment" only says it agrees: "Nhất trí, không có ý kiến", "Thống nhất",
    "Đồng ý với dự thảo", "Không có ý kiến góp ý", with or without diacritics and punctuation.

    Such a reply counts as "agreed without comment" (seed letter 491/UBND), not as an
    opinion to answer. Anything more ("nhất trí nhưng đề nghị ...", "không đồng ý") is an opinion.
    """
    if not text or len(text) > 200:  # an agreement is short: long opinions are never folded
        return False
    return _agreement_only(text)


_COMBINING = re.compile("[\u0300-\u036f]")  # every Vietnamese tone and vowel mark, once decomposed


@lru_cache(maxsize=4096)
def _agreement_only(text: str) -> bool:
    folded = _COMBINING.sub("", unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))).lower()
    words = re.sub(r"[^a-z0-9]+", " ", folded).strip()
    return bool(words) and _AGREEMENT_ONLY.fullmatch(words) is not None


def _check_part(session: Session, consultation: Consultation, part_id: int | None) -> int | None:
    if not part_id:
        return None
    owner = session.scalar(select(DraftPart.consultation_id).where(DraftPart.id == part_id))
    if owner != consultation.id:
        raise OpinionRejected("Phần được góp ý không thuộc dự thảo này.")
    return part_id


def add_resident_opinion(session: Session, consultation: Consultation, *, part_id: int | None, text: str,
                         name: str, group_id: int | None, phone: str | None = None,
                         now: datetime | None = None) -> Opinion:
    """A resident's comment: name, khu phố and optionally a phone number."""
    now = now or utcnow()
    _lock_open(session, consultation, now)
    if not consultation.residents_may_comment:
        raise OpinionRejected("Đợt lấy ý kiến này chỉ dành cho các đơn vị được mời.")
    # Every field is checked before any is refused, so that the form shows all its problems at once.
    problems: dict[str, str] = {}
    try:
        part = _check_part(session, consultation, part_id)
    except OpinionRejected as refusal:
        problems["part_id"], part = str(refusal), None
    try:
        text = check_text(text)
    except OpinionRejected as refusal:
        problems["text"] = str(refusal)
    name = nfc((name or "").strip())
    if not name:
        problems["name"] = "Vui lòng ghi họ và tên."
    elif len(name) > 160:
        problems["name"] = "Họ và tên dài quá 160 ký tự."
    elif "\x00" in name:
        problems["name"] = "Họ và tên có ký tự không hợp lệ (ký tự NUL)."
    group = group_of(session, consultation.commune_id, group_id)
    if group is None:
        problems["group_id"] = "Vui lòng chọn khu phố, thôn nơi bạn sinh sống."
    phone = re.sub(r"[\s.\-]", "", phone or "") or None
    if phone and not _PHONE_RE.match(phone):
        problems["phone"] = "Số điện thoại không hợp lệ (ví dụ 0912345678)."
    if problems:
        raise OpinionRejected(problems=problems)
    # The same resident's same words on the same part are one opinion (a form sent twice, a flood).
    if session.scalar(select(Opinion.id).where(
            Opinion.consultation_id == consultation.id, Opinion.author_kind == AUTHOR_RESIDENT,
            Opinion.resident_name == name, Opinion.part_id.is_(None) if part is None else Opinion.part_id == part,
            Opinion.text == text).limit(1)) is not None:
        raise OpinionRejected("Ý kiến này đã được ghi nhận trước đó.")
    opinion = Opinion(
        consultation_id=consultation.id, commune_id=consultation.commune_id,
        part_id=part, text=text, author_kind=AUTHOR_RESIDENT,
        resident_name=name, resident_group_id=group.id, resident_phone=phone, channel=CHANNEL_ONLINE,
        created_at=now, search_text=search_blob(f"{text} {name}"))
    session.add(opinion)
    session.flush()
    return opinion


@dataclass
class PaperLetter:
    """A written reply that arrived on paper (công văn góp ý)."""

    number: str | None
    letter_date: date | None
    filename: str | None = None
    data: bytes | None = None


def _invited_unit(session: Session, consultation: Consultation, unit_id: int) -> Unit:
    unit = session.scalar(select(Unit).join(Invitation, Invitation.unit_id == Unit.id).where(
        Invitation.consultation_id == consultation.id, Unit.id == unit_id))
    if unit is None:
        raise OpinionRejected("Đơn vị này không có trong danh sách được xin ý kiến.")
    return unit


def _reply_for(session: Session, actor: Actor, consultation: Consultation, unit: Unit, *, agreed: bool,
               channel: str, letter: PaperLetter | None, now: datetime, max_bytes: int) -> UnitReply:
    reply = session.scalar(select(UnitReply).where(UnitReply.consultation_id == consultation.id,
                                                   UnitReply.unit_id == unit.id))
    if reply is not None:
        if reply.agreed_without_comment or agreed:
            raise OpinionRejected(f"{unit.name} đã trả lời ngày {format_datetime(reply.received_at)}.")
        return reply
    reply = UnitReply(consultation_id=consultation.id, unit_id=unit.id, agreed_without_comment=agreed,
                      channel=channel, received_at=now, entered_by_id=actor.id, entered_by_name=actor.name)
    if letter is not None:
        reply.letter_number = (letter.number or "").strip() or None
        reply.letter_date = letter.letter_date
        if letter.data:
            try:
                checked = check_upload(letter.filename, letter.data, allowed={"pdf", "png", "jpg", "jpeg"},
                                       max_bytes=max_bytes)
            except UploadRejected as exc:
                raise OpinionRejected(str(exc)) from None
            reply.attachment_name, reply.attachment_mimetype = checked.filename, checked.mimetype
            reply.attachment_blob = checked.data
    session.add(reply)
    session.flush()
    return reply


def agree_without_comment(session: Session, actor: Actor, consultation: Consultation, unit_id: int, *,
                          channel: str = CHANNEL_ONLINE, letter: PaperLetter | None = None,
                          now: datetime | None = None, max_bytes: int = 10 * 1024 * 1024) -> UnitReply:
    """'Nhất trí với dự thảo, không có ý kiến góp ý': one explicit, counted answer."""
    now = now or utcnow()
    _lock_open(session, consultation, now)
    unit = _invited_unit(session, consultation, unit_id)
    reply = _reply_for(session, actor, consultation, unit, agreed=True, channel=channel, letter=letter, now=now,
                       max_bytes=max_bytes)
    record(session, actor, "reply.agree", reply, commune_id=consultation.commune_id, now=now,
           details={"unit": unit.name, "channel": channel})
    return reply


def add_unit_comments(session: Session, actor: Actor, consultation: Consultation, unit_id: int,
                      comments: list[tuple[int | None, str]], *, channel: str = CHANNEL_ONLINE,
                      letter: PaperLetter | None = None, now: datetime | None = None,
                      max_bytes: int = 10 * 1024 * 1024) -> list[Opinion]:
    """One or more comments of a unit, each on a part or on the whole draft.

    A comment that only agrees ("Nhất trí, không có ý kiến", see ``is_agreement_only``)
    is not an opinion: a reply made only of such comments is recorded as "agreed
    without comment" and returns no opinion; beside real comments it is left out.
    """
    now = now or utcnow()
    _lock_open(session, consultation, now)
    unit = _invited_unit(session, consultation, unit_id)
    cleaned = [(_check_part(session, consultation, part_id), check_text(text)) for part_id, text in comments
               if (text or "").strip() or part_id]
    if not cleaned:
        replied = session.scalar(select(UnitReply.id).where(UnitReply.consultation_id == consultation.id,
                                                            UnitReply.unit_id == unit.id))
        if replied is not None:  # the "Nhất trí" button is gone once the unit has commented
            raise OpinionRejected("Nội dung góp ý đang để trống; các ý kiến đơn vị đã gửi vẫn được giữ nguyên.",
                                  field="text")
        raise OpinionRejected("Chưa có ý kiến nào. Nếu đơn vị nhất trí với dự thảo, hãy chọn "
                              "“Nhất trí với dự thảo, không có ý kiến góp ý”.", field="text")
    substantive = [(part_id, text) for part_id, text in cleaned if not is_agreement_only(text)]
    if not substantive:
        existing = session.scalar(select(UnitReply).where(UnitReply.consultation_id == consultation.id,
                                                          UnitReply.unit_id == unit.id))
        if existing is not None and not existing.agreed_without_comment:
            raise OpinionRejected("Nội dung gửi lên chỉ thể hiện sự nhất trí, không có ý kiến góp ý mới; "
                                  "các ý kiến đơn vị đã gửi vẫn được giữ nguyên.")
        reply = _reply_for(session, actor, consultation, unit, agreed=True, channel=channel, letter=letter, now=now,
                           max_bytes=max_bytes)
        record(session, actor, "reply.agree", reply, commune_id=consultation.commune_id, now=now,
               details={"unit": unit.name, "channel": channel, "written_as_comment": True})
        return []
    reply = _reply_for(session, actor, consultation, unit, agreed=False, channel=channel, letter=letter, now=now,
                       max_bytes=max_bytes)
    opinions = []
    for part_id, text in substantive:
        opinion = Opinion(consultation_id=consultation.id, commune_id=consultation.commune_id, part_id=part_id,
                          text=text, author_kind=AUTHOR_UNIT, unit_id=unit.id, reply_id=reply.id, channel=channel,
                          created_at=now, search_text=search_blob(f"{text} {unit.name}"))
        session.add(opinion)
        opinions.append(opinion)
    session.flush()
    details = {"unit": unit.name, "comments": len(opinions), "channel": channel}
    if len(substantive) < len(cleaned):
        details["agreements_left_out"] = len(cleaned) - len(substantive)
    record(session, actor, "reply.comments", reply, commune_id=consultation.commune_id, now=now, details=details)
    return opinions


# --- tracking -------------------------------------------------------------------

REPLY_NONE, REPLY_AGREED, REPLY_COMMENTS = "none", "agreed", "comments"
REPLY_LABELS = {REPLY_NONE: "Chưa trả lời", REPLY_AGREED: "Nhất trí, không có ý kiến",
                REPLY_COMMENTS: "Có ý kiến góp ý"}


@dataclass
class UnitState:
    unit: Unit
    state: str
    comments: int
    reply: UnitReply | None

    @property
    def label(self) -> str:
        if self.state == REPLY_COMMENTS:
            return f"Có {self.comments} ý kiến góp ý"
        return REPLY_LABELS[self.state]


@dataclass
class ReplySummary:
    units: list[UnitState]
    invited: int
    replied: int
    agreed: int
    with_comments: int
    unit_opinions: int
    resident_opinions: int

    @property
    def to_remind(self) -> list[UnitState]:
        return [u for u in self.units if u.state == REPLY_NONE]


def reply_summary(session: Session, consultation: Consultation) -> ReplySummary:
    """Each invited unit's state, with counts for the officer (and the report).

    A unit's comments that only agree (``is_agreement_only``; replies saved before
    they were recognised) are not counted as opinions, and a unit with nothing
    else counts as "agreed without comment".
    """
    units = list(session.scalars(select(Unit).join(Invitation, Invitation.unit_id == Unit.id)
                                 .where(Invitation.consultation_id == consultation.id).order_by(Unit.kind, Unit.name)))
    replies = {r.unit_id: r for r in session.scalars(select(UnitReply).where(
        UnitReply.consultation_id == consultation.id))}
    counts: dict[int, int] = {}
    for unit_id, text in session.execute(select(Opinion.unit_id, Opinion.text).where(
            Opinion.consultation_id == consultation.id, Opinion.author_kind == AUTHOR_UNIT)):
        counts[unit_id] = counts.get(unit_id, 0) + (not is_agreement_only(text))
    states = []
    for unit in units:
        reply = replies.get(unit.id)
        if reply is None:
            state = REPLY_NONE
        elif reply.agreed_without_comment or not counts.get(unit.id):
            state = REPLY_AGREED
        else:
            state = REPLY_COMMENTS
        states.append(UnitState(unit, state, counts.get(unit.id, 0), reply))
    resident = session.scalar(select(func.count()).select_from(Opinion).where(
        Opinion.consultation_id == consultation.id, Opinion.author_kind == AUTHOR_RESIDENT))
    return ReplySummary(
        units=states, invited=len(states), replied=sum(s.state != REPLY_NONE for s in states),
        agreed=sum(s.state == REPLY_AGREED for s in states),
        with_comments=sum(s.state == REPLY_COMMENTS for s in states),
        unit_opinions=sum(s.comments for s in states), resident_opinions=resident or 0)


def list_opinions(session: Session, consultation: Consultation, *, query: str = "",
                  within=None) -> list[Opinion]:
    """Every opinion of a consultation: general ones first, then in the draft's order; searchable by words;
    ``within``, a condition on Opinion (the reader's reach, ``consult.access.visible``), narrows it."""
    stmt = (select(Opinion).outerjoin(DraftPart, DraftPart.id == Opinion.part_id)
            .where(Opinion.consultation_id == consultation.id, *(() if within is None else (within,)))
            .order_by(DraftPart.position.is_not(None), DraftPart.position, Opinion.created_at, Opinion.id))
    condition = words_condition(Opinion.search_text, query)
    if condition is not None:
        stmt = stmt.where(condition)
    return list(session.scalars(stmt))

