"""Outgoing documents (sổ văn bản đi) and a consultation's plan (kế hoạch lấy ý kiến)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from consult.db import Base
from consult.timeutil import UTCDateTime

# Điều 26 khoản 1 Luật 10/2022: the forms of collecting opinions, one or several.
PLAN_FORMS = {
    "portal": "Đăng tải trên cổng (trang) thông tin điện tử của xã, phường",
    "social": "Qua mạng xã hội, nhóm Zalo của khu phố, thôn",
    "written": "Gửi văn bản xin ý kiến các cơ quan, đơn vị, tổ chức",
    "meeting": "Tổ chức hội nghị, cuộc họp lấy ý kiến",
    "ballot": "Phát phiếu lấy ý kiến",
    "other": "Hình thức khác (niêm yết, loa truyền thanh)",
}

# What kind of document a number was taken for, and its symbol (ký hiệu, NĐ 30 Phụ lục VI).
KINDS = {"plan": ("Kế hoạch", "KH-UBND"), "letter": ("Công văn", "UBND"), "report": ("Báo cáo", "BC-UBND"),
         "hdnd": ("Báo cáo gửi HĐND", "BC-UBND")}


class OutgoingDocument(Base):
    """One entry of a commune's register of outgoing documents: numbers run from 01 each
    1 January, one sequence per issuing body and year (NĐ 30/2020 Điều 15)."""

    __tablename__ = "outgoing_document"
    __table_args__ = (UniqueConstraint("commune_id", "year", "number"), UniqueConstraint("consultation_id", "kind"))

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column()
    number: Mapped[int] = mapped_column()
    kind: Mapped[str] = mapped_column(String(20))
    symbol: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(500))
    issued_on: Mapped[date] = mapped_column(Date)
    signer: Mapped[str] = mapped_column(String(160), default="")
    consultation_id: Mapped[int | None] = mapped_column(ForeignKey("consultation.id", ondelete="SET NULL"),
                                                        index=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @property
    def reference(self) -> str:
        """'05/KH-UBND': a number below 10 with a leading 0 (NĐ 30 Phụ lục I)."""
        return f"{self.number:02d}/{self.symbol}"


class ConsultationPlan(Base):
    """The kế hoạch lấy ý kiến (Luật Điều 28 khoản 1): content, forms, method, timeline and who
    does what, sent to the commune's HĐND and Fatherland Front before the draft is published."""

    __tablename__ = "consultation_plan"

    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"),
                                                 primary_key=True)
    forms: Mapped[list] = mapped_column(JSON, default=list)
    purpose: Mapped[str] = mapped_column(Text, default="")
    method: Mapped[str] = mapped_column(Text, default="")
    timeline: Mapped[str] = mapped_column(Text, default="")
    assignments: Mapped[str] = mapped_column(Text, default="")
    signer_mode: Mapped[str] = mapped_column(String(4), default="TM")
    signer_name: Mapped[str] = mapped_column(String(160), default="")
    updated_by: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
