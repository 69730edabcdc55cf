"""Residents' votes, their life: create a vote in the form the law allows for its
matter, open it (the register snapshot, an online vote's key), the consent round
of an online vote, close and decide.

The parts of a vote live beside it, one idea a module: ``rules`` (the law's forms
and thresholds), ``ballots`` (slips, online and paper ballots, the bulletin),
``secrecy`` (the ballot's cryptography), ``meetings``, ``counting`` (tally and
outcome), ``deadlines`` (working days, holidays), ``documents`` (.docx). Their
public names are re-exported here, so that views, commands and tests reach every
step of a vote through this module.
Secrecy: see ``models`` and ``secrecy`` — an online choice is stored only
encrypted under the vote's public key; only the sum is decrypted, at the count,
with the board's key shares. A paper ballot names no household; its counters
record the box's totals.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from consult.audit.service import Actor, record
from consult.auth.models import User
from consult.communes.models import Commune, Household, ResidentialGroup
from consult.polls import keycards, keyceremony, rules, secrecy
from consult.polls.models import (
    KeyCeremony,
    FORM_BALLOT,
    FORM_MEETING,
    FORM_ONLINE,
    FORMS,
    MATTER_KINDS,
    PHASE_CONSENT,
    PHASE_VOTE,
    STATUS_CLOSED,
    STATUS_DECIDED,
    STATUS_DRAFT,
    STATUS_OPEN,
    BallotBox,
    CommitteeMember,
    Participation,
    Poll,
    PollChoice,
    PollGroup,
    PollHousehold,
)
from consult.textutil import nfc
from consult.polls.errors import AlreadyVoted, BallotRejected, EarlyStopRefused, PollError
from consult.polls.secrecy import key_fingerprint
from consult.polls.ballots import (
    CODE_ALPHABET, CONSENT_CHOICES, MAX_OTHER_TEXT, BallotView, IssuedBallot, PaperCountInput, ballot_view, bulletin,
    bulletin_page,
    cast_online, consent_answers, find_token, issue_ballots, normalize_code, open_receipt, paper_counts, prepare_ballot,
    seal_receipt, receipt_published, receipt_tracker, receipts, record_ballot, record_paper_count, record_stub, stubs_recorded, turnout, count_phase,
    TamperedBox, _rebuild_key)
from consult.polls.meetings import (
    attendance_count, attendance_shortfall, check_in, meeting_can_decide, procedures, record_meeting_count,
    record_procedure)
from consult.polls.counting import (
    GroupTally, Tally, final_tally, participants, participants_page, tally, tally_counts, total_households)
from consult.polls.deadlines import (
    Reminder, WorkCalendar, add_local_day, calendar, deadline_reminders, mark_sent, national_holidays, national_workdays,
    needs_recognition, recognise, recognition_deadline, record_received, refuse_recognition, remove_local_day,
    report_deadline)
from consult.timeutil import format_datetime, local_date, today, utcnow

__all__ = [
    "TamperedBox",
    "key_fingerprint",
    "AlreadyVoted",
    "BallotRejected",
    "EarlyStopRefused",
    "BallotView",
    "CODE_ALPHABET",
    "CONSENT_CHOICES",
    "CommitteeInput",
    "GroupTally",
    "IssuedBallot",
    "MAX_OTHER_TEXT",
    "PaperCountInput",
    "PollError",
    "PollInput",
    "Reminder",
    "STANDARD_CHOICES",
    "Tally",
    "add_local_day",
    "calendar",
    "national_holidays",
    "national_workdays",
    "needs_recognition",
    "recognise",
    "recognition_deadline",
    "record_received",
    "refuse_recognition",
    "remove_local_day",
    "WorkCalendar",
    "attendance_count",
    "attendance_shortfall",
    "ballot_view",
    "bulletin",
    "bulletin_page",
    "cast_online",
    "prepare_ballot",
    "open_receipt",
    "seal_receipt",
    "record_ballot",
    "check_close",
    "check_in",
    "close_consent",
    "close_poll",
    "consent_answers",
    "create_poll",
    "deadline_reminders",
    "find_token",
    "follow_with_ballots",
    "issue_ballots",
    "mark_sent",
    "meeting_can_decide",
    "normalize_code",
    "open_poll",
    "paper_counts",
    "participants",
    "participants_page",
    "procedures",
    "receipt_published",
    "receipt_tracker",
    "receipts",
    "record_meeting_count",
    "record_paper_count",
    "record_procedure",
    "record_stub",
    "report_deadline",
    "save_poll",
    "stubs_recorded",
    "turnout",
    "tally",
    "final_tally",
    "tally_counts",
    "total_households",
]

STANDARD_CHOICES = [("agree", "Đồng ý"), ("disagree", "Không đồng ý"), ("other", "Ý kiến khác")]


@dataclass
class CommitteeInput:
    name: str
    role: str
    is_leader: bool = False
    # The member's own staff account (online votes: their key share goes to it alone).
    user_id: int | None = None


@dataclass
class PollInput:
    title: str
    question: str
    matter_kind: str
    form: str
    opens_at: datetime
    closes_at: datetime
    group_ids: list[int]
    content: str = ""
    options: list[str] = field(default_factory=list)  # named options; empty: đồng ý / không đồng ý / ý kiến khác
    committee: list[CommitteeInput] = field(default_factory=list)
    chosen_by_chairman: bool = False
    chosen_by_head_and_front: bool = False
    follows_meeting_id: int | None = None
    agreed_unnecessary_on: date | None = None
    reported_on: date | None = None
    devices_confirmed: bool = False
    # Elections (Điều 15 khoản 4, 5): ``options`` are the candidates; the seats to fill.
    seats: int = 1
    # A meeting: the day it was announced to the households, its place and who chairs it.
    announced_on: date | None = None
    place: str = ""
    chair: str = ""


# --- creating ----------------------------------------------------------------------------

def _failed_meeting(session: Session, commune: Commune, poll_id: int | None, matter_kind: str) -> Poll | None:
    if not poll_id:
        return None
    meeting = session.get(Poll, poll_id)
    if (meeting is None or meeting.commune_id != commune.id or meeting.form != FORM_MEETING
            or meeting.matter_kind != matter_kind or not meeting.failed_for_attendance):
        raise PollError("Chỉ phát phiếu sau một cuộc họp cùng nội dung đã kết thúc vì không đủ số hộ tham dự.")
    return meeting


def _check_committee(form: str, committee: list[CommitteeInput]) -> None:
    if form == FORM_MEETING and not committee:
        return
    members = [m for m in committee if m.name.strip()]
    if not 3 <= len(members) <= 5:
        raise PollError("Tổ lấy ý kiến / Tổ phát phiếu phải có từ 3 đến 5 thành viên (Nghị định 59/2023/NĐ-CP).")
    leaders = [m for m in members if m.is_leader]
    if len(leaders) != 1:
        raise PollError("Tổ phải có đúng một tổ trưởng là đại diện Ban công tác Mặt trận.")
    if "mặt trận" not in leaders[0].role.lower() and "bctmt" not in leaders[0].role.lower():
        raise PollError("Tổ trưởng phải là đại diện Ban công tác Mặt trận (ghi rõ ở vai trò).")


def _link_accounts(session: Session, commune: Commune, committee: list[CommitteeInput]) -> list[CommitteeInput]:
    """Members linked to staff accounts: each account of this commune and active, one member
    each; a member given by the account alone takes the account holder's name."""
    linked, seen = [], set()
    for member in committee:
        if not member.user_id:
            linked.append(replace(member, user_id=None))
            continue
        user = session.get(User, member.user_id)
        if user is None or user.commune_id != commune.id or not user.active:
            raise PollError("Tài khoản của thành viên Tổ lấy ý kiến phải là tài khoản đang hoạt động của "
                            f"{commune.full_name}.")
        if user.id in seen:
            raise PollError(f"Mỗi thành viên Tổ lấy ý kiến dùng tài khoản riêng: tài khoản {user.username} được "
                            "chọn cho hai thành viên.")
        seen.add(user.id)
        linked.append(replace(member, name=member.name if member.name.strip() else user.full_name))
    return linked


