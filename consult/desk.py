"""The desk: what waits for the person signed in, with counts and deadlines, each item one
click from the page where it is done.

An officer (and a commune's administrator) sees: invited units that have not replied to an open
draft, opinions still without an answer, drafts closing within 7 days, drafts whose real
posting leaves less than the law's period, votes past their end that wait for their count,
and the decisions to send and recognise within 5 working days (Điều 20 khoản 3, Điều 21 khoản
2). A khu phố head sees the votes of their group to count and decisions to send. A unit's
representative sees the drafts their unit has still to answer. Everything is read, never
written: the page is safe to reload and to serve from a replica's data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import url_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from consult.access import visible
from consult.auth.models import ROLE_ADMIN, ROLE_GROUP_HEAD, ROLE_OFFICER, ROLE_UNIT_REP, User
from consult.consultations.models import STATUS_CLOSED, STATUS_OPEN, STATUS_REPORTED, Consultation, Invitation
from consult.opinions.models import UnitReply
from consult.polls import deadlines
from consult.polls.models import STATUS_OPEN as POLL_OPEN
from consult.polls.models import Poll
from consult.publication import service as publication
from consult.reports.workspace import STATE_UNDECIDED
from consult.timeutil import format_datetime, humanize_remaining, local_date

CLOSING_SOON = timedelta(days=7)


@dataclass
class Item:
    label: str  # what the item is about (a draft's or a vote's title)
    detail: str  # what waits, with its count
    url: str
    deadline: str = ""  # when, as the person reads it
    overdue: bool = False


@dataclass
class Section:
    key: str
    title: str
    items: list[Item] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.items)


def desk(session: Session, user: User, now: datetime) -> list[Section]:
    """The sections that have something waiting, in the order they are best done."""
    if user.role in (ROLE_ADMIN, ROLE_OFFICER) and user.commune_id:
        sections = _consultation_sections(session, user, now) + _vote_sections(session, user, now)
    elif user.role == ROLE_GROUP_HEAD and user.commune_id:
        sections = _vote_sections(session, user, now)
    elif user.role == ROLE_UNIT_REP and user.unit_id:
        sections = [_unit_replies(session, user, now)]
    else:
        sections = []
    return [s for s in sections if s.items]


def _consultation_sections(session: Session, user: User, now: datetime) -> list[Section]:
    consultations = list(session.scalars(
        select(Consultation).where(visible(user, Consultation), Consultation.status.in_((STATUS_OPEN, STATUS_CLOSED)))
        .order_by(Consultation.closes_at)))
    silent = Section("units", "Đơn vị chưa trả lời")
    unanswered = Section("opinions", "Ý kiến chưa có hướng tiếp thu, giải trình")
    closing = Section("closing", "Hết hạn góp ý trong 7 ngày tới")
    short = Section("posting", "Thời gian công khai dự thảo chưa đủ")
    invited = dict(session.execute(
        select(Invitation.consultation_id, func.count()).where(
            Invitation.consultation_id.in_([c.id for c in consultations]))
        .group_by(Invitation.consultation_id)).all()) if consultations else {}
    replied = dict(session.execute(
        select(UnitReply.consultation_id, func.count()).where(
            UnitReply.consultation_id.in_([c.id for c in consultations]))
        .group_by(UnitReply.consultation_id)).all()) if consultations else {}
    for c in consultations:
        key = c.effective_status(now)
        closes = format_datetime(c.closes_at)
        missing = invited.get(c.id, 0) - replied.get(c.id, 0)
        if key == STATUS_OPEN and missing > 0:
            silent.items.append(Item(c.title, f"{missing}/{invited[c.id]} đơn vị chưa trả lời",
                                     url_for("consultations.replies", consultation_id=c.id), f"hạn {closes}"))
        if key == STATUS_OPEN and c.closes_at - now <= CLOSING_SOON:
            closing.items.append(Item(c.title, humanize_remaining(c.closes_at - now).capitalize(),
                                      url_for("consultations.show", consultation_id=c.id), f"hạn {closes}"))
        waiting = c.opinions_without_answer()
        if waiting:
            unanswered.items.append(Item(
                c.title, f"{waiting} ý kiến chưa xử lý",
                url_for("reports.workspace", consultation_id=c.id, state=STATE_UNDECIDED),
                "đã hết hạn góp ý, cần hoàn thành báo cáo" if key in (STATUS_CLOSED, STATUS_REPORTED) else
                f"góp ý đến {closes}", overdue=key == STATUS_CLOSED))
        if key == STATUS_OPEN:
            why = publication.period_shortfall(c, publication.real_start(session, c))
            if why:
                short.items.append(Item(c.title, why, url_for("consultations.show", consultation_id=c.id),
                                        overdue=True))
    return [silent, unanswered, closing, short]


def _vote_sections(session: Session, user: User, now: datetime) -> list[Section]:
    count = Section("count", "Biểu quyết đã kết thúc, chờ kiểm phiếu")
    for poll in session.scalars(select(Poll).where(visible(user, Poll), Poll.status == POLL_OPEN,
                                                   Poll.closes_at <= now).order_by(Poll.closes_at)):
        count.items.append(Item(poll.title, "Kiểm phiếu, ghi kết quả và lập biên bản",
                                url_for("polls.show", poll_id=poll.id), f"kết thúc {format_datetime(poll.closes_at)}"))
    due = Section("deadlines", "Hạn sau biểu quyết (5 ngày làm việc)")
    for r in deadlines.deadline_reminders(session, visible(user, Poll), today=local_date(now)):
        what = ("Gửi UBND và Ủy ban MTTQ cấp xã (Điều 20 khoản 3)" if r.what == "sent"
                else "Công nhận hoặc trả lời không công nhận (Điều 21 khoản 2)")
        due.items.append(Item(r.poll.title, what, url_for("polls.show", poll_id=r.poll.id),
                              f"hạn {r.deadline:%d/%m/%Y}", r.overdue))
    return [count, due]


def _unit_replies(session: Session, user: User, now: datetime) -> Section:
    section = Section("reply", "Dự thảo đơn vị cần trả lời")
    answered = set(session.scalars(select(UnitReply.consultation_id).where(UnitReply.unit_id == user.unit_id)))
    for c in session.scalars(select(Consultation).where(visible(user, Consultation),
                                                        Consultation.status == STATUS_OPEN)
                             .order_by(Consultation.closes_at)):
        if c.id in answered or not c.accepts_opinions(now):
            continue
        section.items.append(Item(c.title, "Trả lời bằng ý kiến góp ý, hoặc “Nhất trí, không có ý kiến”",
                                  url_for("opinions.unit_reply", consultation_id=c.id),
                                  f"hạn {format_datetime(c.closes_at)} ({humanize_remaining(c.closes_at - now)})",
                                  c.closes_at - now <= timedelta(days=2)))
    return section

