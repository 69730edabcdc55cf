"""Reminders that reach people (invited units must answer, "nhất trí, không có ý kiến" included:
seed letter 491/UBND; DOMAIN: track who has not replied): queued, delivered to a real SMTP
server outside any request, a passing refusal retried, a final one shown."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from sqlalchemy import select

from consult.audit.service import SYSTEM
from consult.mail import service
from consult.mail.models import FAILED, QUEUED, SENT, OutgoingMail
from consult.opinions.service import agree_without_comment, reply_summary
from tests.support.helpers import make_commune, make_consultation, make_unit
from tests.support.smtp import SmtpServer


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


def _units(session):
    commune = make_commune(session)
    units = {name: make_unit(session, commune, name) for name in ("Hội Nông dân", "Đoàn Thanh niên", "Hội Phụ nữ",
                                                                  "Công an phường", "Hội Cựu chiến binh")}
    for name, address in (("Hội Nông dân", "nongdan@binhan.vn"), ("Đoàn Thanh niên", "doan@binhan.vn"),
                          ("Hội Phụ nữ", "phunu@binhan.vn"), ("Hội Cựu chiến binh", "ccb@binhan.vn")):
        units[name].email = address
    c = make_consultation(session, commune, list(units.values()))
    agree_without_comment(session, SYSTEM, c, units["Hội Cựu chiến binh"].id)  # has replied: not reminded
    session.commit()
    return c


def _mails(session, c):
    session.rollback()
    session.expire_all()
    return {m.to_address: m for m in session.scalars(select(OutgoingMail).where(OutgoingMail.consultation_id == c.id))}


def test_reminders_are_delivered_retried_and_refusals_recorded(app, session, smtp, now):
    c = _units(session)
    queued, without = service.queue_reminders(session, SYSTEM, c, reply_summary(session, c),
                                              reply_url="https://binhan.example.vn/opinions/", now=now)
    session.commit()
    assert queued == 3 and without == ["Công an phường"]  # no address: on the printed list
    smtp.handler.refuse = {"doan@binhan.vn": "550 5.1.1 Không có hộp thư này", "phunu@binhan.vn": "451 4.3.0 Thử lại sau"}
    settings = service.SmtpSettings("127.0.0.1", smtp.port, sender="vanphong@binhan.vn")
    writer = app.extensions["consult_writer_sessionmaker"]
    assert service.deliver_due(writer, settings, now=now) == {"sent": 1, "retry": 1, "failed": 1}
    mails = _mails(session, c)
    assert mails["nongdan@binhan.vn"].status == SENT
    [received] = smtp.to("nongdan@binhan.vn")
    assert received["Subject"] == f"Nhắc gửi ý kiến: {c.title}" and "Hội Nông dân" in received["To"]
    assert "kể cả trường hợp nhất trí, không có ý kiến" in received.get_content()
    assert mails["doan@binhan.vn"].status == FAILED and "550" in mails["doan@binhan.vn"].last_error
    waiting = mails["phunu@binhan.vn"]
    assert waiting.status == QUEUED and waiting.attempts == 1 and "451" in waiting.last_error
    assert waiting.next_attempt_at == now + service.RETRY_AFTER[0]
    assert service.deliver_due(writer, settings, now=now + timedelta(seconds=30)) == {"sent": 0, "retry": 0, "failed": 0}
    smtp.handler.refuse = {}
    assert service.deliver_due(writer, settings, now=now + timedelta(minutes=2))["sent"] == 1
    assert _mails(session, c)["phunu@binhan.vn"].status == SENT and len(smtp.to("phunu@binhan.vn")) == 1
    # a second reminder while none is waiting is a new message; none is queued twice
    queued, _ = service.queue_reminders(session, SYSTEM, c, reply_summary(session, c), reply_url="x", now=now)
    again, _ = service.queue_reminders(session, SYSTEM, c, reply_summary(session, c), reply_url="x", now=now)
    assert queued == 3 and again == 0


def test_a_server_that_cannot_be_reached_is_tried_again_then_given_up(app, session, now):
    c = _units(session)
    service.queue_reminders(session, SYSTEM, c, reply_summary(session, c), reply_url="x", now=now)
    session.commit()
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = service.SmtpSettings("127.0.0.1", port)
    writer = app.extensions["consult_writer_sessionmaker"]
    moment = now
    for _ in service.RETRY_AFTER:
        assert service.deliver_due(writer, settings, now=moment)["retry"] == 3
        moment += timedelta(hours=7)
    assert service.deliver_due(writer, settings, now=moment)["failed"] == 3
    assert {m.status for m in _mails(session, c).values()} == {FAILED}
    assert all("Không kết nối được máy chủ thư" in m.last_error for m in _mails(session, c).values())


def test_without_a_server_configured_mail_waits(app, session, now):
    c = _units(session)
    service.queue_reminders(session, SYSTEM, c, reply_summary(session, c), reply_url="x", now=now)
    session.commit()
    settings = service.SmtpSettings(None)
    assert service.deliver_due(app.extensions["consult_writer_sessionmaker"], settings, now=now)["sent"] == 0
    assert {m.status for m in _mails(session, c).values()} == {QUEUED}


def test_no_reminder_once_the_period_has_ended(app, session, now):
    c = _units(session)
    with pytest.raises(service.MailError, match="không còn nhận ý kiến"):
        service.queue_reminders(session, SYSTEM, c, reply_summary(session, c), reply_url="x",
                                now=c.closes_at + timedelta(minutes=1))
    assert _mails(session, c) == {}


# --- the group head's deadline (Luật Điều 20 khoản 3: the decision reaches the commune's UBND
# and Fatherland Front within 5 working days) --------------------------------------------------

def _decided_vote(session, *, email="truongkp1@binhan.vn"):
    """A k6 vote of Khu phố 1 decided on Monday 2 March 2026 (09:00 in Viet Nam)."""
    from datetime import UTC, datetime

    from consult.polls.models import STATUS_DECIDED
    from tests.support.polls import group_with_households, open_vote

    commune, group = group_with_households(session, 4)
    group.head_email = email
    poll = open_vote(session, commune, [group])
    poll.status, poll.outcome_passed = STATUS_DECIDED, True
    poll.decided_at = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    session.commit()
    return poll


def _on(day: int):
    from datetime import UTC, datetime

    return datetime(2026, 3, day, 1, 0, tzinfo=UTC)  # 08:00 in Viet Nam


def test_the_head_is_reminded_of_the_5_working_days_then_told_when_they_have_passed(app, session, smtp):
    """Decided Monday 2/3: due Monday 9/3 (5 working days); reminded from Thursday 5/3, when 2 are
    left, once; told again on Tuesday 10/3 that the deadline has passed; never once it is sent."""
    from consult.mail.models import TOPIC_SEND_DUE, TOPIC_SEND_LATE

    poll = _decided_vote(session)
    assert service.queue_deadline_reminders(session, base_url="https://binhan.example.vn", now=_on(4)) == 0
    assert service.queue_deadline_reminders(session, base_url="https://binhan.example.vn", now=_on(5)) == 1
    assert service.queue_deadline_reminders(session, base_url="https://binhan.example.vn", now=_on(6)) == 0
    session.commit()
    writer = app.extensions["consult_writer_sessionmaker"]
    settings = service.SmtpSettings("127.0.0.1", smtp.port, sender="vanphong@binhan.vn")
    assert service.deliver_due(writer, settings, now=_on(5)) == {"sent": 1, "retry": 0, "failed": 0}
    [received] = smtp.to("truongkp1@binhan.vn")
    body = received.get_content()
    assert received["Subject"] == f"Nhắc hạn gửi kết quả biểu quyết: {poll.title}"
    assert "Kính gửi: Trưởng khu phố 1," in body and "chậm nhất ngày 09/03/2026" in body
    assert "khoản 3 Điều 20" in body and f"https://binhan.example.vn/polls/{poll.id}" in body
    assert service.queue_deadline_reminders(session, now=_on(9)) == 0  # the last day: already reminded
    assert service.queue_deadline_reminders(session, now=_on(10)) == 1
    session.commit()
    assert [m.topic for m in service.poll_mail(session, poll.id)] == [TOPIC_SEND_LATE, TOPIC_SEND_DUE]
    assert service.deliver_due(writer, settings, now=_on(10))["sent"] == 1
    assert "Đã quá hạn" in smtp.to("truongkp1@binhan.vn")[-1].get_content()


def test_no_deadline_mail_once_sent_or_without_the_heads_address(app, session):
    from datetime import date

    poll = _decided_vote(session)
    poll.sent_on = date(2026, 3, 4)
    session.commit()
    assert service.queue_deadline_reminders(session, now=_on(10)) == 0
    poll.sent_on, poll.group.head_email = None, None
    session.commit()
    assert service.queue_deadline_reminders(session, now=_on(10)) == 0


def test_the_deadline_skips_a_holiday_of_the_commune(app, session):
    """Working days exclude the commune's days off (DOMAIN: keep the holiday list as data)."""
    from datetime import date

    from consult.polls.deadlines import add_local_day

    poll = _decided_vote(session)
    add_local_day(session, SYSTEM, poll.commune_id, date(2026, 3, 3), "Lễ hội truyền thống")
    session.commit()
    assert service.queue_deadline_reminders(session, now=_on(5)) == 0  # 2 working days after: Wed 4, Thu 5
    assert service.queue_deadline_reminders(session, now=_on(6)) == 1
    assert "chậm nhất ngày 10/03/2026" in service.poll_mail(session, poll.id)[0].body
