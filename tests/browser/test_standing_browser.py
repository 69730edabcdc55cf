"""One consultation, one state: every page that shows a consultation says where it stands in the
same words (Consultation.standing), whoever looks: the officer, a unit representative, a resident."""

from __future__ import annotations

from datetime import datetime, timedelta

import pyotp
import pytest

from consult.audit.service import SYSTEM
from consult.consultations import service
from consult.timeutil import local_to_utc, to_local, utcnow
from tests.support.helpers import browser_login, make_commune, make_consultation, make_group, make_unit, make_user
from tests.support.pagecheck import axe_violations, tools

pytestmark = pytest.mark.browser


def test_the_pages_of_a_scheduled_consultation_agree(browser, live_server, session):
    axe, _ = tools()
    commune = make_commune(session)
    make_group(session, commune, name="Khu phố 1")
    unit = make_unit(session, commune, "Hội Nông dân phường")
    secret = pyotp.random_base32()
    make_user(session, "tam.vptk", "officer", commune, totp=secret)
    make_user(session, "dai.dien", "unit_rep", commune, unit=unit)
    # Published now, opening at 08:00 the day after tomorrow (Hà Nội), closing 26 days later.
    day = to_local(utcnow()).date() + timedelta(days=2)
    opens = local_to_utc(datetime(day.year, day.month, day.day, 8, 0))
    c = make_consultation(session, commune, [unit], now=opens, days=26, publish=False)
    service.publish(session, SYSTEM, c, now=utcnow())
    session.commit()
    assert c.opens_at == opens
    expected = (f"Sắp lấy ý kiến Bắt đầu nhận ý kiến từ 08:00 {day:%d/%m/%Y}, hạn cuối "
                f"{to_local(c.closes_at):%H:%M %d/%m/%Y}.")

    said = {}
    officer = browser.new_context(locale="vi-VN")
    page = officer.new_page()
    browser_login(page, live_server, "tam.vptk", secret)
    page.goto(f"{live_server}/consultations/{c.id}")
    said["staff page"] = page.locator("#standing").inner_text()
    officer.close()

    rep = browser.new_context(locale="vi-VN", bypass_csp=True)  # to inject axe-core
    page = rep.new_page()
    browser_login(page, live_server, "dai.dien")
    page.goto(f"{live_server}/opinions/")
    item = page.locator(".cards li", has_text=c.title)
    assert item.locator(".badge").inner_text() == "Chưa đến thời gian góp ý"
    said["unit's list"] = "Sắp lấy ý kiến " + item.locator(".muted").inner_text()
    page.goto(f"{live_server}/opinions/consultations/{c.id}")
    said["unit's page"] = page.locator("#standing").inner_text()
    assert page.locator("form button", has_text="Nhất trí").count() == 0
    assert axe_violations(page, axe) == []
    rep.close()

    resident = browser.new_context(locale="vi-VN", viewport={"width": 360, "height": 740}, is_mobile=True,
                                   java_script_enabled=False)
    page = resident.new_page()
    page.goto(f"{live_server}/c/{commune.slug}/consultations/{c.id}")
    said["public draft"] = page.locator("#standing").inner_text()
    page.goto(f"{live_server}/c/{commune.slug}/consultations/{c.id}/comment")
    said["resident's form"] = page.locator("#standing").inner_text()
    assert page.locator("textarea").count() == 0
    page.goto(f"{live_server}/c/{commune.slug}")
    item = page.locator(".cards li", has_text=c.title)
    said["commune home"] = item.locator(".badge").inner_text() + " " + item.locator(".muted").inner_text()
    resident.close()

    assert said == {where: expected for where in said}, said
