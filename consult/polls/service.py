"""Residents' votes: create, open (snapshot the register, make ballots), vote
online or record paper slips, run a meeting, close and decide.

Rules of the law live in ``rules``; this module applies them to the data.
Secrecy: see ``models`` and ``secrecy`` — an online choice is stored only
encrypted under the vote's public key; only the sum is decrypted, at the count,
with the board's key shares. A paper ballot names no household; its counters
record the box's totals.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from consult import security
from consult.audit.service import Actor, record
from consult.communes.models import Commune, Household, ResidentialGroup
from consult.polls import rules, secrecy
from consult.polls.models import (
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
    Attendance,
    BallotBox,
    BallotToken,
    CastBallot,
    CommitteeMember,
    Holiday,
    MeetingCount,
    MeetingProcedure,
    PROCEDURE_SUBJECTS,
    PaperCount,
    Participation,
    Poll,
    PollChoice,
    PollGroup,
    PollHousehold,
)
from consult.textutil import nfc
from consult.timeutil import format_date, format_datetime, local_date, utcnow

STANDARD_CHOICES = [("agree", "Đồng ý"), ("disagree", "Không đồng ý"), ("other", "Ý kiến khác")]
CONSENT_CHOICES = {"agree": "Đồng ý biểu quyết trực tuyến", "disagree": "Không đồng ý biểu quyết trực tuyến"}
# Without 0/O, 1/I/L: easy to read aloud and type from a slip.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
# Every online ballot carries a sealed text of one size (see ``secrecy``).
MAX_OTHER_TEXT = 500


class PollError(ValueError):
    """A rule of voting was broken; the message is for the user."""


class AlreadyVoted(PollError):
    pass


class BallotRejected(PollError):
    """Unknown, revoked or used token, closed vote, or a choice not of the vote."""


@dataclass
class CommitteeInput:
    name: str
    role: str
    is_leader: bool = False


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


# --- creating ----------------------------------------------------------------------------

def _failed_meeting(session: Session, commune: Commune, poll_id: int | None, matter_kind: str) -> Poll | None:
    if not poll_id:
        return None
    meeting = session.get(Poll, poll_id)
    if (meeting is None or meeting.commune_id != commune.id or meeting.form != FORM_MEETING
            or meeting.matter_kind != matter_kind or not (meeting.outcome_text or "").startswith("Không đủ")):
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
    commune_wide = len(groups) > 1
    meeting = _failed_meeting(session, commune, data.follows_meeting_id, data.matter_kind)
    try:
        rules.check_form(data.matter_kind, data.form, commune_wide=commune_wide,
                         chosen_by_chairman=data.chosen_by_chairman,
                         chosen_by_head_and_front=data.chosen_by_head_and_front,
                         follows_failed_meeting=meeting is not None)
    except rules.FormNotAllowed as exc:
        raise PollError(str(exc)) from None
    if data.form in (FORM_BALLOT, FORM_ONLINE) or data.committee:
        _check_committee(data.form, data.committee)
    if data.form == FORM_ONLINE:
        _check_online_preconditions(data, committee_ok=True)
    options = [nfc(o).strip() for o in data.options if o.strip()]
    if data.options and len(options) < 2:
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
    poll.group_id = None if commune_wide else groups[0].id
    poll.matter_kind, poll.form = data.matter_kind, data.form
    poll.title, poll.question = nfc(data.title).strip(), nfc(data.question).strip()
    poll.content, poll.opens_at, poll.closes_at = nfc(data.content or "").strip(), data.opens_at, data.closes_at
    poll.phase = PHASE_CONSENT if data.form == FORM_ONLINE else PHASE_VOTE
    poll.chosen_by_chairman, poll.chosen_by_head_and_front = data.chosen_by_chairman, data.chosen_by_head_and_front
    poll.follows_meeting_id = meeting.id if meeting else None
    poll.agreed_unnecessary_on, poll.reported_on = data.agreed_unnecessary_on, data.reported_on
    poll.devices_confirmed = data.devices_confirmed
    for group in groups:
        poll.groups.append(PollGroup(group_id=group.id))
    if options:
        for position, label in enumerate(options):
            poll.choices.append(PollChoice(position=position, label=label, kind="option"))
    else:
        for position, (kind, label) in enumerate(STANDARD_CHOICES):
            poll.choices.append(PollChoice(position=position, label=label, kind=kind))
    for position, member in enumerate(m for m in data.committee if m.name.strip()):
        poll.committee.append(CommitteeMember(position=position, name=nfc(member.name).strip(),
                                              role=nfc(member.role).strip(), is_leader=member.is_leader))
    session.flush()
    record(session, actor, "poll.create" if creating else "poll.update", poll, now=now, details={
        "title": poll.title, "matter": poll.matter_kind, "form": poll.form})
    return poll


# --- opening: the register snapshot and the ballots -------------------------------------------

@dataclass
class KeyShare:
    """One board member's share of an online vote's key: handed out once, at opening."""

    member: str
    role: str
    code: str


def open_poll(session: Session, actor: Actor, poll: Poll, *, now: datetime | None = None) -> list[KeyShare]:
    """Freeze the register of the covered groups; an online vote starts with its consent round.

    An online vote gets its key here: the public part is stored, the secret is
    split among the board (Tổ lấy ý kiến, NĐ 59 Điều 5 khoản 1c), a majority of
    whom must enter their shares to count. The shares are returned, never stored.
    """
    now = now or utcnow()
    if poll.status != STATUS_DRAFT:
        raise PollError("Cuộc biểu quyết này đã được mở.")
    if poll.closes_at <= now:
        raise PollError("Thời điểm kết thúc đã qua.")
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
    shares: list[KeyShare] = []
    if poll.form == FORM_ONLINE:
        poll.phase, poll.consent_opens_at = PHASE_CONSENT, now
        key = secrecy.new_key(poll.id, len(poll.committee))
        poll.public_key, poll.texts_key, poll.key_threshold = key.public, key.texts_public, key.threshold
        shares = [KeyShare(m.name, m.role, code) for m, code in zip(poll.committee, key.shares)]
    session.flush()
    record(session, actor, "poll.open", poll, now=now, details={
        "households": len(households), "key_shares": len(shares), "key_threshold": poll.key_threshold})
    return shares


def total_households(poll: Poll) -> int:
    """H: all households of the covered groups in the register snapshot (Điều 21 khoản 1)."""
    return sum(g.households for g in poll.groups)


def _new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(10))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normalize_code(code: str) -> str:
    """A typed manual code in its printed form: upper case, in groups of 4-4-2."""
    raw = "".join(ch for ch in (code or "").upper() if ch.isalnum())
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}" if len(raw) == 10 else raw


@dataclass
class IssuedBallot:
    household: PollHousehold
    token: str  # shown once, on the slip: 192 bits from secrets
    code: str


def issue_ballots(session: Session, actor: Actor, poll: Poll, *, household_ids: list[int] | None = None,
                  now: datetime | None = None) -> list[IssuedBallot]:
    """New slips for the households that have not voted (or the ones given):
    each earlier slip of theirs is revoked, so a lost slip cannot be used."""
    now = now or utcnow()
    if poll.status != STATUS_OPEN:
        raise PollError("Chỉ in phiếu khi cuộc biểu quyết đang mở.")
    voted = set(session.scalars(select(Participation.poll_household_id).where(
        Participation.poll_id == poll.id, Participation.phase == poll.phase)))
    stmt = select(PollHousehold).where(PollHousehold.poll_id == poll.id).order_by(
        PollHousehold.group_id, PollHousehold.code)
    if household_ids is not None:
        stmt = stmt.where(PollHousehold.id.in_(household_ids or [0]))
    targets = [h for h in session.scalars(stmt) if h.id not in voted or household_ids is not None]
    if household_ids is not None and not targets:
        raise PollError("Không tìm thấy hộ trong danh sách của cuộc biểu quyết.")
    ids = [h.id for h in targets]
    for old in session.scalars(select(BallotToken).where(BallotToken.poll_household_id.in_(ids or [0]),
                                                         BallotToken.revoked_at.is_(None))):
        old.revoked_at = now
    issued = []
    for household in targets:
        token, code = security.new_token(24), _new_code()
        session.add(BallotToken(poll_id=poll.id, poll_household_id=household.id, token_hash=security.hash_token(token),
                                code_hash=security.hash_token(code), issued_at=now))
        issued.append(IssuedBallot(household, token, code))
    session.flush()
    record(session, actor, "poll.ballots_issued", poll, now=now,
           details={"slips": len(issued), "reprint": household_ids is not None})
    return issued


# --- ballots ------------------------------------------------------------------------------

@dataclass
class BallotView:
    poll: Poll
    token: BallotToken
    household: PollHousehold
    group: ResidentialGroup
    phase: str
    choices: list[tuple[int | str, str, str]]  # (value, label, kind)
    voted_on: date | None


def find_token(session: Session, *, token: str | None = None, code: str | None = None) -> BallotToken:
    """The live token for a QR link or a manual code; BallotRejected otherwise."""
    if token:
        digest = security.hash_token(token)
        row = session.scalar(select(BallotToken).where(BallotToken.token_hash == digest))
    elif code:
        row = session.scalar(select(BallotToken).where(BallotToken.code_hash == security.hash_token(normalize_code(code))))
    else:
        row = None
    if row is None:
        raise BallotRejected("Mã phiếu không đúng. Hãy kiểm tra lại mã trên phiếu.")
    if row.revoked_at is not None:
        raise BallotRejected("Phiếu này đã bị hủy vì hộ đã được cấp phiếu mới. Hãy dùng phiếu mới nhất.")
    return row


def ballot_view(session: Session, token: BallotToken) -> BallotView:
    """What the ballot page shows for a token: the vote, the household, the phase and its choices."""
    poll = session.get(Poll, token.poll_id)
    household = token.household
    voted_on = session.scalar(select(Participation.voted_on).where(
        Participation.poll_id == poll.id, Participation.phase == poll.phase,
        Participation.poll_household_id == household.id))
    if poll.phase == PHASE_CONSENT:
        choices = [(key, label, key) for key, label in CONSENT_CHOICES.items()]
    else:
        choices = [(c.id, c.label, c.kind) for c in poll.choices]
    return BallotView(poll, token, household, session.get(ResidentialGroup, household.group_id), poll.phase, choices,
                      voted_on)


def _check_window(poll: Poll, now: datetime) -> None:
    if poll.status != STATUS_OPEN:
        raise BallotRejected("Cuộc biểu quyết đã kết thúc; phiếu không được ghi nhận.")
    if poll.phase == PHASE_CONSENT:
        if poll.consent_closes_at is not None and now >= poll.consent_closes_at:
            raise BallotRejected("Đã hết thời gian lấy ý kiến đồng ý biểu quyết trực tuyến.")
        return
    if now < poll.opens_at:
        raise BallotRejected(f"Chưa đến giờ biểu quyết (bắt đầu {format_datetime(poll.opens_at)}).")
    if now >= poll.closes_at:
        raise BallotRejected(f"Đã hết thời gian biểu quyết ({format_datetime(poll.closes_at)}); phiếu không được ghi nhận.")


def _choice_index(poll: Poll, choice) -> tuple[int, str]:
    """Validate a choice; return its position among the phase's choices, and its kind."""
    if poll.phase == PHASE_CONSENT:
        if choice not in CONSENT_CHOICES:
            raise BallotRejected("Lựa chọn không hợp lệ.")
        return list(CONSENT_CHOICES).index(choice), str(choice)
    try:
        choice_id = int(choice)
    except (TypeError, ValueError):
        raise BallotRejected("Hãy chọn một phương án.") from None
    for index, c in enumerate(poll.choices):
        if c.id == choice_id:
            return index, c.kind
    raise BallotRejected("Lựa chọn không thuộc cuộc biểu quyết này.")


