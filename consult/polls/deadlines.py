"""Working-day deadlines after a vote (Luật Điều 20 khoản 3, Điều 21 khoản 2) and
the calendar they count on.

Working days exclude Saturdays, Sundays and public holidays. The national ones
(Tết Dương lịch, Tết Nguyên đán by the lunar calendar, Giỗ Tổ Hùng Vương, 30/4,
1/5, 2/9 and the day beside it, and the days off the government moves) come
from the ``holidays`` package (country VN); each commune adds its own days off
and the weekend days worked in exchange (``LocalDay``), which only that
commune's administrator changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import holidays as holiday_calendars
from sqlalchemy import select
from sqlalchemy.orm import Session

from consult.audit.service import Actor, record
from consult.polls import rules
from consult.polls.errors import PollError
from consult.polls.models import DAY_KINDS, DAY_OFF, DAY_WORK, STATUS_DECIDED, LocalDay, Poll
from consult.textutil import nfc
from consult.timeutil import format_date, local_date


@dataclass(frozen=True)
class WorkCalendar:
    """The days off (national and the commune's) and the weekend days worked."""

    off: frozenset[date]
    worked: frozenset[date]

    def is_working_day(self, day: date) -> bool:
        return day in self.worked or (day.weekday() < 5 and day not in self.off)

    def add_working_days(self, start: date, days: int) -> date:
        return rules.add_working_days(start, days, set(self.off), set(self.worked))


def national_holidays(years) -> dict[date, str]:
    """Viet Nam's public holidays for the given years, named in Vietnamese."""
    return dict(holiday_calendars.country_holidays("VN", years=list(years), language="vi"))


def calendar(session: Session, commune_id: int, around: date) -> WorkCalendar:
    """The working-day calendar of a commune for the years around ``around``."""
    years = range(around.year - 1, around.year + 2)
    off = set(national_holidays(years))
    worked = set()
    for day in session.scalars(select(LocalDay).where(LocalDay.commune_id == commune_id)):
        (worked if day.kind == DAY_WORK else off).add(day.day)
    return WorkCalendar(frozenset(off - worked), frozenset(worked))


def add_local_day(session: Session, actor: Actor, commune_id: int, day: date, name: str,
                  kind: str = DAY_OFF) -> LocalDay:
    """A commune's own day off, or a weekend day worked in exchange for one
    (the working-day deadlines of that commune follow it)."""
    name = nfc(name or "").strip()
    if not name:
        raise PollError("Vui lòng nhập tên ngày.")
    if kind not in DAY_KINDS:
        raise PollError("Hãy chọn loại ngày.")
    if kind == DAY_WORK and day.weekday() < 5:
        raise PollError("Ngày làm việc bù phải là thứ Bảy hoặc Chủ nhật.")
    if session.scalar(select(LocalDay.id).where(LocalDay.commune_id == commune_id, LocalDay.day == day)):
        raise PollError(f"Ngày {format_date(day)} đã có trong lịch của xã, phường.")
    entry = LocalDay(commune_id=commune_id, day=day, kind=kind, name=name)
    session.add(entry)
    session.flush()
    record(session, actor, "calendar.add", object_type="local_day", object_id=str(entry.id),
           details={"day": day.isoformat(), "kind": kind, "name": name})
    return entry


def remove_local_day(session: Session, actor: Actor, entry: LocalDay) -> None:
    """Delete a commune's own calendar entry."""
    record(session, actor, "calendar.remove", object_type="local_day", object_id=str(entry.id),
           details={"day": entry.day.isoformat(), "kind": entry.kind, "name": entry.name})
    session.delete(entry)
    session.flush()


def report_deadline(session: Session, poll: Poll) -> date | None:
    """The decision must reach the commune's UBND and MTTQ within 5 working days (Điều 20 khoản 3)."""
    if poll.decided_at is None:
        return None
    decided = local_date(poll.decided_at)
    return calendar(session, poll.commune_id, decided).add_working_days(decided, 5)


def mark_sent(session: Session, actor: Actor, poll: Poll, sent_on: date) -> None:
    """Record that the decision reached the commune's UBND and MTTQ (Điều 20 khoản 3)."""
    if poll.status not in (STATUS_DECIDED,):
        raise PollError("Chỉ ghi ngày gửi khi cuộc biểu quyết đã có quyết định.")
    if poll.decided_at and sent_on < local_date(poll.decided_at):
        raise PollError("Ngày gửi không thể trước ngày biểu quyết.")
    poll.sent_on = sent_on
    record(session, actor, "poll.decision_sent", poll, details={"sent_on": sent_on.isoformat()})


# --- recognition (Luật Điều 21 khoản 2) ----------------------------------------------------------

def needs_recognition(poll: Poll) -> bool:
    """khoản 3, 4 (UBND), khoản 5 (UB MTTQ) and commune-wide khoản 1, 2 matters take effect only
    when the commune recognises them (or on the date its UBND sets)."""
    return rules.recognition(poll.matter_kind, poll.commune_wide).by is not None and poll.outcome_passed is True


def _check_recognisable(poll: Poll) -> None:
    if poll.status != STATUS_DECIDED or not needs_recognition(poll):
        raise PollError("Chỉ ghi việc công nhận với kết quả được thông qua của nội dung cần công nhận "
                        "(Điều 21 khoản 2).")


def record_received(session: Session, actor: Actor, poll: Poll, received_on: date) -> None:
    """The day the commune received the community's decision: the 5 working days to recognise it start."""
    _check_recognisable(poll)
    if poll.decided_at and received_on < local_date(poll.decided_at):
        raise PollError("Ngày nhận không thể trước ngày biểu quyết.")
    poll.received_on = received_on
    record(session, actor, "poll.received", poll, details={"received_on": received_on.isoformat()})


def recognition_deadline(session: Session, poll: Poll) -> date | None:
    """Recognition within 5 working days of receipt (Luật Điều 21 khoản 2)."""
    if poll.received_on is None:
        return None
    return calendar(session, poll.commune_id, poll.received_on).add_working_days(poll.received_on, 5)


def recognise(session: Session, actor: Actor, poll: Poll, *, number: str, on: date) -> None:
    """The commune's quyết định công nhận (number and date): the decision takes effect."""
    _check_recognisable(poll)
    number = nfc(number or "").strip()
    if not number:
        raise PollError("Hãy ghi số quyết định công nhận (ví dụ 125/QĐ-UBND).")
    if len(number) > 60:
        raise PollError("Số quyết định dài quá 60 ký tự.")
    if poll.received_on and on < poll.received_on:
        raise PollError("Ngày công nhận không thể trước ngày nhận.")
    poll.recognition_number, poll.recognised_on, poll.refusal_reason = number, on, None
    record(session, actor, "poll.recognised", poll, details={"number": number, "on": on.isoformat()})


def refuse_recognition(session: Session, actor: Actor, poll: Poll, *, reason: str) -> None:
    """A refusal is answered in writing with its reasons (Luật Điều 21 khoản 2)."""
    _check_recognisable(poll)
    reason = nfc(reason or "").strip()
    if not reason:
        raise PollError("Không công nhận phải nêu rõ lý do (khoản 2 Điều 21).")
    poll.refusal_reason, poll.recognition_number, poll.recognised_on = reason[:4000], None, None
    record(session, actor, "poll.recognition_refused", poll, details={"reason": reason[:4000]})


@dataclass
class Reminder:
    poll: Poll
    deadline: date
    overdue: bool
    what: str = "sent"  # "sent": to the commune (Điều 20 khoản 3); "recognise": by the commune (Điều 21)


def deadline_reminders(session: Session, condition, *, today: date) -> list[Reminder]:
    """Decisions not yet sent to the commune, and received decisions not yet recognised
    or refused, each with its 5-working-day deadline."""
    polls = session.scalars(select(Poll).where(condition, Poll.status == STATUS_DECIDED, Poll.sent_on.is_(None))
                            .order_by(Poll.decided_at))
    reminders = []
    for poll in polls:
        deadline = report_deadline(session, poll)
        reminders.append(Reminder(poll, deadline, today > deadline))
    pending = session.scalars(select(Poll).where(condition, Poll.status == STATUS_DECIDED, Poll.received_on.is_not(None),
                                                 Poll.recognised_on.is_(None), Poll.refusal_reason.is_(None))
                              .order_by(Poll.received_on))
    for poll in pending:
        if needs_recognition(poll):
            deadline = recognition_deadline(session, poll)
            reminders.append(Reminder(poll, deadline, today > deadline, "recognise"))
    return reminders
