"""Ballots: the households' slips (QR link and typed code), online ballots stored
encrypted (see ``secrecy``), paper ballots recorded by their stubs and counted by
the totals of each box, and the public bulletin of counted ballots.

Luật Điều 19 (phát phiếu), NĐ 59 Điều 4 (paper) and Điều 5 (online).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from consult import security
from consult.audit.models import AuditEntry
from consult.audit.service import Actor, chain_key, compute_hash, record
from consult.communes.models import Commune, ResidentialGroup, commune_full_name, group_full_name
from consult import verify
from consult.paging import Page, keyset_page
from consult.polls import secrecy
from consult.polls.models import (
    FORM_BALLOT,
    FORM_ONLINE,
    PHASE_CONSENT,
    PHASE_VOTE,
    STATUS_OPEN,
    BallotToken,
    CastBallot,
    PaperCount,
    Participation,
    PollTurnout,
    Poll,
    PollChoice,
    PollHousehold,
)
from consult.textutil import nfc
from consult.timeutil import format_date, format_datetime, local_date, utcnow
from consult.polls.errors import AlreadyVoted, BallotRejected, PollError

CONSENT_CHOICES = {"agree": "Đồng ý biểu quyết trực tuyến", "disagree": "Không đồng ý biểu quyết trực tuyến"}
# Without 0/O, 1/I/L: easy to read aloud and type from a slip.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
# Every online ballot carries a sealed text of one size (see ``secrecy``).
MAX_OTHER_TEXT = 500

def _new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(10))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def code_digest(session: Session, code: str) -> str:
    """How a slip's typed code is stored: an HMAC under a key kept outside the database.

    The code is short enough to type (10 characters of 31: about 50 bits), so a plain hash of it
    would let whoever reads the ``ballot_token`` table find every live code by trying them all
    against every row at once (minutes on a graphics card) and vote for households that have not
    voted. Keyed by a key derived from the audit chain's (``AUDIT_KEY``, in the environment or
    ``instance/audit_key``), the stored digests tell nothing without it. The QR link's token,
    192 random bits, is stored as its plain SHA-256 (``security.hash_token``)."""
    key = hashlib.blake2b(chain_key(session).encode("utf-8"), digest_size=32, person=b"consult-code").digest()
    return hmac.new(key, code.encode("utf-8"), hashlib.sha256).hexdigest()


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
    issued = plan_ballots(session, poll, household_ids=household_ids)
    store_ballots(session, actor, poll, issued, reprint=household_ids is not None, now=now)
    return issued


def plan_ballots(session: Session, poll: Poll, *, household_ids: list[int] | None = None) -> list[IssuedBallot]:
    """The slips to print, with new links and codes, read only: nothing is written until
    ``store_ballots``, so a long print holds no write lock (polls.jobs prints in between)."""
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
    return [IssuedBallot(household, security.new_token(24), _new_code()) for household in targets]


def store_ballots(session: Session, actor: Actor, poll: Poll, issued: list[IssuedBallot], *, reprint: bool = False,
                  now: datetime | None = None) -> None:
    """Record planned slips: the households' earlier slips stop working."""
    now = now or utcnow()
    if session.scalar(select(Poll.status).where(Poll.id == poll.id)) != STATUS_OPEN:
        raise PollError("Chỉ in phiếu khi cuộc biểu quyết đang mở.")
    ids = [b.household.id for b in issued]
    for start in range(0, len(ids), 1000):
        session.execute(update(BallotToken).where(BallotToken.poll_household_id.in_(ids[start:start + 1000]),
                                                  BallotToken.revoked_at.is_(None)).values(revoked_at=now))
    if issued:
        session.execute(insert(BallotToken), [
            {"poll_id": poll.id, "poll_household_id": b.household.id, "token_hash": security.hash_token(b.token),
             "code_hash": code_digest(session, b.code), "issued_at": now} for b in issued])
    record(session, actor, "poll.ballots_issued", poll, now=now, details={"slips": len(issued), "reprint": reprint})


# --- ballots ------------------------------------------------------------------------------

@dataclass(frozen=True)
class NamedPlace:
    """The commune or the group, as the ballot page names it."""

    full_name: str
    slug: str = ""


@dataclass(frozen=True)
class BallotChoice:
    id: int
    label: str
    kind: str


@dataclass(frozen=True)
class BallotPoll:
    """What a ballot needs of its vote: the state, read with the token on every request,
    and the texts, choices and keys, fixed from the vote's opening on (``_FIXED``)."""

    id: int
    commune: NamedPlace
    form: str
    status: str
    phase: str
    opens_at: datetime
    closes_at: datetime
    consent_closes_at: datetime | None
    title: str
    question: str
    content: str
    public_key: bytes | None
    texts_key: bytes | None
    choices: tuple[BallotChoice, ...]


@dataclass(frozen=True)
class BallotHousehold:
    id: int
    code: str
    group_id: int


@dataclass(frozen=True)
class LiveToken:
    """A live ballot token with what its page shows, read in one query (``find_token``)."""

    id: int
    poll_id: int
    household: BallotHousehold
    group: NamedPlace
    poll: BallotPoll
    voted_on: date | None  # in the vote's current phase
    sealed_receipt: bytes | None = None  # the receipt of its online ballot, sealed (``seal_receipt``)


