"""The officer's synthesis workspace, downloads, publication, and the report command."""

import io
import os
from datetime import timedelta

import pyotp
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import select

from consult.consultations.models import Consultation
from consult.opinions.service import add_resident_opinion
from consult.reports.models import OpinionCluster
from consult.timeutil import utcnow
from tests.support.helpers import (login, make_commune, make_consultation, make_group, make_user, post_form,
                                   preview_pdf, run_jobs)


def _setup(session, *, closed=False):
    commune = make_commune(session)
    group = make_group(session, commune, name="Khu phố 2")
    secret = pyotp.random_base32()
    make_user(session, "tam.vptk", "officer", commune, totp=secret)
    start = utcnow() - timedelta(days=30) if closed else None
    c = make_consultation(session, commune, [], now=start)
    for i in range(3):
        add_resident_opinion(session, c, part_id=c.parts[1].id, text="Đề nghị sửa khoản 1" + "." * i,
                             name=f"Người {i}", group_id=group.id, now=(start or utcnow()) + timedelta(hours=i + 1))
    add_resident_opinion(session, c, part_id=None, text="Bỏ Điều 2", name="Phạm Văn Kiên", group_id=group.id,
                         now=(start or utcnow()) + timedelta(hours=5))
    session.commit()
    return commune, c, secret


def test_workspace_groups_and_counts_undecided(client, session):
    _, c, secret = _setup(session)
    login(client, "tam.vptk", totp_secret=secret)
    page = client.get(f"/reports/consultations/{c.id}").get_data(as_text=True)
    assert '<b id="undecided">4</b>' in page and "3 ý kiến giống nhau" in page


def test_decision_form_refuses_not_accepted_without_explanation(client, session):
    _, c, secret = _setup(session)
    login(client, "tam.vptk", totp_secret=secret)
    url = f"/reports/consultations/{c.id}"
    client.get(url)
    cluster = session.scalar(select(OpinionCluster).where(OpinionCluster.part_id.is_(None)))
    r = post_form(client, f"{url}/clusters/{cluster.id}/decide", {"decision": "not_accepted", "explanation": ""},
                  get_url=url, follow_redirects=True)
    assert "phải có nội dung giải trình" in r.get_data(as_text=True)
    session.expire_all()
    assert session.get(OpinionCluster, cluster.id).decision is None
    r = post_form(client, f"{url}/clusters/{cluster.id}/decide",
                  {"decision": "not_accepted", "explanation": "Điều 2 quy định kinh phí, cần giữ."}, get_url=url,
                  follow_redirects=True)
    assert '<b id="undecided">3</b>' in r.get_data(as_text=True)


def test_downloads_are_drafts_until_every_opinion_is_answered_then_published(app, client, session):
    app.config["JOBS_IN_PROCESS"] = False  # the public files' job is run below, as the worker would
    commune, c, secret = _setup(session, closed=True)
    login(client, "tam.vptk", totp_secret=secret)
    url = f"/reports/consultations/{c.id}"
    client.get(url)
    draft = client.get(f"{url}/export.docx")
    assert draft.status_code == 200 and "du-thao-bao-cao" in draft.headers["Content-Disposition"]
    assert "DỰ THẢO" in Document(io.BytesIO(draft.data)).sections[0].header.paragraphs[-1].text
    assert client.get(f"/c/{commune.slug}/consultations/{c.id}/report").status_code == 404
    for cluster in session.scalars(select(OpinionCluster)):
        post_form(client, f"{url}/clusters/{cluster.id}/decide", {"decision": "accepted", "explanation": ""},
                  get_url=url)
    final = client.get(f"{url}/export.docx")
    assert "du-thao" not in final.headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(client.get(f"{url}/export.xlsx").data))
    assert workbook.sheetnames == ["Tổng hợp ý kiến", "Tình hình lấy ý kiến", "Đơn vị trả lời"]
    assert "Tổng hợp, tiếp thu" in client.get(f"{url}/print").get_data(as_text=True)
    r = post_form(client, f"{url}/publish", {}, get_url=url)
    assert r.status_code == 302
    public = client.get(f"/c/{commune.slug}/consultations/{c.id}/report").get_data(as_text=True)
    assert "Đề nghị sửa khoản 1" in public and "Phạm Văn Kiên" not in public and "Người dân khu phố 2" in public
    # Luật Điều 28 khoản 3: public. The files are made once by the job queued at publication,
    # never by the public request: until the job has run, "being prepared".
    preparing = client.get(f"/c/{commune.slug}/consultations/{c.id}/report.docx")
    assert preparing.status_code == 503 and preparing.headers["Retry-After"] == "30"
    assert "đang được chuẩn bị" in preparing.get_data(as_text=True)
    assert _run_jobs(app) == 1
    public_docx = client.get(f"/c/{commune.slug}/consultations/{c.id}/report.docx")
    assert public_docx.status_code == 200 and "bao-cao-tong-hop-y-kien" in public_docx.headers["Content-Disposition"]
    text = "\n".join(cell.text for t in Document(io.BytesIO(public_docx.data)).tables for r in t.rows for cell in r.cells)
    assert "Đề nghị sửa khoản 1" in text and "Phạm Văn Kiên" not in text
    assert load_workbook(io.BytesIO(client.get(f"/c/{commune.slug}/consultations/{c.id}/report.xlsx").data))


