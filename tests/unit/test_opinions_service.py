"""Opinions: saved only while open (checked at saving), kept as typed, counted per unit."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from consult.audit.service import SYSTEM
from consult.opinions import service
from consult.opinions.models import Opinion, UnitReply
from tests.support.helpers import make_commune, make_consultation, make_group, make_unit


@pytest.fixture
def world(session):
    commune = make_commune(session)
    group = make_group(session, commune)
    units = [make_unit(session, commune, f"Đơn vị {i}") for i in range(10)]
    consultation = make_consultation(session, commune, units)
    session.commit()
    return commune, group, units, consultation


def _count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_comment_one_second_after_closing_is_refused(session, world):
    _, group, units, c = world
    after = c.closes_at + timedelta(seconds=1)
    with pytest.raises(service.ConsultationClosed, match="hết thời hạn"):
        service.add_resident_opinion(session, c, part_id=None, text="Ý kiến muộn", name="Trần Văn A",
                                     group_id=group.id, now=after)
    with pytest.raises(service.ConsultationClosed):
        service.agree_without_comment(session, SYSTEM, c, units[0].id, now=after)
    with pytest.raises(service.ConsultationClosed):
        service.add_unit_comments(session, SYSTEM, c, units[0].id, [(None, "muộn")], now=after)
    session.rollback()
    assert _count(session, Opinion) == 0 and _count(session, UnitReply) == 0
    before = c.closes_at - timedelta(seconds=1)
    service.add_resident_opinion(session, c, part_id=None, text="Kịp giờ", name="Trần Văn A", group_id=group.id,
                                 now=before)
    assert _count(session, Opinion) == 1


def test_resident_text_kept_exactly_as_typed(session, world):
    _, group, _, c = world
    typed = "  <script>alert('x')</script>\nĐề nghị sửa   “điểm a”  ở khoản 1.  "
    opinion = service.add_resident_opinion(session, c, part_id=c.parts[2].id, text=typed, name="Lê Thị B",
                                           group_id=group.id, phone="0912 345 678")
    session.commit()
    session.expire_all()
    assert session.get(Opinion, opinion.id).text == typed
    assert session.get(Opinion, opinion.id).resident_phone == "0912345678"


@pytest.mark.parametrize("text,message", [("", "để trống"), ("   \n ", "để trống"),
                                          ("x" * 10_001, "vượt quá 10.000")])
def test_empty_or_overlong_opinion_refused(session, world, text, message):
    _, group, _, c = world
    with pytest.raises(service.OpinionRejected, match=message):
        service.add_resident_opinion(session, c, part_id=None, text=text, name="A", group_id=group.id)


def test_part_of_another_consultation_refused(session, world):
    commune, group, _, c = world
    other = make_consultation(session, commune, [], title="Đợt khác")
    with pytest.raises(service.OpinionRejected, match="không thuộc dự thảo"):
        service.add_resident_opinion(session, c, part_id=other.parts[0].id, text="x", name="A", group_id=group.id)


def test_resident_needs_name_and_own_commune_group(session, world):
    _, group, _, c = world
    other = make_commune(session, name="Khác", slug="xa-khac")
    with pytest.raises(service.OpinionRejected, match="họ và tên"):
        service.add_resident_opinion(session, c, part_id=None, text="x", name=" ", group_id=group.id)
    with pytest.raises(service.OpinionRejected, match="khu phố"):
        service.add_resident_opinion(session, c, part_id=None, text="x", name="A",
                                     group_id=make_group(session, other).id)
    with pytest.raises(service.OpinionRejected, match="điện thoại"):
        service.add_resident_opinion(session, c, part_id=None, text="x", name="A", group_id=group.id, phone="12ab")


def test_agreement_without_comment_is_a_counted_reply(session, world):
    _, _, units, c = world
    for unit in units[:3]:
        service.agree_without_comment(session, SYSTEM, c, unit.id)
    for unit in units[3:7]:
        service.add_unit_comments(session, SYSTEM, c, unit.id, [(c.parts[0].id, "Ý kiến 1"), (None, "Ý kiến 2")])
    summary = service.reply_summary(session, c)
    assert (summary.invited, summary.replied, summary.agreed, summary.with_comments) == (10, 7, 3, 4)
    assert summary.unit_opinions == 8
    assert [s.unit.name for s in summary.to_remind] == ["Đơn vị 7", "Đơn vị 8", "Đơn vị 9"]
    assert summary.units[3].label == "Có 2 ý kiến góp ý"


def test_a_unit_that_agreed_cannot_reply_again_and_uninvited_units_cannot_reply(session, world):
    commune, _, units, c = world
    service.agree_without_comment(session, SYSTEM, c, units[0].id)
    with pytest.raises(service.OpinionRejected, match="đã trả lời"):
        service.add_unit_comments(session, SYSTEM, c, units[0].id, [(None, "Thêm")])
    outsider = make_unit(session, commune, "Đơn vị không được mời")
    with pytest.raises(service.OpinionRejected, match="không có trong danh sách"):
        service.agree_without_comment(session, SYSTEM, c, outsider.id)


def test_unit_comments_need_at_least_one_comment(session, world):
    _, _, units, c = world
    with pytest.raises(service.OpinionRejected, match="Chưa có ý kiến nào"):
        service.add_unit_comments(session, SYSTEM, c, units[0].id, [(None, "  ")])


def test_paper_reply_keeps_its_scan_and_refuses_a_fake_one(session, world):
    _, _, units, c = world
    fake = service.PaperLetter("15/CV-MTTQ", None, filename="cong-van.pdf", data=b"GIF89a not a pdf")
    with pytest.raises(service.OpinionRejected, match="không đúng định dạng"):
        service.agree_without_comment(session, SYSTEM, c, units[0].id, channel="paper", letter=fake)
    session.rollback()
    assert _count(session, UnitReply) == 0
    big = service.PaperLetter("15/CV-MTTQ", None, filename="cong-van.pdf", data=b"%PDF-1.7" + b"0" * 2000)
    with pytest.raises(service.OpinionRejected, match="quá lớn"):
        service.agree_without_comment(session, SYSTEM, c, units[0].id, channel="paper", letter=big, max_bytes=1000)
    session.rollback()
    good = service.PaperLetter("15/CV-MTTQ", None, filename="cong-van.pdf", data=b"%PDF-1.7\n...")
    reply = service.agree_without_comment(session, SYSTEM, c, units[0].id, channel="paper", letter=good)
    session.commit()
    assert reply.attachment_mimetype == "application/pdf" and reply.letter_number == "15/CV-MTTQ"


def test_opinion_search_without_diacritics(session, world):
    _, group, _, c = world
    service.add_resident_opinion(session, c, part_id=None, text="Đề nghị tuyên truyền qua loa phát thanh",
                                 name="Phạm Văn Đức", group_id=group.id)
    service.add_resident_opinion(session, c, part_id=None, text="Nhất trí", name="Hồ Thị Em", group_id=group.id)
    assert [o.resident_name for o in service.list_opinions(session, c, query="loa phat thanh")] == ["Phạm Văn Đức"]
    assert [o.resident_name for o in service.list_opinions(session, c, query="duc")] == ["Phạm Văn Đức"]


@pytest.mark.parametrize("text,agreement", [
    ("Nhất trí, không có ý kiến.", True), ("thống nhất", True), ("Đồng ý với dự thảo.", True),
    ("Không có ý kiến góp ý", True), ("KHONG CO Y KIEN", True), ("Nhất trí với toàn bộ nội dung dự thảo ạ", True),
    ("Không đồng ý với dự thảo.", False), ("Chưa đồng ý.", False), ("Nhất trí nhưng đề nghị bỏ Điều 2.", False),
    ("Đồng ý với mức 500.000 đồng", False), ("Không", False),
])
def test_what_counts_as_agreement_without_comment(text, agreement):
    assert service.is_agreement_only(text) is agreement


def test_agreement_written_as_a_comment_is_a_counted_agreement(session, world):
    _, _, units, c = world
    assert service.add_unit_comments(session, SYSTEM, c, units[0].id, [(None, "Nhất trí, không có ý kiến.")]) == []
    reply = session.scalar(select(UnitReply))
    assert reply.agreed_without_comment and _count(session, Opinion) == 0
    service.add_unit_comments(session, SYSTEM, c, units[1].id, [(None, "Bổ sung Điều 3.")])
    with pytest.raises(service.OpinionRejected, match="chỉ thể hiện sự nhất trí"):
        service.add_unit_comments(session, SYSTEM, c, units[1].id, [(None, "Không có ý kiến gì thêm.")])
    summary = service.reply_summary(session, c)
    assert (summary.replied, summary.agreed, summary.with_comments, summary.unit_opinions) == (2, 1, 1, 1)
