"""Printing and zooming, as Chromium does them: the consultation page, the published report
and the ballot slips print as clean A4 pages whose Vietnamese text survives (pdftotext reads
it back, with no navigation, buttons or forms), and the public pages reflow at 200% zoom
without sideways scrolling (WCAG 1.4.4, 1.4.10)."""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta

import pytest
from sqlalchemy import update

from consult.audit.service import SYSTEM
from consult.consultations.service import mark_results_published
from consult.opinions.service import add_resident_opinion
from consult.reports.models import OpinionCluster
from consult.reports.service import sync_clusters
from consult.timeutil import utcnow
from tests.support.helpers import make_consultation
from tests.support.pagecheck import SCREENSHOTS
from tests.support.polls import group_with_households, open_vote

pytestmark = pytest.mark.browser


def _draft(articles: int) -> str:
    lines = ["DỰ THẢO NGHỊ QUYẾT", "QUYẾT NGHỊ:"]
    for a in range(1, articles + 1):
        lines.append(f"Điều {a}. Trách nhiệm công khai thông tin số {a}")
        lines += [f"{k}. Ủy ban nhân dân phường niêm yết công khai nội dung khoản {k} Điều {a} tại trụ sở."
                  for k in range(1, 4)]
    return "\n".join(lines) + "\n"


def _pdftotext(path) -> str:
    """The text in reading order (table cells one after another), spaces collapsed."""
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is needed (Debian package poppler-utils)")
    return " ".join(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                                   check=True).stdout.split())


def _pages(path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


@pytest.fixture
def published(session):
    commune, group = group_with_households(session, 3)
    start = utcnow() - timedelta(days=30)
    c = make_consultation(session, commune, [], text=_draft(25), now=start, days=21,
                          title="Lấy ý kiến dự thảo Nghị quyết về công khai thông tin")
    session.flush()
    for i, part in enumerate(c.parts[:12]):
        add_resident_opinion(session, c, part_id=part.id, text=f"Đề nghị niêm yết thêm tại nhà văn hóa khu phố ({i}).",
                             name=f"Người dân {i}", group_id=group.id, now=start + timedelta(days=1))
    sync_clusters(session, c)
    session.execute(update(OpinionCluster).where(OpinionCluster.consultation_id == c.id).values(
        decision="accepted", explanation="Đã bổ sung vào dự thảo.", decided_by="Tâm", decided_at=utcnow()))
    mark_results_published(session, SYSTEM, c)
    session.commit()
    return commune, group, c


def test_the_draft_and_the_report_print_as_clean_a4_pages(browser, live_server, session, published, tmp_path):
    commune, _, c = published
    context = browser.new_context(locale="vi-VN")
    page = context.new_page()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    printed = {}
    for name, url in (("du-thao", f"/c/{commune.slug}/consultations/{c.id}?page=all"),
                      ("bao-cao", f"/c/{commune.slug}/consultations/{c.id}/report?page=all")):
        page.goto(live_server + url)
        page.emulate_media(media="print")
        pdf = tmp_path / f"{name}.pdf"
        page.pdf(path=str(pdf), format="A4", prefer_css_page_size=True)
        shutil.copy(pdf, SCREENSHOTS / f"in-{name}.pdf")
        printed[name] = (_pdftotext(pdf), _pages(pdf))
    context.close()

    draft, pages = printed["du-thao"]
    assert "Điều 25. Trách nhiệm công khai thông tin số 25" in draft  # the whole draft, diacritics intact
    assert "Ủy ban nhân dân phường niêm yết công khai nội dung khoản 3 Điều 25" in draft
    for screen_only in ("Góp ý Điều", "Cán bộ đăng nhập", "Tải dự thảo gốc", "0 ý kiến", "Trang sau"):
        assert screen_only not in draft, screen_only
    assert 2 <= pages <= 12
    flat, report_pages = printed["bao-cao"]
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT" in flat and "Độc lập - Tự do - Hạnh phúc" in flat and "BÁO CÁO" in flat
    # table cells wrap, and pdftotext reads their lines side by side: short pieces only
    assert "Đề nghị niêm yết thêm tại" in flat and "văn hóa khu phố (11)." in flat and "Tiếp thu. Đã bổ" in flat
    assert report_pages >= 2 and flat.count("STT Điều, khoản,") == report_pages  # the header row on every page
    for screen_only in ("Tìm trong", "Tải .docx", "Cán bộ đăng nhập", "Xem cả báo cáo"):
        assert screen_only not in flat, screen_only


def test_the_slips_print_with_their_vietnamese_text(runner, session, tmp_path):
    commune, group = group_with_households(session, 4)
    poll = open_vote(session, commune, [group], form="ballot", chosen_by_head_and_front=True)
    session.commit()
    pdf = tmp_path / "phieu.pdf"
    result = runner.invoke(args=["ballots", str(poll.id), "-o", str(pdf), "--base-url", "https://binhan.example.vn"])
    assert result.exit_code == 0, result.output
    text = _pdftotext(pdf)
    assert text.count("PHIẾU LẤY Ý KIẾN HỘ GIA ĐÌNH") == 4 and text.count("CUỐNG PHIẾU — xé ra khi nộp phiếu") == 4
    assert "Không đồng ý" in text and "Đánh dấu X vào một ô" in text and "TRƯỞNG KHU PHỐ" in text
    assert _pages(pdf) == 2  # three slips to an A4 page


def test_the_public_pages_reflow_at_200_percent_zoom(browser, live_server, session, published):
    """A 1280-px window zoomed to 200% lays the page out in 640 CSS px; text-only zoom doubles
    the font size: neither may make the page scroll sideways."""
    commune, group, c = published
    poll = open_vote(session, commune, [group])
    session.commit()
    urls = [f"/c/{commune.slug}/", f"/c/{commune.slug}/consultations/{c.id}",
            f"/c/{commune.slug}/consultations/{c.id}/report", f"/c/{commune.slug}/consultations/{c.id}/comment",
            f"/c/{commune.slug}/polls/{poll.id}", "/b/", "/auth/login"]
    wide = []
    for width, text_zoom in ((640, False), (1280, True)):
        context = browser.new_context(locale="vi-VN", viewport={"width": width, "height": 800})
        page = context.new_page()
        for url in urls:
            page.goto(live_server + url)
            if text_zoom:
                page.evaluate("document.documentElement.style.fontSize = '200%'")
            if page.evaluate("document.documentElement.scrollWidth") > width:
                wide.append(f"{url}: " + ("text at 200%" if text_zoom else "page zoomed to 200%"))
        context.close()
    assert not wide, wide
