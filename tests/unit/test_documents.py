"""The plan, the letter asking for opinions and the register of outgoing documents
(Luật Điều 26 khoản 1, Điều 28 khoản 1; NĐ 30/2020 Điều 15 for the numbers)."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from docx import Document
from sqlalchemy import update

from consult.audit.service import SYSTEM
from consult.documents import service
from consult.documents.docx import hdnd_docx, letter_docx, plan_docx
from consult.opinions.service import add_resident_opinion
from consult.reports import service as reports
from consult.reports.models import OpinionCluster
from consult.timeutil import today, utcnow
from tests.support.helpers import make_commune, make_consultation, make_group, make_unit


def _text(data: bytes) -> str:
    document = Document(io.BytesIO(data))
    return "\n".join([p.text for p in document.paragraphs]
                     + [c.text for t in document.tables for r in t.rows for c in r.cells])


def test_numbers_run_from_01_each_year_one_sequence_per_commune(session):
    """NĐ 30/2020 Điều 15: numbered from 01 on 1 January to 31 December, per issuing body."""
    a, b = make_commune(session), make_commune(session, name="Tân Đông Hiệp")
    first = service.take_number(session, SYSTEM, a, "plan", "Kế hoạch A", date(2026, 3, 2))
    second = service.take_number(session, SYSTEM, a, "letter", "Công văn A", date(2026, 3, 2))
    other = service.take_number(session, SYSTEM, b, "report", "Báo cáo B", date(2026, 3, 3))
    next_year = service.take_number(session, SYSTEM, a, "report", "Báo cáo A", date(2027, 1, 1))
    assert [first.reference, second.reference, other.reference, next_year.reference] == [
        "01/KH-UBND", "02/UBND", "01/BC-UBND", "01/BC-UBND"]
    assert [e.reference for e in service.register(session, a.id, 2026)] == ["01/KH-UBND", "02/UBND"]


def test_a_consultation_takes_one_number_for_its_plan_however_often_asked(session):
    commune = make_commune(session)
    c = make_consultation(session, commune, [make_unit(session, commune, "Hội Nông dân")], publish=False)
    service.save_plan(session, SYSTEM, c, service.default_plan(c))
    first = service.issue_plan(session, SYSTEM, c)
    assert service.issue_plan(session, SYSTEM, c) is first
    assert len(service.register(session, commune.id, first.year)) == 1
    with pytest.raises(service.DocumentError, match="đã được ban hành"):
        service.save_plan(session, SYSTEM, c, service.default_plan(c))


def test_the_plan_comes_before_the_draft_is_published(session):
    """Luật Điều 28 khoản 1: the plan is made before publication; a plan dated after it is refused."""
    commune = make_commune(session)
    c = make_consultation(session, commune, [], now=utcnow() - timedelta(days=3))  # published 3 days ago
    service.save_plan(session, SYSTEM, c, service.default_plan(c))
    with pytest.raises(service.DocumentError, match="trước khi công khai dự thảo"):
        service.issue_plan(session, SYSTEM, c)
    entry = service.issue_plan(session, SYSTEM, c, (utcnow() - timedelta(days=5)).date())
    assert entry.reference == "01/KH-UBND"


def test_a_plan_needs_a_form_of_article_26(session):
    commune = make_commune(session)
    c = make_consultation(session, commune, [], publish=False)
    plan = service.default_plan(c)
    plan.forms = []
    with pytest.raises(service.DocumentError, match="Điều 26"):
        service.save_plan(session, SYSTEM, c, plan)


def test_the_plan_docx_names_its_forms_and_goes_to_the_hdnd_and_the_front(session):
    commune = make_commune(session)
    c = make_consultation(session, commune, [], publish=False)
    plan = service.default_plan(c)
    plan.forms, plan.signer_name = ["portal", "meeting", "ballot"], "Nguyễn Văn Chủ"
    service.save_plan(session, SYSTEM, c, plan)
    entry = service.issue_plan(session, SYSTEM, c, date(2026, 1, 5))
    text = _text(plan_docx(c, service.plan_for(session, c)[0], entry))
    assert "Số: 01/KH-UBND" in text and "Bình An, ngày 05 tháng 01 năm 2026" in text and "KẾ HOẠCH" in text
    for heading in ("I. MỤC ĐÍCH, YÊU CẦU", "II. NỘI DUNG LẤY Ý KIẾN", "III. HÌNH THỨC LẤY Ý KIẾN",
                    "IV. CÁCH THỨC THỰC HIỆN", "V. THỜI GIAN THỰC HIỆN", "VI. TỔ CHỨC THỰC HIỆN"):
        assert heading in text, heading
    assert "Tổ chức hội nghị, cuộc họp lấy ý kiến" in text and "Phát phiếu lấy ý kiến" in text
    assert "mạng xã hội" not in text.lower()  # a form not chosen
    assert "- Thường trực HĐND phường Bình An;" in text and "- Ủy ban MTTQ Việt Nam phường Bình An;" in text
    assert "TM. ỦY BAN NHÂN DÂN" in text and "Nguyễn Văn Chủ" in text


def test_the_letter_asks_every_invited_unit_for_a_written_answer_with_the_draft_attached(session):
    """As the seed letter 491/UBND: units answer in writing, "nhất trí, không có ý kiến" included."""
    commune = make_commune(session)
    units = [make_unit(session, commune, name) for name in ("Hội Nông dân phường", "Ủy ban MTTQ phường")]
    c = make_consultation(session, commune, units)
    session.flush()
    plan_day = today()  # the same year as the letter's: numbers restart each 1 January
    plan = service.take_number(session, SYSTEM, commune, "plan", "Kế hoạch", plan_day, consultation_id=c.id)
    entry = service.issue_letter(session, SYSTEM, c, signer="Trần Phó")
    text = _text(letter_docx(c, entry, plan_entry=plan, signer_mode="KT", signer_name="Trần Phó",
                             reply_url="https://binhan.example.vn/opinions/"))
    assert f"Số: {entry.reference}" in text and entry.reference == "02/UBND"
    assert "Kính gửi:" in text and "- Hội Nông dân phường;" in text and "- Ủy ban MTTQ phường;" in text
    assert "kể cả trường hợp nhất trí, không có ý kiến" in text
    assert f"Thực hiện Kế hoạch số 01/KH-UBND ngày {plan_day:%d/%m/%Y}" in text
    assert f"trước {service._deadline(c)}, hoặc gửi trực tuyến tại https://binhan.example.vn/opinions/" in text
    assert "KT. CHỦ TỊCH" in text and "PHÓ CHỦ TỊCH" in text
    assert "DỰ THẢO" in text and f"(Kèm theo Công văn số {entry.reference}" in text and "Điều 1." in text


def _closed_with_one_opinion(session, text: str):
    """A consultation whose period has ended, with one resident's opinion in its group."""
    commune = make_commune(session)
    group = make_group(session, commune)
    start = utcnow() - timedelta(days=30)
    c = make_consultation(session, commune, [], now=start, days=21)
    add_resident_opinion(session, c, part_id=None, text=text, name="Lan", group_id=group.id,
                         now=start + timedelta(days=1))
    reports.sync_clusters(session, c)
    return commune, c


