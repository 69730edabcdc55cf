"""The path of a hương ước, quy ước (NĐ 61/2023 Điều 9, 10; Luật Điều 15 khoản 3, Điều 21 khoản 2).

Stages, each derived from what has been recorded, so that the page never disagrees with the vote:
drafting → comments (at least 30 days: NĐ 61 Điều 9) → ready for the meeting → meeting (a vote of
matter k3, held by the ordinary vote pages) → adopted or not → recognised (or refused) by the
commune's UBND → published.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from consult.audit.service import Actor, record
from consult.communes.models import Commune
from consult.communes.service import group_of
from consult.covenants.models import KINDS, Covenant, CovenantComment
from consult.errors import DomainError
from consult.polls import service as polls
from consult.polls.errors import PollError
from consult.polls.models import FORM_MEETING, STATUS_DECIDED, Poll
from consult.textutil import checked_text
from consult.timeutil import format_date, format_datetime, local_date, utcnow

COMMENT_MIN_DAYS = 30  # NĐ 61/2023 Điều 9: the draft is posted at least 30 days

DRAFTING, COMMENTS, READY, MEETING, BALLOTS, ADOPTED, NOT_ADOPTED, RECOGNISED, REFUSED = (
    "drafting", "comments", "ready", "meeting", "ballots", "adopted", "not_adopted", "recognised", "refused")
STAGES = {
    DRAFTING: "Đang soạn thảo",
    COMMENTS: "Đang lấy ý kiến hộ gia đình",
    READY: "Đã hết hạn góp ý, chờ họp thông qua",
    MEETING: "Đưa ra cuộc họp cộng đồng dân cư",
    BALLOTS: "Phát phiếu lấy ý kiến (cuộc họp không đủ số hộ tham dự)",
    ADOPTED: "Đã thông qua, chờ Ủy ban nhân dân công nhận",
    NOT_ADOPTED: "Không được thông qua",
    RECOGNISED: "Đã được công nhận",
    REFUSED: "Ủy ban nhân dân không công nhận",
}


class CovenantError(DomainError):
    """A step of the path was refused; the message is for the user."""


@dataclass
class Progress:
    stage: str
    meeting: Poll | None
    ballots: Poll | None

    @property
    def deciding(self) -> Poll | None:
        """The vote whose result stands: the ballots after a failed meeting, else the meeting."""
        return self.ballots or self.meeting

    @property
    def label(self) -> str:
        return STAGES[self.stage]


def progress(session: Session, covenant: Covenant, now: datetime | None = None) -> Progress:
    now = now or utcnow()
    meeting = session.get(Poll, covenant.poll_id) if covenant.poll_id else None
    ballots = (session.scalar(select(Poll).where(Poll.follows_meeting_id == meeting.id).order_by(Poll.id.desc()))
               if meeting else None)
    if covenant.comments_open_at is None:
        return Progress(DRAFTING, None, None)
    if meeting is None:
        return Progress(COMMENTS if now < covenant.comments_close_at else READY, None, None)
    deciding = ballots or meeting
    if deciding.status != STATUS_DECIDED:
        return Progress(BALLOTS if ballots else MEETING, meeting, ballots)
    if not deciding.outcome_passed:
        return Progress(NOT_ADOPTED, meeting, ballots)
    if deciding.recognised_on:
        return Progress(RECOGNISED, meeting, ballots)
    if deciding.refusal_reason:
        return Progress(REFUSED, meeting, ballots)
    return Progress(ADOPTED, meeting, ballots)


def _text(value: str | None, what: str, limit: int) -> str:
    return checked_text(value, what, limit, CovenantError)


def create(session: Session, actor: Actor, commune: Commune, *, group_id: int, kind: str, title: str,
           text: str, amends_id: int | None = None, now: datetime | None = None) -> Covenant:
    """A draft hương ước or quy ước of one group (or an amendment of a recognised one)."""
    now = now or utcnow()
    group = group_of(session, commune.id, group_id)
    if group is None:
        raise CovenantError("Hãy chọn khu dân cư của xã, phường này.")
    if kind not in KINDS:
        raise CovenantError("Hãy chọn hương ước hoặc quy ước.")
    amends = None
    if amends_id:
        amends = session.get(Covenant, amends_id)
        if amends is None or amends.group_id != group.id or progress(session, amends, now).stage != RECOGNISED:
            raise CovenantError("Chỉ sửa đổi, bổ sung hương ước, quy ước đã được công nhận của cùng khu dân cư.")
    covenant = Covenant(commune_id=commune.id, group_id=group.id, kind=kind,
                        title=_text(title, "tên hương ước, quy ước", 300), draft_text=_text(text, "nội dung dự thảo",
                                                                                           200_000),
                        amends_id=amends.id if amends else None, created_by=actor.name, created_at=now)
    session.add(covenant)
    session.flush()
    record(session, actor, "covenant.create", covenant, now=now, details={"title": covenant.title,
                                                                           "amends": covenant.amends_id})
    return covenant


def update_draft(session: Session, actor: Actor, covenant: Covenant, *, title: str, text: str,
                 now: datetime | None = None) -> None:
    if covenant.comments_open_at is not None:
        raise CovenantError("Dự thảo đã công khai để lấy ý kiến; nội dung tiếp thu ghi ở bước “Dự thảo trình cuộc họp”.")
    covenant.title = _text(title, "tên hương ước, quy ước", 300)
    covenant.draft_text = _text(text, "nội dung dự thảo", 200_000)
    record(session, actor, "covenant.update", covenant, now=now)


def open_comments(session: Session, actor: Actor, covenant: Covenant, closes_at: datetime | None, *,
                  now: datetime | None = None) -> None:
    """Post the draft for the households' comments, at least 30 days (NĐ 61 Điều 9)."""
    now = now or utcnow()
    if covenant.comments_open_at is not None:
        raise CovenantError("Dự thảo đã được công khai để lấy ý kiến.")
    if closes_at is None:
        raise CovenantError("Vui lòng nhập thời hạn góp ý.")
    days = (local_date(closes_at) - local_date(now)).days
    if days < COMMENT_MIN_DAYS:
        raise CovenantError(f"Thời gian lấy ý kiến chỉ có {days} ngày; dự thảo hương ước, quy ước phải được công khai "
                            f"để lấy ý kiến ít nhất {COMMENT_MIN_DAYS} ngày (Nghị định 61/2023/NĐ-CP, Điều 9). Hãy "
                            f"chọn hạn từ ngày {format_date(local_date(now) + timedelta(days=COMMENT_MIN_DAYS))}.")
    covenant.comments_open_at, covenant.comments_close_at = now, closes_at
    record(session, actor, "covenant.open_comments", covenant, now=now,
           details={"closes_at": format_datetime(closes_at)})