@dataclass
class BallotView:
    poll: BallotPoll
    token: LiveToken
    household: BallotHousehold
    group: NamedPlace
    phase: str
    choices: list[tuple[int | str, str, str]]  # (value, label, kind)
    voted_on: date | None


# One statement for the token, its household and group, the vote's state and commune, and
# whether the household has voted in the vote's current phase: built once, so only its
# parameters change from request to request.
_TOKEN_COLUMNS = (BallotToken.id, BallotToken.poll_id, BallotToken.revoked_at, PollHousehold.id, PollHousehold.code,
                  PollHousehold.group_id, ResidentialGroup.kind, ResidentialGroup.name, Poll.form, Poll.status,
                  Poll.phase, Poll.opens_at, Poll.closes_at, Poll.consent_closes_at, Poll.title, Poll.opened_at,
                  Poll.public_key, Commune.kind, Commune.name, Commune.slug, Participation.voted_on,
                  Participation.sealed_receipt)


def _token_statement(column):
    return (select(*_TOKEN_COLUMNS)
            .join(PollHousehold, PollHousehold.id == BallotToken.poll_household_id)
            .join(ResidentialGroup, ResidentialGroup.id == PollHousehold.group_id)
            .join(Poll, Poll.id == BallotToken.poll_id)
            .join(Commune, Commune.id == Poll.commune_id)
            .outerjoin(Participation, and_(Participation.poll_id == BallotToken.poll_id,
                                           Participation.phase == Poll.phase,
                                           Participation.poll_household_id == PollHousehold.id))
            .where(column == bindparam("digest")))


_BY_TOKEN = _token_statement(BallotToken.token_hash)
_BY_CODE = _token_statement(BallotToken.code_hash)

# The question, attached text, choices and keys of opened votes, by (vote, opening time,
# public key): none of them changes once a vote is open (``save_poll`` edits drafts only),
# and the public key, new at every opening, tells one database's vote from another's.
_FIXED: dict[tuple, tuple] = {}
_FIXED_MAX = 512


def _fixed_parts(session: Session, poll_id: int, opened_at, public_key) -> tuple:
    key = (poll_id, opened_at, public_key)
    parts = _FIXED.get(key) if public_key is not None else None
    if parts is None:
        connection = session.connection()
        question, content, texts_key = connection.execute(
            select(Poll.question, Poll.content, Poll.texts_key).where(Poll.id == poll_id)).one()
        choices = tuple(BallotChoice(*row) for row in connection.execute(
            select(PollChoice.id, PollChoice.label, PollChoice.kind).where(PollChoice.poll_id == poll_id)
            .order_by(PollChoice.position)))
        parts = (question, content or "", texts_key, choices)
        if public_key is not None:
            if len(_FIXED) >= _FIXED_MAX:
                _FIXED.clear()
            _FIXED[key] = parts
    return parts


# Whether a vote's key is the one its opening wrote into the audit trail, by (vote, opening
# time, public key, texts key): the entry is immutable once written, so it is read and its HMAC
# checked once per process and key (a key is new at every opening, so two databases' votes
# never share an entry here; a key swapped in the database is a new entry, checked afresh).
_OPENED_WITH: dict[tuple, bool] = {}


def opening_fingerprint(session: Session, poll_id: int) -> str | None:
    """The fingerprint of the key the vote was opened with, from the audit trail's opening
    entry, whose HMAC is keyed outside the database (``consult.audit``): a key swapped in the
    ``poll`` row, or an opening entry edited to match it, is found out. None if missing."""
    entry = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "poll.open", AuditEntry.object_type == "poll",
        AuditEntry.object_id == str(poll_id)).order_by(AuditEntry.id.desc()).limit(1)).first()
    found = None
    if entry is not None and hmac.compare_digest(entry.hash, compute_hash(entry, chain_key(session))):
        try:
            found = json.loads(entry.details or "{}").get("fingerprint")
        except ValueError:
            found = None
    return found


KEY_CHANGED = ("Khóa mã hóa của cuộc biểu quyết không phải khóa đã công bố khi mở (dấu vân tay khác); "
               "phiếu không được nhận. Hãy báo Tổ lấy ý kiến và Ủy ban nhân dân xã, phường.")


def key_is_opening_key(session: Session, poll_id: int, opened_at, public_key: bytes | None,
                       texts_key: bytes | None) -> bool:
    if public_key is None or texts_key is None:
        return False
    cache_key = (poll_id, opened_at, bytes(public_key), bytes(texts_key))
    if opened_at is not None and cache_key in _OPENED_WITH:
        return _OPENED_WITH[cache_key]
    opened = opening_fingerprint(session, poll_id)
    same = opened is not None and hmac.compare_digest(opened, secrecy.key_fingerprint(public_key, texts_key))
    if opened_at is not None:
        if len(_OPENED_WITH) >= _FIXED_MAX:
            _OPENED_WITH.clear()
        _OPENED_WITH[cache_key] = same
    return same


