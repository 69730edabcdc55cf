"""The plan, the letter asking for opinions and the register of outgoing documents
(Luật Điều 26 khoản 1, Điều 28 khoản 1; NĐ 30/2020 Điều 15 for the numbers)."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from sqlalchemy import update

from consult.audit.service import SYSTEM
from consult.consultations.parser import text_from_docx
from consult.documents import service
from consult.documents.docx import hdnd_docx, letter_docx, plan_docx
from consult.opinions.service import add_resident_opinion
from consult.reports import service as reports
from consult.reports.models import OpinionCluster
from consult.timeutil import today, utcnow
from tests.support.drafts import seed_as_docx, typed_variants_draft
from tests.support.helpers import SEEDS, make_commune, make_consultation, make_group, make_unit


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
    assert "Kính gửi:" in text and "- Hội Nông dân phường;" in text and "- Ủy ban MTTQ phường." in text
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


# --- issue #23: the draft attached as written (point 11), NĐ 30 layout (point 12), the HĐND report (point 14) ---

APP_SEEDS = Path(__file__).resolve().parents[2] / "consult" / "seeds"
CHAPTERED_DRAFT = """DỰ THẢO
QUY CHẾ
Lấy ý kiến Nhân dân trên địa bàn phường
Chương I
QUY ĐỊNH CHUNG
Điều 1. Phạm vi điều chỉnh
Quy chế này quy định việc lấy ý kiến Nhân dân.
Chương II
TỔ CHỨC THỰC HIỆN
Điều 2. Hiệu lực thi hành
Quy chế có hiệu lực kể từ ngày ký./.
"""
SMALL_DRAFT_TEXT = """DỰ THẢO NGHỊ QUYẾT
QUYẾT NGHỊ:
Điều 1. Phạm vi
1. Khoản một.
Điều 2. Tổ chức thực hiện
Giao Ủy ban nhân dân tổ chức thực hiện./.
"""


def _letter(session, text: str, units=("Hội Nông dân phường", "Ủy ban MTTQ phường")) -> Document:
    commune = make_commune(session)
    c = make_consultation(session, commune, [make_unit(session, commune, name) for name in units], text=text)
    session.flush()
    return Document(io.BytesIO(letter_docx(c, None, plan_entry=None, signer_mode="TM", signer_name="Vũ Thị Hiền",
                                           reply_url="https://binhan.example.vn/opinions/")))


def _attachment(document: Document) -> list:
    """The paragraphs of the draft attached to the letter, after its "DỰ THẢO" and "(Kèm theo ...)"."""
    paragraphs = document.paragraphs
    start = next(i for i, p in enumerate(paragraphs) if p.text == "DỰ THẢO")
    return [p for p in paragraphs[start + 2:] if p.text.strip()]


@pytest.mark.parametrize("source,kind,draft_title,headings,closing", [
    pytest.param(SEEDS / "binh-an-cong-van-va-du-thao-nghi-quyet.txt", "NGHỊ QUYẾT",
                 "Quy định các biện pháp bảo đảm thực hiện dân chủ ở cơ sở trên địa bàn phường Bình An",
                 ["QUYẾT NGHỊ:", "Điều 1. Thông qua các biện pháp bảo đảm thực hiện dân chủ ở cơ sở trên địa bàn "
                  "phường Bình An, như sau:", "Điều 2. Kinh phí thực hiện", "Điều 3. Tổ chức thực hiện"],
                 "Nghị quyết này đã được Hội đồng nhân dân phường Bình An khóa XII, kỳ họp thứ 12 thông qua ngày "
                 "tháng năm 2024 và có hiệu lực kể từ ngày thông qua./.", id="binh-an"),
    pytest.param(SEEDS / "muong-kim-to-trinh-va-du-thao-nghi-quyet.txt", "NGHỊ QUYẾT",
                 "Quyết định các biện pháp bảo đảm thực hiện dân chủ ở cơ sở trên địa bàn xã Mường Kim",
                 ["QUYẾT NGHỊ:", "Điều 1. Phạm vi điều chỉnh, đối tượng áp dụng", "Điều 7. Điều khoản thi hành"],
                 "Nghị quyết này được Hội đồng nhân dân xã Mường Kim khóa XXI, kỳ họp thứ tư thông qua ngày 12 tháng "
                 "11 năm 2025", id="muong-kim"),
    pytest.param(APP_SEEDS / "binh-an-ke-hoach-chinh-trang-khu-pho.txt", "KẾ HOẠCH",
                 "Chỉnh trang đô thị, lắp đặt đèn chiếu sáng các hẻm trên địa bàn khu phố 1 và khu phố 2",
                 ["I. MỤC ĐÍCH, YÊU CẦU", "II. NỘI DUNG THỰC HIỆN", "III. TỔ CHỨC THỰC HIỆN"],
                 "Giao Văn phòng - Thống kê phường chủ trì, phối hợp Ban điều hành các khu phố tổ chức thực hiện Kế "
                 "hoạch này./.", id="ke-hoach"),
    pytest.param("ke-hoach.docx", "KẾ HOẠCH",
                 "Chỉnh trang đô thị, lắp đặt đèn chiếu sáng các hẻm trên địa bàn khu phố 1 và khu phố 2",
                 ["I. MỤC ĐÍCH, YÊU CẦU", "II. NỘI DUNG THỰC HIỆN", "III. TỔ CHỨC THỰC HIỆN"],
                 "tổ chức thực hiện Kế hoạch này./.", id="ke-hoach-typed-in-word"),
    pytest.param("typed-variants.docx", "QUY CHẾ", "Về dân chủ ở cơ sở",
                 ["QUYẾT NGHỊ:", "Điều 1. PHẠM VI ĐIỀU CHỈNH", "Điều 2. Nguyên tắc", "Điều 4a. Lấy ý kiến trực tuyến",
                  "Điều 5. Hiệu lực"], "Quy chế có hiệu lực kể từ ngày ký./.", id="typed-variants"),
    pytest.param("chaptered", "QUY CHẾ", "Lấy ý kiến Nhân dân trên địa bàn phường",
                 ["Chương I", "QUY ĐỊNH CHUNG", "Điều 1. Phạm vi điều chỉnh", "Chương II", "TỔ CHỨC THỰC HIỆN",
                  "Điều 2. Hiệu lực thi hành"], "Quy chế có hiệu lực kể từ ngày ký./.", id="chapters"),
])
def test_the_draft_attached_to_the_letter_keeps_its_title_headings_and_closing_clause(
        session, source, kind, draft_title, headings, closing):
    """Issue #23 point 11: the draft sent to the units is the draft as written: its kind and title,
    each part under the heading its drafter typed ("I.", "Chương I", "Điều 1."; the parser's "Mục I"
    is a citation, not a heading), and its closing clause."""
    if source == "ke-hoach.docx":
        text = text_from_docx(seed_as_docx((APP_SEEDS / "binh-an-ke-hoach-chinh-trang-khu-pho.txt").read_text("utf-8")))
    elif source == "typed-variants.docx":
        text = text_from_docx(typed_variants_draft())
    elif source == "chaptered":
        text = CHAPTERED_DRAFT
    else:
        text = Path(source).read_text("utf-8")
    lines = [p.text for p in _attachment(_letter(session, text))]
    assert lines[0] == kind and lines[1] == draft_title
    positions = [lines.index(h) for h in headings]  # each heading a paragraph of its own, in order
    assert positions == sorted(positions)
    assert not any(line.startswith("Mục I") for line in lines)
    assert closing in lines[-1]  # the closing clause ends the draft
    assert not any(line.startswith(("Nơi nhận", "CHỦ TỊCH")) for line in lines)  # not the draft's signature


def test_the_attached_draft_heads_a_roman_section_i_and_keeps_a_clause_heading_apart_from_its_text(session):
    """Issue #23 point 11: "I. MỤC ĐÍCH, YÊU CẦU" in bold as typed; "1. Mục đích" over its text."""
    paragraphs = _attachment(_letter(session, (APP_SEEDS / "binh-an-ke-hoach-chinh-trang-khu-pho.txt")
                                     .read_text("utf-8")))
    heading = next(p for p in paragraphs if p.text == "I. MỤC ĐÍCH, YÊU CẦU")
    assert all(run.bold for run in heading.runs)
    texts = [p.text for p in paragraphs]
    at = texts.index("1. Mục đích")
    assert texts[at + 1].startswith("Bảo đảm an ninh, trật tự và mỹ quan đô thị")


