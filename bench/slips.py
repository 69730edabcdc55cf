"""Benchmark: printing the ballot slips of a whole ward.

A group of 5,000 households, a paper vote (phát phiếu): times the issue of the slips
(a new link and code for each household, the old ones revoked) and the PDF of all
slips (``polls.ballots_pdf``: three per page, a QR code each), beside the bare QR
library in the same run: the same 5,000 links encoded by ``qrcode`` with the same
settings and rendered as images, nothing else.

    python bench/slips.py [--households 5000] [--database-url URL]

Prints a table and a last line ``RESULT name=value ...``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=5000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run(args.database_url or f"sqlite:///{tmp}/slips.sqlite3", args.households, tmp)


def bare_qr(links: list[str]) -> float:
    """The QR library alone: encode each link and render it, with the slips' settings."""
    import qrcode

    begin = time.perf_counter()
    for link in links:
        qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=6, border=2, mask_pattern=4)
        qr.add_data(link)
        qr.make(fit=True)
        qr.make_image(fill_color="black", back_color="white").get_image()
    return time.perf_counter() - begin


def run(url: str, households: int, tmp: str) -> None:
    from sqlalchemy import insert

    from consult import create_app, migrate
    from consult.audit.service import SYSTEM
    from consult.communes.models import Household
    from consult.communes.service import save_commune, save_group
    from consult.polls import service
    from consult.polls import ballots_pdf as _pdf
    ballots_pdf = _pdf.ballots_pdf
    from consult.timeutil import utcnow

    migrate.upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_PATH": tmp})
    session = app.extensions["consult_sessionmaker"]()
    commune = save_commune(session, SYSTEM, None, kind="phuong", name="Đo Hiệu Năng", province="Bình Dương")
    group = save_group(session, SYSTEM, commune, None, kind="khu_pho", name="Khu phố 1")
    session.execute(insert(Household), [
        {"commune_id": commune.id, "group_id": group.id, "code": f"KP1-{i:05d}",
         "representative": f"Nguyễn Văn Hộ {i}", "address": f"Số {i}, đường Lê Lợi"} for i in range(households)])
    now = utcnow()
    poll = service.create_poll(session, SYSTEM, commune, service.PollInput(
        title="Lắp đèn chiếu sáng ngõ xóm", question="Hộ có đồng ý góp 200.000 đồng để lắp đèn không?",
        matter_kind="k6", form="ballot", opens_at=now, closes_at=now + timedelta(days=7), group_ids=[group.id],
        chosen_by_head_and_front=True,
        committee=[service.CommitteeInput("Nguyễn Thị Hoa", "Đại diện Ban công tác Mặt trận", True),
                   service.CommitteeInput("Lê Văn Bảy", "Thành viên"),
                   service.CommitteeInput("Trần Văn Tư", "Thành viên")]), now=now)
    service.open_poll(session, SYSTEM, poll, now=now)
    session.commit()

    begin = time.perf_counter()
    issued = service.issue_ballots(session, SYSTEM, poll)
    session.commit()
    issue_s = time.perf_counter() - begin
    base = "https://binhan.example.vn"
    begin = time.perf_counter()
    data = ballots_pdf(poll, issued, base, {group.id: group.full_name})
    pdf_s = time.perf_counter() - begin
    qr_s = bare_qr([f"{base}/b/{b.token}" for b in issued])
    pdf_path = Path(tmp) / "slips.pdf"
    pdf_path.write_bytes(data)

    print(f"| measure ({session.get_bind().dialect.name}, {households:,} households) | value |")
    print("|---|---|")
    print(f"| issue the slips (links, codes, old ones revoked) | {issue_s:.2f} s |")
    print(f"| PDF of all slips ({len(data) / 1e6:.1f} MB) | {pdf_s:.2f} s |")
    print(f"| bare QR library, same links and settings | {qr_s:.2f} s |")
    print(f"| PDF / bare QR | {pdf_s / qr_s:.2f} (goal ≤ 1.2) |")
    print(f"| issue + PDF | {issue_s + pdf_s:.2f} s (goal < 10 s) |")
    print(f"RESULT households={households} issue_s={issue_s:.3f} pdf_s={pdf_s:.3f} bare_qr_s={qr_s:.3f} "
          f"ratio={pdf_s / qr_s:.3f}")
    session.close()


if __name__ == "__main__":
    main()
