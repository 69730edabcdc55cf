"""Publication with evidence (Luật Điều 11 to 13, Điều 28 khoản 2, 3).

A consultation's draft, and later its results, are made public at several places:
the portal, posted at the commune office and at each group's cultural house for at
least 30 consecutive days, read on the loudspeaker system for at least 3 days. Each
posting is recorded with its days, who confirmed it and a photo; the checklist says
what is still to be posted, and the comment period's 20 days (30 for a hương ước)
count from the day the draft was really made public, not from the planned day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from consult.audit.service import Actor, record
from consult.communes.models import ResidentialGroup
from consult.communes.service import group_of
from consult.consultations.models import STATUS_DRAFT, STATUS_PUBLISHED, Consultation
from consult.consultations.service import MIN_PERIOD_DAYS, MIN_PERIOD_DAYS_HUONG_UOC
from consult.errors import DomainError
from consult.polls.deadlines import calendar
from consult.publication.models import (
    CHANNELS,
    CULTURAL_HOUSE,
    DRAFT,
    LOUDSPEAKER,
    LOUDSPEAKER_MIN_DAYS,
    OFFICE,
    PORTAL,
    POSTED_CHANNELS,
    POSTED_MIN_DAYS,
    RESULTS,
    SUBJECTS,
    WITHIN_WORKING_DAYS,
    Posting,
)
from consult.textutil import nfc
from consult.timeutil import format_date, local_date, today, utcnow
from consult.uploads import UploadRejected, check_upload, clean_photo

PHOTO_FORMATS = {"jpg", "jpeg", "png"}
PHOTO_MAX_BYTES = 8 * 1024 * 1024


class PublicationError(DomainError):
    """A posting cannot be recorded; the message is for the user."""


@dataclass
class PostingInput:
    subject: str
    channel: str
    posted_on: date | None
    confirmed_by: str
    place: str = ""
    group_id: int | None = None
    ended_on: date | None = None
    photo_name: str | None = None
    photo_data: bytes | None = None


def default_place(consultation: Consultation, channel: str, group: ResidentialGroup | None = None) -> str:
    commune = consultation.commune
    if channel == OFFICE:
        return f"Trụ sở Ủy ban nhân dân {commune.full_name}"
    if channel == CULTURAL_HOUSE and group is not None:
        return f"Nhà văn hóa {group.full_name}"
    if channel == LOUDSPEAKER:
        return f"Hệ thống loa truyền thanh {commune.full_name}"
    return ""


def _base_day(consultation: Consultation, subject: str) -> date | None:
    """The day the published thing existed: the draft's publication, the results' publication."""
    when = consultation.published_at if subject == DRAFT else consultation.results_published_at
    return local_date(when) if when else None


def record_posting(session: Session, actor: Actor, consultation: Consultation, data: PostingInput, *,
                   now: datetime | None = None) -> Posting:
    """Record one posting; every rule is checked before anything is written."""
    now = now or utcnow()
    day = today(now)
    if data.subject not in SUBJECTS:
        raise PublicationError("Hãy chọn nội dung được công khai.")
    if data.channel not in CHANNELS:
        raise PublicationError("Hãy chọn nơi, hình thức công khai.")
    if data.subject == DRAFT and consultation.status == STATUS_DRAFT:
        raise PublicationError("Dự thảo chưa được công khai trên hệ thống; hãy công khai đợt lấy ý kiến trước khi "
                               "ghi nhận việc niêm yết, thông báo.")
    if data.subject == RESULTS and consultation.status != STATUS_PUBLISHED:
        raise PublicationError("Kết quả tiếp thu, giải trình chưa được công khai (Điều 28 khoản 3); hãy công khai "
                               "báo cáo tổng hợp trước.")
    group = None
    if data.channel == CULTURAL_HOUSE:
        group = group_of(session, consultation.commune_id, data.group_id)
        if group is None:
            raise PublicationError("Hãy chọn khu dân cư có nhà văn hóa nơi niêm yết.")
    place = nfc((data.place or "").strip()) or default_place(consultation, data.channel, group)
    if not place:
        raise PublicationError("Vui lòng ghi nơi công khai (với cổng thông tin: địa chỉ trang đăng tải).")
    if len(place) > 300:
        raise PublicationError("Nơi công khai dài quá 300 ký tự.")
    confirmed_by = nfc((data.confirmed_by or "").strip())
    if not confirmed_by:
        raise PublicationError("Vui lòng ghi người xác nhận việc công khai (họ tên, chức vụ).")
    if len(confirmed_by) > 200:
        raise PublicationError("Tên người xác nhận dài quá 200 ký tự.")
    if data.posted_on is None:
        raise PublicationError("Vui lòng nhập ngày bắt đầu công khai (dd/mm/yyyy).")
    if data.posted_on > day:
        raise PublicationError("Ngày công khai không thể sau hôm nay; chỉ ghi việc đã làm.")
    base = _base_day(consultation, data.subject)
    if base and data.posted_on < base:
        raise PublicationError(f"Ngày công khai không thể trước ngày {format_date(base)}, ngày "
                               f"{'dự thảo' if data.subject == DRAFT else 'kết quả'} được công khai trên hệ thống.")
    if data.ended_on is not None:
        if data.ended_on < data.posted_on:
            raise PublicationError("Ngày kết thúc không thể trước ngày bắt đầu công khai.")
        if data.ended_on > day:
            raise PublicationError("Ngày kết thúc không thể sau hôm nay.")
    duplicate = select(Posting.id).where(
        Posting.consultation_id == consultation.id, Posting.subject == data.subject,
        Posting.channel == data.channel, Posting.ended_on.is_(None))
    if group is not None:
        duplicate = duplicate.where(Posting.group_id == group.id)
    if data.channel != LOUDSPEAKER and data.ended_on is None and session.scalar(duplicate):
        raise PublicationError("Đã ghi nhận việc công khai này và vẫn đang niêm yết, đăng tải; "
                               "ghi ngày gỡ của lần trước nếu đã gỡ.")
    photo_name = mimetype = blob = None
    if data.photo_data:
        try:
            checked = clean_photo(check_upload(data.photo_name or "anh", data.photo_data, allowed=PHOTO_FORMATS,
                                               max_bytes=PHOTO_MAX_BYTES))
        except UploadRejected as exc:
            raise PublicationError(f"Ảnh chụp: {exc}") from None
        photo_name, mimetype, blob = checked.filename[:255], checked.mimetype, checked.data
    posting = Posting(
        commune_id=consultation.commune_id, consultation_id=consultation.id, subject=data.subject,
        channel=data.channel, group_id=group.id if group else None, place=place, posted_on=data.posted_on,
        ended_on=data.ended_on, confirmed_by=confirmed_by, photo_name=photo_name, photo_mimetype=mimetype,
        photo=blob, recorded_by=actor.name, recorded_at=now)
    session.add(posting)
    session.flush()
    record(session, actor, "publication.record", consultation, now=now, details={
        "posting": posting.id, "subject": data.subject, "channel": data.channel, "place": place,
        "posted_on": data.posted_on.isoformat(), "photo": bool(blob)})
    return posting


def end_posting(session: Session, actor: Actor, posting: Posting, ended_on: date | None, *,
                now: datetime | None = None) -> None:
    """The day a posting was taken down (or the last day it was broadcast)."""
    now = now or utcnow()
    if ended_on is None:
        raise PublicationError("Vui lòng nhập ngày gỡ (dd/mm/yyyy).")
    if posting.ended_on is not None:
        raise PublicationError("Đã ghi ngày kết thúc của lần công khai này.")
    if ended_on < posting.posted_on:
        raise PublicationError("Ngày gỡ không thể trước ngày bắt đầu niêm yết.")
    if ended_on > today(now):
        raise PublicationError("Ngày gỡ không thể sau hôm nay.")
    posting.ended_on = ended_on
    record(session, actor, "publication.end", object_type="posting", object_id=str(posting.id), now=now,
           details={"ended_on": ended_on.isoformat()})


def postings(session: Session, consultation: Consultation, subject: str | None = None) -> list[Posting]:
    """The consultation's postings (of one subject: the draft or the results), in order."""
    query = select(Posting).where(Posting.consultation_id == consultation.id)
    if subject:
        query = query.where(Posting.subject == subject)
    return list(session.scalars(query.order_by(Posting.subject, Posting.posted_on, Posting.id)))


