"""Household register: import from CSV or .xlsx, all or nothing; edit by hand.

A vote counts against the register as it stood when the vote opened
(polls.service snapshots it), so edits here never change an open vote.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from consult.audit.service import Actor, record
from consult.communes.models import Commune, Household, ResidentialGroup
from consult.textutil import fold, nfc
from consult.uploads import UploadRejected, check_upload

MAX_ROWS = 20_000
# The columns' lengths: PostgreSQL refuses a longer text (SQLite would keep it), so each is
# checked, with a message, after the text is normalised (capitals and Unicode composition
# can make it longer than what was typed).
CODE_MAX, NAME_MAX, ADDRESS_MAX = (Household.__table__.c[name].type.length
                                   for name in ("code", "representative", "address"))

# Accepted headings (folded, without diacritics) for each field.
COLUMNS = {
    "code": ("ma ho", "ma ho gia dinh", "ma", "so ho", "household code", "code"),
    "representative": ("dai dien ho", "ho ten dai dien", "chu ho", "ho ten chu ho", "nguoi dai dien", "ho ten",
                       "representative"),
    "address": ("dia chi", "dia chi thuong tru", "noi thuong tru", "address"),
    "group": ("khu pho", "thon", "to dan pho", "ap", "ban", "khu dan cu", "group"),
    "members": ("so nhan khau", "nhan khau", "so thanh vien", "thanh vien", "members"),
}


class ImportRejected(ValueError):
    """The file was refused; ``errors`` lists each bad row and why."""

    def __init__(self, message: str, errors: list[str] | None = None):
        super().__init__(message)
        self.errors = errors or []


class HouseholdError(ValueError):
    """A rule about one household was broken; the message is for the user."""


@dataclass
class ImportResult:
    added: int
    updated: int


def _rows_from_csv(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRejected("Tệp CSV phải được lưu theo bảng mã UTF-8.") from None
    dialect = csv.excel
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        pass
    # newline="": a bare CR ends a line as LF and CR LF do (files saved by old Excel for Mac);
    # a line break inside quotes stays in its field. A CR in the middle of an unquoted field
    # thus splits its row, and the halves are named among the refused rows.
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        return list(reader)
    except csv.Error as exc:
        if "field limit" in str(exc):
            limit = f"{csv.field_size_limit():,}".replace(",", ".")
            raise ImportRejected(f"Không đọc được tệp CSV: dòng {reader.line_num} có một ô dài hơn {limit} ký tự; "
                                 "chưa nhập hộ nào.") from None
        raise ImportRejected(f"Không đọc được tệp CSV ở dòng {reader.line_num}; chưa nhập hộ nào. Hãy mở tệp "
                             "bằng Excel hoặc LibreOffice rồi lưu lại dưới dạng CSV UTF-8.") from None


def _rows_from_xlsx(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - a damaged or disguised file
        raise ImportRejected("Không đọc được tệp .xlsx.") from None
    sheet = workbook.worksheets[0]
    rows = []
    for row in sheet.iter_rows(values_only=True):
        rows.append(["" if v is None else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v))
                     for v in row])
    workbook.close()
    return rows


def read_rows(filename: str, data: bytes, *, max_bytes: int = 10 * 1024 * 1024) -> list[list[str]]:
    """The rows of an uploaded .csv (UTF-8) or .xlsx, checked to be what the name says."""
    try:
        checked = check_upload(filename, data, allowed={"csv", "xlsx"}, max_bytes=max_bytes)
    except UploadRejected as exc:
        raise ImportRejected(str(exc)) from None
    if checked.extension == "xlsx":
        return _rows_from_xlsx(checked.data)
    return _rows_from_csv(checked.data)


def _map_header(header: list[str]) -> dict[str, int]:
    mapping = {}
    for index, cell in enumerate(header):
        name = re.sub(r"[^a-z0-9 ]", " ", fold(cell))
        name = " ".join(name.split())
        for field, names in COLUMNS.items():
            if name in names and field not in mapping:
                mapping[field] = index
    return mapping


def template_csv(group_name: str) -> bytes:
    """A file to fill in: the headings the import reads, and one example row (UTF-8 with BOM for Excel)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Mã hộ", "Đại diện hộ", "Địa chỉ", "Khu phố", "Số nhân khẩu"])
    writer.writerow(["KP1-001", "Nguyễn Văn An", "Số 12, đường số 7", group_name, "4"])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def import_households(session: Session, actor: Actor, commune: Commune, rows: list[list[str]], *,
                      only_group: ResidentialGroup | None = None) -> ImportResult:
    """Check every row, then import all of them or none.

    Refused rows: missing code, name or address; a code twice in the file or
    already used by a household of another group; an unknown group, or one
    outside ``only_group`` (a group head imports only their own group).
    """
    rows = [r for r in rows if any((c or "").strip() for c in r)]
    if not rows:
        raise ImportRejected("Tệp không có dữ liệu.")
    mapping = _map_header(rows[0])
    missing = [label for field, label in (("code", "Mã hộ"), ("representative", "Đại diện hộ"),
                                          ("address", "Địa chỉ")) if field not in mapping]
    if "group" not in mapping and only_group is None:
        missing.append("Khu phố")
    if missing:
        raise ImportRejected("Sai định dạng: thiếu cột " + ", ".join(missing) +
                             ". Dòng đầu phải là tiêu đề: Mã hộ, Đại diện hộ, Địa chỉ, Khu phố, Số nhân khẩu.")
    body = rows[1:]
    if len(body) > MAX_ROWS:
        raise ImportRejected(f"Tệp có {len(body)} dòng, vượt quá {MAX_ROWS} dòng cho một lần nhập.")
    groups = {fold(g.name): g for g in session.scalars(select(ResidentialGroup).where(
        ResidentialGroup.commune_id == commune.id))}
    groups.update({fold(g.full_name): g for g in groups.values()})
    existing = {h.code: h for h in session.scalars(select(Household).where(Household.commune_id == commune.id))}
    errors, seen, clean = [], {}, []

    def cell(row, field):
        index = mapping.get(field)
        return nfc(row[index]).strip() if index is not None and index < len(row) else ""

    for number, row in enumerate(body, start=2):
        problems = []
        code = cell(row, "code").upper()
        name, address = cell(row, "representative"), cell(row, "address")
        group_name, members_text = cell(row, "group"), cell(row, "members")
        if "\x00" in "".join((code, name, address, group_name, members_text)):
            problems.append("có ký tự không hợp lệ (ký tự NUL)")
        if not code:
            problems.append("thiếu mã hộ")
        elif len(code) > CODE_MAX:
            problems.append(f"mã hộ dài quá {CODE_MAX} ký tự")
        elif code in seen:
            problems.append(f"trùng mã hộ {code} với dòng {seen[code]}")
        if not name:
            problems.append("thiếu tên đại diện hộ")
        elif len(name) > NAME_MAX:
            problems.append(f"tên đại diện hộ dài quá {NAME_MAX} ký tự")
        if not address:
            problems.append("thiếu địa chỉ")
        elif len(address) > ADDRESS_MAX:
            problems.append(f"địa chỉ dài quá {ADDRESS_MAX} ký tự")
        group = only_group if not group_name and only_group else groups.get(fold(group_name))
        if group is None:
            problems.append(f"khu phố “{group_name}” không có trong {commune.full_name}" if group_name
                            else "thiếu khu phố")
        elif only_group is not None and group.id != only_group.id:
            problems.append(f"khu phố “{group_name}” không thuộc phạm vi được nhập ({only_group.full_name})")
        members = None
        if members_text:
            # ASCII digits only: "²" passes str.isdigit() and then fails int().
            if not re.fullmatch(r"[0-9]{1,2}", members_text) or not 0 < int(members_text) < 100:
                problems.append(f"số nhân khẩu “{members_text}” không hợp lệ")
            else:
                members = int(members_text)
        if code and code in existing and group is not None and existing[code].group_id != group.id:
            problems.append(f"mã hộ {code} đã thuộc {existing[code].group.full_name}")
        if code:
            seen.setdefault(code, number)
        if problems:
            errors.append(f"Dòng {number}: " + "; ".join(problems) + ".")
        else:
            clean.append((code, name, address, group, members))
    if errors:
        raise ImportRejected(f"Tệp bị từ chối vì có {len(errors)} dòng lỗi; chưa nhập hộ nào.", errors)
    added = updated = 0
    for code, name, address, group, members in clean:
        household = existing.get(code)
        if household is None:
            session.add(Household(commune_id=commune.id, group_id=group.id, code=code, representative=name,
                                  address=address, members=members))
            added += 1
        else:
            household.representative, household.address, household.members = name, address, members
            updated += 1
    session.flush()
    record(session, actor, "household.import", commune, commune_id=commune.id,
           object_type="residential_group" if only_group else "commune",
           object_id=only_group.id if only_group else commune.id, details={"added": added, "updated": updated})
    return ImportResult(added, updated)


