"""Consultations in a real browser: the officer's reply tracking, a resident on a phone."""

import pyotp
import pytest
from playwright.sync_api import expect

from consult.audit.service import SYSTEM
from consult.opinions.service import add_unit_comments, agree_without_comment
from tests.support.helpers import browser_login, make_commune, make_consultation, make_group, make_unit, make_user

pytestmark = pytest.mark.browser


def test_officer_sees_7_of_10_replied_3_without_comment_and_3_to_remind(live_server, page, session):
    commune = make_commune(session)
    units = [make_unit(session, commune, f"Đơn vị số {i:02d}") for i in range(1, 11)]
    secret = pyotp.random_base32()
    make_user(session, "tam.vptk", "officer", commune, totp=secret)
    c = make_consultation(session, commune, units)
    for u in units[:3]:
        agree_without_comment(session, SYSTEM, c, u.id)
    for u in units[3:7]:
        add_unit_comments(session, SYSTEM, c, u.id, [(c.parts[0].id, "Góp ý Điều 1")])
    session.commit()

    browser_login(page, live_server, "tam.vptk", secret)
    page.goto(f"{live_server}/consultations/{c.id}")
    page.get_by_role("link", name="Xem từng đơn vị").click()

    stats = page.locator("#reply-stats")
    assert "7/10" in stats.inner_text() and "đơn vị đã trả lời" in stats.inner_text()
    assert stats.locator(".stat", has_text="nhất trí, không có ý kiến").locator("b").inner_text() == "3"
    assert stats.locator(".stat", has_text="cần nhắc").locator("b").inner_text() == "3"
    assert page.locator("#reply-table tr.state-none").count() == 3
    assert page.locator("#reply-table tr.state-agreed").count() == 3
    assert page.locator("#reply-table tr.state-comments").count() == 4

    with page.expect_navigation():
        page.get_by_role("link", name="In danh sách đơn vị cần nhắc").click()
    rows = page.locator("#remind-table tbody tr")
    assert rows.count() == 3
    assert [rows.nth(i).locator("td").nth(1).inner_text() for i in range(3)] == [
        "Đơn vị số 08", "Đơn vị số 09", "Đơn vị số 10"]


def test_resident_comments_on_a_part_from_a_phone_without_javascript(live_server, browser, session):
    commune = make_commune(session)
    make_group(session, commune, name="Khu phố 3")
    c = make_consultation(session, commune, [])
    session.commit()
    context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 740},
                                  is_mobile=True, locale="vi-VN")
    phone = context.new_page()
    phone.goto(f"{live_server}/c/{commune.slug}/consultations/{c.id}")
    assert phone.locator("script").count() == 0
    phone.get_by_role("link", name="Góp ý Điều 1, khoản 1, điểm a").click()
    phone.get_by_label("Nội dung góp ý").fill("<script>alert(1)</script> Đề nghị làm rõ điểm a")
    phone.get_by_label("Họ và tên").fill("Nguyễn Thị Mai")
    phone.get_by_label("Khu phố, thôn").select_option(label="Khu phố 3")
    phone.get_by_role("button", name="Gửi ý kiến").click()
    expect(phone.get_by_text("Ý kiến đã được ghi nhận")).to_be_visible()
    point = phone.locator("#dieu-1-khoan-1-diem-a")
    assert "1 ý kiến" in point.locator(".part-head").inner_text()
    context.close()


