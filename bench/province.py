"""Benchmark: a province on one server.

Builds a synthetic province on one PostgreSQL (Core inserts): 100 communes of 5 groups and
500,000 households; 1,000 consultations with 1,000,000 opinions, one of 50,000 and one of
5,000; 300 votes, of which one online vote of 100,000 really encrypted ballots and one of
10,000, both closed through the real count (the background job), and votes under way with
their households' marks; 200 and 20 public proposals. Then serves it with gunicorn -w 2 (the
repository's application, sync workers) and requests each page of issue 24's table at the
large size and at a size ten times smaller, one request at a time, beside ``/healthz`` (one
``SELECT 1``: the server's ceiling) in the same run: p50, p99, HTML size, the ratio of p50 to
the ceiling's, and the growth ×10 (large p50 / small p50).

Goal (issue 24): every page p99 under 100 ms, HTML under 150 KB, growth ×10 under 1.5.

    python bench/province.py [--scale 1.0] [--runs 100] [--database-url URL]

``--scale 0.1`` builds a tenth of everything (the measured pairs keep their ratio of ten).
Prints a table and a last line ``RESULT worst_p99_ms=… worst_html_kb=… worst_growth=…``.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import random
import re
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ballot_flow import CONSULT_APP, start_gunicorn, stop  # noqa: E402  (bench/, beside this script)

PASSWORD = "mật-khẩu-đo-hiệu-năng"
WORDS = ("kinh phí", "lắp đặt", "đèn", "đường", "khu phố", "hộ dân", "đóng góp", "vệ sinh", "môi trường",
         "an ninh", "trật tự", "camera", "sinh hoạt", "văn hóa", "hẻm", "thoát nước", "cây xanh", "quy định",
         "trách nhiệm", "công khai", "minh bạch", "thời gian", "thực hiện", "Ban điều hành", "họp dân")
GROUPS_PER_COMMUNE = 5


def _vn(number: int) -> str:
    """10.000: thousands as Vietnamese writes them."""
    return f"{number:,}".replace(",", ".")


def _draft(articles: int) -> str:
    return "QUYẾT NGHỊ:\n" + "\n".join(
        f"Điều {a}. Nội dung điều {a}\n" + "\n".join(f"{k}. Khoản {k} của Điều {a} quy định về việc thực hiện dân chủ."
                                                  for k in range(1, 5)) for a in range(1, articles + 1))


class Builder:
    def __init__(self, url: str, tmp: str, scale: float, encrypted: int):
        from consult import create_app, migrate

        migrate.upgrade(url)
        self.app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_PATH": tmp})
        self.session = self.app.extensions["consult_sessionmaker"]()
        self.scale, self.encrypted = scale, encrypted
        self.rng = random.Random(24)
        self.ids: dict[str, object] = {}
        self.opinion_id = self.cluster_id = 0

    def n(self, value: int, least: int = 1) -> int:
        return max(least, round(value * self.scale))

    # --- the register ------------------------------------------------------------------------
    def communes(self) -> None:
        from sqlalchemy import insert

        import pyotp

        from consult.audit.service import SYSTEM
        from consult.auth import service as auth
        from consult.communes.models import Household
        from consult.communes.service import save_commune, save_group, save_unit

        s = self.session
        self.communes_ = []
        per_group = self.n(1000)
        for c in range(self.n(100, 2)):
            commune = save_commune(s, SYSTEM, None, kind="phuong", name=f"Tân Định {c + 1}", province="Bình Dương",
                                   slug=f"phuong-{c + 1:03d}")
            groups = [save_group(s, SYSTEM, commune, None, kind="khu_pho", name=f"Khu phố {g + 1}", position=g)
                      for g in range(GROUPS_PER_COMMUNE)]
            units = [save_unit(s, SYSTEM, commune, None, kind="doan_the", name=f"Đơn vị {u:02d}") for u in range(10)]
            # The first commune's first group holds five times the others' households, its second a
            # tenth of that: the household register's pair of sizes.
            sizes = [per_group] * GROUPS_PER_COMMUNE
            if c == 0:
                sizes[0], sizes[1] = per_group * 5, per_group // 2
            for group, size in zip(groups, sizes):
                rows = [{"commune_id": commune.id, "group_id": group.id, "code": f"{c}-{group.position}-{i:05d}",
                         "representative": f"Nguyễn Văn {self.rng.choice(WORDS).title()} {i}",
                         "address": f"Số {i}, {group.name}"} for i in range(size)]
                for chunk in range(0, len(rows), 10_000):
                    s.execute(insert(Household), rows[chunk:chunk + 10_000])
            self.communes_.append((commune, groups, units, sizes))
        secret = pyotp.random_base32()
        officer = auth.create_user(s, SYSTEM, username="tam.vptk", full_name="Lê Thị Tâm", role="officer",
                                   password=PASSWORD, commune_id=self.communes_[0][0].id)
        officer.totp_secret, officer.totp_enabled = secret, True
        self.ids["totp"] = secret
        s.commit()

    # --- consultations and opinions ----------------------------------------------------------
    def _body(self) -> str:
        return " ".join(self.rng.choice(WORDS) for _ in range(self.rng.randint(12, 40))).capitalize() + "."

    def consultations(self) -> None:
        from sqlalchemy import insert, text

        from consult.audit.service import SYSTEM
        from consult.consultations import service as consultations
        from consult.opinions.models import Opinion
        from consult.reports.grouping import normalize
        from consult.reports.models import ClusterMember, OpinionCluster
        from consult.textsearch import search_blob
        from consult.timeutil import utcnow

        s = self.session
        big, small = self.n(50_000, 10), self.n(5_000, 1)
        total = self.n(1_000_000, big + small)
        count = max(self.n(1000), len(self.communes_) + 1)
        filler = max(0, (total - big - small) // max(1, count - 2))
        large_draft, small_draft = _draft(40), _draft(4)
        start = utcnow() - timedelta(days=10)
        made = 0
        pool = [(body, search_blob(body), normalize(body)) for body in (self._body() for _ in range(self.n(20_000)))]
        for index in range(count):
            commune, groups, units, _ = self.communes_[index % len(self.communes_)]
            size = big if index == 0 else small if index == len(self.communes_) else filler
            facts = consultations.ConsultationFacts(
                title=f"Lấy ý kiến dự thảo Nghị quyết số {index + 1} ({_vn(size)} ý kiến)", doc_kind="nghi_quyet",
                issuing_body=f"Ủy ban nhân dân {commune.name}", officer_name="Tâm", opens_at=start,
                closes_at=start + timedelta(days=21))
            source = consultations.read_draft(text=large_draft if size >= small else small_draft)
            c = consultations.create_consultation(s, SYSTEM, commune, facts, source, [u.id for u in units], now=start)
            consultations.publish(s, SYSTEM, c, now=start)
            s.flush()
            if index == 0:
                self.ids["big_consultation"] = (commune.slug, c.id)
            elif index == len(self.communes_):
                self.ids["small_consultation"] = (commune.slug, c.id)
            positions = {p.id: p.position for p in c.parts}
            part_ids = list(positions) + [None]
            opinions, clusters, members, earlier = [], [], [], []
            for i in range(size):
                self.opinion_id += 1
                if i % 3 == 2 and earlier:
                    body, blob, part_id, cluster = earlier[self.rng.randrange(len(earlier))]
                else:
                    if size < small:  # the other consultations' opinions come from a pool: folding a
                        body, blob, key = pool[self.rng.randrange(len(pool))]  # text is the build's cost
                    else:
                        body = self._body()
                        blob, key = search_blob(body), normalize(body)
                    part_id = self.rng.choice(part_ids)
                    self.cluster_id += 1
                    cluster = self.cluster_id
                    clusters.append({"id": cluster, "consultation_id": c.id, "part_id": part_id,
                                     "part_position": positions.get(part_id, -1), "key": key,
                                     "split_off": False, "decision": "accepted" if cluster % 2 else None,
                                     "decided_by": "Tâm" if cluster % 2 else None,
                                     "decided_at": utcnow() if cluster % 2 else None})
                    earlier.append((body, blob, part_id, cluster))
                resident = i % 4 != 0
                opinions.append({
                    "id": self.opinion_id, "consultation_id": c.id, "commune_id": commune.id, "part_id": part_id,
                    "text": body, "author_kind": "resident" if resident else "unit",
                    "unit_id": None if resident else units[i % len(units)].id,
                    "resident_name": f"Người dân số {i}" if resident else None,
                    "resident_group_id": groups[i % len(groups)].id if resident else None, "channel": "online",
                    "created_at": start + timedelta(seconds=i), "search_text": blob})
                members.append({"opinion_id": self.opinion_id, "cluster_id": cluster})
            for table, rows in ((Opinion, opinions), (OpinionCluster, clusters), (ClusterMember, members)):
                for chunk in range(0, len(rows), 10_000):
                    s.execute(insert(table), rows[chunk:chunk + 10_000])
            made += size
            if index % 100 == 99:
                s.commit()
        if s.bind.dialect.name == "postgresql":  # the ids were given: the sequences carry on after them
            for table in ("opinion", "opinion_cluster"):
                s.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
        s.commit()
        self.ids["opinions"] = (made, big, small)

    # --- votes -------------------------------------------------------------------------------
    def votes(self) -> None:
        from sqlalchemy import insert, select

        from consult.audit.service import SYSTEM
        from consult.polls import service
        from consult.polls.models import Participation, PollHousehold
        from consult.timeutil import local_date, utcnow

        s = self.session
        now = utcnow()
        committee = [service.CommitteeInput("Hoa", "Đại diện Ban công tác Mặt trận", True),
                     service.CommitteeInput("Bảy", "Thành viên"), service.CommitteeInput("Tư", "Thành viên")]
        count = max(self.n(300), len(self.communes_) + 3)
        for index in range(count - 2):  # the two online votes are made by ``online``
            commune, groups, _, _ = self.communes_[index % len(self.communes_)]
            group = groups[index // len(self.communes_) % len(groups)]
            poll = service.create_poll(s, SYSTEM, commune, service.PollInput(
                title=f"Lắp đèn chiếu sáng hẻm {index + 1}", question="Hộ có đồng ý góp tiền lắp đèn không?",
                matter_kind="k6", form="ballot", opens_at=now - timedelta(hours=2), closes_at=now + timedelta(days=5),
                group_ids=[group.id], chosen_by_head_and_front=True, committee=list(committee)),
                now=now - timedelta(hours=2))
            service.open_poll(s, SYSTEM, poll, now=now - timedelta(hours=2))
            if index == 0:
                self.ids["open_vote_big"] = (commune.slug, poll.id)
            elif index == len(self.communes_):
                self.ids["open_vote_small"] = (commune.slug, poll.id)
            households = s.scalars(select(PollHousehold.id).where(PollHousehold.poll_id == poll.id)).all()
            marked = households[:len(households) * 3 // 5]
            for chunk in range(0, len(marked), 10_000):
                s.execute(insert(Participation), [
                    {"poll_id": poll.id, "phase": "vote", "poll_household_id": h, "voted_on": local_date(now),
                     "channel": "paper"} for h in marked[chunk:chunk + 10_000]])
            if index % 50 == 49:
                s.commit()
        s.commit()

    def online(self, size: int, name: str) -> None:
        """A closed online vote of ``size`` households, every one having cast a real ballot, counted by the job."""
        from sqlalchemy import insert

        from consult.audit.service import SYSTEM
        from consult.audit.service import record as audit_record
        from consult.auth.service import create_user
        from consult.jobs.results import ResultStore
        from consult.jobs.service import run_one
        from consult.polls import ballots as ballots_module
        from consult.polls import jobs as poll_jobs
        from consult.polls import secrecy, service
        from consult.polls.models import CastBallot, CommitteeMember, Participation, Poll, PollChoice, PollGroup, PollHousehold
        from consult.timeutil import local_date, utcnow
        from tally import _encrypt_many

        s = self.session
        commune, groups, _, _ = self.communes_[0]
        group = groups[2 if name == "online_big" else 3]
        now = utcnow()
        poll = Poll(commune_id=commune.id, group_id=group.id, matter_kind="k6", form="online",
                    title=f"Lắp camera an ninh ({_vn(size)} hộ)", question="Hộ có đồng ý lắp camera an ninh không?",
                    opens_at=now - timedelta(days=3), closes_at=now - timedelta(minutes=1), status="open",
                    phase="vote", created_at=now - timedelta(days=4), created_by="bench", key_threshold=2)
        for kind, label in service.STANDARD_CHOICES:
            poll.choices.append(PollChoice(position=len(poll.choices), label=label, kind=kind))
        for i in range(3):
            poll.committee.append(CommitteeMember(position=i, name=f"Thành viên {i}", role="Thành viên",
                                                  is_leader=i == 0))
        poll.groups.append(PollGroup(group_id=group.id, households=size))
        s.add(poll)
        s.flush()
        key = secrecy.new_key(poll.id, 3)
        poll.public_key, poll.texts_key = key.public, key.texts_public
        audit_record(s, SYSTEM, "poll.open", poll, now=now - timedelta(days=3),
                     details={"fingerprint": secrecy.key_fingerprint(key.public, key.texts_public)})
        s.commit()
        choices = len(poll.choices)
        context = ballots_module.ballot_context(poll.id, "vote", key.public, choices)
        # One household in ten writes an "ý kiến khác": the results page pages them.
        picks = [0 if self.rng.random() < 0.7 else self.rng.choice([1, 2]) for _ in range(size)]
        made = _encrypt_many(key.public, key.texts_public, context, choices, picks)
        for offset in range(0, size, 10_000):
            chunk = made[offset:offset + 10_000]
            rows = [{"poll_id": poll.id, "group_id": group.id, "code": f"O{name[-3:]}-{offset + i}",
                     "representative": "Đại diện", "address": "Địa chỉ"} for i in range(len(chunk))]
            ids = s.scalars(insert(PollHousehold).returning(PollHousehold.id), rows).all()
            s.execute(insert(Participation), [{"poll_id": poll.id, "phase": "vote", "poll_household_id": i,
                                               "voted_on": local_date(now), "channel": "online"} for i in ids])
            s.execute(insert(CastBallot), [
                {"poll_id": poll.id, "phase": "vote", "group_id": group.id, "ciphertext": c, "proofs": p,
                 "sealed_text": t, "tracker": secrecy.tracker(c, p, t)} for c, p, t in chunk])
        s.commit()
        del made
        officer = create_user(s, SYSTEM, username=f"bench.{name.replace('_', '.')}", full_name="Người kiểm phiếu",
                              role="admin", password="Bench-count-2026!", commune_id=None)
        poll_jobs.queue_count(s, self.app, s.get(Poll, poll.id), shares=key.shares[:2], early_stop_reason=None,
                              user_id=officer.id, user_name=officer.full_name, now=utcnow())
        s.commit()
        with self.app.app_context():
            assert run_one(self.app.extensions["consult_writer_sessionmaker"], self.app.extensions["consult_sessionmaker"],
                           results=ResultStore.of_app(self.app)), "no count job ran"
        s.expire_all()
        assert s.get(Poll, poll.id).status in ("closed", "decided"), "the count did not close the vote"
        self.ids[name] = (commune.slug, poll.id)

    def proposals(self) -> None:
        from sqlalchemy import insert

        from consult.proposals.models import STATUS_COLLECTING, Proposal
        from consult.timeutil import local_date, utcnow

        now = utcnow()
        for c, size in ((0, self.n(200, 10)), (1, self.n(20, 1))):
            commune, groups, _, sizes = self.communes_[c]
            self.session.execute(insert(Proposal), [
                {"commune_id": commune.id, "group_id": groups[i % len(groups)].id, "matter_kind": "k6",
                 "title": f"Kiến nghị số {i + 1}: lắp đèn chiếu sáng hẻm {i + 1}",
                 "content": " ".join(self.rng.choice(WORDS) for _ in range(60)), "proposer_name": f"Người dân {i}",
                 "proposer_address": f"Số {i}", "status": STATUS_COLLECTING, "submitted_at": now - timedelta(hours=i + 1),
                 "opened_at": now - timedelta(hours=i), "closes_on": local_date(now) + timedelta(days=60),
                 "households_at_open": sizes[i % len(groups)], "created_by": "bench"} for i in range(size)])
            self.ids["proposals_big" if c == 0 else "proposals_small"] = commune.slug
        self.session.commit()

    def finish(self) -> None:
        from sqlalchemy import text

        self.session.close()
        engine = self.app.extensions["consult_engine"]
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE" if conn.dialect.name == "postgresql" else "ANALYZE"))
        engine.dispose()


def pages(b: Builder) -> list[tuple[str, str, str, bool]]:
    """(page, large url, small url, staff) for each row of the table."""
    from sqlalchemy import select

    from consult.polls.models import CastBallot

    s = b.app.extensions["consult_sessionmaker"]()
    (slug_b, cb), (slug_s, cs) = b.ids["big_consultation"], b.ids["small_consultation"]
    (vslug_b, vb), (vslug_s, vs) = b.ids["online_big"], b.ids["online_small"]
    (oslug_b, ob), (oslug_s, os_) = b.ids["open_vote_big"], b.ids["open_vote_small"]

    def tracker_at(poll_id: int, share: float) -> str:
        trackers = s.scalars(select(CastBallot.tracker).where(CastBallot.poll_id == poll_id)
                             .order_by(CastBallot.tracker)).all()
        return trackers[int(len(trackers) * share)]

    groups0 = b.communes_[0][1]
    rows = [
        ("officer's report workspace", f"/reports/consultations/{cb}", f"/reports/consultations/{cs}", True),
        ("workspace, chưa trả lời", f"/reports/consultations/{cb}?state=undecided",
         f"/reports/consultations/{cs}?state=undecided", True),
        ("public vote results (online)", f"/c/{vslug_b}/polls/{vb}", f"/c/{vslug_s}/polls/{vs}", False),
        ("public bulletin, page at 80%", f"/c/{vslug_b}/polls/{vb}?tracker_after={tracker_at(vb, 0.8)}",
         f"/c/{vslug_s}/polls/{vs}?tracker_after={tracker_at(vs, 0.8)}", False),
        ("receipt found by prefix", f"/c/{vslug_b}/polls/{vb}?receipt={tracker_at(vb, 0.3)[:10]}",
         f"/c/{vslug_s}/polls/{vs}?receipt={tracker_at(vs, 0.3)[:10]}", False),
        ("public vote under way (turnout)", f"/c/{oslug_b}/polls/{ob}", f"/c/{oslug_s}/polls/{os_}", False),
        ("household register of a group", f"/households/groups/{groups0[0].id}",
         f"/households/groups/{groups0[1].id}", True),
        ("household search", f"/households/groups/{groups0[0].id}?q=Nguy%E1%BB%85n",
         f"/households/groups/{groups0[1].id}?q=Nguy%E1%BB%85n", True),
        ("public proposals list", f"/c/{b.ids['proposals_big']}/proposals/", f"/c/{b.ids['proposals_small']}/proposals/",
         False),
        ("public draft page", f"/c/{slug_b}/consultations/{cb}", f"/c/{slug_s}/consultations/{cs}", False),
        ("commune home", f"/c/{slug_b}/", f"/c/{slug_s}/", False),
        ("public votes list", f"/c/{slug_b}/polls/", f"/c/{slug_s}/polls/", False),
        ("public consultations list", f"/c/{slug_b}/consultations/", f"/c/{slug_s}/consultations/", False),
    ]
    s.close()
    return rows


def _fresh_code(url: str, totp: str) -> str:
    """The officer's code for this moment, the last step they used forgotten: each sign-in of the
    bench (gunicorn's, the plans' in-process one, a run again) would otherwise be a replay."""
    import pyotp
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE user_account SET totp_last_step = NULL WHERE username = 'tam.vptk'"))
    engine.dispose()
    return pyotp.TOTP(totp).now()


class Browser:
    """One client with its cookies, as a browser keeps them (the staff's signed-in session)."""

    def __init__(self, port: int):
        self.base = f"http://127.0.0.1:{port}"
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with self.opener.open(self.base + path, timeout=120) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def post(self, path: str, data: dict) -> int:
        _, page = self.get(path)
        token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1).decode()
        body = urllib.parse.urlencode({**data, "csrf_token": token}).encode()
        request = urllib.request.Request(self.base + path, data=body, headers={"Origin": self.base,
                                                                              "Sec-Fetch-Site": "same-origin"})
        with self.opener.open(request, timeout=60) as response:
            return response.status


