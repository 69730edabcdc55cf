"""Synthesis and response: grouping, decisions, and the report read back from .docx and .xlsx."""

import io
import re
from datetime import date, timedelta

import pytest
from docx import Document
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
    data = service.report_data(session, c)
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
    assert "Số cơ quan, đơn vị được xin ý kiến: 5; số đơn vị đã trả lời: 4, trong đó 2 đơn vị nhất trí, " \
           "không có ý kiến góp ý và 2 đơn vị có 3 ý kiến góp ý; 1 đơn vị không trả lời. Số ý kiến của Nhân dân: 2." in text
    assert "Tổng số ý kiến góp ý: 5; đã tiếp thu 2 ý kiến, tiếp thu một phần 1 ý kiến, giải trình (không tiếp thu) " \
           "1 ý kiến, ghi nhận 1 ý kiến." in text
    assert "Công văn số 491/UBND" in text


def test_docx_follows_decree_30_layout(session, world):
    _, groups, units, c = world
    _seed_opinions(session, c, units, groups)
    service.save_settings(session, SYSTEM, c, number="05/BC-UBND", report_date=date(2025, 1, 5), place="Bình An",
                          signer_mode="KT", signer_name="Nguyễn Văn An", recipients="- Lưu: VT.")
    session.commit()
    document = Document(io.BytesIO(build_docx(service.report_data(session, c))))
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