def _check_online_preconditions(data: PollInput | Poll, committee_ok: bool) -> None:
    missing = []
    if not data.agreed_unnecessary_on:
        missing.append("Trưởng thôn/Tổ trưởng và Ban công tác Mặt trận thống nhất không cần họp hoặc phát phiếu")
    if not data.reported_on:
        missing.append("đã báo cáo Ủy ban nhân dân và Ủy ban MTTQ cấp xã")
    if not data.devices_confirmed:
        missing.append("các hộ có thiết bị để biểu quyết trực tuyến")
    if not committee_ok:
        missing.append("Tổ lấy ý kiến biểu quyết trực tuyến 3 đến 5 thành viên")
    if missing:
        raise PollError("Chưa đủ điều kiện biểu quyết trực tuyến (Nghị định 59/2023/NĐ-CP, Điều 5): thiếu "
                        + "; ".join(missing) + ".")


def create_poll(session: Session, actor: Actor, commune: Commune, data: PollInput, *,
                now: datetime | None = None) -> Poll:
    """A vote in draft, with its form checked against the law for its matter."""
    return save_poll(session, actor, commune, None, data, now=now)


def save_poll(session: Session, actor: Actor, commune: Commune, poll: Poll | None, data: PollInput, *,
              now: datetime | None = None) -> Poll:
    """Create a draft vote, or change one that has not opened; the same checks either way."""
    now = now or utcnow()
    if poll is not None and poll.status != STATUS_DRAFT:
        raise PollError("Chỉ sửa được cuộc biểu quyết khi còn là bản nháp.")
    if data.matter_kind not in MATTER_KINDS:
        raise PollError("Hãy chọn nội dung thuộc một trong sáu khoản của Điều 15.")
    if data.form not in FORMS:
        raise PollError("Hãy chọn một hình thức biểu quyết.")
    if not data.title.strip() or not data.question.strip():
        raise PollError("Vui lòng nhập tên và nội dung câu hỏi biểu quyết.")
    if data.closes_at <= data.opens_at:
        raise PollError("Thời điểm kết thúc phải sau thời điểm bắt đầu.")
    if data.closes_at <= now:
        raise PollError("Thời điểm kết thúc đã qua.")
    groups = list(session.scalars(select(ResidentialGroup).where(ResidentialGroup.id.in_(data.group_ids or [0]),
                                                                 ResidentialGroup.commune_id == commune.id)))
    if not groups or len(groups) != len(set(data.group_ids)):
        raise PollError("Hãy chọn khu dân cư của xã, phường này.")
    several = len(groups) > 1
    # Commune-wide: every group of the commune, not merely several of them (Luật Điều 21 khoản 1).
    everyone = set(session.scalars(select(ResidentialGroup.id).where(ResidentialGroup.commune_id == commune.id)))
    commune_wide = several and {g.id for g in groups} == everyone
    meeting = _failed_meeting(session, commune, data.follows_meeting_id, data.matter_kind)
    try:
        rules.check_form(data.matter_kind, data.form, commune_wide=commune_wide, several_groups=several,
                         chosen_by_chairman=data.chosen_by_chairman,
                         chosen_by_head_and_front=data.chosen_by_head_and_front,
                         follows_failed_meeting=meeting is not None)
    except rules.FormNotAllowed as exc:
        raise PollError(str(exc)) from None
    committee = _link_accounts(session, commune, data.committee)
    if data.form in (FORM_BALLOT, FORM_ONLINE) or committee:
        _check_committee(data.form, committee)
    if data.form == FORM_ONLINE:
        _check_online_preconditions(data, committee_ok=True)
    if data.form == FORM_MEETING and data.announced_on and data.announced_on > local_date(data.opens_at):
        raise PollError("Ngày thông báo cuộc họp phải trước ngày họp.")
    options = [nfc(o).strip() for o in data.options if o.strip()]
    election = data.matter_kind in rules.ELECTION_KINDS and bool(options)
    seats = data.seats or 1
    if options and len(set(options)) != len(options):
        raise PollError("Các phương án, ứng cử viên không được trùng nhau.")
    if election:
        if data.matter_kind == "k4" and seats != 1:
            raise PollError("Bầu Trưởng thôn, Tổ trưởng tổ dân phố: chỉ một người (khoản 4 Điều 15).")
        if not 1 <= seats <= len(options):
            raise PollError(f"Số người cần bầu phải từ 1 đến số ứng cử viên ({len(options)}).")
    elif seats != 1:
        raise PollError("Chỉ cuộc bầu thành viên Ban Thanh tra nhân dân, Ban Giám sát đầu tư của cộng đồng "
                        "(khoản 5 Điều 15) mới bầu nhiều người.")
    elif data.options and len(options) < 2:
        raise PollError("Cần ít nhất hai phương án lựa chọn.")
    creating = poll is None
    if creating:
        poll = Poll(commune_id=commune.id, status=STATUS_DRAFT, created_at=now, created_by=actor.name)
        session.add(poll)
    else:
        poll.groups.clear()
        poll.choices.clear()
        poll.committee.clear()
        session.flush()
    poll.group_id = None if several else groups[0].id
    poll.whole_commune = commune_wide
    poll.matter_kind, poll.form = data.matter_kind, data.form
    poll.title, poll.question = nfc(data.title).strip(), nfc(data.question).strip()
    poll.content, poll.opens_at, poll.closes_at = nfc(data.content or "").strip(), data.opens_at, data.closes_at
    poll.phase = PHASE_CONSENT if data.form == FORM_ONLINE else PHASE_VOTE
    poll.chosen_by_chairman, poll.chosen_by_head_and_front = data.chosen_by_chairman, data.chosen_by_head_and_front
    poll.follows_meeting_id = meeting.id if meeting else None
    poll.agreed_unnecessary_on, poll.reported_on = data.agreed_unnecessary_on, data.reported_on
    poll.devices_confirmed = data.devices_confirmed
    poll.seats = seats
    poll.announced_on = data.announced_on if data.form == FORM_MEETING else None
    place, chair = nfc(data.place or "").strip(), nfc(data.chair or "").strip()
    if len(place) > 200 or len(chair) > 160:
        raise PollError("Địa điểm dài quá 200 ký tự, hoặc tên người chủ trì dài quá 160 ký tự.")
    poll.place, poll.chair = (place or None, chair or None) if data.form == FORM_MEETING else (None, None)
    for group in groups:
        poll.groups.append(PollGroup(group_id=group.id))
    if options:
        for position, label in enumerate(options):
            poll.choices.append(PollChoice(position=position, label=label,
                                           kind="candidate" if election else "option"))
    else:
        for position, (kind, label) in enumerate(STANDARD_CHOICES):
            poll.choices.append(PollChoice(position=position, label=label, kind=kind))
    for position, member in enumerate(m for m in committee if m.name.strip()):
        poll.committee.append(CommitteeMember(position=position, name=nfc(member.name).strip(),
                                              role=nfc(member.role).strip(), is_leader=member.is_leader,
                                              user_id=member.user_id))
    session.flush()
    record(session, actor, "poll.create" if creating else "poll.update", poll, now=now, details={
        "title": poll.title, "matter": poll.matter_kind, "form": poll.form})
    return poll