def _check_other_text(kind: str, other_text: str | None) -> str:
    other_text = nfc(other_text or "").strip()
    if kind == "other" and not other_text:
        raise BallotRejected("Hãy ghi ý kiến khác của hộ.")
    if len(other_text) > MAX_OTHER_TEXT:
        raise BallotRejected(f"Ý kiến khác dài quá {MAX_OTHER_TEXT} ký tự.")
    if "\x00" in other_text:
        raise BallotRejected("Ý kiến khác có ký tự không hợp lệ.")
    return other_text if kind == "other" else ""


def _mark(session: Session, poll: Poll, household: PollHousehold, channel: str, now: datetime) -> None:
    """The household's "has voted" mark; the database refuses a second one. The insert
    does nothing on conflict, so a second try leaves no error naming the household
    in the database's log."""
    values = dict(poll_id=poll.id, phase=poll.phase, poll_household_id=household.id, voted_on=local_date(now),
                  channel=channel)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    inserted = session.execute(insert(Participation).values(**values).on_conflict_do_nothing()
                               .returning(Participation.poll_household_id)).first()
    if inserted is None:
        day = session.scalar(select(Participation.voted_on).where(
            Participation.poll_id == poll.id, Participation.phase == poll.phase,
            Participation.poll_household_id == household.id))
        raise AlreadyVoted(f"Hộ này đã biểu quyết{' ngày ' + format_date(day) if day else ''}; "
                           "mỗi hộ chỉ có một phiếu.")


