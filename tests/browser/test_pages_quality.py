"""The pages residents and officers see, checked as a person and a validator would:
axe-core (serious and critical violations), the Nu HTML Checker (errors), the weight a
cheap phone downloads, no sideways scrolling at 360 px, and a ballot cast with the
keyboard alone (tests/support/pagecheck.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from consult.audit.service import SYSTEM
from consult.polls import service
from tests.support.helpers import make_consultation
from tests.support.pagecheck import SCREENSHOTS, axe_violations, tools, vnu_errors
from tests.support.polls import group_with_households, open_vote, pass_consent

pytestmark = pytest.mark.browser

def _draft(parts: int) -> str:
    lines = ["DỰ THẢO NGHỊ QUYẾT", "QUYẾT NGHỊ:"]
    for article in range(1, parts // 5 + 1):
        lines.append(f"Điều {article}. Nội dung điều {article}")
        for clause in range(1, 5):
            lines.append(f"{clause}. Khoản {clause} của Điều {article}: quy định việc công khai thông tin.")
    return "\n".join(lines) + "\n"


@pytest.fixture
def site(live_server, session):
    commune, group = group_with_households(session, 6)
    c = make_consultation(session, commune, [], text=_draft(50), title="Lấy ý kiến dự thảo Nghị quyết 50 phần")
    poll = open_vote(session, commune, [group])
    pass_consent(session, poll)
    ballot = service.issue_ballots(session, SYSTEM, poll)[0]
    session.commit()
    base = live_server
    return {
        "trang xã, phường": f"{base}/c/{commune.slug}/",
        "dự thảo 50 phần": f"{base}/c/{commune.slug}/consultations/{c.id}",
        "góp ý": f"{base}/c/{commune.slug}/consultations/{c.id}/comment",
        "phiếu biểu quyết": f"{base}/b/{ballot.token}",
        "nhập mã phiếu": f"{base}/b/",
        "kết quả biểu quyết": f"{base}/c/{commune.slug}/polls/{poll.id}",
        "đăng nhập": f"{base}/auth/login",
    }, ballot, poll


def test_every_public_page_is_accessible_valid_and_light(browser, site, tmp_path):
    axe_path, vnu = tools()
    urls, _, _ = site
    context = browser.new_context(locale="vi-VN", viewport={"width": 360, "height": 740}, is_mobile=True,
                                  has_touch=True, bypass_csp=True)  # to inject axe-core; the pages carry no script
    page = context.new_page()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems, saved, weights = {}, [], {}
    for name, url in urls.items():
        page.goto(url)
        page.wait_for_load_state("networkidle")
        # The page and everything it loads (styles, images, fonts), as the browser counted them.
        weights[name] = page.evaluate("""() => performance.getEntriesByType('navigation')
            .concat(performance.getEntriesByType('resource'))
            .reduce((sum, e) => sum + Math.max(e.encodedBodySize || 0, e.transferSize || 0), 0)""")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, f"{name}: sideways scrolling"
        page.screenshot(path=str(SCREENSHOTS / f"{name.replace(' ', '-')}.png"), full_page=True)
        found = axe_violations(page, axe_path)
        if found:
            problems[name] = [(v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"][:3]]) for v in found]
        html = tmp_path / f"{len(saved):02d}.html"
        html.write_text(page.evaluate("() => fetch(location.href).then(r => r.text())"), encoding="utf-8")
        saved.append(html)
    context.close()
    assert problems == {}, f"axe-core: {problems}"
    errors = vnu_errors(saved, vnu)
    assert errors == [], "vnu: " + "; ".join(f"{Path(m.get('url', '')).name}: {m.get('message')}" for m in errors[:10])
    print("pages checked:", ", ".join(urls), "; bytes:", weights)
    # A cheap phone on a weak connection, first visit (nothing cached): the ballot and a 50-part
    # draft under 60 KB in all, as the browser's network log counts them.
    for name in ("phiếu biểu quyết", "dự thảo 50 phần"):
        cold = browser.new_context(locale="vi-VN", viewport={"width": 360, "height": 740}, is_mobile=True)
        tab = cold.new_page()
        sizes = []
        tab.on("requestfinished", lambda request, sizes=sizes: sizes.append(request.sizes()["responseBodySize"]
                                                                             + request.sizes()["responseHeadersSize"]))
        tab.goto(urls[name])
        tab.wait_for_load_state("networkidle")
        cold.close()
        weights[name] = sum(sizes)
        assert len(sizes) >= 2 and weights[name] < 60 * 1024, (name, sizes)
    print("first-visit bytes:", {k: weights[k] for k in ("phiếu biểu quyết", "dự thảo 50 phần")})


def test_a_ballot_is_cast_with_the_keyboard_alone(phone_page, site):
    """WCAG 2.1.1: Tab to the choice, Space to pick it, Enter to go on and to confirm."""
    urls, _, poll = site
    phone_page.goto(urls["phiếu biểu quyết"])
    phone_page.keyboard.press("Tab")
    for _ in range(12):
        focused = phone_page.evaluate("document.activeElement && document.activeElement.name")
        if focused == "choice":
            break
        phone_page.keyboard.press("Tab")
    assert phone_page.evaluate("document.activeElement.name") == "choice"
    phone_page.keyboard.press("Space")
    phone_page.keyboard.press("Enter")
    phone_page.wait_for_selector("#chosen")
    for _ in range(12):
        if phone_page.evaluate("document.activeElement.tagName") == "BUTTON" and "Xác nhận" in phone_page.evaluate(
                "document.activeElement.textContent"):
            break
        phone_page.keyboard.press("Tab")
    phone_page.keyboard.press("Enter")
    phone_page.wait_for_selector("#receipt")
    assert len(phone_page.locator("#receipt").inner_text()) == 12
