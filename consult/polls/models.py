"""Votes (cuộc biểu quyết) and their ballots.

Secrecy by cryptography (see ``consult/polls/secrecy.py`` and the README's
threat model): an online ballot is stored only as a ciphertext under the vote's
public key (``CastBallot``), and only the sum of all ballots is decrypted, at
the count, with a key the vote's board rebuilds from its shares. A household's
participation (``Participation``) says it voted, never what; it shares a
transaction with its ciphertext, which tells nothing without the key. Paper
ballots carry nothing that names a household: the stub is recorded for turnout,
and the counters record the totals of the box (``PaperCount``).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, ForeignKeyConstraint, Index, Integer, LargeBinary, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.auth.models import User
from consult.communes.models import Commune, ResidentialGroup
from consult.db import Base
from consult.timeutil import UTCDateTime

# Luật Điều 15: what residents decide.
MATTER_KINDS = {
    "k1": "Chủ trương và mức đóng góp xây dựng cơ sở hạ tầng, công trình công cộng (khoản 1)",
    "k2": "Thu, chi, quản lý các khoản đóng góp, kinh phí do cộng đồng quản lý (khoản 2)",
    "k3": "Nội dung hương ước, quy ước (khoản 3)",
    "k4": "Bầu, cho thôi làm Trưởng thôn, Tổ trưởng tổ dân phố (khoản 4)",
    "k5": "Bầu, bãi nhiệm thành viên Ban Thanh tra nhân dân, Ban Giám sát đầu tư của cộng đồng (khoản 5)",
    "k6": "Các công việc tự quản khác của cộng đồng (khoản 6)",
}
FORM_MEETING, FORM_BALLOT, FORM_ONLINE = "meeting", "ballot", "online"
FORMS = {FORM_MEETING: "Họp cộng đồng dân cư", FORM_BALLOT: "Phát phiếu lấy ý kiến hộ gia đình",
         FORM_ONLINE: "Biểu quyết trực tuyến"}
STATUS_DRAFT, STATUS_OPEN, STATUS_CLOSED, STATUS_DECIDED = "draft", "open", "closed", "decided"
STATUS_LABELS = {STATUS_DRAFT: "Bản nháp", STATUS_OPEN: "Đang biểu quyết", STATUS_CLOSED: "Đã kết thúc",
                 STATUS_DECIDED: "Đã có quyết định"}
PHASE_CONSENT, PHASE_VOTE = "consent", "vote"


class Poll(Base):
    __tablename__ = "poll"

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id", ondelete="CASCADE"), index=True)
    # The group of a group matter; NULL for a commune-wide one (then see PollGroup).
    group_id: Mapped[int | None] = mapped_column(ForeignKey("residential_group.id", ondelete="RESTRICT"), index=True)
    matter_kind: Mapped[str] = mapped_column(String(4))
    form: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(300))
    question: Mapped[str] = mapped_column(Text)
    content: Mapped[str] = mapped_column(Text, default="")
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(10), default=STATUS_DRAFT)
    phase: Mapped[str] = mapped_column(String(10), default=PHASE_VOTE)
    # Why this form is allowed (Luật Điều 17, 19; NĐ 59 Điều 4, 5).
    chosen_by_chairman: Mapped[bool] = mapped_column(default=False)  # commune-wide ballots
    chosen_by_head_and_front: Mapped[bool] = mapped_column(default=False)  # k6 ballots
    follows_meeting_id: Mapped[int | None] = mapped_column(ForeignKey("poll.id", ondelete="SET NULL"))
    # A meeting: the day it was announced to the households (rules.MEETING_NOTICE_DAYS).
    announced_on: Mapped[date | None] = mapped_column(Date)
    # Every group of the commune (not merely several of them): set when the vote is made.
    whole_commune: Mapped[bool] = mapped_column(default=False, server_default=false())
    # A meeting's place and who chairs it, as its documents name them (NĐ 59 Điều 3).
    place: Mapped[str | None] = mapped_column(String(200))
    chair: Mapped[str | None] = mapped_column(String(160))
    # Online preconditions (NĐ 59 Điều 5 khoản 1).
    agreed_unnecessary_on: Mapped[date | None] = mapped_column(Date)
    reported_on: Mapped[date | None] = mapped_column(Date)
    devices_confirmed: Mapped[bool] = mapped_column(default=False)
    consent_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_agreed: Mapped[int | None] = mapped_column()
    # Meeting: attendance threshold reached or not, by the head's count.
    outcome_passed: Mapped[bool | None] = mapped_column()
    outcome_text: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the decision was sent to the commune's UBND and MTTQ (Luật Điều 20 khoản 3).
    sent_on: Mapped[date | None] = mapped_column(Date)
    # Elections (Điều 15 khoản 4, 5): the seats to fill; the choices are the candidates.
    seats: Mapped[int] = mapped_column(default=1, server_default="1")
    # Recognition by the commune (Điều 21 khoản 2), for the matters that need it.
    received_on: Mapped[date | None] = mapped_column(Date)
    recognition_number: Mapped[str | None] = mapped_column(String(60))
    recognised_on: Mapped[date | None] = mapped_column(Date)
    refusal_reason: Mapped[str | None] = mapped_column(Text)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The vote's public keys (online votes); the secret is split among the board.
    public_key: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    texts_key: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    key_threshold: Mapped[int | None] = mapped_column()
    # An online vote counted before its fixed end (``closes_at``): when, and the board's reason.
    early_stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    early_stop_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))

    commune: Mapped[Commune] = relationship()
    group: Mapped[ResidentialGroup | None] = relationship()
    choices: Mapped[list[PollChoice]] = relationship(order_by="PollChoice.position", cascade="all, delete-orphan")
    committee: Mapped[list[CommitteeMember]] = relationship(order_by="CommitteeMember.position",
                                                           cascade="all, delete-orphan")
    groups: Mapped[list[PollGroup]] = relationship(cascade="all, delete-orphan")

    @property
    def commune_wide(self) -> bool:
        """The vote covers the whole commune (every group of it when it was made): the matters of
        Luật Điều 21 khoản 1's commune-wide rule, and the UBND's recognition of khoản 1, 2."""
        return bool(self.whole_commune)

    @property
    def failed_for_attendance(self) -> bool:
        """A meeting that ended without enough households present (Luật Điều 19): it closes
        undecided, and paper ballots may follow on the same matter."""
        return self.form == FORM_MEETING and self.status == STATUS_CLOSED

    @property
    def several_groups(self) -> bool:
        """The vote covers more than one group (the whole commune, or some of its groups)."""
        return self.group_id is None

    @property
    def households_total(self) -> int:
        """H: all households of the covered groups in the register snapshot (Điều 21 khoản 1)."""
        return sum(g.households for g in self.groups)


class PollGroup(Base):
    """A group a vote covers, with its register size frozen at opening."""

    __tablename__ = "poll_group"
    __table_args__ = (UniqueConstraint("poll_id", "group_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("residential_group.id", ondelete="RESTRICT"))
    households: Mapped[int] = mapped_column(default=0)

    group: Mapped[ResidentialGroup] = relationship()


class PollChoice(Base):
    __tablename__ = "poll_choice"

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column()
    label: Mapped[str] = mapped_column(String(200))
    # agree / disagree / other (free text) / option (a named option)
    kind: Mapped[str] = mapped_column(String(10))


class CommitteeMember(Base):
    """Tổ lấy ý kiến / Tổ phát phiếu: 3 to 5 members led by the BCTMT's representative."""

    __tablename__ = "committee_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column()
    name: Mapped[str] = mapped_column(String(160))
    role: Mapped[str] = mapped_column(String(160))
    is_leader: Mapped[bool] = mapped_column(default=False)
    # The member's own account (online votes): their key share is sealed to its pickup key.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)

    user: Mapped[User | None] = relationship()