def _run_jobs(app) -> int:
    return run_jobs(app)


def _published(app, client, session):
    app.config["JOBS_IN_PROCESS"] = False
    commune, c, secret = _setup(session, closed=True)
    login(client, "tam.vptk", totp_secret=secret)
    url = f"/reports/consultations/{c.id}"
    client.get(url)
    for cluster in session.scalars(select(OpinionCluster)):
        post_form(client, f"{url}/clusters/{cluster.id}/decide", {"decision": "accepted", "explanation": ""},
                  get_url=url)
    assert post_form(client, f"{url}/publish", {}, get_url=url).status_code == 302
    client.get("/auth/logout")
    return commune, c


def test_public_report_downloads_never_build_the_report(app, client, session, monkeypatch):
    """A public URL cannot make the server do the report's seconds of work: the files are built
    once per published version, by the job, whatever the number of downloads."""
    from consult.reports import service as reports

    commune, c = _published(app, client, session)
    builds = []
    real = reports.report_data
    monkeypatch.setattr(reports, "report_data", lambda *a, **k: builds.append(1) or real(*a, **k))
    for _ in range(5):
        assert client.get(f"/c/{commune.slug}/consultations/{c.id}/report.docx").status_code == 503
    assert builds == []
    assert _run_jobs(app) == 1 and len(builds) == 1
    for fmt in ("docx", "xlsx") * 5:
        answer = client.get(f"/c/{commune.slug}/consultations/{c.id}/report.{fmt}")
        assert answer.status_code == 200 and answer.data.startswith(b"PK")
    assert len(builds) == 1


def test_the_public_report_kept_across_requests_holds_no_orm_object(app, client, session):
    """The published report's rows are kept by the process as plain texts (STYLE principle 8),
    and its page starts no thread."""
    from consult.reports import public
    from tests.support.background import orm_objects_in, threads_started

    commune, c = _published(app, client, session)
    with threads_started() as started:
        page = client.get(f"/c/{commune.slug}/consultations/{c.id}/report").get_data(as_text=True)
        assert client.get(f"/c/{commune.slug}/consultations/{c.id}/report.docx").status_code == 503
    assert "Đề nghị sửa khoản 1" in page and started == []
    assert public._cache and orm_objects_in(public) == []


