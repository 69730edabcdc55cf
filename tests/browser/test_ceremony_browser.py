"""The board's key ceremony in Chromium, three members in three browser contexts (each its own
device and storage): each makes its part of the key on its own page, sends its sealed shares,
checks the others' and confirms; the vote opens on the joint key; at each close a majority of
the members' devices decrypt their part, one of them restored from its printed card after its
browser lost its storage, and the result's election record passes the verifier. The server's
rows hold no secret of the key (the unit tests show that none combine into one)."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from consult import verify
from consult.audit.service import SYSTEM
from consult.polls import record, service
from consult.polls.models import BallotBox, KeyCeremony, Poll
from consult.timeutil import utcnow
from tests.support.helpers import browser_login
from tests.support.pagecheck import Journey
from tests.support.polls import ceremony_draft

pytestmark = pytest.mark.browser


def _member_context(browser, *, phone=False):
    # bypass_csp: to inject axe-core into the page checked; the page's own scripts run either way.
    size = dict(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True) if phone else {}
    context = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", bypass_csp=True, **size)
    page = context.new_page()
    page.set_default_timeout(20000)
    return context, page


def _fresh(session):
    """See what the server committed: end this session's transaction and forget what it read."""
    session.rollback()
    session.expire_all()


def _step(page, label):
    button = page.get_by_role("button", name=label)
    expect(button).to_be_visible()
    button.click()


def _advance(page, label):
    """Reload until the step's button shows (the others' devices are a step behind), then press it."""
    page.reload()
    _step(page, label)


