"""The officer's and the public's pages of a consultation."""

import io
import json
from datetime import timedelta

import pyotp
from sqlalchemy import func, select, text

from consult.consultations.models import Consultation, DraftPart
from consult.opinions.models import Opinion
from consult.timeutil import format_datetime, utcnow
from tests.support.helpers import (
    SEEDS,
    csrf_from,
    login,
    make_commune,
    make_consultation,
    make_group,
    make_unit,
    make_user,
    post_form,
)



def _officer(session):
    commune = make_commune(session)
    group = make_group(session, commune, name="Khu phố 1")
    units = [make_unit(session, commune, name) for name in ("Ủy ban MTTQ phường", "Hội Cựu chiến binh phường")]
    secret = pyotp.random_base32()
    make_user(session, "tam.vptk", "officer", commune, totp=secret)
    session.commit()
    return commune, group, units, secret


def _new_form(units, **overrides):
    now = utcnow()
    data = {
        "title": "Lấy ý kiến góp ý dự thảo Nghị quyết về dân chủ ở cơ sở",
        "doc_kind": "nghi_quyet", "issuing_body": "Ủy ban nhân dân phường Bình An",
        "letter_number": "491/UBND", "letter_date": "19/09/2024", "officer_name": "Đ/c Tâm",
        "officer_contact": "0274 3 123 456",
        "opens_at": format_datetime(now + timedelta(minutes=5)),
        "closes_at": format_datetime(now + timedelta(days=21)),
        "residents_may_comment": "y", "units": [str(u.id) for u in units],
        "draft_text": (SEEDS / "binh-an-cong-van-va-du-thao-nghi-quyet.txt").read_text(encoding="utf-8"),
    }
    data.update(overrides)
    return data


def test_officer_pastes_a_draft_sees_its_parts_and_publishes(client, session):
    commune, _, units, secret = _officer(session)
    login(client, "tam.vptk", totp_secret=secret)
    r = post_form(client, "/consultations/new", _new_form(units))
    assert r.status_code == 302, r.get_data(as_text=True)[-2000:]
    cid = session.scalar(select(Consultation.id))
    page = client.get(f"/consultations/{cid}").get_data(as_text=True)
    assert "Bản nháp" in page and 'id="dieu-1-khoan-3-diem-dd"' in page
    assert session.scalar(select(func.count()).select_from(DraftPart)) == 3 + 7 + 20  # articles, clauses, points
    assert client.get(f"/c/{commune.slug}/consultations/{cid}").status_code == 404  # draft: staff only
    r = client.post(f"/consultations/{cid}/publish", data={"csrf_token": csrf_from(page)})
    assert r.status_code == 302
    public = client.get(f"/c/{commune.slug}/consultations/{cid}").get_data(as_text=True)
    assert "Đang lấy ý kiến" in public or "Sắp lấy ý kiến" in public
    assert "Số 491/UBND ngày 19/09/2024" in public


def test_officer_uploads_a_docx(client, session):
    from docx import Document

    _, _, units, secret = _officer(session)
    login(client, "tam.vptk", totp_secret=secret)
    document = Document()
    for block in (SEEDS / "muong-kim-to-trinh-va-du-thao-nghi-quyet.txt").read_text(encoding="utf-8").split("\n\n"):
        document.add_paragraph(block.replace("\n", " "))
    buffer = io.BytesIO()
    document.save(buffer)
    form = _new_form(units, draft_text="")
    form["draft_file"] = (io.BytesIO(buffer.getvalue()), "du-thao-nghi-quyet.docx")
    r = post_form(client, "/consultations/new", form, content_type="multipart/form-data")
    assert r.status_code == 302
    c = session.scalar(select(Consultation))
    assert c.source_filename == "du-thao-nghi-quyet.docx" and len([p for p in c.parts if p.kind == "article"]) == 7


def test_bad_inputs_get_vietnamese_messages_and_save_nothing(client, session):
    _, _, units, secret = _officer(session)
    login(client, "tam.vptk", totp_secret=secret)
    past = utcnow() - timedelta(days=1)
    cases = [
        (_new_form(units, closes_at=format_datetime(past), opens_at=format_datetime(past - timedelta(days=30))),
         "đã qua"),
        (_new_form(units, draft_text="Kính gửi: Nhân dân. Xin góp ý."), "Không tìm thấy phần nào"),
        (_new_form(units, closes_at=format_datetime(utcnow() + timedelta(days=5))), "ít nhất 20 ngày"),
        (_new_form(units, closes_at="10/10/2024"), "HH:MM dd/mm/yyyy"),
    ]
    for data, message in cases:
        r = post_form(client, "/consultations/new", data)
        assert r.status_code == 422 and message in r.get_data(as_text=True), message
    fake = _new_form(units, draft_text="")
    fake["draft_file"] = (io.BytesIO(b"%PDF-1.4 this is a pdf"), "du-thao.docx")
    r = post_form(client, "/consultations/new", fake, content_type="multipart/form-data")
    assert r.status_code == 422 and "không đúng định dạng" in r.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Consultation)) == 0
    assert session.scalar(select(func.count()).select_from(DraftPart)) == 0


