"""Staff accounts: passwords (Argon2id), TOTP second factor, recovery codes, and the
share-pickup key derived from the password (``consult/auth/pickup.py``)."""

from __future__ import annotations

import io
import re
import secrets
from datetime import datetime

import pyotp
import qrcode
import qrcode.image.svg
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.attributes import set_committed_value

from consult import security
from consult.audit.service import Actor, record
from consult.auth import pickup
from consult.auth.models import (
    ROLE_ADMIN,
    ROLE_GROUP_HEAD,
    ROLE_UNIT_REP,
    ROLES,
    RecoveryCode,
    User,
)
from consult.errors import DomainError
from consult.communes.models import Unit
from consult.communes.service import group_of
from consult.polls import keycards
from consult.timeutil import utcnow

RECOVERY_CODE_COUNT = 10
TOTP_INTERVAL = 30
MIN_PASSWORD_LENGTH = 10


class AccountError(DomainError):
    """A rule about accounts was broken; the message is for the user."""


_USERNAME_RE = re.compile(r"^[a-z0-9._-]{3,80}$")


def validate_password(password: str) -> None:
    """At least MIN_PASSWORD_LENGTH characters; the message says so in Vietnamese."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Mật khẩu phải có ít nhất {MIN_PASSWORD_LENGTH} ký tự.")


def create_user(
    session: Session,
    actor: Actor,
    *,
    username: str,
    full_name: str,
    role: str,
    password: str,
    commune_id: int | None,
    group_id: int | None = None,
    unit_id: int | None = None,
) -> User:
    """Create a staff account; a group head needs a group, a representative a unit."""
    username = (username or "").strip().lower()
    if not _USERNAME_RE.match(username):
        raise AccountError("Tên đăng nhập chỉ gồm chữ thường không dấu, số, dấu chấm, gạch ngang (3–80 ký tự).")
    if role not in ROLES:
        raise AccountError("Vai trò không hợp lệ.")
    validate_password(password)
    if session.scalar(select(User.id).where(func.lower(User.username) == username)):
        raise AccountError("Tên đăng nhập này đã có người dùng.")
    if commune_id is None and role != ROLE_ADMIN:
        raise AccountError("Tài khoản này phải thuộc một xã, phường.")
    if role == ROLE_GROUP_HEAD:
        if group_of(session, commune_id, group_id) is None:
            raise AccountError("Trưởng khu phố / thôn phải gắn với một khu phố, thôn của xã, phường.")
    else:
        group_id = None
    if role == ROLE_UNIT_REP:
        unit = session.get(Unit, unit_id) if unit_id else None
        if unit is None or unit.commune_id != commune_id:
            raise AccountError("Đại diện đơn vị phải gắn với một đơn vị của xã, phường.")
    else:
        unit_id = None
    user = User(
        username=username,
        full_name=full_name.strip(),
        role=role,
        commune_id=commune_id,
        group_id=group_id,
        unit_id=unit_id,
        password_hash=security.hash_password(password),
    )
    session.add(user)
    session.flush()
    record(session, actor, "user.create", user, commune_id=commune_id,
           details={"username": username, "role": role})
    return user


def authenticate(session: Session, username: str, password: str, *,
                 pickup_cost: pickup.KdfCost = pickup.DEFAULT_COST) -> User | None:
    """The account when the password is right and the account active; else None.

    The first sign-in (and the first after an administrator's reset) makes the account's
    share-pickup key from the password, so that a vote's board can include it."""
    user = session.scalar(select(User).where(User.username == (username or "").strip().lower()))
    if not security.verify_password(user.password_hash if user else None, password or ""):
        return None
    if not user.active:
        return None
    if security.password_needs_rehash(user.password_hash):
        user.password_hash = security.hash_password(password)
    if not pickup.has_key(user):
        pickup.new_key(user, password, pickup_cost)
    return user


def set_password(session: Session, actor: Actor, user: User, password: str, *, current_password: str | None = None,
                 pickup_cost: pickup.KdfCost = pickup.DEFAULT_COST, now: datetime | None = None) -> int:
    """A new password; every open session of the account ends.

    The owner's own change (``current_password``, checked by the caller) gives a new
    pickup key and seals the key shares waiting for the account again to it. An
    administrator's reset cannot: the old password is not known, so those shares are lost
    (a majority of the board still counts) and the account has no pickup key until it
    signs in again. Returns how many shares were lost."""
    validate_password(password)
    now = now or utcnow()
    lost = 0
    if current_password is not None:
        old_key = pickup.private_key(user, current_password)
        new_key = pickup.new_key(user, password, pickup_cost)
        if old_key is not None:
            keycards.reseal(session, user, old_key, bytes(new_key.public_key), now=now)
    else:
        pickup.forget(user)
        lost = keycards.forget_shares(session, user, now=now)
    user.password_hash = security.hash_password(password)
    end_sessions(user)
    record(session, actor, "user.password", user, now=now,
           details={"reset": current_password is None, "key_shares_lost": lost})
    return lost


def set_active(session: Session, actor: Actor, user: User, active: bool) -> None:
    """Lock or unlock an account; a locked account's sessions end at once."""
    user.active = active
    end_sessions(user)
    record(session, actor, "user.activate" if active else "user.deactivate", user)


# --- TOTP -----------------------------------------------------------------

def start_totp_enrolment(user: User) -> str:
    """A fresh secret, kept on the user but not enabled until a code confirms it."""
    user.totp_secret = pyotp.random_base32()
    user.totp_enabled = False
    user.totp_last_step = None
    return user.totp_secret


def provisioning_uri(user: User, issuer: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.username, issuer_name=issuer)


def qr_svg(data: str) -> str:
    """An inline SVG QR code (no image request, no external service)."""
    img = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buf = io.BytesIO()
    img.save(buf)
    svg = buf.getvalue().decode("utf-8")
    # The library names its path id="qr-path": several codes on one page (the board's key
    # shares) would repeat the id, which HTML forbids; nothing refers to it.
    return svg[svg.index("<svg"):].replace(' id="qr-path"', "")


def verify_totp(user: User, code: str, *, now: datetime | None = None) -> bool:
    """Accept a code of the current step or one step either side, once only.

    A code whose time-step is not later than the last accepted one is a
    replay and is refused, even within its 30-second window.
    """
    code = re.sub(r"\s", "", code or "")
    if not user.totp_secret or not re.fullmatch(r"\d{6}", code):
        return False
    moment = now or utcnow()
    totp = pyotp.TOTP(user.totp_secret, interval=TOTP_INTERVAL)
    step_now = int(moment.timestamp()) // TOTP_INTERVAL
    for step in (step_now - 1, step_now, step_now + 1):
        if security.same(totp.generate_otp(step), code):
            return _claim_step(user, step)
    return False


def _claim_step(user: User, step: int) -> bool:
    """Accept a time-step once, atomically in the database: a conditional UPDATE that only
    one of several sessions sending the same code at the same moment can win."""
    session = object_session(user)
    if session is None:  # a detached account (never in a request): compare in memory
        if user.totp_last_step is not None and step <= user.totp_last_step:
            return False
        user.totp_last_step = step
        return True
    won = session.execute(update(User).where(
        User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step).execution_options(synchronize_session=False)).rowcount == 1
    if won:
        set_committed_value(user, "totp_last_step", step)
    return won


def end_sessions(user: User) -> None:
    """Every session of the account ends, on the server side: the session version in its
    cookies no longer matches (logout, password change, lock)."""
    user.session_version = (user.session_version or 1) + 1


def confirm_totp_enrolment(
    session: Session, actor: Actor, user: User, code: str, *, now: datetime | None = None
) -> list[str]:
    """Enable TOTP after a first valid code; returns new one-time recovery codes."""
    if not verify_totp(user, code, now=now):
        raise AccountError("Mã xác thực không đúng. Hãy nhập mã 6 chữ số đang hiện trên ứng dụng.")
    user.totp_enabled = True
    codes = regenerate_recovery_codes(session, user)
    record(session, actor, "user.totp_enable", user)
    return codes


def regenerate_recovery_codes(session: Session, user: User) -> list[str]:
    """Ten new one-time codes (shown once, stored hashed); the old ones stop working."""
    for old in session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        session.delete(old)
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = secrets.token_hex(5)  # 40 bits each, shown as xxxxx-xxxxx
        code = f"{raw[:5]}-{raw[5:]}"
        codes.append(code)
        session.add(RecoveryCode(user_id=user.id, code_hash=security.hash_token(code)))
    session.flush()
    return codes


def use_recovery_code(session: Session, user: User, code: str, *, now: datetime | None = None) -> bool:
    """Spend one recovery code in place of a TOTP code; each works once."""
    normalized = re.sub(r"\s", "", (code or "").lower())
    if len(normalized) == 10 and "-" not in normalized:
        normalized = f"{normalized[:5]}-{normalized[5:]}"
    row = session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == security.hash_token(normalized),
            RecoveryCode.used_at.is_(None),
        )
    )
    if row is None:
        return False
    row.used_at = now or utcnow()
    return True


def remaining_recovery_codes(session: Session, user: User) -> int:
    """How many recovery codes are left unused."""
    return session.scalar(
        select(func.count()).select_from(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    )


def load_user(session: Session, user_key: str) -> User | None:
    """flask-login's key is 'id:session_version'; an old version is logged out."""
    try:
        raw_id, raw_version = user_key.split(":")
        user = session.get(User, int(raw_id))
    except (ValueError, TypeError):
        return None
    if user is None or str(user.session_version) != raw_version or not user.active:
        return None
    return user