def test_three_members_make_the_key_in_their_browsers_and_a_majority_counts(live_server, browser, session, tmp_path):
    _, poll = ceremony_draft(session, 4, options=())  # đồng ý / không đồng ý / ý kiến khác
    usernames = [m.user.username for m in poll.committee]
    poll_id = poll.id
    session.commit()

    contexts = [_member_context(browser, phone=n == 1) for n, _ in enumerate(usernames)]  # member 2 on a phone
    pages = [page for _, page in contexts]
    try:
        for page, username in zip(pages, usernames):
            browser_login(page, live_server, username)
        leader = pages[0]
        leader.goto(f"{live_server}/polls/{poll_id}")
        leader.get_by_role("button", name="Bắt đầu lễ tạo khóa").click()
        expect(leader.get_by_text("Đã bắt đầu lễ tạo khóa")).to_be_visible()
        assert leader.locator("#ceremony-members").inner_text().count("chưa bắt đầu") == 3
        for page in pages:
            page.goto(f"{live_server}/polls/{poll_id}/ceremony")
            _step(page, "Tạo phần khóa của tôi")
            expect(page.locator("#progress")).to_be_visible()
        journey = Journey("ceremony", pages[0], tmp_path)
        for page in pages:
            _advance(page, "Gửi phần khóa")
        pages[0].reload()
        expect(pages[0].get_by_role("button", name="Xác nhận phần khóa của tôi")).to_be_visible()
        journey.check("lễ tạo khóa: xác nhận phần khóa")
        codes = []
        for page in pages:
            _advance(page, "Xác nhận phần khóa của tôi")
            expect(page.locator("#share-code")).to_have_text(re.compile(rf"^K{poll_id}-\d-"))
            codes.append(page.locator("#share-code").inner_text())
        assert [int(c.split("-")[1]) for c in codes] == [1, 2, 3]
        # The card's QR code, drawn in the browser, reads back as the typed code (a phone's camera would).
        pages[2].locator("#card-qr").screenshot(path=str(tmp_path / "card-qr.png"))
        read = subprocess.run(["zbarimg", "--quiet", "--raw", str(tmp_path / "card-qr.png")], capture_output=True,
                              text=True, check=True)
        assert read.stdout.strip() == codes[2]
        pages[0].reload()
        expect(pages[0].locator("#finished")).to_be_visible()
        journey.check("lễ tạo khóa: đã xong, phiếu giữ khóa")
        pages[0].evaluate("window.print = () => { window.printed = true; }")
        pages[0].get_by_role("button", name="In phiếu giữ khóa").click()
        assert pages[0].evaluate("window.printed") is True

        _fresh(session)
        kc = session.get(KeyCeremony, poll_id)
        assert kc.finished_at is not None and kc.threshold == 2
        stored = [json.loads(page.evaluate("JSON.stringify(Object.values(localStorage).map(JSON.parse))"))[0]
                  for page in pages]
        assert [s["index"] for s in stored] == [1, 2, 3] and all(s["key_share"] for s in stored)
        assert all(s["coefficients"] == [] and s["received"] == {} for s in stored)  # only the key share kept

        # The vote opens on the ceremony's key; three households agree to vote online.
        leader.goto(f"{live_server}/polls/{poll_id}")
        leader.get_by_role("button", name="Mở biểu quyết (chốt danh sách hộ)").click()
        expect(leader.get_by_text("Đã mở; danh sách hộ được chốt")).to_be_visible()
        _fresh(session)
        poll = session.get(Poll, poll_id)
        assert bytes(poll.public_key) == bytes(kc.joint_key)
        slips = service.issue_ballots(session, SYSTEM, poll)
        for slip in slips[:3]:
            service.cast_online(session, slip.token, "agree")
        session.commit()
        leader.goto(f"{live_server}/polls/{poll_id}")
        leader.get_by_role("button", name="Kết thúc vòng lấy ý kiến đồng ý và kiểm phiếu").click()
        expect(leader.get_by_text("Đã kiểm và cộng các phiếu")).to_be_visible()
        for page in (pages[0], pages[2]):
            page.goto(f"{live_server}/polls/{poll_id}/ceremony")
            _step(page, "Giải mã phần của tôi")
            expect(page.get_by_text("Đã giải mã phần của bạn")).to_be_visible()
        leader.goto(f"{live_server}/polls/{poll_id}")
        expect(leader.locator("#ceremony-partials")).to_contain_text("2/2")
        leader.get_by_role("button", name="Tính kết quả").click()
        expect(leader.get_by_text("Đã kết thúc vòng lấy ý kiến đồng ý và kiểm phiếu.")).to_be_visible()
        _fresh(session)
        assert session.get(Poll, poll_id).phase == "vote"

        # The vote: agree, against, and a free text; the fixed end passes (moved, not waited for).
        poll = session.get(Poll, poll_id)
        slips = service.issue_ballots(session, SYSTEM, poll)
        kinds = {c.kind: c.id for c in poll.choices}
        for slip, (kind, text) in zip(slips, [("agree", ""), ("disagree", ""), ("other", "Nên lắp ở cả hai đầu hẻm")]):
            service.cast_online(session, slip.token, kinds[kind], other_text=text)
        poll.closes_at = utcnow() - timedelta(seconds=1)
        session.commit()
        leader.goto(f"{live_server}/polls/{poll_id}")
        leader.get_by_role("button", name="Kết thúc và kiểm phiếu").click()
        expect(leader.get_by_text("Đã kiểm và cộng các phiếu")).to_be_visible()

        # Member 2's browser lost its storage: a mistyped card is refused, the printed one restores it.
        member = pages[1]
        member.evaluate("localStorage.clear()")
        member.goto(f"{live_server}/polls/{poll_id}/ceremony")
        expect(member.get_by_label("Mã trên phiếu giữ khóa của bạn")).to_be_visible()
        restoring = Journey("ceremony-restore", member, tmp_path, phone=True)
        restoring.check("giải mã: nhập phiếu giữ khóa")
        at = len(codes[1]) - 5  # a character of the share itself (the last one also carries unused bits)
        wrong = codes[1][:at] + ("Q" if codes[1][at] != "Q" else "R") + codes[1][at + 1:]
        member.get_by_label("Mã trên phiếu giữ khóa của bạn").fill(wrong)
        member.get_by_role("button", name="Dùng phiếu giữ khóa").click()
        expect(member.locator("#step-error")).to_contain_text("sai ký tự kiểm tra")
        member.get_by_label("Mã trên phiếu giữ khóa của bạn").fill(codes[0])
        member.get_by_role("button", name="Dùng phiếu giữ khóa").click()
        expect(member.locator("#step-error")).to_contain_text("của thành viên số 1, không phải của bạn")
        member.get_by_label("Mã trên phiếu giữ khóa của bạn").fill(codes[1].lower())
        member.get_by_role("button", name="Dùng phiếu giữ khóa").click()
        _step(member, "Giải mã phần của tôi")
        expect(member.get_by_text("Đã giải mã phần của bạn")).to_be_visible()
        member.reload()  # restored into this browser's storage; and the check's axe-core gone from the page
        expect(member.get_by_text("Đã giải mã phần của bạn")).to_be_visible()
        restoring.check("giải mã: đã gửi phần giải mã")
        _advance(pages[2], "Giải mã phần của tôi")
        expect(pages[2].get_by_text("Đã giải mã phần của bạn")).to_be_visible()
        leader.goto(f"{live_server}/polls/{poll_id}")
        leader.get_by_role("button", name="Tính kết quả").click()
        expect(leader.get_by_text("Đã kết thúc và tính kết quả.")).to_be_visible()
        journey.finish()
        restoring.finish()

        _fresh(session)
        poll = session.get(Poll, poll_id)
        result = service.tally(session, poll)
        assert [result.total(c.id) for c in poll.choices] == [1, 1, 1]
        box = session.scalar(select(BallotBox).where(BallotBox.poll_id == poll_id, BallotBox.phase == "vote"))
        assert box.other_texts == ["Nên lắp ở cả hai đầu hẻm"]
        doc = record.election_record_dict(session, poll)
        verify.verify_record(json.loads(json.dumps(doc)))
        assert doc["ceremony"]["qualified"] == [1, 2, 3]
    finally:
        for context, _ in contexts:
            context.close()