# --- what is done and what is still to do --------------------------------------------------------

MISSING, UP, DONE, SHORT = "missing", "up", "done", "short"
STATE_LABELS = {MISSING: "Chưa công khai", UP: "Đang niêm yết", DONE: "Đã đủ", SHORT: "Chưa đủ thời gian"}


@dataclass
class Place:
    """One place the law asks for, and how far its posting has gone."""

    channel: str
    label: str
    group_id: int | None
    state: str
    note: str
    late: bool = False
    postings: list[Posting] = field(default_factory=list)


def _days(posting: Posting, day: date) -> int:
    return ((posting.ended_on or day) - posting.posted_on).days + 1


def _judge(channel: str, items: list[Posting], day: date) -> tuple[str, str]:
    if not items:
        return MISSING, ""
    if channel in POSTED_CHANNELS:
        best = max(items, key=lambda p: _days(p, day))
        days = _days(best, day)
        if days >= POSTED_MIN_DAYS:
            return DONE, f"niêm yết {days} ngày liên tục từ {format_date(best.posted_on)}"
        if best.ended_on is None:
            full = best.posted_on + timedelta(days=POSTED_MIN_DAYS - 1)
            return UP, (f"niêm yết từ {format_date(best.posted_on)}, đủ {POSTED_MIN_DAYS} ngày vào hết ngày "
                        f"{format_date(full)}")
        return SHORT, (f"gỡ ngày {format_date(best.ended_on)} sau {days} ngày, chưa đủ {POSTED_MIN_DAYS} ngày liên "
                       "tục (Điều 13 khoản 2); cần niêm yết lại")
    if channel == LOUDSPEAKER:
        days = sum(_days(p, day) for p in items)
        if days >= LOUDSPEAKER_MIN_DAYS:
            return DONE, f"thông báo {days} ngày"
        return SHORT, f"mới thông báo {days} ngày; cần ít nhất {LOUDSPEAKER_MIN_DAYS} ngày (Điều 13 khoản 3)"
    first = min(items, key=lambda p: p.posted_on)
    return DONE, f"đăng tải từ {format_date(first.posted_on)}"


