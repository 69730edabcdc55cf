"""Publication with evidence: the places and days the law asks for (Luật Điều 13 khoản 1 to 3),
within 5 working days (Điều 12 khoản 3), and the comment period counted from the day the
draft was really made public (Điều 28 khoản 2; NĐ 61 Điều 9 for a hương ước)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from consult.audit.service import SYSTEM
from consult.consultations import service as consultations
from consult.publication import service
from consult.publication.models import CULTURAL_HOUSE, DRAFT, LOUDSPEAKER, OFFICE, PORTAL, RESULTS, Posting
from tests.support.helpers import make_commune, make_consultation, make_group

# Monday 2 March 2026, 09:00 in Viet Nam.
MONDAY = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 3, 0, tzinfo=UTC)


@pytest.fixture
def world(session):
    commune = make_commune(session)
    groups = [make_group(session, commune, "Khu phố 1"), make_group(session, commune, "Khu phố 2", position=1)]
    c = make_consultation(session, commune, [], now=MONDAY, days=25)
    session.flush()
    return commune, groups, c


def _post(session, c, channel, posted_on, *, now, subject=DRAFT, group=None, ended_on=None, **extra):
    return service.record_posting(session, SYSTEM, c, service.PostingInput(
        subject=subject, channel=channel, posted_on=posted_on, confirmed_by="Lê Thị Tâm, công chức VP-TK",
        group_id=group.id if group else None, ended_on=ended_on, **extra), now=now)


def _states(places):
    return {(p.channel, p.group_id): p.state for p in places}


def test_the_checklist_names_every_place_the_law_asks_for_and_what_is_missing(session, world):
    """Điều 13: the portal, the commune office, every group's cultural house, the loudspeaker."""
    commune, groups, c = world
    places = service.checklist(session, c, DRAFT, now=MONDAY)
    assert [p.label for p in places] == [
        "Cổng (trang) thông tin điện tử của xã, phường", "Niêm yết tại trụ sở Ủy ban nhân dân",
        "Nhà văn hóa Khu phố 1", "Nhà văn hóa Khu phố 2", "Hệ thống loa truyền thanh"]
    assert {p.state for p in places} == {service.MISSING}
    _post(session, c, PORTAL, date(2026, 3, 2), now=MONDAY, place="https://binhan.example/lay-y-kien")
    _post(session, c, CULTURAL_HOUSE, date(2026, 3, 2), now=MONDAY, group=groups[0])
    states = _states(service.checklist(session, c, DRAFT, now=MONDAY))
    assert states[(PORTAL, None)] == service.DONE
    assert states[(CULTURAL_HOUSE, groups[0].id)] == service.UP
    assert states[(CULTURAL_HOUSE, groups[1].id)] == service.MISSING
    assert states[(OFFICE, None)] == service.MISSING


def test_a_posting_counts_as_done_after_30_consecutive_days_and_short_if_taken_down_before(session, world):
    """Điều 13 khoản 2: niêm yết at least 30 consecutive days (2/3 to 31/3 is 30 days)."""
    _, groups, c = world
    _post(session, c, OFFICE, date(2026, 3, 2), now=MONDAY)
    day_29 = _at(date(2026, 3, 30))
    office = service.checklist(session, c, DRAFT, now=day_29)[1]
    assert office.state == service.UP and "đủ 30 ngày vào hết ngày 31/03/2026" in office.note
    assert service.checklist(session, c, DRAFT, now=_at(date(2026, 3, 31)))[1].state == service.DONE
    early = _post(session, c, CULTURAL_HOUSE, date(2026, 3, 2), now=MONDAY, group=groups[0])
    service.end_posting(session, SYSTEM, early, date(2026, 3, 30), now=_at(date(2026, 3, 30)))
    house = service.checklist(session, c, DRAFT, now=_at(date(2026, 4, 5)))[2]
    assert house.state == service.SHORT and "sau 29 ngày" in house.note and "Điều 13 khoản 2" in house.note