def find_token(session: Session, *, token: str | None = None, code: str | None = None) -> LiveToken:
    """The live token for a QR link or a manual code; BallotRejected otherwise."""
    if token:
        statement, digest = _BY_TOKEN, security.hash_token(token)
    elif code:
        statement, digest = _BY_CODE, code_digest(session, normalize_code(code))
    else:
        statement = None
    row = session.connection().execute(statement, {"digest": digest}).first() if statement is not None else None
    if row is None:
        raise BallotRejected("Mã phiếu không đúng. Hãy kiểm tra lại mã trên phiếu.")
    (token_id, poll_id, revoked_at, household_id, household_code, group_id, group_kind, group_name, form, status,
     phase, opens_at, closes_at, consent_closes_at, title, opened_at, public_key, commune_kind, commune_name, slug,
     voted_on, sealed_receipt) = row
    if revoked_at is not None:
        raise BallotRejected("Phiếu này đã bị hủy vì hộ đã được cấp phiếu mới. Hãy dùng phiếu mới nhất.")
    question, content, texts_key, choices = _fixed_parts(session, poll_id, opened_at, public_key)
    if form == FORM_ONLINE and not key_is_opening_key(session, poll_id, opened_at, public_key, texts_key):
        raise BallotRejected(KEY_CHANGED)
    commune = NamedPlace(commune_full_name(commune_kind, commune_name), slug)
    poll = BallotPoll(poll_id, commune, form, status, phase, opens_at, closes_at, consent_closes_at, title, question,
                      content, public_key, texts_key, choices)
    group = NamedPlace(group_full_name(group_kind, group_name))
    return LiveToken(token_id, poll_id, BallotHousehold(household_id, household_code, group_id), group, poll,
                     voted_on, sealed_receipt)


def ballot_view(token: LiveToken) -> BallotView:
    """What the ballot page shows for a token: the vote, the household, the phase and its choices."""
    poll = token.poll
    if poll.phase == PHASE_CONSENT:
        choices = [(key, label, key) for key, label in CONSENT_CHOICES.items()]
    else:
        choices = [(c.id, c.label, c.kind) for c in poll.choices]
    return BallotView(poll, token, token.household, token.group, poll.phase, choices, token.voted_on)


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


def check_other_text(kind: str, other_text: str | None) -> str:
    """The "ý kiến khác" as it is sealed (BallotRejected when it cannot be): NFC, a line break
    as one LF (a browser sends CRLF, and counts it as one character under ``maxlength``),
    trimmed, at most MAX_OTHER_TEXT characters; none for another choice."""
    other_text = nfc(other_text or "").replace("\r\n", "\n").strip()
    if kind == "other" and not other_text:
        raise BallotRejected("Hãy ghi ý kiến khác của hộ.")
    if len(other_text) > MAX_OTHER_TEXT:
        raise BallotRejected(f"Ý kiến khác dài quá {MAX_OTHER_TEXT} ký tự.")
    if "\x00" in other_text:
        raise BallotRejected("Ý kiến khác có ký tự không hợp lệ.")
    return other_text if kind == "other" else ""


def _mark(session: Session, poll: Poll, household: PollHousehold, channel: str, now: datetime) -> None:
    _mark_ids(session, poll.id, poll.phase, household.id, channel, now)


# The mark's insert does nothing on conflict, so a second try leaves no error naming the
# household in the database's log; built once for each database.
_MARK = {name: dialect_insert(Participation.__table__).on_conflict_do_nothing()
         .returning(Participation.poll_household_id)
         for name, dialect_insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))}
_VOTED_ON = select(Participation.voted_on).where(
    Participation.poll_id == bindparam("poll_id"), Participation.phase == bindparam("phase"),
    Participation.poll_household_id == bindparam("poll_household_id"))


def _mark_ids(session: Session, poll_id: int, phase: str, household_id: int, channel: str, now: datetime,
              sealed_receipt: bytes | None = None) -> None:
    """The household's "has voted" mark; the database refuses a second one."""
    connection = session.connection()
    values = dict(poll_id=poll_id, phase=phase, poll_household_id=household_id, voted_on=local_date(now),
                  channel=channel, sealed_receipt=sealed_receipt)
    if connection.execute(_MARK[connection.dialect.name], values).first() is None:
        day = connection.execute(_VOTED_ON, values).scalar()
        raise AlreadyVoted(f"Hộ này đã biểu quyết{' ngày ' + format_date(day) if day else ''}; "
                           "mỗi hộ chỉ có một phiếu.")


def cast_online(session: Session, token_value: str | None, choice, *, code: str | None = None,
                other_text: str | None = None, now: datetime | None = None, found: LiveToken | None = None) -> str:
    """An online ballot (or consent answer) from the QR link or the typed code.

    The household is marked as having voted, and its choice is stored only as a
    ciphertext under the vote's public key, with a sealed "ý kiến khác" of fixed
    size (empty or not). Returns the receipt code: the start of the ballot's
    tracker, which the public bulletin lists (none in the consent round).
    """
    now = now or utcnow()
    token = found or find_token(session, token=token_value, code=code)
    prepared = prepare_ballot(token, choice, other_text=other_text, now=now)
    return record_ballot(session, prepared, now=now,
                         sealed_receipt=seal_receipt(prepared, token=token_value, code=None if token_value else code))


