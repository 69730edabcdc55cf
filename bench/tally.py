"""Benchmark: counting votes.

1. A commune-wide paper vote over 40 groups with 1,000,000 households, every one
   having handed in its slip (1,000,000 participation marks) and each group's box
   counted (biên bản kiểm phiếu): times ``polls.service.tally`` (turnout per group,
   counts per choice, each group's threshold, the outcome) against the bare
   ``GROUP BY`` of the participation marks it rests on, in the same run.
2. An online vote of 100,000 encrypted ballots (three choices: a ciphertext per
   choice and a sealed "ý kiến khác" each): times the count at the close, the
   homomorphic sum and the decryption of the sums with the board's key, and the
   encryption of one ballot.

    python bench/tally.py [--ballots 1000000] [--encrypted 100000] [--database-url URL]

Prints a table and a last line ``RESULT name=value ...``.
"""

from __future__ import annotations

import argparse
import random
import secrets as pysecrets
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
    parser.add_argument("--encrypted", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/tally.sqlite3"
        run(url, args.ballots, args.encrypted, tmp)


def _best(fn, runs=5):
    timings = []
    for _ in range(runs):
        begin = time.perf_counter()
        value = fn()
        timings.append(time.perf_counter() - begin)
    return min(timings), max(timings), value


def run(url: str, ballots: int, encrypted: int, tmp: str) -> None:
    from sqlalchemy import func, insert, select

    from consult import create_app, migrate
    from consult.audit.service import SYSTEM
    from consult.communes.service import save_commune, save_group
    from consult.polls import secrecy, service
    from consult.polls.models import (CastBallot, CommitteeMember, PaperCount, Participation, Poll, PollChoice,
                                      PollGroup, PollHousehold)
    from consult.timeutil import local_date, utcnow

    migrate.upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_PATH": tmp})
    session = app.extensions["consult_sessionmaker"]()
    dialect = session.get_bind().dialect.name
    started = time.perf_counter()
    commune = save_commune(session, SYSTEM, None, kind="xa", name="Đo Hiệu Năng", province="Bình Dương")
    groups = [save_group(session, SYSTEM, commune, None, kind="thon", name=f"Thôn {i}") for i in range(GROUPS)]
    now = utcnow()
    today = local_date(now)
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
    rng = random.Random(1)
    batch = 50_000
    for group in groups:
        for offset in range(0, per_group, batch):
            size = min(batch, per_group - offset)
            rows = [{"poll_id": poll.id, "group_id": group.id, "code": f"{group.id}-{offset + i}",
                     "representative": "Đại diện", "address": "Địa chỉ"} for i in range(size)]
            ids = session.scalars(insert(PollHousehold).returning(PollHousehold.id), rows).all()
            session.execute(insert(Participation), [{"poll_id": poll.id, "phase": "vote", "poll_household_id": i,
                                                     "voted_on": today, "channel": "paper"} for i in ids])
        agree = int(per_group * (0.6 + 0.2 * rng.random()))
        session.add(PaperCount(poll_id=poll.id, group_id=group.id, issued=per_group, returned=per_group,
                               valid=per_group, invalid=0,
                               counts={str(poll.choices[0].id): agree, str(poll.choices[1].id): per_group - agree},
                               other_texts=[], place="Nhà văn hóa", counters="A\nB\nC", witnesses="D\nE",
                               counted_at=now, recorded_by="bench"))
    session.commit()
    built = time.perf_counter() - started
    print(f"built {ballots:,} paper ballots over {GROUPS} groups in {built:.1f} s ({dialect})")

    def bare():
        stmt = (select(PollHousehold.group_id, func.count())
                .join(Participation, Participation.poll_household_id == PollHousehold.id)
                .where(Participation.poll_id == poll.id, Participation.phase == "vote")
                .group_by(PollHousehold.group_id))
        return session.execute(stmt).all()

    def full():
        session.expire_all()
        return service.tally(session, session.get(Poll, poll.id))

    bare_best, _, _ = _best(bare)
    tally_best, tally_worst, result = _best(full)
    session.rollback()

    # --- the encrypted online vote -------------------------------------------------------------
    started = time.perf_counter()
    group = groups[0]
    online = Poll(commune_id=commune.id, group_id=group.id, matter_kind="k6", form="online", title="Lắp camera",
                  question="Đồng ý?", opens_at=now - timedelta(days=3), closes_at=now + timedelta(days=3),
                  status="open", phase="vote", created_at=now, created_by="bench", key_threshold=2)
    for kind, label in service.STANDARD_CHOICES:
        online.choices.append(PollChoice(position=len(online.choices), label=label, kind=kind))
    for i in range(3):
        online.committee.append(CommitteeMember(position=i, name=f"Thành viên {i}", role="Thành viên",
                                                is_leader=i == 0))
    online.groups.append(PollGroup(group_id=group.id, households=encrypted))
    session.add(online)
    session.flush()
    key = secrecy.new_key(online.id, 3)
    online.public_key, online.texts_key = key.public, key.texts_public
    # Encrypting one ballot, as cast_online does (three ciphertexts and a sealed text).
    sample = 2_000
    begin = time.perf_counter()
    pool = []
    truth = [0, 0, 0]
    for i in range(sample):
        pick = 0 if rng.random() < 0.7 else rng.choice([1, 2])
        pool.append((pick, secrecy.encrypt_choice(key.public, 3, pick),
                     secrecy.seal_text(key.texts_public, "Ý kiến khác" if pick == 2 else "")))
    encrypt_ms = (time.perf_counter() - begin) / sample * 1000
    # The box: real ciphertexts, drawn from the pool (the sum costs the same whatever they encrypt).
    for offset in range(0, encrypted, batch):
        size = min(batch, encrypted - offset)
        rows = [{"poll_id": online.id, "group_id": group.id, "code": f"O-{offset + i}",
                 "representative": "Đại diện", "address": "Địa chỉ"} for i in range(size)]
        ids = session.scalars(insert(PollHousehold).returning(PollHousehold.id), rows).all()
        session.execute(insert(Participation), [{"poll_id": online.id, "phase": "vote", "poll_household_id": i,
                                                 "voted_on": today, "channel": "online"} for i in ids])
        cast = []
        for _ in ids:
            pick, ciphertext, sealed = pool[rng.randrange(sample)]
            truth[pick] += 1
            cast.append({"poll_id": online.id, "phase": "vote", "group_id": group.id, "ciphertext": ciphertext,
                         "sealed_text": sealed, "tracker": pysecrets.token_hex(32)})
        session.execute(insert(CastBallot), cast)
    session.commit()
    print(f"built {encrypted:,} encrypted ballots in {time.perf_counter() - started:.1f} s")
    codes = key.shares[:2]
    begin = time.perf_counter()
    counted = service.close_poll(session, SYSTEM, session.get(Poll, online.id), shares=codes)
    count_s = time.perf_counter() - begin
    assert [counted.total(c.id) for c in counted.choices] == truth, "the count differs from the ballots cast"
    session.rollback()

    print()
    print(f"| measure | {dialect} |")
    print("|---|---|")
    print(f"| tally, {ballots:,} paper ballots, 40 groups (best / worst of 5) | {tally_best * 1000:.0f} ms / "
          f"{tally_worst * 1000:.0f} ms |")
    print(f"| bare GROUP BY of the participation marks (best of 5) | {bare_best * 1000:.0f} ms |")
    print(f"| ratio tally / bare GROUP BY | {tally_best / bare_best:.2f} |")
    print(f"| count of {encrypted:,} encrypted ballots (sum, decrypt, open texts) | {count_s:.1f} s |")
    print(f"| encryption of one ballot (3 choices + sealed text) | {encrypt_ms:.2f} ms |")
    print(f"\noutcome of the paper vote: {result.participated:,}/{result.households:,} took part; {result.summary}")
    print(f"RESULT tally_ms={tally_best * 1000:.0f} bare_group_by_ms={bare_best * 1000:.0f} "
          f"ratio={tally_best / bare_best:.2f} encrypted_count_s={count_s:.2f} encrypted_ballots={encrypted} "
          f"encrypt_ballot_ms={encrypt_ms:.3f} database={dialect}")


if __name__ == "__main__":
    main()