def test_the_loudspeaker_needs_at_least_3_days(session, world):
    """Điều 13 khoản 3: on the loudspeaker system at least 3 days."""
    _, _, c = world
    _post(session, c, LOUDSPEAKER, date(2026, 3, 2), now=_at(date(2026, 3, 3)), ended_on=date(2026, 3, 3))
    loud = service.checklist(session, c, DRAFT, now=_at(date(2026, 3, 10)))[-1]
    assert loud.state == service.SHORT and "2 ngày" in loud.note
    _post(session, c, LOUDSPEAKER, date(2026, 3, 5), now=_at(date(2026, 3, 10)), ended_on=date(2026, 3, 5))
    assert service.checklist(session, c, DRAFT, now=_at(date(2026, 3, 10)))[-1].state == service.DONE


def test_a_posting_later_than_5_working_days_is_flagged(session, world):
    """Điều 12 khoản 3: made public within 5 working days; published Monday 2/3, so by Monday 9/3."""
    _, groups, c = world
    _post(session, c, CULTURAL_HOUSE, date(2026, 3, 9), now=_at(date(2026, 3, 9)), group=groups[0])
    _post(session, c, CULTURAL_HOUSE, date(2026, 3, 10), now=_at(date(2026, 3, 10)), group=groups[1])
    places = service.checklist(session, c, DRAFT, now=_at(date(2026, 3, 10)))
    assert not places[2].late
    assert places[3].late and "09/03/2026 (Điều 12 khoản 3)" in places[3].note


def test_the_comment_period_counts_from_the_real_publication_day(session, world):
    """Điều 28 khoản 2: at least 20 days from the day the draft is made public. Published in the
    system on 2/3 and closing on 27/3, but first posted on 10/3: only 17 days."""
    _, _, c = world
    assert service.period_shortfall(c, service.real_start(session, c)) is None  # nothing posted yet
    _post(session, c, OFFICE, date(2026, 3, 10), now=_at(date(2026, 3, 10)))
    start = service.real_start(session, c)
    assert start == date(2026, 3, 10)
    message = service.period_shortfall(c, start)
    assert "chỉ có 17 ngày, chưa đủ 20 ngày" in message and "Điều 28 khoản 2" in message
    assert "ít nhất ngày 30/03/2026" in message
    # An earlier posting at another place moves the real start back: the period is enough.
    _post(session, c, PORTAL, date(2026, 3, 2), now=_at(date(2026, 3, 10)), place="https://binhan.example/du-thao")
    assert service.period_shortfall(c, service.real_start(session, c)) is None
    # Extending the deadline is the remedy.
    consultations.extend_deadline(session, SYSTEM, c, c.closes_at + timedelta(days=5), "Niêm yết muộn",
                                  now=_at(date(2026, 3, 10)))


def test_a_huong_uoc_draft_needs_30_days_from_its_real_posting(session, world):
    """NĐ 61/2023 Điều 9: a hương ước draft is posted at least 30 days."""
    _, _, c = world
    c.doc_kind = "huong_uoc"
    c.closes_at = MONDAY + timedelta(days=31)
    _post(session, c, OFFICE, date(2026, 3, 4), now=_at(date(2026, 3, 4)))
    message = service.period_shortfall(c, service.real_start(session, c))
    assert "chỉ có 29 ngày, chưa đủ 30 ngày" in message and "Nghị định 61/2023/NĐ-CP, Điều 9" in message