# The typed code's key for a receipt: Argon2id at a modest cost, enough against 2^50 guesses
# (each costs the attacker this much), little for the one household that opens its slip.
RECEIPT_KDF = (2, 16 * 1024 * 1024)


def _receipt_key(poll_id: int, household_id: int, *, token: str | None, code: str | None) -> tuple[bytes, bytes]:
    """(mark, key): b"T" and a key from the QR token (192 random bits: one keyed BLAKE2b), or
    b"C" and a key from the typed code (Argon2id); both bound to the vote and the household."""
    from nacl import pwhash

    where = f"{poll_id}:{household_id}".encode()
    if token:
        return b"T", hashlib.blake2b(where + b":" + token.encode("utf-8"), digest_size=32,
                                     person=b"consult-receipt").digest()
    salt = hashlib.blake2b(where, digest_size=pwhash.argon2id.SALTBYTES, person=b"consult-rcpt-c").digest()
    return b"C", pwhash.argon2id.kdf(32, normalize_code(code or "").encode("utf-8"), salt,
                                     opslimit=RECEIPT_KDF[0], memlimit=RECEIPT_KDF[1])


def seal_receipt(ballot: PreparedBallot, *, token: str | None = None, code: str | None = None) -> bytes | None:
    """The receipt of a vote's ballot, sealed for the slip it was cast with, to be shown again
    when that slip is reopened (computed before the write lock: the KDF is not quick)."""
    if ballot.phase != PHASE_VOTE or not (token or code):
        return None
    from nacl.secret import SecretBox

    mark, key = _receipt_key(ballot.poll_id, ballot.household_id, token=token, code=code)
    return mark + SecretBox(key).encrypt(secrecy.receipt_code(ballot.tracker).encode("ascii"))


@dataclass(frozen=True)
class ReopenedReceipt:
    receipt: str | None  # the household's receipt, when the slip was opened as it was cast
    cast_with: str | None  # "token" (the QR link) or "code" (typed), when it was sealed


def open_receipt(live: LiveToken, *, token: str | None = None, code: str | None = None) -> ReopenedReceipt:
    """The receipt sealed at the cast, opened with the slip as it is opened now; a slip cast by
    its QR link and reopened by its code (or the other way) says which way opens it."""
    sealed = live.sealed_receipt
    if not sealed or live.poll.phase != PHASE_VOTE:
        return ReopenedReceipt(None, None)
    from nacl.exceptions import CryptoError
    from nacl.secret import SecretBox

    cast_with = "token" if sealed[:1] == b"T" else "code"
    if (cast_with == "token" and not token) or (cast_with == "code" and (token or not code)):
        return ReopenedReceipt(None, cast_with)
    _, key = _receipt_key(live.poll_id, live.household.id, token=token if cast_with == "token" else None, code=code)
    try:
        return ReopenedReceipt(SecretBox(key).decrypt(sealed[1:]).decode("ascii"), cast_with)
    except CryptoError:
        return ReopenedReceipt(None, cast_with)


@dataclass(frozen=True)
class PreparedBallot:
    """A ballot encrypted and ready to record: nothing of it names the choice."""

    poll_id: int
    phase: str
    household_id: int
    group_id: int
    ciphertext: bytes
    proofs: bytes
    sealed: bytes
    tracker: str


def ballot_rule(phase: str, choices: int) -> tuple[int, int, int]:
    """(choices, fewest, most chosen) of an online ballot: exactly one choice, in the consent
    round as in the vote (online votes are khoản 6 matters, never elections: NĐ 59 Điều 5)."""
    return (len(CONSENT_CHOICES) if phase == PHASE_CONSENT else choices), 1, 1


def ballot_context(poll_id: int, phase: str, public_key: bytes, choices: int) -> bytes:
    """What every proof of the vote's ballots is bound to (``consult.verify.ballot_context``)."""
    n, low, high = ballot_rule(phase, choices)
    return verify.ballot_context(poll_id, phase, public_key, n, low, high)


def prepare_ballot(token: LiveToken, choice, *, other_text: str | None = None,
                   now: datetime | None = None) -> PreparedBallot:
    """Check and encrypt a ballot, with its proofs, writing nothing: the page does it outside
    any write transaction, so that the database's write lock (SQLite's is one per database)
    is held only for the two inserts of ``record_ballot``."""
    now = now or utcnow()
    poll = token.poll
    if poll.form != FORM_ONLINE:
        raise BallotRejected("Đây là phiếu giấy: hãy đánh dấu lựa chọn trên phiếu và nộp cho Tổ phát phiếu.")
    _check_window(poll, now)
    index, kind = _choice_index(poll, choice)
    text = check_other_text(kind, other_text)
    choices, low, high = ballot_rule(poll.phase, len(poll.choices))
    ciphertext, proofs = secrecy.encrypt_ballot(
        poll.public_key, ballot_context(poll.id, poll.phase, poll.public_key, len(poll.choices)), choices, index,
        low, high)
    sealed = secrecy.seal_text(poll.texts_key, text, public=poll.public_key)
    return PreparedBallot(poll.id, poll.phase, token.household.id, token.household.group_id, ciphertext, proofs,
                          sealed, secrecy.tracker(ciphertext, proofs, sealed))


