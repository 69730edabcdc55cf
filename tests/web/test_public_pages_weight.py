"""Public pages stay light at any size: a 200-part draft with 5,000 opinions, and its
published report, each page under 60 KB of HTML, long lists a page at a time or searched,
and the published report computed once (it never changes after publication)."""

from __future__ import annotations

import random
import re
from datetime import timedelta

from sqlalchemy import insert, update

from consult.consultations.service import mark_results_published
from consult.opinions.models import Opinion
from consult.reports import public as public_report
from consult.reports import service as reports
from consult.reports.models import OpinionCluster
from consult.textsearch import search_blob
from consult.timeutil import utcnow
from consult.audit.service import SYSTEM
from tests.support.helpers import make_commune, make_consultation

LIMIT = 60_000
ARTICLES = 40  # with 4 clauses each: 200 parts


def _draft_text(chapters: bool = False) -> str:
    lines = ["QUYẾT NGHỊ:"]
    for a in range(1, ARTICLES + 1):
        if chapters and a in (1, 4):
            lines.append("Chương I\nQUY ĐỊNH CHUNG" if a == 1 else "Chương II\nNỘI DUNG THỰC HIỆN")
        lines.append(f"Điều {a}. Nội dung điều {a}")
        lines += [f"{k}. Khoản {k} của Điều {a} quy định về việc thực hiện dân chủ ở cơ sở, công khai, minh bạch "
                  "và trách nhiệm giải trình của chính quyền cấp xã đối với Nhân dân." for k in range(1, 5)]
    return "\n".join(lines)


def _big_consultation(session, opinions=5000, chapters=False):
    commune = make_commune(session)
    start = utcnow() - timedelta(days=30)
    c = make_consultation(session, commune, [], text=_draft_text(chapters), now=start, days=21)
    rng = random.Random(7)
    words = ("đề nghị bổ sung sửa đổi làm rõ quy định trách nhiệm kinh phí khu phố tuyên truyền người dân cán bộ "
             "thời hạn công khai giám sát").split()
    rows = []
    for i in range(opinions):
        body = " ".join(rng.choice(words) for _ in range(rng.randint(12, 30))).capitalize() + f" (ý kiến {i})."
        rows.append({"consultation_id": c.id, "commune_id": commune.id, "part_id": rng.choice(c.parts).id,
                     "text": body, "author_kind": "resident", "resident_name": f"Người dân {i}", "channel": "online",
                     "created_at": start + timedelta(minutes=i), "search_text": search_blob(body)})
    session.execute(insert(Opinion), rows)
    return commune, c


def test_a_200_part_draft_is_shown_in_pages_each_under_60_kb(client, session):
    commune, c = _big_consultation(session, opinions=500, chapters=True)
    session.commit()
    url = f"/c/{commune.slug}/consultations/{c.id}"
    first = client.get(url).get_data(as_text=True)
    pages = len(re.findall(r'<li>(?:<strong aria-current="page">|<a href="[^"]*page=\d+">)', first)) // 2
    assert pages >= 2, "a 200-part draft comes in several pages"
    seen = []
    for n in range(1, pages + 1):
        html = client.get(f"{url}?page={n}").get_data(as_text=True)
        assert len(html.encode()) < LIMIT, f"page {n}: {len(html.encode())} bytes"
        assert ("Phần mở đầu" in html) == (n == 1)
        seen += re.findall(r'<section class="part part-(?:article|clause|point)" id="([^"]+)"', html)
    assert len(seen) == len(set(seen)) == sum(1 for p in c.parts if p.kind in ("article", "clause", "point"))
    assert seen == [p.anchor for p in c.parts if p.kind in ("article", "clause", "point")]  # in the draft's order
    assert "Chương II" in client.get(f"{url}?page={pages}").get_data(as_text=True)  # a long chapter's heading
    assert client.get(f"{url}?page=999").status_code == 200  # the last page, not an error


def test_the_published_report_of_5000_opinions_is_paged_searchable_and_computed_once(client, session, monkeypatch):
    commune, c = _big_consultation(session)
    reports.sync_clusters(session, c)
    session.execute(update(OpinionCluster).where(OpinionCluster.consultation_id == c.id).values(
        decision="not_accepted", explanation="Giữ nguyên như dự thảo.", decided_by="Tâm", decided_at=utcnow()))
    mark_results_published(session, SYSTEM, c)
    session.commit()
    url = f"/c/{commune.slug}/consultations/{c.id}/report"
    first = client.get(url).get_data(as_text=True)
    assert len(first.encode()) < LIMIT and "I. Tình hình lấy ý kiến" in first
    assert first.count("<tr><td>") == public_report.PAGE_SIZE and "Trang 1/" in first

    def not_again(*args, **kwargs):
        raise AssertionError("the published report was computed again")

    monkeypatch.setattr(reports, "report_data", not_again)
    last_page = int(re.search(r"Trang 1/(\d+)", first).group(1))
    last = client.get(f"{url}?page={last_page}").get_data(as_text=True)
    assert len(last.encode()) < LIMIT and "I. Tình hình lấy ý kiến" not in last
    rows = int(re.search(r"Tìm trong (\d+) nội dung góp ý", first).group(1))
    numbers = [int(n) for n in re.findall(r"<tr><td>(\d+)</td>", last)]
    assert numbers[-1] == rows and (last_page - 1) * public_report.PAGE_SIZE + len(numbers) == rows
    # To print, the whole table on one page, opening and closing included (issue: the report prints cleanly).
    assert f"{url}?page=all" in first
    everything = client.get(f"{url}?page=all").get_data(as_text=True)
    assert everything.count("<tr><td>") == rows and "I. Tình hình lấy ý kiến" in everything
    assert "Trang 1/" not in everything
    found = client.get(f"{url}?q=ý+kiến+4321").get_data(as_text=True)
    assert "1 nội dung khớp" in found and "(ý kiến 4321)" in found and found.count("<tr><td>") == 1


def test_the_report_cache_follows_a_new_publication(session):
    """Keyed by the instant of publication: a report published again is computed again."""
    commune, c = _big_consultation(session, opinions=20)
    reports.sync_clusters(session, c)
    session.execute(update(OpinionCluster).where(OpinionCluster.consultation_id == c.id).values(
        decision="accepted", decided_by="Tâm", decided_at=utcnow()))
    mark_results_published(session, SYSTEM, c)
    first = public_report.public_report(session, c)
    assert public_report.public_report(session, c) is first
    c.results_published_at = c.results_published_at + timedelta(seconds=1)
    assert public_report.public_report(session, c) is not first

