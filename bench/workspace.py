"""Benchmark: the officer's synthesis workspace at 5,000 and 50,000 opinions (issue 24).

Builds one database holding two consultations of a draft of 200 parts, one with N and one
with 10 × N opinions, written with Core bulk inserts (opinions, their groups and the groups'
members: a third of the opinions repeat an earlier one on its part, so about two opinions
in three open a group; every other group is answered). Then, through the app in-process
(the Flask test client, an officer logged in), requests each page of the workspace at both
sizes beside ``/healthz`` (one ``SELECT 1`` and a JSON answer) in the same run: the first
page, filtered pages (state "chưa trả lời", a part, a unit, words common and rare), a later
page continued by key, and a group's own page of members. Prints p50, p99, HTML size, the
ratio of each p50 to the ceiling's and the growth of p50 from N to 10 × N; then the cost of
the grouping pass the workspace used to run on every GET (``sync_clusters`` with nothing to
place, and the whole ``report_data``) beside what it runs now (``sync_new_opinions``).

Goal (issue 24): p99 under 100 ms, HTML under 150 KB, growth ×10 under 1.5.

    python bench/workspace.py [--opinions 5000] [--runs 100] [--database sqlite|postgresql|both]

Ends with ``RESULT worst_p99_ms=… worst_html_kb=… worst_growth=…`` (over both databases).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = ("đề nghị bổ sung sửa đổi làm rõ quy định trách nhiệm kinh phí khu phố tuyên truyền người dân "
         "cán bộ thời hạn công khai giám sát thực hiện hướng dẫn cụ thể phù hợp thực tế").split()
RARE = "đèn"  # in one opinion in a thousand: a search that reads far to fill a page


def build(url: str, sizes: list[int], parts: int = 200) -> tuple[list[int], str]:
    """The commune, an officer with TOTP, and one consultation per size; returns their ids and the TOTP secret."""
    import pyotp
    from sqlalchemy import insert, text

    from consult import create_app, migrate
    from consult.audit.service import SYSTEM
    from consult.auth import service as auth
    from consult.communes.service import save_commune, save_group, save_unit
    from consult.consultations import service as consultations
    from consult.opinions.models import Opinion
    from consult.reports.grouping import normalize
    from consult.reports.models import ClusterMember, OpinionCluster
    from consult.textsearch import search_blob
    from consult.timeutil import utcnow

    migrate.upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_PATH": tempfile.gettempdir()})
    session = app.extensions["consult_sessionmaker"]()
    commune = save_commune(session, SYSTEM, None, kind="phuong", name="Bình An", province="Bình Dương")
    groups = [save_group(session, SYSTEM, commune, None, kind="khu_pho", name=f"Khu phố {i}") for i in range(1, 6)]
    units = [save_unit(session, SYSTEM, commune, None, kind="doan_the", name=f"Đơn vị {i:02d}") for i in range(30)]
    secret = pyotp.random_base32()
    officer = auth.create_user(session, SYSTEM, username="tam.vptk", full_name="Lê Thị Tâm", role="officer",
                               password="mật-khẩu-đo-hiệu-năng", commune_id=commune.id)
    officer.totp_secret, officer.totp_enabled = secret, True
    articles = parts // 5
    draft = "QUYẾT NGHỊ:\n" + "\n".join(
        f"Điều {a}. Nội dung điều {a}\n" + "\n".join(f"{k}. Khoản {k} của Điều {a} quy định về việc thực hiện dân chủ."
                                                  for k in range(1, 5)) for a in range(1, articles + 1))
    start = utcnow() - timedelta(days=10)
    rng = random.Random(24)
    ids = []
    opinion_id = cluster_id = 0
    for size in sizes:
        facts = consultations.ConsultationFacts(
            title=f"Lấy ý kiến dự thảo Nghị quyết ({size:,} ý kiến)", doc_kind="nghi_quyet",
            issuing_body="Ủy ban nhân dân phường Bình An", officer_name="Tâm", opens_at=start,
            closes_at=start + timedelta(days=21))
        c = consultations.create_consultation(session, SYSTEM, commune, facts, consultations.read_draft(text=draft),
                                              [u.id for u in units], now=start)
        consultations.publish(session, SYSTEM, c, now=start)
        session.flush()
        positions = {p.id: p.position for p in c.parts}
        part_ids = list(positions) + [None]
        opinions, clusters, members, earlier = [], [], [], []
        for i in range(size):
            opinion_id += 1
            if i % 3 == 2 and earlier:
                # A third repeat an earlier opinion on its part, as people copy a text that circulates.
                body, part_id, cluster = earlier[rng.randrange(len(earlier))]
            else:
                body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(12, 40))).capitalize()
                if rng.random() < 0.001:
                    body += f" và lắp {RARE} chiếu sáng"
                body += "."
                part_id = rng.choice(part_ids)
                cluster_id += 1
                cluster = cluster_id
                clusters.append({"id": cluster, "consultation_id": c.id, "part_id": part_id,
                                 "part_position": positions.get(part_id, -1), "key": normalize(body),
                                 "split_off": False, **({"decision": "accepted", "decided_by": "Tâm",
                                                         "decided_at": utcnow()} if cluster % 2 else {})})
                earlier.append((body, part_id, cluster))
            resident = i % 4 != 0
            opinions.append({
                "id": opinion_id, "consultation_id": c.id, "commune_id": commune.id, "part_id": part_id,
                "text": body, "author_kind": "resident" if resident else "unit",
                "unit_id": None if resident else units[i % len(units)].id,
                "resident_name": f"Người dân số {i}" if resident else None,
                "resident_group_id": groups[i % 5].id if resident else None, "channel": "online",
                "created_at": start + timedelta(seconds=i), "search_text": search_blob(body)})
            members.append({"opinion_id": opinion_id, "cluster_id": cluster})
        for table, rows in ((Opinion, opinions), (OpinionCluster, [dict({"decision": None, "decided_by": None,
                                                                         "decided_at": None}, **r) for r in clusters]),
                            (ClusterMember, members)):
            for chunk in range(0, len(rows), 5000):
                session.execute(insert(table), rows[chunk:chunk + 5000])
        ids.append(c.id)
    if session.bind.dialect.name == "postgresql":  # the ids were given: the sequences carry on after them
        for table in ("opinion", "opinion_cluster"):
            session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
    session.commit()
    session.close()
    # Statistics and (PostgreSQL) the visibility map, as autovacuum leaves a database in service.
    with app.extensions["consult_engine"].connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if conn.dialect.name == "postgresql" else "ANALYZE"))
    app.extensions["consult_engine"].dispose()
    return ids, secret


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
    return statistics.median(timings), timings[max(0, int(len(timings) * 0.99) - 1)], size


def pages_of(session, cid: int) -> list[tuple[str, str]]:
    """The workspace's pages to measure for one consultation."""
    from sqlalchemy import func, select

    from consult.consultations.models import DraftPart
    from consult.opinions.models import Opinion
    from consult.reports.models import ClusterMember, OpinionCluster

    oc = OpinionCluster
    groups = session.scalar(select(func.count()).where(oc.consultation_id == cid))
    late = session.execute(select(oc.part_position, oc.id).where(oc.consultation_id == cid)
                           .order_by(oc.part_position, oc.id).offset(int(groups * 0.8)).limit(1)).one()
    part = session.scalar(select(DraftPart.id).where(DraftPart.consultation_id == cid).order_by(DraftPart.position)
                          .offset(100).limit(1))
    unit = session.scalar(select(Opinion.unit_id).where(Opinion.consultation_id == cid, Opinion.unit_id.is_not(None))
                          .limit(1))
    biggest = session.execute(select(ClusterMember.cluster_id).join(oc, oc.id == ClusterMember.cluster_id)
                              .where(oc.consultation_id == cid).group_by(ClusterMember.cluster_id)
                              .order_by(func.count().desc()).limit(1)).scalar()
    base = f"/reports/consultations/{cid}"
    return [
        ("first page", base),
        ("state: chưa trả lời", f"{base}?state=undecided"),
        ("a part (the 101st)", f"{base}?part={part}"),
        ("a unit", f"{base}?unit={unit}"),
        ("words: kinh phí", f"{base}?q=kinh+ph%C3%AD"),
        (f"words: {RARE} (1 in 1,000)", f"{base}?q={RARE}"),
        ("a later page by key (80%)", f"{base}?after={late[0]}.{late[1]}"),
        ("a group's members", f"{base}/clusters/{biggest}"),
    ]