class KeyShareEnvelope(Base):
    """A board member's key share of an online vote, sealed at opening to the pickup key of
    the member's account (``consult/polls/keycards.py``) and erased when picked up, so
    that the card is shown once, to that member only."""

    __tablename__ = "key_share_envelope"

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), index=True)
    committee_member_id: Mapped[int] = mapped_column(ForeignKey("committee_member.id", ondelete="CASCADE"),
                                                     unique=True)
    # NULL once picked up, or lost (the account's password reset by an administrator).
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    picked_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lost_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    member: Mapped[CommitteeMember] = relationship()
    poll: Mapped[Poll] = relationship(viewonly=True)


class PollHousehold(Base):
    """The register as it stood when the vote opened: the denominator and the slips."""

    __tablename__ = "poll_household"
    # (poll_id, code): the public list of participants walks it in order, a page at a time.
    __table_args__ = (UniqueConstraint("poll_id", "household_id"), Index("ix_poll_household_poll_code", "poll_id", "code"))

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id", ondelete="SET NULL"))
    group_id: Mapped[int] = mapped_column(ForeignKey("residential_group.id", ondelete="RESTRICT"))
    code: Mapped[str] = mapped_column(String(40))
    representative: Mapped[str] = mapped_column(String(160))
    address: Mapped[str] = mapped_column(String(255))

    group: Mapped[ResidentialGroup] = relationship(viewonly=True)


