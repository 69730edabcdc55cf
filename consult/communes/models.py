from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.db import Base
from consult.timeutil import UTCDateTime, utcnow

COMMUNE_KINDS = {"xa": "Xã", "phuong": "Phường", "dac_khu": "Đặc khu"}
GROUP_KINDS = {
    "khu_pho": "Khu phố",
    "thon": "Thôn",
    "to_dan_pho": "Tổ dân phố",
    "ap": "Ấp",
    "ban": "Bản",
}
UNIT_KINDS = {
    "co_quan": "Cơ quan",
    "ban_nganh": "Ban, ngành",
    "doan_the": "Đoàn thể",
    "mttq": "Ủy ban MTTQ",
    "ban_dieu_hanh": "Ban điều hành khu phố",
    "to_ndtq": "Tổ nhân dân tự quản",
}


class Commune(Base):
    __tablename__ = "commune"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Short code used in public addresses: /c/<slug>/...
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(120))
    province: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    groups: Mapped[list[ResidentialGroup]] = relationship(
        back_populates="commune", order_by="ResidentialGroup.position"
    )

    @property
    def kind_label(self) -> str:
        return COMMUNE_KINDS.get(self.kind, self.kind)

    @property
    def full_name(self) -> str:
        return commune_full_name(self.kind, self.name)


def group_full_name(kind: str, name: str) -> str:
    """'Khu phố 1' — the name already holds the kind when it starts with it."""
    label = GROUP_KINDS.get(kind, kind)
    return name if name.lower().startswith(label.lower()) else f"{label} {name}"


def commune_full_name(kind: str, name: str) -> str:
    """'Phường Bình An'."""
    return f"{COMMUNE_KINDS.get(kind, kind)} {name}"


class ResidentialGroup(Base):
    __tablename__ = "residential_group"
    __table_args__ = (UniqueConstraint("commune_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(default=0)
    # Where the group's head is reminded of the vote's deadlines (Luật Điều 20 khoản 3).
    head_email: Mapped[str | None] = mapped_column(String(200))

    commune: Mapped[Commune] = relationship(back_populates="groups")

    @property
    def kind_label(self) -> str:
        return GROUP_KINDS.get(self.kind, self.kind)

    @property
    def full_name(self) -> str:
        return group_full_name(self.kind, self.name)


class Household(Base):
    __tablename__ = "household"
    # (group_id, code): a group's register walks it a page at a time (``paging``).
    __table_args__ = (UniqueConstraint("commune_id", "code"), Index("ix_household_group_code", "group_id", "code"))

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("residential_group.id", ondelete="RESTRICT"))
    code: Mapped[str] = mapped_column(String(40))
    representative: Mapped[str] = mapped_column(String(160))
    address: Mapped[str] = mapped_column(String(255))
    members: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    group: Mapped[ResidentialGroup] = relationship()


class Unit(Base):
    __tablename__ = "unit"
    __table_args__ = (UniqueConstraint("commune_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    # The residential group a Ban điều hành or Tổ NDTQ belongs to, if any.
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("residential_group.id", ondelete="SET NULL"), index=True
    )
    email: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)

    group: Mapped[ResidentialGroup | None] = relationship()

    @property
    def kind_label(self) -> str:
        return UNIT_KINDS.get(self.kind, self.kind)
