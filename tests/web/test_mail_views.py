"""The officer sends reminders from the list of units that have not replied and sees what
was sent, to whom, when, and what was refused; delivery happens in the worker, not the request."""

from __future__ import annotations

import pyotp
import pytest

from tests.support.helpers import login, make_commune, make_consultation, make_unit, make_user, post_form
from tests.support.smtp import SmtpServer


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


def test_reminders_go_out_through_the_worker_and_the_outbox_shows_each(app, client, session, runner, smtp):
    app.config.update(JOBS_IN_PROCESS=False, SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port, MAIL_FROM="vp@binhan.vn")
    commune = make_commune(session)
    ok = make_unit(session, commune, "Hội Nông dân")
    ok.email = "nongdan@binhan.vn"
    bad = make_unit(session, commune, "Đoàn Thanh niên")
    bad.email = "doan@binhan.vn"
    make_unit(session, commune, "Công an phường")
    c = make_consultation(session, commune, session.query(type(ok)).all())
    secret = pyotp.random_base32()
    make_user(session, "tam.vptk", "officer", commune, totp=secret)
    session.commit()
    smtp.handler.refuse = {"doan@binhan.vn": "550 5.1.1 Không có hộp thư này"}
    login(client, "tam.vptk", totp_secret=secret)
    page = client.get(f"/consultations/{c.id}/reminders").get_data(as_text=True)
    assert "Gửi thư nhắc cho 2 đơn vị có địa chỉ thư điện tử" in page and "chưa có thư điện tử: nhắc trực tiếp" in page
    r = post_form(client, f"/consultations/{c.id}/reminders/mail", {}, get_url=f"/consultations/{c.id}/reminders",
                  follow_redirects=True)
    text = r.get_data(as_text=True)
    assert "Đã xếp 2 thư nhắc vào hàng gửi." in text and "1 đơn vị chưa có địa chỉ thư điện tử" in text
    assert text.count("Đang chờ gửi") == 2 and smtp.handler.messages == []  # nothing sent inside the request
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0 and "Thư: đã gửi 1, sẽ thử lại 0, không gửi được 1." in result.output
    outbox = client.get(f"/consultations/{c.id}/mail").get_data(as_text=True)
    assert "Đã gửi" in outbox and "Không gửi được" in outbox and "550 5.1.1 Không có hộp thư này" in outbox
    assert len(smtp.to("nongdan@binhan.vn")) == 1


def test_the_head_is_mailed_by_the_worker_when_the_decision_is_late_and_pages_show_it(app, client, session, runner,
                                                                                        smtp):
    """Luật Điều 20 khoản 3: the decision is sent within 5 working days. The administrator records
    the head's address (a bad one is refused, nothing changed); the worker mails the head; the
    vote's page and the commune's mail page show what was sent."""
    from datetime import timedelta

    from consult.communes.models import ResidentialGroup
    from consult.polls.models import STATUS_DECIDED
    from consult.timeutil import utcnow
    from tests.support.polls import group_with_households, open_vote

    app.config.update(JOBS_IN_PROCESS=False, SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port, MAIL_FROM="vp@binhan.vn",
                      PUBLIC_BASE_URL="https://binhan.example.vn")
    commune, group = group_with_households(session, 3)
    poll = open_vote(session, commune, [group])
    poll.status, poll.outcome_passed, poll.decided_at = STATUS_DECIDED, True, utcnow() - timedelta(days=30)
    secret = pyotp.random_base32()
    make_user(session, "quan.tri", "admin", commune, totp=secret)
    make_user(session, "truong.kp1", "group_head", commune, group=group)
    session.commit()
    login(client, "quan.tri", totp_secret=secret)
    edit = f"/admin/groups/{group.id}/edit"
    form = {"kind": "khu_pho", "name": "Khu phố 1", "position": "0"}
    refused = post_form(client, edit, {**form, "head_email": "truong kp1@binhan"})
    assert "không hợp lệ" in refused.get_data(as_text=True)
    session.rollback()
    assert session.get(ResidentialGroup, group.id).head_email is None
    assert post_form(client, edit, {**form, "head_email": "truongkp1@binhan.vn"}).status_code == 302
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0 and "Đã xếp 1 thư nhắc hạn gửi kết quả biểu quyết." in result.output
    assert "Thư: đã gửi 1" in result.output
    [received] = smtp.to("truongkp1@binhan.vn")
    assert f"https://binhan.example.vn/polls/{poll.id}" in received.get_content()
    assert runner.invoke(args=["worker", "--once"]).output.count("Đã xếp") == 0  # once only
    mail_page = client.get("/mail/").get_data(as_text=True)
    assert "Quá hạn gửi kết quả biểu quyết" in mail_page and "truongkp1@binhan.vn" in mail_page
    client.get("/auth/logout")
    login(client, "truong.kp1")
    page = client.get(f"/polls/{poll.id}").get_data(as_text=True)
    assert 'id="deadline-mail"' in page and "Đã gửi" in page


def test_without_the_worker_command_the_worker_thread_queues_and_sends_the_heads_reminder(app, client, session, smtp):
    """The embedded setup runs no worker command: its one worker thread (consult/worker.py)
    queues and sends the heads' reminders; the desk page only shows the deadline, and starts
    no thread and sends no mail itself."""
    from datetime import timedelta

    from consult.mail.models import OutgoingMail
    from consult.polls.models import STATUS_DECIDED
    from consult.timeutil import utcnow
    from tests.support.background import threads_started
    from tests.support.polls import group_with_households, open_vote

    app.config.update(JOBS_IN_PROCESS=True, SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port, MAIL_FROM="vp@binhan.vn")
    commune, group = group_with_households(session, 3)
    group.head_email = "truongkp1@binhan.vn"
    poll = open_vote(session, commune, [group])
    poll.status, poll.outcome_passed, poll.decided_at = STATUS_DECIDED, True, utcnow() - timedelta(days=30)
    make_user(session, "truong.kp1", "group_head", commune, group=group)
    session.commit()
    login(client, "truong.kp1")
    with threads_started() as started:
        assert client.get("/staff").status_code == 200
        assert client.get("/staff").status_code == 200
    session.rollback()
    assert started == [] and session.query(OutgoingMail).count() == 0 and smtp.handler.messages == []
    worker = app.extensions["consult_worker"]
    assert worker.start()
    try:
        worker.wake()
        assert worker.wait_idle(timeout=60)
        assert len(smtp.to("truongkp1@binhan.vn")) == 1
        worker.wake()  # another pass: the head is reminded once only
        assert worker.wait_idle(timeout=60)
    finally:
        worker.stop()
    session.rollback()
    assert session.query(OutgoingMail).count() == 1 and len(smtp.to("truongkp1@binhan.vn")) == 1
