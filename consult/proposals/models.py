"""Residents' proposals (Luật Điều 16): a matter the residents put forward for their
residential group to decide, and the households that support it.

A proposal goes forward when the households supporting it reach 10% of the group's
households in the register, counted from supports given within 3 months of its opening
for support. Who supported it is personal data: only counts are ever public.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.communes.models import Commune, Household, ResidentialGroup
from consult.db import Base
from consult.polls.models import Poll
from consult.timeutil import UTCDateTime

# Stored statuses. "expired" and "checking" are never stored: they follow from the date
# (see service.standing), so that a proposal reads right on any day without a job.
STATUS_SUBMITTED = "submitted"  # waiting for the group head to check it is a matter of Điều 15
STATUS_COLLECTING = "collecting"  # public, support open
STATUS_REACHED = "reached"  # 10% of the households reached inside the window
STATUS_REFUSED = "refused"  # not a matter the community decides (Điều 15), with the reason
STATUS_DECIDED = "decided"  # put to the community: a vote is linked
STATUS_EXPIRED = "expired"  # computed: the window passed without the threshold
STATUS_CHECKING = "checking"  # computed: the window passed, supports given in time still to check

STATUS_LABELS = {
    STATUS_SUBMITTED: "Chờ Trưởng khu dân cư xem xét",
    STATUS_COLLECTING: "Đang lấy ý kiến ủng hộ",
    STATUS_CHECKING: "Hết thời hạn ủng hộ, đang đối chiếu với sổ hộ",
    STATUS_REACHED: "Đủ số hộ ủng hộ, chờ đưa ra cộng đồng quyết định",
    STATUS_EXPIRED: "Hết thời hạn, không đủ số hộ ủng hộ",
    STATUS_REFUSED: "Không thuộc nội dung cộng đồng dân cư quyết định",
    STATUS_DECIDED: "Đã đưa ra cộng đồng dân cư quyết định",
}

CHANNEL_ONLINE, CHANNEL_PAPER = "online", "paper"
CHANNELS = {CHANNEL_ONLINE: "Trực tuyến", CHANNEL_PAPER: "Danh sách ký giấy"}
SUPPORT_PENDING, SUPPORT_CONFIRMED, SUPPORT_REJECTED = "pending", "confirmed", "rejected"


class Proposal(Base):
    __tablename__ = "proposal"
    # The lists walk a commune's proposals newest first, a page at a time (``paging``).
    __table_args__ = (Index("ix_proposal_commune_submitted", "commune_id", "submitted_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("residential_group.id", ondelete="RESTRICT"), index=True)
    matter_kind: Mapped[str] = mapped_column(String(4))  # polls.models.MATTER_KINDS
    title: Mapped[str] = mapped_column(String(300))
    content: Mapped[str] = mapped_column(Text)
    # The proposer: seen by the commune's staff, never on a public page.
    proposer_name: Mapped[str] = mapped_column(String(160))
    proposer_address: Mapped[str] = mapped_column(String(255))
    proposer_phone: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12), default=STATUS_SUBMITTED)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The support window: from the opening to the end of ``closes_on`` (local), 3 months.
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closes_on: Mapped[date | None] = mapped_column(Date)
    # H, the group's households in the register when the proposal opened for support: the 10%
    # is of the register as it stood then (as a vote counts against its snapshot), so that
    # households imported mid-window do not move the target. None for proposals opened before
    # it was kept: the register now.
    households_at_open: Mapped[int | None] = mapped_column()
    reached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refused_reason: Mapped[str | None] = mapped_column(Text)
    # The vote the community decided it by (Luật Điều 17 to 21).
    poll_id: Mapped[int | None] = mapped_column(ForeignKey("poll.id", ondelete="SET NULL"), index=True)
    outcome_note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    updated_by: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    commune: Mapped[Commune] = relationship()
    group: Mapped[ResidentialGroup] = relationship()
    poll: Mapped[Poll | None] = relationship()


class ProposalSupport(Base):
    """One household's support. Online it is pending until the group head finds the household
    in the register (names are not authentication); from a signed paper list the head ticks
    the households, confirmed at once. A household counts once per proposal."""

    __tablename__ = "proposal_support"
    __table_args__ = (UniqueConstraint("proposal_id", "household_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"))
    # Set when confirmed: the household of the register this support is counted for.
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id", ondelete="SET NULL"), index=True)
    # What the resident typed online, to help the head find the household.
    household_code: Mapped[str | None] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(160))
    address: Mapped[str] = mapped_column(String(255))
    channel: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default=SUPPORT_PENDING)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Who checked it against the register, and when (confirmed or rejected).
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by: Mapped[str | None] = mapped_column(String(200))

    household: Mapped[Household | None] = relationship()
