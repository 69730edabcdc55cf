"""Consultation rules: the law's minimum period, publication, extension, part corrections."""

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text

from consult.audit.service import SYSTEM
from consult.consultations import service
from consult.consultations.models import Consultation, DeadlineChange, DraftPart
from consult.opinions.service import add_resident_opinion
from consult.reports import service as reports
from tests.support.helpers import SMALL_DRAFT, make_commune, make_consultation, make_group, make_unit

T0 = datetime(2024, 9, 19, 1, 0, tzinfo=timezone.utc)  # 08:00 19/9/2024 in Hà Nội time


def _facts(**overrides):
    values = dict(title="Lấy ý kiến dự thảo", doc_kind="nghi_quyet", issuing_body="UBND phường Bình An",
                  officer_name="Lê Thị Tâm", opens_at=T0, closes_at=T0 + timedelta(days=21))
    values.update(overrides)
    return service.ConsultationFacts(**values)


def _count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_seed_letter_period_of_21_days_is_accepted(session):
    commune = make_commune(session)
    closes = datetime(2024, 10, 10, 10, 0, tzinfo=timezone.utc)  # 17:00 10/10/2024 local
    c = service.create_consultation(session, SYSTEM, commune, _facts(closes_at=closes),
                                    service.read_draft(text=SMALL_DRAFT), [], now=T0)
    service.publish(session, SYSTEM, c, now=T0)
    assert c.status == "open" and c.published_at == T0


def test_period_shorter_than_20_days_refused_unless_legal_basis(session):
    commune = make_commune(session)
    session.commit()
    with pytest.raises(service.ConsultationError, match="ít nhất 20 ngày"):
        service.create_consultation(session, SYSTEM, commune, _facts(closes_at=T0 + timedelta(days=10)),
                                    service.read_draft(text=SMALL_DRAFT), [], now=T0)
    session.rollback()
    assert _count(session, Consultation) == 0
    c = service.create_consultation(
        session, SYSTEM, commune, _facts(closes_at=T0 + timedelta(days=10),
                                         short_period_basis="Khoản 2 Điều 28: luật khác quy định thời hạn ngắn hơn"),
        service.read_draft(text=SMALL_DRAFT), [], now=T0)
    assert c.short_period_basis


def test_huong_uoc_needs_30_days(session):
    commune = make_commune(session)
    with pytest.raises(service.ConsultationError, match="ít nhất 30 ngày"):
        service.create_consultation(session, SYSTEM, commune, _facts(doc_kind="huong_uoc"),
                                    service.read_draft(text=SMALL_DRAFT), [], now=T0)


def test_closing_time_in_the_past_refused_and_nothing_saved(session):
    commune = make_commune(session)
    session.commit()
    with pytest.raises(service.ConsultationError, match="đã qua"):
        service.create_consultation(session, SYSTEM, commune, _facts(), service.read_draft(text=SMALL_DRAFT), [],
                                    now=T0 + timedelta(days=30))
    session.rollback()
    assert _count(session, Consultation) == 0 and _count(session, DraftPart) == 0


def test_draft_without_parts_refused(session):
    with pytest.raises(service.ConsultationError, match="Không tìm thấy phần nào"):
        service.read_draft(text="Kính gửi Nhân dân. Xin ý kiến.")
    with pytest.raises(service.ConsultationError, match="dán nội dung"):
        service.read_draft(text="   ")


def test_uploaded_file_not_what_it_claims_or_too_large(session):
    with pytest.raises(service.ConsultationError, match="không đúng định dạng"):
        service.read_draft(filename="du-thao.docx", data=b"%PDF-1.4 not a docx")
    with pytest.raises(service.ConsultationError, match="quá lớn"):
        service.read_draft(filename="du-thao.txt", data=SMALL_DRAFT.encode() * 10, max_bytes=100)
    with pytest.raises(service.ConsultationError, match="UTF-8"):
        service.read_draft(filename="du-thao.txt", data="Điều 1. Á".encode("utf-16"))
    with pytest.raises(service.ConsultationError, match="Chỉ nhận"):
        service.read_draft(filename="du-thao.exe", data=b"MZ....")