def cast_online(session: Session, token_value: str | None, choice, *, code: str | None = None,
                other_text: str | None = None, now: datetime | None = None) -> str:
    """An online ballot (or consent answer) from the QR link or the typed code.

    The household is marked as having voted, and its choice is stored only as a
    ciphertext under the vote's public key, with a sealed "ý kiến khác" of fixed
    size (empty or not). Returns the receipt code: the start of the ballot's
    tracker, which the public bulletin lists (none in the consent round).
    """
    now = now or utcnow()
    token = find_token(session, token=token_value, code=code)
    poll = session.get(Poll, token.poll_id)
    if poll.form != FORM_ONLINE:
        raise BallotRejected("Đây là phiếu giấy: hãy đánh dấu lựa chọn trên phiếu và nộp cho Tổ phát phiếu.")
    _check_window(poll, now)
    index, kind = _choice_index(poll, choice)
    text = _check_other_text(kind, other_text)
    choices = len(CONSENT_CHOICES) if poll.phase == PHASE_CONSENT else len(poll.choices)
    ciphertext = secrecy.encrypt_choice(poll.public_key, choices, index)
    sealed = secrecy.seal_text(poll.texts_key, text)
    tracker = secrecy.tracker(ciphertext, sealed)
    _mark(session, poll, token.household, "online", now)
    session.add(CastBallot(poll_id=poll.id, phase=poll.phase, group_id=token.household.group_id,
                           ciphertext=ciphertext, sealed_text=sealed, tracker=tracker))
    session.flush()
    return secrecy.receipt_code(tracker) if poll.phase == PHASE_VOTE else ""