def measure(browser: Browser, path: str, runs: int) -> tuple[float, float, int]:
    status, _ = browser.get(path)  # warm: templates compiled, caches filled
    assert status == 200, (path, status)
    timings, size = [], 0
    for _ in range(runs):
        begin = time.perf_counter()
        status, data = browser.get(path)
        timings.append(time.perf_counter() - begin)
        assert status == 200, (path, status)
        size = len(data)
    timings.sort()
    return statistics.median(timings), timings[max(0, int(len(timings) * 0.99) - 1)], size


def plans(url: str, tmp: str, plan, totp: str) -> list[tuple[str, float, str, str]]:
    """The slowest statement of each large page, requested in-process, with PostgreSQL's plan of it
    (EXPLAIN ANALYZE, run again with the same parameters): (page, ms, statement, plan)."""
    from sqlalchemy import event

    from consult import create_app
    from tests.support.helpers import post_form

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_PATH": tmp,
                      "RATELIMIT_STORAGE_URL": "memory://", "RATELIMIT_ENABLED": False})
    engine = app.extensions["consult_engine"]
    seen: list[tuple[float, str, object]] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_started"] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        seen.append((time.perf_counter() - conn.info.pop("bench_started"), statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    staff, public = app.test_client(), app.test_client()
    post_form(staff, "/auth/login", {"username": "tam.vptk", "password": PASSWORD})
    post_form(staff, "/auth/totp", {"code": _fresh_code(url, totp)})
    found = []
    for name, large, _, is_staff in plan:
        client = staff if is_staff else public
        client.get(large)  # warm
        seen.clear()
        assert client.get(large).status_code == 200, large
        elapsed, statement, parameters = max(seen, key=lambda row: row[0])
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + statement, parameters)
            explained = "\n".join(row[0] for row in cursor.fetchall())
        finally:
            raw.close()
        found.append((name, elapsed * 1000, " ".join(statement.split()), explained))
    engine.dispose()
    return found