def add_comment(session: Session, covenant: Covenant, *, name: str, address: str, text: str,
                channel: str = "online", now: datetime | None = None) -> CovenantComment:
    """A household's comment while the draft is open for comments."""
    now = now or utcnow()
    if covenant.comments_open_at is None or not (covenant.comments_open_at <= now < covenant.comments_close_at):
        raise CovenantError("Dự thảo không trong thời gian lấy ý kiến; ý kiến chưa được ghi nhận.")
    comment = CovenantComment(covenant_id=covenant.id, name=_text(name, "họ tên đại diện hộ", 160),
                              address=_text(address, "địa chỉ hộ", 255), text=_text(text, "nội dung góp ý", 5000),
                              channel="paper" if channel == "paper" else "online", created_at=now)
    session.add(comment)
    session.flush()
    return comment


def comments(session: Session, covenant: Covenant) -> list[CovenantComment]:
    return list(session.scalars(select(CovenantComment).where(CovenantComment.covenant_id == covenant.id)
                                .order_by(CovenantComment.created_at, CovenantComment.id)))


@dataclass
class MeetingInput:
    final_text: str
    opens_at: datetime
    closes_at: datetime
    announced_on: date | None


def call_meeting(session: Session, actor: Actor, covenant: Covenant, data: MeetingInput, *,
                 now: datetime | None = None) -> Poll:
    """The meeting that adopts the text, with the comments taken in: a vote of matter k3, by
    meeting only (Luật Điều 17 khoản 2; NĐ 61 Điều 10), run on the ordinary vote pages."""
    now = now or utcnow()
    stage = progress(session, covenant, now).stage
    if stage == COMMENTS:
        raise CovenantError(f"Chưa hết thời gian lấy ý kiến hộ gia đình (đến {format_datetime(covenant.comments_close_at)}"
                            "); chỉ họp thông qua sau khi đã lấy ý kiến (Nghị định 61/2023/NĐ-CP, Điều 9, 10).")
    if stage != READY:
        raise CovenantError("Chỉ họp thông qua dự thảo đã lấy ý kiến hộ gia đình và chưa đưa ra cuộc họp.")
    final = _text(data.final_text, "nội dung trình cuộc họp", 200_000)
    if data.opens_at < covenant.comments_close_at:
        raise CovenantError("Cuộc họp phải sau khi hết thời gian lấy ý kiến.")
    group = covenant.group
    try:
        poll = polls.create_poll(session, actor, covenant.commune, polls.PollInput(
            title=f"Thông qua {covenant.kind_label.lower()} {group.full_name}"[:300],
            question=f"Hộ gia đình có đồng ý thông qua “{covenant.title}” không?"[:2000],
            matter_kind="k3", form=FORM_MEETING, opens_at=data.opens_at, closes_at=data.closes_at,
            group_ids=[group.id], content=final, announced_on=data.announced_on), now=now)
    except PollError as exc:
        raise CovenantError(str(exc)) from None
    covenant.final_text, covenant.poll_id = final, poll.id
    record(session, actor, "covenant.call_meeting", covenant, now=now, details={"poll": poll.id})
    return poll


def of_poll(session: Session, poll: Poll) -> Covenant | None:
    """The covenant a vote adopts (the meeting's, or the ballots' that followed it)."""
    meeting_id = poll.follows_meeting_id or poll.id
    return session.scalar(select(Covenant).where(Covenant.poll_id == meeting_id))


def listing(session: Session, condition) -> list[Covenant]:
    return list(session.scalars(select(Covenant).where(condition).order_by(Covenant.created_at.desc(),
                                                                              Covenant.id.desc())))


def amendments(session: Session, covenant: Covenant) -> list[Covenant]:
    return list(session.scalars(select(Covenant).where(Covenant.amends_id == covenant.id).order_by(Covenant.id)))


PUBLIC_STAGES = {COMMENTS, READY, MEETING, BALLOTS, ADOPTED, NOT_ADOPTED, RECOGNISED, REFUSED}