def save_household(session: Session, actor: Actor, commune: Commune, household: Household | None, *,
                   group: ResidentialGroup, code: str, representative: str, address: str,
                   members: int | None) -> Household:
    """Add or change one household of the register by hand; codes are unique in the commune."""
    code = (code or "").strip().upper()
    representative, address = nfc(representative or "").strip(), nfc(address or "").strip()
    if not code or not representative or not address:
        raise HouseholdError("Vui lòng nhập mã hộ, tên đại diện hộ và địa chỉ.")
    if "\x00" in code + representative + address:
        raise HouseholdError("Dữ liệu có ký tự không hợp lệ (ký tự NUL).")
    if len(code) > CODE_MAX:
        raise HouseholdError(f"Mã hộ dài quá {CODE_MAX} ký tự.")
    if len(representative) > NAME_MAX:
        raise HouseholdError(f"Họ tên đại diện hộ dài quá {NAME_MAX} ký tự.")
    if len(address) > ADDRESS_MAX:
        raise HouseholdError(f"Địa chỉ dài quá {ADDRESS_MAX} ký tự.")
    if group.commune_id != commune.id:
        raise HouseholdError("Khu phố không thuộc xã, phường này.")
    clash = session.scalar(select(Household.id).where(Household.commune_id == commune.id, Household.code == code))
    if clash and (household is None or clash != household.id):
        raise HouseholdError(f"Mã hộ {code} đã có trong sổ.")
    creating = household is None
    if creating:
        household = Household(commune_id=commune.id)
        session.add(household)
    household.group_id, household.code, household.representative = group.id, code, representative
    household.address, household.members = address, members
    session.flush()
    record(session, actor, "household.create" if creating else "household.update", household,
           details={"code": code})
    return household


def remove_household(session: Session, actor: Actor, household: Household) -> None:
    """Remove a household; open votes keep the register they snapshotted."""
    record(session, actor, "household.delete", household, details={"code": household.code})
    session.delete(household)
    session.flush()


def list_households(session: Session, commune_id: int, group_id: int | None, *, query: str = "") -> list[Household]:
    """The register of a commune or one group, searchable by code or name."""
    stmt = select(Household).where(Household.commune_id == commune_id).order_by(Household.code)
    if group_id:
        stmt = stmt.where(Household.group_id == group_id)
    if query.strip():
        like = f"%{query.strip().upper()}%"
        stmt = stmt.where(func.upper(Household.code).like(like) | Household.representative.ilike(f"%{query.strip()}%"))
    return list(session.scalars(stmt))