def checklist(session: Session, consultation: Consultation, subject: str, *, now: datetime | None = None,
              items: list[Posting] | None = None) -> list[Place]:
    """The places the law asks for, each with its state: the portal, the commune office, the
    cultural house of every group, the loudspeaker (Điều 13); postings late by more than 5
    working days after the thing was published are flagged (Điều 12 khoản 3)."""
    day = today(now)
    items = [p for p in (items if items is not None else postings(session, consultation)) if p.subject == subject]
    base = _base_day(consultation, subject)
    deadline = (calendar(session, consultation.commune_id, base).add_working_days(base, WITHIN_WORKING_DAYS)
                if base else None)
    wanted = [(PORTAL, CHANNELS[PORTAL], None), (OFFICE, CHANNELS[OFFICE], None)]
    wanted += [(CULTURAL_HOUSE, f"Nhà văn hóa {g.full_name}", g.id) for g in consultation.commune.groups]
    wanted.append((LOUDSPEAKER, CHANNELS[LOUDSPEAKER], None))
    places = []
    for channel, label, group_id in wanted:
        mine = [p for p in items if p.channel == channel and (group_id is None or p.group_id == group_id)]
        state, note = _judge(channel, mine, day)
        late = bool(mine and deadline and min(p.posted_on for p in mine) > deadline)
        if late:
            note += (f"; công khai muộn: phải trong {WITHIN_WORKING_DAYS} ngày làm việc, đến "
                     f"{format_date(deadline)} (Điều 12 khoản 3)")
        places.append(Place(channel, label, group_id, state, note, late, mine))
    return places


def real_start(session: Session, consultation: Consultation, items: list[Posting] | None = None) -> date | None:
    """The day the draft was really made public: its first recorded posting."""
    days = [p.posted_on for p in (items if items is not None else postings(session, consultation))
            if p.subject == DRAFT]
    return min(days) if days else None


def period_shortfall(consultation: Consultation, start: date | None) -> str | None:
    """Why the comment period, counted from the real publication day, is below the law's
    minimum (Luật Điều 28 khoản 2: 20 days; NĐ 61 Điều 9: 30 days for a hương ước), or None."""
    if consultation.status == STATUS_DRAFT or start is None or consultation.short_period_basis:
        return None
    minimum = MIN_PERIOD_DAYS_HUONG_UOC if consultation.doc_kind == "huong_uoc" else MIN_PERIOD_DAYS
    closes = local_date(consultation.closes_at)
    days = (closes - start).days
    if days >= minimum:
        return None
    law = ("Nghị định 61/2023/NĐ-CP, Điều 9" if consultation.doc_kind == "huong_uoc"
           else "Luật Thực hiện dân chủ ở cơ sở, Điều 28 khoản 2")
    return (f"Dự thảo được công khai thực tế từ ngày {format_date(start)}; đến hạn góp ý {format_date(closes)} chỉ "
            f"có {days} ngày, chưa đủ {minimum} ngày theo {law}. Hãy gia hạn đến ít nhất ngày "
            f"{format_date(start + timedelta(days=minimum))}.")
