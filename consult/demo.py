"""Demo data: Phường Bình An, as in the seed cover letter 491/UBND (19/9/2024).

Loading twice changes nothing the second time. Passwords are random, made on
the first load and kept in ``instance/demo-credentials.json`` (owner-only) so
that every load can print them; TOTP secrets are printed for an authenticator.
"""

from __future__ import annotations

import json
import os
import random
import secrets
from pathlib import Path

import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session

from consult.audit.service import SYSTEM
from consult.auth import service as auth_service
from consult.auth.models import User
from consult.communes import service as communes
from consult.communes.models import Commune, Household, ResidentialGroup, Unit

COMMUNE_SLUG = "phuong-binh-an"
GROUP_SIZES = [120, 90, 75, 60, 45]  # khu phố 1..5: 390 households

UNITS = [
    ("co_quan", "Đảng ủy phường"),
    ("co_quan", "Hội đồng nhân dân phường"),
    ("co_quan", "Ủy ban nhân dân phường"),
    ("mttq", "Ủy ban MTTQ Việt Nam phường"),
    ("doan_the", "Hội Liên hiệp Phụ nữ phường"),
    ("doan_the", "Đoàn Thanh niên Cộng sản Hồ Chí Minh phường"),
    ("doan_the", "Hội Cựu chiến binh phường"),
    ("doan_the", "Hội Người cao tuổi phường"),
    ("ban_nganh", "Công an phường"),
    ("ban_nganh", "Ban Chỉ huy Quân sự phường"),
]

SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương"]
MIDDLE = ["Văn", "Thị", "Hữu", "Minh", "Thanh", "Ngọc", "Quốc", "Thu", "Đức", "Kim"]
GIVEN = ["An", "Bình", "Cường", "Dung", "Đạt", "Hà", "Hải", "Hạnh", "Hiền", "Hoa", "Hùng", "Khánh", "Lan",
         "Linh", "Long", "Mai", "Nam", "Nga", "Phúc", "Phương", "Quân", "Sơn", "Tâm", "Thảo", "Thắng",
         "Trang", "Trung", "Tuấn", "Vân", "Yến"]
STREETS = ["đường Nguyễn An Ninh", "đường Trần Hưng Đạo", "đường số 7", "đường Bình Đường 3", "đường Lý Thường Kiệt"]

ACCOUNTS = [
    # username, full name, role, group index, unit name
    ("admin.binhan", "Nguyễn Văn Quản", "admin", None, None),
    ("tam.vptk", "Lê Thị Tâm", "officer", None, None),
    ("truong.kp1", "Trần Văn Hải", "group_head", 0, None),
    ("mttq.binhan", "Phạm Thị Hạnh", "unit_rep", None, "Ủy ban MTTQ Việt Nam phường"),
]


def _load_credentials(instance_path: str) -> dict:
    path = Path(instance_path) / "demo-credentials.json"
    if path.exists():
        return json.loads(path.read_text())
    creds = {
        username: {"password": secrets.token_urlsafe(9), "totp": pyotp.random_base32() if role in ("admin", "officer") else None}
        for username, _, role, _, _ in ACCOUNTS
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(creds, handle, ensure_ascii=False, indent=1)
    return creds


def load_demo(session: Session, instance_path: str) -> list[str]:
    """Load every demo part that is not there yet; return lines to print."""
    commune = _structure(session)
    lines = [f"Dữ liệu mẫu: {commune.full_name}, {commune.province} — http://127.0.0.1:5000/c/{commune.slug}/"]
    lines += _accounts(session, commune, instance_path)
    return lines


def _structure(session: Session) -> Commune:
    commune = session.scalar(select(Commune).where(Commune.slug == COMMUNE_SLUG))
    if commune is not None:
        return commune
    commune = communes.save_commune(session, SYSTEM, None, kind="phuong", name="Bình An",
                                    province="Bình Dương", slug=COMMUNE_SLUG)
    rng = random.Random(491)
    for index, size in enumerate(GROUP_SIZES, start=1):
        group = communes.save_group(session, SYSTEM, commune, None, kind="khu_pho", name=f"Khu phố {index}",
                                    position=index)
        communes.save_unit(session, SYSTEM, commune, None, kind="ban_dieu_hanh",
                           name=f"Ban điều hành khu phố {index}", group_id=group.id)
        communes.save_unit(session, SYSTEM, commune, None, kind="to_ndtq",
                           name=f"Tổ nhân dân tự quản khu phố {index}", group_id=group.id)
        for number in range(1, size + 1):
            name = f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
            session.add(Household(
                commune_id=commune.id, group_id=group.id, code=f"KP{index}-{number:03d}",
                representative=name, members=rng.randint(1, 7),
                address=f"Số {rng.randint(1, 400)}, {rng.choice(STREETS)}, khu phố {index}, phường Bình An",
            ))
    for kind, name in UNITS:
        communes.save_unit(session, SYSTEM, commune, None, kind=kind, name=name)
    session.flush()
    return commune


def _accounts(session: Session, commune: Commune, instance_path: str) -> list[str]:
    creds = _load_credentials(instance_path)
    groups = list(session.scalars(select(ResidentialGroup).where(ResidentialGroup.commune_id == commune.id)
                                  .order_by(ResidentialGroup.position)))
    lines = ["", "Tài khoản (tên đăng nhập / mật khẩu / khóa TOTP):"]
    for username, full_name, role, group_index, unit_name in ACCOUNTS:
        cred = creds[username]
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            unit_id = None
            if unit_name:
                unit_id = session.scalar(select(Unit.id).where(Unit.commune_id == commune.id, Unit.name == unit_name))
            user = auth_service.create_user(
                session, SYSTEM, username=username, full_name=full_name, role=role, password=cred["password"],
                commune_id=commune.id, group_id=groups[group_index].id if group_index is not None else None,
                unit_id=unit_id)
            if cred["totp"]:
                user.totp_secret, user.totp_enabled = cred["totp"], True
        totp = cred["totp"] or "—"
        lines.append(f"  {user.role_label:<45} {username:<14} {cred['password']:<14} {totp}")
    lines.append("  (Mã TOTP hiện tại: python -c \"import pyotp; print(pyotp.TOTP('KHÓA').now())\")")
    return lines
