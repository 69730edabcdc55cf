"""Working-day deadlines after a vote (Luật Điều 20 khoản 3, Điều 21 khoản 2) and
the calendar they count on.

Working days exclude Saturdays, Sundays and public holidays. The national ones
(Tết Dương lịch, Tết Nguyên đán by the lunar calendar, Giỗ Tổ Hùng Vương, 30/4,
1/5, 2/9 and the day beside it, and the days off the government moves) come
from the ``holidays`` package (country VN), with the weekend days it says are
worked in exchange; each commune's administrator corrects that calendar both
ways (``LocalDay``): its own days off, and working days on days the package
has off (its Tết of a coming year is a projection until the government
announces the schedule) or on a weekend day worked in exchange.
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


def _national(years) -> holiday_calendars.HolidayBase:
    return holiday_calendars.country_holidays("VN", years=list(years), language="vi")


def national_holidays(years) -> dict[date, str]:
    """Viet Nam's public holidays for the given years, named in Vietnamese."""
    return dict(_national(years))


def national_workdays(years) -> set[date]:
    """The weekend days the government moved a working day to (the ``holidays`` package's
    own swaps: Monday 31/08/2026 off "thay cho ngày 22/08/2026" makes Saturday 22/08 worked)."""
    calendar = _national(years)
    return {day for day in calendar.weekend_workdays if day.year in set(years)}


def calendar(session: Session, commune_id: int, around: date) -> WorkCalendar:
    """The working-day calendar of a commune for the years around ``around``: the national
    days off and swapped working days, corrected by the commune's own entries, which win
    both ways (a day the package has wrong, a local festival, a weekend day worked)."""
    years = range(around.year - 1, around.year + 2)
    off = set(national_holidays(years))
    worked = national_workdays(years)
    for day in session.scalars(select(LocalDay).where(LocalDay.commune_id == commune_id)):
        if day.kind == DAY_WORK:
            worked.add(day.day)
            off.discard(day.day)
        else:
            off.add(day.day)
            worked.discard(day.day)
    return WorkCalendar(frozenset(off), frozenset(worked))


def add_local_day(session: Session, actor: Actor, commune_id: int, day: date, name: str,
                  kind: str = DAY_OFF) -> LocalDay:
    """A correction of the commune's calendar, either way: a day off on a working day (a local
    festival, a holiday the national calendar lacks), or a working day on a day off (a weekend
    day worked in exchange, a weekday the national calendar wrongly has off). The working-day
    deadlines of that commune follow it."""
    name = nfc(name or "").strip()
    if not name:
        raise PollError("Vui lòng nhập tên ngày.")
    if kind not in DAY_KINDS:
        raise PollError("Hãy chọn loại ngày.")
    if session.scalar(select(LocalDay.id).where(LocalDay.commune_id == commune_id, LocalDay.day == day)):
        raise PollError(f"Ngày {format_date(day)} đã có trong lịch của xã, phường.")
    working = calendar(session, commune_id, day).is_working_day(day)
    if kind == DAY_WORK and working:
        raise PollError(f"Ngày {format_date(day)} đã là ngày làm việc.")
    if kind == DAY_OFF and not working:
        raise PollError(f"Ngày {format_date(day)} đã là ngày nghỉ.")
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


def vote_ended_at(poll: Poll):
    """When the vote itself ended: its set end, or the moment it was closed when that came
    first (a meeting that finished early, an online vote stopped early). A head who clicks
    "close" days after the end does not move the end."""
    if poll.decided_at is None:
        return None
    return min(poll.closes_at, poll.decided_at)


def report_deadline(session: Session, poll: Poll) -> date | None:
    """The decision must reach the commune's UBND and MTTQ within 5 working days of the
    end of the vote (Luật Điều 20 khoản 3), not of the day someone closed it."""
    ended = vote_ended_at(poll)
    if ended is None:
        return None
    ended = local_date(ended)
    return calendar(session, poll.commune_id, ended).add_working_days(ended, 5)


def mark_sent(session: Session, actor: Actor, poll: Poll, sent_on: date) -> None:
    """Record that the decision reached the commune's UBND and MTTQ (Điều 20 khoản 3)."""
    if poll.status not in (STATUS_DECIDED,):
        raise PollError("Chỉ ghi ngày gửi khi cuộc biểu quyết đã có quyết định.")
    if poll.decided_at and sent_on < local_date(vote_ended_at(poll)):
        raise PollError("Ngày gửi không thể trước ngày kết thúc biểu quyết.")
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
    if poll.decided_at and received_on < local_date(vote_ended_at(poll)):
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
