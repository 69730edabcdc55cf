"""Two journeys through the real pages, each page checked as a person and a validator
would (tests/support/pagecheck.py): a unit's representative answers two drafts from a
computer, and a resident comments on a part of a draft from a phone, then comes back
after the period has ended."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select, update

from consult.consultations.models import Consultation
from consult.opinions.models import Opinion, UnitReply
from tests.support.helpers import (
    browser_login,
    choose_part,
    make_commune,
    make_consultation,
    make_group,
    make_unit,
    make_user,
)
from tests.support.pagecheck import Journey

pytestmark = pytest.mark.browser


def _part(consultation: Consultation, label: str):
    return next(p for p in consultation.parts if p.label == label)


def test_unit_representative_agrees_with_one_draft_and_comments_on_two_parts_of_another(
        live_server, browser, session, tmp_path, now):
    commune = make_commune(session)
    unit = make_unit(session, commune, "Hội Liên hiệp Phụ nữ phường")
    other = make_unit(session, commune, "Đoàn Thanh niên phường")
    make_user(session, "dai.dien", "unit_rep", commune, unit=unit, full_name="Trần Thị Hoa")
    opened = now - timedelta(hours=1)
    first = make_consultation(session, commune, [unit, other], now=opened, days=21,
                              title="Lấy ý kiến dự thảo Nghị quyết về dân chủ ở cơ sở")
    second = make_consultation(session, commune, [unit], now=opened, days=28,
                               title="Lấy ý kiến dự thảo Quy chế tổ chức hội nghị khu phố")
    khoan_2, dieu_2 = _part(second, "Điều 1, khoản 2"), _part(second, "Điều 2")
    session.commit()

    context = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh",
                                  bypass_csp=True)  # to inject axe-core
    page = context.new_page()
    page.set_default_timeout(15000)
    journey = Journey("dai-dien-don-vi", page, tmp_path)
    try:
        page.goto(f"{live_server}/auth/login")
        journey.check("Trang đăng nhập")
        browser_login(page, live_server, "dai.dien")
        expect(page.get_by_role("heading", name="Xin chào, Trần Thị Hoa")).to_be_visible()
        journey.check("Bàn làm việc")

        page.get_by_role("link", name="Dự thảo đơn vị được xin ý kiến").click()
        page.wait_for_url("**/opinions/")
        expect(page.get_by_role("heading", name="Dự thảo xin ý kiến Hội Liên hiệp Phụ nữ phường")).to_be_visible()
        cards = page.locator("ul.cards > li")
        assert cards.count() == 2
        journey.check("Danh sách dự thảo chờ đơn vị trả lời")

        # The first draft: "nhất trí, không có ý kiến".
        page.get_by_role("link", name=first.title).click()
        expect(page.get_by_role("heading", name="Trả lời của Hội Liên hiệp Phụ nữ phường")).to_be_visible()
        journey.check("Trả lời dự thảo thứ nhất")
        page.get_by_role("button", name="Nhất trí với dự thảo, không có ý kiến góp ý").click()
        expect(page.get_by_text("Đã gửi: Nhất trí với dự thảo, không có ý kiến góp ý.")).to_be_visible()
        expect(page.get_by_text("Đơn vị đã trả lời:")).to_be_visible()
        assert page.get_by_role("button", name="Gửi ý kiến góp ý").count() == 0
        journey.check("Đã nhất trí, không có ý kiến")

        # The second draft: two opinions, on two different parts.
        page.get_by_role("link", name="← Danh sách").click()
        page.get_by_role("link", name=second.title).click()
        journey.check("Trả lời dự thảo thứ hai")
        choose_part(page.get_by_label("Góp ý cho"), "Điều 1, khoản 2")
        page.get_by_label("Nội dung góp ý").fill("Đề nghị ghi rõ thời hạn niêm yết là 30 ngày.")
        page.get_by_role("button", name="Gửi ý kiến góp ý").click()
        expect(page.get_by_text("Đã gửi ý kiến góp ý của đơn vị.")).to_be_visible()
        # Once the unit has commented, agreeing without comment is no longer offered.
        assert page.get_by_role("button", name="Nhất trí với dự thảo, không có ý kiến góp ý").count() == 0
        journey.check("Đã gửi ý kiến thứ nhất")
        choose_part(page.get_by_label("Góp ý cho"), "Điều 2")
        page.get_by_label("Nội dung góp ý").fill("Đề nghị giao thêm Ủy ban MTTQ phường giám sát việc thực hiện.")
        page.get_by_role("button", name="Gửi ý kiến góp ý").click()
        expect(page.get_by_text("Đã gửi ý kiến góp ý của đơn vị.")).to_be_visible()
        sent = page.locator("main ol > li")
        assert sent.count() == 2
        assert "Điều 1, khoản 2:" in sent.nth(0).inner_text() and "30 ngày" in sent.nth(0).inner_text()
        assert "Điều 2:" in sent.nth(1).inner_text() and "MTTQ" in sent.nth(1).inner_text()
        journey.check("Đã gửi ý kiến thứ hai")

        page.get_by_role("link", name="← Danh sách").click()
        page.wait_for_url("**/opinions/")
        journey.check("Danh sách sau khi trả lời")
        listed = {cards.nth(i).locator("a").inner_text(): cards.nth(i).inner_text() for i in range(cards.count())}
    finally:
        context.close()

    # What the database holds (the server wrote through its own connections: SQLite WAL).
    session.rollback()
    session.expire_all()
    replies = {r.consultation_id: r for r in session.scalars(select(UnitReply).where(UnitReply.unit_id == unit.id))}
    assert set(replies) == {first.id, second.id}
    assert replies[first.id].agreed_without_comment is True
    assert session.scalar(select(func.count()).select_from(Opinion).where(
        Opinion.consultation_id == first.id)) == 0
    assert replies[second.id].agreed_without_comment is False
    opinions = session.scalars(select(Opinion).where(Opinion.consultation_id == second.id)
                               .order_by(Opinion.id)).all()
    assert [(o.part_id, o.unit_id, o.reply_id) for o in opinions] == [
        (khoan_2.id, unit.id, replies[second.id].id), (dieu_2.id, unit.id, replies[second.id].id)]
    assert session.scalar(select(func.count()).select_from(UnitReply).where(UnitReply.unit_id == other.id)) == 0

    # The unit's list says, for each draft, how the unit answered; then the validators' verdict.
    assert "Đã trả lời: nhất trí, không có ý kiến" in listed[first.title]
    assert "Đã trả lời: có ý kiến góp ý" in listed[second.title]
    assert not any("Chưa trả lời" in text for text in listed.values())
    journey.finish()


def test_resident_comments_from_a_phone_then_the_period_ends(live_server, browser, session, tmp_path, now):
    commune = make_commune(session)
    make_group(session, commune, name="Khu phố 1")
    make_group(session, commune, name="Khu phố 3", position=2)
    c = make_consultation(session, commune, [], now=now - timedelta(hours=1), days=21)
    point = _part(c, "Điều 1, khoản 1, điểm a")
    session.commit()
    base = f"{live_server}/c/{commune.slug}"

    context = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh",
                                  viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                  bypass_csp=True)  # to inject axe-core; the pages carry no script
    page = context.new_page()
    page.set_default_timeout(15000)
    journey = Journey("nguoi-dan", page, tmp_path, phone=True)

    def look(label: str) -> None:
        assert page.locator("script").count() == 0, f"{label}: the page carries a <script>"
        journey.check(label)

    def opinions() -> int:
        session.rollback()
        session.expire_all()
        return session.scalar(select(func.count()).select_from(Opinion).where(Opinion.consultation_id == c.id))

    try:
        page.goto(f"{base}/")
        expect(page.get_by_role("heading", name="Phường Bình An", level=1)).to_be_visible()
        assert page.title() == "Phường Bình An — consult"  # no markup in the tab's title
        look("Trang của phường")

        page.get_by_role("link", name=c.title).click()
        page.wait_for_url(f"**/consultations/{c.id}")
        expect(page.get_by_text("Đang lấy ý kiến").first).to_be_visible()
        look("Dự thảo đang lấy ý kiến")
        # Reading the draft: the preamble, then the part to comment on.
        page.get_by_text("Phần mở đầu (căn cứ, công văn kèm theo)").click()
        section = page.locator(f"#{point.anchor}")
        section.scroll_into_view_if_needed()
        assert "Điểm a." in section.locator(".part-text").inner_text()
        assert "0 ý kiến" in section.locator(".part-head").inner_text()

        page.get_by_role("link", name="Góp ý Điều 1, khoản 1, điểm a").click()
        page.wait_for_url("**/comment?part=*")
        assert page.get_by_label("Góp ý cho").input_value() == str(point.id)
        look("Mẫu góp ý")
        page.get_by_label("Nội dung góp ý").fill("Đề nghị nêu rõ điểm a áp dụng cho cả khu phố mới.")
        page.get_by_label("Họ và tên").fill("Nguyễn Thị Mai")
        page.get_by_label("Khu phố, thôn").select_option(label="Khu phố 3")
        page.get_by_role("button", name="Gửi ý kiến").click()
        page.wait_for_url(f"**/consultations/{c.id}#{point.anchor}")  # back at the part she commented on
        expect(page.get_by_text("Cảm ơn bạn! Ý kiến đã được ghi nhận.")).to_be_visible()
        assert "1 ý kiến" in page.locator(f"#{point.anchor} > .part-head").inner_text()
        look("Ý kiến đã được ghi nhận")
        assert opinions() == 1

        # She opens the form again for a second comment, and the closing time passes meanwhile.
        page.get_by_role("link", name="Góp ý Điều 1, khoản 1, điểm a").click()
        page.get_by_label("Nội dung góp ý").fill("Bổ sung: nên niêm yết tại nhà văn hóa khu phố.")
        page.get_by_label("Họ và tên").fill("Nguyễn Thị Mai")
        page.get_by_label("Khu phố, thôn").select_option(label="Khu phố 3")
        session.execute(update(Consultation).where(Consultation.id == c.id)
                        .values(closes_at=now - timedelta(minutes=1)))
        session.commit()

        # The form she kept open, sent anyway after the close: refused, nothing stored.
        with page.expect_response(lambda r: r.request.method == "POST") as posted:
            page.get_by_role("button", name="Gửi ý kiến").click()
        assert posted.value.status == 422
        refusal = page.get_by_role("alert")
        assert "Đã hết thời hạn góp ý" in refusal.inner_text() and "Ý kiến không được ghi nhận." in refusal.inner_text()
        assert page.locator("#standing").inner_text().startswith("Đã hết hạn góp ý Đã hết thời hạn góp ý (")
        assert page.get_by_role("button", name="Gửi ý kiến").count() == 0
        # what she wrote is shown back, for her to keep
        assert page.locator("#unsent-text").inner_text() == "Bổ sung: nên niêm yết tại nhà văn hóa khu phố."
        look("Góp ý gửi sau khi hết hạn bị từ chối")
        assert opinions() == 1

        # She reloads the draft, then the comment page: both say the period has ended.
        page.get_by_role("link", name=f"← {c.title}").click()
        page.wait_for_url(f"**/consultations/{c.id}")
        page.reload()
        closed = page.locator(".status-closed")
        assert "Đã hết thời hạn góp ý" in closed.inner_text() and "Không nhận thêm ý kiến." in closed.inner_text()
        assert page.get_by_role("link", name="Góp ý Điều 1, khoản 1, điểm a").count() == 0
        assert page.get_by_role("link", name="Góp ý cho toàn bộ dự thảo").count() == 0
        assert "1 ý kiến" in page.locator(f"#{point.anchor} > .part-head").inner_text()
        look("Dự thảo đã hết hạn góp ý")

        page.goto(f"{base}/consultations/{c.id}/comment?part={point.id}")
        assert "Không nhận thêm ý kiến." in page.locator("#standing").inner_text()
        assert page.get_by_role("button", name="Gửi ý kiến").count() == 0
        look("Mẫu góp ý sau khi hết hạn")
        assert opinions() == 1
    finally:
        context.close()

    journey.finish()
