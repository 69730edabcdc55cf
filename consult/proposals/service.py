"""Residents' proposals (Luật Điều 16): residents put a matter of Điều 15 forward for their
residential group to decide; it goes forward when households supporting it reach at least
10% of the group's households, and a support is valid 3 months.

The life of a proposal:

* submitted: a resident proposes it (public form); the group head checks that it is a
  matter the community decides (Điều 15) and either opens it for support or refuses it,
  giving the reason;
* collecting: support is open for 3 calendar months from the day it was opened. Online,
  a household's representative gives a name and an address: pending until the head finds
  the household in the register (the register is the ground truth; a name proves nothing).
  From a signed paper list the head ticks the households, confirmed at once (online
  collection is allowed: NĐ 61/2023 Điều 7 khoản 2 điểm c);
* reached: confirmed supporting households × 10 ≥ the households of the group in the
  register when the proposal opened (integer arithmetic; ``Proposal.households_at_open``),
  from supports given inside the window. The head must
  then put it to the community, and links the vote it was put to (decided);
* expired: the window passed without the threshold. Computed from the date, never stored,
  so a proposal reads right on any day; while supports given in time still wait to be
  checked it reads "checking" instead.

Every support is recorded only while the window is open, checked under a lock on the
proposal in the transaction that saves it; so every support counted was given in time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from dateutil.relativedelta import relativedelta  # installed with ``holidays``
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from consult.audit.service import Actor, record
from consult.communes.models import Commune, Household
from consult.communes.service import group_of
from consult.errors import DomainError
from consult.paging import Page, keyset_page
from consult.polls.models import MATTER_KINDS, Poll
from consult.proposals.models import (
    CHANNEL_ONLINE,
    CHANNEL_PAPER,
    STATUS_CHECKING,
    STATUS_COLLECTING,
    STATUS_DECIDED,
    STATUS_EXPIRED,
    STATUS_LABELS,
    STATUS_REACHED,
    STATUS_REFUSED,
    STATUS_SUBMITTED,
    SUPPORT_CONFIRMED,
    SUPPORT_PENDING,
    SUPPORT_REJECTED,
    Proposal,
    ProposalSupport,
)
from consult.textutil import checked_text, fold
from consult.timeutil import format_date, local_day_bounds, today, utcnow

WINDOW_MONTHS = 3  # Luật Điều 16: support is valid 3 months
MAX_TITLE, MAX_CONTENT, MAX_NAME, MAX_ADDRESS, MAX_CODE, MAX_TEXT = 300, 10_000, 160, 255, 40, 2000
PUBLIC_CREATOR = "người dân (trực tuyến)"
_PHONE_RE = re.compile(r"^(\+84|0)[0-9]{9,10}$")


class ProposalError(DomainError):
    """A rule of proposing was broken; the message is for the user, in Vietnamese."""


# --- the rules, as plain arithmetic ------------------------------------------------------------

def needed_supporters(households: int) -> int:
    """Luật Điều 16: at least 10% of the group's households: the least n with n × 10 ≥ H,
    and at least one household (a group with an empty register reaches nothing)."""
    return max(1, -(-households // 10))


def threshold_met(supporters: int, households: int) -> bool:
    """Luật Điều 16, in integers: supporters × 10 ≥ H (9 of 90 is enough, 8 of 81 is not)."""
    return supporters >= 1 and supporters * 10 >= households


def closing_day(opened_on: date) -> date:
    """The last day of the 3 months of support (Luật Điều 16), counted the civil-law way
    (Bộ luật Dân sự 2015 Điều 147, 148): from the day after the opening to the end of the
    same day 3 months on, or the month's last day when it has no such day (30/11 → 28/02)."""
    return opened_on + relativedelta(months=WINDOW_MONTHS)


def window_end(closes_on: date) -> datetime:
    """The instant support closes: midnight (Viet Nam) at the end of ``closes_on``."""
    return local_day_bounds(closes_on)[1]