def record_stub(session: Session, actor: Actor, poll: Poll, *, token_value: str | None = None,
                code: str | None = None, now: datetime | None = None) -> tuple[PollHousehold, bool]:
    """The Tổ phát phiếu records a returned slip's stub (scanned or by its code): the
    household took part. The ballot part, which names no household, goes into the box
    unread. Returns the household and whether this stub was new."""
    now = now or utcnow()
    if poll.form != FORM_BALLOT:
        raise PollError("Cuộc biểu quyết này không dùng phiếu giấy.")
    token = find_token(session, token=token_value, code=code)
    if token.poll_id != poll.id:
        raise BallotRejected("Phiếu này thuộc cuộc biểu quyết khác.")
    if poll.status != STATUS_OPEN:
        raise BallotRejected("Cuộc biểu quyết đã kết thúc.")
    try:
        _mark(session, poll, token.household, "paper", now)
    except AlreadyVoted:
        return token.household, False
    record(session, actor, "poll.stub", poll, now=now, details={"household": token.household.code})
    return token.household, True


@dataclass
class PaperCountInput:
    """Biên bản kiểm phiếu of one group's box (NĐ 59 Điều 4 khoản 6, Mẫu 02)."""

    group_id: int
    issued: int
    returned: int
    valid: int
    invalid: int
    counts: dict[int, int]
    other_texts: list[str] = field(default_factory=list)
    place: str = ""
    counters: str = ""
    witnesses: str = ""