def _answer_all(session, decision: str, explanation: str | None = None) -> None:
    session.execute(update(OpinionCluster).values(decision=decision, explanation=explanation, decided_by="Tâm",
                                                  decided_at=utcnow()))


def test_a_report_published_without_a_number_takes_the_next_one_of_the_register(session):
    """The same register numbers reports, plans and letters (NĐ 30); a number typed by the officer is kept."""
    commune, c = _closed_with_one_opinion(session, "Đề nghị công khai trên loa.")
    _answer_all(session, "accepted")
    service.take_number(session, SYSTEM, commune, "letter", "Công văn khác", today())
    reports.publish_results(session, SYSTEM, c)
    assert reports.settings_for(session, c).number == "02/BC-UBND"
    assert [e.reference for e in service.register(session, commune.id, today().year)] == ["01/UBND", "02/BC-UBND"]


def test_the_hdnd_report_comes_after_the_results_are_public(session):
    """Luật Điều 28 khoản 5 (after khoản 3): the HĐND hears the outcome once it is public."""
    _, c = _closed_with_one_opinion(session, "Không nên thu thêm tiền.")
    with pytest.raises(service.DocumentError, match="sau khi đã công khai kết quả"):
        service.issue_hdnd_report(session, SYSTEM, c)
    _answer_all(session, "not_accepted", "Khoản thu là tự nguyện.")
    reports.publish_results(session, SYSTEM, c)
    entry = service.issue_hdnd_report(session, SYSTEM, c, signer="Vũ Thị Hiền")
    assert entry.reference == "02/BC-UBND"  # after the synthesis report's 01/BC-UBND
    from consult.publication import service as publication

    posted = publication.record_posting(session, SYSTEM, c, publication.PostingInput(
        subject="results", channel="office", posted_on=today(), confirmed_by="Lê Thị Tâm"))
    text = _text(hdnd_docx(c, reports.report_data(session, c, public=True), entry, signer_mode="TM",
                           signer_name="Vũ Thị Hiền", results_url="https://binhan.example.vn/r", postings=[posted]))
    assert "Kính gửi: Hội đồng nhân dân phường Bình An" in text and "Số: 02/BC-UBND" in text
    # Published where the draft was (Điều 28 khoản 3; Điều 13 khoản 2), as recorded.
    assert f"; Trụ sở Ủy ban nhân dân Phường Bình An (từ ngày {today():%d/%m/%Y})." in text
    assert "Không tiếp thu: “Không nên thu thêm tiền.” — Khoản thu là tự nguyện." in text
    assert "công khai tại https://binhan.example.vn/r" in text and "- Thường trực HĐND phường Bình An;" in text
