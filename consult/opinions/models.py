from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.communes.models import ResidentialGroup, Unit
from consult.consultations.models import DraftPart
from consult.db import Base
from consult.timeutil import UTCDateTime

CHANNEL_ONLINE, CHANNEL_PAPER = "online", "paper"
CHANNEL_LABELS = {CHANNEL_ONLINE: "trực tuyến", CHANNEL_PAPER: "văn bản giấy"}
AUTHOR_UNIT, AUTHOR_RESIDENT = "unit", "resident"


class UnitReply(Base):
    """A unit's written reply: agreement without comment, or comments."""

    __tablename__ = "unit_reply"
    __table_args__ = (UniqueConstraint("consultation_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), index=True)
    agreed_without_comment: Mapped[bool] = mapped_column(default=False)
    channel: Mapped[str] = mapped_column(String(10))
    letter_number: Mapped[str | None] = mapped_column(String(60))
    letter_date: Mapped[date | None] = mapped_column(Date)
    attachment_name: Mapped[str | None] = mapped_column(String(255))
    attachment_mimetype: Mapped[str | None] = mapped_column(String(120))
    attachment_blob: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    entered_by_name: Mapped[str] = mapped_column(String(200))

    unit: Mapped[Unit] = relationship()


class Opinion(Base):
    """One comment, on a part or (part_id NULL) on the draft as a whole."""

    __tablename__ = "opinion"
    __table_args__ = (Index("ix_opinion_consultation_id_part_id", "consultation_id", "part_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"))
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id", ondelete="CASCADE"), index=True)
    part_id: Mapped[int | None] = mapped_column(ForeignKey("draft_part.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    author_kind: Mapped[str] = mapped_column(String(10))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id", ondelete="SET NULL"), index=True)
    reply_id: Mapped[int | None] = mapped_column(ForeignKey("unit_reply.id", ondelete="CASCADE"), index=True)
    resident_name: Mapped[str | None] = mapped_column(String(160))
    resident_group_id: Mapped[int | None] = mapped_column(ForeignKey("residential_group.id", ondelete="SET NULL"))
    resident_phone: Mapped[str | None] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    search_text: Mapped[str] = mapped_column(Text, default="", deferred=True)

    part: Mapped[DraftPart | None] = relationship()
    unit: Mapped[Unit | None] = relationship()
    resident_group: Mapped[ResidentialGroup | None] = relationship()

    @property
    def author_label(self) -> str:
        if self.author_kind == AUTHOR_UNIT and self.unit is not None:
            return self.unit.name
        group = f" ({self.resident_group.full_name})" if self.resident_group else ""
        return f"{self.resident_name}{group}"