def record_paper_count(session: Session, actor: Actor, poll: Poll, data: PaperCountInput, *,
                       now: datetime | None = None) -> PaperCount:
    """The totals of one group's paper ballots, counted by the Tổ phát phiếu before two
    household witnesses: never a choice per household."""
    now = now or utcnow()
    if poll.form != FORM_BALLOT or poll.status != STATUS_OPEN:
        raise PollError("Chỉ ghi biên bản kiểm phiếu khi cuộc lấy ý kiến bằng phiếu đang mở.")
    group = next((g for g in poll.groups if g.group_id == data.group_id), None)
    if group is None:
        raise PollError("Khu dân cư không thuộc cuộc biểu quyết này.")
    if session.scalar(select(PaperCount.id).where(PaperCount.poll_id == poll.id,
                                                  PaperCount.group_id == data.group_id)):
        raise PollError(f"{group.group.full_name} đã có biên bản kiểm phiếu.")
    numbers = [data.issued, data.returned, data.valid, data.invalid, *data.counts.values()]
    if any(n is None or n < 0 for n in numbers):
        raise PollError("Các số phiếu phải là số nguyên không âm.")
    valid_choices = {c.id for c in poll.choices}
    if set(data.counts) - valid_choices:
        raise PollError("Lựa chọn không thuộc cuộc biểu quyết này.")
    if data.issued > group.households:
        raise PollError(f"Số phiếu phát ra ({data.issued}) vượt quá số hộ của khu dân cư ({group.households}).")
    if data.returned > data.issued:
        raise PollError(f"Số phiếu thu về ({data.returned}) vượt quá số phiếu phát ra ({data.issued}).")
    if data.valid + data.invalid != data.returned:
        raise PollError(f"Phiếu hợp lệ ({data.valid}) cộng phiếu không hợp lệ ({data.invalid}) phải bằng số phiếu "
                        f"thu về ({data.returned}).")
    if sum(data.counts.values()) != data.valid:
        raise PollError(f"Tổng số phiếu theo từng lựa chọn ({sum(data.counts.values())}) phải bằng số phiếu hợp lệ "
                        f"({data.valid}).")
    counters, witnesses = nfc(data.counters or "").strip(), nfc(data.witnesses or "").strip()
    if not counters:
        raise PollError("Hãy ghi họ tên các thành viên Tổ phát phiếu kiểm phiếu.")
    if len([w for w in witnesses.splitlines() if w.strip()]) < 2:
        raise PollError("Hãy ghi họ tên hai đại diện hộ gia đình chứng kiến việc kiểm phiếu (mỗi dòng một người).")
    texts = [nfc(t).strip() for t in data.other_texts if nfc(t).strip()]
    secrets.SystemRandom().shuffle(texts)
    row = PaperCount(poll_id=poll.id, group_id=data.group_id, issued=data.issued, returned=data.returned,
                     valid=data.valid, invalid=data.invalid, counts={str(k): v for k, v in data.counts.items()},
                     other_texts=texts, place=nfc(data.place or "").strip()[:255], counters=counters,
                     witnesses=witnesses, counted_at=now, recorded_by=actor.name)
    session.add(row)
    session.flush()
    record(session, actor, "poll.paper_count", poll, now=now, details={
        "group": data.group_id, "returned": data.returned, "valid": data.valid, "counts": row.counts})
    return row


def paper_counts(session: Session, poll: Poll) -> list[PaperCount]:
    """The biên bản kiểm phiếu recorded so far, one per group."""
    return list(session.scalars(select(PaperCount).where(PaperCount.poll_id == poll.id).order_by(PaperCount.id)))


def stubs_recorded(session: Session, poll: Poll) -> dict[int, int]:
    """Returned stubs per group (the households that took part)."""
    rows = session.execute(select(PollHousehold.group_id, func.count()).join(
        Participation, Participation.poll_household_id == PollHousehold.id).where(
        Participation.poll_id == poll.id, Participation.phase == PHASE_VOTE).group_by(PollHousehold.group_id))
    return dict(rows.all())


# --- counting encrypted ballots --------------------------------------------------------------

def _rebuild_key(poll: Poll, shares: list[str] | None) -> secrecy.VoteKey:
    try:
        return secrecy.rebuild_key(poll.id, poll.public_key, poll.key_threshold, list(shares or []))
    except secrecy.KeyShareError as exc:
        raise PollError(str(exc)) from None


def _count_encrypted(session: Session, poll: Poll, phase: str, key: secrecy.VoteKey,
                     choices: int) -> tuple[dict[int, list[int]], list[str], int]:
    """Add up the phase's ciphertexts per group and decrypt only the sums; open the
    sealed texts and shuffle them. Returns counts per group (by choice position)."""
    sums: dict[int, secrecy.Aggregate] = {}
    sealed: list[bytes] = []
    ballots = 0
    rows = session.execute(select(CastBallot.group_id, CastBallot.ciphertext, CastBallot.sealed_text).where(
        CastBallot.poll_id == poll.id, CastBallot.phase == phase).execution_options(yield_per=2000))
    for group_id, ciphertext, sealed_text in rows:
        sums.setdefault(group_id, secrecy.Aggregate(choices)).add(bytes(ciphertext))
        sealed.append(bytes(sealed_text))
        ballots += 1
    counts = {group_id: aggregate.decrypt(key) for group_id, aggregate in sums.items()}
    return counts, secrecy.open_texts(key, sealed), ballots


# --- the consent round of an online vote -------------------------------------------------------

def consent_answers(session: Session, poll: Poll) -> int:
    """Households that have answered the consent round so far (what they answered stays
    encrypted until the board counts it)."""
    return session.scalar(select(func.count()).select_from(Participation).where(
        Participation.poll_id == poll.id, Participation.phase == PHASE_CONSENT)) or 0


