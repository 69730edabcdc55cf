"""The board's key ceremony and the count without the key, kept in the database.

``consult/polls/ceremony.py`` holds the protocol (Pedersen's distributed key generation with
Feldman commitments and the threshold decryption of ElectionGuard 2.0 §3.2 and §3.6; the checks
in ``consult/verify.py``); this module runs it between the members' devices through the server:

1. ``start``: before the vote opens, a ceremony of the board's n members, any k of whom count
   (``secrecy.threshold_for``).
2. ``announce``: each member's device sends its ceremony key, its commitments and their proofs;
   a malformed or unproven one is refused and names its member.
3. ``send_shares``: once all have announced, each device sends one share for each other member,
   sealed to that member's ceremony key (the server stores what it cannot open).
4. ``inbox``: each device fetches what is addressed to it and checks every share against its
   sender's commitments. A bad share is a ``complain``t; the accused device ``reveal``s the
   share in the clear, and the server checks it against the commitments: a share that does not
   hold (or none, ``disqualify_silent``) disqualifies its sender, who is named.
5. ``confirm``: each qualified device sends S_ℓ = s_ℓ·G from the shares it kept; it must equal
   what the commitments give. Once every qualified member has confirmed, the vote's key is the
   sum of the qualified members' first commitments; ``open_poll`` publishes it.

At the close of an online phase:

6. ``check_for_count``: the ballots are checked and summed (``ballots.check_box``), with no key.
7. ``send_partials``: each member's device sends s_ℓ·α of every sum with its Chaum-Pedersen proof;
   each is checked on arrival, and a bad one is refused and names its member.
8. ``combine_count``: any k valid members' partials are combined (Lagrange in the exponent); the
   result is the phase's count (``ballots.PhaseCount``), its record carrying the partials.

Nothing here ever holds a secret scalar of the vote key: every row is public, and what the
server computes from them is public too.

The "ý kiến khác" texts of a vote keyed by a ceremony are sealed by hashed ElGamal under the
vote key itself (``secrecy.seal_text_elgamal``): at the count each member's device also sends
s_ℓ·α of every counted ballot's text with its proof, and a majority's open the texts, which are
kept shuffled as for every vote.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from consult import verify
from consult.audit.service import Actor, record
from consult.polls import ballots, keycards, secrecy
from consult.polls.ceremony import Announcement, Ceremony, CeremonyError, PartialDecryption, Setup
from consult.polls.ceremony import combine as combine_partials
from consult.polls.errors import PollError
from consult.polls.models import (
    FORM_ONLINE,
    PHASE_CONSENT,
    STATUS_DRAFT,
    STATUS_OPEN,
    CastBallot,
    CeremonyMember,
    CeremonyShare,
    CeremonyTally,
    KeyCeremony,
    Poll,
)
from consult.polls.models import PartialDecryption as PartialRow
from consult.polls.models import TextPartials
from consult.timeutil import format_datetime, utcnow

# The context every commitment's proof is bound to, with the vote's number (``verify``).
KEY_PHASE = "key"


def setup_of(ceremony: KeyCeremony) -> Setup:
    return Setup(ceremony.poll_id, KEY_PHASE, ceremony.members, ceremony.threshold)


def _ceremony(session: Session, poll: Poll) -> KeyCeremony:
    found = session.get(KeyCeremony, poll.id)
    if found is None:
        raise PollError("Cuộc biểu quyết này chưa có lễ tạo khóa của Tổ lấy ý kiến.")
    return found


def _members(session: Session, poll: Poll) -> list[CeremonyMember]:
    return list(session.scalars(select(CeremonyMember).where(CeremonyMember.poll_id == poll.id)
                                .order_by(CeremonyMember.member)))


def _hex(value, size: int | None = None, what: str = "dữ liệu") -> bytes:
    try:
        data = bytes.fromhex(value)
    except (TypeError, ValueError):
        raise CeremonyError(f"Thiết bị gửi {what} không đọc được; hãy tải lại trang và làm lại bước này.") from None
    if size is not None and len(data) != size:
        raise CeremonyError(f"Thiết bị gửi {what} sai độ dài; hãy tải lại trang và làm lại bước này.")
    return data


# --- the ceremony ------------------------------------------------------------------------------

def start(session: Session, actor: Actor, poll: Poll, *, now: datetime | None = None) -> KeyCeremony:
    """A ceremony for a draft online vote whose board all have accounts; a new attempt if one
    was started and not finished (everything of the earlier attempt is forgotten)."""
    now = now or utcnow()
    if poll.form != FORM_ONLINE or poll.status != STATUS_DRAFT:
        raise PollError("Lễ tạo khóa chỉ làm cho cuộc biểu quyết trực tuyến, trước khi mở.")
    keycards.check_board(session, poll, pickup_keys=False)  # no card to seal: each device makes its own
    existing = session.get(KeyCeremony, poll.id)
    if existing is not None and existing.finished_at is not None:
        raise PollError("Lễ tạo khóa của cuộc biểu quyết này đã xong.")
    attempt = 1
    if existing is not None:
        attempt = existing.attempt + 1
        session.delete(existing)
        session.flush()
    n = len(poll.committee)
    ceremony = KeyCeremony(poll_id=poll.id, attempt=attempt, members=n, threshold=secrecy.threshold_for(n),
                           started_at=now)
    session.add(ceremony)
    session.flush()
    for index, member in enumerate(poll.committee, start=1):
        session.add(CeremonyMember(poll_id=poll.id, member=index, committee_member_id=member.id))
    session.flush()
    record(session, actor, "poll.ceremony_start", poll, now=now,
           details={"attempt": attempt, "members": n, "threshold": ceremony.threshold})
    return ceremony


def member_index(session: Session, poll: Poll, user) -> int:
    """The signed-in user's number in the ceremony (1..n), or a refusal."""
    _ceremony(session, poll)
    for index, member in enumerate(poll.committee, start=1):
        if member.user_id is not None and member.user_id == user.id:
            return index
    raise PollError("Bạn không phải thành viên Tổ lấy ý kiến của cuộc biểu quyết này.")