@pytest.mark.parametrize("change, message", [
    (dict(posted_on=date(2026, 3, 3)), "không thể sau hôm nay"),
    (dict(posted_on=date(2026, 3, 1)), "không thể trước ngày 02/03/2026"),
    (dict(confirmed_by="  "), "người xác nhận"),
    (dict(channel=CULTURAL_HOUSE), "khu dân cư"),
    (dict(subject=RESULTS), "chưa được công khai (Điều 28 khoản 3)"),
    (dict(ended_on=date(2026, 3, 1)), "trước ngày bắt đầu"),
    (dict(photo_name="anh.png", photo_data=b"not an image"), "Ảnh chụp"),
    (dict(photo_name="anh.gif", photo_data=b"GIF89a"), "Chỉ nhận tệp .jpeg, .jpg, .png"),
])
def test_bad_postings_are_refused_with_the_reason_and_nothing_is_written(session, world, change, message):
    _, _, c = world
    data = dict(subject=DRAFT, channel=OFFICE, posted_on=date(2026, 3, 2), confirmed_by="Lê Thị Tâm")
    data.update(change)
    with pytest.raises(service.PublicationError, match=re.escape(message)):
        service.record_posting(session, SYSTEM, c, service.PostingInput(**data), now=MONDAY)
    assert session.query(Posting).count() == 0


def test_a_place_still_posted_is_not_recorded_twice_and_results_come_after_the_report(session, world):
    _, _, c = world
    _post(session, c, OFFICE, date(2026, 3, 2), now=MONDAY)
    with pytest.raises(service.PublicationError, match="vẫn đang niêm yết"):
        _post(session, c, OFFICE, date(2026, 3, 2), now=MONDAY)
    consultations.mark_results_published(session, SYSTEM, c, now=_at(date(2026, 4, 1)))
    posted = _post(session, c, OFFICE, date(2026, 4, 2), now=_at(date(2026, 4, 2)), subject=RESULTS)
    assert posted.place == "Trụ sở Ủy ban nhân dân Phường Bình An"
    results = service.checklist(session, c, RESULTS, now=_at(date(2026, 4, 2)))
    assert results[1].state == service.UP and results[0].state == service.MISSING


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` × ``height`` pixels in 100 bytes (its data is never decoded)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("width, height", [(30_000, 30_000), (10_000, 5_001)])
def test_a_photo_of_too_many_pixels_is_refused_before_it_is_decoded(session, world, width, height):
    """A 30,000 × 30,000 PNG packs into about a hundred KB and unpacks to gigabytes in a staff
    browser: refused from its header (50 million pixels at most; 10,000 × 5,000 is the last)."""
    _, _, c = world
    data = dict(subject=DRAFT, channel=OFFICE, posted_on=date(2026, 3, 2), confirmed_by="Lê Thị Tâm",
                photo_name="anh.png", photo_data=_png_header_only(width, height))
    with pytest.raises(service.PublicationError, match="Ảnh quá lớn"):
        service.record_posting(session, SYSTEM, c, service.PostingInput(**data), now=MONDAY)
    assert session.query(Posting).count() == 0


def test_a_photo_keeps_none_of_its_metadata_and_stands_upright(session, world):
    """A phone's photo carries EXIF (its GPS position, the owner's name, the time): none is kept;
    its orientation tag is applied first, so the kept photo stands as it was taken."""
    import io

    from PIL import Image

    _, _, c = world
    exif = Image.Exif()
    exif[0x013B] = "Nguyễn Văn Chụp"  # Artist
    exif[0x0112] = 6  # Orientation: rotate 90° to stand upright
    exif[0x8825] = {1: "N", 2: (10.0, 48.0, 0.0)}  # GPS latitude
    source = io.BytesIO()
    Image.new("RGB", (400, 300), (200, 30, 30)).save(source, "JPEG", exif=exif.tobytes())
    assert b"Nguy" in source.getvalue()
    posted = _post(session, c, OFFICE, date(2026, 3, 2), now=MONDAY, photo_name="anh.jpg",
                   photo_data=source.getvalue())
    kept = Image.open(io.BytesIO(posted.photo))
    assert kept.format == "JPEG" and kept.size == (300, 400)
    assert not kept.getexif() and "exif" not in kept.info and b"Nguy" not in posted.photo