# --- opening: the register snapshot and the ballots -------------------------------------------

def open_poll(session: Session, actor: Actor, poll: Poll, *, now: datetime | None = None) -> None:
    """Freeze the register of the covered groups; an online vote starts with its consent round,
    and its end (``closes_at``) is fixed from here on: the draft can no longer be changed.

    An online vote gets its key here: the public part is stored, the secret is split
    among the board (Tổ lấy ý kiến, NĐ 59 Điều 5 khoản 1c), a majority of whom must enter
    their shares to count. Each share is sealed to its own member's account
    (``keycards``), which picks it up; nothing secret goes back to whoever opens the vote.
    """
    now = now or utcnow()
    if poll.status != STATUS_DRAFT:
        raise PollError("Cuộc biểu quyết này đã được mở.")
    if poll.closes_at <= now:
        raise PollError("Thời điểm kết thúc đã qua.")
    if poll.form == FORM_MEETING:
        shortfall = rules.notice_shortfall(poll.announced_on, local_date(poll.opens_at))
        if shortfall is None and poll.announced_on > today(now):
            shortfall = "ngày thông báo ghi ở cuộc họp chưa đến; hãy mở khi đã thông báo"
        if shortfall:
            raise PollError(f"Chưa mở được cuộc họp: {shortfall}.")
    ceremony = None
    if poll.form == FORM_ONLINE:
        started = session.get(KeyCeremony, poll.id) is not None
        keycards.check_board(session, poll, pickup_keys=not started)  # a ceremony's members hold their own
        if started:
            ceremony = keyceremony.finished(session, poll)
            if ceremony is None:
                raise PollError("Lễ tạo khóa của Tổ lấy ý kiến chưa xong: chưa mở được cuộc biểu quyết.")
    group_ids = [g.group_id for g in poll.groups]
    households = list(session.scalars(select(Household).where(Household.group_id.in_(group_ids))
                                      .order_by(Household.group_id, Household.code)))
    if not households:
        raise PollError("Sổ hộ gia đình của khu dân cư đang trống; hãy nhập danh sách hộ trước.")
    for household in households:
        session.add(PollHousehold(poll_id=poll.id, household_id=household.id, group_id=household.group_id,
                                  code=household.code, representative=household.representative,
                                  address=household.address))
    for poll_group in poll.groups:
        poll_group.households = sum(1 for h in households if h.group_id == poll_group.group_id)
    poll.status, poll.opened_at = STATUS_OPEN, now
    sealed_to: list[str] = []
    if poll.form == FORM_ONLINE:
        poll.phase, poll.consent_opens_at = PHASE_CONSENT, now
        if ceremony is not None:  # the board's devices made the key; no one holds its secret
            poll.public_key, poll.key_threshold = bytes(ceremony.joint_key), ceremony.threshold
            poll.texts_key = bytes(ceremony.joint_key)  # the texts: hashed ElGamal under the vote key itself
        else:
            key = secrecy.new_key(poll.id, len(poll.committee))
            poll.public_key, poll.texts_key, poll.key_threshold = key.public, key.texts_public, key.threshold
            keycards.seal_shares(session, poll, key.shares, now=now)
            sealed_to = [m.user.username for m in poll.committee]
    session.flush()
    record(session, actor, "poll.open", poll, now=now, details={
        "households": len(households), "key_shares": len(sealed_to), "key_threshold": poll.key_threshold,
        "key_shares_sealed_to": sealed_to, "key_ceremony": ceremony is not None,
        "fingerprint": key_fingerprint(poll.public_key, poll.texts_key) if poll.public_key else None})