def effective_status(status: str, closes_on: date | None, day: date, *, supporters: int, pending: int,
                     households: int) -> str:
    """The status as of ``day``: a proposal still collecting after its last day has expired,
    unless supports given in time and not yet checked could still reach the threshold."""
    if status != STATUS_COLLECTING or closes_on is None or day <= closes_on:
        return status
    if pending and threshold_met(supporters + pending, households):
        return STATUS_CHECKING
    return STATUS_EXPIRED


@dataclass(frozen=True)
class Standing:
    """Where a proposal stands on a day: what the public page shows."""

    status: str
    households: int  # H: the group's households in the register when the proposal opened
    supporters: int  # confirmed supporting households
    pending: int  # online supports waiting to be checked against the register
    needed: int
    closes_on: date | None
    days_left: int | None  # days after today while collecting (0: today is the last day)

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def open_for_support(self) -> bool:
        return self.status == STATUS_COLLECTING


def standings(session: Session, proposals: list[Proposal], *, now: datetime | None = None) -> dict[int, Standing]:
    """Each proposal's standing today, in three queries whatever their number."""
    if not proposals:
        return {}
    day = today(now)
    ids = [p.id for p in proposals]
    group_ids = {p.group_id for p in proposals}
    households = dict(session.execute(select(Household.group_id, func.count()).where(
        Household.group_id.in_(sorted(group_ids))).group_by(Household.group_id)).all())
    # A confirmed support counts while its household is in the proposal's group's register.
    confirmed = dict(session.execute(
        select(ProposalSupport.proposal_id, func.count())
        .join(Proposal, Proposal.id == ProposalSupport.proposal_id)
        .join(Household, Household.id == ProposalSupport.household_id)
        .where(ProposalSupport.proposal_id.in_(ids), ProposalSupport.status == SUPPORT_CONFIRMED,
               Household.group_id == Proposal.group_id)
        .group_by(ProposalSupport.proposal_id)).all())
    pending = dict(session.execute(
        select(ProposalSupport.proposal_id, func.count())
        .where(ProposalSupport.proposal_id.in_(ids), ProposalSupport.status == SUPPORT_PENDING)
        .group_by(ProposalSupport.proposal_id)).all())
    result = {}
    for p in proposals:
        h = p.households_at_open if p.households_at_open is not None else households.get(p.group_id, 0)
        s, w = confirmed.get(p.id, 0), pending.get(p.id, 0)
        status = effective_status(p.status, p.closes_on, day, supporters=s, pending=w, households=h)
        days_left = (p.closes_on - day).days if status == STATUS_COLLECTING and p.closes_on else None
        result[p.id] = Standing(status=status, households=h, supporters=s, pending=w, needed=needed_supporters(h),
                                closes_on=p.closes_on, days_left=days_left)
    return result


def standing(session: Session, proposal: Proposal, *, now: datetime | None = None) -> Standing:
    """One proposal's standing today: supporters against 10% of the households (Luật Điều 16)."""
    return standings(session, [proposal], now=now)[proposal.id]


# --- input ---------------------------------------------------------------------------------------

def _text(value: str | None, label: str, max_len: int, *, required: bool = True, one_line: bool = True) -> str | None:
    """Trimmed, composed text (single spaces when ``one_line``); a Vietnamese refusal otherwise."""
    return checked_text(value, label, max_len, ProposalError, required=required, one_line=one_line, verb="ghi")


def _phone(value: str | None) -> str | None:
    phone = re.sub(r"[\s.\-]", "", value or "") or None
    if phone and not _PHONE_RE.match(phone):
        raise ProposalError("Số điện thoại không hợp lệ (ví dụ 0912345678).")
    return phone


def _code(value: str | None) -> str | None:
    return _text((value or "").upper(), "mã hộ", MAX_CODE, required=False)


