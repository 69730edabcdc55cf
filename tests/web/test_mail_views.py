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
