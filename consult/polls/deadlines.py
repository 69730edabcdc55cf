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


@dataclass
class Reminder:
    poll: Poll
    deadline: date
    overdue: bool


def deadline_reminders(session: Session, condition, *, today: date) -> list[Reminder]:
    """Decisions not yet sent to the commune, with their 5-working-day deadline."""
    polls = session.scalars(select(Poll).where(condition, Poll.status == STATUS_DECIDED, Poll.sent_on.is_(None))
                            .order_by(Poll.decided_at))
    reminders = []
    for poll in polls:
        deadline = report_deadline(session, poll)
        reminders.append(Reminder(poll, deadline, today > deadline))
    return reminders