def test_a_public_download_of_an_older_version_queues_one_job_not_one_per_request(app, client, session):
    """Files missing (published before they existed, or the folder lost): the first request queues
    the job in the publisher's name, the next ones find it queued."""
    import shutil

    from consult.jobs.models import Job
    from consult.reports import published

    commune, c = _published(app, client, session)
    assert _run_jobs(app) == 1
    shutil.rmtree(published.folder_of(app))
    for _ in range(3):
        assert client.get(f"/c/{commune.slug}/consultations/{c.id}/report.xlsx").status_code == 503
    session.rollback()  # a fresh snapshot after the pages' commits
    queued = session.scalars(select(Job).where(Job.kind == published.KIND, Job.status == "queued")).all()
    assert len(queued) == 1 and queued[0].created_by != ""
    assert _run_jobs(app) == 1
    assert client.get(f"/c/{commune.slug}/consultations/{c.id}/report.xlsx").status_code == 200


def test_concurrent_public_downloads_leave_the_server_answering(app, client, session, live_server):
    """Eight clients looping on the public report: /healthz is still answered at once (each
    download is a file sent, not a report built). The median of 20 probes stays under 100 ms."""
    import statistics
    import threading
    import time
    import urllib.request

    commune, c = _published(app, client, session)
    assert _run_jobs(app) == 1
    stop = threading.Event()
    served = []

    def loop():
        while not stop.is_set():
            with urllib.request.urlopen(f"{live_server}/c/{commune.slug}/consultations/{c.id}/report.docx") as r:
                served.append(len(r.read()))

    clients = [threading.Thread(target=loop, daemon=True) for _ in range(8)]
    for t in clients:
        t.start()
    probes = []
    try:
        while len(served) < 8:
            time.sleep(0.01)
        for _ in range(20):
            start = time.perf_counter()
            with urllib.request.urlopen(f"{live_server}/healthz") as r:
                assert r.status == 200
            probes.append(time.perf_counter() - start)
    finally:
        stop.set()
        for t in clients:
            t.join(timeout=10)
    assert len(set(served)) == 1 and len(probes) == 20
    # The bound (a download built the report: /healthz waited 14.7 s). Not under
    # libfaketime, which intercepts every clock call of the server and slows all of it.
    if not os.environ.get("CONSULT_TEST_FAKETIME"):
        assert statistics.median(probes) < 0.1, probes


def test_report_settings_saved_and_used(client, session):
    _, c, secret = _setup(session)
    login(client, "tam.vptk", totp_secret=secret)
    url = f"/reports/consultations/{c.id}/settings"
    r = post_form(client, url, {"number": "07/BC-UBND", "report_date": "05/01/2025", "place": "Bình An",
                                "signer_mode": "KT", "signer_name": "Nguyễn Văn An", "recipients": "- Lưu: VT."})
    assert r.status_code == 302
    document = Document(io.BytesIO(client.get(f"/reports/consultations/{c.id}/export.docx").data))
    assert document.tables[0].rows[1].cells[0].text == "Số: 07/BC-UBND"
    r = post_form(client, url, {"report_date": "32/01/2025", "signer_mode": "TM"})
    assert "không có thật" in r.get_data(as_text=True)