def _lock(session: Session, proposal: Proposal) -> None:
    """Re-read the proposal under a row lock: its status and window decide what may be saved."""
    session.refresh(proposal, with_for_update=True)


def _touch(proposal: Proposal, actor: Actor, now: datetime) -> None:
    proposal.updated_by, proposal.updated_at = actor.name, now


# --- proposing, opening, refusing ----------------------------------------------------------------

def submit_proposal(session: Session, commune: Commune, *, group_id: int | None, matter_kind: str | None,
                    title: str | None, content: str | None, name: str | None, address: str | None,
                    phone: str | None = None, created_by: str = PUBLIC_CREATOR,
                    now: datetime | None = None) -> Proposal:
    """A resident proposes a matter for their residential group to decide (Luật Điều 16);
    it waits for the group head's check before it is public."""
    now = now or utcnow()
    group = group_of(session, commune.id, group_id)
    if group is None:
        raise ProposalError("Vui lòng chọn khu phố, thôn sẽ quyết định nội dung này.")
    if matter_kind not in MATTER_KINDS:
        raise ProposalError("Vui lòng chọn loại nội dung (Điều 15 Luật Thực hiện dân chủ ở cơ sở).")
    proposal = Proposal(
        commune_id=commune.id, group_id=group.id, matter_kind=matter_kind,
        title=_text(title, "tên đề xuất", MAX_TITLE),
        content=_text(content, "nội dung đề xuất", MAX_CONTENT, one_line=False),
        proposer_name=_text(name, "họ và tên người đề xuất", MAX_NAME),
        proposer_address=_text(address, "địa chỉ người đề xuất", MAX_ADDRESS),
        proposer_phone=_phone(phone), status=STATUS_SUBMITTED, submitted_at=now, created_by=created_by)
    session.add(proposal)
    session.flush()
    return proposal


def open_for_support(session: Session, actor: Actor, proposal: Proposal, *, matter_kind: str | None = None,
                     now: datetime | None = None) -> Proposal:
    """The group head finds it a matter of Điều 15 (correcting its kind if need be) and opens
    it for support: 3 calendar months from today (Luật Điều 16)."""
    now = now or utcnow()
    _lock(session, proposal)
    if proposal.status != STATUS_SUBMITTED:
        raise ProposalError("Đề xuất này đã được xem xét trước đó.")
    if matter_kind:
        if matter_kind not in MATTER_KINDS:
            raise ProposalError("Loại nội dung không thuộc Điều 15 Luật Thực hiện dân chủ ở cơ sở.")
        proposal.matter_kind = matter_kind
    proposal.status, proposal.opened_at = STATUS_COLLECTING, now
    proposal.closes_on = closing_day(today(now))
    proposal.households_at_open = session.scalar(select(func.count()).select_from(Household).where(
        Household.commune_id == proposal.commune_id, Household.group_id == proposal.group_id)) or 0
    _touch(proposal, actor, now)
    session.flush()
    record(session, actor, "proposal.open", proposal, now=now,
           details={"title": proposal.title, "matter_kind": proposal.matter_kind,
                    "closes_on": proposal.closes_on.isoformat()})
    return proposal


def refuse_proposal(session: Session, actor: Actor, proposal: Proposal, reason: str | None, *,
                    now: datetime | None = None) -> Proposal:
    """Not a matter the community decides (Điều 15): refused, with the reason made public."""
    now = now or utcnow()
    _lock(session, proposal)
    if proposal.status != STATUS_SUBMITTED:
        raise ProposalError("Chỉ từ chối được đề xuất đang chờ xem xét.")
    proposal.refused_reason = _text(reason, "lý do không đưa ra lấy ý kiến ủng hộ", MAX_TEXT, one_line=False)
    proposal.status = STATUS_REFUSED
    _touch(proposal, actor, now)
    session.flush()
    record(session, actor, "proposal.refuse", proposal, now=now, details={"reason": proposal.refused_reason})
    return proposal