def grouping_costs(session_maker, cid: int) -> dict[str, float]:
    """What a GET used to run (the whole grouping pass, then every row) beside what it runs now."""
    from consult.consultations.models import Consultation
    from consult.reports import service, workspace

    costs = {}
    for name, run in (("sync_clusters (nothing to place)", lambda s, c: service.sync_clusters(s, c)),
                      ("report_data (the old page's data)", lambda s, c: service.report_data(s, c)),
                      ("sync_new_opinions (now)", lambda s, c: service.sync_new_opinions(
                          s, c, placed=workspace.counts(s, c).total))):
        session = session_maker()
        consultation = session.get(Consultation, cid)
        begin = time.perf_counter()
        run(session, consultation)
        costs[name] = time.perf_counter() - begin
        session.rollback()
        session.close()
    return costs


def run_database(url: str, dialect: str, sizes: list[int], runs: int) -> dict:
    import pyotp

    from consult import create_app
    from tests.support.helpers import post_form

    begin = time.perf_counter()
    cids, secret = build(url, sizes)
    built = time.perf_counter() - begin
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_PATH": tmp})
        client = app.test_client()
        assert post_form(client, "/auth/login", {"username": "tam.vptk", "password": "mật-khẩu-đo-hiệu-năng"}
                         ).status_code == 302
        assert post_form(client, "/auth/totp", {"code": pyotp.TOTP(secret).now()}).status_code == 302
        session = app.extensions["consult_sessionmaker"]()
        plans = [pages_of(session, cid) for cid in cids]
        session.close()
        ceiling = measure(client, "/healthz", runs)
        results = {size: [(name, *measure(client, url_, runs)) for name, url_ in plan]
                   for size, plan in zip(sizes, plans)}
        costs = {size: grouping_costs(app.extensions["consult_sessionmaker"], cid) for size, cid in zip(sizes, cids)}
        app.extensions["consult_engine"].dispose()
    return {"dialect": dialect, "built": built, "ceiling": ceiling, "results": results, "costs": costs}


