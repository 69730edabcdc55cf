"""Synthesis and response: grouping, decisions, and the report read back from .docx and .xlsx."""

import io
import re
from datetime import date, timedelta

import pytest
from docx import Document
from docx.shared import Emu
from openpyxl import load_workbook
from sqlalchemy import func, select

from consult.audit.service import SYSTEM
from consult.opinions.service import add_resident_opinion, add_unit_comments, agree_without_comment
from consult.reports import service
from consult.reports.docx_export import build_docx
from consult.reports.models import OpinionCluster
from consult.reports.xlsx_export import build_xlsx
from tests.support.helpers import SEEDS, make_commune, make_consultation, make_group, make_unit



def test_normalize_and_similarity():
    assert service.normalize("  Đề nghị   BỔ SUNG, điểm a! ") == "đề nghị bổ sung điểm a"
    a = service.normalize("Đề nghị bổ sung hình thức tuyên truyền qua loa phát thanh của khu phố")
    b = service.normalize("Đề nghị bổ sung thêm hình thức tuyên truyền qua loa phát thanh của các khu phố")
    c = service.normalize("Đề nghị bỏ điểm này vì không phù hợp với thực tế địa phương hiện nay")
    assert service.similar(a, b) and not service.similar(a, c)


@pytest.fixture
def world(session):
    commune = make_commune(session)
    groups = [make_group(session, commune, name=f"Khu phố {i}", position=i) for i in range(1, 4)]
    units = [make_unit(session, commune, name) for name in (
        "Ủy ban MTTQ Việt Nam phường", "Hội Liên hiệp Phụ nữ phường", "Hội Cựu chiến binh phường",
        "Công an phường", "Ban điều hành khu phố 1")]
    consultation = make_consultation(session, commune, units,
                                     text=(SEEDS / "binh-an-cong-van-va-du-thao-nghi-quyet.txt").read_text("utf-8"))
    session.commit()
    return commune, groups, units, consultation


def _part(c, label):
    return next(p.id for p in c.parts if p.label == label)


def test_fifty_identical_sentences_form_one_group_answered_once(session, world):
    _, groups, _, c = world
    variants = ["Đề nghị bổ sung tuyên truyền qua loa phát thanh.", "đề nghị bổ sung tuyên truyền qua loa phát thanh",
                "Đề nghị  bổ sung tuyên truyền, qua loa phát thanh!", "ĐỀ NGHỊ BỔ SUNG TUYÊN TRUYỀN QUA LOA PHÁT THANH"]
    part = _part(c, "Điều 1, khoản 2, điểm b")
    for i in range(50):
        add_resident_opinion(session, c, part_id=part, text=variants[i % 4], name=f"Người dân {i:02d}",
                             group_id=groups[i % 3].id)
    add_resident_opinion(session, c, part_id=part, text="Nên khen thưởng các tổ tự quản làm tốt công tác này.",
                         name="Khác", group_id=groups[0].id)
    data = service.report_data(session, c)
    rows = list(data.rows())
    assert sorted(r.count for r in rows) == [1, 50]
    big = next(r for r in rows if r.count == 50)
    service.decide(session, SYSTEM, c, big.cluster.id, decision="accepted", explanation="Bổ sung vào điểm b.")
    session.commit()
    data = service.report_data(session, c)
    assert data.counts["accepted"] == 50 and data.undecided == 1
    document = Document(io.BytesIO(build_docx(data)))
    table = document.tables[1]
    body = [[cell.text for cell in row.cells] for row in table.rows[1:]]
    grouped = next(row for row in body if row[3].startswith("50 ý kiến"))
    assert grouped[4] == "Tiếp thu. Bổ sung vào điểm b."
    assert all(f"Người dân {i:02d}" in grouped[3] for i in range(50))


def test_officer_splits_an_opinion_that_does_not_belong(session, world):
    _, groups, _, c = world
    for name in ("A", "B", "C"):
        add_resident_opinion(session, c, part_id=None, text="Nhất trí với dự thảo.", name=name, group_id=groups[0].id)
    data = service.report_data(session, c)
    row = next(data.rows())
    service.decide(session, SYSTEM, c, row.cluster.id, decision="noted")
    new = service.split_off(session, SYSTEM, c, row.cluster.id, row.opinions[2].id)
    session.commit()
    data = service.report_data(session, c)
    assert sorted(r.count for r in data.rows()) == [1, 2] and data.undecided == 1
    assert new.decision is None
    # A later identical opinion joins the original group, never the split one.
    add_resident_opinion(session, c, part_id=None, text="Nhất trí với dự thảo", name="D", group_id=groups[0].id)
    assert sorted(r.count for r in service.report_data(session, c).rows()) == [1, 3]