def check_prepared(ballot: PreparedBallot, public_key: bytes, choices: int) -> None:
    """The proofs of a ballot encrypted elsewhere than in ``prepare_ballot`` (BallotRejected
    when they fail); the count checks every ballot again."""
    n, low, high = ballot_rule(ballot.phase, choices)
    try:
        verify.check_ballot(public_key, ballot_context(ballot.poll_id, ballot.phase, public_key, choices), n, low,
                            high, ballot.ciphertext, ballot.proofs)
    except verify.Invalid as exc:
        raise BallotRejected(f"Phiếu không hợp lệ: {exc}") from None
    if ballot.tracker != secrecy.tracker(ballot.ciphertext, ballot.proofs, ballot.sealed):
        raise BallotRejected("Mã theo dõi không khớp với phiếu.")


_CAST = insert(CastBallot.__table__)
_POLL_STATE = (select(Poll.status, Poll.phase, Poll.closes_at, Poll.consent_closes_at)
               .where(Poll.id == bindparam("poll_id")))


def record_ballot(session: Session, ballot: PreparedBallot, *, now: datetime | None = None,
                  sealed_receipt: bytes | None = None) -> str:
    """Record a prepared ballot: the vote is checked again inside the write transaction
    (it may have closed since), then the mark and the ciphertext. Returns the receipt."""
    now = now or utcnow()
    connection = session.connection()
    state = connection.execute(_POLL_STATE, {"poll_id": ballot.poll_id}).one()
    if state.status != STATUS_OPEN or state.phase != ballot.phase or now >= state.closes_at or (
            ballot.phase == PHASE_CONSENT and state.consent_closes_at is not None and now >= state.consent_closes_at):
        raise BallotRejected("Cuộc biểu quyết đã kết thúc hoặc đã sang vòng khác; phiếu không được ghi nhận.")
    _mark_ids(session, ballot.poll_id, ballot.phase, ballot.household_id, "online", now, sealed_receipt)
    connection.execute(_CAST, dict(poll_id=ballot.poll_id, phase=ballot.phase, group_id=ballot.group_id,
                                   ciphertext=ballot.ciphertext, proofs=ballot.proofs, sealed_text=ballot.sealed,
                                   tracker=ballot.tracker))
    return secrecy.receipt_code(ballot.tracker) if ballot.phase == PHASE_VOTE else ""


def record_stub(session: Session, actor: Actor, poll: Poll, *, token_value: str | None = None,
                code: str | None = None, now: datetime | None = None) -> tuple[BallotHousehold, bool]:
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
    seats = max(1, poll.seats or 1)
    if seats == 1 and sum(data.counts.values()) != data.valid:
        raise PollError(f"Tổng số phiếu theo từng lựa chọn ({sum(data.counts.values())}) phải bằng số phiếu hợp lệ "
                        f"({data.valid}).")
    if seats > 1 and (sum(data.counts.values()) > data.valid * seats or max(data.counts.values(), default=0) > data.valid):
        raise PollError(f"Mỗi phiếu hợp lệ bầu tối đa {seats} người: tổng số phiếu bầu theo từng ứng cử viên không thể "
                        f"vượt {data.valid * seats}, mỗi người không thể vượt số phiếu hợp lệ ({data.valid}).")
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


def turnout(session: Session, poll: Poll, phase: str = PHASE_VOTE) -> dict[int, int]:
    """Households that have voted so far in a phase, per group: the database keeps the
    figure as marks are written (``PollTurnout``), so an open vote's pages read a row a
    group instead of counting its marks. For showing only: the count reads the marks."""
    rows = session.execute(select(PollTurnout.group_id, PollTurnout.households).where(
        PollTurnout.poll_id == poll.id, PollTurnout.phase == phase))
    return {group: households for group, households in rows if households}


# --- counting encrypted ballots --------------------------------------------------------------

def _rebuild_key(poll: Poll, shares: list[str] | None) -> secrecy.VoteKey:
    try:
        return secrecy.rebuild_key(poll.id, poll.public_key, poll.key_threshold, list(shares or []))
    except secrecy.KeyShareError as exc:
        raise PollError(str(exc)) from None


@dataclass
class PhaseCount:
    """What the count of one phase found: counts per group (by choice position), the
    "ý kiến khác" texts, and the record of what it checked and refused (``BallotBox.record``)."""

    counts: dict[int, list[int]]
    texts: list[str]
    ballots: int
    record: dict


class TamperedBox(PollError):
    """The box is not what the vote's households cast: nothing is decrypted."""


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")


def marks_by_group(session: Session, poll: Poll, phase: str) -> dict[int, int]:
    """The "has voted" marks of the vote's own households, per group (a mark of another
    vote's household, or of a household outside the vote's groups, counts nowhere)."""
    groups = [g.group_id for g in poll.groups]
    rows = session.execute(select(PollHousehold.group_id, func.count()).join(
        Participation, Participation.poll_household_id == PollHousehold.id).where(
        Participation.poll_id == poll.id, Participation.phase == phase, PollHousehold.poll_id == poll.id,
        PollHousehold.group_id.in_(groups)).group_by(PollHousehold.group_id))
    return dict(rows.all())


