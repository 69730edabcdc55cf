"""Hương ước, quy ước of a residential group (Nghị định 61/2023/NĐ-CP; Luật Điều 15 khoản 3).

The group drafts it, posts the draft for the households' comments (online allowed: NĐ 61
Điều 9 khoản 2 điểm b), adopts it at a meeting (a vote of matter k3: more than half of the
households present and more than half of all households agreeing, Điều 10; ballots only after
such a meeting failed for attendance, never online), sends it to the commune's UBND for
recognition, and the recognised text is published. An amendment takes the same path.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.communes.models import Commune, ResidentialGroup
from consult.db import Base
from consult.timeutil import UTCDateTime

KINDS = {"huong_uoc": "Hương ước", "quy_uoc": "Quy ước"}


class Covenant(Base):
    __tablename__ = "covenant"

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("residential_group.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(300))
    # The draft as posted for comments; the text put to the meeting (comments taken in).
    draft_text: Mapped[str] = mapped_column(Text)
    final_text: Mapped[str | None] = mapped_column(Text)
    # An amendment (sửa đổi, bổ sung) of a recognised covenant.
    amends_id: Mapped[int | None] = mapped_column(ForeignKey("covenant.id", ondelete="SET NULL"))
    comments_open_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    comments_close_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The adoption meeting (a vote of matter k3); ballots after it are that vote's follow-up.
    poll_id: Mapped[int | None] = mapped_column(ForeignKey("poll.id", ondelete="SET NULL"))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    commune: Mapped[Commune] = relationship()
    group: Mapped[ResidentialGroup] = relationship()
    amends: Mapped[Covenant | None] = relationship(remote_side="Covenant.id")

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)


class CovenantComment(Base):
    """A household's comment on the draft (online, or written down by the head from a meeting
    or a paper): what it says and who, never shown with the person's phone."""

    __tablename__ = "covenant_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    covenant_id: Mapped[int] = mapped_column(ForeignKey("covenant.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(160))
    address: Mapped[str] = mapped_column(String(255))
    text: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(10))  # online / paper
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
