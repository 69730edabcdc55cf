"""Benchmark: a 20-page scanned draft read by OCR in the background job, beside bare tesseract.

Makes a 20-page scan the way a ward gets one: the Mường Kim seed (tờ trình and dự thảo nghị
quyết, 16 pages) followed by the first 4 pages of the Bình An công văn, typed into Word, laid
out by LibreOffice, rasterised at 150 dpi grey and put back into a PDF as images. Then:

- the job: the upload's path (``service.read_draft`` → ``create_consultation``, which queues
  the job) and the job run as the worker runs it (``jobs.service.run_pending`` on SQLite):
  render each page, OCR it, parse, store the parts; a second thread reads the job's row every
  0.2 s as the check page does, counting the distinct progress values it sees;
- the ceiling: bare tesseract (``pytesseract.image_to_data``, the same language and page
  segmentation) on the same pages already rendered, nothing else.

Prints both times, the ratio (ceiling / job: 1.0 means the job adds nothing to tesseract's
own time) and a last line ``RESULT pages= job_s= bare_s= s_per_page= ratio= progress_steps= parts=``.

    python bench/ocr.py [--pages 20]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def make_scan(folder: Path, pages: int) -> bytes:
    from tests.support.drafts import as_scan, seed_pdf

    first = folder / "a.pdf"
    second = folder / "b.pdf"
    first.write_bytes(seed_pdf("muong-kim-to-trinh-va-du-thao-nghi-quyet.txt"))
    second.write_bytes(seed_pdf("binh-an-cong-van-va-du-thao-nghi-quyet.txt"))
    bundle = folder / "bundle.pdf"
    subprocess.run(["pdfunite", str(first), str(second), str(bundle)], check=True)
    return as_scan(bundle.read_bytes(), first=1, last=pages)


def bare(folder: Path, scan: bytes) -> tuple[float, int]:
    """Seconds of tesseract alone on the pages, rendered beforehand; the pages read."""
    import pytesseract
    from PIL import Image

    from consult.consultations import ocr

    path = folder / "scan.pdf"
    path.write_bytes(scan)
    subprocess.run(["pdftoppm", "-r", str(ocr.MIN_DPI), "-gray", "-png", str(path), str(folder / "page")], check=True)
    images = sorted(folder.glob("page*.png"))
    started = time.perf_counter()
    for image in images:
        with Image.open(image) as picture:
            pytesseract.image_to_data(picture, lang=ocr.LANGUAGE, config="--psm 3", output_type=pytesseract.Output.DICT)
    return time.perf_counter() - started, len(images)


def job(folder: Path, scan: bytes) -> tuple[float, int, int]:
    """Seconds of the background job; the distinct progress values seen; the parts stored."""
    from sqlalchemy import func, select

    from consult import create_app, migrate
    from consult.audit.service import SYSTEM, Actor
    from consult.auth import service as auth
    from consult.communes.service import save_commune
    from consult.consultations import jobs  # noqa: F401 - the runner
    from consult.consultations import service
    from consult.consultations.models import DraftPart
    from consult.jobs.models import Job
    from consult.jobs.results import ResultStore
    from consult.jobs.service import run_pending
    from consult.timeutil import utcnow

    url = f"sqlite:///{folder / 'bench.db'}"
    migrate.upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_PATH": str(folder),
                      "JOBS_IN_PROCESS": False})
    session = app.extensions["consult_sessionmaker"]()
    commune = save_commune(session, SYSTEM, None, kind="xa", name="Mường Kim", province="Lai Châu")
    user = auth.create_user(session, SYSTEM, username="tam.vptk", full_name="Lò Thị Tâm", role="officer",
                            password="Mật-khẩu-đủ-dài-2026", commune_id=commune.id)
    session.flush()
    start = utcnow()
    facts = service.ConsultationFacts(title="Lấy ý kiến dự thảo Nghị quyết (bản quét)", doc_kind="nghi_quyet",
                                      issuing_body="Ủy ban nhân dân xã Mường Kim", officer_name="Lò Thị Tâm",
                                      opens_at=start, closes_at=start + timedelta(days=21))
    source = service.read_draft(filename="ban-quet.pdf", data=scan)
    consultation = service.create_consultation(session, Actor(user.id, user.full_name), commune, facts, source, [])
    session.commit()
    job_id, consultation_id = consultation.ocr_job_id, consultation.id
    seen: set[int] = set()
    done = threading.Event()

    def watch():
        reader = app.extensions["consult_sessionmaker"]()
        while not done.is_set():
            seen.add(reader.scalar(select(Job.done).where(Job.id == job_id)))
            reader.rollback()
            time.sleep(0.2)
        reader.close()

    watcher = threading.Thread(target=watch)
    watcher.start()
    started = time.perf_counter()
    with app.app_context():
        ran = run_pending(app.extensions["consult_writer_sessionmaker"], app.extensions["consult_sessionmaker"],
                          results=ResultStore.of_app(app))
    elapsed = time.perf_counter() - started
    done.set()
    watcher.join()
    session.rollback()
    row = session.get(Job, job_id)
    if ran != 1 or row.status != "done":
        raise SystemExit(f"the job did not finish: {row.status} {row.error}")
    parts = session.scalar(select(func.count()).select_from(DraftPart)
                           .where(DraftPart.consultation_id == consultation_id))
    session.close()
    return elapsed, len(seen), parts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="consult-bench-ocr-") as tmp:
        folder = Path(tmp)
        scan = make_scan(folder, args.pages)
        (folder / "bare").mkdir()
        bare_s, pages = bare(folder / "bare", scan)
        job_s, steps, parts = job(folder, scan)
    print(f"{'':28}{'seconds':>10}{'s/page':>10}")
    print(f"{'bare tesseract (ceiling)':28}{bare_s:10.1f}{bare_s / pages:10.2f}")
    print(f"{'background job':28}{job_s:10.1f}{job_s / pages:10.2f}")
    print(f"progress values seen by the check page: {steps} (0 to {pages}); parts stored: {parts}")
    print(f"RESULT pages={pages} job_s={job_s:.1f} bare_s={bare_s:.1f} s_per_page={job_s / pages:.2f} "
          f"ratio={bare_s / job_s:.2f} progress_steps={steps} parts={parts}")


if __name__ == "__main__":
    main()
