from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.db import Base
from consult.opinions.models import Opinion
from consult.timeutil import UTCDateTime

DECISION_ACCEPTED, DECISION_PARTLY, DECISION_REJECTED, DECISION_NOTED = "accepted", "partly", "not_accepted", "noted"
DECISIONS = {
    DECISION_ACCEPTED: "Tiếp thu",
    DECISION_PARTLY: "Tiếp thu một phần",
    DECISION_REJECTED: "Không tiếp thu",
    DECISION_NOTED: "Ghi nhận",
}


class OpinionCluster(Base):
    """Identical or nearly identical opinions on one part, answered once."""

    __tablename__ = "opinion_cluster"
    # The workspace pages by key in the draft's order, all groups or only those of one
    # state ("chưa trả lời" is decision IS NULL): each page is a range of one of these.
    __table_args__ = (
        Index("ix_opinion_cluster_consultation_order", "consultation_id", "part_position", "id"),
        Index("ix_opinion_cluster_consultation_decision_order", "consultation_id", "decision", "part_position", "id"),
        # The workspace's counts: a sum over the consultation's groups, from this index alone.
        Index("ix_opinion_cluster_consultation_decision_count", "consultation_id", "decision", "member_count"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"))
    part_id: Mapped[int | None] = mapped_column(ForeignKey("draft_part.id", ondelete="SET NULL"))
    # The part's place in the draft (DraftPart.position; -1 for opinions on the whole draft),
    # copied here so the workspace's order is an index, not a join and a sort of every group.
    part_position: Mapped[int] = mapped_column(default=-1, server_default=text("-1"))
    # Normalised text of the first opinion, to match later ones quickly.
    key: Mapped[str] = mapped_column(Text)
    decision: Mapped[str | None] = mapped_column(String(20))
    explanation: Mapped[str | None] = mapped_column(Text)
    revised_text: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    # Set when the officer split this cluster off: it is never merged again.
    split_off: Mapped[bool] = mapped_column(default=False)
    # How many opinions the group holds: kept by the database's triggers on ``cluster_member``
    # (migration 0029); never written by the application.
    member_count: Mapped[int] = mapped_column(server_default=text("0"))

    members: Mapped[list[ClusterMember]] = relationship(back_populates="cluster", cascade="all, delete-orphan")

    @property
    def decision_label(self) -> str:
        return DECISIONS.get(self.decision or "", "Chưa xử lý")


class ClusterMember(Base):
    __tablename__ = "cluster_member"
    # A group's members in order, a page at a time; also what the counts read, without the rows.
    __table_args__ = (Index("ix_cluster_member_cluster_id_opinion_id", "cluster_id", "opinion_id"),)

    opinion_id: Mapped[int] = mapped_column(ForeignKey("opinion.id", ondelete="CASCADE"), primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("opinion_cluster.id", ondelete="CASCADE"))

    cluster: Mapped[OpinionCluster] = relationship(back_populates="members")
    opinion: Mapped[Opinion] = relationship()


class ReportSettings(Base):
    """What the officer fills in for the document: number, date, signer, recipients."""

    __tablename__ = "report_settings"

    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"), primary_key=True)
    number: Mapped[str | None] = mapped_column(String(60))
    report_date: Mapped[date | None] = mapped_column(Date)
    place: Mapped[str | None] = mapped_column(String(120))
    signer_mode: Mapped[str] = mapped_column(String(4), default="TM")  # TM. ... CHỦ TỊCH, or KT. ... PHÓ CHỦ TỊCH
    signer_name: Mapped[str | None] = mapped_column(String(160))
    recipients: Mapped[str | None] = mapped_column(Text)
