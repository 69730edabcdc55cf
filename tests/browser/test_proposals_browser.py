"""Residents' proposals (Luật Điều 16) through the real pages, each checked as a person and a
validator would (tests/support/pagecheck.py): a resident proposes from a phone and another
supports it; the group head opens it, checks the supports against the register, records a
signed paper list and links the vote, from a computer."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from consult.proposals.models import Proposal
from tests.support.helpers import browser_login, make_user
from tests.support.pagecheck import Journey
from tests.support.polls import group_with_households, open_vote

pytestmark = pytest.mark.browser


def _status(session, proposal_id: int) -> str:
    session.rollback()
    session.expire_all()
    return session.get(Proposal, proposal_id).status


def test_a_proposal_from_a_residents_phone_to_the_communitys_vote(live_server, browser, session, tmp_path):
    commune, kp1 = group_with_households(session, 20)
    group_with_households(session, 4, commune=commune, name="Khu phố 2", prefix="KP2")
    make_user(session, "truong.kp1", "group_head", commune, group=kp1, full_name="Trần Văn Hải")
    poll = open_vote(session, commune, [kp1], form="ballot", chosen_by_head_and_front=True,
                     title="Lắp đèn chiếu sáng hẻm 27 bằng quỹ khu phố")
    session.commit()
    base = f"{live_server}/c/{commune.slug}"

    phone = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh",
                                viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                bypass_csp=True)  # to inject axe-core; the pages carry no script
    page = phone.new_page()
    page.set_default_timeout(15000)
    resident = Journey("de-xuat-nguoi-dan", page, tmp_path, phone=True)
    try:
        page.goto(f"{base}/")
        page.get_by_role("link", name="Đề xuất của người dân").first.click()
        page.wait_for_url("**/proposals/")
        resident.check("Danh sách đề xuất (trống)")
        page.get_by_role("link", name="Gửi đề xuất").click()
        resident.check("Mẫu đề xuất")
        page.get_by_role("button", name="Gửi đề xuất").click()
        expect(page.get_by_text("Vui lòng chọn khu phố, thôn")).to_be_visible()
        resident.check("Mẫu đề xuất: thiếu khu phố")
        page.get_by_label("Khu phố, thôn sẽ quyết định").select_option(label="Khu phố 1")
        page.get_by_label("Loại nội dung").select_option("k6")
        page.get_by_label("Tên đề xuất").fill("Lắp đèn chiếu sáng hẻm 27")
        page.get_by_label("Nội dung đề xuất, lý do").fill("Hẻm 27 tối, đề nghị lắp 4 đèn.")
        page.get_by_label("Họ và tên người đề xuất").fill("Nguyễn Văn Đề")
        page.get_by_label("Địa chỉ thường trú").fill("Số 3, hẻm 27")
        page.get_by_role("button", name="Gửi đề xuất").click()
        page.wait_for_url("**/proposals/")
        expect(page.get_by_text("Đã gửi đề xuất")).to_be_visible()
        resident.check("Đề xuất đã gửi")
        proposal_id = session.scalar(select(Proposal.id))
    finally:
        phone.close()

    desk = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", bypass_csp=True)
    page = desk.new_page()
    page.set_default_timeout(15000)
    head = Journey("de-xuat-truong-khu-pho", page, tmp_path)
    try:
        browser_login(page, live_server, "truong.kp1")
        page.get_by_role("link", name="Đề xuất của người dân").click()
        head.check("Đề xuất của khu phố")
        page.get_by_role("link", name="Lắp đèn chiếu sáng hẻm 27").click()
        head.check("Đề xuất chờ xem xét")
        page.get_by_role("button", name="Đưa ra lấy ý kiến ủng hộ", exact=True).click()
        expect(page.get_by_text("Đã đưa đề xuất ra lấy ý kiến ủng hộ")).to_be_visible()
        assert _status(session, proposal_id) == "collecting"
        head.check("Đề xuất đang lấy ý kiến ủng hộ")

        # A household supports it from its phone meanwhile.
        other = browser.new_context(locale="vi-VN", viewport={"width": 360, "height": 740}, is_mobile=True,
                                    bypass_csp=True)
        tab = other.new_page()
        supporter = Journey("de-xuat-ho-ung-ho", tab, tmp_path, phone=True)
        tab.goto(f"{base}/proposals/{proposal_id}")
        supporter.check("Đề xuất công khai")
        tab.get_by_role("button", name="Hộ tôi ủng hộ đề xuất này").click()
        expect(tab.get_by_text("Vui lòng ghi họ và tên đại diện hộ")).to_be_visible()
        supporter.check("Ủng hộ: thiếu họ tên")
        tab.get_by_label("Họ và tên đại diện hộ gia đình").fill("Đại diện hộ KP1-004")
        tab.get_by_label("Địa chỉ thường trú của hộ").fill("Số 4, Khu phố 1")
        tab.get_by_role("button", name="Hộ tôi ủng hộ đề xuất này").click()
        expect(tab.get_by_text("Ý kiến ủng hộ của hộ đã được ghi nhận")).to_be_visible()
        supporter.check("Ủng hộ đã ghi nhận")
        supporter.finish()
        other.close()

        page.reload()
        head.check("Ý kiến ủng hộ chờ đối chiếu")
        assert page.get_by_label("Mã hộ").input_value() == "KP1-004"  # suggested from the name given
        page.get_by_role("button", name="Xác nhận").click()
        expect(page.get_by_text("Đã xác nhận")).to_be_visible()
        page.get_by_text("Ghi các hộ ủng hộ theo danh sách ký trên giấy").click()
        page.get_by_label("KP1-001 — Đại diện hộ KP1-001").check()
        head.check("Danh sách ký trên giấy")
        page.get_by_role("button", name="Ghi các hộ đã đánh dấu").click()
        assert _status(session, proposal_id) == "reached"
        head.check("Đề xuất đủ số hộ ủng hộ")
        page.get_by_label("Cuộc biểu quyết của Khu phố 1").select_option(str(poll.id))
        page.get_by_role("button", name="Gắn cuộc biểu quyết").click()
        assert _status(session, proposal_id) == "decided"
        head.check("Đề xuất đã đưa ra biểu quyết")
        page.goto(f"{base}/proposals/{proposal_id}")
        expect(page.get_by_role("link", name=poll.title)).to_be_visible()
        head.check("Đề xuất công khai: đã đưa ra biểu quyết")
        head.finish()
    finally:
        desk.close()
    resident.finish()
