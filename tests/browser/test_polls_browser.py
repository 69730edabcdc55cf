"""From the printed slip to the vote: decode the QR code in the ballots PDF with
zbarimg, open the link in Chromium at a phone's size, vote and confirm."""

import re
import shutil
import subprocess

import pytest
from playwright.sync_api import expect

from consult.audit.service import SYSTEM
from consult.polls import service
from tests.support.polls import choice, close, group_with_households, open_vote, pass_consent

pytestmark = pytest.mark.browser


def _decode_qr_codes(pdf_path, tmp_path) -> list[str]:
    for tool in ("pdftoppm", "zbarimg"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is needed (Debian packages poppler-utils and zbar-tools)")
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", str(pdf_path), str(tmp_path / "page")],
                   check=True)
    page = next(tmp_path.glob("page*.png"))
    out = subprocess.run(["zbarimg", "--quiet", "--raw", str(page)], check=True, capture_output=True, text=True)
    return [line.strip() for line in out.stdout.splitlines() if line.strip()]


def test_scan_the_printed_qr_and_vote_on_a_phone(live_server, phone_page, runner, session, tmp_path):
    commune, group = group_with_households(session, 4)
    poll = open_vote(session, commune, [group])
    pass_consent(session, poll)
    session.commit()
    pdf = tmp_path / "phieu.pdf"
    result = runner.invoke(args=["ballots", str(poll.id), "-o", str(pdf), "--base-url", live_server])
    assert result.exit_code == 0, result.output
    assert "4 phiếu" in result.output
    links = _decode_qr_codes(pdf, tmp_path)
    assert len(links) == 3 and all(link.startswith(f"{live_server}/b/") for link in links)

    phone_page.goto(links[0])
    assert re.search(r"Hộ KP1-00[123]\b", phone_page.locator("main").inner_text())
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 360
    phone_page.get_by_label("Đồng ý", exact=True).check()
    phone_page.get_by_role("button", name="Tiếp tục").click()
    assert phone_page.locator("#chosen").inner_text() == "Đồng ý"
    phone_page.get_by_role("button", name="Xác nhận biểu quyết").click()
    receipt = phone_page.locator("#receipt").inner_text()
    assert len(receipt) == 12

    phone_page.goto(links[0])
    expect(phone_page.get_by_text("Hộ này đã biểu quyết ngày")).to_be_visible()
    session.rollback()
    assert close(session, poll).total(choice(poll, "agree")) == 1
    session.commit()
    phone_page.goto(f"{live_server}/c/{commune.slug}/polls/{poll.id}?receipt={receipt}")
    assert "nằm trong danh sách đã được đếm" in phone_page.locator("#receipt-result").inner_text()


def test_reprinting_a_lost_slip_revokes_the_old_link(live_server, page, session):
    commune, group = group_with_households(session, 2)
    poll = open_vote(session, commune, [group])
    pass_consent(session, poll)
    old = service.issue_ballots(session, SYSTEM, poll)[0]
    new = service.issue_ballots(session, SYSTEM, poll, household_ids=[old.household.id])[0]
    session.commit()
    page.goto(f"{live_server}/b/{old.token}")
    expect(page.get_by_text("đã bị hủy")).to_be_visible()
    page.goto(f"{live_server}/b/{new.token}")
    expect(page.get_by_role("button", name="Tiếp tục")).to_be_visible()