def _row(session: Session, poll: Poll, index: int) -> CeremonyMember:
    return session.get(CeremonyMember, (poll.id, index))


def server_side(session: Session, poll: Poll) -> Ceremony:
    """The ceremony as the server knows it (public values only), rebuilt from its rows; every
    stored commitment is checked again as it is read."""
    kc = _ceremony(session, poll)
    server = Ceremony(setup_of(kc))
    for row in _members(session, poll):
        if row.announced_at is None:
            continue
        server.announce(Announcement(row.member, bytes(row.ceremony_key), [bytes.fromhex(c) for c in row.commitments],
                                     [(bytes.fromhex(c), bytes.fromhex(v)) for c, v in row.proofs]))
        if row.disqualified:
            server.disqualified.add(row.member)
    for share in session.scalars(select(CeremonyShare).where(CeremonyShare.poll_id == poll.id)):
        server.sealed[(share.sender, share.recipient)] = bytes(share.sealed)
        if share.revealed is not None and share.upheld is False:
            server.revealed[(share.sender, share.recipient)] = bytes(share.revealed)
    return server


def _open(session: Session, poll: Poll) -> KeyCeremony:
    kc = _ceremony(session, poll)
    if kc.finished_at is not None:
        raise CeremonyError("Lễ tạo khóa đã xong; không gửi thêm được.")
    return kc


def announce(session: Session, poll: Poll, user, payload: dict, *, now: datetime | None = None) -> None:
    """Step 1: the member's ceremony key, commitments and proofs (hex), checked and kept."""
    now = now or utcnow()
    kc = _open(session, poll)
    index = member_index(session, poll, user)
    row = _row(session, poll, index)
    if row.announced_at is not None:
        raise CeremonyError(f"Thành viên số {index} đã gửi phần công khai; nếu thiết bị đã mất trạng thái, hãy "
                            "đề nghị bắt đầu lại lễ tạo khóa.", index)
    try:
        commitments = [_hex(c, 32, "cam kết") for c in payload["commitments"]]
        proofs = [(_hex(c, 32, "chứng minh"), _hex(v, 32, "chứng minh")) for c, v in payload["proofs"]]
        ceremony_key = _hex(payload["ceremony_key"], 32, "khóa nhận")
    except (KeyError, TypeError, ValueError):
        raise CeremonyError("Thiết bị gửi phần công khai không đủ trường; hãy tải lại trang và làm lại.", index) from None
    Ceremony(setup_of(kc)).announce(Announcement(index, ceremony_key, commitments, proofs))  # raises, naming the member
    row.ceremony_key, row.announced_at = ceremony_key, now
    row.commitments, row.proofs = [c.hex() for c in commitments], [[c.hex(), v.hex()] for c, v in proofs]
    session.flush()