# --- supports ----------------------------------------------------------------------------------

def _check_open(proposal: Proposal, now: datetime) -> None:
    """Support is recorded only while collecting and inside the window (Luật Điều 16)."""
    if proposal.status == STATUS_SUBMITTED:
        raise ProposalError("Đề xuất chưa được mở để lấy ý kiến ủng hộ.")
    if proposal.status == STATUS_REFUSED:
        raise ProposalError("Đề xuất không được đưa ra lấy ý kiến ủng hộ.")
    if proposal.status in (STATUS_REACHED, STATUS_DECIDED):
        raise ProposalError("Đề xuất đã đủ số hộ ủng hộ, không nhận thêm ý kiến ủng hộ.")
    if proposal.closes_on is None or now >= window_end(proposal.closes_on):
        raise ProposalError(f"Đã hết thời hạn ủng hộ (hết ngày {format_date(proposal.closes_on)}). "
                            "Ý kiến ủng hộ không được ghi nhận.")


def add_online_support(session: Session, proposal: Proposal, *, name: str | None, address: str | None,
                       household_code: str | None = None, now: datetime | None = None) -> ProposalSupport:
    """A household's representative supports the proposal online (NĐ 61/2023 Điều 7 khoản 2
    điểm c): pending until the group head confirms it against the register."""
    now = now or utcnow()
    _lock(session, proposal)
    _check_open(proposal, now)
    support = ProposalSupport(
        proposal_id=proposal.id, name=_text(name, "họ và tên đại diện hộ", MAX_NAME),
        address=_text(address, "địa chỉ của hộ", MAX_ADDRESS), household_code=_code(household_code),
        channel=CHANNEL_ONLINE, status=SUPPORT_PENDING, submitted_at=now)
    session.add(support)
    session.flush()
    return support


def _household(session: Session, proposal: Proposal, code: str | None) -> Household:
    code = _code(code)
    if not code:
        raise ProposalError("Vui lòng chọn hộ trong sổ hộ (mã hộ).")
    household = session.scalar(select(Household).where(
        Household.commune_id == proposal.commune_id, Household.group_id == proposal.group_id,
        func.upper(Household.code) == code))
    if household is None:
        raise ProposalError(f"Không có hộ mã {code} trong sổ hộ của {proposal.group.full_name}.")
    return household


def _already(session: Session, proposal: Proposal, household_ids: list[int]) -> list[Household]:
    return list(session.scalars(
        select(Household).join(ProposalSupport, ProposalSupport.household_id == Household.id)
        .where(ProposalSupport.proposal_id == proposal.id, Household.id.in_(household_ids))
        .order_by(Household.code)))


def _once_each(households: list[Household]) -> ProposalError:
    codes = ", ".join(f"{h.code} ({h.representative})" for h in households)
    return ProposalError(f"Hộ đã được ghi nhận ủng hộ đề xuất này, mỗi hộ chỉ được tính một lần: {codes}.")


