"""Benchmark: import a household register of 100,000 rows from .xlsx and from .csv.

Builds, in a temporary directory, a register of 100,000 households as .csv (UTF-8 with BOM, as
``template_csv`` gives it) and as .xlsx (openpyxl's write-only mode, which writes no
``<dimension>``; and the same sheet with the ``<dimension>`` Excel writes), and one of 200,000
rows of each kind, which the import must refuse after row 100,001. Each import runs in a fresh
process, into a fresh SQLite database (the Alembic schema, built once and copied, as the tests
do), through ``read_rows`` and ``import_households`` as the import view calls them, then a
commit; wall time and peak RSS are that process's (the best time and the highest peak of
``--repeat`` runs). In the same run, each file is also read by
the bare library in its own process: ``openpyxl.load_workbook(read_only=True, data_only=True)``
iterating ``iter_rows(values_only=True)``, and ``csv.reader`` over the text stream (for the
refused files, up to the same row 100,001). The ratio is consult / bare.

Target (issue): 100,000 rows, .xlsx and .csv, under 10 s and under 300 MB, on a 2-core machine.

    python bench/household_import.py [--rows 100000] [--repeat 3] [--database-url URL]

Prints a table and a last line ``RESULT name=value ...``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from memory import peak_mb  # noqa: E402  (bench/memory.py, beside this script)

HEADER = ["Mã hộ", "Đại diện hộ", "Địa chỉ", "Khu phố", "Số nhân khẩu"]
GROUP = "Khu phố 1"


def _row(i: int, short: bool = False) -> list:
    if short:  # the refused files: short rows, so that 200,000 of them fit in the 10 MB an upload may have
        return [f"K{i}", f"Hộ {i}", f"Số {i}", GROUP, i % 9 + 1]
    return [f"KP1-{i:06d}", f"Nguyễn Văn Hộ {i}", f"Số {i}, đường số {i % 50 + 1}", GROUP, i % 9 + 1]


def build_csv(path: Path, rows: int, *, short: bool = False) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(1, rows + 1):
            writer.writerow(_row(i, short))


def build_xlsx(path: Path, rows: int, *, dimension: bool, short: bool = False) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Sổ hộ")
    sheet.append(HEADER)
    for i in range(1, rows + 1):
        sheet.append(_row(i, short))
    workbook.save(path)
    if dimension:  # as Excel writes it, before <sheetViews>
        _patch_sheet(path, lambda xml: xml.replace(b"<sheetViews>", f'<dimension ref="A1:E{rows + 1}"/>'
                                                   .encode() + b"<sheetViews>", 1))


def _patch_sheet(path: Path, change) -> None:
    patched = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(patched, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info.filename, change(data) if info.filename.startswith("xl/worksheets/") else data)
    patched.replace(path)


def child_consult(url: str, file_path: Path, commune_name: str) -> dict:
    """One import, as the view runs it, into a new commune; in its own process."""
    from consult import create_app
    from consult.audit.service import SYSTEM
    from consult.communes.service import save_commune, save_group
    from consult.households import service

    import openpyxl.reader.excel  # noqa: F401 - imported before the clock starts, as for the bare library

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_PATH": str(file_path.parent)})
    session = app.extensions["consult_writer_sessionmaker"]()
    commune = save_commune(session, SYSTEM, None, kind="phuong", name=commune_name, province="Bình Dương")
    group = save_group(session, SYSTEM, commune, None, kind="khu_pho", name=GROUP)
    session.commit()
    data = file_path.read_bytes()
    before = peak_mb()
    started = time.perf_counter()
    outcome = ""
    try:
        rows = service.read_rows(file_path.name, data, max_bytes=app.config["UPLOAD_MAX_BYTES"])
        result = service.import_households(session, SYSTEM, commune, rows, only_group=group)
        session.commit()
        outcome = f"{result.added:,} added"
    except service.ImportRejected as exc:
        session.rollback()
        outcome = "refused: " + str(exc)[:60] + "…"
    elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "peak_mb": peak_mb(), "before_mb": before, "outcome": outcome}


def child_bare(file_path: Path, stop: int | None) -> dict:
    """The bare library reading the same file (up to row ``stop`` when given); in its own process."""
    import itertools

    if file_path.suffix == ".xlsx":
        from openpyxl import load_workbook  # imported before the clock starts, as for consult

    data = file_path.read_bytes()
    before = peak_mb()
    started = time.perf_counter()
    if file_path.suffix == ".xlsx":
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        rows = workbook.worksheets[0].iter_rows(values_only=True)
    else:
        rows = csv.reader(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline=""))
    count = sum(1 for _ in itertools.islice(rows, stop))
    elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "peak_mb": peak_mb(), "before_mb": before, "outcome": f"{count:,} rows read"}


def _fresh(template: Path, tmp: Path) -> str:
    """A fresh SQLite database: a copy of the migrated template, as the tests make theirs."""
    db = tmp / f"import-{len(list(tmp.glob('import-*.sqlite3')))}.sqlite3"
    shutil.copyfile(template, db)
    return f"sqlite:///{db}"


def _best(runs: list[dict]) -> dict:
    best = min(runs, key=lambda run: run["seconds"])
    return {**best, "peak_mb": max(run["peak_mb"] for run in runs)}


def _run(*args: str) -> dict:
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"{' '.join(args)} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measure: the best time is kept "
                        "(the machine is shared), and the highest peak")
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL database to import into (the schema is migrated into it; each import "
                             "into a new commune); by default a fresh SQLite file per import")
    parser.add_argument("--consult", nargs=3, metavar=("URL", "FILE", "COMMUNE"), help=argparse.SUPPRESS)
    parser.add_argument("--bare", nargs=2, metavar=("FILE", "STOP"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.consult:
        print(json.dumps(child_consult(args.consult[0], Path(args.consult[1]), args.consult[2])))
        return
    if args.bare:
        stop = int(args.bare[1]) or None
        print(json.dumps(child_bare(Path(args.bare[0]), stop)))
        return

    from consult import migrate
    from consult.households.service import MAX_ROWS

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        template = tmp / "template.sqlite3"
        migrate.upgrade(args.database_url or f"sqlite:///{template}")
        tag = f"{time.time():.0f}"  # communes of earlier runs in the same database keep their names
        too_many = 2 * MAX_ROWS
        cases = [  # (label, file, rows in it, bare reads up to)
            ("xlsx, write-only (no dimension)", tmp / f"ho-{args.rows}.xlsx", args.rows, 0),
            ("xlsx, with dimension (as Excel)", tmp / f"ho-{args.rows}-dim.xlsx", args.rows, 0),
            ("csv", tmp / f"ho-{args.rows}.csv", args.rows, 0),
            ("xlsx, refused (limit)", tmp / f"ho-{too_many}.xlsx", too_many, MAX_ROWS + 2),
            ("csv, refused (limit)", tmp / f"ho-{too_many}.csv", too_many, MAX_ROWS + 2),
        ]
        started = time.perf_counter()
        for label, path, rows, _ in cases:
            short = "refused" in label
            if path.suffix == ".csv":
                build_csv(path, rows, short=short)
            else:
                build_xlsx(path, rows, dimension="dimension" in label, short=short)
        print(f"built {len(cases)} files in {time.perf_counter() - started:.1f} s")
        results = []
        for number, (label, path, rows, stop) in enumerate(cases):
            url = args.database_url or "fresh"
            mine = _best([_run("--consult", url if url != "fresh" else _fresh(template, tmp), str(path),
                                f"Đo {tag} {number}.{run}") for run in range(args.repeat)])
            bare = _best([_run("--bare", str(path), str(stop)) for _ in range(args.repeat)])
            results.append((label, path.stat().st_size, rows, stop, mine, bare))
            print(f"{label}: consult {mine['seconds']:.2f} s {mine['peak_mb']:.0f} MB ({mine['outcome']}); "
                  f"bare {bare['seconds']:.2f} s {bare['peak_mb']:.0f} MB ({bare['outcome']})", flush=True)

    dialect = (args.database_url or "sqlite").split(":", 1)[0].split("+", 1)[0]
    print()
    print(f"| file ({dialect}) | rows | size | consult: time | consult: peak RSS (before the import) | "
          "bare library: time | bare: peak RSS | ratio consult / bare (time) | outcome |")
    print("|---|---|---|---|---|---|---|---|---|")
    for label, size, rows, stop, mine, bare in results:
        bare_what = f" (up to row {stop:,})" if stop else ""
        print(f"| {label} | {rows:,} | {size / 1e6:.1f} MB | {mine['seconds']:.2f} s | "
              f"{mine['peak_mb']:.0f} MB ({mine['before_mb']:.0f}) | {bare['seconds']:.2f} s{bare_what} | "
              f"{bare['peak_mb']:.0f} MB | {mine['seconds'] / bare['seconds']:.2f} | {mine['outcome']} |")
    print("\ntarget: 100,000 rows under 10 s and under 300 MB each")
    keys = ["xlsx", "xlsx_dim", "csv", "xlsx_refused", "csv_refused"]
    print("RESULT " + " ".join(
        f"{key}_s={mine['seconds']:.2f} {key}_mb={mine['peak_mb']:.0f} "
        f"{key}_ratio={mine['seconds'] / bare['seconds']:.2f}"
        for key, (_, _, _, _, mine, bare) in zip(keys, results)) + f" rows={args.rows} database={dialect}")


if __name__ == "__main__":
    main()