def announcements(session: Session, poll: Poll) -> dict[int, Announcement]:
    return server_side(session, poll).announcements


def send_shares(session: Session, poll: Poll, user, shares: dict[int, bytes], *, now: datetime | None = None) -> None:
    """Step 3: one sealed share for each other member, once every member has announced."""
    now = now or utcnow()
    kc = _open(session, poll)
    index = member_index(session, poll, user)
    server = server_side(session, poll)
    waiting = [m for m in range(1, kc.members + 1) if m not in server.announcements]
    if waiting:
        raise CeremonyError("Chờ thành viên " + ", ".join(f"số {m}" for m in waiting)
                            + " gửi phần công khai rồi mới gửi phần khóa.", index)
    row = _row(session, poll, index)
    if row.shares_sent_at is not None:
        raise CeremonyError(f"Thành viên số {index} đã gửi phần khóa cho các thành viên khác.", index)
    server.post_shares(index, {int(r): bytes(blob) for r, blob in shares.items()})  # one for each other member
    for recipient, blob in sorted(shares.items()):
        if not 48 <= len(blob) <= 512:
            raise CeremonyError(f"Phần khóa gửi thành viên số {recipient} sai độ dài.", index)
        session.add(CeremonyShare(poll_id=poll.id, sender=index, recipient=int(recipient), sealed=bytes(blob)))
    row.shares_sent_at = now
    session.flush()


@dataclass(frozen=True)
class Inbox:
    """What a member's device fetches: everyone's announcements, the shares sealed to it,
    and which of the others' shares are still to come."""

    member: int
    announcements: dict[int, Announcement]
    sealed: dict[int, bytes]          # sender -> sealed share for this member
    revealed: dict[int, bytes]        # sender -> share revealed to settle this member's complaint
    missing: list[int]                # senders whose shares have not come yet
    disqualified: list[int]


def inbox(session: Session, poll: Poll, user) -> Inbox:
    index = member_index(session, poll, user)
    server = server_side(session, poll)
    sealed = {s: blob for (s, r), blob in server.sealed.items() if r == index}
    revealed = {s: share for (s, r), share in server.revealed.items() if r == index}
    missing = [m for m in sorted(server.announcements) if m != index and m not in sealed]
    return Inbox(index, dict(server.announcements), sealed, revealed, missing, sorted(server.disqualified))


def complain(session: Session, poll: Poll, user, sender: int, *, now: datetime | None = None) -> None:
    """The member's device found ``sender``'s share bad (it does not open, or does not match
    the sender's commitments): the sender must reveal it."""
    now = now or utcnow()
    _open(session, poll)
    index = member_index(session, poll, user)
    share = session.get(CeremonyShare, (poll.id, sender, index))
    if share is None:
        raise CeremonyError(f"Chưa có phần khóa nào của thành viên số {sender} gửi cho bạn.", index)
    if share.complained_at is None:
        share.complained_at = now
        session.flush()


def complaints_against(session: Session, poll: Poll, user) -> list[int]:
    """The members whose complaints the user's device must answer by revealing their share."""
    index = member_index(session, poll, user)
    return list(session.scalars(select(CeremonyShare.recipient).where(
        CeremonyShare.poll_id == poll.id, CeremonyShare.sender == index, CeremonyShare.complained_at.is_not(None),
        CeremonyShare.upheld.is_(None)).order_by(CeremonyShare.recipient)))


def _disqualify(session: Session, poll: Poll, member: int, why: str) -> None:
    row = _row(session, poll, member)
    if not row.disqualified:
        row.disqualified = why


def reveal(session: Session, actor: Actor, poll: Poll, user, recipient: int, share: bytes | None, *,
           now: datetime | None = None) -> bool:
    """The accused member's device reveals its share for ``recipient``; the server checks it
    against the commitments. True when it held (the complaint is dismissed); otherwise the
    accused is disqualified and named."""
    now = now or utcnow()
    _open(session, poll)
    index = member_index(session, poll, user)
    row = session.get(CeremonyShare, (poll.id, index, recipient))
    if row is None or row.complained_at is None or row.upheld is not None:
        raise CeremonyError(f"Không có khiếu nại nào của thành viên số {recipient} đang chờ bạn trả lời.", index)
    held = server_side(session, poll).settle(index, recipient, None if share is None else bytes(share))
    row.revealed, row.upheld = (bytes(share) if held else None), not held
    if not held:
        _disqualify(session, poll, index, f"gửi phần khóa sai cho thành viên số {recipient}")
    session.flush()
    record(session, actor, "poll.ceremony_complaint", poll, now=now,
           details={"accused": index, "complainant": recipient, "upheld": not held})
    return held


