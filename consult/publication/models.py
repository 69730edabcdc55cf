"""Where and when a consultation's draft and its results were made public, with the
evidence: the place, the days, who confirmed it and a photo (Luật Điều 11 to 13)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.communes.models import ResidentialGroup
from consult.db import Base
from consult.timeutil import UTCDateTime

DRAFT, RESULTS = "draft", "results"
SUBJECTS = {DRAFT: "Dự thảo", RESULTS: "Kết quả tiếp thu, giải trình"}

# Luật Điều 13: the portal (khoản 1), posting at the commune office and at each group's
# cultural house for at least 30 consecutive days (khoản 2), the loudspeaker system for
# at least 3 days (khoản 3); social networks and the groups' channels besides (Điều 26).
PORTAL, OFFICE, CULTURAL_HOUSE, LOUDSPEAKER, SOCIAL = "portal", "office", "house", "loudspeaker", "social"
CHANNELS = {
    PORTAL: "Cổng (trang) thông tin điện tử của xã, phường",
    OFFICE: "Niêm yết tại trụ sở Ủy ban nhân dân",
    CULTURAL_HOUSE: "Niêm yết tại nhà văn hóa (nhà sinh hoạt cộng đồng) khu dân cư",
    LOUDSPEAKER: "Hệ thống loa truyền thanh",
    SOCIAL: "Mạng xã hội, nhóm Zalo của khu dân cư",
}
POSTED_CHANNELS = (OFFICE, CULTURAL_HOUSE)  # kept up at least 30 consecutive days
POSTED_MIN_DAYS = 30  # Điều 13 khoản 2
LOUDSPEAKER_MIN_DAYS = 3  # Điều 13 khoản 3
WITHIN_WORKING_DAYS = 5  # Điều 12 khoản 3: made public within 5 working days of the document


class Posting(Base):
    """One posting of a consultation's draft or results at one place, from one day."""

    __tablename__ = "posting"

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id", ondelete="CASCADE"), index=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(12))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("residential_group.id", ondelete="SET NULL"))
    place: Mapped[str] = mapped_column(String(300))
    posted_on: Mapped[date] = mapped_column(Date)
    # The last day it stayed up (or was broadcast); NULL while it is still up.
    ended_on: Mapped[date | None] = mapped_column(Date)
    confirmed_by: Mapped[str] = mapped_column(String(200))
    photo_name: Mapped[str | None] = mapped_column(String(255))
    photo_mimetype: Mapped[str | None] = mapped_column(String(60))
    photo: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    group: Mapped[ResidentialGroup | None] = relationship()

    @property
    def channel_label(self) -> str:
        return CHANNELS.get(self.channel, self.channel)
