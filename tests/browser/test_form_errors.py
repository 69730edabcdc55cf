"""A refused form says why next to each field, and a screen reader hears it with the field:
the error is tied to its input (aria-describedby, aria-invalid) and announced (role alert)."""

from __future__ import annotations

import pytest

from tests.support.helpers import browser_login, make_commune, make_group, make_user
from tests.support.pagecheck import axe_violations, tools

pytestmark = pytest.mark.browser


def test_errors_are_announced_next_to_their_fields(browser, live_server, session):
    axe, _ = tools()
    commune = make_commune(session)
    group = make_group(session, commune, name="Khu phố 1")
    make_user(session, "truong.kp1", "group_head", commune, group=group)
    session.commit()
    context = browser.new_context(locale="vi-VN", viewport={"width": 360, "height": 740}, is_mobile=True,
                                  bypass_csp=True)
    page = context.new_page()
    browser_login(page, live_server, "truong.kp1")
    page.goto(f"{live_server}/households/groups/{group.id}/new")
    page.get_by_label("Số nhân khẩu").fill("120")
    # The browser's own checks (required, min, max) would stop the form first; the server's
    # are the ones every browser gets.
    page.evaluate("document.querySelectorAll('form').forEach(f => f.noValidate = true)")
    with page.expect_navigation():
        page.get_by_role("button", name="Lưu").click()
    refused = page.locator("[aria-invalid=true]")
    names = sorted(refused.nth(i).get_attribute("name") for i in range(refused.count()))
    assert names == ["address", "code", "members", "representative"]
    for i in range(refused.count()):
        field = refused.nth(i)
        error = page.locator("#" + field.get_attribute("aria-describedby").split()[-1])
        assert error.get_attribute("role") == "alert"
        assert error.inner_text() in ("Vui lòng nhập mã hộ.", "Vui lòng nhập tên đại diện hộ.", "Vui lòng nhập địa chỉ.",
                                      "Từ 1 đến 99."), error.inner_text()
        # next to its field: the same paragraph
        assert error.evaluate("e => e.parentElement") == field.evaluate("e => e.parentElement")
    assert page.get_by_label("Mã hộ").get_attribute("aria-invalid") == "true"
    assert axe_violations(page, axe) == []
    context.close()