def run(url: str, tmp: str, scale: float, runs: int, workers: int, dump: Path | None = None,
        state: Path | None = None) -> None:
    if state and state.exists():  # measured again on a province built by an earlier run
        saved = json.loads(state.read_text())
        plan, totp, built = [tuple(row) for row in saved["plan"]], saved["totp"], saved["built"]
        made, big, small, communes = saved["made"], saved["big"], saved["small"], saved["communes"]
        measure_and_print(url, tmp, plan, totp, built, (made, big, small, communes), scale, runs, workers, dump)
        return
    begin = time.perf_counter()
    builder = Builder(url, tmp, scale, 0)
    steps = [("communes and households", builder.communes), ("consultations and opinions", builder.consultations),
             ("votes under way", builder.votes),
             ("online vote, large: encrypted, cast, counted by the job",
              lambda: builder.online(builder.n(100_000, 20), "online_big")),
             ("online vote, small", lambda: builder.online(builder.n(10_000, 2), "online_small")),
             ("proposals", builder.proposals), ("statistics", builder.finish)]
    for name, step in steps:
        started = time.perf_counter()
        step()
        print(f"built {name} in {time.perf_counter() - started:.1f} s", flush=True)
    built = time.perf_counter() - begin
    plan = pages(builder)
    made, big, small = builder.ids["opinions"]
    sizes = (made, big, small, len(builder.communes_))
    if state:
        state.write_text(json.dumps({"plan": plan, "totp": builder.ids["totp"], "built": built, "made": made,
                                     "big": big, "small": small, "communes": len(builder.communes_)}))
    measure_and_print(url, tmp, plan, builder.ids["totp"], built, sizes, scale, runs, workers, dump)