def close_consent(session: Session, actor: Actor, poll: Poll, *, shares: list[str] | None = None,
                  now: datetime | None = None) -> bool:
    """End the consent round, counted with the board's key shares; voting online goes
    ahead only when more than half of all households agreed (NĐ 59 Điều 5 khoản 1)."""
    now = now or utcnow()
    if poll.form != FORM_ONLINE or poll.phase != PHASE_CONSENT or poll.status != STATUS_OPEN:
        raise PollError("Không có vòng lấy ý kiến đồng ý biểu quyết trực tuyến đang mở.")
    key = _rebuild_key(poll, shares)
    counts, _, _ = _count_encrypted(session, poll, PHASE_CONSENT, key, len(CONSENT_CHOICES))
    agreed = sum(c[0] for c in counts.values())
    households = total_households(poll)
    poll.consent_agreed, poll.consent_closes_at = agreed, now
    if rules.consent_reached(households, agreed):
        poll.phase = PHASE_VOTE
        record(session, actor, "poll.consent_reached", poll, now=now, details={"agreed": agreed, "of": households})
        return True
    poll.status, poll.outcome_passed = STATUS_CLOSED, None
    poll.outcome_text = (f"Không tổ chức biểu quyết trực tuyến: chỉ {agreed}/{households} hộ đồng ý biểu quyết trực "
                         f"tuyến, cần hơn một nửa tổng số hộ ({households // 2 + 1}).")
    record(session, actor, "poll.consent_failed", poll, now=now, details={"agreed": agreed, "of": households})
    return False


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
    return rules.meeting_can_decide(poll.matter_kind, total_households(poll), attendance_count(session, poll))


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


# --- tally and outcome ---------------------------------------------------------------------

@dataclass
class GroupTally:
    group: ResidentialGroup
    households: int
    participated: int
    counts: dict[int, int]
    agree: int
    passed: bool
    needed: int


@dataclass
class Tally:
    poll: Poll
    groups: list[GroupTally]
    choices: list[PollChoice]
    other_texts: list[str]
    passed: bool
    summary: str
    # False while an online vote's ballots are still encrypted (before the board counts).
    counted: bool = True

    @property
    def households(self) -> int:
        return sum(g.households for g in self.groups)

    @property
    def participated(self) -> int:
        return sum(g.participated for g in self.groups)

    def total(self, choice_id: int) -> int:
        return sum(g.counts.get(choice_id, 0) for g in self.groups)


def _agree_choice(poll: Poll) -> PollChoice | None:
    return next((c for c in poll.choices if c.kind == "agree"), None) or (poll.choices[0] if poll.choices else None)


