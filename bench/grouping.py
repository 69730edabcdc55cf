"""Benchmark: propose groups of near-duplicate opinions (issue 12) for 10,000, 20,000 and 30,000 opinions.

Synthetic opinions over 200 parts: a third repeat an earlier opinion on the same
part as people retype it (case, punctuation, "đề nghị", "các", "thêm", amounts
written "500.000đ" or "500 nghìn đồng", no diacritics); one in twenty is a trap
that must stay apart: the same words with "không" in front or another amount.
Times the grouping alone (``consult.reports.grouping.propose_groups``, CPU time,
the best of three rounds) at each size, prints time(30k)/time(10k) (close to 3
means linear), then times
``sync_clusters`` on SQLite with 30,000 opinions end to end (read, group, write).
Checks that every repeat joined its original and no trap did.

    python bench/grouping.py [--sizes 10000 20000 30000] [--parts 200] [--no-sync]

The last line is ``RESULT name=value ...``.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = ("bổ sung sửa đổi làm rõ quy định trách nhiệm kinh phí khu phố tuyên truyền người dân cán bộ thời hạn "
         "công khai giám sát thực hiện hướng dẫn cụ thể phù hợp thực tế đèn chiếu sáng hẻm đường nhà văn hóa "
         "camera an ninh vệ sinh môi trường thu gom rác hộ nghèo người cao tuổi học sinh đóng góp xã hội hóa "
         "loa phát thanh nhóm Zalo biên bản họp tổ dân phố").split()
AMOUNTS = [100_000, 200_000, 300_000, 500_000, 1_000_000, 1_500_000]


def _amount(value: int, style: int) -> str:
    if style == 0:
        return f"{value:,}".replace(",", ".") + " đồng"
    if style == 1:
        return f"{value:,}".replace(",", ".") + "đ"
    if value % 1_000_000 == 0:
        return f"{value // 1_000_000} triệu đồng"
    return f"{value // 1000} nghìn đồng"


def _retype(text: str, rng: random.Random) -> str:
    """The same opinion as another person types it."""
    from consult.textutil import fold

    kind = rng.randrange(5)
    if kind == 0:
        return text.lower().rstrip(".") + "!"
    if kind == 1:
        return "Đề nghị " + text[0].lower() + text[1:]
    if kind == 2:
        return text.replace(" khu phố", " các khu phố").replace(" bổ sung", " bổ sung thêm")
    if kind == 3:
        return fold(text)
    return text.upper()


def opinions(n: int, parts: int, seed: int = 12):
    """(part, text, origin, trap) rows: ``origin`` is the index of the opinion a repeat copies, or None."""
    rng = random.Random(seed)
    rows: list[tuple[int, str, int | None, bool]] = []
    originals: dict[int, list[int]] = {}
    for i in range(n):
        part = rng.randrange(parts)
        pool = originals.get(part)
        roll = rng.random()
        if pool and roll < 0.33:
            j = rng.choice(pool)
            rows.append((part, _retype(rows[j][1], rng), j, False))
            continue
        if pool and roll < 0.38:  # a trap: negated, or another amount
            j = rng.choice(pool)
            base = rows[j][1]
            if "đồng" in base and rng.random() < 0.5:
                value = next(a for a in AMOUNTS if _amount(a, 0) in base)
                other = AMOUNTS[(AMOUNTS.index(value) + 1) % len(AMOUNTS)]
                text = base.replace(_amount(value, 0), _amount(other, 0))
            else:
                text = "Không " + base[0].lower() + base[1:]
            rows.append((part, text, j, True))
            continue
        words = [rng.choice(WORDS) for _ in range(rng.randint(8, 30))]
        if rng.random() < 0.5:
            words.insert(rng.randrange(len(words)), f"mức {_amount(rng.choice(AMOUNTS), 0)}")
        text = " ".join(words).capitalize() + f" (ý {i})."  # distinct originals
        originals.setdefault(part, []).append(i)
        rows.append((part, text, None, False))
    return rows


def check(rows, groups) -> tuple[int, int, int]:
    """(repeats joined to their original, repeats missed, traps wrongly merged)."""
    joined = missed = wrong = 0
    for (part, text, origin, trap), group in zip(rows, groups):
        if origin is None:
            continue
        same = groups[origin] == group
        if trap:
            wrong += same
        elif same:
            joined += 1
        else:
            missed += 1
    return joined, missed, wrong


def time_grouping(n: int, parts: int) -> tuple[float, tuple[int, int, int]]:
    from consult.reports.grouping import propose_groups

    rows = opinions(n, parts)
    gc.collect()  # start each run from a clean heap, not the previous run's garbage
    started = time.process_time()  # CPU time: the other processes of a shared machine count less
    groups = propose_groups((part, text) for part, text, _, _ in rows)
    return time.process_time() - started, check(rows, groups)


def time_sync(n: int, parts: int) -> float:
    """sync_clusters end to end on SQLite: read the opinions, group them, write the groups."""
    from datetime import timedelta

    from sqlalchemy import insert

    from consult import create_app, migrate
    from consult.audit.service import SYSTEM
    from consult.communes.service import save_commune, save_group
    from consult.consultations import service as consultations
    from consult.opinions.models import Opinion
    from consult.reports.service import sync_clusters
    from consult.timeutil import utcnow

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.sqlite3"
        migrate.upgrade(url)
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_PATH": tmp})
        session = app.extensions["consult_sessionmaker"]()
        commune = save_commune(session, SYSTEM, None, kind="phuong", name="Bình An", province="Bình Dương")
        group = save_group(session, SYSTEM, commune, None, kind="khu_pho", name="Khu phố 1")
        text = "QUYẾT NGHỊ:\n" + "\n".join(f"Điều {a}. Nội dung điều {a}\n" + "\n".join(
            f"{k}. Khoản {k} của Điều {a}." for k in range(1, 5)) for a in range(1, parts // 5 + 1))
        start = utcnow() - timedelta(days=1)
        facts = consultations.ConsultationFacts(title="Lấy ý kiến dự thảo Nghị quyết (đo hiệu năng)",
                                                doc_kind="nghi_quyet", issuing_body="Ủy ban nhân dân phường Bình An",
                                                officer_name="Tâm", opens_at=start, closes_at=start + timedelta(days=21))
        c = consultations.create_consultation(session, SYSTEM, commune, facts, consultations.read_draft(text=text), [],
                                              now=start)
        part_ids = [p.id for p in c.parts]
        session.execute(insert(Opinion), [{
            "consultation_id": c.id, "commune_id": commune.id, "part_id": part_ids[part % len(part_ids)],
            "text": body, "author_kind": "resident", "resident_name": f"Người dân số {i}",
            "resident_group_id": group.id, "channel": "online", "created_at": start + timedelta(seconds=i),
            "search_text": ""} for i, (part, body, _, _) in enumerate(opinions(n, parts))])
        session.commit()
        started = time.perf_counter()
        placed = sync_clusters(session, c)
        session.commit()
        elapsed = time.perf_counter() - started
        assert placed == n
        session.close()
        app.extensions["consult_engine"].dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 20_000, 30_000])
    parser.add_argument("--parts", type=int, default=200)
    parser.add_argument("--no-sync", action="store_true", help="skip the end-to-end run on SQLite")
    args = parser.parse_args()
    results: dict[str, str] = {}
    times: dict[int, float] = {}
    checks: dict[int, tuple[int, int, int]] = {}
    # The best of three rounds, the sizes interleaved: on a shared machine a burst of
    # other work then slows one round of every size rather than one size.
    for _ in range(3):
        for n in args.sizes:
            elapsed, checks[n] = time_grouping(n, args.parts)
            times[n] = min(times.get(n, elapsed), elapsed)
    wrong_total = missed_total = 0
    for n in args.sizes:
        joined, missed, wrong = checks[n]
        wrong_total += wrong
        missed_total += missed
        print(f"{n:>6} opinions: grouping {times[n]:.2f} s CPU ({times[n] / n * 1e6:.0f} µs each); repeats joined "
              f"{joined}, missed {missed}; traps merged {wrong}")
        results[f"t{n // 1000}k"] = f"{times[n]:.3f}"
    first, last = min(times), max(times)
    ratio = times[last] / times[first]
    print(f"time({last // 1000}k)/time({first // 1000}k) = {ratio:.2f} (linear: {last / first:.2f})")
    results["ratio"] = f"{ratio:.2f}"
    if not args.no_sync:
        elapsed = time_sync(last, args.parts)
        print(f"sync_clusters on SQLite, {last} opinions end to end: {elapsed:.2f} s")
        results[f"sync{last // 1000}k"] = f"{elapsed:.2f}"
    results["traps_merged"] = str(wrong_total)
    results["repeats_missed"] = str(missed_total)
    print("RESULT " + " ".join(f"{k}={v}" for k, v in results.items()))


if __name__ == "__main__":
    main()