def test_report_command_writes_docx_and_xlsx(runner, session, tmp_path):
    _, c, _ = _setup(session)
    out = tmp_path / "bao-cao.docx"
    result = runner.invoke(args=["report", str(c.id), "--format", "docx", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "DỰ THẢO" in result.output
    assert len(Document(str(out)).tables[1].rows) == 3  # header + 2 groups
    xlsx = tmp_path / "bao-cao.xlsx"
    assert runner.invoke(args=["report", str(c.id), "--format", "xlsx", "-o", str(xlsx)]).exit_code == 0
    rows = list(load_workbook(xlsx)["Tổng hợp ý kiến"].iter_rows(values_only=True))
    assert rows[2][0] == "STT" and len(rows) == 5  # title, date line, header, 2 groups
    missing = runner.invoke(args=["report", "999999", "--format", "docx", "-o", str(out)])
    assert missing.exit_code != 0 and "Không có đợt lấy ý kiến" in missing.output


def test_demo_has_a_closed_consultation_with_a_final_report(runner, session, tmp_path):
    runner.invoke(args=["demo"])
    closed = session.scalar(select(Consultation).where(Consultation.status == "published"))
    out = tmp_path / "r.docx"
    result = runner.invoke(args=["report", str(closed.id), "--format", "docx", "-o", str(out)])
    assert result.exit_code == 0 and "bản chính thức" in result.output
    rows = [[cell.text for cell in row.cells] for row in Document(str(out)).tables[1].rows[1:]]
    assert rows and all(not r[4].startswith("(chưa xử lý)") for r in rows)
    assert any(r[4].startswith("Không tiếp thu.") and len(r[4]) > 20 for r in rows)


def test_workspace_shows_every_member_and_undoes_a_group_with_one_button(client, session):
    commune = make_commune(session)
    group = make_group(session, commune, name="Khu phố 2")
    secret = pyotp.random_base32()
    make_user(session, "tam.vptk", "officer", commune, totp=secret)
    c = make_consultation(session, commune, [])
    texts = ["Đề nghị giữ mức đóng góp 500.000 đồng mỗi hộ.", "giữ mức đóng góp 500.000đ mỗi hộ",
             "De nghi giu muc dong gop 500.000 dong moi ho", "Không giữ mức đóng góp 500.000 đồng mỗi hộ."]
    for i, text in enumerate(texts):
        add_resident_opinion(session, c, part_id=c.parts[1].id, text=text, name=f"Người {i}", group_id=group.id)
    session.commit()
    login(client, "tam.vptk", totp_secret=secret)
    url = f"/reports/consultations/{c.id}"
    page = client.get(url).get_data(as_text=True)
    assert "Đề xuất gộp 3 ý kiến giống nhau" in page
    for i, text in enumerate(texts):  # every text and sender shown, the opposite one in its own group
        assert text in page and f"Người {i} (Khu phố 2)" in page
    assert page.count("tách để trả lời riêng") == 3 and page.count("Bỏ gộp cả nhóm") == 1
    cluster = session.scalar(select(OpinionCluster).where(OpinionCluster.key.like("%giữ mức%"))
                             .order_by(OpinionCluster.id))
    r = post_form(client, f"{url}/clusters/{cluster.id}/ungroup", {}, get_url=url, follow_redirects=True)
    page = r.get_data(as_text=True)
    assert "Đã bỏ gộp" in page and "giống nhau" not in page and "Bỏ gộp cả nhóm" not in page
    assert page.count("Lưu cho 1 ý kiến") == 4 and '<b id="undecided">4</b>' in page


def test_report_pdf_preview_keeps_every_table_row_on_one_page(app, client, session, tmp_path):
    """The .docx laid out by LibreOffice (the preview on the report page): no row of the table is split
    across pages, with rows of every length around the page ends."""
    import os
    import shutil
    import subprocess

    import pytest
    from sqlalchemy import select

    from consult.communes.models import ResidentialGroup

    if shutil.which("soffice") is None or shutil.which("pdftotext") is None:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("LibreOffice and poppler-utils are needed")
        pytest.skip("LibreOffice not installed")
    _, c, secret = _setup(session)
    group = session.scalars(select(ResidentialGroup)).first()
    for i in range(40):
        words = " ".join(["nội dung góp ý chi tiết"] * (3 + (i * 7) % 25))
        add_resident_opinion(session, c, part_id=c.parts[(i % 3) + 1].id,
                             text=f"MỞĐẦU{i:02d} {words} về mức {i}0.000 đồng KẾTTHÚC{i:02d}",
                             name=f"Người góp ý {i}", group_id=group.id)
    session.commit()
    login(client, "tam.vptk", totp_secret=secret)
    data = preview_pdf(client, app, f"/reports/consultations/{c.id}/export.pdf")
    assert data.startswith(b"%PDF")
    pdf = tmp_path / "bao-cao.pdf"
    pdf.write_bytes(data)
    pages = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout.split("\f")
    assert len(pages) > 2
    for i in range(40):
        start = next(n for n, p in enumerate(pages) if f"MỞĐẦU{i:02d}" in p)
        assert f"KẾTTHÚC{i:02d}" in pages[start].replace("\n", " ") or f"KẾTTHÚC{i:02d}" in pages[start], \
            f"the row of opinion {i} is split across pages {start + 1} and {start + 2}"
