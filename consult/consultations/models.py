from __future__ import annotations

import re
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.communes.models import Commune, Unit
from consult.db import Base
from consult.timeutil import UTCDateTime, utcnow

DOC_KINDS = {
    "nghi_quyet": "Nghị quyết",
    "quy_che": "Quy chế",
    "ke_hoach": "Kế hoạch",
    "huong_uoc": "Hương ước, quy ước",
    "khac": "Văn bản khác",
}
STATUS_DRAFT, STATUS_OPEN, STATUS_CLOSED, STATUS_PUBLISHED = "draft", "open", "closed", "published"
STATUS_LABELS = {
    STATUS_DRAFT: "Bản nháp (chỉ cán bộ thấy)",
    STATUS_OPEN: "Đang lấy ý kiến",
    STATUS_CLOSED: "Đã hết hạn góp ý",
    STATUS_PUBLISHED: "Đã công khai kết quả",
}


# "Lấy ý kiến (góp ý) (đối với|vào|về) (bản) dự thảo ...": the words before the draft's own name.
_TITLE_PREFIX = re.compile(r"^lấy ý kiến(?: góp ý)?(?: (?:đối với|vào|về))? (?:bản )?dự thảo\s+", re.IGNORECASE)

class Consultation(Base):
    """Một đợt lấy ý kiến về một dự thảo."""

    __tablename__ = "consultation"

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(500))
    doc_kind: Mapped[str] = mapped_column(String(20))
    issuing_body: Mapped[str] = mapped_column(String(200))
    letter_number: Mapped[str | None] = mapped_column(String(60))
    letter_date: Mapped[date | None] = mapped_column(Date)
    officer_name: Mapped[str] = mapped_column(String(160))
    officer_contact: Mapped[str | None] = mapped_column(String(200))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    residents_may_comment: Mapped[bool] = mapped_column(default=True)
    # Stored states: draft, open, published. "Closed" is open past closes_at.
    status: Mapped[str] = mapped_column(String(20), default=STATUS_DRAFT)
    # Legal basis recorded when the period is shorter than the law's minimum.
    short_period_basis: Mapped[str | None] = mapped_column(Text)
    preamble: Mapped[str] = mapped_column(Text, default="")
    closing_text: Mapped[str] = mapped_column(Text, default="")
    source_text: Mapped[str] = mapped_column(Text, default="")
    source_filename: Mapped[str | None] = mapped_column(String(255))
    source_mimetype: Mapped[str | None] = mapped_column(String(120))
    source_blob: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    search_text: Mapped[str] = mapped_column(Text, default="", deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    results_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    commune: Mapped[Commune] = relationship()
    parts: Mapped[list[DraftPart]] = relationship(
        back_populates="consultation", order_by="DraftPart.position", cascade="all, delete-orphan")
    invitations: Mapped[list[Invitation]] = relationship(cascade="all, delete-orphan")
    deadline_changes: Mapped[list[DeadlineChange]] = relationship(
        order_by="DeadlineChange.changed_at", cascade="all, delete-orphan")

    @property
    def doc_kind_label(self) -> str:
        return DOC_KINDS.get(self.doc_kind, self.doc_kind)

    @property
    def draft_name(self) -> str:
        """The draft as the commune's papers name it (the plan, the letter, the report):
        'Nghị quyết quy định ...' from the title 'Lấy ý kiến dự thảo Nghị quyết quy định ...',
        else its kind and title."""
        title = self.title.strip()
        match = _TITLE_PREFIX.match(title)
        if match:
            return title[match.end():]
        return f"{self.doc_kind_label.lower()} “{title}”"

    def effective_status(self, now: datetime) -> str:
        if self.status == STATUS_OPEN and now >= self.closes_at:
            return STATUS_CLOSED
        return self.status

    def accepts_opinions(self, now: datetime) -> bool:
        return self.status == STATUS_OPEN and self.opens_at <= now < self.closes_at

    @property
    def letter_label(self) -> str:
        """'Số 491/UBND ngày 19/9/2024'."""
        if not self.letter_number:
            return ""
        text = f"Số {self.letter_number}"
        if self.letter_date:
            text += f" ngày {self.letter_date.strftime('%d/%m/%Y')}"
        return text


class DraftPart(Base):
    """Một phần của dự thảo: chương, mục, điều, khoản, điểm."""

    __tablename__ = "draft_part"
    __table_args__ = (UniqueConstraint("consultation_id", "anchor"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("draft_part.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column()  # document order
    depth: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(20))
    number: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(200))
    anchor: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")

    consultation: Mapped[Consultation] = relationship(back_populates="parts")


class DeadlineChange(Base):
    """An extension of the closing time, shown publicly."""

    __tablename__ = "deadline_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    old_closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    new_closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    changed_by: Mapped[str] = mapped_column(String(200))


class Invitation(Base):
    """A unit asked to reply in writing, even with "nhất trí, không có ý kiến"."""

    __tablename__ = "invitation"
    __table_args__ = (UniqueConstraint("consultation_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), index=True)

    unit: Mapped[Unit] = relationship()