def _save_once(session: Session, proposal: Proposal, households: list[Household]) -> None:
    """Flush; two heads recording the same household at once: the unique constraint decides."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        with session.no_autoflush:
            done = _already(session, proposal, [h.id for h in households])
        raise _once_each(done or households) from None


def _check_reached(session: Session, actor: Actor, proposal: Proposal, now: datetime) -> None:
    """Luật Điều 16: once the confirmed supporters reach 10% of the households, the proposal
    goes forward; the head must put it to the community."""
    if proposal.status != STATUS_COLLECTING:
        return
    current = standing(session, proposal, now=now)
    if threshold_met(current.supporters, current.households):
        proposal.status, proposal.reached_at = STATUS_REACHED, now
        session.flush()
        record(session, actor, "proposal.reached", proposal, now=now,
               details={"supporters": current.supporters, "households": current.households})


def _checkable(proposal: Proposal, support: ProposalSupport) -> None:
    if support.proposal_id != proposal.id:
        raise ProposalError("Ý kiến ủng hộ không thuộc đề xuất này.")
    if support.status != SUPPORT_PENDING:
        raise ProposalError("Ý kiến ủng hộ này đã được xử lý trước đó.")
    if proposal.status not in (STATUS_COLLECTING, STATUS_REACHED):
        raise ProposalError("Đề xuất không còn nhận ý kiến ủng hộ.")


def confirm_support(session: Session, actor: Actor, proposal: Proposal, support: ProposalSupport,
                    household_code: str | None, *, now: datetime | None = None) -> ProposalSupport:
    """The head finds the household of an online support in the register: it counts from now,
    once per household. A support given in time may be confirmed after the window."""
    now = now or utcnow()
    _lock(session, proposal)
    _checkable(proposal, support)
    household = _household(session, proposal, household_code)
    if _already(session, proposal, [household.id]):
        raise _once_each([household])
    support.household_id, support.status = household.id, SUPPORT_CONFIRMED
    support.confirmed_at, support.confirmed_by = now, actor.name
    _save_once(session, proposal, [household])
    record(session, actor, "proposal.support.confirm", proposal, now=now,
           details={"support": support.id, "household": household.code})
    _check_reached(session, actor, proposal, now)
    return support


def reject_support(session: Session, actor: Actor, proposal: Proposal, support: ProposalSupport, *,
                   now: datetime | None = None) -> ProposalSupport:
    """An online support no household of the register answers to (or a second one of a household)."""
    now = now or utcnow()
    _lock(session, proposal)
    _checkable(proposal, support)
    support.status, support.confirmed_at, support.confirmed_by = SUPPORT_REJECTED, now, actor.name
    session.flush()
    record(session, actor, "proposal.support.reject", proposal, now=now, details={"support": support.id})
    return support


def record_paper_supports(session: Session, actor: Actor, proposal: Proposal, household_ids: list[int], *,
                          now: datetime | None = None) -> int:
    """Supports from a list the households signed on paper: the head ticks them in the register;
    confirmed at once, each household once, all or none."""
    now = now or utcnow()
    _lock(session, proposal)
    _check_open(proposal, now)
    ids = sorted(set(household_ids or []))
    if not ids:
        raise ProposalError("Vui lòng đánh dấu ít nhất một hộ đã ký trong danh sách.")
    households = list(session.scalars(select(Household).where(
        Household.id.in_(ids), Household.commune_id == proposal.commune_id,
        Household.group_id == proposal.group_id).order_by(Household.code)))
    if len(households) != len(ids):
        raise ProposalError(f"Chỉ ghi được các hộ trong sổ hộ của {proposal.group.full_name}.")
    done = _already(session, proposal, ids)
    if done:
        raise _once_each(done)
    session.add_all(ProposalSupport(
        proposal_id=proposal.id, household_id=h.id, household_code=h.code, name=h.representative,
        address=h.address, channel=CHANNEL_PAPER, status=SUPPORT_CONFIRMED, submitted_at=now, confirmed_at=now,
        confirmed_by=actor.name) for h in households)
    _save_once(session, proposal, households)
    record(session, actor, "proposal.support.paper", proposal, now=now,
           details={"households": [h.code for h in households]})
    _check_reached(session, actor, proposal, now)
    return len(households)


# --- putting it to the community -----------------------------------------------------------------

def group_polls(session: Session, proposal: Proposal) -> list[Poll]:
    """The votes of the proposal's group, newest first: the ones it may be put to."""
    return list(session.scalars(select(Poll).where(
        Poll.commune_id == proposal.commune_id, Poll.group_id == proposal.group_id).order_by(Poll.created_at.desc())))