def test_publication_counts_the_period_from_now(session):
    commune = make_commune(session)
    c = service.create_consultation(session, SYSTEM, commune, _facts(), service.read_draft(text=SMALL_DRAFT), [],
                                    now=T0)
    with pytest.raises(service.ConsultationError, match="ít nhất 20 ngày"):
        service.publish(session, SYSTEM, c, now=T0 + timedelta(days=5))
    assert c.status == "draft"


def test_extension_is_recorded_publicly_and_audited(session):
    commune = make_commune(session)
    c = make_consultation(session, commune, [], now=T0)
    new_close = c.closes_at + timedelta(days=7)
    with pytest.raises(service.ConsultationError, match="lý do"):
        service.extend_deadline(session, SYSTEM, c, new_close, "", now=T0 + timedelta(days=2))
    with pytest.raises(service.ConsultationError, match="sau thời hạn hiện tại"):
        service.extend_deadline(session, SYSTEM, c, c.closes_at - timedelta(days=1), "x", now=T0 + timedelta(days=2))
    service.extend_deadline(session, SYSTEM, c, new_close, "Nhiều khu phố đề nghị thêm thời gian",
                            now=T0 + timedelta(days=2))
    session.commit()
    assert c.closes_at == new_close
    assert session.scalar(select(DeadlineChange.reason)) == "Nhiều khu phố đề nghị thêm thời gian"
    assert session.execute(text("SELECT count(*) FROM audit_entry WHERE action='consultation.extend'")).scalar() == 1
    with pytest.raises(service.ConsultationError, match="đang mở"):
        service.extend_deadline(session, SYSTEM, c, new_close + timedelta(days=1), "x",
                                now=new_close + timedelta(seconds=1))


def test_relabel_merge_and_split_without_touching_the_source(session):
    commune = make_commune(session)
    c = make_consultation(session, commune, [], now=T0, publish=False)
    source = c.source_text
    labels = [p.label for p in c.parts]
    assert labels == ["Điều 1", "Điều 1, khoản 1", "Điều 1, khoản 1, điểm a", "Điều 1, khoản 1, điểm b",
                      "Điều 1, khoản 2", "Điều 2"]
    point_b = next(p for p in c.parts if p.label.endswith("điểm b"))
    service.relabel_part(session, SYSTEM, c, point_b.id, kind="point", number="đ", title="")
    assert "Điều 1, khoản 1, điểm đ" in [p.label for p in c.parts]
    service.merge_part(session, SYSTEM, c, point_b.id)
    point_a = next(p for p in c.parts if p.label == "Điều 1, khoản 1, điểm a")
    assert point_a.text == "Điểm a.\nđ) Điểm b." and len(c.parts) == 5
    service.split_part(session, SYSTEM, c, point_a.id, at_text="đ) Điểm b.", kind="point", number="b")
    assert [p.label for p in c.parts] == labels
    assert next(p for p in c.parts if p.label.endswith("điểm b")).text == "đ) Điểm b."
    with pytest.raises(service.ConsultationError, match="trùng số hiệu"):
        service.relabel_part(session, SYSTEM, c, point_a.id, kind="point", number="b", title="")
    session.rollback()
    assert c.source_text == source


def test_parts_cannot_be_corrected_after_publication(session):
    commune = make_commune(session)
    c = make_consultation(session, commune, [], now=T0)
    with pytest.raises(service.ConsultationError, match="trước khi công khai"):
        service.merge_part(session, SYSTEM, c, c.parts[1].id)


