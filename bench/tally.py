"""Benchmark: counting votes.

1. A commune-wide paper vote over 40 groups with 1,000,000 households, every one
   having handed in its slip (1,000,000 participation marks) and each group's box
   counted (biên bản kiểm phiếu): times ``polls.service.tally`` (turnout per group,
   counts per choice, each group's threshold, the outcome) against the bare
   ``GROUP BY`` of the participation marks it rests on, in the same run.
2. An online vote of 100,000 encrypted ballots (three choices: a ciphertext per
   choice with its proof of 0 or 1, the proof of one choice, a sealed "ý kiến
   khác"), every one really encrypted: times the encryption with proofs and the
   verification of one ballot (two and three choices) beside the bare libsodium
   operations they make, measured in the same run; verifying the whole box on
   every core; and the count at the close (the box's checks, every proof, the
   homomorphic sum, the proven decryption of each sum, the texts), run as the board's
   close runs it for a large box: a background job, here in a worker process of its own
   whose peak memory is measured (and its proof checkers'), beside the size of the
   sealed texts alone (the count streams the box: it never holds them all).

    python bench/tally.py [--ballots 1000000] [--encrypted 100000] [--database-url URL]

Prints a table and a last line ``RESULT name=value ...``.
"""

from __future__ import annotations

import argparse
import json
import random
import secrets as pysecrets
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from memory import ChildrenPeak, peak_mb  # noqa: E402  (bench/memory.py, beside this script)