def link_poll(session: Session, actor: Actor, proposal: Proposal, poll_id: int | None, note: str | None = None, *,
              now: datetime | None = None) -> Proposal:
    """A proposal that reached its threshold is put to the community (Luật Điều 16, 17): the
    head links the vote of the group that decides it; its outcome is then shown with it."""
    now = now or utcnow()
    _lock(session, proposal)
    if proposal.status not in (STATUS_REACHED, STATUS_DECIDED):
        raise ProposalError("Chỉ đưa ra cộng đồng quyết định đề xuất đã đủ số hộ ủng hộ.")
    poll = session.get(Poll, poll_id) if poll_id else None
    if poll is None or poll.commune_id != proposal.commune_id or poll.group_id != proposal.group_id:
        raise ProposalError(f"Vui lòng chọn một cuộc biểu quyết của {proposal.group.full_name}.")
    proposal.poll_id, proposal.status = poll.id, STATUS_DECIDED
    proposal.outcome_note = _text(note, "ghi chú", MAX_TEXT, required=False, one_line=False)
    _touch(proposal, actor, now)
    session.flush()
    record(session, actor, "proposal.poll", proposal, now=now, details={"poll": poll.id, "title": poll.title})
    return proposal


# --- reading -----------------------------------------------------------------------------------

def public_proposals(session: Session, commune_id: int) -> list[Proposal]:
    """What the public sees: every proposal past the head's check, refused ones included."""
    return list(session.scalars(select(Proposal).where(public_where(commune_id))
                                .order_by(Proposal.submitted_at.desc(), Proposal.id.desc())))


def proposals_page(session: Session, where, *, after: int | None = None, before: int | None = None,
                   size: int = 50) -> Page[Proposal]:
    """A page of the proposals matching ``where`` (a commune's public ones, what a user may
    reach), newest first, after or before a proposal (its id in the links): one range of
    the index (commune_id, submitted_at, id) at any number of proposals."""
    def key_of(proposal_id: int | None) -> tuple | None:
        row = session.get(Proposal, proposal_id) if proposal_id else None
        return (row.submitted_at, row.id) if row is not None else None

    return keyset_page(session, select(Proposal).where(where), [Proposal.submitted_at, Proposal.id],
                       lambda p: (p.submitted_at, p.id), cursor=lambda p: p.id, descending=True, size=size,
                       after=key_of(after), before=key_of(before))


def public_where(commune_id: int):
    """What the public sees of a commune's proposals: past the head's check, refused ones included."""
    return (Proposal.commune_id == commune_id) & (Proposal.status != STATUS_SUBMITTED)


def is_public(proposal: Proposal) -> bool:
    """Public once the group head has checked it, whatever became of it."""
    return proposal.status != STATUS_SUBMITTED


def supports(session: Session, proposal: Proposal) -> list[ProposalSupport]:
    """Every support of the proposal, in the order given: for the staff only (personal data)."""
    return list(session.scalars(select(ProposalSupport).where(ProposalSupport.proposal_id == proposal.id)
                                .options(selectinload(ProposalSupport.household)).order_by(ProposalSupport.submitted_at, ProposalSupport.id)))


def group_register(session: Session, commune_id: int, group_id: int) -> list[Household]:
    """A group's register, by code."""
    return list(session.scalars(select(Household).where(
        Household.commune_id == commune_id, Household.group_id == group_id).order_by(Household.code)))


def register_of(session: Session, proposal: Proposal) -> list[Household]:
    """The register of the proposal's group: the households that may support it."""
    return group_register(session, proposal.commune_id, proposal.group_id)


def suggest_household(register: list[Household], support: ProposalSupport) -> Household | None:
    """The household a pending support most likely is: the code typed, else the only one whose
    representative has the name given (diacritics and case aside). The head still decides."""
    by_code = {h.code.upper(): h for h in register}
    if support.household_code and support.household_code.upper() in by_code:
        return by_code[support.household_code.upper()]
    named = [h for h in register if fold(h.representative) == fold(support.name)]
    return named[0] if len(named) == 1 else None