def _verify_rows(public: bytes, context: bytes, rule: tuple[int, int, int], rows: list[tuple]) -> list[str | None]:
    """Each row's fault (None when its proofs hold): the check of ``consult.verify``."""
    choices, low, high = rule
    out = []
    for ciphertext, proofs in rows:
        try:
            verify.check_ballot(public, context, choices, low, high, ciphertext, proofs)
        except verify.Invalid as exc:
            out.append(str(exc))
        else:
            out.append(None)
    return out


# The count streams the box: a vote of 100,000 ballots holds about 210 MB of sealed texts alone,
# so no pass holds more than ``COUNT_CHUNK`` rows at once (and, with the proof checks on other
# cores, at most ``2 × workers`` chunks in flight). Above ``PARALLEL_MIN`` ballots the proofs are
# checked on every core (the checks are pure functions of public data).
COUNT_CHUNK = 2000
PARALLEL_MIN = 4000


class _ProofChecks:
    """Proof checks of a stream of chunks, in the order submitted: inline, or in a pool of
    spawned processes with a bounded number of chunks in flight."""

    def __init__(self, public: bytes, context: bytes, rule: tuple[int, int, int], *, parallel: bool):
        import os

        self.args = (public, context, rule)
        self.pending: list = []
        self.pool = None
        workers = min(4, os.cpu_count() or 1)
        if parallel and workers >= 2:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self.pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
            self.limit = 2 * workers

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def submit(self, meta, rows: list[tuple]):
        """Queue one chunk; yields ``(meta, faults)`` of the chunks now done, oldest first."""
        if self.pool is None:
            yield meta, _verify_rows(*self.args, rows)
            return
        self.pending.append((meta, self.pool.submit(_verify_rows, *self.args, rows)))
        while len(self.pending) > self.limit:
            done_meta, future = self.pending.pop(0)
            yield done_meta, future.result()

    def drain(self):
        while self.pending:
            done_meta, future = self.pending.pop(0)
            yield done_meta, future.result()


def _verify_all(public: bytes, context: bytes, rule: tuple[int, int, int], rows: list[tuple]) -> list[str | None]:
    """Proof checks of a whole box, on every core for a large one."""
    out: list[str | None] = []
    with _ProofChecks(public, context, rule, parallel=len(rows) >= PARALLEL_MIN) as checks:
        for start in range(0, len(rows), COUNT_CHUNK):
            for _, faults in checks.submit(None, rows[start:start + COUNT_CHUNK]):
                out.extend(faults)
        for _, faults in checks.drain():
            out.extend(faults)
    return out


def _seen_digest(tracker: str, sealed: bytes) -> bytes:
    """What the first pass saw of a row, for the second pass to compare."""
    return hashlib.sha256(tracker.encode("ascii", "replace") + b"\0" + sealed).digest()


def _tampered(faults: list[str]) -> TamperedBox:
    return TamperedBox("Hòm phiếu không khớp với những gì các hộ đã bỏ: " + "; ".join(faults[:5])
                       + (f" (và {len(faults) - 5} lỗi khác)" if len(faults) > 5 else "")
                       + ". Không giải mã gì; hãy báo quản trị viên.")


@dataclass
class CheckedBox:
    """The first pass of a count: every ballot checked, each group's sums, what was refused."""

    groups: dict
    marks: dict[int, int]
    sums: dict[int, secrecy.Aggregate]
    ballots_of: dict[int, int]
    refused: dict[int, list[dict]]
    refused_rows: set[int]
    seen_rows: bytearray
    rows: int
    total: int
    told: object

    def record(self, poll: Poll, phase: str) -> dict:
        """The count's record before decryption: what was checked, each group's sums, the refused."""
        groups = [{"id": group_id, "name": self.groups[group_id].group.full_name,
                   "households": self.groups[group_id].households, "marked": self.marks.get(group_id, 0),
                   "ballots": self.ballots_of[group_id], "counted": aggregate.count, "refused": self.refused[group_id],
                   "sum": [_b64(alpha + beta) for alpha, beta in aggregate.sums]}
                  for group_id, aggregate in self.sums.items()]
        return {"phase": phase, "fingerprint": secrecy.key_fingerprint(poll.public_key, poll.texts_key),
                "checked": {"key": True, "groups": len(self.groups), "ballots": self.rows, "trackers": self.rows,
                            "proofs": self.rows, "marks": sum(self.marks.values())},
                "refused": len(self.refused_rows), "groups": groups}


