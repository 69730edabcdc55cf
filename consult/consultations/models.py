from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import JSON, Date, Float, ForeignKey, LargeBinary, String, Text, UniqueConstraint, false
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.communes.models import Commune, Unit
from consult.db import Base
from consult.timeutil import UTCDateTime, format_datetime, humanize_remaining, utcnow

DOC_KINDS = {
    "nghi_quyet": "Nghị quyết",
    "quy_che": "Quy chế",
    "ke_hoach": "Kế hoạch",
    "huong_uoc": "Hương ước, quy ước",
    "khac": "Văn bản khác",
}
STATUS_DRAFT, STATUS_OPEN, STATUS_CLOSED, STATUS_PUBLISHED = "draft", "open", "closed", "published"
# Derived, never stored: published (status "open") with its opening time still ahead, and
# closed with every opinion answered (the report is final; its results are not public yet).
STATUS_SCHEDULED, STATUS_REPORTED = "scheduled", "reported"
STATUS_LABELS = {
    STATUS_DRAFT: "Bản nháp (chỉ cán bộ thấy)",
    STATUS_SCHEDULED: "Sắp lấy ý kiến",
    STATUS_OPEN: "Đang lấy ý kiến",
    STATUS_CLOSED: "Đã hết hạn góp ý",
    STATUS_REPORTED: "Đã tổng hợp, tiếp thu, giải trình",
    STATUS_PUBLISHED: "Đã công khai kết quả",
}


# "Lấy ý kiến (góp ý) (đối với|vào|về) (bản) dự thảo ...": the words before the draft's own name.
_TITLE_PREFIX = re.compile(r"^lấy ý kiến(?: góp ý)?(?: (?:đối với|vào|về))? (?:bản )?dự thảo\s+", re.IGNORECASE)

@dataclass(frozen=True)
class Standing:
    """Where a consultation stands at one instant, said the same way on every page that
    shows it (the staff page, the public draft, the resident's form, the unit's list and page)."""

    key: str  # draft, scheduled, open, closed, reported, published
    label: str
    sentence: str
    tone: str  # the badge's class: ok, warn, err or "" (neutral)
    accepts: bool  # opinions are taken now


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
    # The uploaded file carried tracked changes (Track Changes) not yet accepted; its text was
    # read as if they were, and the check page says so.
    source_had_revisions: Mapped[bool] = mapped_column(default=False, server_default=false())
    # A scan, read by OCR in a background job: the job while it runs (its progress is shown on
    # the check page), then ``read_by_ocr``, each part keeping its page and confidence.
    ocr_job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id", ondelete="SET NULL"))
    read_by_ocr: Mapped[bool] = mapped_column(default=False, server_default=false())
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
        if self.status == STATUS_OPEN:
            if now >= self.closes_at:
                return STATUS_CLOSED
            if now < self.opens_at:
                return STATUS_SCHEDULED
        return self.status

    def every_opinion_answered(self) -> bool:
        return self.opinions_without_answer() == 0

    def opinions_without_answer(self) -> int:
        """Opinions received without their decision (tiếp thu, giải trình, ghi nhận): two counts,
        read only, whether or not the opinions have been grouped yet. The tables are taken by
        name from the shared metadata: their models import this module."""
        from sqlalchemy import func, select
        from sqlalchemy.orm import object_session

        tables = Base.metadata.tables
        opinion, cluster, member = tables["opinion"], tables["opinion_cluster"], tables["cluster_member"]
        session = object_session(self)
        received = session.scalar(select(func.count()).select_from(opinion)
                                  .where(opinion.c.consultation_id == self.id)) or 0
        answered = session.scalar(
            select(func.count()).select_from(member.join(cluster, member.c.cluster_id == cluster.c.id))
            .where(cluster.c.consultation_id == self.id, cluster.c.decision.is_not(None))) or 0
        return max(0, received - answered)

    def standing(self, now: datetime) -> Standing:
        key = self.effective_status(now)
        if key == STATUS_CLOSED and self.every_opinion_answered():
            key = STATUS_REPORTED
        closes = format_datetime(self.closes_at)
        if key == STATUS_SCHEDULED:
            sentence, tone = (f"Bắt đầu nhận ý kiến từ {format_datetime(self.opens_at)}, "
                              f"hạn cuối {closes}."), "warn"
        elif key == STATUS_OPEN:
            sentence, tone = f"Hạn cuối {closes} ({humanize_remaining(self.closes_at - now)}).", "ok"
        elif key == STATUS_CLOSED:
            sentence, tone = f"Đã hết thời hạn góp ý ({closes}). Không nhận thêm ý kiến.", "err"
        elif key == STATUS_REPORTED:
            sentence, tone = (f"Đã hết thời hạn góp ý ({closes}). Đã tổng hợp, tiếp thu, giải trình mọi ý kiến; "
                              "kết quả sẽ được công khai."), ""
        elif key == STATUS_PUBLISHED:
            sentence, tone = (f"Đã hết thời hạn góp ý ({closes}); đã công khai kết quả tiếp thu, "
                              "giải trình ý kiến."), ""
        else:
            sentence, tone = "Chưa công khai: chỉ cán bộ phụ trách thấy.", "warn"
        return Standing(key, STATUS_LABELS[key], sentence, tone, key == STATUS_OPEN)

    def accepts_opinions(self, now: datetime) -> bool:
        return self.effective_status(now) == STATUS_OPEN

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
    # The footnotes referred to in this part ("¹" in its text): [{"number": "1", "text": "..."}],
    # shown under it, never inside its text.
    footnotes: Mapped[list] = mapped_column(JSON, default=list, server_default=sql_text("'[]'"))
    # Read from a scan: the page the part starts on, and the mean confidence (0-100) of the words
    # OCR read in it; the confidence is cleared once the officer has corrected the part's text.
    ocr_page: Mapped[int | None] = mapped_column()
    ocr_confidence: Mapped[float | None] = mapped_column(Float)

    consultation: Mapped[Consultation] = relationship(back_populates="parts")

    @property
    def doubtful_reading(self) -> bool:
        from consult.consultations.ocr import LOW_CONFIDENCE

        return self.ocr_confidence is not None and self.ocr_confidence < LOW_CONFIDENCE


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
