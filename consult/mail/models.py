"""Mail sent by consult (reminders to the units that have not replied, and to the group heads
of their votes' deadlines): an outbox in the database, delivered by a runner outside any web
request, retried, and kept as a record."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from consult.db import Base
from consult.timeutil import UTCDateTime

QUEUED, SENT, FAILED = "queued", "sent", "failed"
STATUS_LABELS = {QUEUED: "Đang chờ gửi", SENT: "Đã gửi", FAILED: "Không gửi được"}
# What a message is about: a unit's reply, or a vote's decision to send within 5 working days
# (before the deadline, and once more when it has passed).
TOPIC_REPLY, TOPIC_SEND_DUE, TOPIC_SEND_LATE = "reply", "send_due", "send_late"
# A resident's subscription to a draft's results: its confirmation, then the news itself.
TOPIC_CONFIRM, TOPIC_RESULTS = "confirm", "results"
TOPICS = {TOPIC_REPLY: "Nhắc trả lời ý kiến", TOPIC_SEND_DUE: "Nhắc hạn gửi kết quả biểu quyết",
          TOPIC_SEND_LATE: "Quá hạn gửi kết quả biểu quyết", TOPIC_CONFIRM: "Xác nhận nhận thư báo kết quả",
          TOPIC_RESULTS: "Thư báo kết quả lấy ý kiến"}


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


class ResultSubscription(Base):
    """A resident's request to be told by mail when a draft's results are published (Luật Điều
    28 khoản 3). The address counts only once its owner has confirmed it from the mail sent to
    it (so nobody signs another person up); the link in every mail carries a token of which
    only its hash is kept. The row is deleted once the results mail is queued, or when its
    owner stops it: the address is kept no longer than it serves."""

    __tablename__ = "result_subscription"
    __table_args__ = (UniqueConstraint("consultation_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(200))  # folded to lower case
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the confirmation mail was last queued: once a day at most for one address.
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime)