def check_box(session: Session, poll: Poll, phase: str, *, progress=None, chunk: int = COUNT_CHUNK) -> CheckedBox:
    """The checks of ``count_phase`` and the sums, with no key: only the vote's own groups;
    per group as many ballots as marks; every tracker recomputed; no ciphertext twice; every
    proof verified (a ballot whose proofs fail is left out and named). Any other fault raises
    ``TamperedBox``."""
    choices, low, high = ballot_rule(phase, len(poll.choices))
    context = ballot_context(poll.id, phase, poll.public_key, len(poll.choices))
    groups = {g.group_id: g for g in poll.groups}
    marks = marks_by_group(session, poll, phase)
    where = (CastBallot.poll_id == poll.id, CastBallot.phase == phase)
    total = session.scalar(select(func.count()).select_from(CastBallot).where(*where)) or 0
    # The texts' pass costs about a tenth of the proofs' pass.
    steps = total + total // 10

    def told(done: int) -> None:
        if progress is not None:
            progress(done, steps)

    faults: list[str] = []
    ballots_of = dict.fromkeys(groups, 0)
    sums = {group_id: secrecy.Aggregate(choices) for group_id in groups}
    refused: dict[int, list[dict]] = {group_id: [] for group_id in groups}
    refused_rows: set[int] = set()
    seen_rows = bytearray()
    seen: set[bytes] = set()
    index = checked = 0
    rows = session.execute(select(CastBallot.group_id, CastBallot.ciphertext, CastBallot.proofs,
                                  CastBallot.sealed_text, CastBallot.tracker).where(*where)
                           .order_by(CastBallot.tracker).execution_options(yield_per=chunk))
    with _ProofChecks(poll.public_key, context, (choices, low, high), parallel=total >= PARALLEL_MIN) as checks:
        def take(done) -> None:
            nonlocal checked
            for (meta, fault_list) in done:
                for (row_index, group_id, ciphertext, tracker), fault in zip(meta, fault_list):
                    if fault is not None:
                        refused[group_id].append({"tracker": tracker, "reason": fault})
                        refused_rows.add(row_index)
                    else:
                        sums[group_id].add(ciphertext)
                checked += len(meta)
                told(checked)

        for part in rows.partitions():
            meta, work = [], []
            for group_id, ciphertext, proofs, sealed, tracker in part:
                ciphertext, proofs, sealed = bytes(ciphertext), bytes(proofs), bytes(sealed)
                seen_rows += _seen_digest(tracker, sealed)
                if group_id not in groups:
                    faults.append(f"phiếu {tracker[:16]}… ghi cho khu dân cư không thuộc cuộc biểu quyết")
                    index += 1
                    continue
                if secrecy.tracker(ciphertext, proofs, sealed) != tracker:
                    faults.append(f"mã theo dõi của phiếu {tracker[:16]}… không khớp với bản mã của nó")
                alphas = {ciphertext[i:i + verify.POINT] for i in range(0, len(ciphertext), verify.PAIR)}
                if alphas & seen:
                    faults.append(f"phiếu {tracker[:16]}… chép lại bản mã của một phiếu khác")
                seen |= alphas
                ballots_of[group_id] += 1
                meta.append((index, group_id, ciphertext, tracker))
                work.append((ciphertext, proofs))
                index += 1
            if not faults:  # no proof is checked of a box already known to be wrong; its faults are all listed
                take(checks.submit(meta, work))
        rows.close()
        if not faults:
            take(checks.drain())
    del seen
    for group_id, group in groups.items():
        if ballots_of[group_id] != marks.get(group_id, 0):
            faults.append(f"{group.group.full_name}: {ballots_of[group_id]} phiếu nhưng "
                          f"{marks.get(group_id, 0)} hộ được ghi là đã biểu quyết")
    if faults:
        raise _tampered(faults)
    return CheckedBox(groups, marks, sums, ballots_of, refused, refused_rows, seen_rows, index, total, told)