def disqualify_silent(session: Session, actor: Actor, poll: Poll, *, now: datetime | None = None) -> list[int]:
    """The members who did not answer a complaint against them: disqualified, named."""
    now = now or utcnow()
    _open(session, poll)
    rows = list(session.scalars(select(CeremonyShare).where(
        CeremonyShare.poll_id == poll.id, CeremonyShare.complained_at.is_not(None), CeremonyShare.upheld.is_(None))))
    for row in rows:
        row.upheld = True
        _disqualify(session, poll, row.sender, f"không trả lời khiếu nại của thành viên số {row.recipient}")
    session.flush()
    accused = sorted({row.sender for row in rows})
    if accused:
        record(session, actor, "poll.ceremony_disqualify", poll, now=now, details={"members": accused})
    return accused


def confirm(session: Session, poll: Poll, user, public_share: bytes, *, now: datetime | None = None) -> bool:
    """Step 5: the member's device reports S_ℓ from the shares it kept; it must be what the
    commitments give. True once every qualified member has confirmed (the key is made)."""
    now = now or utcnow()
    kc = _open(session, poll)
    index = member_index(session, poll, user)
    server = server_side(session, poll)
    if index not in server.qualified:
        raise CeremonyError(f"Thành viên số {index} đã bị loại khỏi lễ tạo khóa.", index)
    pending = session.scalar(select(CeremonyShare.sender).where(
        CeremonyShare.poll_id == poll.id, CeremonyShare.complained_at.is_not(None), CeremonyShare.upheld.is_(None)))
    missing = [m for m in sorted(server.qualified) if m != index and (m, index) not in server.sealed]
    if pending is not None or missing:
        raise CeremonyError("Chưa xác nhận được: còn khiếu nại chưa giải quyết hoặc phần khóa chưa đến.", index)
    if len(server.qualified) < kc.threshold:
        raise CeremonyError(f"Chỉ còn {len(server.qualified)} thành viên hợp lệ, cần ít nhất {kc.threshold}; "
                            "hãy bắt đầu lại lễ tạo khóa.")
    if bytes(public_share) != server.member_public(index):
        raise CeremonyError(f"Phần khóa thiết bị của thành viên số {index} tính ra không khớp với các cam kết: "
                            "hãy tải lại trang; nếu vẫn sai, bắt đầu lại lễ tạo khóa.", index)
    row = _row(session, poll, index)
    row.public_share, row.confirmed_at = bytes(public_share), now
    session.flush()
    rows = {r.member: r for r in _members(session, poll)}
    if all(rows[m].confirmed_at is not None for m in server.qualified):
        kc.joint_key, kc.finished_at = server.joint_key(), now
        session.flush()
        return True
    return False


def finished(session: Session, poll: Poll) -> KeyCeremony | None:
    kc = session.get(KeyCeremony, poll.id)
    return kc if kc is not None and kc.finished_at is not None else None


def status(session: Session, poll: Poll) -> dict | None:
    """What the vote's page shows of its ceremony (None when it has none): the ceremony, each
    member's row, whether the open phase's box was checked and who has sent their partials."""
    kc = session.get(KeyCeremony, poll.id)
    if kc is None:
        return None
    checked = session.get(CeremonyTally, (poll.id, poll.phase)) is not None
    return {"ceremony": kc, "rows": {r.member: r for r in _members(session, poll)}, "checked": checked,
            "sent": partials_sent(session, poll, poll.phase) if checked else []}


def record_part(session: Session, poll: Poll) -> dict | None:
    """The ceremony's part of the election record (``verify.check_ceremony``)."""
    if finished(session, poll) is None:
        return None
    return server_side(session, poll).record()


# --- the count ---------------------------------------------------------------------------------

