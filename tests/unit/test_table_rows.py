"""A table in a draft is read as a table whose rows an opinion can point at: each body row is
a part of kind ``row`` ("Điều 2, khoản 1, dòng 1"), under the part whose text the table ends;
the structure tools move rows with their table and never one by one."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from consult.audit.service import SYSTEM
from consult.consultations import service
from consult.consultations.parser import parse_draft, table_cells, table_header, text_before_table
from consult.opinions.service import add_resident_opinion
from consult.reports import service as reports
from tests.support.drafts import TABLE_DRAFT
from tests.support.helpers import make_commune, make_consultation, make_group

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)


def _rows(parsed):
    return [(n.label, n.anchor, n.text) for n in parsed.walk() if n.kind == "row"]


def test_a_table_that_ends_a_part_becomes_its_rows():
    parsed = parse_draft(TABLE_DRAFT)
    clause = parsed.parts[0].children[0]
    assert clause.text == "Các khoản thu được công khai theo bảng sau:\n| STT | Khoản thu | Mức thu |"
    assert _rows(parsed) == [
        ("Điều 1, khoản 1, dòng 1", "dieu-1-khoan-1-dong-1", "| 1 | Quỹ phòng, chống thiên tai | 20.000 đồng/người |"),
        ("Điều 1, khoản 1, dòng 2", "dieu-1-khoan-1-dong-2", "| 2 | Quỹ đền ơn đáp nghĩa | 10.000 đồng/hộ |")]
    # The next khoản is not swallowed by the table.
    assert parsed.parts[0].children[1].label == "Điều 1, khoản 2"
    assert table_header(clause.text) == ["STT", "Khoản thu", "Mức thu"]
    assert text_before_table(clause.text) == "Các khoản thu được công khai theo bảng sau:"
    assert table_cells(clause.children[1].text) == ["2", "Quỹ đền ơn đáp nghĩa", "10.000 đồng/hộ"]


def test_a_table_without_a_header_row_is_all_rows():
    parsed = parse_draft("QUYẾT NGHỊ:\nĐiều 1. Danh sách\n| 1 | Khu phố 1 | 120 hộ |\n| 2 | Khu phố 2 | 95 hộ |\n")
    article = parsed.parts[0]
    assert article.text == "" and table_header(article.text) is None
    assert [r[0] for r in _rows(parsed)] == ["Điều 1, dòng 1", "Điều 1, dòng 2"]


@pytest.mark.parametrize("text", [
    # Text after the table in the same part: the table stays text where it stands.
    "QUYẾT NGHỊ:\nĐiều 1. A\n| STT | B |\n| 1 | C |\nGhi chú: mức thu tối thiểu.\n",
    # A header row alone is not a table of rows.
    "QUYẾT NGHỊ:\nĐiều 1. A\nNội dung.\n| STT | Khoản thu |\n",
])
def test_a_table_with_text_after_it_or_no_body_stays_text(text):
    parsed = parse_draft(text)
    assert _rows(parsed) == []
    assert "| STT |" in parsed.parts[0].text


def test_rows_in_an_attachment_carry_its_name():
    parsed = parse_draft("QUYẾT NGHỊ:\n\nĐiều 1. Ban hành kèm theo Nghị quyết này Quy chế đóng góp.\n\nNơi nhận:\n"
                         "- Lưu: VT.\n\nQUY CHẾ\n\nĐóng góp\n\n(Ban hành kèm theo Nghị quyết số 12/NQ-HĐND)\n\n"
                         "Điều 1. Mức đóng góp\n\n| STT | Khoản | Mức |\n| 1 | Quỹ | 10.000 đồng |\n")
    assert _rows(parsed) == [("Quy chế: Điều 1, dòng 1", "kem-theo-1-dieu-1-dong-1", "| 1 | Quỹ | 10.000 đồng |")]


def test_an_opinion_points_at_one_row_and_the_report_cites_it(session):
    commune = make_commune(session)
    group = make_group(session, commune)
    c = make_consultation(session, commune, [], text=TABLE_DRAFT, now=T0)
    row = next(p for p in c.parts if p.label == "Điều 1, khoản 1, dòng 2")
    assert row.kind == "row" and row.anchor == "dieu-1-khoan-1-dong-2"
    add_resident_opinion(session, c, part_id=row.id, text="Đề nghị giảm mức thu xuống 5.000 đồng/hộ.",
                         name="Nguyễn Văn An", group_id=group.id, now=T0)
    report = reports.report_data(session, c, now=T0)
    cited = [(s.label, r.text) for s in report.sections for r in s.rows]
    assert ("Điều 1, khoản 1, dòng 2", "Đề nghị giảm mức thu xuống 5.000 đồng/hộ.") in cited


def test_structure_tools_keep_rows_with_their_table(session):
    commune = make_commune(session)
    c = make_consultation(session, commune, [], text=TABLE_DRAFT, now=T0, publish=False)
    row = next(p for p in c.parts if p.label == "Điều 1, khoản 1, dòng 1")
    clause_2 = next(p for p in c.parts if p.label == "Điều 1, khoản 2")
    for tool in (lambda: service.merge_part(session, SYSTEM, c, row.id),
                 lambda: service.indent_part(session, SYSTEM, c, row.id),
                 lambda: service.outdent_part(session, SYSTEM, c, row.id),
                 lambda: service.split_part(session, SYSTEM, c, row.id, at_text="Quỹ", kind="point", number="a"),
                 lambda: service.relabel_part(session, SYSTEM, c, row.id, kind="point", number="a", title="")):
        with pytest.raises(service.ConsultationError, match="Dòng của bảng đi theo bảng"):
            tool()
    # Khoản 2 merged into khoản 1 would land between the header row and the rows.
    with pytest.raises(service.ConsultationError, match="kết thúc bằng một bảng"):
        service.merge_part(session, SYSTEM, c, clause_2.id)
    assert [p.label for p in c.parts if p.kind == "row"] == ["Điều 1, khoản 1, dòng 1", "Điều 1, khoản 1, dòng 2"]
    # Renumbering and relabelling the article carry its rows' labels; rows keep their numbers.
    article = c.parts[0]
    service.relabel_part(session, SYSTEM, c, article.id, kind="article", number="5", title=article.title)
    assert [p.label for p in c.parts if p.kind == "row"] == ["Điều 5, khoản 1, dòng 1", "Điều 5, khoản 1, dòng 2"]
    service.renumber_parts(session, SYSTEM, c)
    assert [(p.label, p.anchor) for p in c.parts if p.kind == "row"] == [
        ("Điều 1, khoản 1, dòng 1", "dieu-1-khoan-1-dong-1"), ("Điều 1, khoản 1, dòng 2", "dieu-1-khoan-1-dong-2")]
    assert not [d for d in service.parse_doubts(c) if d.part is not None and d.part.kind == "row"]


def test_a_row_is_corrected_as_one_line_of_cells(session):
    commune = make_commune(session)
    c = make_consultation(session, commune, [], text=TABLE_DRAFT, now=T0, publish=False)
    row = next(p for p in c.parts if p.label == "Điều 1, khoản 1, dòng 1")
    for bad in ("| 1 | Quỹ phòng\nchống thiên tai | 20.000 |", "1 Quỹ phòng, chống thiên tai 20.000"):
        with pytest.raises(service.ConsultationError, match="một dòng, mở và đóng bằng dấu") as refused:
            service.edit_part_text(session, SYSTEM, c, row.id, title="", text=bad)
        assert refused.value.field == "text"
    assert row.text == "| 1 | Quỹ phòng, chống thiên tai | 20.000 đồng/người |"
    service.edit_part_text(session, SYSTEM, c, row.id, title="", text="| 1 | Quỹ phòng, chống thiên tai | 15.000 đồng/người |")
    assert table_cells(row.text)[2] == "15.000 đồng/người"
