"""The page an officer sees while a PDF preview is made (consult.previews): accessible and valid,
with no timed refresh (axe's meta-refresh, WCAG 2.2.1) and no script, and its link then opens the PDF."""

from __future__ import annotations

import pyotp
import pytest

from consult.opinions.service import add_resident_opinion
from tests.support.helpers import browser_login, make_commune, make_consultation, make_group, make_user, run_jobs
from tests.support.pagecheck import axe_violations, tools, vnu_errors

pytestmark = pytest.mark.browser


def test_the_waiting_page_then_the_pdf(app, browser, live_server, session, tmp_path):
    axe, vnu = tools()
    commune = make_commune(session)
    group = make_group(session, commune, name="Khu phố 2")
    secret = pyotp.random_base32()
    make_user(session, "tam.vptk", "officer", commune, totp=secret)
    c = make_consultation(session, commune, [])
    add_resident_opinion(session, c, part_id=c.parts[1].id, text="Đề nghị bổ sung khoản 3", name="Trần Thị Ửng",
                         group_id=group.id)
    session.commit()
    context = browser.new_context(locale="vi-VN", viewport={"width": 360, "height": 740}, java_script_enabled=False)
    page = context.new_page()
    browser_login(page, live_server, "tam.vptk", totp_secret=secret)
    url = f"{live_server}/reports/consultations/{c.id}/export.pdf"
    response = page.goto(url)
    assert response.status == 202
    assert page.locator('meta[http-equiv="refresh"]').count() == 0
    assert page.get_by_role("link", name="Mở bản PDF").get_attribute("href") == url[len(live_server):]
    assert page.get_by_role("heading", name="Bản PDF xem trước").is_visible()
    assert page.get_by_label("Đang chờ", exact=False).count() == 1  # the progress bar has its label
    (tmp_path / "waiting.html").write_text(page.content(), encoding="utf-8")
    with_script = browser.new_context(locale="vi-VN", bypass_csp=True, storage_state=context.storage_state())
    checked = with_script.new_page()
    checked.goto(url)
    assert axe_violations(checked, axe) == []
    assert vnu_errors([tmp_path / "waiting.html"], vnu) == []

    assert run_jobs(app) == 1
    made = context.request.get(url)  # what the link opens, with the officer's session
    assert made.status == 200 and made.headers["content-type"] == "application/pdf" and made.body()[:5] == b"%PDF-"
    with_script.close()
    context.close()
