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
