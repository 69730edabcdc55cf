"""Phiếu giữ khóa: each member of an online vote's board picks up their own key share.

The Tổ lấy ý kiến biểu quyết trực tuyến (NĐ 59 Điều 5 khoản 1 điểm c, 3 to 5 members)
holds the vote's key, a majority of them to count. At opening the server splits the key
(``secrecy.new_key``) and seals each share to the share-pickup key of that member's own
account (``consult/auth/pickup.py``); nobody sees a share at opening, the opener
included. Each member, signed in, types their password once more: the share opens and
is shown once, as a card to print, and its sealed copy is erased. Nobody else can open
it — not the opener, not an administrator — since it takes that member's password.

A member whose password an administrator resets loses a share not yet picked up (the
old password, which sealed it, is gone); a majority of the board still counts. A member
who changes their own password keeps it: the share is sealed again to the new key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from consult import security
from consult.audit.service import Actor, record
from consult.auth import pickup
from consult.auth.models import User
from consult.polls.errors import PollError
from consult.polls.models import FORM_ONLINE, STATUS_OPEN, CommitteeMember, KeyShareEnvelope, Poll
from consult.polls.secrecy import key_fingerprint
from consult.timeutil import format_datetime, utcnow

# Why a pickup was refused, decided from data (the view answers each its own way).
NOT_MEMBER, PICKED_UP, LOST, CLOSED, WRONG_PASSWORD, WRONG_KEY = (
    "not_member", "picked_up", "lost", "closed", "wrong_password", "wrong_key")


class PickupRefused(PollError):
    """The share cannot be shown; ``reason`` is one of the constants above."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class ShareCard:
    """What the printed card carries: the share's code and what identifies it."""

    poll_id: int
    poll_title: str
    group: str
    member: str
    role: str
    is_leader: bool
    code: str
    fingerprint: str
    threshold: int
    members: int
    closes_at: datetime


def check_board(session: Session, poll: Poll, *, pickup_keys: bool = True) -> None:
    """Before an online vote opens: every member of its board has an account of their
    own — linked, not shared with another member, active, of this commune, and signed in
    once (which makes its pickup key). Otherwise some share would have nobody to go to."""
    problems, seen = [], {}
    for member in poll.committee:
        user = member.user
        if user is None:
            problems.append(f"{member.name}: chưa chọn tài khoản")
        elif user.id in seen:
            problems.append(f"{member.name}: tài khoản {user.username} đã gắn với {seen[user.id]}")
        elif user.commune_id != poll.commune_id:
            problems.append(f"{member.name}: tài khoản {user.username} không thuộc {poll.commune.full_name}")
        elif not user.active:
            problems.append(f"{member.name}: tài khoản {user.username} đang bị khóa")
        elif pickup_keys and not pickup.has_key(user):
            problems.append(f"{member.name}: tài khoản {user.username} chưa đăng nhập lần nào (đăng nhập một lần "
                            "để có khóa nhận phiếu giữ khóa)")
        if user is not None:
            seen.setdefault(user.id, member.name)
    if problems:
        raise PollError("Chưa mở được biểu quyết trực tuyến: mỗi thành viên Tổ lấy ý kiến phải có tài khoản riêng "
                        "để tự nhận phiếu giữ khóa của mình. " + "; ".join(problems) + ".")


def seal_shares(session: Session, poll: Poll, codes: list[str], *, now: datetime) -> None:
    """Seal each share, in the board's order, to its member's pickup key; nothing in clear is kept."""
    for member, code in zip(poll.committee, codes, strict=True):
        session.add(KeyShareEnvelope(poll_id=poll.id, committee_member_id=member.id, created_at=now,
                                     sealed=pickup.seal(member.user.pickup_public_key, code.encode("ascii"))))
    session.flush()


def envelopes(session: Session, poll: Poll) -> dict[int, KeyShareEnvelope]:
    """The board's envelopes by committee member id (what the vote's page shows of them)."""
    rows = session.scalars(select(KeyShareEnvelope).where(KeyShareEnvelope.poll_id == poll.id))
    return {row.committee_member_id: row for row in rows}


def envelope_of(session: Session, poll_id: int, user: User) -> KeyShareEnvelope | None:
    """This account's own envelope of this vote, or None: the only one it may ever open."""
    return session.scalar(select(KeyShareEnvelope).join(CommitteeMember).where(
        KeyShareEnvelope.poll_id == poll_id, CommitteeMember.user_id == user.id))


def waiting_for(session: Session, user: User) -> list[Poll]:
    """Open votes whose share still waits for this account (its desk links to them)."""
    return list(session.scalars(
        select(Poll).join(KeyShareEnvelope, KeyShareEnvelope.poll_id == Poll.id).join(CommitteeMember)
        .where(CommitteeMember.user_id == user.id, KeyShareEnvelope.sealed.is_not(None),
               Poll.status == STATUS_OPEN).order_by(Poll.opened_at)))


