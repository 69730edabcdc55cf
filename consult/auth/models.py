from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.communes.models import Commune, ResidentialGroup, Unit
from consult.db import Base
from consult.timeutil import UTCDateTime, utcnow

ROLE_ADMIN = "admin"
ROLE_OFFICER = "officer"
ROLE_GROUP_HEAD = "group_head"
ROLE_UNIT_REP = "unit_rep"

ROLES = {
    ROLE_ADMIN: "Quản trị viên",
    ROLE_OFFICER: "Công chức VP-TK",
    ROLE_GROUP_HEAD: "Trưởng ban điều hành khu phố / Trưởng thôn",
    ROLE_UNIT_REP: "Đại diện đơn vị",
}
# Roles that may not use the platform without a second factor.
TOTP_REQUIRED_ROLES = {ROLE_ADMIN, ROLE_OFFICER}


class User(UserMixin, Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(160))
    role: Mapped[str] = mapped_column(String(20))
    # NULL only for a platform administrator who manages every commune.
    commune_id: Mapped[int | None] = mapped_column(
        ForeignKey("commune.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("residential_group.id", ondelete="SET NULL")
    )
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id", ondelete="SET NULL"))
    password_hash: Mapped[str] = mapped_column(String(255))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled: Mapped[bool] = mapped_column(default=False)
    # The last TOTP time-step accepted: a code of that step or earlier is a replay.
    totp_last_step: Mapped[int | None] = mapped_column()
    active: Mapped[bool] = mapped_column(default=True)
    # Changes on password reset or deactivation, so old sessions stop working.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The share-pickup key (consult/auth/pickup.py): the public half of an X25519 key derived
    # from the password, its salt and Argon2id cost. NULL until the first sign-in, and again
    # after an administrator's reset.
    pickup_public_key: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    pickup_salt: Mapped[bytes | None] = mapped_column(LargeBinary(16))
    pickup_opslimit: Mapped[int | None] = mapped_column()
    pickup_memlimit: Mapped[int | None] = mapped_column()

    commune: Mapped[Commune | None] = relationship()
    group: Mapped[ResidentialGroup | None] = relationship()
    unit: Mapped[Unit | None] = relationship()

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:  # flask-login
        return self.active

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)

    @property
    def totp_required(self) -> bool:
        return self.role in TOTP_REQUIRED_ROLES

    @property
    def is_platform_admin(self) -> bool:
        return self.role == ROLE_ADMIN and self.commune_id is None


class RecoveryCode(Base):
    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
