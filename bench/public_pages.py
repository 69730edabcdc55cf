"""Benchmark: the public pages of a large consultation and a large vote.

Builds a SQLite database: a consultation whose draft has 200 parts and 5,000 opinions,
its report published; a vote of 100,000 households, closed. Then requests each public
page through the app (in-process, so the figures are the app's own time, not the
network's), beside ``/healthz`` (one ``SELECT 1`` and a JSON answer) in the same run:
p50 and p99 over the runs, HTML size, and the ratio of each page's p50 to the ceiling's.

Goal (issue: public pages at any size): p99 < 50 ms and < 60 KB of HTML.

    python bench/public_pages.py [--opinions 5000] [--households 100000] [--runs 200]

Prints a table and a last line ``RESULT name=value ...``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def build_vote(session, commune, households: int) -> int:
    """A closed paper vote of one group with ``households`` households, all handed in."""
    from sqlalchemy import insert, select

    from consult.audit.service import SYSTEM
    from consult.communes.models import Household
    from consult.communes.service import save_group
    from consult.polls import service
    from consult.polls.models import Participation, PollHousehold
    from consult.timeutil import utcnow

    group = save_group(session, SYSTEM, commune, None, kind="khu_pho", name="Khu phố lớn")
    session.execute(insert(Household), [
        {"commune_id": commune.id, "group_id": group.id, "code": f"KPL-{i:06d}", "representative": f"Hộ {i}",
         "address": f"Số {i}"} for i in range(households)])
    now = utcnow()
    poll = service.create_poll(session, SYSTEM, commune, service.PollInput(
        title="Lắp đèn chiếu sáng", question="Đồng ý góp tiền lắp đèn?", matter_kind="k6", form="ballot",
        opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=1), group_ids=[group.id],
        chosen_by_head_and_front=True,
        committee=[service.CommitteeInput("Hoa", "Đại diện Ban công tác Mặt trận", True),
                   service.CommitteeInput("Bảy", "Thành viên"), service.CommitteeInput("Tư", "Thành viên")]),
        now=now - timedelta(hours=1))
    service.open_poll(session, SYSTEM, poll, now=now - timedelta(hours=1))
    rows = session.execute(select(PollHousehold.id).where(PollHousehold.poll_id == poll.id)).scalars().all()
    session.execute(insert(Participation), [
        {"poll_id": poll.id, "poll_household_id": hid, "phase": "vote", "voted_on": now.date(), "channel": "paper"}
        for hid in rows])
    agree = next(c.id for c in poll.choices if c.kind == "agree")
    service.record_paper_count(session, SYSTEM, poll, service.PaperCountInput(
        group_id=group.id, issued=households, returned=households, valid=households, invalid=0,
        counts={agree: households}, other_texts=[], place="Nhà văn hóa", counters="A\nB\nC", witnesses="D\nE"))
    service.close_poll(session, SYSTEM, poll)
    session.commit()
    return poll.id


def measure(client, url: str, runs: int) -> tuple[float, float, int]:
    client.get(url)  # warm: templates compiled, caches filled
    timings = []
    size = 0
    for _ in range(runs):
        begin = time.perf_counter()
        response = client.get(url)
        timings.append(time.perf_counter() - begin)
        assert response.status_code == 200, (url, response.status_code)
        size = len(response.data)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.99) - 1], size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opinions", type=int, default=5000)
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    from report_export import build

    from consult import create_app
    from consult.audit.service import SYSTEM
    from consult.consultations.models import Consultation
    from consult.consultations.service import mark_results_published

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.sqlite3"
        cid = build(db, args.opinions, 200)
        app = create_app({"DATABASE_URL": f"sqlite:///{db}", "SECRET_KEY": "bench", "INSTANCE_PATH": tmp})
        session = app.extensions["consult_sessionmaker"]()
        consultation = session.get(Consultation, cid)
        mark_results_published(session, SYSTEM, consultation)
        session.commit()
        slug = consultation.commune.slug
        poll_id = build_vote(session, consultation.commune, args.households)
        session.close()
        client = app.test_client()
        pages = [
            ("ceiling: /healthz", "/healthz"),
            ("commune home", f"/c/{slug}/"),
            ("consultations", f"/c/{slug}/consultations/"),
            (f"draft, 200 parts, {args.opinions:,} opinions", f"/c/{slug}/consultations/{cid}"),
            ("draft, its last page", f"/c/{slug}/consultations/{cid}?page=99"),
            (f"published report, {args.opinions:,} opinions", f"/c/{slug}/consultations/{cid}/report"),
            ("published report, a search", f"/c/{slug}/consultations/{cid}/report?q=kinh+ph%C3%AD"),
            ("votes", f"/c/{slug}/polls/"),
            (f"vote results, {args.households:,} households", f"/c/{slug}/polls/{poll_id}"),
            ("vote results, a receipt lookup", f"/c/{slug}/polls/{poll_id}?receipt=ABCD-EFGH"),
        ]
        results = [(name, *measure(client, url, args.runs)) for name, url in pages]
    ceiling = results[0][1]
    print(f"| page (SQLite, in-process, {args.runs} runs) | p50 | p99 | HTML | p50 / ceiling |")
    print("|---|---|---|---|---|")
    worst_p99 = worst_size = 0.0
    for name, p50, p99, size in results:
        print(f"| {name} | {p50 * 1000:.1f} ms | {p99 * 1000:.1f} ms | {size / 1000:.1f} KB | {p50 / ceiling:.1f} |")
        if not name.startswith("ceiling"):
            worst_p99, worst_size = max(worst_p99, p99), max(worst_size, size)
    print(f"RESULT worst_p99_ms={worst_p99 * 1000:.1f} worst_html_kb={worst_size / 1000:.1f} "
          f"ceiling_p50_ms={ceiling * 1000:.2f}")


if __name__ == "__main__":
    main()