def test_nd30_trich_yeu_under_so_in_the_left_column_centred_12pt(session):
    """Issue #23 point 12; NĐ 30 Phụ lục I: a công văn's trích yếu ("V/v ...") stands under its number,
    in the header's left column, centred, 12 pt, upright."""
    document = _letter(session, SMALL_DRAFT_TEXT)
    cell = document.tables[0].cell(1, 0)
    texts = [p.text for p in cell.paragraphs]
    assert texts[0].startswith("Số:") and texts[1].startswith("V/v lấy ý kiến góp ý dự thảo Nghị quyết")
    v_v = cell.paragraphs[1]
    assert v_v.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert all(run.font.size.pt == 12 and not run.bold and not run.italic for run in v_v.runs)
    assert not any(p.text.startswith("V/v") for p in document.paragraphs)  # not a full-width line


def test_nd30_kinh_gui_regular_14pt_several_addressees_as_dashes_under_the_colon_the_last_ending_with_a_full_stop(
        session):
    """Issue #23 point 12; NĐ 30 Phụ lục I: "Kính gửi:" regular 14 pt; several addressees each on a
    line "- ...;", the dashes aligned under the colon, the last ending with "."."""
    document = _letter(session, SMALL_DRAFT_TEXT, units=("Hội Nông dân phường", "Ủy ban MTTQ phường",
                                                         "Đoàn Thanh niên phường"))
    paragraphs = document.paragraphs
    at = next(i for i, p in enumerate(paragraphs) if p.text.startswith("Kính gửi"))
    lead, items = paragraphs[at], paragraphs[at + 1:at + 4]
    assert lead.text == "Kính gửi:"
    texts = [p.text for p in items]
    assert {t[2:-1] for t in texts} == {"Đoàn Thanh niên phường", "Hội Nông dân phường", "Ủy ban MTTQ phường"}
    assert all(t.startswith("- ") for t in texts) and [t[-1] for t in texts] == [";", ";", "."]
    for p in [lead, *items]:
        assert p.alignment in (None, WD_ALIGN_PARAGRAPH.LEFT)  # not centred line by line
        assert all(not run.bold and run.font.size.pt == 14 for run in p.runs)
    dash = {round((p.paragraph_format.left_indent + p.paragraph_format.first_line_indent) / 360000, 2) for p in items}
    assert len(dash) == 1 and dash.pop() > lead.paragraph_format.left_indent.cm  # aligned, under the colon


