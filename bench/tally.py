"""Benchmark: the tally of a vote with one million ballots.

Builds a SQLite database (or the one named by --database-url) holding a
commune-wide vote over 40 groups of 25,000 households (1,000,000 in the
register snapshot), every household having voted: one million participation
marks, and the ballot box filled ballot by ballot with the same function the
service uses. Then times ``polls.service.tally`` — turnout per group, counts
per choice, each group's threshold and the outcome — a few times and prints
the figures.

Target (issue 5): under one second.

    python bench/tally.py [--ballots 1000000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GROUPS = 40


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/tally.sqlite3"
        run(url, args.ballots, tmp)


def run(url: str, ballots: int, tmp: str) -> None:
    from sqlalchemy import insert

    from consult import create_app, migrate
    from consult.audit.service import SYSTEM
    from consult.communes.service import save_commune, save_group
    from consult.polls import service
    from consult.polls.models import BallotBox, Participation, Poll, PollChoice, PollGroup, PollHousehold
    from consult.timeutil import to_local, utcnow

    migrate.upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_PATH": tmp})
    session = app.extensions["consult_sessionmaker"]()
    started = time.perf_counter()
    commune = save_commune(session, SYSTEM, None, kind="xa", name="Đo Hiệu Năng", province="Bình Dương")
    groups = [save_group(session, SYSTEM, commune, None, kind="thon", name=f"Thôn {i}") for i in range(GROUPS)]
    now = utcnow()
    poll = Poll(commune_id=commune.id, group_id=None, matter_kind="k1", form="ballot", title="Đóng góp làm đường",
                question="Đồng ý mức đóng góp?", opens_at=now - timedelta(days=3), closes_at=now + timedelta(days=3),
                status="open", phase="vote", chosen_by_chairman=True, created_at=now, created_by="bench")
    for kind, label in service.STANDARD_CHOICES:
        poll.choices.append(PollChoice(position=len(poll.choices), label=label, kind=kind))
    per_group = ballots // GROUPS
    for group in groups:
        poll.groups.append(PollGroup(group_id=group.id, households=per_group))
    session.add(poll)
    session.flush()
    choice_keys = [str(c.id) for c in poll.choices]
    counts, texts = {}, []
    rng = random.Random(1)
    today = to_local(now).date()
    batch = 50_000
    for group in groups:
        for offset in range(0, per_group, batch):
            size = min(batch, per_group - offset)
            rows = [{"poll_id": poll.id, "group_id": group.id, "code": f"{group.id}-{offset + i}",
                     "representative": "Đại diện", "address": "Địa chỉ"} for i in range(size)]
            ids = session.scalars(insert(PollHousehold).returning(PollHousehold.id), rows).all()
            session.execute(insert(Participation), [{"poll_id": poll.id, "phase": "vote", "poll_household_id": i,
                                                     "voted_on": today, "channel": "paper"} for i in ids])
            for _ in ids:
                key = choice_keys[0] if rng.random() < 0.7 else rng.choice(choice_keys[1:])
                service.add_to_box(counts, texts, group.id, key,
                                   "Ý kiến khác" if key == choice_keys[2] and rng.random() < 0.01 else None)
    session.add(BallotBox(poll_id=poll.id, phase="vote", counts=counts, other_texts=texts, version=ballots))
    session.commit()
    print(f"built {ballots:,} ballots over {GROUPS} groups in {time.perf_counter() - started:.1f} s "
          f"({session.get_bind().dialect.name})")
    timings = []
    for _ in range(5):
        session.expire_all()
        fresh = session.get(Poll, poll.id)
        begin = time.perf_counter()
        result = service.tally(session, fresh)
        timings.append(time.perf_counter() - begin)
        session.rollback()
    print(f"tally: best {min(timings) * 1000:.0f} ms, worst {max(timings) * 1000:.0f} ms over {len(timings)} runs; "
          f"{result.participated:,}/{result.households:,} households took part; {result.summary}")
    print("target: under 1 s")


if __name__ == "__main__":
    main()
