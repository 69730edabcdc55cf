"""The officer's plan, letter and register pages (Luật Điều 26 khoản 1, Điều 28 khoản 1; NĐ 30/2020)."""

from __future__ import annotations

import io

import pyotp
from docx import Document
from sqlalchemy import func, select

from consult.documents.models import OutgoingDocument
from consult.timeutil import format_date, today
from tests.support.helpers import login, make_commune, make_consultation, make_unit, make_user, post_form


def _officer(session, publish=False):
    commune = make_commune(session)
    units = [make_unit(session, commune, "Hội Nông dân phường Bình An")]
    c = make_consultation(session, commune, units, publish=publish)
    secret = pyotp.random_base32()
    make_user(session, "tam.vptk", "officer", commune, totp=secret)
    session.commit()
    return commune, c, secret


def _count(session):
    session.rollback()
    session.expire_all()
    return session.scalar(select(func.count()).select_from(OutgoingDocument))


def test_officer_prepares_and_issues_the_plan_then_the_letter_and_sees_the_register(client, session):
    _, c, secret = _officer(session)
    login(client, "tam.vptk", totp_secret=secret)
    page = client.get(f"/consultations/{c.id}/plan").get_data(as_text=True)
    assert "được điền sẵn" in page and "Điều 28 khoản 1" in page
    data = {"action": "save", "plan-forms": ["portal", "written", "meeting"],
            "plan-purpose": "Lấy ý kiến Nhân dân.", "plan-method": "Niêm yết, đăng tải.",
            "plan-timeline": "- Từ 01/12: công khai.", "plan-assignments": "- VP-TK: tổng hợp.",
            "plan-signer_mode": "TM", "plan-signer_name": "Nguyễn Văn Chủ"}
    assert post_form(client, f"/consultations/{c.id}/plan", data).status_code == 302
    refused = post_form(client, f"/consultations/{c.id}/plan", {**data, "plan-forms": []})
    assert refused.status_code == 422 and "Điều 26" in refused.get_data(as_text=True)
    r = post_form(client, f"/consultations/{c.id}/plan", {"action": "issue", "issue-issued_on": format_date(today())},
                  follow_redirects=True)
    assert "Kế hoạch số <strong>01/KH-UBND</strong>" in r.get_data(as_text=True)
    docx = client.get(f"/consultations/{c.id}/plan.docx")
    text = "\n".join(p.text for p in Document(io.BytesIO(docx.data)).paragraphs)
    assert "Tổ chức hội nghị, cuộc họp lấy ý kiến" in text and "Lấy ý kiến Nhân dân." in text
    r = post_form(client, f"/consultations/{c.id}/letter", {"issue-issued_on": format_date(today()),
                                                             "issue-signer_name": "Nguyễn Văn Chủ"},
                  follow_redirects=True)
    assert "Công văn số <strong>02/UBND</strong>" in r.get_data(as_text=True)
    letter = Document(io.BytesIO(client.get(f"/consultations/{c.id}/letter.docx").data))
    assert any("Thực hiện Kế hoạch số 01/KH-UBND" in p.text for p in letter.paragraphs)
    register = client.get("/documents/").get_data(as_text=True)
    assert "01/KH-UBND" in register and "02/UBND" in register and "Sổ văn bản đi năm" in register
    assert _count(session) == 2


def test_a_bad_date_or_a_future_one_takes_no_number(client, session):
    _, c, secret = _officer(session)
    login(client, "tam.vptk", totp_secret=secret)
    for day in ("31/02/2026", "", format_date(today().replace(year=today().year + 1))):
        r = post_form(client, f"/consultations/{c.id}/letter", {"issue-issued_on": day})
        assert r.status_code == 422, day
    assert _count(session) == 0


def test_the_hdnd_report_page_waits_for_the_published_results(client, session):
    """Luật Điều 28 khoản 5: the report to the HĐND once the results are public (khoản 3)."""
    from consult.audit.service import SYSTEM
    from consult.consultations.service import mark_results_published

    _, c, secret = _officer(session, publish=True)
    login(client, "tam.vptk", totp_secret=secret)
    page = client.get(f"/consultations/{c.id}/hdnd").get_data(as_text=True)
    assert "Chưa công khai kết quả tiếp thu, giải trình" in page and "Lấy số và ban hành" not in page
    refused = post_form(client, f"/consultations/{c.id}/hdnd", {"issue-issued_on": format_date(today())})
    assert refused.status_code == 422 and _count(session) == 0
    mark_results_published(session, SYSTEM, session.merge(c))
    session.commit()
    # The results posted at the commune office (Điều 28 khoản 3): the report says where.
    posted = post_form(client, f"/consultations/{c.id}/publication", {
        "subject": "results", "channel": "office", "group_id": "0", "place": "", "ended_on": "",
        "posted_on": format_date(today()), "confirmed_by": "Lê Thị Tâm"}, content_type="multipart/form-data")
    assert posted.status_code == 302
    r = post_form(client, f"/consultations/{c.id}/hdnd", {"issue-issued_on": format_date(today())},
                  follow_redirects=True)
    assert "Báo cáo số <strong>01/BC-UBND</strong>" in r.get_data(as_text=True)
    report = Document(io.BytesIO(client.get(f"/consultations/{c.id}/hdnd.docx").data))
    assert any("Kính gửi: Hội đồng nhân dân" in p.text for p in report.paragraphs)
    assert any(f"Trụ sở Ủy ban nhân dân Phường Bình An (từ ngày {format_date(today())})" in p.text
               for p in report.paragraphs)