def test_nd30_kinh_gui_a_single_addressee_on_the_same_line(session):
    """NĐ 30 Phụ lục I: one addressee stands on the line of "Kính gửi:", ending with "."."""
    document = _letter(session, SMALL_DRAFT_TEXT, units=("Hội Nông dân phường",))
    assert any(p.text == "Kính gửi: Hội Nông dân phường." for p in document.paragraphs)


def _justified_with_breaks(document: Document) -> list[str]:
    return [p.text[:60] for p in document.paragraphs
            if p.alignment == WD_ALIGN_PARAGRAPH.JUSTIFY and p._p.findall(".//" + qn("w:br"))]


def test_nd30_no_justified_line_ends_with_a_manual_line_break(session):
    """Issue #23 point 12: a justified line ending with a manual break is stretched across the page
    ("1. Mục đích" over its text in the plan's seed); each line is a paragraph of its own, and the
    documents tell Word and LibreOffice not to stretch such a line (w:doNotExpandShiftReturn)."""
    document = _letter(session, (APP_SEEDS / "binh-an-ke-hoach-chinh-trang-khu-pho.txt").read_text("utf-8"))
    assert _justified_with_breaks(document) == []
    compat = document.settings.element.find(qn("w:compat"))
    assert compat is not None and compat.find(qn("w:doNotExpandShiftReturn")) is not None


def test_nd30_the_plan_body_ends_with_dot_slash_dot(session):
    """Issue #23 point 12; NĐ 30 Phụ lục I: the body of a văn bản ends with "./."."""
    commune = make_commune(session)
    c = make_consultation(session, commune, [], publish=False)
    service.save_plan(session, SYSTEM, c, service.default_plan(c))
    document = Document(io.BytesIO(plan_docx(c, service.plan_for(session, c)[0], None)))
    last = [p.text for p in document.paragraphs if p.text.strip()][-1]
    assert last.startswith("Trên đây là Kế hoạch") and last.endswith("./.")
    assert _justified_with_breaks(document) == []