def pick_up(session: Session, actor: Actor, poll: Poll, user: User, password: str, *,
            now: datetime | None = None) -> ShareCard:
    """Open the member's own share with their password and erase its sealed copy, so that
    the card is shown once (NĐ 59 Điều 5: the board, each member for themself, holds the key).
    A wrong password changes nothing."""
    now = now or utcnow()
    envelope = envelope_of(session, poll.id, user) if poll.form == FORM_ONLINE else None
    if envelope is None:
        raise PickupRefused(NOT_MEMBER, "Bạn không phải thành viên Tổ lấy ý kiến của cuộc biểu quyết này.")
    if envelope.picked_up_at is not None:
        raise PickupRefused(PICKED_UP, f"Bạn đã nhận phiếu giữ khóa lúc {format_datetime(envelope.picked_up_at)}; "
                                       "phiếu chỉ hiện một lần.")
    if envelope.lost_at is not None:
        raise PickupRefused(LOST, f"Phiếu giữ khóa của bạn đã mất khi mật khẩu được đặt lại lúc "
                                  f"{format_datetime(envelope.lost_at)}. Vẫn kiểm phiếu được khi đủ đa số thành "
                                  "viên Tổ lấy ý kiến nhập mã khóa.")
    if envelope.sealed is None or poll.status != STATUS_OPEN:
        raise PickupRefused(CLOSED, "Cuộc biểu quyết đã kết thúc; phiếu giữ khóa không còn.")
    if not security.verify_password(user.password_hash, password or ""):
        raise PickupRefused(WRONG_PASSWORD, "Mật khẩu không đúng.")
    opened = pickup.unseal(pickup.private_key(user, password), envelope.sealed)
    if opened is None:
        raise PickupRefused(WRONG_KEY, "Phiếu giữ khóa không mở được bằng mật khẩu hiện tại của bạn. Hãy báo tổ "
                                       "trưởng; vẫn kiểm phiếu được khi đủ đa số thành viên.")
    # Once only, even for two requests at the same moment: whoever erases the copy shows it.
    erased = session.execute(update(KeyShareEnvelope).where(
        KeyShareEnvelope.id == envelope.id, KeyShareEnvelope.picked_up_at.is_(None),
        KeyShareEnvelope.sealed.is_not(None)).values(sealed=None, picked_up_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if erased != 1:
        raise PickupRefused(PICKED_UP, "Phiếu giữ khóa vừa được nhận; phiếu chỉ hiện một lần.")
    session.expire(envelope)
    member = envelope.member
    record(session, actor, "poll.key_share_picked_up", poll, now=now, details={"member": member.name})
    return ShareCard(poll_id=poll.id, poll_title=poll.title,
                     group=poll.group.full_name if poll.group else poll.commune.full_name,
                     member=member.name, role=member.role, is_leader=member.is_leader, code=opened.decode("ascii"),
                     fingerprint=key_fingerprint(poll.public_key, poll.texts_key), threshold=poll.key_threshold,
                     members=len(poll.committee), closes_at=poll.closes_at)


def _waiting(session: Session, user: User) -> list[KeyShareEnvelope]:
    return list(session.scalars(select(KeyShareEnvelope).join(CommitteeMember).where(
        CommitteeMember.user_id == user.id, KeyShareEnvelope.sealed.is_not(None))))


def reseal(session: Session, user: User, old_key, new_public: bytes, *, now: datetime) -> int:
    """The owner changed their password: the shares waiting for them move to the new key
    (the old password, just typed, opens them). Returns how many moved."""
    moved = 0
    for envelope in _waiting(session, user):
        opened = pickup.unseal(old_key, envelope.sealed)
        if opened is None:  # sealed to a key this password never made: nobody can open it
            envelope.sealed, envelope.lost_at = None, now
            continue
        envelope.sealed = pickup.seal(new_public, opened)
        moved += 1
    return moved


def forget_shares(session: Session, user: User, *, now: datetime) -> int:
    """An administrator reset the password: the shares waiting for this account can no
    longer be opened by anyone; they are erased and marked lost. Returns how many."""
    lost = _waiting(session, user)
    for envelope in lost:
        envelope.sealed, envelope.lost_at = None, now
    return len(lost)


def waiting_count(session: Session, user: User) -> int:
    """How many shares wait for this account (an administrator is told before a reset)."""
    return len(_waiting(session, user))


def discard(session: Session, poll: Poll) -> None:
    """The vote is counted (or will not be held): shares never picked up are erased."""
    session.execute(update(KeyShareEnvelope).where(KeyShareEnvelope.poll_id == poll.id,
                                                   KeyShareEnvelope.sealed.is_not(None))
                    .values(sealed=None).execution_options(synchronize_session=False))