def measure_and_print(url, tmp, plan, totp, built, sizes, scale, runs, workers, dump) -> None:

    folder = Path(tmp) / "apps"
    folder.mkdir()
    (folder / "consult_bench.py").write_text(CONSULT_APP)
    process, port = start_gunicorn(folder, "consult_bench", workers,
                                   {"BENCH_INSTANCE": tmp, "BENCH_DATABASE_URL": url})
    try:
        staff = Browser(port)
        staff.post("/auth/login", {"username": "tam.vptk", "password": PASSWORD})
        staff.post("/auth/totp", {"code": _fresh_code(url, totp)})
        public = Browser(port)
        ceiling = measure(public, "/healthz", runs)
        results = []
        for name, large, small, is_staff in plan:
            who = staff if is_staff else public
            results.append((name, measure(who, large, runs), measure(who, small, runs)))
            if dump:  # the large page as served, to look at
                dump.mkdir(parents=True, exist_ok=True)
                (dump / (re.sub(r"\W+", "-", name).strip("-") + ".html")).write_bytes(who.get(large)[1])
    finally:
        stop(process)
    explained = plans(url, tmp, plan, totp) if url.startswith("postgresql") else []
    made, big, small, communes = sizes
    print(f"\nprovince: {communes} communes, {made:,} opinions (one of {big:,}, one of {small:,}), "
          f"built in {built:.0f} s; gunicorn -w {workers}; {runs} requests a page, one at a time; "
          f"ceiling /healthz p50 {ceiling[0] * 1000:.2f} ms, p99 {ceiling[1] * 1000:.2f} ms")
    print("| page | p50 large / small | p99 large / small | HTML large / small | p50 / ceiling | growth ×10 |")
    print("|---|---|---|---|---|---|")
    worst_p99 = worst_html = worst_growth = 0.0
    for name, (p50, p99, html), (p50_s, p99_s, html_s) in results:
        growth = p50 / p50_s
        print(f"| {name} | {p50 * 1000:.1f} / {p50_s * 1000:.1f} ms | {p99 * 1000:.1f} / {p99_s * 1000:.1f} ms | "
              f"{html / 1000:.1f} / {html_s / 1000:.1f} KB | {p50 / ceiling[0]:.1f} | {growth:.2f} |")
        worst_p99 = max(worst_p99, p99, p99_s)
        worst_html = max(worst_html, html, html_s)
        worst_growth = max(worst_growth, growth)
    for name, ms, statement, explained_plan in explained:
        print(f"\n{name}: slowest statement {ms:.1f} ms\n    {statement[:600]}")
        print("\n".join("    " + line for line in explained_plan.splitlines()))
    print("\ngoal: p99 under 100 ms, HTML under 150 KB, growth ×10 under 1.5")
    print(f"RESULT worst_p99_ms={worst_p99 * 1000:.1f} worst_html_kb={worst_html / 1000:.1f} "
          f"worst_growth={worst_growth:.2f} ceiling_p50_ms={ceiling[0] * 1000:.2f} scale={scale} workers={workers}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--state", type=Path, default=None,
                        help="with --database-url: where the built province's pages are noted; when it exists, "
                             "the province in the database is measured again without being built")
    parser.add_argument("--dump", type=Path, default=None, help="a folder to save each large page's HTML in")
    parser.add_argument("--database-url", default=None, help="an empty PostgreSQL database instead of starting one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="consult-province-") as tmp:
        if args.database_url:
            run(args.database_url, tmp, args.scale, args.runs, args.workers, args.dump, args.state)
            return
        # The tests' throw-away server (Debian's binaries; fsync off, as in the tests).
        from tests.support.pgserver import PostgresServer, find_bindir

        bindir = find_bindir()
        if bindir is None:
            sys.exit("PostgreSQL is not installed (Debian's postgresql package)")
        server = PostgresServer(bindir).start()
        try:
            run(server.url(), tmp, args.scale, args.runs, args.workers, args.dump)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