# --- the consent round of an online vote -------------------------------------------------------

def close_consent(session: Session, actor: Actor, poll: Poll, *, shares: list[str] | None = None,
                  now: datetime | None = None, counted=None) -> bool:
    """End the consent round, counted with the board's key shares; voting online goes
    ahead only when more than half of all households agreed (NĐ 59 Điều 5 khoản 1)."""
    now = now or utcnow()
    if poll.form != FORM_ONLINE or poll.phase != PHASE_CONSENT or poll.status != STATUS_OPEN:
        raise PollError("Không có vòng lấy ý kiến đồng ý biểu quyết trực tuyến đang mở.")
    if counted is None:  # else counted beforehand (the members' partial decryptions, keyceremony)
        counted = count_phase(session, poll, PHASE_CONSENT, _rebuild_key(poll, shares))
    agreed = sum(c[0] for c in counted.counts.values())
    session.add(BallotBox(poll_id=poll.id, phase=PHASE_CONSENT, ballots=counted.ballots, other_texts=[],
                          counts={str(g): {k: n for k, n in zip(CONSENT_CHOICES, values) if n}
                                  for g, values in counted.counts.items()},
                          record=counted.record, counted_at=now, counted_by=actor.name))
    households = total_households(poll)
    poll.consent_agreed, poll.consent_closes_at = agreed, now
    if rules.consent_reached(households, agreed):
        poll.phase = PHASE_VOTE
        record(session, actor, "poll.consent_reached", poll, now=now, details={"agreed": agreed, "of": households})
        return True
    poll.status, poll.outcome_passed = STATUS_CLOSED, None
    poll.outcome_text = (f"Không tổ chức biểu quyết trực tuyến: chỉ {agreed}/{households} hộ đồng ý biểu quyết trực "
                         f"tuyến, cần hơn một nửa tổng số hộ ({households // 2 + 1}).")
    keycards.discard(session, poll)
    record(session, actor, "poll.consent_failed", poll, now=now, details={"agreed": agreed, "of": households})
    return False


