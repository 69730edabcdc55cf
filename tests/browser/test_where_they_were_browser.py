"""A refused form keeps what was chosen and typed, says why beside each field, all at once, and
leaves the person where they were; a comment is filed under the name of whoever is speaking."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from consult.consultations.models import Consultation
from consult.opinions.models import AUTHOR_UNIT, Opinion, UnitReply
from consult.opinions.service import add_resident_opinion
from consult.timeutil import utcnow
from tests.support.helpers import (
    SEEDS,
    browser_login,
    make_commune,
    make_consultation,
    make_group,
    make_unit,
    make_user,
)
from tests.support.pagecheck import axe_violations, tools

pytestmark = pytest.mark.browser


def test_a_refused_answer_stays_on_its_card_with_the_choice_kept(browser, live_server, session):
    axe, _ = tools()
    page = browser.new_context(locale="vi-VN", bypass_csp=True).new_page()  # bypass_csp: to inject axe-core
    commune = make_commune(session)
    group = make_group(session, commune)
    secret = pyotp.random_base32()
    make_user(session, "tam.vptk", "officer", commune, totp=secret)
    c = make_consultation(session, commune, [])
    for i in range(12):  # enough cards that the last is far below the page's top
        add_resident_opinion(session, c, part_id=c.parts[i % len(c.parts)].id,
                             text=f"Ý kiến thứ {i + 1} về nội dung khác hẳn nhau số {i * 7919}.",
                             name=f"Người dân {i}", group_id=group.id)
    session.execute(update(Consultation).where(Consultation.id == c.id).values(closes_at=utcnow() - timedelta(hours=1)))
    session.commit()
    browser_login(page, live_server, "tam.vptk", secret)
    page.goto(f"{live_server}/reports/consultations/{c.id}")
    card = page.locator("article.group.pending").last
    card_id = card.get_attribute("id")
    card.get_by_role("radio", name="Không tiếp thu").check()
    card.get_by_role("textbox", name=re.compile("^Nội dung sửa đổi")).fill("Giữ nguyên câu chữ.")
    card.get_by_role("button", name=re.compile("^Lưu cho")).click()

    card = page.locator(f"#{card_id}")
    explanation = card.get_by_role("textbox", name=re.compile("^Giải trình"))
    error = page.locator(f"#{explanation.get_attribute('aria-describedby')}")
    assert error.inner_text() == "Ý kiến không tiếp thu phải có nội dung giải trình lý do."
    assert error.evaluate("e => e.parentElement") == explanation.evaluate("e => e.parentElement")
    assert card.get_by_role("radio", name="Không tiếp thu").is_checked()
    assert card.get_by_role("textbox", name=re.compile("^Nội dung sửa đổi")).input_value() == "Giữ nguyên câu chữ."
    # In view: the field is focused, and the card is on the screen, not the page's top.
    assert page.evaluate("document.activeElement.id") == explanation.get_attribute("id")
    box, height = card.bounding_box(), page.viewport_size["height"]
    assert box["y"] < height and box["y"] + box["height"] > 0
    assert page.evaluate("window.scrollY") > 0
    assert page.locator(".flash-error").count() == 0  # not at the top, out of sight
    assert axe_violations(page, axe) == []
    # Nothing saved.
    assert page.locator("article.group.decided").count() == 0


def test_the_resident_form_shows_every_problem_beside_its_field_and_returns_to_the_part(browser, live_server, session):
    commune = make_commune(session)
    make_group(session, commune, name="Khu phố 3")
    c = make_consultation(session, commune, [], text=(SEEDS / "binh-an-cong-van-va-du-thao-nghi-quyet.txt").read_text("utf-8"))
    session.commit()
    part = next(p for p in c.parts if p.label == "Điều 1, khoản 5, điểm d")
    context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 740},
                                  is_mobile=True, locale="vi-VN")
    phone = context.new_page()
    phone.goto(f"{live_server}/c/{commune.slug}/consultations/{c.id}")
    phone.get_by_role("link", name=f"Góp ý {part.label}", exact=True).click()
    shown = phone.locator("#chosen-part")
    assert part.label in shown.inner_text() and part.text.split()[0] in shown.inner_text()
    chosen = phone.get_by_label("Góp ý cho").locator("option:checked").inner_text().strip()
    assert chosen.startswith(part.label + " — ")
    phone.get_by_label("Số điện thoại (không bắt buộc)").fill("12")
    with phone.expect_navigation():
        phone.get_by_role("button", name="Gửi ý kiến").click()
    errors = {f.get_attribute("name"): phone.locator("#" + f.get_attribute("aria-describedby").split()[-1]).inner_text()
              for f in phone.locator("[aria-invalid=true]").all()}
    assert errors == {"text": "Nội dung góp ý đang để trống.", "name": "Vui lòng ghi họ và tên.",
                      "group_id": "Vui lòng chọn khu phố, thôn nơi bạn sinh sống.",
                      "phone": "Số điện thoại không hợp lệ (ví dụ 0912345678)."}
    assert phone.get_by_label("Số điện thoại (không bắt buộc)").input_value() == "12"
    assert phone.get_by_label("Góp ý cho").locator("option:checked").inner_text().strip() == chosen
    phone.get_by_label("Nội dung góp ý").fill("Đề nghị hướng dẫn cụ thể hơn.")
    phone.get_by_label("Họ và tên").fill("Trần Thị Lan")
    phone.get_by_label("Khu phố, thôn").select_option(label="Khu phố 3")
    phone.get_by_label("Số điện thoại (không bắt buộc)").fill("")
    phone.get_by_role("button", name="Gửi ý kiến").click()
    expect(phone.get_by_text("Ý kiến đã được ghi nhận")).to_be_visible()
    assert phone.url.endswith("#" + part.anchor)
    assert "1 ý kiến" in phone.locator(f"#{part.anchor} > .part-head").inner_text()
    # The seed draft's articles are listed, each a link to its part.
    contents = phone.locator("#contents a")
    assert contents.count() >= 6 and contents.first.get_attribute("href").endswith("#dieu-1")
    context.close()


def test_a_unit_representative_commenting_from_the_public_draft_speaks_for_the_unit(page, live_server, session):
    commune = make_commune(session)
    unit = make_unit(session, commune, "Hội Cựu chiến binh phường")
    make_user(session, "dai.dien", "unit_rep", commune, unit=unit, full_name="Trần Văn Hùng")
    c = make_consultation(session, commune, [unit])
    session.commit()
    part = c.parts[1]
    browser_login(page, live_server, "dai.dien")
    page.goto(f"{live_server}/c/{commune.slug}/consultations/{c.id}")
    with page.expect_navigation():
        page.get_by_role("link", name=f"Góp ý {part.label}", exact=True).click()
    assert page.url.startswith(f"{live_server}/opinions/consultations/{c.id}")
    assert page.get_by_label("Họ và tên").count() == 0
    assert page.get_by_label("Góp ý cho").locator("option:checked").inner_text().strip().startswith(part.label)
    assert part.label in page.locator("#chosen-part").inner_text()
    page.get_by_label("Nội dung góp ý").fill("Đề nghị bổ sung vai trò của hội viên.")
    page.get_by_role("button", name="Gửi ý kiến góp ý").click()
    expect(page.get_by_text("Đã gửi ý kiến góp ý của đơn vị.")).to_be_visible()
    session.expire_all()
    opinion = session.scalar(select(Opinion).where(Opinion.consultation_id == c.id))
    assert (opinion.author_kind, opinion.unit_id, opinion.part_id) == (AUTHOR_UNIT, unit.id, part.id)
    assert session.scalar(select(UnitReply.unit_id).where(UnitReply.consultation_id == c.id)) == unit.id
    # An empty comment after it says what is wrong, without the "Nhất trí" button that is gone.
    page.get_by_role("button", name="Gửi ý kiến góp ý").click()
    error = page.locator("#text-error")
    assert error.inner_text() == "Nội dung góp ý đang để trống; các ý kiến đơn vị đã gửi vẫn được giữ nguyên."
