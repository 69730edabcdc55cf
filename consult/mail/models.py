"""Mail sent by consult (reminders to the units that have not replied): an outbox in the
database, delivered by a runner outside any web request, retried, and kept as a record."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from consult.db import Base
from consult.timeutil import UTCDateTime

QUEUED, SENT, FAILED = "queued", "sent", "failed"
STATUS_LABELS = {QUEUED: "Đang chờ gửi", SENT: "Đã gửi", FAILED: "Không gửi được"}


class OutgoingMail(Base):
    __tablename__ = "outgoing_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id", ondelete="CASCADE"), index=True)
    consultation_id: Mapped[int | None] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"),
                                                        index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id", ondelete="SET NULL"))
    recipient: Mapped[str] = mapped_column(String(200))  # the unit's name, as the page shows it
    to_address: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=QUEUED, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    queued_by: Mapped[str] = mapped_column(String(200))
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
