"""An officer logs in with password and TOTP in a real browser."""

import pyotp
import pytest
from playwright.sync_api import expect

from tests.support.helpers import PASSWORD, make_commune, make_user

pytestmark = pytest.mark.browser


def test_officer_logs_in_with_password_and_totp(live_server, page, session):
    commune = make_commune(session)
    secret = pyotp.random_base32()
    make_user(session, "tam.vptk", "officer", commune, totp=secret, full_name="Lê Thị Tâm")
    session.commit()

    page.goto(f"{live_server}/staff")
    assert "/auth/login" in page.url
    page.get_by_label("Tên đăng nhập").fill("tam.vptk")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/auth/totp")
    page.get_by_label("Mã xác thực").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Xác nhận").click()
    page.wait_for_url("**/staff")
    expect(page.get_by_role("heading", name="Xin chào, Lê Thị Tâm")).to_be_visible()


def test_wrong_totp_keeps_the_officer_out(live_server, page, session):
    commune = make_commune(session)
    secret = pyotp.random_base32()
    make_user(session, "tam.vptk", "officer", commune, totp=secret)
    session.commit()
    page.goto(f"{live_server}/auth/login")
    page.get_by_label("Tên đăng nhập").fill("tam.vptk")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.get_by_label("Mã xác thực").fill("12345x")
    page.get_by_role("button", name="Xác nhận").click()
    expect(page.get_by_text("Mã xác thực không đúng")).to_be_visible()
    page.goto(f"{live_server}/staff")
    assert "/auth/login" in page.url


def test_layout_fits_a_360px_phone(live_server, phone_page, session):
    make_commune(session)
    session.commit()
    phone_page.goto(f"{live_server}/auth/login")
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