class BallotToken(Base):
    """A household's one-time ballot: the QR token and the manual code, stored as hashes."""

    __tablename__ = "ballot_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), index=True)
    poll_household_id: Mapped[int] = mapped_column(ForeignKey("poll_household.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    household: Mapped[PollHousehold] = relationship()
    poll: Mapped[Poll] = relationship(viewonly=True)


class Participation(Base):
    """'This household has voted' (the minutes list them); never what it chose."""

    __tablename__ = "participation"

    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), primary_key=True)
    phase: Mapped[str] = mapped_column(String(10), primary_key=True)
    poll_household_id: Mapped[int] = mapped_column(ForeignKey("poll_household.id", ondelete="CASCADE"),
                                                   primary_key=True)
    # The day only: a finer time could be matched against the box's history.
    voted_on: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(10))
    # An online ballot's receipt, sealed under a key only the household's slip gives (its QR
    # token, or its typed code through Argon2id): the slip reopened shows it again; the table
    # read without the slip links no household to any ballot (``ballots.seal_receipt``).
    sealed_receipt: Mapped[bytes | None] = mapped_column(LargeBinary)


class PollTurnout(Base):
    """How many households of a group have voted in a phase of a vote so far: kept by the
    database's triggers on ``participation`` (migration 0028) in the mark's own transaction,
    so an open vote's pages read it instead of counting the marks. Shown only; the count at
    the close reads the marks."""

    __tablename__ = "poll_turnout"

    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), primary_key=True)
    phase: Mapped[str] = mapped_column(String(10), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("residential_group.id", ondelete="RESTRICT"), primary_key=True)
    households: Mapped[int] = mapped_column(Integer)


class CastBallot(Base):
    """One online ballot (or consent answer): a ciphertext per choice and a sealed
    "ý kiến khác", under the vote's public key. No household column."""

    __tablename__ = "cast_ballot"
    # The bulletin walks a vote's trackers in order, a page at a time (``paging``).
    __table_args__ = (Index("ix_cast_ballot_poll_phase_tracker", "poll_id", "phase", "tracker"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"))
    phase: Mapped[str] = mapped_column(String(10))
    # The group's turnout is public; its count is needed per group (Điều 21 khoản 1).
    group_id: Mapped[int] = mapped_column(ForeignKey("residential_group.id", ondelete="RESTRICT"))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    sealed_text: Mapped[bytes] = mapped_column(LargeBinary)
    # The proofs that each ciphertext holds 0 or 1 and that they add up to a valid ballot
    # (``secrecy.prove_ballot``); checked when recorded and again at the count.
    proofs: Mapped[bytes] = mapped_column(LargeBinary, default=b"", server_default="")
    # SHA-256 of the ballot: listed on the public bulletin; the receipt is its start.
    tracker: Mapped[str] = mapped_column(String(64), unique=True)


class BallotBox(Base):
    """The decrypted result of a vote (and phase), written once at the count:
    counts per group and choice, and the "ý kiến khác" texts, shuffled."""

    __tablename__ = "ballot_box"

    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), primary_key=True)
    phase: Mapped[str] = mapped_column(String(10), primary_key=True)
    # {"<group_id>": {"<choice_id>": n}}
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    other_texts: Mapped[list] = mapped_column(JSON, default=list)
    ballots: Mapped[int] = mapped_column(default=0)
    # The count's record: what it checked, the ballots it refused, each group's sum and its
    # decryption with proofs (``secrecy``; published in the election record).
    record: Mapped[dict | None] = mapped_column(JSON)
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    counted_by: Mapped[str] = mapped_column(String(200))