def test_not_accepted_without_explanation_is_refused(session, world):
    _, groups, _, c = world
    add_resident_opinion(session, c, part_id=None, text="Bỏ Điều 2.", name="A", group_id=groups[0].id)
    row = next(service.report_data(session, c).rows())
    session.commit()
    with pytest.raises(service.ReportError, match="phải có nội dung giải trình"):
        service.decide(session, SYSTEM, c, row.cluster.id, decision="not_accepted", explanation="  ")
    session.rollback()
    assert session.scalar(select(OpinionCluster.decision)) is None
    with pytest.raises(service.ReportError, match="Hãy chọn"):
        service.decide(session, SYSTEM, c, row.cluster.id, decision="")


def _seed_opinions(session, c, units, groups):
    agree_without_comment(session, SYSTEM, c, units[0].id)
    agree_without_comment(session, SYSTEM, c, units[3].id)
    add_unit_comments(session, SYSTEM, c, units[1].id, [
        (_part(c, "Điều 1, khoản 2, điểm b"), "Bổ sung tuyên truyền qua mạng xã hội Zalo."),
        (_part(c, "Điều 1, khoản 3, điểm c"), "Sửa “Cùng cố” thành “Củng cố”."),
    ])
    add_unit_comments(session, SYSTEM, c, units[4].id, [(None, "Dự thảo cần ngắn gọn hơn.")], channel="paper")
    add_resident_opinion(session, c, part_id=_part(c, "Điều 2"), text="Cần nêu mức kinh phí cụ thể.",
                         name="Lê Hữu Phúc", group_id=groups[0].id)
    add_resident_opinion(session, c, part_id=_part(c, "Điều 1, khoản 5, điểm d"),
                         text="Hướng dẫn người cao tuổi biểu quyết trực tuyến.", name="Trần Thị Lan",
                         group_id=groups[2].id)
    decisions = {
        "Bổ sung tuyên truyền": ("accepted", None),
        "Sửa “Cùng cố”": ("accepted", "Đã sửa lỗi chính tả."),
        "Dự thảo cần ngắn gọn": ("noted", None),
        "Cần nêu mức kinh phí": ("not_accepted", "Mức kinh phí do dự toán hằng năm quyết định, không ghi trong Nghị quyết."),
        "Hướng dẫn người cao tuổi": ("partly", "Giao khu phố hướng dẫn; không lập tổ riêng."),
    }
    for row in service.report_data(session, c).rows():
        decision, explanation = next(v for k, v in decisions.items() if row.text.startswith(k))
        service.decide(session, SYSTEM, c, row.cluster.id, decision=decision, explanation=explanation)
    return decisions


