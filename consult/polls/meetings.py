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
        household = session.get(PollHousehold, find_token(session, token=token_value, code=code).household.id)
    else:
        household = session.get(PollHousehold, poll_household_id or 0)
    if household is None or household.poll_id != poll.id:
        raise PollError("Hộ không có trong danh sách của cuộc họp.")
    cluster = (cluster or "").strip()
    if cluster:
        group = next(g for g in poll.groups if g.group_id == household.group_id)
        if group.households < rules.CLUSTER_MIN_HOUSEHOLDS:
            raise PollError(f"Chỉ họp theo cụm dân cư khi khu dân cư có từ {rules.CLUSTER_MIN_HOUSEHOLDS} hộ trở lên "
                            f"(khoản 3 Điều 18); {group.group.full_name} có {group.households} hộ.")
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


def attendance_by_group(session: Session, poll: Poll) -> dict[int, int]:
    """Households present, per group (a meeting of several groups counts each apart)."""
    rows = session.execute(select(PollHousehold.group_id, func.count()).join(
        Attendance, Attendance.poll_household_id == PollHousehold.id).where(
        Attendance.poll_id == poll.id).group_by(PollHousehold.group_id))
    return dict(rows.all())


def meeting_can_decide(session: Session, poll: Poll) -> bool:
    """Whether the households present could still pass the matter (Điều 19: else ballots may follow)."""
    present = attendance_by_group(session, poll)
    return rules.meeting_groups_can_decide(poll.matter_kind, poll.commune_wide,
                                           [(g.households, present.get(g.group_id, 0)) for g in poll.groups])


def attendance_shortfall(session: Session, poll: Poll) -> str:
    """Why a meeting could not decide: each group's attendance against its own households."""
    present = attendance_by_group(session, poll)
    parts = [(g, present.get(g.group_id, 0), rules.min_agree(poll.matter_kind, g.households)) for g in poll.groups]
    if len(parts) == 1:
        g, here, needed = parts[0]
        return f"{here}/{g.households} hộ có mặt, cần ít nhất {needed} hộ đồng ý để thông qua"
    rule = ("cần ít nhất hai phần ba số khu dân cư, mỗi khu đủ số hộ của khu"
            if poll.commune_wide and poll.matter_kind in rules.TWO_THIRDS_KINDS
            else "không khu dân cư nào đủ số hộ của khu")
    return "; ".join(f"{g.group.full_name} {here}/{g.households} hộ có mặt, cần ít nhất {needed}"
                     for g, here, needed in parts) + f" ({rule})"


def record_meeting_count(session: Session, actor: Actor, poll: Poll, *, counts: dict[int, int], method: str,
                         cluster: str = "", group_id: int | None = None, returned: int | None = None,
                         invalid: int | None = None, now: datetime | None = None) -> MeetingCount:
    """A show of hands, or the Ban kiểm phiếu's count of a secret ballot, per cluster and,
    at a meeting of several groups, per group: each group's households decide by their
    own count (Luật Điều 21 khoản 1). A secret ballot's count says how many ballots were
    handed out (one per household present), returned and invalid (NĐ 59 Điều 3 khoản 5):
    the counts are of the valid ones, each naming at most the seats to fill."""
    now = now or utcnow()
    if poll.form != FORM_MEETING or poll.status != STATUS_OPEN:
        raise PollError("Chỉ ghi kết quả khi cuộc họp đang diễn ra.")
    if method not in ("hands", "secret"):
        raise PollError("Hãy chọn cách biểu quyết: giơ tay hoặc bỏ phiếu kín.")
    valid = {c.id for c in poll.choices}
    if set(counts) - valid or any(v < 0 for v in counts.values()):
        raise PollError("Số liệu không hợp lệ.")
    group_ids = [g.group_id for g in poll.groups]
    if group_id is None and len(group_ids) == 1:
        group_id = group_ids[0]
    if group_id not in group_ids:
        raise PollError("Hãy chọn khu dân cư của kết quả biểu quyết (cuộc họp gồm nhiều khu dân cư: "
                        "mỗi khu ghi kết quả riêng).")
    stmt = select(func.count()).select_from(Attendance).join(
        PollHousehold, PollHousehold.id == Attendance.poll_household_id).where(
        Attendance.poll_id == poll.id, PollHousehold.group_id == group_id)
    if cluster.strip():
        stmt = stmt.where(Attendance.cluster == cluster.strip())
    present = session.scalar(stmt) or 0
    # Each ballot may name up to the seats to fill (an election of several members).
    seats = max(1, poll.seats or 1)
    most = present * seats
    if sum(counts.values()) > most:
        raise PollError(f"Tổng số phiếu ({sum(counts.values())}) vượt quá số hộ có mặt ({present})"
                        + (f" nhân số chỗ cần bầu ({poll.seats})." if seats > 1 else "."))
    issued = None
    if method == "secret":
        if returned is None or invalid is None:
            raise PollError("Bỏ phiếu kín: hãy ghi số phiếu thu vào và số phiếu không hợp lệ (biên bản kiểm phiếu).")
        if not 0 <= returned <= present:
            raise PollError(f"Số phiếu thu vào phải từ 0 đến số phiếu phát ra ({present}, số hộ có mặt).")
        if not 0 <= invalid <= returned:
            raise PollError(f"Số phiếu không hợp lệ phải từ 0 đến số phiếu thu vào ({returned}).")
        valid = returned - invalid
        if sum(counts.values()) > valid * seats:
            raise PollError(f"Tổng số phiếu của các phương án ({sum(counts.values())}) vượt quá số phiếu hợp lệ "
                            f"({valid})" + (f" nhân số chỗ cần bầu ({poll.seats})." if seats > 1 else "."))
        issued = present
    else:
        returned = invalid = None
    if session.scalar(select(MeetingCount.id).where(MeetingCount.poll_id == poll.id,
                                                    MeetingCount.cluster == cluster.strip(),
                                                    MeetingCount.group_id == group_id)):
        raise PollError("Cụm dân cư, khu dân cư này đã có kết quả biểu quyết.")
    row = MeetingCount(poll_id=poll.id, group_id=group_id, cluster=cluster.strip(), method=method,
                       counts={str(k): v for k, v in counts.items()}, issued=issued, returned=returned,
                       invalid=invalid, recorded_at=now, recorded_by=actor.name)
    session.add(row)
    session.flush()
    record(session, actor, "poll.meeting_count", poll, now=now, details={
        "cluster": cluster, "method": method, "counts": row.counts, "issued": issued, "returned": returned,
        "invalid": invalid})
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