def counted_texts(session: Session, poll: Poll, phase: str, box: CheckedBox, *, chunk: int = COUNT_CHUNK):
    """The second pass over a checked box: (tracker, sealed text) of each ballot counted, in
    tracker order, each row the one the first pass checked (a row changed, added or removed
    between the passes raises ``TamperedBox``)."""
    where = (CastBallot.poll_id == poll.id, CastBallot.phase == phase)
    rows = session.execute(select(CastBallot.tracker, CastBallot.sealed_text).where(*where)
                           .order_by(CastBallot.tracker).execution_options(yield_per=chunk))
    opened = 0
    for part in rows.partitions():
        for tracker, sealed in part:
            sealed = bytes(sealed)
            if opened >= box.rows or not hmac.compare_digest(
                    bytes(box.seen_rows[32 * opened:32 * opened + 32]), _seen_digest(tracker, sealed)):
                rows.close()
                raise _tampered([f"phiếu {tracker[:16]}… đã đổi trong lúc kiểm phiếu"])
            if opened not in box.refused_rows:
                yield tracker, sealed
            opened += 1
        box.told(box.total + opened // 10)
    if opened != box.rows:
        raise _tampered([f"{box.rows - opened} phiếu đã mất trong lúc kiểm phiếu"])


def count_phase(session: Session, poll: Poll, phase: str, key: secrecy.VoteKey, *,
                progress=None, chunk: int = COUNT_CHUNK) -> PhaseCount:
    """Count one phase's ciphertexts, checking what it counts (issue: the count checks what it
    counts): the key is the vote's; only the vote's own groups; per group as many ballots as
    marks of the vote's own households of that group; every tracker recomputed from its
    ciphertext, proofs and sealed text; no ciphertext twice; every proof verified. A ballot
    whose proofs fail is left out and named in the record; any other fault stops the count
    (``TamperedBox``) before anything is decrypted. Only each group's sum is decrypted, with
    a proof of each decryption; the texts are opened one by one and shuffled.

    The box is read twice, in tracker order and ``chunk`` rows at a time: the first pass checks
    and sums, the second opens the texts of the ballots counted, each compared with what the
    first pass checked (a row changed, added or removed between the passes stops the count).
    ``progress(done, total)``, when given, is told after each chunk."""
    if not hmac.compare_digest(bytes(key.public), bytes(poll.public_key)) or not key_is_opening_key(
            session, poll.id, None, poll.public_key, poll.texts_key) or not hmac.compare_digest(
            bytes(key.texts_public), bytes(poll.texts_key)):
        raise TamperedBox("Khóa của cuộc biểu quyết không phải khóa đã công bố khi mở, hoặc không khớp với các mã "
                          "khóa của Tổ lấy ý kiến: không kiểm phiếu. Hãy báo quản trị viên.")
    box = check_box(session, poll, phase, progress=progress, chunk=chunk)
    groups, marks, sums, ballots_of, refused = box.groups, box.marks, box.sums, box.ballots_of, box.refused
    refused_rows, index, total, told = box.refused_rows, box.rows, box.total, box.told
    steps = total + total // 10
    texts_box = secrecy.TextOpener(key)
    for _, sealed in counted_texts(session, poll, phase, box, chunk=chunk):
        texts_box.add(sealed)
    record = box.record(poll, phase)
    counts: dict[int, list[int]] = {}
    for entry in record["groups"]:
        group_id = entry["id"]
        decryptions = sums[group_id].decrypt_with_proofs(
            key, lambda index, g=group_id: verify.decryption_context(poll.id, phase, poll.public_key, g, index))
        counts[group_id] = entry["counts"] = [d.count for d in decryptions]
        entry["decryption"] = [{"c": _b64(d.c), "v": _b64(d.v)} for d in decryptions]
    total_refused = len(refused_rows)
    told(steps)
    return PhaseCount(counts, texts_box.texts(), index - total_refused, record)


def consent_answers(session: Session, poll: Poll) -> int:
    """Households that have answered the consent round so far (what they answered stays
    encrypted until the board counts it)."""
    return session.scalar(select(func.count()).select_from(Participation).where(
        Participation.poll_id == poll.id, Participation.phase == PHASE_CONSENT)) or 0


def bulletin(session: Session, poll: Poll) -> list[str]:
    """The public bulletin board: the tracker (SHA-256) of every online ballot, sorted
    (their order says nothing). A household finds its receipt code at the start of one."""
    return list(session.scalars(select(CastBallot.tracker).where(
        CastBallot.poll_id == poll.id, CastBallot.phase == PHASE_VOTE).order_by(CastBallot.tracker)))


def receipts(session: Session, poll: Poll) -> list[str]:
    """The receipt codes of the counted ballots, sorted."""
    return sorted(secrecy.receipt_code(t) for t in bulletin(session, poll))


def _tracker_range(hex_prefix: str):
    """``tracker >= prefix AND tracker < prefix + 1``: a range the index walks (a LIKE
    'prefix%' uses a b-tree index on PostgreSQL only under the C collation)."""
    bound = CastBallot.tracker >= hex_prefix
    if hex_prefix.strip("f"):
        upper = format(int(hex_prefix, 16) + 1, f"0{len(hex_prefix)}x")
        bound = and_(bound, CastBallot.tracker < upper)
    return bound


def receipt_tracker(session: Session, poll: Poll, code: str) -> str | None:
    """The tracker on the vote's bulletin board that a receipt code is the start of, or None
    (an index range over the tracker's first 48 bits, then the exact code)."""
    import base64

    code = normalize_code(code)
    raw = code.replace("-", "")
    if len(raw) != 10:
        return None
    try:
        prefix = base64.b32decode(raw + "======")[:6].hex()
    except ValueError:
        return None
    candidates = session.scalars(select(CastBallot.tracker).where(
        CastBallot.poll_id == poll.id, CastBallot.phase == PHASE_VOTE, _tracker_range(prefix))
        .order_by(CastBallot.tracker))
    return next((t for t in candidates if secrecy.receipt_code(t) == code), None)


def receipt_published(session: Session, poll: Poll, code: str) -> bool:
    """Whether a receipt code is among the ballots on the vote's bulletin board."""
    return receipt_tracker(session, poll, code) is not None


def bulletin_page(session: Session, poll: Poll, *, after: str | None = None, before: str | None = None,
                  at: str | None = None, size: int = 200) -> Page[str]:
    """A page of the public bulletin board in the order of the trackers: after a tracker,
    before one, or starting at one (a receipt found); one range of the index
    (poll_id, phase, tracker) at any size of vote."""
    stmt = select(CastBallot.tracker).where(CastBallot.poll_id == poll.id, CastBallot.phase == PHASE_VOTE)
    return keyset_page(session, stmt, [CastBallot.tracker], lambda t: (t,), size=size,
                       after=(after,) if after else None, before=(before,) if before else None,
                       at=(at,) if at else None)