def _finished(session: Session, poll: Poll) -> Ceremony:
    kc = finished(session, poll)
    if kc is None:
        raise PollError("Lễ tạo khóa của cuộc biểu quyết này chưa xong.")
    server = server_side(session, poll)
    if poll.public_key is None:
        raise PollError("Cuộc biểu quyết chưa mở.")
    if bytes(poll.public_key) != server.joint_key() or bytes(kc.joint_key) != server.joint_key():
        raise ballots.TamperedBox("Khóa của cuộc biểu quyết không phải tổng các cam kết của Tổ lấy ý kiến: "
                                  "không kiểm phiếu. Hãy báo quản trị viên.")
    return server


def check_for_count(session: Session, poll: Poll, phase: str, *, now: datetime | None = None,
                    progress=None) -> CeremonyTally:
    """Step 6: check and sum the phase's ballots (no key needed) and keep the sums for the
    members' devices. A phase is checked once. (A large vote's, after its end, is checked by a
    job on the reader and kept with ``keep_check``: the same two steps.)"""
    now = now or utcnow()
    ready_to_check(session, poll, phase, now)
    if phase == PHASE_CONSENT:
        poll.consent_closes_at = now  # no answer is taken once the box is checked (ballots.record_ballot)
    checked, texts = check_phase(session, poll, phase, progress=progress)
    return keep_check(session, poll, phase, checked, texts, now)


def ready_to_check(session: Session, poll: Poll, phase: str, now: datetime) -> None:
    _finished(session, poll)
    if poll.status != STATUS_OPEN or poll.phase != phase:
        raise PollError("Vòng này không đang mở; không kiểm phiếu được.")
    if session.get(CeremonyTally, (poll.id, phase)) is not None:
        raise PollError("Phiếu của vòng này đã được kiểm; chờ các thành viên giải mã.")
    if phase != PHASE_CONSENT and now < poll.closes_at:
        raise PollError(f"Chưa đến thời điểm kết thúc đã định ({format_datetime(poll.closes_at)}), đã in trên "
                        "phiếu của các hộ: chưa kiểm phiếu được.")


def check_phase(session: Session, poll: Poll, phase: str, *, progress=None) -> tuple[dict, list]:
    """The phase's box checked and summed, and the α of each counted ballot's sealed text
    (tracker order), read only: (the checks' record, the texts)."""
    box = ballots.check_box(session, poll, phase, progress=progress)
    texts = [[tracker, sealed[:verify.POINT].hex()] for tracker, sealed in ballots.counted_texts(session, poll, phase, box)]
    return box.record(poll, phase), texts if any(c.kind == "other" for c in poll.choices) else []


def keep_check(session: Session, poll: Poll, phase: str, checked: dict, texts: list, now: datetime) -> CeremonyTally:
    tally = CeremonyTally(poll_id=poll.id, phase=phase, checked=checked, texts=texts, checked_at=now)
    session.add(tally)
    session.flush()
    return tally


def _checked(session: Session, poll: Poll, phase: str) -> CeremonyTally:
    tally = session.get(CeremonyTally, (poll.id, phase))
    if tally is None:
        raise PollError("Phiếu của vòng này chưa được kiểm.")
    return tally


@dataclass(frozen=True)
class Text:
    tracker: str
    alpha: bytes
    context: bytes


def sealed_texts(session: Session, poll: Poll, phase: str) -> list[Text]:
    """What each member's device decrypts besides the sums: every counted ballot's sealed text."""
    tally = _checked(session, poll, phase)
    return [Text(tracker, bytes.fromhex(alpha),
                 verify.text_context(poll.id, phase, bytes(poll.public_key), bytes.fromhex(alpha)))
            for tracker, alpha in tally.texts]


@dataclass(frozen=True)
class Sum:
    group_id: int
    choice: int
    alpha: bytes
    beta: bytes
    context: bytes


def sums(session: Session, poll: Poll, phase: str) -> list[Sum]:
    """What each member's device decrypts: every group's sum per choice, with its context."""
    tally = _checked(session, poll, phase)
    out = []
    for group in tally.checked["groups"]:
        for choice, pair in enumerate(group["sum"]):
            data = base64.b64decode(pair)
            out.append(Sum(group["id"], choice, data[:verify.POINT], data[verify.POINT:],
                           verify.decryption_context(poll.id, phase, bytes(poll.public_key), group["id"], choice)))
    return out