def report(run: dict, sizes: list[int], runs: int) -> tuple[float, float, float]:
    small, large = sizes
    ceiling = run["ceiling"][0]
    print(f"\n{run['dialect']}: built {small:,} + {large:,} opinions in {run['built']:.1f} s; "
          f"ceiling /healthz p50 {ceiling * 1000:.2f} ms, p99 {run['ceiling'][1] * 1000:.2f} ms ({runs} runs)")
    print(f"| page ({run['dialect']}, in-process) | opinions | p50 | p99 | HTML | p50 / ceiling | growth ×10 (p50) |")
    print("|---|---|---|---|---|---|---|")
    worst_p99 = worst_size = worst_growth = 0.0
    for (name, p50, p99, size), (_, p50_l, p99_l, size_l) in zip(run["results"][small], run["results"][large]):
        growth = p50_l / p50
        print(f"| {name} | {small:,} | {p50 * 1000:.1f} ms | {p99 * 1000:.1f} ms | {size / 1000:.1f} KB | "
              f"{p50 / ceiling:.1f} | |")
        print(f"| {name} | {large:,} | {p50_l * 1000:.1f} ms | {p99_l * 1000:.1f} ms | {size_l / 1000:.1f} KB | "
              f"{p50_l / ceiling:.1f} | {growth:.2f} |")
        worst_p99 = max(worst_p99, p99, p99_l)
        worst_size = max(worst_size, size, size_l)
        worst_growth = max(worst_growth, growth)
    for size in sizes:
        print(f"grouping at {size:,} opinions: " + "; ".join(
            f"{name} {seconds * 1000:,.0f} ms" for name, seconds in run["costs"][size].items()))
    return worst_p99, worst_size, worst_growth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opinions", type=int, default=5000, help="the small size; the large one is ten times it")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    sizes = [args.opinions, args.opinions * 10]
    runs = []
    with tempfile.TemporaryDirectory(prefix="consult-bench-") as tmp:
        if args.database in ("sqlite", "both"):
            runs.append(run_database(f"sqlite:///{tmp}/bench.sqlite3", "SQLite", sizes, args.runs))
        if args.database in ("postgresql", "both"):
            # The tests' throw-away server (Debian's binaries; fsync off, as in the tests).
            from tests.support.pgserver import PostgresServer, find_bindir

            bindir = find_bindir()
            if bindir is None:
                print("PostgreSQL is not installed (Debian's postgresql package): measured on SQLite only")
            else:
                server = PostgresServer(bindir).start()
                try:
                    runs.append(run_database(server.url(), "PostgreSQL", sizes, args.runs))
                finally:
                    server.stop()
    worst = [report(run, sizes, args.runs) for run in runs]
    print("\ngoal: p99 under 100 ms, HTML under 150 KB, growth ×10 under 1.5")
    print(f"RESULT worst_p99_ms={max(w[0] for w in worst) * 1000:.1f} "
          f"worst_html_kb={max(w[1] for w in worst) / 1000:.1f} worst_growth={max(w[2] for w in worst):.2f}")


if __name__ == "__main__":
    main()