class PaperCount(Base):
    """Biên bản kiểm phiếu of paper ballots (NĐ 59 Điều 4 khoản 6, Mẫu 02): the totals
    of one group's box, counted by the Tổ phát phiếu with two household witnesses."""

    __tablename__ = "paper_count"
    __table_args__ = (UniqueConstraint("poll_id", "group_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("residential_group.id", ondelete="RESTRICT"))
    issued: Mapped[int] = mapped_column()
    returned: Mapped[int] = mapped_column()
    valid: Mapped[int] = mapped_column()
    invalid: Mapped[int] = mapped_column()
    counts: Mapped[dict] = mapped_column(JSON, default=dict)  # {"<choice_id>": n}
    other_texts: Mapped[list] = mapped_column(JSON, default=list)
    place: Mapped[str] = mapped_column(String(255))
    counters: Mapped[str] = mapped_column(Text)
    witnesses: Mapped[str] = mapped_column(Text)
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(200))


class Attendance(Base):
    """A household represented at the meeting (checked in from the register or its slip)."""

    __tablename__ = "attendance"

    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), primary_key=True)
    poll_household_id: Mapped[int] = mapped_column(ForeignKey("poll_household.id", ondelete="CASCADE"),
                                                   primary_key=True)
    cluster: Mapped[str] = mapped_column(String(80), default="")


class MeetingCount(Base):
    """A show of hands or a secret-ballot count at a meeting (per cluster for 200+ households)."""

    __tablename__ = "meeting_count"

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), index=True)
    # The group the count belongs to (a meeting of several groups counts each apart).
    group_id: Mapped[int | None] = mapped_column(ForeignKey("residential_group.id", ondelete="RESTRICT"))
    cluster: Mapped[str] = mapped_column(String(80), default="")
    method: Mapped[str] = mapped_column(String(10))  # hands / secret
    # A secret ballot's box (Ban kiểm phiếu, NĐ 59 Điều 3 khoản 5): ballots handed out (the
    # households present), returned, and of those invalid; the counts are of the valid ones.
    issued: Mapped[int | None] = mapped_column()
    returned: Mapped[int | None] = mapped_column()
    invalid: Mapped[int | None] = mapped_column()
    counts: Mapped[dict] = mapped_column(JSON, default=dict)  # {"<choice_id>": n}
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(200))


class MeetingProcedure(Base):
    """A meeting's own choice (its secretary, its vote counters, show of hands or secret
    ballot), decided by more than half of the representatives present (NĐ 59 Điều 3 khoản 5)."""

    __tablename__ = "meeting_procedure"

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(String(20))  # secretary / counters / method
    proposal: Mapped[str] = mapped_column(Text)
    present: Mapped[int] = mapped_column()
    agree: Mapped[int] = mapped_column()
    passed: Mapped[bool] = mapped_column()
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(200))


PROCEDURE_SUBJECTS = {"secretary": "Thư ký cuộc họp", "counters": "Ban kiểm phiếu",
                      "method": "Hình thức biểu quyết (giơ tay hoặc bỏ phiếu kín)"}


DAY_OFF, DAY_WORK = "off", "work"
DAY_KINDS = {DAY_OFF: "Ngày nghỉ", DAY_WORK: "Ngày làm việc (làm bù vào thứ Bảy, Chủ nhật, hoặc ngày lịch chung ghi nhầm là ngày nghỉ)"}


class LocalDay(Base):
    """A commune's own correction of the working-day calendar, which wins over the national
    one: a local day off, or a working day (a weekend day worked in exchange, ngày làm bù, or
    a weekday the national calendar has off by mistake). National holidays, Tết and Giỗ Tổ
    Hùng Vương included, and their swaps come from the ``holidays`` package."""

    __tablename__ = "local_day"
    __table_args__ = (UniqueConstraint("commune_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(120))


# --- the board's key ceremony without a dealer (consult/polls/keyceremony.py) ----------------------
# Everything here is public: commitments, proofs, ceremony keys, shares sealed to members'
# devices, revealed shares of settled complaints, and proven partial decryptions. No row holds a
# secret of the vote key, and no combination of them short of a majority of members' devices does.

class KeyCeremony(Base):
    """A vote's key ceremony: n members, any k of whom count (``secrecy.threshold_for``)."""

    __tablename__ = "key_ceremony"

    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), primary_key=True)
    # Each new attempt (after a member was disqualified, or a device lost its state) has its
    # own number, part of every proof's context, so nothing of an earlier attempt passes.
    attempt: Mapped[int] = mapped_column(default=1)
    members: Mapped[int] = mapped_column()
    threshold: Mapped[int] = mapped_column()
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    joint_key: Mapped[bytes | None] = mapped_column(LargeBinary(32))


