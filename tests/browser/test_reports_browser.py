"""The officer answers a group of identical opinions once, in a real browser."""

import pyotp
import pytest
from playwright.sync_api import expect

from consult.opinions.service import add_resident_opinion
from tests.support.helpers import browser_login, make_commune, make_consultation, make_group, make_user

pytestmark = pytest.mark.browser


def test_officer_answers_a_group_once_and_the_count_drops(live_server, page, session):
    commune = make_commune(session)
    group = make_group(session, commune, name="Khu phố 4")
    secret = pyotp.random_base32()
    make_user(session, "tam.vptk", "officer", commune, totp=secret)
    c = make_consultation(session, commune, [])
    for i, text in enumerate(["Đề nghị bỏ điểm b.", "đề nghị  bỏ điểm b", "Đề nghị bỏ điểm B!"]):
        add_resident_opinion(session, c, part_id=c.parts[3].id, text=text, name=f"Cư dân {i}", group_id=group.id)
    add_resident_opinion(session, c, part_id=None, text="Nhất trí.", name="Cư dân 9", group_id=group.id)
    session.commit()

    browser_login(page, live_server, "tam.vptk", secret)
    page.goto(f"{live_server}/consultations/{c.id}")
    page.get_by_role("link", name="Tổng hợp, tiếp thu, giải trình").click()
    assert page.locator("#undecided").inner_text() == "4"
    group_box = page.locator("article.group", has_text="3 ý kiến giống nhau")
    group_box.get_by_role("radio", name="Không tiếp thu").check()
    group_box.get_by_role("button", name="Lưu cho 3 ý kiến").click()
    expect(page.get_by_text("phải có nội dung giải trình")).to_be_visible()
    group_box = page.locator("article.group", has_text="3 ý kiến giống nhau")
    group_box.get_by_role("radio", name="Không tiếp thu").check()
    group_box.get_by_role("textbox", name="Giải trình").fill("Điểm b là quy định bắt buộc của Luật.")
    with page.expect_navigation():
        group_box.get_by_role("button", name="Lưu cho 3 ý kiến").click()
    assert page.locator("#undecided").inner_text() == "1"
    with page.expect_download() as download:
        page.get_by_role("link", name="Tải .docx (dự thảo)").click()
    assert download.value.suggested_filename.startswith("du-thao-bao-cao")