GROUPS = 40


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=1_000_000)
    parser.add_argument("--encrypted", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--count-job", nargs=2, metavar=("URL", "INSTANCE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.count_job:
        print(json.dumps(child_count_job(*args.count_job)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/tally.sqlite3"
        run(url, args.ballots, args.encrypted, tmp)


def child_count_job(url: str, instance: str) -> dict:
    """The queued count run by a worker, as ``flask worker`` runs it, in this fresh process."""
    from consult import create_app
    from consult.jobs.results import ResultStore
    from consult.jobs.service import run_one

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_PATH": instance})
    before = peak_mb()
    with app.app_context(), ChildrenPeak() as workers:
        started = time.perf_counter()
        ran = run_one(app.extensions["consult_writer_sessionmaker"], app.extensions["consult_sessionmaker"],
                      results=ResultStore.of_app(app))
        elapsed = time.perf_counter() - started
    assert ran, "no job to run"
    return {"seconds": elapsed, "peak_mb": peak_mb(), "before_mb": before, "workers_mb": workers.each_mb,
            "workers_sum_mb": workers.sum_mb}


def _child(*args: str) -> dict:
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"{' '.join(args[:1])} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _best(fn, runs=5):
    timings = []
    for _ in range(runs):
        begin = time.perf_counter()
        value = fn()
        timings.append(time.perf_counter() - begin)
    return min(timings), max(timings), value


def _bare_ops() -> dict[str, float]:
    """Seconds per bare libsodium operation, measured in this run."""
    from nacl import bindings as sodium

    r = sodium.crypto_core_ed25519_scalar_reduce(pysecrets.token_bytes(64))
    p = sodium.crypto_scalarmult_ed25519_base_noclamp(r)
    out = {}
    for name, fn in (("var", lambda: sodium.crypto_scalarmult_ed25519_noclamp(r, p)),
                     ("base", lambda: sodium.crypto_scalarmult_ed25519_base_noclamp(r)),
                     ("valid", lambda: sodium.crypto_core_ed25519_is_valid_point(p))):
        out[name] = min(_timed(fn, 2000) for _ in range(3)) / 2000
    return out


def _timed(fn, times: int) -> float:
    begin = time.perf_counter()
    for _ in range(times):
        fn()
    return time.perf_counter() - begin


def _per_ballot(fn, times: int = 300) -> float:
    """Milliseconds per call, best of three."""
    return min(_timed(fn, times) for _ in range(3)) / times * 1000


def _encrypt_chunk(public: bytes, texts_public: bytes, context: bytes, choices: int, picks: list[int]) -> list:
    from consult.polls import secrecy

    out = []
    for pick in picks:
        ciphertext, proofs = secrecy.encrypt_ballot(public, context, choices, pick)
        out.append((ciphertext, proofs, secrecy.seal_text(texts_public, "Ý kiến khác" if pick == 2 else "")))
    return out


def _encrypt_many(public, texts_public, context, choices, picks) -> list:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    size = 5000
    chunks = [picks[i:i + size] for i in range(0, len(picks), size)]
    with ProcessPoolExecutor(max(1, multiprocessing.cpu_count()), mp_context=multiprocessing.get_context("spawn")) as pool:
        parts = pool.map(_encrypt_chunk, *zip(*[(public, texts_public, context, choices, c) for c in chunks]))
        return [ballot for part in parts for ballot in part]


def run(url: str, ballots: int, encrypted: int, tmp: str) -> None:
    from sqlalchemy import func, insert, select

    from consult import create_app, migrate
    from consult.audit.service import SYSTEM
    from consult.communes.service import save_commune, save_group
    from consult import verify
    from consult.polls import ballots as ballots_module
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
    # The opening's audit entry carries the key's fingerprint; the count checks it.
    from consult.audit.service import record as audit_record

    audit_record(session, SYSTEM, "poll.open", online, now=now,
                 details={"fingerprint": secrecy.key_fingerprint(key.public, key.texts_public)})
    session.commit()
    choices = len(online.choices)
    context = ballots_module.ballot_context(online.id, "vote", key.public, choices)
    bare = _bare_ops()
    enc = {n: _per_ballot(lambda n=n: secrecy.encrypt_ballot(key.public, ballots_module.ballot_context(
        online.id, "vote", key.public, n), n, 0)) for n in (2, 3)}
    samples = {n: secrecy.encrypt_ballot(key.public, ballots_module.ballot_context(online.id, "vote", key.public, n),
                                         n, 0) for n in (2, 3)}
    ver = {n: _per_ballot(lambda n=n: verify.check_ballot(key.public, ballots_module.ballot_context(
        online.id, "vote", key.public, n), n, 1, 1, *samples[n])) for n in (2, 3)}
    # The box: every ballot really encrypted with its proofs (the count refuses copies), on
    # both cores.
    begin = time.perf_counter()
    picks = [0 if rng.random() < 0.7 else rng.choice([1, 2]) for _ in range(encrypted)]
    truth = [picks.count(i) for i in range(choices)]
    made = _encrypt_many(key.public, key.texts_public, context, choices, picks)
    encrypt_all_s = time.perf_counter() - begin
    for offset in range(0, encrypted, batch):
        size = min(batch, encrypted - offset)
        rows = [{"poll_id": online.id, "group_id": group.id, "code": f"O-{offset + i}",
                 "representative": "Đại diện", "address": "Địa chỉ"} for i in range(size)]
        ids = session.scalars(insert(PollHousehold).returning(PollHousehold.id), rows).all()
        session.execute(insert(Participation), [{"poll_id": online.id, "phase": "vote", "poll_household_id": i,
                                                 "voted_on": today, "channel": "online"} for i in ids])
        session.execute(insert(CastBallot), [
            {"poll_id": online.id, "phase": "vote", "group_id": group.id, "ciphertext": c, "proofs": p,
             "sealed_text": t, "tracker": secrecy.tracker(c, p, t)} for c, p, t in made[offset:offset + size]])
    session.commit()
    print(f"built {encrypted:,} encrypted ballots with their proofs in {time.perf_counter() - started:.1f} s "
          f"(encryption {encrypt_all_s:.1f} s on every core)")
    begin = time.perf_counter()
    faults = ballots_module._verify_all(key.public, context, (choices, 1, 1), [(c, p) for c, p, _ in made])
    verify_all_s = time.perf_counter() - begin
    assert not any(faults), "a ballot made by the prover failed its proofs"
    text_mb = sum(len(t) for _, _, t in made) / 2**20
    del made
    codes = key.shares[:2]
    # The count as the board's close makes it for a box this large: a background job, run here by
    # a worker in a process of its own, whose peak memory (and its proof checkers') is measured.
    from consult.auth.service import create_user
    from consult.polls import jobs as poll_jobs

    officer = create_user(session, SYSTEM, username="bench.count", full_name="Người kiểm phiếu", role="admin",
                          password="Bench-count-2026!", commune_id=None)
    job = poll_jobs.queue_count(session, app, session.get(Poll, online.id), shares=codes, early_stop_reason=None,
                                user_id=officer.id, user_name=officer.full_name,
                                now=online.closes_at + timedelta(seconds=1))
    session.commit()
    worker = _child("--count-job", url, tmp)
    count_s = worker["seconds"]
    total_mb = worker["peak_mb"] + worker["workers_sum_mb"]
    session.expire_all()
    from consult.jobs.models import Job

    finished = session.get(Job, job.id)
    if finished.status != "done":
        sys.exit(f"the count job ended {finished.status}: {finished.error}")
    counted = service.tally(session, session.get(Poll, online.id))
    assert [counted.total(c.id) for c in counted.choices] == truth, "the count differs from the ballots cast"
    session.rollback()
    encrypt_ms, verify_ms = enc[2], ver[2]

    print()
    print(f"| measure | {dialect} |")
    print("|---|---|")
    print(f"| tally, {ballots:,} paper ballots, 40 groups (best / worst of 5) | {tally_best * 1000:.0f} ms / "
          f"{tally_worst * 1000:.0f} ms |")
    print(f"| bare GROUP BY of the participation marks (best of 5) | {bare_best * 1000:.0f} ms |")
    print(f"| ratio tally / bare GROUP BY | {tally_best / bare_best:.2f} |")
    print(f"| bare libsodium: scalar mult, variable base / fixed base | {bare['var'] * 1000:.3f} ms / "
          f"{bare['base'] * 1000:.3f} ms |")
    for n in (2, 3):
        floor_enc = (n * 5 + 1) * bare["var"] + (n * 3 + 1) * bare["base"]
        floor_ver = (n * 6 + 3) * bare["var"] + (n * 2 + 1) * bare["base"] + 2 * n * bare["valid"]
        print(f"| encryption with proofs, {n} choices (bare operations it makes) | {enc[n]:.2f} ms "
              f"({floor_enc * 1000:.2f} ms, ratio {enc[n] / (floor_enc * 1000):.2f}) |")
        print(f"| verification of one ballot, {n} choices (bare operations) | {ver[n]:.2f} ms "
              f"({floor_ver * 1000:.2f} ms, ratio {ver[n] / (floor_ver * 1000):.2f}) |")
    print(f"| verifying {encrypted:,} ballots of {choices} choices on every core | {verify_all_s:.1f} s |")
    print(f"| count of {encrypted:,} encrypted ballots at the close, a background job (checks, proofs, sum, "
          f"proven decryption, texts) | {count_s:.1f} s |")
    print(f"| peak memory of the count: the job's process (of which the application at rest) / each proof "
          f"checker / all processes / the sealed texts alone | {worker['peak_mb']:.0f} MB "
          f"({worker['before_mb']:.0f} MB) / {worker['workers_mb']:.0f} MB / {total_mb:.0f} MB / {text_mb:.0f} MB |")
    print(f"\noutcome of the paper vote: {result.participated:,}/{result.households:,} took part; {result.summary}")
    print(f"RESULT tally_ms={tally_best * 1000:.0f} bare_group_by_ms={bare_best * 1000:.0f} "
          f"ratio={tally_best / bare_best:.2f} encrypted_count_s={count_s:.2f} encrypted_ballots={encrypted} "
          f"encrypt_ballot_ms={encrypt_ms:.3f} verify_ballot_ms={verify_ms:.3f} verify_all_s={verify_all_s:.1f} "
          f"count_peak_mb={worker['peak_mb']:.0f} count_workers_peak_mb={worker['workers_mb']:.0f} "
          f"count_total_peak_mb={total_mb:.0f} "
          f"sealed_texts_mb={text_mb:.0f} database={dialect}")


if __name__ == "__main__":
    main()
