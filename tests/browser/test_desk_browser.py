"""The desk lists what waits for the person signed in, each item one click from where it is done."""

from __future__ import annotations

import pyotp
import pytest

from tests.support.pagecheck import Journey

pytestmark = pytest.mark.browser


def test_the_officer_s_desk_lists_the_demo_s_pending_work(browser, live_server, runner, tmp_path):
    output = runner.invoke(args=["demo"]).output
    line = next(line for line in output.splitlines() if "tam.vptk" in line)
    _, password, secret = line.split()[-3:]
    context = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", bypass_csp=True)  # axe-core
    page = context.new_page()
    journey = Journey("ban-lam-viec", page, tmp_path)
    page.goto(f"{live_server}/auth/login")
    page.get_by_label("Tên đăng nhập").fill("tam.vptk")
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()
    page.get_by_label("Mã xác thực").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Xác nhận").click()
    page.wait_for_url("**/staff")
    journey.check("bàn làm việc của cán bộ VP-TK")
    units = page.locator("#desk-units li")
    opinions = page.locator("#desk-opinions li")
    assert units.count() == 1 and opinions.count() == 1
    assert "đơn vị chưa trả lời" in units.first.inner_text() and "hạn 17:00" in units.first.inner_text()
    assert "ý kiến chưa xử lý" in opinions.first.inner_text()
    heading = page.locator("#desk-title").inner_text()
    assert heading == f"Việc đang chờ bạn ({page.locator('#desk li').count()})"
    units.first.get_by_role("link").click()
    page.wait_for_url("**/consultations/*/replies")
    journey.check("từ bàn làm việc đến danh sách đơn vị trả lời")
    page.go_back()
    opinions.first.get_by_role("link").click()
    page.wait_for_url("**/reports/consultations/*?state=undecided")
    assert page.locator("article.group.pending").count() > 0 and page.locator("article.group.decided").count() == 0
    journey.finish()
    context.close()