def tally_counts(matter_kind: str, commune_wide: bool, groups: list[tuple[ResidentialGroup, int, int, dict[int, int]]],
                 agree_id: int) -> tuple[list[GroupTally], bool, str]:
    """Apply the thresholds to counts: always of ALL households of each group (Điều 21 khoản 1)."""
    results = []
    for group, households, participated, counts in groups:
        agree = counts.get(agree_id, 0)
        results.append(GroupTally(group, households, participated, counts, agree,
                                  rules.passes(matter_kind, households, agree),
                                  rules.min_agree(matter_kind, households)))
    if commune_wide and matter_kind in rules.TWO_THIRDS_KINDS:
        approving = sum(g.passed for g in results)
        passed = rules.commune_wide_passes(len(results), approving)
        needed = -(-2 * len(results) // 3)
        summary = (f"{approving}/{len(results)} khu dân cư tán thành, cần ít nhất {needed} "
                   f"(mỗi khu dân cư cần {rules.rule_text(matter_kind)} của khu đồng ý)")
        return results, passed, summary
    households = sum(g.households for g in results)
    agree = sum(g.agree for g in results)
    passed = rules.passes(matter_kind, households, agree)
    needed = rules.min_agree(matter_kind, households)
    summary = f"{agree}/{households} hộ đồng ý, cần ít nhất {needed}"
    return results, passed, summary


def tally(session: Session, poll: Poll) -> Tally:
    """Turnout and results per choice, per group and overall, and the outcome under the matter's rule."""
    phase = PHASE_VOTE
    per_group: dict[int, dict[int, int]] = {g.group_id: {} for g in poll.groups}
    participated: dict[int, int] = {g.group_id: 0 for g in poll.groups}
    texts: list[str] = []
    counted = True
    if poll.form == FORM_MEETING:
        meeting_totals: dict[int, int] = {}
        for row in session.scalars(select(MeetingCount).where(MeetingCount.poll_id == poll.id)):
            for key, value in row.counts.items():
                meeting_totals[int(key)] = meeting_totals.get(int(key), 0) + value
        # A meeting is of one group; its counts belong to that group.
        only = poll.groups[0].group_id
        per_group[only] = meeting_totals
        participated[only] = attendance_count(session, poll)
    elif poll.form == FORM_BALLOT:
        for row in paper_counts(session, poll):
            per_group[row.group_id] = {int(k): v for k, v in row.counts.items()}
            texts.extend(row.other_texts or [])
        participated.update(stubs_recorded(session, poll))
    else:
        # Known only once the board has counted (see close_poll); until then, turnout only.
        box = session.scalar(select(BallotBox).where(BallotBox.poll_id == poll.id, BallotBox.phase == phase))
        counted = box is not None
        for group_key, counts in ((box.counts if box else None) or {}).items():
            per_group.setdefault(int(group_key), {}).update({int(k): v for k, v in counts.items()})
        texts = list((box.other_texts if box else None) or [])
        participated.update(stubs_recorded(session, poll))
    agree = _agree_choice(poll)
    inputs = [(g.group, g.households, participated.get(g.group_id, 0), per_group.get(g.group_id, {}))
              for g in poll.groups]
    groups, passed, summary = tally_counts(poll.matter_kind, poll.commune_wide, inputs, agree.id if agree else 0)
    return Tally(poll, groups, list(poll.choices), sorted(texts), passed, summary, counted)


def _store_online_result(session: Session, actor: Actor, poll: Poll, shares: list[str] | None,
                         now: datetime) -> None:
    """Count the online ballots with the board's shares: the sums per group are
    decrypted and written once, with the "ý kiến khác" texts in random order."""
    key = _rebuild_key(poll, shares)
    counts, texts, ballots = _count_encrypted(session, poll, PHASE_VOTE, key, len(poll.choices))
    marked = session.scalar(select(func.count()).select_from(Participation).where(
        Participation.poll_id == poll.id, Participation.phase == PHASE_VOTE)) or 0
    if ballots != marked:
        raise PollError(f"Số phiếu đã mã hóa ({ballots}) khác số hộ đã biểu quyết ({marked}): dữ liệu bị can thiệp, "
                        "không kiểm phiếu. Hãy báo quản trị viên.")
    by_id = {str(group_id): {str(c.id): n for c, n in zip(poll.choices, values) if n}
             for group_id, values in counts.items()}
    session.add(BallotBox(poll_id=poll.id, phase=PHASE_VOTE, counts=by_id, other_texts=texts, ballots=ballots,
                          counted_at=now, counted_by=actor.name))
    session.flush()
    record(session, actor, "poll.count", poll, now=now, details={"ballots": ballots, "counts": by_id})


def close_poll(session: Session, actor: Actor, poll: Poll, *, shares: list[str] | None = None,
               now: datetime | None = None) -> Tally:
    """Close and decide under the matter's rule; a meeting without enough households
    present ends "không đủ số hộ tham dự" so that ballots may follow (Điều 19).

    An online vote is counted here, with the key shares of a majority of its board;
    paper ballots need the biên bản kiểm phiếu of every group first."""
    now = now or utcnow()
    if poll.status != STATUS_OPEN:
        raise PollError("Cuộc biểu quyết không ở trạng thái đang mở.")
    if poll.form == FORM_ONLINE and poll.phase == PHASE_CONSENT:
        raise PollError("Vòng lấy ý kiến đồng ý biểu quyết trực tuyến chưa kết thúc.")
    if poll.form == FORM_MEETING and not meeting_can_decide(session, poll):
        present = attendance_count(session, poll)
        poll.status, poll.outcome_passed, poll.decided_at = STATUS_CLOSED, None, now
        poll.outcome_text = (f"Không đủ số hộ tham dự: {present}/{total_households(poll)} hộ có mặt, cần ít nhất "
                             f"{rules.min_agree(poll.matter_kind, total_households(poll))} hộ đồng ý để thông qua. "
                             "Có thể phát phiếu lấy ý kiến hộ gia đình cho cùng nội dung.")
        record(session, actor, "poll.meeting_failed", poll, now=now, details={"present": present})
        return tally(session, poll)
    if poll.form == FORM_ONLINE:
        _store_online_result(session, actor, poll, shares, now)
    if poll.form == FORM_BALLOT:
        counted = {row.group_id for row in paper_counts(session, poll)}
        missing = [g.group.full_name for g in poll.groups if g.group_id not in counted]
        if missing:
            raise PollError("Chưa có biên bản kiểm phiếu của: " + ", ".join(missing) + ".")
    result = tally(session, poll)
    poll.status, poll.outcome_passed, poll.decided_at = STATUS_DECIDED, result.passed, now
    poll.outcome_text = ("Thông qua: " if result.passed else "Không thông qua: ") + result.summary + "."
    record(session, actor, "poll.decide", poll, now=now, details={"passed": result.passed, "summary": result.summary})
    return result


def participants(session: Session, poll: Poll) -> list[PollHousehold]:
    """The households that took part (present at the meeting, or having voted); never with their choice."""
    if poll.form == FORM_MEETING:
        joined = select(PollHousehold).join(Attendance, Attendance.poll_household_id == PollHousehold.id).where(
            Attendance.poll_id == poll.id)
    else:
        joined = select(PollHousehold).join(Participation, Participation.poll_household_id == PollHousehold.id).where(
            Participation.poll_id == poll.id, Participation.phase == PHASE_VOTE)
    return list(session.scalars(joined.order_by(PollHousehold.code)))


def bulletin(session: Session, poll: Poll) -> list[str]:
    """The public bulletin board: the tracker (SHA-256) of every online ballot, sorted
    (their order says nothing). A household finds its receipt code at the start of one."""
    return list(session.scalars(select(CastBallot.tracker).where(
        CastBallot.poll_id == poll.id, CastBallot.phase == PHASE_VOTE).order_by(CastBallot.tracker)))


def receipts(session: Session, poll: Poll) -> list[str]:
    """The receipt codes of the counted ballots, sorted."""
    return sorted(secrecy.receipt_code(t) for t in bulletin(session, poll))


def receipt_published(session: Session, poll: Poll, code: str) -> bool:
    """Whether a receipt code is among the ballots on the vote's bulletin board."""
    return normalize_code(code) in set(receipts(session, poll))


def add_holiday(session: Session, actor: Actor, day: date, name: str) -> Holiday:
    """A public holiday that working-day deadlines skip (DOMAIN: kept as data an administrator updates)."""
    name = nfc(name or "").strip()
    if not name:
        raise PollError("Vui lòng nhập tên ngày nghỉ.")
    if session.get(Holiday, day) is not None:
        raise PollError(f"Ngày {format_date(day)} đã có trong danh sách ngày nghỉ.")
    holiday = Holiday(day=day, name=name)
    session.add(holiday)
    session.flush()
    record(session, actor, "holiday.add", object_type="holiday", object_id=day.isoformat(), details={"name": name})
    return holiday


def holidays(session: Session) -> set[date]:
    """The public holidays an administrator keeps, skipped by working-day deadlines."""
    return set(session.scalars(select(Holiday.day)))


def report_deadline(session: Session, poll: Poll) -> date | None:
    """The decision must reach the commune's UBND and MTTQ within 5 working days (Điều 20 khoản 3)."""
    if poll.decided_at is None:
        return None
    return rules.add_working_days(local_date(poll.decided_at), 5, holidays(session))


def mark_sent(session: Session, actor: Actor, poll: Poll, sent_on: date) -> None:
    """Record that the decision reached the commune's UBND and MTTQ (Điều 20 khoản 3)."""
    if poll.status not in (STATUS_DECIDED,):
        raise PollError("Chỉ ghi ngày gửi khi cuộc biểu quyết đã có quyết định.")
    if poll.decided_at and sent_on < local_date(poll.decided_at):
        raise PollError("Ngày gửi không thể trước ngày biểu quyết.")
    poll.sent_on = sent_on
    record(session, actor, "poll.decision_sent", poll, details={"sent_on": sent_on.isoformat()})


@dataclass
class Reminder:
    poll: Poll
    deadline: date
    overdue: bool


def deadline_reminders(session: Session, condition, *, today: date) -> list[Reminder]:
    """Decisions not yet sent to the commune, with their 5-working-day deadline."""
    polls = session.scalars(select(Poll).where(condition, Poll.status == STATUS_DECIDED, Poll.sent_on.is_(None))
                            .order_by(Poll.decided_at))
    days = holidays(session)
    reminders = []
    for poll in polls:
        deadline = rules.add_working_days(local_date(poll.decided_at), 5, days)
        reminders.append(Reminder(poll, deadline, today > deadline))
    return reminders


def follow_with_ballots(session: Session, actor: Actor, meeting: Poll, data: PollInput, *,
                        now: datetime | None = None) -> Poll:
    """Paper ballots on the same matter after a meeting that failed for attendance."""
    data.follows_meeting_id = meeting.id
    data.form = FORM_BALLOT
    data.matter_kind = meeting.matter_kind
    data.group_ids = [g.group_id for g in meeting.groups]
    return create_poll(session, actor, meeting.commune, data, now=now)