def test_public_page_shows_parts_counts_and_comment_links_without_javascript(client, session):
    commune = make_commune(session)
    group = make_group(session, commune)
    c = make_consultation(session, commune, [])
    from consult.opinions.service import add_resident_opinion

    add_resident_opinion(session, c, part_id=c.parts[2].id, text="Ý kiến về điểm a", name="A", group_id=group.id)
    session.commit()
    page = client.get(f"/c/{commune.slug}/consultations/{c.id}").get_data(as_text=True)
    assert "<script" not in page
    assert "Góp ý Điều 1, khoản 1, điểm a" in page and "1 ý kiến" in page
    assert "còn 20 ngày" in page
    src = client.get(f"/c/{commune.slug}/consultations/{c.id}/source")
    assert src.status_code == 200 and "Điều 1. Phạm vi" in src.get_data(as_text=True)


def test_uploaded_draft_downloads_as_uploaded(client, session):
    from consult.audit.service import SYSTEM
    from consult.consultations import service

    commune = make_commune(session)
    raw = (SEEDS / "binh-an-cong-van-va-du-thao-nghi-quyet.txt").read_bytes()
    now = utcnow() - timedelta(hours=1)
    facts = service.ConsultationFacts(title="T", doc_kind="nghi_quyet", issuing_body="UBND", officer_name="Tâm",
                                      opens_at=now, closes_at=now + timedelta(days=21))
    c = service.create_consultation(session, SYSTEM, commune, facts,
                                    service.read_draft(filename="du-thao.txt", data=raw), [], now=now)
    service.publish(session, SYSTEM, c, now=now)
    session.commit()
    r = client.get(f"/c/{commune.slug}/consultations/{c.id}/source")
    assert r.data == raw and "du-thao.txt" in r.headers["Content-Disposition"]


def test_resident_script_comment_stored_as_typed_and_shown_as_text(app, client, session):
    commune, group, units, secret = _officer(session)
    c = make_consultation(session, commune, units)
    session.commit()
    typed = "<script>alert('xss')</script> Đề nghị bỏ điểm b"
    url = f"/c/{commune.slug}/consultations/{c.id}/comment"
    r = post_form(client, url, {"part_id": "0", "text": typed, "name": "Nguyễn <b>Văn</b> A",
                                "group_id": str(group.id), "phone": ""})
    assert r.status_code == 302
    assert session.scalar(select(Opinion.text)) == typed
    login(client, "tam.vptk", totp_secret=secret)
    page = client.get(f"/consultations/{c.id}/opinions").get_data(as_text=True)
    assert typed not in page and "&lt;script&gt;alert(" in page and "&lt;b&gt;Văn&lt;/b&gt;" in page


def test_comment_posted_after_closing_is_refused_whatever_the_page_said(client, session):
    commune = make_commune(session)
    group = make_group(session, commune)
    c = make_consultation(session, commune, [], now=utcnow() - timedelta(days=21), days=21)
    c.closes_at = utcnow() + timedelta(hours=1)
    session.commit()
    url = f"/c/{commune.slug}/consultations/{c.id}/comment"
    form_page = client.get(url).get_data(as_text=True)
    assert "Gửi ý kiến" in form_page  # open when loaded
    # The closing instant passes while the page is open (moved, not waited for).
    c.closes_at = utcnow() - timedelta(seconds=1)
    session.commit()
    r = client.post(url, data={"csrf_token": csrf_from(form_page), "part_id": "0", "text": "Muộn một giây",
                               "name": "A", "group_id": str(group.id)})
    assert r.status_code == 422 and "hết thời hạn góp ý" in r.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Opinion)) == 0
    assert "Đã hết thời hạn góp ý" in client.get(f"/c/{commune.slug}/consultations/{c.id}").get_data(as_text=True)