def send_partials(session: Session, poll: Poll, user, phase: str, partials: dict[tuple[int, int], PartialDecryption],
                  *, texts: list[PartialDecryption] | None = None, now: datetime | None = None) -> None:
    """Step 7: the member's partial decryption of every sum and of every counted ballot's text
    (in the order of ``texts``), each proven; all or nothing. A wrong one is refused and names
    the member; the others can still count."""
    now = now or utcnow()
    server = _finished(session, poll)
    index = member_index(session, poll, user)
    if index not in server.qualified:
        raise CeremonyError(f"Thành viên số {index} không có phần khóa hợp lệ trong lễ tạo khóa.", index)
    wanted = sums(session, poll, phase)
    if set(partials) != {(s.group_id, s.choice) for s in wanted}:
        raise CeremonyError(f"Thành viên số {index} phải gửi đúng một phần giải mã cho mỗi tổng.", index)
    done = session.scalar(select(PartialRow.member).where(
        PartialRow.poll_id == poll.id, PartialRow.phase == phase, PartialRow.member == index))
    if done is not None:
        raise CeremonyError(f"Thành viên số {index} đã gửi phần giải mã.", index)
    public_share = server.member_public(index)
    for s in wanted:
        p = partials[(s.group_id, s.choice)]
        if p.member != index or not verify.check_partial(verify.partial_context(s.context, index), public_share,
                                                         s.alpha, p.m, p.c, p.v):
            raise CeremonyError(f"Phần giải mã của thành viên số {index} không đúng (chứng minh sai): không nhận. "
                                "Các thành viên khác vẫn kiểm phiếu được nếu đủ số.", index)
    wanted_texts, texts = sealed_texts(session, poll, phase), list(texts or [])
    if len(texts) != len(wanted_texts):
        raise CeremonyError(f"Thành viên số {index} phải gửi đúng một phần giải mã cho mỗi ý kiến ghi chữ "
                            f"({len(wanted_texts)}).", index)
    for t, p in zip(wanted_texts, texts):
        if p.member != index or not verify.check_partial(verify.partial_context(t.context, index), public_share,
                                                         t.alpha, p.m, p.c, p.v):
            raise CeremonyError(f"Phần giải mã ý kiến ghi chữ của thành viên số {index} không đúng (chứng minh sai): "
                                "không nhận.", index)
    if wanted_texts:
        session.add(TextPartials(poll_id=poll.id, phase=phase, member=index, sent_at=now,
                                 partials=[[p.m.hex(), p.c.hex(), p.v.hex()] for p in texts]))
    for s in wanted:
        p = partials[(s.group_id, s.choice)]
        session.add(PartialRow(poll_id=poll.id, phase=phase, group_id=s.group_id, choice=s.choice, member=index,
                               m=p.m, c=p.c, v=p.v, sent_at=now))
    session.flush()


def partials_sent(session: Session, poll: Poll, phase: str) -> list[int]:
    return sorted(set(session.scalars(select(PartialRow.member).where(
        PartialRow.poll_id == poll.id, PartialRow.phase == phase))))


def _box_size(session: Session, poll: Poll, phase: str) -> tuple[int, int]:
    ballots_ = session.scalar(select(func.count()).select_from(CastBallot).where(
        CastBallot.poll_id == poll.id, CastBallot.phase == phase)) or 0
    return ballots_, sum(ballots.marks_by_group(session, poll, phase).values())