def _store_online_result(session: Session, actor: Actor, poll: Poll, shares: list[str] | None,
                         now: datetime, counted=None) -> None:
    """Count the online ballots with the board's shares: the sums per group are
    decrypted and written once, with the "ý kiến khác" texts in random order. ``counted``:
    the same count made beforehand outside the write transaction (the count job, after the
    vote's end, when no ballot can be added)."""
    if counted is None:
        counted = count_phase(session, poll, PHASE_VOTE, _rebuild_key(poll, shares))
    elif not counted.record.get("ceremony"):  # the count job's: its shares still rebuild the key
        _rebuild_key(poll, shares)
    by_id = {str(group_id): {str(c.id): n for c, n in zip(poll.choices, values) if n}
             for group_id, values in counted.counts.items()}
    session.add(BallotBox(poll_id=poll.id, phase=PHASE_VOTE, counts=by_id, other_texts=counted.texts,
                          ballots=counted.ballots, record=counted.record, counted_at=now, counted_by=actor.name))
    session.flush()
    record(session, actor, "poll.count", poll, now=now, details={
        "ballots": counted.ballots, "counts": by_id, "refused": counted.record["refused"],
        "fingerprint": counted.record["fingerprint"]})


def check_close(poll: Poll, early_stop_reason: str | None, now: datetime) -> tuple[bool, str]:
    """Whether the vote may be closed now: (an early stop?, its reason). An online vote's end
    was fixed at opening and printed on every slip: before it, only with a stated reason."""
    if poll.status != STATUS_OPEN:
        raise PollError("Cuộc biểu quyết không ở trạng thái đang mở.")
    if poll.form == FORM_ONLINE and poll.phase == PHASE_CONSENT:
        raise PollError("Vòng lấy ý kiến đồng ý biểu quyết trực tuyến chưa kết thúc.")
    early = poll.form == FORM_ONLINE and now < poll.closes_at
    reason = nfc(early_stop_reason or "").strip()[:2000] if early else ""
    if early and not reason:
        raise EarlyStopRefused(
            f"Chưa đến thời điểm kết thúc đã định ({format_datetime(poll.closes_at)}), đã in trên phiếu của các hộ: "
            "chưa kiểm phiếu. Muốn kết thúc sớm, hãy ghi rõ lý do và ít nhất "
            f"{poll.key_threshold} thành viên Tổ lấy ý kiến nhập mã khóa của mình; biên bản sẽ ghi việc kết thúc "
            "sớm và lý do.")
    return early, reason