def test_empty_and_overlong_comments_refused_on_the_page(client, session):
    commune = make_commune(session)
    group = make_group(session, commune)
    c = make_consultation(session, commune, [])
    session.commit()
    url = f"/c/{commune.slug}/consultations/{c.id}/comment"
    for body, message in (("", "để trống"), ("a" * 10_001, "vượt quá 10.000 ký tự")):
        r = post_form(client, url, {"part_id": "0", "text": body, "name": "A", "group_id": str(group.id)})
        assert r.status_code == 422 and message in r.get_data(as_text=True)
    r = post_form(client, url, {"part_id": "999999", "text": "x", "name": "A", "group_id": str(group.id)})
    assert r.status_code in (200, 422) and session.scalar(select(func.count()).select_from(Opinion)) == 0


def test_resident_comments_are_rate_limited_per_browser(app, client, session):
    """Saved comments count per browser (a village behind one address: tests/web/test_public_posts.py)."""
    app.config["PUBLIC_POST_DEVICE_LIMIT"] = "3 per hour"
    commune = make_commune(session)
    group = make_group(session, commune)
    c = make_consultation(session, commune, [])
    session.commit()
    url = f"/c/{commune.slug}/consultations/{c.id}/comment"
    for i in range(3):
        assert post_form(client, url, {"part_id": "0", "text": f"ý kiến {i}", "name": "A",
                                       "group_id": str(group.id)}).status_code == 302
    r = post_form(client, url, {"part_id": "0", "text": "thêm", "name": "A", "group_id": str(group.id)})
    assert r.status_code == 429 and "quá nhiều lần" in r.get_data(as_text=True)


