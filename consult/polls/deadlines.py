"""Working-day deadlines after a vote (Luật Điều 20 khoản 3, Điều 21 khoản 2) and
the holidays they skip."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from consult.audit.service import Actor, record
from consult.polls import rules
from consult.polls.models import (
    STATUS_DECIDED,
    Holiday,
    Poll,
)
from consult.textutil import nfc
from consult.timeutil import format_date, local_date
from consult.polls.errors import PollError

def add_holiday(session: Session, actor: Actor, day: date, name: str) -> Holiday:
    """A public holiday that working-day deadlines skip (DOMAIN: kept as data an administrator updates)."""
    name = nfc(name or "").strip()
    if not name:
        raise PollError("Vui lòng nhập tên ngày nghỉ.")
    if session.get(Holiday, day) is not None:
        raise PollError(f"Ngày {format_date(day)} đã có trong danh sách ngày nghỉ.")
    holiday = Holiday(day=day, name=name)
    session.add(holiday)
    session.flush()
    record(session, actor, "holiday.add", object_type="holiday", object_id=day.isoformat(), details={"name": name})
    return holiday


def holidays(session: Session) -> set[date]:
    """The public holidays an administrator keeps, skipped by working-day deadlines."""
    return set(session.scalars(select(Holiday.day)))


def report_deadline(session: Session, poll: Poll) -> date | None:
    """The decision must reach the commune's UBND and MTTQ within 5 working days (Điều 20 khoản 3)."""
    if poll.decided_at is None:
        return None
    return rules.add_working_days(local_date(poll.decided_at), 5, holidays(session))


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
    days = holidays(session)
    reminders = []
    for poll in polls:
        deadline = rules.add_working_days(local_date(poll.decided_at), 5, days)
        reminders.append(Reminder(poll, deadline, today > deadline))
    return reminders
