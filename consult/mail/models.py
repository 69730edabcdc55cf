"""Mail sent by consult (reminders to the units that have not replied, and to the group heads
of their votes' deadlines): an outbox in the database, delivered by a runner outside any web
request, retried, and kept as a record."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from consult.db import Base
from consult.timeutil import UTCDateTime

QUEUED, SENT, FAILED = "queued", "sent", "failed"
STATUS_LABELS = {QUEUED: "Đang chờ gửi", SENT: "Đã gửi", FAILED: "Không gửi được"}
# What a message is about: a unit's reply, or a vote's decision to send within 5 working days
# (before the deadline, and once more when it has passed).
TOPIC_REPLY, TOPIC_SEND_DUE, TOPIC_SEND_LATE = "reply", "send_due", "send_late"
TOPICS = {TOPIC_REPLY: "Nhắc trả lời ý kiến", TOPIC_SEND_DUE: "Nhắc hạn gửi kết quả biểu quyết",
          TOPIC_SEND_LATE: "Quá hạn gửi kết quả biểu quyết"}


class OutgoingMail(Base):
    __tablename__ = "outgoing_mail"
    # The commune's list walks its mail newest first, a page at a time (``paging``).
    __table_args__ = (Index("ix_outgoing_mail_commune_queued", "commune_id", "queued_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id", ondelete="CASCADE"))
    consultation_id: Mapped[int | None] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"),
                                                        index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id", ondelete="SET NULL"))
    poll_id: Mapped[int | None] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), index=True)
    topic: Mapped[str] = mapped_column(String(12), default=TOPIC_REPLY, server_default=TOPIC_REPLY)
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
