"""The officer's synthesis workspace, downloads, publication, and the report command."""

import io
from datetime import timedelta

import pyotp
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import select

from consult.consultations.models import Consultation
from consult.opinions.service import add_resident_opinion
from consult.reports.models import OpinionCluster
from consult.timeutil import utcnow
from tests.support.helpers import login, make_commune, make_consultation, make_group, make_user, post_form


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


def test_downloads_are_drafts_until_every_opinion_is_answered_then_published(client, session):
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
    assert client.get(f"/c/{commune.slug}/consultations/{c.id}/report.docx").status_code == 200


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


def test_report_pdf_preview_keeps_every_table_row_on_one_page(client, session, tmp_path):
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
    r = client.get(f"/reports/consultations/{c.id}/export.pdf")
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
    pdf = tmp_path / "bao-cao.pdf"
    pdf.write_bytes(r.data)
    pages = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout.split("\f")
    assert len(pages) > 2
    for i in range(40):
        start = next(n for n, p in enumerate(pages) if f"MỞĐẦU{i:02d}" in p)
        assert f"KẾTTHÚC{i:02d}" in pages[start].replace("\n", " ") or f"KẾTTHÚC{i:02d}" in pages[start], \
            f"the row of opinion {i} is split across pages {start + 1} and {start + 2}"