class CeremonyMember(Base):
    """Member ``member`` (1..n, the board's order) of the ceremony: what their device published."""

    __tablename__ = "ceremony_member"

    poll_id: Mapped[int] = mapped_column(ForeignKey("key_ceremony.poll_id", ondelete="CASCADE"), primary_key=True)
    member: Mapped[int] = mapped_column(primary_key=True)
    committee_member_id: Mapped[int] = mapped_column(ForeignKey("committee_member.id", ondelete="CASCADE"))
    ceremony_key: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    commitments: Mapped[list | None] = mapped_column(JSON)  # hex, k points
    proofs: Mapped[list | None] = mapped_column(JSON)  # hex [c, v] per commitment
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shares_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # S_ℓ as the member's device computed it from the shares it received; it must equal the
    # value the commitments give.
    public_share: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disqualified: Mapped[str | None] = mapped_column(Text)  # why (Vietnamese), once disqualified

    committee_member: Mapped[CommitteeMember] = relationship()


class CeremonyShare(Base):
    """P_sender(recipient), sealed to the recipient's ceremony key; the server cannot open it.
    A complaint by the recipient makes the sender reveal it, checked against the commitments."""

    __tablename__ = "ceremony_share"

    poll_id: Mapped[int] = mapped_column(ForeignKey("key_ceremony.poll_id", ondelete="CASCADE"), primary_key=True)
    sender: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[int] = mapped_column(primary_key=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    complained_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revealed: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    upheld: Mapped[bool | None] = mapped_column()  # the complaint held: the sender is disqualified


class CeremonyTally(Base):
    """An online phase checked and summed at the close, waiting for the members' partial
    decryptions: each group's sum per choice, and the checks' record (``ballots.check_phase``)."""

    __tablename__ = "ceremony_tally"

    poll_id: Mapped[int] = mapped_column(ForeignKey("key_ceremony.poll_id", ondelete="CASCADE"), primary_key=True)
    phase: Mapped[str] = mapped_column(String(10), primary_key=True)
    checked: Mapped[dict] = mapped_column(JSON)
    # The α (hex) of each counted ballot's sealed "ý kiến khác" (hashed ElGamal under the vote
    # key), in the order the members' text partials follow; empty for the consent round.
    texts: Mapped[list] = mapped_column(JSON, default=list)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PartialDecryption(Base):
    """M_ℓ = s_ℓ·α of one sum with its Chaum-Pedersen proof, checked when it arrived."""

    __tablename__ = "partial_decryption"

    poll_id: Mapped[int] = mapped_column(primary_key=True)
    phase: Mapped[str] = mapped_column(String(10), primary_key=True)
    group_id: Mapped[int] = mapped_column(primary_key=True)
    choice: Mapped[int] = mapped_column(primary_key=True)  # position
    member: Mapped[int] = mapped_column(primary_key=True)
    m: Mapped[bytes] = mapped_column(LargeBinary(32))
    c: Mapped[bytes] = mapped_column(LargeBinary(32))
    v: Mapped[bytes] = mapped_column(LargeBinary(32))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        # A row of another phase or vote than a tally's cannot exist.
        ForeignKeyConstraint(["poll_id", "phase"], ["ceremony_tally.poll_id", "ceremony_tally.phase"],
                             ondelete="CASCADE"),
    )


class TextPartials(Base):
    """One member's M = s_ℓ·α for each sealed "ý kiến khác" of a checked phase, in the order of
    ``CeremonyTally.texts``, each with its Chaum-Pedersen proof ([m, c, v] hex), checked when
    they arrived. A majority's open the texts; nothing else does."""

    __tablename__ = "text_partials"

    poll_id: Mapped[int] = mapped_column(primary_key=True)
    phase: Mapped[str] = mapped_column(String(10), primary_key=True)
    member: Mapped[int] = mapped_column(primary_key=True)
    partials: Mapped[list] = mapped_column(JSON)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        ForeignKeyConstraint(["poll_id", "phase"], ["ceremony_tally.poll_id", "ceremony_tally.phase"],
                             ondelete="CASCADE"),
    )