def test_search_with_or_without_diacritics(session):
    commune = make_commune(session)
    make_consultation(session, commune, [], title="Lấy ý kiến dự thảo Nghị quyết về dân chủ ở cơ sở")
    make_consultation(session, commune, [], title="Lấy ý kiến kế hoạch chỉnh trang đô thị")
    session.commit()
    for query in ("dan chu co so", "Dân chủ ở cơ sở", "DAN CHU"):
        found = service.public_consultations(session, commune.id, query=query)
        assert [c.title for c in found] == ["Lấy ý kiến dự thảo Nghị quyết về dân chủ ở cơ sở"], query
    assert len(service.public_consultations(session, commune.id, query="")) == 2
    assert service.public_consultations(session, commune.id, query="100%_") == []


def test_invited_units_must_belong_to_the_commune(session):
    a = make_commune(session)
    b = make_commune(session, name="Tân Đông Hiệp", slug="phuong-tdh")
    foreign = make_unit(session, b, "Hội Phụ nữ phường Tân Đông Hiệp")
    with pytest.raises(service.ConsultationError, match="không thuộc"):
        make_consultation(session, a, [foreign])


def test_one_standing_for_each_instant_of_a_consultation(session):
    """Each boundary of Consultation.standing, to the microsecond: scheduled until the opening
    instant, open from it, closed from the closing instant, published once results are public."""
    commune = make_commune(session)
    opens = datetime(2026, 12, 3, 1, 0, tzinfo=timezone.utc)  # 08:00 03/12/2026 in Hà Nội
    c = make_consultation(session, commune, [], now=opens, days=26, publish=False)
    assert c.standing(opens).key == "draft" and not c.standing(opens).accepts
    service.publish(session, SYSTEM, c, now=opens - timedelta(days=1))
    tick = timedelta(microseconds=1)
    before = c.standing(opens - tick)
    assert (before.key, before.accepts, before.tone) == ("scheduled", False, "warn")
    assert before.sentence == "Bắt đầu nhận ý kiến từ 08:00 03/12/2026, hạn cuối 08:00 29/12/2026."
    at = c.standing(opens)
    assert (at.key, at.accepts, at.sentence) == ("open", True, "Hạn cuối 08:00 29/12/2026 (còn 26 ngày 0 giờ).")
    assert c.accepts_opinions(opens) and not c.accepts_opinions(opens - tick)
    assert c.standing(c.closes_at - tick).accepts
    add_resident_opinion(session, c, part_id=None, text="Đề nghị bổ sung.", name="Lan",
                         group_id=make_group(session, commune).id, now=opens)
    closed = c.standing(c.closes_at)
    assert (closed.key, closed.accepts) == ("closed", False)
    assert closed.sentence == "Đã hết thời hạn góp ý (08:00 29/12/2026). Không nhận thêm ý kiến."
    row = next(reports.report_data(session, c, now=c.closes_at).rows())
    reports.decide(session, SYSTEM, c, row.cluster.id, decision="accepted")
    reported = c.standing(c.closes_at)
    assert (reported.key, reported.accepts) == ("reported", False)
    assert reported.sentence.startswith("Đã hết thời hạn góp ý (08:00 29/12/2026). Đã tổng hợp, tiếp thu, giải trình")
    c.status = "published"
    assert c.standing(c.closes_at).key == "published" and not c.standing(c.closes_at).accepts


def test_a_scheduled_consultation_can_be_extended_before_it_opens(session):
    commune = make_commune(session)
    opens = datetime(2026, 12, 3, 1, 0, tzinfo=timezone.utc)
    c = make_consultation(session, commune, [], now=opens, days=26, publish=False)
    service.publish(session, SYSTEM, c, now=opens - timedelta(days=1))
    later = c.closes_at + timedelta(days=2)
    service.extend_deadline(session, SYSTEM, c, later, "Trùng dịp lễ", now=opens - timedelta(hours=1))
    assert c.closes_at == later
    with pytest.raises(service.ConsultationError, match="đang mở hoặc sắp mở"):
        service.extend_deadline(session, SYSTEM, c, later + timedelta(days=1), "Lý do", now=later)
