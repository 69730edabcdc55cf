"""Benchmark: export the synthesis report of 10,000 opinions over 200 parts.

Builds a SQLite database (a consultation whose draft has 40 articles of 4
clauses: 200 parts; 10,000 opinions from units and residents, every group
answered), then, each in a fresh process so that peak memory is its own,
exports the report as .docx and as .xlsx. Prints wall time and peak RSS.

Target (issue 4): under 5 s and under 300 MB each, on a 2-core machine.

    python bench/report_export.py [--opinions 10000] [--parts 200]
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def build(db_path: Path, opinions: int, parts: int) -> int:
    from sqlalchemy import insert, update

    from consult import create_app, migrate
    from consult.audit.service import SYSTEM
    from consult.communes.service import save_commune, save_group, save_unit
    from consult.consultations import service as consultations
    from consult.opinions.models import Opinion
    from consult.reports.models import OpinionCluster
    from consult.reports.service import sync_clusters
    from consult.textsearch import search_blob
    from consult.timeutil import utcnow

    url = f"sqlite:///{db_path}"
    migrate.upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_PATH": str(db_path.parent)})
    session = app.extensions["consult_sessionmaker"]()
    commune = save_commune(session, SYSTEM, None, kind="phuong", name="Bình An", province="Bình Dương")
    groups = [save_group(session, SYSTEM, commune, None, kind="khu_pho", name=f"Khu phố {i}") for i in range(1, 6)]
    units = [save_unit(session, SYSTEM, commune, None, kind="doan_the", name=f"Đơn vị {i:02d}") for i in range(30)]
    articles = parts // 5
    text = "QUYẾT NGHỊ:\n" + "\n".join(
        f"Điều {a}. Nội dung điều {a}\n" + "\n".join(f"{k}. Khoản {k} của Điều {a} quy định về việc thực hiện dân chủ."
                                                  for k in range(1, 5)) for a in range(1, articles + 1))
    start = utcnow() - timedelta(days=30)
    facts = consultations.ConsultationFacts(title="Lấy ý kiến dự thảo Nghị quyết (đo hiệu năng)", doc_kind="nghi_quyet",
                                            issuing_body="Ủy ban nhân dân phường Bình An", officer_name="Tâm",
                                            opens_at=start, closes_at=start + timedelta(days=21))
    c = consultations.create_consultation(session, SYSTEM, commune, facts, consultations.read_draft(text=text),
                                          [u.id for u in units], now=start)
    consultations.publish(session, SYSTEM, c, now=start)
    part_ids = [p.id for p in c.parts]
    rng = random.Random(4)
    words = ("đề nghị bổ sung sửa đổi làm rõ quy định trách nhiệm kinh phí khu phố tuyên truyền người dân "
             "cán bộ thời hạn công khai giám sát thực hiện hướng dẫn cụ thể phù hợp thực tế").split()
    rows = []
    for i in range(opinions):
        if i % 3 == 0 and rows:
            # A third repeat an earlier opinion on the same part, retyped (case, final stop), as
            # people copy a text that circulates: the report groups them into one row.
            earlier = rows[rng.randrange(len(rows))]
            body, part_id = earlier["text"].rstrip(".").lower() if rng.random() < 0.5 else earlier["text"], \
                earlier["part_id"]
        else:
            body = " ".join(rng.choice(words) for _ in range(rng.randint(12, 40))).capitalize() + "."
            part_id = rng.choice(part_ids + [None])
        resident = i % 4 != 0
        rows.append({
            "consultation_id": c.id, "commune_id": commune.id, "part_id": part_id,
            "text": body, "author_kind": "resident" if resident else "unit",
            "unit_id": None if resident else units[i % len(units)].id,
            "resident_name": f"Người dân số {i}" if resident else None,
            "resident_group_id": groups[i % 5].id if resident else None, "channel": "online",
            "created_at": start + timedelta(seconds=i * 60), "search_text": search_blob(body)})
    session.execute(insert(Opinion), rows)
    sync_clusters(session, c)
    session.execute(update(OpinionCluster).values(decision="not_accepted", explanation="Giữ nguyên như dự thảo vì "
                                                  "đã phù hợp quy định của Luật Thực hiện dân chủ ở cơ sở.",
                                                  decided_by="Tâm", decided_at=utcnow()))
    session.commit()
    session.close()
    return c.id


def export_once(db_path: Path, consultation_id: int, fmt: str) -> None:
    from consult import create_app
    from consult.consultations.models import Consultation
    from consult.reports.export import export
    from consult.reports.service import report_data

    app = create_app({"DATABASE_URL": f"sqlite:///{db_path}", "SECRET_KEY": "bench",
                      "INSTANCE_PATH": str(db_path.parent)})
    started = time.perf_counter()
    session = app.extensions["consult_sessionmaker"]()
    data = report_data(session, session.get(Consultation, consultation_id))
    content = export(data, fmt)
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = sum(1 for _ in data.rows())
    print(f"{fmt}: {elapsed:.2f} s, peak RSS {peak_mb:.0f} MB, {len(content) / 1e6:.1f} MB file, "
          f"{data.total_opinions} opinions in {rows} rows")
    print(f"#{fmt}_s={elapsed:.3f} {fmt}_mb={peak_mb:.0f} rows={rows}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opinions", type=int, default=10_000)
    parser.add_argument("--parts", type=int, default=200)
    parser.add_argument("--export", nargs=3, metavar=("DB", "ID", "FORMAT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export:
        export_once(Path(args.export[0]), int(args.export[1]), args.export[2])
        return
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.sqlite3"
        started = time.perf_counter()
        cid = build(db, args.opinions, args.parts)
        print(f"built {args.opinions} opinions over {args.parts} parts in {time.perf_counter() - started:.1f} s")
        results = []
        for fmt in ("docx", "xlsx"):
            out = subprocess.run([sys.executable, __file__, "--export", str(db), str(cid), fmt], check=True,
                                 capture_output=True, text=True).stdout
            print("\n".join(line for line in out.splitlines() if not line.startswith("#")))
            results += [line[1:] for line in out.splitlines() if line.startswith("#")]
    print("target: under 5 s and under 300 MB each")
    print("RESULT " + " ".join(dict.fromkeys(" ".join(results).split())))


if __name__ == "__main__":
    main()
