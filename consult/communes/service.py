"""The commune's structure: create and edit communes, groups, units.

Every record belongs to exactly one commune (a province may host all of its
communes on one installation).
"""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from consult.audit.service import Actor, record
from consult.communes.models import (
    COMMUNE_KINDS,
    GROUP_KINDS,
    UNIT_KINDS,
    Commune,
    Household,
    ResidentialGroup,
    Unit,
)
from consult.errors import DomainError
from consult.textutil import checked_text, slugify


class StructureError(DomainError):
    """A rule about the commune's structure was broken; message for the user."""


def _required(value: str | None, label: str, max_len: int) -> str:
    return checked_text(value, label, max_len, StructureError)


def save_commune(session: Session, actor: Actor, commune: Commune | None, *, kind: str, name: str,
                 province: str, slug: str | None = None) -> Commune:
    """Create or rename a commune (xã, phường, đặc khu) with its province and address slug."""
    if kind not in COMMUNE_KINDS:
        raise StructureError("Loại đơn vị hành chính không hợp lệ.")
    name = _required(name, "tên xã, phường", 120)
    province = _required(province, "tên tỉnh, thành phố", 120)
    slug = slugify(slug or f"{COMMUNE_KINDS[kind]} {name}")
    if not re.fullmatch(r"[a-z0-9-]{2,60}", slug):
        raise StructureError("Mã đường dẫn chỉ gồm chữ thường không dấu, số và gạch ngang.")
    clash = session.scalar(select(Commune.id).where(Commune.slug == slug))
    if clash and (commune is None or clash != commune.id):
        raise StructureError("Mã đường dẫn này đã được dùng cho xã, phường khác.")
    creating = commune is None
    if creating:
        commune = Commune()
        session.add(commune)
    commune.kind, commune.name, commune.province, commune.slug = kind, name, province, slug
    session.flush()
    record(session, actor, "commune.create" if creating else "commune.update", commune,
           commune_id=commune.id, details={"name": name, "province": province})
    return commune


_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;.]+$")


def _email(value: str | None) -> str | None:
    """A mail address as typed, or None; refused when it cannot be one."""
    value = (value or "").strip()
    if not value:
        return None
    if len(value) > 200 or not _EMAIL.match(value):
        raise StructureError(f"Địa chỉ thư điện tử “{value[:60]}” không hợp lệ (ví dụ: kp1@binhan.gov.vn).")
    return value


def save_group(session: Session, actor: Actor, commune: Commune, group: ResidentialGroup | None, *,
               kind: str, name: str, position: int = 0, head_email: str | None = None) -> ResidentialGroup:
    """Create or rename a residential group; names are unique within the commune."""
    if kind not in GROUP_KINDS:
        raise StructureError("Loại khu dân cư không hợp lệ.")
    name = _required(name, "tên khu phố, thôn", 120)
    clash = session.scalar(select(ResidentialGroup.id).where(
        ResidentialGroup.commune_id == commune.id, func.lower(ResidentialGroup.name) == name.lower()))
    if clash and (group is None or clash != group.id):
        raise StructureError(f"Đã có khu dân cư tên “{name}” trong {commune.full_name}.")
    creating = group is None
    if creating:
        group = ResidentialGroup(commune_id=commune.id)
        session.add(group)
    group.kind, group.name, group.position, group.head_email = kind, name, position, _email(head_email)
    session.flush()
    record(session, actor, "group.create" if creating else "group.update", group, details={"name": name})
    return group


def save_unit(session: Session, actor: Actor, commune: Commune, unit: Unit | None, *, kind: str,
              name: str, group_id: int | None = None, email: str | None = None) -> Unit:
    """Create or change a unit invited to give written opinions; names are unique within the commune."""
    if kind not in UNIT_KINDS:
        raise StructureError("Loại đơn vị không hợp lệ.")
    name = _required(name, "tên đơn vị", 200)
    if group_id and group_of(session, commune.id, group_id) is None:
        raise StructureError("Khu dân cư không thuộc xã, phường này.")
    clash = session.scalar(select(Unit.id).where(Unit.commune_id == commune.id, func.lower(Unit.name) == name.lower()))
    if clash and (unit is None or clash != unit.id):
        raise StructureError(f"Đã có đơn vị tên “{name}”.")
    creating = unit is None
    if creating:
        unit = Unit(commune_id=commune.id)
        session.add(unit)
    unit.kind, unit.name, unit.group_id = kind, name, group_id or None
    unit.email = _email(email)
    session.flush()
    record(session, actor, "unit.create" if creating else "unit.update", unit, details={"name": name})
    return unit


def group_of(session: Session, commune_id: int | None, group_id) -> ResidentialGroup | None:
    """The residential group ``group_id`` when it belongs to this commune; None otherwise
    (no id, an unknown one, or another commune's group)."""
    group = session.get(ResidentialGroup, group_id) if group_id else None
    return group if group is not None and group.commune_id == commune_id else None


def list_communes(session: Session, condition) -> list[Commune]:
    """Communes matching a scoping condition (access.visible), by province and name."""
    return list(session.scalars(select(Commune).where(condition).order_by(Commune.province, Commune.name)))


def list_groups(session: Session, commune_id: int) -> list[ResidentialGroup]:
    """The commune's residential groups in their set order."""
    return list(session.scalars(select(ResidentialGroup).where(ResidentialGroup.commune_id == commune_id)
                                .order_by(ResidentialGroup.position, ResidentialGroup.name)))


def list_units(session: Session, commune_id: int) -> list[Unit]:
    """The commune's units, by kind and name."""
    return list(session.scalars(select(Unit).where(Unit.commune_id == commune_id).order_by(Unit.kind, Unit.name)))


def household_counts(session: Session, commune_id: int) -> dict[int, int]:
    """Households in the register per group of the commune."""
    rows = session.execute(select(Household.group_id, func.count()).where(Household.commune_id == commune_id)
                           .group_by(Household.group_id))
    return dict(rows.all())
