"""Opinions: residents' comments and invited units' written replies.

Invited units must answer in writing, "nhất trí, không có ý kiến" included
(seed letter 491/UBND); every opinion is saved only while the consultation is
open, checked in the transaction that saves it (Luật Điều 28 khoản 2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from consult.audit.service import Actor, record
from consult.communes.models import ResidentialGroup, Unit
from consult.consultations.models import Consultation, DraftPart, Invitation
from consult.consultations.service import ConsultationClosed, ConsultationError
from consult.opinions.models import (
    AUTHOR_RESIDENT,
    AUTHOR_UNIT,
    CHANNEL_ONLINE,
    Opinion,
    UnitReply,
)
from consult.textsearch import words_condition, search_blob
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
    if len(text) > MAX_OPINION_CHARS:
        raise OpinionRejected(f"Nội dung góp ý dài {len(text):,} ký tự, vượt quá {MAX_OPINION_CHARS:,} ký tự cho phép."
                              .replace(",", "."))
    return text


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
    text = check_text(text)
    name = nfc((name or "").strip())
    if not name:
        raise OpinionRejected("Vui lòng ghi họ và tên.")
    if len(name) > 160:
        raise OpinionRejected("Họ và tên dài quá 160 ký tự.")
    group = session.get(ResidentialGroup, group_id) if group_id else None
    if group is None or group.commune_id != consultation.commune_id:
        raise OpinionRejected("Vui lòng chọn khu phố, thôn nơi bạn sinh sống.")
    phone = re.sub(r"[\s.\-]", "", phone or "") or None
    if phone and not _PHONE_RE.match(phone):
        raise OpinionRejected("Số điện thoại không hợp lệ (ví dụ 0912345678).")
    opinion = Opinion(
        consultation_id=consultation.id, commune_id=consultation.commune_id,
        part_id=_check_part(session, consultation, part_id), text=text, author_kind=AUTHOR_RESIDENT,
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
    """One or more comments of a unit, each on a part or on the whole draft."""
    now = now or utcnow()
    _lock_open(session, consultation, now)
    unit = _invited_unit(session, consultation, unit_id)
    cleaned = [(_check_part(session, consultation, part_id), check_text(text)) for part_id, text in comments
               if (text or "").strip() or part_id]
    if not cleaned:
        raise OpinionRejected("Chưa có ý kiến nào. Nếu đơn vị nhất trí với dự thảo, hãy chọn "
                              "“Nhất trí với dự thảo, không có ý kiến góp ý”.")
    reply = _reply_for(session, actor, consultation, unit, agreed=False, channel=channel, letter=letter, now=now,
                       max_bytes=max_bytes)
    opinions = []
    for part_id, text in cleaned:
        opinion = Opinion(consultation_id=consultation.id, commune_id=consultation.commune_id, part_id=part_id,
                          text=text, author_kind=AUTHOR_UNIT, unit_id=unit.id, reply_id=reply.id, channel=channel,
                          created_at=now, search_text=search_blob(f"{text} {unit.name}"))
        session.add(opinion)
        opinions.append(opinion)
    session.flush()
    record(session, actor, "reply.comments", reply, commune_id=consultation.commune_id, now=now,
           details={"unit": unit.name, "comments": len(opinions), "channel": channel})
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
    """Each invited unit's state, with counts for the officer (and the report)."""
    units = list(session.scalars(select(Unit).join(Invitation, Invitation.unit_id == Unit.id)
                                 .where(Invitation.consultation_id == consultation.id).order_by(Unit.kind, Unit.name)))
    replies = {r.unit_id: r for r in session.scalars(select(UnitReply).where(
        UnitReply.consultation_id == consultation.id))}
    counts = dict(session.execute(select(Opinion.unit_id, func.count()).where(
        Opinion.consultation_id == consultation.id, Opinion.author_kind == AUTHOR_UNIT).group_by(Opinion.unit_id)).all())
    states = []
    for unit in units:
        reply = replies.get(unit.id)
        if reply is None:
            state = REPLY_NONE
        elif reply.agreed_without_comment:
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


def list_opinions(session: Session, consultation: Consultation, *, query: str = "") -> list[Opinion]:
    """Every opinion of a consultation: general ones first, then in the draft's order; searchable by words."""
    stmt = (select(Opinion).outerjoin(DraftPart, DraftPart.id == Opinion.part_id)
            .where(Opinion.consultation_id == consultation.id)
            .order_by(DraftPart.position.is_not(None), DraftPart.position, Opinion.created_at, Opinion.id))
    condition = words_condition(Opinion.search_text, query)
    if condition is not None:
        stmt = stmt.where(condition)
    return list(session.scalars(stmt))