def test_docx_of_the_binh_an_consultation_holds_every_opinion_under_its_part(session, world):
    _, groups, units, c = world
    _seed_opinions(session, c, units, groups)
    service.save_settings(session, SYSTEM, c, number="05/BC-UBND", report_date=date(2025, 1, 5), place="Bình An",
                          signer_mode="TM", signer_name="Vũ Thị Hiền", recipients="- Thường trực HĐND phường;\n- Lưu: VT.")
    session.commit()
    data = service.report_data(session, c, now=c.closes_at)
    assert data.final
    document = Document(io.BytesIO(build_docx(data)))
    rows = [[cell.text for cell in row.cells] for row in document.tables[1].rows]
    assert rows[0] == ["STT", "Điều, khoản, điểm", "Nội dung góp ý", "Cơ quan, đơn vị, cá nhân góp ý",
                       "Ý kiến tiếp thu, giải trình"]
    body = rows[1:]
    assert [r[0] for r in body] == [str(i) for i in range(1, 6)]
    assert [(r[1], r[2], r[3]) for r in body] == [
        ("Góp ý chung về dự thảo", "Dự thảo cần ngắn gọn hơn.", "Ban điều hành khu phố 1"),
        ("Điều 1, khoản 2, điểm b", "Bổ sung tuyên truyền qua mạng xã hội Zalo.", "Hội Liên hiệp Phụ nữ phường"),
        ("Điều 1, khoản 3, điểm c", "Sửa “Cùng cố” thành “Củng cố”.", "Hội Liên hiệp Phụ nữ phường"),
        ("Điều 1, khoản 5, điểm d", "Hướng dẫn người cao tuổi biểu quyết trực tuyến.", "Trần Thị Lan (Khu phố 3)"),
        ("Điều 2", "Cần nêu mức kinh phí cụ thể.", "Lê Hữu Phúc (Khu phố 1)"),
    ]
    assert [r[4] for r in body] == [
        "Ghi nhận.", "Tiếp thu.", "Tiếp thu. Đã sửa lỗi chính tả.",
        "Tiếp thu một phần. Giao khu phố hướng dẫn; không lập tổ riêng.",
        "Không tiếp thu. Mức kinh phí do dự toán hằng năm quyết định, không ghi trong Nghị quyết."]
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Số cơ quan, đơn vị được xin ý kiến: 5 (" in text
    assert "Số đơn vị đã trả lời: 4, trong đó 2 đơn vị nhất trí, không có ý kiến góp ý (" in text
    assert "và 2 đơn vị có 3 ý kiến góp ý (" in text
    assert "1 đơn vị không trả lời (Hội Cựu chiến binh phường). Số ý kiến của Nhân dân: 2." in text
    assert "Tổng số ý kiến góp ý: 5; đã tiếp thu 2 ý kiến, tiếp thu một phần 1 ý kiến, giải trình (không tiếp thu) " \
           "1 ý kiến, ghi nhận 1 ý kiến." in text
    assert "Công văn số 491/UBND" in text


def test_docx_follows_decree_30_layout(session, world):
    _, groups, units, c = world
    _seed_opinions(session, c, units, groups)
    service.save_settings(session, SYSTEM, c, number="05/BC-UBND", report_date=date(2025, 1, 5), place="Bình An",
                          signer_mode="KT", signer_name="Nguyễn Văn An", recipients="- Lưu: VT.")
    session.commit()
    document = Document(io.BytesIO(build_docx(service.report_data(session, c, now=c.closes_at))))
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert (round(section.top_margin.mm), round(section.left_margin.mm), round(section.right_margin.mm)) == (20, 30, 15)
    head = [[cell.text for cell in row.cells] for row in document.tables[0].rows]
    assert head[0][0] == "ỦY BAN NHÂN DÂN\nPHƯỜNG BÌNH AN\n"
    assert head[0][1].startswith("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc")
    assert head[1] == ["Số: 05/BC-UBND", "Bình An, ngày 05 tháng 01 năm 2025"]
    assert document.tables[0].rows[1].cells[1].paragraphs[0].runs[0].italic
    paragraphs = [p.text for p in document.paragraphs]
    assert "BÁO CÁO" in paragraphs
    assert "Tổng hợp, tiếp thu, giải trình ý kiến góp ý dự thảo Nghị quyết về dân chủ ở cơ sở" in paragraphs
    header_row = document.tables[1].rows[0]._tr
    assert header_row.xpath("./w:trPr/w:tblHeader")
    fonts = {r.font.name for p in document.paragraphs for r in p.runs if r.text}
    assert fonts == {"Times New Roman"}
    closing = document.tables[2].rows[0].cells
    assert closing[0].paragraphs[0].text == "Nơi nhận:" and closing[0].paragraphs[0].runs[0].bold \
        and closing[0].paragraphs[0].runs[0].italic
    assert closing[1].text.startswith("KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH") and "Nguyễn Văn An" in closing[1].text
    assert section.different_first_page_header_footer
    assert "PAGE" in section.header._element.xml
    assert "DỰ THẢO" not in section.header._element.xml


def test_every_opinion_answered_before_the_close_is_still_a_draft(session, world):
    """Until the comment period ends more opinions may come and silent units may still reply:
    the report stays DỰ THẢO and says 'chưa trả lời', not 'không trả lời'; from the closing
    instant, with the same answers, it is final."""
    _, groups, units, c = world
    _seed_opinions(session, c, units, groups)
    session.commit()
    before = service.report_data(session, c, now=c.closes_at - timedelta(microseconds=1))
    assert before.undecided == 0 and not before.final
    document = Document(io.BytesIO(build_docx(before)))
    assert "DỰ THẢO" in document.sections[0].header.paragraphs[-1].text
    text = "\n".join(p.text for p in document.paragraphs)
    assert "1 đơn vị chưa trả lời (hạn trả lời " in text and "không trả lời" not in text
    assert load_workbook(io.BytesIO(build_xlsx(before)))["Tổng hợp ý kiến"]["A1"].value.startswith("DỰ THẢO")
    at = service.report_data(session, c, now=c.closes_at)
    assert at.final
    document = Document(io.BytesIO(build_docx(at)))
    assert "DỰ THẢO" not in document.sections[0].header.paragraphs[-1].text
    assert "1 đơn vị không trả lời (Hội Cựu chiến binh phường)." in "\n".join(p.text for p in document.paragraphs)


def test_undecided_opinions_make_only_a_marked_draft(session, world):
    _, groups, _, c = world
    add_resident_opinion(session, c, part_id=None, text="Ý kiến chưa xử lý", name="A", group_id=groups[0].id)
    session.commit()
    data = service.report_data(session, c)
    assert not data.final
    document = Document(io.BytesIO(build_docx(data)))
    assert "DỰ THẢO" in document.sections[0].header.paragraphs[-1].text
    assert "DỰ THẢO" in document.sections[0].first_page_header.paragraphs[-1].text
    workbook = load_workbook(io.BytesIO(build_xlsx(data)))
    assert workbook["Tổng hợp ý kiến"]["A1"].value.startswith("DỰ THẢO")
    with pytest.raises(service.ReportError, match="chưa có hướng xử lý|sau khi hết thời hạn"):
        service.publish_results(session, SYSTEM, c, now=c.closes_at + timedelta(days=1))


def test_results_published_only_after_closing_and_when_final(session, world, now):
    _, groups, units, c = world
    _seed_opinions(session, c, units, groups)
    session.commit()
    with pytest.raises(service.ReportError, match="sau khi hết thời hạn"):
        service.publish_results(session, SYSTEM, c, now=now)
    service.publish_results(session, SYSTEM, c, now=c.closes_at + timedelta(minutes=1))
    assert c.status == "published"
    with pytest.raises(service.ReportError, match="đã được công khai"):
        service.decide(session, SYSTEM, c, next(service.report_data(session, c).rows()).cluster.id, decision="noted")


def test_xlsx_has_the_table_and_the_units_sheet(session, world):
    _, groups, units, c = world
    _seed_opinions(session, c, units, groups)
    session.commit()
    workbook = load_workbook(io.BytesIO(build_xlsx(service.report_data(session, c))))
    table = workbook["Tổng hợp ý kiến"]
    values = [tuple(row) for row in table.iter_rows(values_only=True)]
    header_at = next(i for i, row in enumerate(values) if row and row[0] == "STT")
    body = values[header_at + 1:]
    assert len(body) == 5 and body[1][1:4] == ("Điều 1, khoản 2, điểm b", "Bổ sung tuyên truyền qua mạng xã hội Zalo.",
                                              "Hội Liên hiệp Phụ nữ phường")
    sheet = workbook["Đơn vị trả lời"]
    states = {row[1]: row[2] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert states["Ủy ban MTTQ Việt Nam phường"] == "Nhất trí, không có ý kiến"
    assert states["Hội Cựu chiến binh phường"] == "Chưa trả lời"
    assert states["Hội Liên hiệp Phụ nữ phường"] == "Có 2 ý kiến góp ý"


def test_public_report_names_no_resident(session, world):
    _, groups, units, c = world
    _seed_opinions(session, c, units, groups)
    session.commit()
    senders = [s for row in service.report_data(session, c, public=True).rows() for s in row.senders]
    assert "Người dân khu phố 1" in senders and not any("Lê Hữu Phúc" in s for s in senders)


def test_grouping_is_per_part(session, world):
    _, groups, _, c = world
    for part in (None, _part(c, "Điều 2")):
        add_resident_opinion(session, c, part_id=part, text="Nhất trí.", name="A", group_id=groups[0].id)
    service.sync_clusters(session, c)
    assert session.scalar(select(func.count()).select_from(OpinionCluster)) == 2
    assert re.match(r"^\d+$", str(service.undecided_count(session, c)))


# --- issue 12: a synthesis that never merges different opinions -------------------------------

OPPOSITES = [
    ("Đồng ý với mức 500.000 đồng", "Không đồng ý với mức 500.000 đồng"),
    ("Đồng ý với mức 500.000 đồng", "Đồng ý với mức 300.000 đồng"),
    ("Đồng ý với mức 500.000 đồng", "Chưa đồng ý với mức 500.000 đồng"),
    ("Đề nghị tăng mức hỗ trợ cho hộ nghèo", "Đề nghị giảm mức hỗ trợ cho hộ nghèo"),
    ("Hoàn thành trước ngày 30/4/2025", "Hoàn thành trước ngày 30/5/2025"),
    ("Đề nghị bỏ điểm b", "Đề nghị bổ điểm b"),
    ("Bổ sung tuyên truyền qua loa phát thanh", "Bổ sung tuyên truyền qua loa phát thanh và Zalo"),
    ("Sửa “cùng cố” thành “củng cố”", "Sửa “củng cố” thành “cùng cố”"),
]
SAME = [
    ("Đồng ý với mức 500.000 đồng", "đồng ý với mức 500.000đ"),
    ("Đồng ý với mức 500.000 đồng", "Nhất trí với mức 500 nghìn đồng!"),
    ("Không đồng ý với mức 500.000 đồng", "khong dong y voi muc 500.000 dong"),
    ("Đề nghị bổ sung tuyên truyền qua loa phát thanh", "Bổ sung thêm tuyên truyền qua các loa phát thanh."),
    ("Đề nghị bổ sung tuyên truyền qua loa phát thanh", "de nghi bo sung tuyen truyen qua loa phat thanh"),
    ("Đề nghị lắp đèn ở hẻm 27 trước Tết", "de nghi lap den o hem 27 truoc tet"),
]


@pytest.mark.parametrize("a,b", OPPOSITES)
def test_texts_that_say_different_things_are_never_similar(a, b):
    assert not service.similar(a, b)


@pytest.mark.parametrize("a,b", SAME)
def test_texts_that_say_the_same_thing_are_similar(a, b):
    assert service.similar(a, b)


def test_opposite_and_different_amount_opinions_stay_in_separate_groups(session, world):
    _, groups, _, c = world
    part = _part(c, "Điều 2")
    texts = ["Đồng ý với mức 500.000 đồng", "Không đồng ý với mức 500.000 đồng", "Đồng ý với mức 300.000 đồng",
             "đồng ý với mức 500.000đ", "Chưa đồng ý với mức 500.000 đồng", "Không đồng ý với mức 500.000 đồng."]
    for i, text in enumerate(texts):
        add_resident_opinion(session, c, part_id=part, text=text, name=f"Người {i}", group_id=groups[0].id)
    rows = list(service.report_data(session, c).rows())
    assert {frozenset(o.text for o in row.opinions) for row in rows} == {
        frozenset({"Đồng ý với mức 500.000 đồng", "đồng ý với mức 500.000đ"}),
        frozenset({"Không đồng ý với mức 500.000 đồng", "Không đồng ý với mức 500.000 đồng."}),
        frozenset({"Đồng ý với mức 300.000 đồng"}),
        frozenset({"Chưa đồng ý với mức 500.000 đồng"}),
    }


def test_an_unaccented_text_that_fits_two_groups_joins_neither(session, world):
    _, groups, _, c = world
    for i, text in enumerate(["Đề nghị bỏ điểm b của khoản 2", "Đề nghị bổ điểm b của khoản 2",
                              "de nghi bo diem b cua khoan 2"]):
        add_resident_opinion(session, c, part_id=None, text=text, name=f"Người {i}", group_id=groups[0].id)
    assert [r.count for r in service.report_data(session, c).rows()] == [1, 1, 1]


def test_grouping_compares_each_opinion_with_few_others(monkeypatch):
    """Near-linear: blocked by part, words and meaning marks, never all pairs."""
    from consult.reports import grouping

    calls = []
    real = grouping.same_opinion
    monkeypatch.setattr(grouping, "same_opinion", lambda a, b: calls.append(1) or real(a, b))
    items = []
    for i in range(3000):  # one part, every text distinct but alike, a third repeated with slips
        n = i % 1000
        text = f"Đề nghị hỗ trợ hộ số {n} ở khu phố {n % 7} thêm kinh phí sửa chữa nhà ở năm nay"
        items.append((None, text if i < 2000 else text.replace("kinh phí", "kinh phi")))
    groups = grouping.propose_groups(items)
    assert len(set(groups)) == 1000
    assert len(calls) < 3 * len(items)


def test_officer_undoes_a_whole_group_in_one_action(session, world):
    _, groups, _, c = world
    part = _part(c, "Điều 2")
    for i, text in enumerate(["Cần nêu mức kinh phí cụ thể.", "cần nêu mức kinh phí cụ thể",
                              "Cần nêu mức kinh phí cụ thể!"]):
        add_resident_opinion(session, c, part_id=part, text=text, name=f"Người {i}", group_id=groups[0].id)
    row = next(service.report_data(session, c).rows())
    assert row.count == 3
    service.decide(session, SYSTEM, c, row.cluster.id, decision="noted")
    new = service.ungroup(session, SYSTEM, c, row.cluster.id)
    session.commit()
    assert len(new) == 2
    rows = list(service.report_data(session, c).rows())
    assert [r.count for r in rows] == [1, 1, 1]
    assert [r.cluster.decision for r in rows] == ["noted", None, None]
    assert [r.text for r in rows] == ["Cần nêu mức kinh phí cụ thể.", "cần nêu mức kinh phí cụ thể",
                                      "Cần nêu mức kinh phí cụ thể!"]
    with pytest.raises(service.ReportError, match="chỉ có một ý kiến"):
        service.ungroup(session, SYSTEM, c, rows[0].cluster.id)
    # An identical later opinion joins the first one's group, never those taken apart.
    add_resident_opinion(session, c, part_id=part, text="Cần nêu mức kinh phí cụ thể", name="D", group_id=groups[0].id)
    assert [r.count for r in service.report_data(session, c).rows()] == [2, 1, 1]


AGREEMENTS = ["nhất trí, không có ý kiến", "Nhất trí, không có ý kiến.", "Thống nhất.", "Đồng ý với dự thảo",
              "Không có ý kiến", "Không có ý kiến góp ý", "nhat tri, khong co y kien", "NHẤT TRÍ; KHÔNG CÓ Ý KIẾN!",
              "Đơn vị nhất trí với nội dung dự thảo Nghị quyết, không có ý kiến góp ý thêm."]


@pytest.mark.parametrize("text", AGREEMENTS)
def test_a_unit_comment_that_only_agrees_counts_as_agreed_without_comment(session, world, text):
    _, _, units, c = world
    assert add_unit_comments(session, SYSTEM, c, units[2].id, [(None, text)]) == []
    session.commit()
    data = service.report_data(session, c, now=c.closes_at)
    assert (data.replies.agreed, data.replies.with_comments, data.replies.unit_opinions) == (1, 0, 0)
    assert data.total_opinions == 0 and data.final is True
    assert "1 đơn vị nhất trí, không có ý kiến góp ý (Hội Cựu chiến binh phường)" in \
        service.opening_paragraphs(data)[1]


def test_agreement_beside_real_comments_is_left_out_and_disagreement_is_an_opinion(session, world):
    _, _, units, c = world
    opinions = add_unit_comments(session, SYSTEM, c, units[1].id, [
        (None, "Nhất trí với dự thảo."), (_part(c, "Điều 2"), "Không đồng ý với Điều 2."),
        (_part(c, "Điều 1, khoản 2, điểm b"), "Nhất trí với dự thảo nhưng đề nghị bổ sung tuyên truyền qua Zalo.")])
    assert [o.text for o in opinions] == ["Không đồng ý với Điều 2.",
                                          "Nhất trí với dự thảo nhưng đề nghị bổ sung tuyên truyền qua Zalo."]
    data = service.report_data(session, c)
    assert (data.replies.agreed, data.replies.with_comments, data.replies.unit_opinions) == (0, 1, 2)
    assert data.total_opinions == 2


def test_agreements_saved_as_comments_before_are_counted_as_agreement(session, world):
    """Replies saved before the rule: the counts and the report read them as "agreed without comment"."""
    from consult.opinions.models import Opinion, UnitReply
    from consult.reports.models import ClusterMember

    _, _, units, c = world
    reply = UnitReply(consultation_id=c.id, unit_id=units[0].id, agreed_without_comment=False, channel="online",
                      received_at=c.opens_at, entered_by_name="x")
    session.add(reply)
    session.flush()
    opinion = Opinion(consultation_id=c.id, commune_id=c.commune_id, text="Nhất trí, không có ý kiến.",
                      author_kind="unit", unit_id=units[0].id, reply_id=reply.id, channel="online",
                      created_at=c.opens_at)
    session.add(opinion)
    session.flush()
    cluster = OpinionCluster(consultation_id=c.id, part_id=None, key="nhất trí không có ý kiến")
    session.add(cluster)
    session.flush()
    session.add(ClusterMember(opinion_id=opinion.id, cluster_id=cluster.id))
    session.commit()
    data = service.report_data(session, c)
    session.commit()
    assert (data.replies.agreed, data.replies.unit_opinions, data.total_opinions) == (1, 0, 0)
    assert session.scalar(select(func.count()).select_from(OpinionCluster)) == 0
    assert service.undecided_count(session, c) == 0


# --- the .docx read back -------------------------------------------------------------------------

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _docx(session, c, **settings):
    service.save_settings(session, SYSTEM, c, **{
        "number": "05/BC-UBND", "report_date": date(2025, 4, 5), "place": "Bình An", "signer_mode": "TM",
        "signer_name": "Vũ Thị Hiền", "recipients": "- Lưu: VT.", **settings})
    session.commit()
    # The report as it is signed: after the comment period (before it, it is always DỰ THẢO).
    return Document(io.BytesIO(build_docx(service.report_data(session, c, now=c.closes_at))))


def test_docx_tables_fit_the_text_width_and_rows_never_split(session, world):
    _, groups, units, c = world
    _seed_opinions(session, c, units, groups)
    document = _docx(session, c)
    section = document.sections[0]
    text_twips = Emu(section.page_width - section.left_margin - section.right_margin).twips
    assert text_twips == 9355  # 16.5 cm
    for table in document.tables:
        tbl = table._tbl
        grid = [int(col.get(f"{W}w")) for col in tbl.tblGrid.findall(f"{W}gridCol")]
        width = tbl.tblPr.find(f"{W}tblW")
        assert width.get(f"{W}type") == "dxa" and int(width.get(f"{W}w")) == sum(grid) <= text_twips
        assert tbl.tblPr.find(f"{W}tblLayout").get(f"{W}type") == "fixed"
        for row in table.rows:
            assert [int(tc.tcPr.find(f"{W}tcW").get(f"{W}w")) for tc in row._tr.tc_lst] == grid
    rows = document.tables[1].rows
    assert len(rows) == 6
    assert rows[0]._tr.trPr.find(f"{W}tblHeader") is not None
    assert all(row._tr.trPr.find(f"{W}cantSplit") is not None for row in rows)
    assert all(row._tr.trPr.find(f"{W}tblHeader") is None for row in rows[1:])


@pytest.mark.parametrize("day,expected", [
    (date(2025, 4, 5), "Bình An, ngày 05 tháng 4 năm 2025"),
    (date(2025, 2, 9), "Bình An, ngày 09 tháng 02 năm 2025"),
    (date(2025, 12, 25), "Bình An, ngày 25 tháng 12 năm 2025"),
])
def test_docx_date_line_follows_decree_30(session, world, day, expected):
    _, _, _, c = world
    document = _docx(session, c, report_date=day)
    assert document.tables[0].rows[1].cells[1].text == expected


def test_docx_date_defaults_to_the_day_in_ha_noi(session, world):
    from datetime import datetime, timezone

    _, _, _, c = world
    session.commit()
    data = service.report_data(session, c, now=datetime(2026, 3, 31, 17, 30, tzinfo=timezone.utc))
    document = Document(io.BytesIO(build_docx(data)))
    assert document.tables[0].rows[1].cells[1].text == "Bình An, ngày 01 tháng 4 năm 2026"


def _is_rule_under(paragraph, previous) -> bool:
    ppr = paragraph._p.pPr
    bottom = ppr.find(f"{W}pBdr/{W}bottom")
    spacing = ppr.find(f"{W}spacing")
    return (not paragraph.text and bottom is not None and bottom.get(f"{W}val") == "single"
            and spacing.get(f"{W}lineRule") == "exact" and int(spacing.get(f"{W}line")) <= 40
            and int(spacing.get(f"{W}before", 0)) == 0 and int(spacing.get(f"{W}after", 0)) == 0
            and previous.text and (previous.paragraph_format.space_after or 0) == 0)


def test_docx_rules_sit_right_under_the_issuer_the_motto_and_the_subject(session, world):
    _, _, _, c = world
    document = _docx(session, c)
    issuer, nation = document.tables[0].rows[0].cells
    assert [p.text for p in issuer.paragraphs] == ["ỦY BAN NHÂN DÂN", "PHƯỜNG BÌNH AN", ""]
    assert _is_rule_under(issuer.paragraphs[2], issuer.paragraphs[1])
    assert [p.text for p in nation.paragraphs] == ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", ""]
    assert _is_rule_under(nation.paragraphs[2], nation.paragraphs[1])
    # The motto's rule is as long as the motto; the issuer's about a third of its line.
    motto_rule = nation.width.cm - 2 * 0.19 - 2 * nation.paragraphs[2].paragraph_format.left_indent.cm
    assert 5.0 < motto_rule < 6.5
    issuer_rule = issuer.width.cm - 2 * 0.19 - 2 * issuer.paragraphs[2].paragraph_format.left_indent.cm
    # A short rule centred under the issuer (NĐ 30): a fraction of its column, shorter than the motto's.
    assert 0.15 * issuer.width.cm < issuer_rule < 0.45 * issuer.width.cm and issuer_rule < motto_rule / 2
    paragraphs = document.paragraphs
    subject = next(i for i, p in enumerate(paragraphs) if p.text.startswith("Tổng hợp, tiếp thu, giải trình"))
    assert paragraphs[subject - 1].text == "BÁO CÁO"
    assert _is_rule_under(paragraphs[subject + 1], paragraphs[subject])


def test_docx_names_the_draft_and_the_units_and_closes_before_the_signature(session, world):
    _, groups, units, c = world
    _seed_opinions(session, c, units, groups)
    document = _docx(session, c)
    text = "\n".join(p.text for p in document.paragraphs)
    assert ("Ủy ban nhân dân Phường Bình An đã tổ chức lấy ý kiến góp ý đối với dự thảo Nghị quyết về dân chủ ở "
            "cơ sở theo Công văn số 491/UBND") in text
    intro = next(p.text for p in document.paragraphs if p.text.startswith("Số cơ quan, đơn vị được xin ý kiến"))
    assert intro.startswith("Số cơ quan, đơn vị được xin ý kiến: 5 (")
    assert all(u.name in intro.split(").")[0] for u in units)
    assert "2 đơn vị nhất trí, không có ý kiến góp ý (" in intro and "Ủy ban MTTQ Việt Nam phường" in intro
    assert "2 đơn vị có 3 ý kiến góp ý (" in intro
    assert "1 đơn vị không trả lời (Hội Cựu chiến binh phường)" in intro
    # The body ends with the closing paragraph, right before the signature block.
    before = [el for el in document.tables[2]._tbl.itersiblings(preceding=True)  # nearest first
              if el.xpath("string(.)").strip()]
    assert before[0].tag == f"{W}p" and before[0].xpath("string(.)") == ("Trên đây là Báo cáo tổng hợp, tiếp thu, giải trình ý kiến góp ý dự thảo "
                                            "Nghị quyết về dân chủ ở cơ sở của Ủy ban nhân dân Phường Bình An./.")


def test_xlsx_is_ready_to_print(session, world):
    _, groups, units, c = world
    _seed_opinions(session, c, units, groups)
    service.save_settings(session, SYSTEM, c, number=None, report_date=date(2025, 1, 5), place="Bình An",
                          signer_mode="TM", signer_name=None, recipients=None)
    session.commit()
    workbook = load_workbook(io.BytesIO(build_xlsx(service.report_data(session, c))))
    assert workbook.sheetnames == ["Tổng hợp ý kiến", "Tình hình lấy ý kiến", "Đơn vị trả lời"]
    for sheet in workbook:
        setup = sheet.page_setup
        assert (setup.orientation, int(setup.paperSize)) == ("landscape", 9)
        assert (int(setup.fitToWidth), int(setup.fitToHeight)) == (1, 0)
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
    table = workbook["Tổng hợp ý kiến"]
    assert table["A2"].value == "Bình An, ngày 05 tháng 01 năm 2025"
    assert [cell.value for cell in table[3]] == ["STT", "Điều, khoản, điểm", "Nội dung góp ý",
                                                  "Cơ quan, đơn vị, cá nhân góp ý", "Ý kiến tiếp thu, giải trình"]
    assert table.print_title_rows == "$3:$3" and table.freeze_panes == "A4"
    body = list(table.iter_rows(min_row=4))
    assert len(body) == 5
    assert all(cell.alignment.wrap_text for row in body for cell in row[1:])
    facts = workbook["Tình hình lấy ý kiến"]
    assert any("Số cơ quan, đơn vị được xin ý kiến: 5" in (row[0] or "") for row in facts.iter_rows(values_only=True))
    units_sheet = workbook["Đơn vị trả lời"]
    assert units_sheet.print_title_rows == "$1:$1" and units_sheet.freeze_panes == "A2"
