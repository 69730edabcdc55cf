"""Meetings of the community (Luật Điều 18; NĐ 59 Điều 3): attendance, clusters,
the meeting's procedural choices, and its counts by show of hands or secret ballot."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from consult.audit.service import Actor, record
from consult.polls import rules
from consult.polls.models import (
    FORM_MEETING,
    STATUS_OPEN,
    Attendance,
    MeetingCount,
    MeetingProcedure,
    PROCEDURE_SUBJECTS,
    Poll,
    PollHousehold,
)
from consult.textutil import nfc
from consult.timeutil import utcnow
from consult.polls.errors import PollError
from consult.polls.ballots import find_token

# --- meetings ------------------------------------------------------------------------------

def check_in(session: Session, actor: Actor, poll: Poll, *, poll_household_id: int | None = None,
             token_value: str | None = None, code: str | None = None, cluster: str = "") -> PollHousehold:
    """Mark a household present at the meeting, from the register or by its slip (Luật Điều 18)."""
    if poll.form != FORM_MEETING or poll.status != STATUS_OPEN:
        raise PollError("Chỉ điểm danh khi cuộc họp đang diễn ra.")
    if token_value or code:
        household = find_token(session, token=token_value, code=code).household
    else:
        household = session.get(PollHousehold, poll_household_id or 0)
    if household is None or household.poll_id != poll.id:
        raise PollError("Hộ không có trong danh sách của cuộc họp.")
    if session.get(Attendance, (poll.id, household.id)) is None:
        session.add(Attendance(poll_id=poll.id, poll_household_id=household.id, cluster=(cluster or "").strip()))
        session.flush()
    return household


def attendance_count(session: Session, poll: Poll, cluster: str | None = None) -> int:
    """Households present at the meeting, in one cluster or in all."""
    stmt = select(func.count()).select_from(Attendance).where(Attendance.poll_id == poll.id)
    if cluster is not None:
        stmt = stmt.where(Attendance.cluster == cluster)
    return session.scalar(stmt) or 0


def meeting_can_decide(session: Session, poll: Poll) -> bool:
    """Whether the households present could still pass the matter (Điều 19: else ballots may follow)."""
    return rules.meeting_can_decide(poll.matter_kind, poll.households_total, attendance_count(session, poll))


def record_meeting_count(session: Session, actor: Actor, poll: Poll, *, counts: dict[int, int], method: str,
                         cluster: str = "", now: datetime | None = None) -> MeetingCount:
    """A show of hands, or the Ban kiểm phiếu's count of a secret ballot, per cluster."""
    now = now or utcnow()
    if poll.form != FORM_MEETING or poll.status != STATUS_OPEN:
        raise PollError("Chỉ ghi kết quả khi cuộc họp đang diễn ra.")
    if method not in ("hands", "secret"):
        raise PollError("Hãy chọn cách biểu quyết: giơ tay hoặc bỏ phiếu kín.")
    valid = {c.id for c in poll.choices}
    if set(counts) - valid or any(v < 0 for v in counts.values()):
        raise PollError("Số liệu không hợp lệ.")
    present = attendance_count(session, poll, cluster.strip())
    if sum(counts.values()) > present:
        raise PollError(f"Tổng số phiếu ({sum(counts.values())}) vượt quá số hộ có mặt ({present}).")
    if session.scalar(select(MeetingCount.id).where(MeetingCount.poll_id == poll.id,
                                                    MeetingCount.cluster == cluster.strip())):
        raise PollError("Cụm dân cư này đã có kết quả biểu quyết.")
    row = MeetingCount(poll_id=poll.id, cluster=cluster.strip(), method=method,
                       counts={str(k): v for k, v in counts.items()}, recorded_at=now, recorded_by=actor.name)
    session.add(row)
    session.flush()
    record(session, actor, "poll.meeting_count", poll, now=now, details={"cluster": cluster, "method": method,
                                                                         "counts": row.counts})
    return row


def record_procedure(session: Session, actor: Actor, poll: Poll, *, subject: str, proposal: str, agree: int,
                     now: datetime | None = None) -> MeetingProcedure:
    """The meeting chooses its secretary, its vote counters or how it votes: passed by
    more than half of the representatives present (NĐ 59 Điều 3 khoản 5)."""
    now = now or utcnow()
    if poll.form != FORM_MEETING or poll.status != STATUS_OPEN:
        raise PollError("Chỉ ghi khi cuộc họp đang diễn ra.")
    if subject not in PROCEDURE_SUBJECTS:
        raise PollError("Nội dung biểu quyết thủ tục không hợp lệ.")
    proposal = nfc(proposal or "").strip()
    if not proposal:
        raise PollError("Hãy ghi đề xuất được biểu quyết (ví dụ tên người làm thư ký).")
    present = attendance_count(session, poll)
    if agree < 0 or agree > present:
        raise PollError(f"Số người tán thành phải từ 0 đến số đại diện có mặt ({present}).")
    row = MeetingProcedure(poll_id=poll.id, subject=subject, proposal=proposal, present=present, agree=agree,
                           passed=rules.procedural_passes(present, agree), recorded_at=now, recorded_by=actor.name)
    session.add(row)
    session.flush()
    record(session, actor, "poll.procedure", poll, now=now, details={
        "subject": subject, "proposal": proposal, "agree": agree, "present": present, "passed": row.passed})
    return row


def procedures(session: Session, poll: Poll) -> list[MeetingProcedure]:
    """The meeting's procedural choices, in the order they were made."""
    return list(session.scalars(select(MeetingProcedure).where(MeetingProcedure.poll_id == poll.id)
                                .order_by(MeetingProcedure.recorded_at, MeetingProcedure.id)))