def test_a_resident_on_a_phone_comments_on_one_row_of_a_draft_table(live_server, browser, session, tmp_path):
    """Issue #27 point 2: a draft's table is a table on the phone (scrolling inside itself, not
    the page), each row with its own link; the comment lands on that row. axe-core and the
    Nu HTML Checker check the pages."""
    from tests.support.drafts import TABLE_DRAFT
    from tests.support.pagecheck import Journey

    commune = make_commune(session)
    make_group(session, commune, name="Khu phố 3")
    c = make_consultation(session, commune, [], text=TABLE_DRAFT)
    session.commit()
    # Script on only for axe-core: the pages themselves carry none.
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, locale="vi-VN",
                                  bypass_csp=True)
    phone = context.new_page()
    journey = Journey("table-row-comment", phone, tmp_path, phone=True)
    phone.goto(f"{live_server}/c/{commune.slug}/consultations/{c.id}")
    table = phone.get_by_role("table")
    expect(table.get_by_role("columnheader", name="Khoản thu")).to_be_visible()
    expect(table.get_by_role("cell", name="Quỹ đền ơn đáp nghĩa")).to_be_visible()
    assert phone.locator("script").count() == 0
    journey.check("dự thảo có bảng")
    phone.get_by_role("link", name="Góp ý Điều 1, khoản 1, dòng 2").click()
    expect(phone.locator("#chosen-part")).to_contain_text("Điều 1, khoản 1, dòng 2")
    journey.check("góp ý một dòng")
    phone.get_by_label("Nội dung góp ý").fill("Đề nghị giảm mức thu Quỹ đền ơn đáp nghĩa.")
    phone.get_by_label("Họ và tên").fill("Nguyễn Thị Mai")
    phone.get_by_label("Khu phố, thôn").select_option(label="Khu phố 3")
    phone.get_by_role("button", name="Gửi ý kiến").click()
    expect(phone.get_by_text("Ý kiến đã được ghi nhận")).to_be_visible()
    expect(phone.locator("#dieu-1-khoan-1-dong-2")).to_contain_text("1 ý kiến")
    expect(phone.locator("#dieu-1-khoan-1-dong-1")).to_contain_text("0 ý kiến")
    journey.check("đã góp ý")
    context.close()
    journey.finish()


def test_a_resident_asks_by_mail_for_the_results_and_confirms_from_the_mail(live_server, browser, session, tmp_path):
    """Issue #28 (optional point): from the public draft, a resident leaves an address; the
    confirmation mail's link opens a page whose button confirms it. axe-core and the Nu HTML
    Checker check the pages, at 360 px."""
    import re

    from sqlalchemy import select

    from consult.mail.models import OutgoingMail, ResultSubscription
    from tests.support.pagecheck import Journey

    commune = make_commune(session)
    c = make_consultation(session, commune, [])
    session.commit()
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, locale="vi-VN",
                                  bypass_csp=True)
    phone = context.new_page()
    journey = Journey("thu-bao-ket-qua", phone, tmp_path, phone=True)
    phone.goto(f"{live_server}/c/{commune.slug}/consultations/{c.id}")
    phone.get_by_role("link", name="Nhận thư báo khi có kết quả").click()
    journey.check("đăng ký nhận thư báo")
    phone.get_by_label("Địa chỉ thư điện tử").fill("mai@localhost")  # the browser lets it through; the server does not
    phone.get_by_role("button", name="Đăng ký nhận thư báo").click()
    expect(phone.locator("#email-error")).to_contain_text("Địa chỉ thư điện tử không đúng")
    journey.check("địa chỉ sai")
    phone.get_by_label("Địa chỉ thư điện tử").fill("nguyenthimai@example.vn")
    phone.get_by_role("button", name="Đăng ký nhận thư báo").click()
    expect(phone.get_by_text("Đã gửi thư xác nhận")).to_be_visible()
    session.rollback()
    body = session.scalar(select(OutgoingMail.body).where(OutgoingMail.topic == "confirm"))
    link = re.search(r"http://\S+/notify/[\w-]+", body).group(0)
    phone.goto(link)
    journey.check("thư xác nhận: trang của đường dẫn")
    phone.get_by_role("button", name="Xác nhận").click()
    expect(phone.locator("#subscription-confirmed")).to_be_visible()
    journey.check("đã xác nhận")
    session.rollback()
    assert session.scalar(select(ResultSubscription.confirmed_at)) is not None
    context.close()
    journey.finish()