def close_poll(session: Session, actor: Actor, poll: Poll, *, shares: list[str] | None = None,
               early_stop_reason: str | None = None, now: datetime | None = None, counted=None) -> Tally:
    """Close and decide under the matter's rule; a meeting without enough households
    present ends "không đủ số hộ tham dự" so that ballots may follow (Điều 19).

    An online vote is counted here, with the key shares of a majority of its board;
    paper ballots need the biên bản kiểm phiếu of every group first. An online vote's
    end was fixed at opening and printed on every slip: before it, the count starts only
    with a stated reason and the shares of a majority of the board (which the count needs
    anyway), and the minutes say so."""
    now = now or utcnow()
    early, reason = check_close(poll, early_stop_reason, now)
    if poll.form == FORM_MEETING and not meeting_can_decide(session, poll):
        present = attendance_count(session, poll)
        poll.status, poll.outcome_passed, poll.decided_at = STATUS_CLOSED, None, now
        poll.outcome_text = (f"Không đủ số hộ tham dự: {attendance_shortfall(session, poll)}. "
                             "Có thể phát phiếu lấy ý kiến hộ gia đình cho cùng nội dung.")
        record(session, actor, "poll.meeting_failed", poll, now=now, details={"present": present})
        return tally(session, poll)
    if poll.form == FORM_ONLINE:
        _store_online_result(session, actor, poll, shares, now, counted)
    if poll.form == FORM_BALLOT:
        counted = {row.group_id for row in paper_counts(session, poll)}
        missing = [g.group.full_name for g in poll.groups if g.group_id not in counted]
        if missing:
            raise PollError("Chưa có biên bản kiểm phiếu của: " + ", ".join(missing) + ".")
    result = tally(session, poll)
    poll.status, poll.outcome_passed, poll.decided_at = STATUS_DECIDED, result.passed, now
    poll.outcome_text = ("Thông qua: " if result.passed else "Không thông qua: ") + result.summary + "."
    details = {"passed": result.passed, "summary": result.summary}
    if early:
        poll.early_stopped_at, poll.early_stop_reason = now, reason
        details["early_stop"] = {"reason": reason, "scheduled_end": poll.closes_at.isoformat(),
                                 "board": _members_who_entered(poll, shares)}
    if poll.form == FORM_ONLINE:
        keycards.discard(session, poll)
    record(session, actor, "poll.decide", poll, now=now, details=details)
    return result


def _members_who_entered(poll: Poll, shares: list[str] | None) -> list[str]:
    """The board members whose shares were typed (each share carries its member's number)."""
    numbers = {secrecy.parse_share(poll.id, text)[0] for text in shares or [] if (text or "").strip()}
    return [m.name for index, m in enumerate(poll.committee, start=1) if index in numbers]


def follow_with_ballots(session: Session, actor: Actor, meeting: Poll, data: PollInput, *,
                        now: datetime | None = None) -> Poll:
    """Paper ballots on the same matter after a meeting that failed for attendance."""
    data.follows_meeting_id = meeting.id
    data.form = FORM_BALLOT
    data.matter_kind = meeting.matter_kind
    data.group_ids = [g.group_id for g in meeting.groups]
    return create_poll(session, actor, meeting.commune, data, now=now)