def _three_opinions_two_alike(session, *, publish: bool):
    """Three residents' opinions, two of them alike (one nội dung), answered: the two explained, one accepted."""
    commune = make_commune(session)
    group = make_group(session, commune)
    start = utcnow() - timedelta(days=30)
    c = make_consultation(session, commune, [], now=start, days=21 if publish else 45)
    part = c.parts[0].id
    for name, text in (("Lan", "Không nên thu thêm tiền của các hộ."), ("Hoa", "Không nên thu thêm tiền của các hộ."),
                       ("Bình", "Đề nghị công khai trên loa truyền thanh.")):
        add_resident_opinion(session, c, part_id=part, text=text, name=name, group_id=group.id,
                             now=start + timedelta(days=1))
    reports.sync_clusters(session, c)
    for row in reports.report_data(session, c).rows():
        if row.text.startswith("Không nên"):
            reports.decide(session, SYSTEM, c, row.cluster.id, decision="not_accepted",
                           explanation="Khoản thu là tự nguyện.")
        else:
            reports.decide(session, SYSTEM, c, row.cluster.id, decision="accepted")
    if publish:
        reports.publish_results(session, SYSTEM, c)
    return c


def _hdnd_text(session, c) -> str:
    return _text(hdnd_docx(c, reports.report_data(session, c, public=True), None, signer_mode="TM",
                           signer_name="Vũ Thị Hiền", results_url="https://binhan.example.vn/r"))


def test_hdnd_report_counts_the_same_opinions_in_part_i_and_part_ii(session):
    """Issue #23 point 14: both parts count opinions received (identical ones answered together are one
    nội dung, and say so): 3 opinions, 1 accepted and 2 explained, in part I as in part II."""
    import re

    text = _hdnd_text(session, _three_opinions_two_alike(session, publish=True))
    part_one, part_two = text.split("II. KẾT QUẢ TIẾP THU, GIẢI TRÌNH")
    assert "Tổng số ý kiến góp ý: 3; đã tiếp thu 1 ý kiến" in part_one
    assert "giải trình (không tiếp thu) 2 ý kiến" in part_one
    assert "Trong tổng số 3 ý kiến góp ý (2 nội dung" in part_two
    assert "đã tiếp thu 1 ý kiến" in part_two and "giải trình (không tiếp thu) 2 ý kiến" in part_two
    assert "- Không tiếp thu (2 ý kiến): “Không nên thu thêm tiền của các hộ.” — Khoản thu là tự nguyện." in part_two
    assert not re.search(r"\d+ nội dung và giải trình", part_two)  # no count of rows passed off as opinions
    assert "Kính gửi: Hội đồng nhân dân phường Bình An." in part_one


def test_hdnd_report_preview_of_an_open_consultation_does_not_say_its_results_are_public(session):
    """Issue #23 point 14 (Luật Điều 28 khoản 3): results are "đã được công khai" only once published."""
    c = _three_opinions_two_alike(session, publish=False)
    text = _hdnd_text(session, c)
    assert "đã được công khai" not in text
    assert "chưa được công khai; sẽ được công khai tại https://binhan.example.vn/r" in text


def test_the_attached_draft_keeps_its_table_as_a_word_table(session):
    """Issue #27 point 2: a draft's table (its rows are parts of their own) goes to the units
    as a bordered Word table with its header row, not as lines of "| cell |"."""
    from tests.support.drafts import TABLE_DRAFT

    document = _letter(session, TABLE_DRAFT)
    assert not any("|" in p.text for p in _attachment(document))
    tables = [t for t in document.tables if t.rows and t.rows[0].cells[0].text == "STT"]
    assert len(tables) == 1
    rows = [[cell.text for cell in row.cells] for row in tables[0].rows]
    assert rows == [["STT", "Khoản thu", "Mức thu"], ["1", "Quỹ phòng, chống thiên tai", "20.000 đồng/người"],
                    ["2", "Quỹ đền ơn đáp nghĩa", "10.000 đồng/hộ"]]
    assert all(run.bold for run in tables[0].rows[0].cells[1].paragraphs[0].runs)
    texts = [p.text for p in _attachment(document)]
    assert "1. Các khoản thu được công khai theo bảng sau:" in texts
    # The table stands right after its khoản, before khoản 2.
    body = document.element.body
    order = [child for child in body.iterchildren()]
    table_at = order.index(tables[0]._tbl)
    after = next(el for el in order[table_at + 1:] if el.tag.endswith("}p") and "".join(el.itertext()).strip())
    assert "".join(after.itertext()).startswith("2. Thời điểm công khai")