def test_unit_representative_agrees_or_comments(app, session):
    commune = make_commune(session)
    mttq = make_unit(session, commune, "Ủy ban MTTQ phường", kind="mttq")
    ccb = make_unit(session, commune, "Hội Cựu chiến binh phường")
    make_user(session, "mttq", "unit_rep", commune, unit=mttq)
    make_user(session, "ccb", "unit_rep", commune, unit=ccb)
    c = make_consultation(session, commune, [mttq, ccb])
    session.commit()
    a, b = app.test_client(), app.test_client()
    login(a, "mttq")
    r = post_form(a, f"/opinions/consultations/{c.id}", {"agree": "1"})
    assert r.status_code == 302
    assert "Nhất trí với dự thảo, không có ý kiến góp ý" in a.get(f"/opinions/consultations/{c.id}").get_data(as_text=True)
    login(b, "ccb")
    r = post_form(b, f"/opinions/consultations/{c.id}", {"part_id": str(c.parts[1].id), "text": "Sửa khoản 1"})
    assert r.status_code == 302
    rows = session.execute(text("SELECT agreed_without_comment, channel FROM unit_reply ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [(True, "online"), (False, "online")]


def test_officer_enters_a_paper_reply_with_its_scan(client, session):
    commune, _, units, secret = _officer(session)
    c = make_consultation(session, commune, units)
    session.commit()
    login(client, "tam.vptk", totp_secret=secret)
    data = {"unit_id": str(units[1].id), "kind": "comments", "letter_number": "07/CV-CCB",
            "letter_date": "01/10/2024", "attachment": (io.BytesIO(b"%PDF-1.5\nscan"), "cong-van.pdf"),
            "comments-0-part_id": str(c.parts[0].id), "comments-0-text": "Bổ sung Hội CCB vào Điều 1",
            "comments-1-part_id": "0", "comments-1-text": "Nhất trí phần còn lại"}
    r = post_form(client, f"/opinions/consultations/{c.id}/paper", data, content_type="multipart/form-data")
    assert r.status_code == 302, r.get_data(as_text=True)[-1500:]
    page = client.get(f"/consultations/{c.id}/replies").get_data(as_text=True)
    assert "Có 2 ý kiến góp ý" in page and "07/CV-CCB" in page and "nhập bởi" in page
    reply_id = session.scalar(text("SELECT id FROM unit_reply"))
    scan = client.get(f"/opinions/replies/{reply_id}/attachment")
    assert scan.data == b"%PDF-1.5\nscan" and scan.mimetype == "application/pdf"


def test_reply_tracking_and_printable_reminders(client, session):
    from consult.audit.service import SYSTEM
    from consult.opinions.service import add_unit_comments, agree_without_comment

    commune = make_commune(session)
    units = [make_unit(session, commune, f"Đơn vị số {i:02d}") for i in range(10)]
    secret = pyotp.random_base32()
    make_user(session, "tam.vptk", "officer", commune, totp=secret)
    c = make_consultation(session, commune, units)
    for u in units[:3]:
        agree_without_comment(session, SYSTEM, c, u.id)
    for u in units[3:7]:
        add_unit_comments(session, SYSTEM, c, u.id, [(None, "Góp ý")])
    session.commit()
    login(client, "tam.vptk", totp_secret=secret)
    page = client.get(f"/consultations/{c.id}/replies").get_data(as_text=True)
    assert "<b>7/10</b>" in page and "<b>3</b>nhất trí" in page
    reminders = client.get(f"/consultations/{c.id}/reminders").get_data(as_text=True)
    for u in units[7:]:
        assert u.name in reminders
    for u in units[:7]:
        assert u.name not in reminders


def test_officer_extends_and_the_change_is_public(client, session):
    commune, _, units, secret = _officer(session)
    c = make_consultation(session, commune, units)
    session.commit()
    login(client, "tam.vptk", totp_secret=secret)
    new_close = format_datetime(c.closes_at + timedelta(days=5))
    r = post_form(client, f"/consultations/{c.id}/extend", {"closes_at": new_close, "reason": "Đề nghị của MTTQ"})
    assert r.status_code == 302
    public = client.get(f"/c/{commune.slug}/consultations/{c.id}").get_data(as_text=True)
    assert "Gia hạn" in public and new_close in public and "Đề nghị của MTTQ" in public


def test_parse_draft_command_prints_json(runner, tmp_path):
    seed = SEEDS / "muong-kim-to-trinh-va-du-thao-nghi-quyet.txt"
    result = runner.invoke(args=["parse-draft", str(seed)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"preamble", "closing", "parts", "source"}
    assert data["source"] == {"filename": seed.name, "format": "txt", "had_revisions": False,
                              "footnotes": 0}
    article4 = data["parts"][3]
    assert (article4["kind"], article4["number"], article4["label"], article4["title"]) == (
        "article", "4", "Điều 4", "Biện pháp thực hiện")
    assert article4["children"][0]["children"][0]["anchor"] == "dieu-4-khoan-1-diem-a"
    empty = tmp_path / "rong.txt"
    empty.write_text("Không có điều nào.", encoding="utf-8")
    bad = runner.invoke(args=["parse-draft", str(empty)])
    assert bad.exit_code != 0 and "Không tìm thấy phần nào" in bad.output


def test_parse_draft_command_reads_docx(runner, tmp_path):
    from docx import Document

    document = Document()
    for block in (SEEDS / "binh-an-cong-van-va-du-thao-nghi-quyet.txt").read_text(encoding="utf-8").split("\n\n"):
        document.add_paragraph(block.replace("\n", " "))
    path = tmp_path / "du-thao.docx"
    document.save(path)
    result = runner.invoke(args=["parse-draft", str(path)])
    assert result.exit_code == 0 and [p["label"] for p in json.loads(result.output)["parts"]] == [
        "Điều 1", "Điều 2", "Điều 3"]


def test_demo_loads_an_open_binh_an_consultation(runner, session, client, now):
    runner.invoke(args=["demo"])
    from consult.documents.models import OutgoingDocument

    c = session.scalar(select(Consultation).where(Consultation.status == "open"))
    # the plan before publication (Luật Điều 28 khoản 1), then the letter, from the register (NĐ 30)
    entries = session.scalars(select(OutgoingDocument).where(OutgoingDocument.consultation_id == c.id)
                              .order_by(OutgoingDocument.year, OutgoingDocument.number)).all()
    assert [e.kind for e in entries] == ["plan", "letter"]
    # The next number, or 01 of a new year (NĐ 30: numbers restart each 1 January).
    assert (entries[1].year, entries[1].number) in ((entries[0].year, entries[0].number + 1), (entries[0].year + 1, 1))
    assert entries[0].issued_on < entries[1].issued_on <= c.opens_at.date() + timedelta(days=1)
    assert c.accepts_opinions(now) and c.letter_number == entries[1].reference
    assert (c.closes_at - c.opens_at).days == 21
    assert session.scalar(select(func.count()).select_from(Opinion)) >= 5
    page = client.get(f"/c/phuong-binh-an/consultations/{c.id}").get_data(as_text=True)
    assert "Đang lấy ý kiến" in page


def test_the_demo_walks_one_consultation_through_every_step(runner, session):
    """Issue: the plan (Luật Điều 28 khoản 1), the letter and its number (NĐ 30), publication at every
    place the law names (Điều 13), the synthesis report and the results published (Điều 28 khoản 3),
    the report to the HĐND (khoản 5); and the demo's hương ước (NĐ 61/2023) recognised."""
    from consult.covenants import service as covenants
    from consult.covenants.models import Covenant
    from consult.documents.models import OutgoingDocument
    from consult.publication import service as publication

    runner.invoke(args=["demo"])
    c = session.scalar(select(Consultation).where(Consultation.status == "published"))
    kinds = session.scalars(select(OutgoingDocument.kind).where(OutgoingDocument.consultation_id == c.id)
                            .order_by(OutgoingDocument.year, OutgoingDocument.number)).all()
    assert kinds == ["plan", "letter", "report", "hdnd"]
    for subject in ("draft", "results"):
        places = publication.checklist(session, c, subject)
        assert places and all(p.state == publication.DONE for p in places), (subject, places)
    assert publication.period_shortfall(c, publication.real_start(session, c)) is None
    stages = {cov.title: covenants.progress(session, cov).stage for cov in session.scalars(select(Covenant))}
    assert stages == {"Hương ước khu phố 2": covenants.RECOGNISED,
                      "Quy ước giữ gìn vệ sinh khu phố 3": covenants.COMMENTS}


def test_the_check_page_points_at_doubts_and_indents_a_part(client, session):
    """Issue: after a wrong parse the officer rebuilds the tree from the check page."""
    from tests.support.helpers import make_consultation

    commune, _, units, secret = _officer(session)
    flat = "DỰ THẢO\n1. Một.\n2. Hai.\n3. Ba.\n4. Bốn.\n"
    c = make_consultation(session, commune, units, text=flat, publish=False)
    session.commit()
    login(client, "tam.vptk", totp_secret=secret)
    page = client.get(f"/consultations/{c.id}").get_data(as_text=True)
    assert 'id="doubts"' in page and "danh sách phẳng" in page and "Thụt vào" in page
    fourth = c.parts[3]
    r = post_form(client, f"/consultations/{c.id}/parts/{fourth.id}/indent", {}, get_url=f"/consultations/{c.id}")
    assert r.status_code == 302
    session.rollback()
    session.expire_all()
    from consult.consultations.models import DraftPart

    moved = session.get(DraftPart, fourth.id)
    assert moved.kind == "point" and moved.parent_id == c.parts[2].id


def test_a_draft_table_is_shown_as_a_table_and_a_resident_comments_on_one_row(client, session):
    """Issue #27 point 2: the rows of a draft's table are parts: the public page shows a real
    table, each row with its count and its own "Góp ý" link; the comment lands on that row."""
    from tests.support.drafts import TABLE_DRAFT

    commune = make_commune(session)
    group = make_group(session, commune)
    c = make_consultation(session, commune, [], text=TABLE_DRAFT)
    session.commit()
    row = next(p for p in c.parts if p.label == "Điều 1, khoản 1, dòng 2")
    page = client.get(f"/c/{commune.slug}/consultations/{c.id}").get_data(as_text=True)
    table = page[page.index('<table class="table part-table">'):page.index("</table>")]
    assert [th for th in ("STT", "Khoản thu", "Mức thu") if f'<th scope="col">{th}</th>' in table] == [
        "STT", "Khoản thu", "Mức thu"]
    assert '<tr class="part-row" id="dieu-1-khoan-1-dong-2">' in table and "<td>Quỹ đền ơn đáp nghĩa</td>" in table
    assert "| STT |" not in page and "| 2 |" not in page  # no pipes left in the text
    link = f"/c/{commune.slug}/consultations/{c.id}/comment?part={row.id}"
    assert link in table.replace("&amp;", "&")
    form_page = client.get(link).get_data(as_text=True)
    assert "Điều 1, khoản 1, dòng 2" in form_page and "2 · Quỹ đền ơn đáp nghĩa · 10.000 đồng/hộ" in form_page
    r = post_form(client, f"/c/{commune.slug}/consultations/{c.id}/comment",
                  {"part_id": str(row.id), "text": "Đề nghị giảm mức thu.", "name": "Lê Văn Bình",
                   "group_id": str(group.id), "phone": ""})
    assert r.status_code == 302 and session.scalar(select(Opinion.part_id)) == row.id
    page = client.get(f"/c/{commune.slug}/consultations/{c.id}").get_data(as_text=True)
    row_html = page[page.index('id="dieu-1-khoan-1-dong-2"'):]
    assert row_html[:row_html.index("</tr>")].count("1 ý kiến") == 1