def combine_count(session: Session, poll: Poll, phase: str) -> ballots.PhaseCount:
    """Step 8: each sum decrypted from k members' partials (each checked again), and the
    phase's record with them. ``TamperedBox`` when a stored partial no longer holds."""
    server = _finished(session, poll)
    tally = _checked(session, poll, phase)
    rows = session.scalars(select(PartialRow).where(PartialRow.poll_id == poll.id, PartialRow.phase == phase))
    by_sum: dict[tuple[int, int], list[PartialDecryption]] = {}
    for row in rows:
        by_sum.setdefault((row.group_id, row.choice), []).append(
            PartialDecryption(row.member, bytes(row.m), bytes(row.c), bytes(row.v)))
    if _box_size(session, poll, phase) != (tally.checked["checked"]["ballots"], tally.checked["checked"]["marks"]):
        # A ballot recorded while the box was being checked: check again, decrypt again.
        session.execute(delete(PartialRow).where(PartialRow.poll_id == poll.id, PartialRow.phase == phase))
        session.execute(delete(TextPartials).where(TextPartials.poll_id == poll.id, TextPartials.phase == phase))
        session.delete(tally)
        session.flush()
        raise PollError("Có phiếu được ghi sau lúc kiểm phiếu: hãy kiểm phiếu lại, rồi các thành viên giải mã lại.")
    record_ = {key: value for key, value in tally.checked.items()}
    groups, counts = [], {}
    wanted = sums(session, poll, phase)
    for entry in tally.checked["groups"]:
        entry = dict(entry)
        values, proofs = [], []
        for s in (s for s in wanted if s.group_id == entry["id"]):
            given = by_sum.get((s.group_id, s.choice), [])
            if len(given) < server.setup.threshold:
                raise PollError(f"Cần phần giải mã của ít nhất {server.setup.threshold} thành viên; "
                                f"mới có {len(given)}.")
            broken = [p.member for p in given if p.member not in server.qualified or not verify.check_partial(
                verify.partial_context(s.context, p.member), server.member_public(p.member), s.alpha, p.m, p.c, p.v)]
            if broken:  # each was checked when it came: a row changed since
                raise ballots.TamperedBox("Phần giải mã đã lưu của thành viên " + ", ".join(f"số {m}" for m in broken)
                                          + " không còn đúng: không kiểm phiếu. Hãy báo quản trị viên.")
            decrypted = combine_partials(server, s.context, s.alpha, given)
            count = secrecy._small_log(verify.sub(s.beta, decrypted.value), entry["counted"])
            values.append(count)
            proofs.append({"partials": [{"member": p.member, "m": ballots._b64(p.m), "c": ballots._b64(p.c),
                                         "v": ballots._b64(p.v)} for p in given if p.member in decrypted.used]})
        entry["counts"], entry["decryption"] = values, proofs
        counts[entry["id"]] = values
        groups.append(entry)
    record_["groups"] = groups
    record_["ceremony"] = True
    counted = sum(g["counted"] for g in groups)
    return ballots.PhaseCount(counts, _open_texts(session, poll, phase, server), counted, record_)


def _open_texts(session: Session, poll: Poll, phase: str, server: Ceremony) -> list[str]:
    """The non-empty "ý kiến khác" of the counted ballots, shuffled: each sealed text opened with
    s·α combined from the members' stored partials (each checked again), read in tracker order."""
    wanted = sealed_texts(session, poll, phase)
    if not wanted:
        return []
    sent = {row.member: row.partials for row in session.scalars(select(TextPartials).where(
        TextPartials.poll_id == poll.id, TextPartials.phase == phase))}
    members = [m for m in sorted(sent) if m in server.qualified]
    if any(len(sent[m]) != len(wanted) for m in members):
        raise ballots.TamperedBox("Phần giải mã ý kiến ghi chữ đã lưu không đủ cho mọi phiếu: không kiểm phiếu. "
                                  "Hãy báo quản trị viên.")
    if len(members) < server.setup.threshold:
        raise PollError(f"Cần phần giải mã ý kiến ghi chữ của ít nhất {server.setup.threshold} thành viên; "
                        f"mới có {len(members)}.")
    rows = session.execute(select(CastBallot.tracker, CastBallot.sealed_text).where(
        CastBallot.poll_id == poll.id, CastBallot.phase == phase).order_by(CastBallot.tracker)
        .execution_options(yield_per=ballots.COUNT_CHUNK))
    opened, at = [], 0
    for tracker, blob in rows:
        if at == len(wanted):
            break
        t = wanted[at]
        if tracker != t.tracker:
            continue
        blob = bytes(blob)
        try:
            given = [PartialDecryption(m, *(bytes.fromhex(x) for x in sent[m][at])) for m in members]
            shared = combine_partials(server, t.context, t.alpha, given).value
            text = secrecy.open_text_elgamal(bytes(poll.public_key), blob, shared) if blob[:verify.POINT] == t.alpha \
                else None
        except (CeremonyError, ValueError, TypeError):
            text = None
        if text is None:
            rows.close()
            raise ballots.TamperedBox(f"Ý kiến ghi chữ của phiếu {tracker[:16]}… không mở được với các phần giải mã "
                                      "đã lưu: không kiểm phiếu. Hãy báo quản trị viên.")
        if text:
            opened.append(text)
        at += 1
    rows.close()
    if at != len(wanted):
        raise ballots.TamperedBox(f"{len(wanted) - at} phiếu có ý kiến ghi chữ đã mất sau lúc kiểm phiếu: không kiểm "
                                  "phiếu. Hãy báo quản trị viên.")
    secrets.SystemRandom().shuffle(opened)
    return opened
