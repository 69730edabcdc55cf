"""Audit trail: every change by staff, append-only and hash-chained.

Each entry's hash is an HMAC-SHA256, under a key kept outside the database
(``AUDIT_KEY``: the environment or ``instance/audit_key``), of its own fields
and the previous entry's hash. An entry edited, removed or inserted in the
database breaks the chain from that point, and whoever can write the database
but lacks the key cannot recompute the hashes after an edit; ``verify_chain``
names the first entry where it breaks. Deleting the newest entries and moving
the head back is caught against a head exported earlier (``export_head``,
``flask --app consult audit head -o FILE``, kept apart from the server).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from consult.audit.models import AuditEntry, AuditHead
from consult.timeutil import UTC, utcnow

GENESIS = "0" * 64


@dataclass(frozen=True)
class Actor:
    """Who acts: a staff account (id and name) and the address it acts from."""

    id: int | None
    name: str
    ip: str | None = None


SYSTEM = Actor(id=None, name="hệ thống (dòng lệnh)")


def _canonical(entry: AuditEntry) -> bytes:
    payload = {
        "prev": entry.prev_hash,
        "at": entry.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "commune": entry.commune_id,
        "actor_id": entry.actor_id,
        "actor": entry.actor_name,
        "ip": entry.ip,
        "action": entry.action,
        "type": entry.object_type,
        "object": entry.object_id,
        "details": entry.details,
    }
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def compute_hash(entry: AuditEntry, key: str) -> str:
    """The HMAC-SHA256 under the chain's key of an entry's fields and the previous entry's hash."""
    return hmac.new(key.encode(), _canonical(entry), hashlib.sha256).hexdigest()


def chain_key(session: Session) -> str:
    key = session.info.get("audit_key")
    if not key:
        raise RuntimeError("the session carries no audit key (create it from the app's sessionmaker)")
    return key


def record(
    session: Session,
    actor: Actor,
    action: str,
    obj=None,
    *,
    object_type: str | None = None,
    object_id=None,
    commune_id: int | None = None,
    details: dict | None = None,
    now: datetime | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction (STYLE principle 4)."""
    if obj is not None:
        object_type = object_type or obj.__tablename__
        if object_id is None:
            session.flush()
            object_id = getattr(obj, "id", None)
        if commune_id is None:
            commune_id = getattr(obj, "commune_id", None)
    head = session.execute(
        select(AuditHead).where(AuditHead.id == 1).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, last_hash=GENESIS, last_id=None)
        session.add(head)
    # Microseconds are kept: both SQLite and PostgreSQL store them.
    at = (now or utcnow()).astimezone(UTC)
    entry = AuditEntry(
        at=at,
        commune_id=commune_id,
        actor_id=actor.id,
        actor_name=actor.name,
        ip=actor.ip,
        action=action,
        object_type=object_type or "",
        object_id=None if object_id is None else str(object_id),
        details=json.dumps(details or {}, ensure_ascii=False, sort_keys=True, default=str),
        prev_hash=head.last_hash,
    )
    entry.hash = compute_hash(entry, chain_key(session))
    session.add(entry)
    session.flush()
    head.last_hash = entry.hash
    head.last_id = entry.id
    return entry


@dataclass
class ChainReport:
    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str = ""


def export_head(session: Session) -> dict:
    """The newest entry's number and hash, to keep apart from the server (a file, a printed page)."""
    head = session.get(AuditHead, 1)
    return {"id": head.last_id if head else None, "hash": head.last_hash if head else GENESIS}


def verify_chain(session: Session, *, exported: dict | None = None) -> ChainReport:
    """Walk the chain in order; the first entry whose hash or link is wrong. With a head
    exported earlier, also check that its entry is still there, unchanged."""
    key = chain_key(session)
    prev = GENESIS
    checked = 0
    last_id = None
    rows = session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()
    for entry in rows:
        if entry.prev_hash != prev:
            return ChainReport(False, checked, entry.id, "liên kết với bản ghi trước bị sai (bản ghi bị xóa, chèn hoặc sửa)")
        if not hmac.compare_digest(compute_hash(entry, key), entry.hash):
            return ChainReport(False, checked, entry.id, "nội dung không khớp mã băm (bản ghi bị sửa)")
        prev = entry.hash
        last_id = entry.id
        checked += 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.last_hash != prev or head.last_id != last_id):
        return ChainReport(False, checked, head.last_id, "bản ghi cuối của chuỗi đã bị xóa")
    if exported and exported.get("id") is not None:
        kept = session.get(AuditEntry, exported["id"])
        if kept is None or kept.hash != exported.get("hash"):
            return ChainReport(False, checked, exported["id"],
                               "bản ghi đã xuất làm mốc không còn trong chuỗi (các bản ghi mới nhất đã bị xóa hoặc "
                               "chuỗi đã bị làm lại)")
    return ChainReport(True, checked)


def list_entries(session: Session, *, commune_id: int | None, limit: int = 200) -> list[AuditEntry]:
    """The newest entries, of one commune or (None) of the whole platform."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if commune_id is not None:
        query = query.where(AuditEntry.commune_id == commune_id)
    return list(session.execute(query).scalars())
