"""Household register: import from CSV or .xlsx, all or nothing; edit by hand.

A vote counts against the register as it stood when the vote opened
(polls.service snapshots it), so edits here never change an open vote.

The import reads its file as a stream, row by row, and stops as soon as the
file holds one row more than ``MAX_ROWS``: a file of a million rows is refused
after 100,001 of them, not after all were read.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from consult.audit.service import Actor, record
from consult.communes.models import Commune, Household, ResidentialGroup
from consult.errors import DomainError
from consult.paging import Page, keyset_page
from consult.textutil import fold, nfc
from consult.uploads import UploadRejected, check_upload

# A ward's register in one file.
MAX_ROWS = 100_000
# Rows read at most, empty ones included: Excel's own limit for a sheet. An .xlsx may jump to row
# 999,999,999 (openpyxl fills the gap with empty rows) and a CSV may hold millions of empty lines.
MAX_LINES = 1_048_576
# Columns read in each row of an .xlsx: a cell placed in column XFD would otherwise make every row
# 16,384 cells wide.
MAX_COLUMNS = 100
# An .xlsx may not unpack to more than this (a 100,000-row register is about 35 MB): consult.uploads
# caps every office file at 200 MB, this is the register's own, tighter cap, checked the same way
# before the file is opened. The sheet read is streamed; every other part openpyxl reads whole
# into memory (the table of shared strings above all: about 12 MB for 100,000 households, and
# several times that in memory) may not unpack to more than XLSX_MAX_PART.
XLSX_MAX_UNPACKED = 100 * 1024 * 1024
XLSX_MAX_PART = 32 * 1024 * 1024
# Rows written to the database per statement.
WRITE_CHUNK = 5_000
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


class ImportRejected(DomainError):
    """The file was refused; ``errors`` lists each bad row and why."""

    def __init__(self, message: str, errors: list[str] | None = None):
        super().__init__(message)
        self.errors = errors or []


class HouseholdError(DomainError):
    """A rule about one household was broken; the message is for the user."""


@dataclass
class ImportResult:
    added: int
    updated: int


def _number(value: int) -> str:
    """100000 → '100.000', as Vietnamese writes it."""
    return f"{value:,}".replace(",", ".")


def _text(value) -> str:
    """A cell as text: an .xlsx number 4.0 reads '4', an empty cell ''."""
    if value is None:
        return ""
    if value.__class__ is str:
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _rows_from_csv(data: bytes) -> Iterator[list[str]]:
    # The file was checked to be UTF-8 (check_upload); the dialect is guessed from its first 4,096
    # characters (at most 4 bytes each, and 3 for a BOM).
    head = data[:4 * 4096 + 3].decode("utf-8-sig", errors="ignore")[:4096]
    dialect = csv.excel
    try:
        dialect = csv.Sniffer().sniff(head, delimiters=",;\t")
    except csv.Error:
        pass
    # newline="": a bare CR ends a line as LF and CR LF do (files saved by old Excel for Mac);
    # a line break inside quotes stays in its field. A CR in the middle of an unquoted field
    # thus splits its row, and the halves are named among the refused rows.
    reader = csv.reader(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline=""), dialect)
    try:
        yield from reader
    except UnicodeDecodeError:
        raise ImportRejected("Tệp CSV phải được lưu theo bảng mã UTF-8.") from None
    except csv.Error as exc:
        if "field limit" in str(exc):
            raise ImportRejected(f"Không đọc được tệp CSV: dòng {reader.line_num} có một ô dài hơn "
                                 f"{_number(csv.field_size_limit())} ký tự; chưa nhập hộ nào.") from None
        raise ImportRejected(f"Không đọc được tệp CSV ở dòng {reader.line_num}; chưa nhập hộ nào. Hãy mở tệp "
                             "bằng Excel hoặc LibreOffice rồi lưu lại dưới dạng CSV UTF-8.") from None


def _unpacks_too_large() -> ImportRejected:
    return ImportRejected(f"Tệp .xlsx khi giải nén quá lớn (hơn {XLSX_MAX_UNPACKED // (1024 * 1024)} MB, hoặc một "
                          f"phần của tệp hơn {XLSX_MAX_PART // (1024 * 1024)} MB); chưa nhập hộ nào. Hãy xóa các "
                          "trang tính, cột và định dạng không cần rồi lưu lại, hoặc lưu dưới dạng CSV UTF-8.")


def _check_xlsx_size(data: bytes) -> None:
    """Refuse, before opening it, an .xlsx that unpacks to more than XLSX_MAX_UNPACKED.

    The sizes are those the archive declares; zipfile never unpacks a member past its declared
    size, so they hold (consult.uploads checks its own cap the same way).
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile:
        raise ImportRejected("Không đọc được tệp .xlsx.") from None
    if sum(info.file_size for info in infos) > XLSX_MAX_UNPACKED:
        raise _unpacks_too_large()


class _PartTooLarge(Exception):
    """Not a ValueError: openpyxl turns those into its own "Unable to read workbook"."""


class _CappedZip(zipfile.ZipFile):
    """An archive whose every part opened is refused past XLSX_MAX_PART, but ``streamed``: the
    worksheet read row by row, which only XLSX_MAX_UNPACKED bounds (see ``_open_first_sheet``)."""

    streamed: str | None = None

    def open(self, name, mode="r", pwd=None, **kwargs):
        info = name if isinstance(name, zipfile.ZipInfo) else self.getinfo(name)
        if mode == "r" and info.file_size > XLSX_MAX_PART and info.filename != self.streamed:
            raise _PartTooLarge(info.filename)
        return super().open(name, mode, pwd, **kwargs)


_WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"


def _open_first_sheet(data: bytes):
    """The first worksheet of an .xlsx in openpyxl's read-only mode, not trusting its dimension.

    ``load_workbook(read_only=True)`` reads each sheet's ``<dimension>`` and then yields rows up to
    it: a sheet that declares A1:E3 loses its other rows without a word, one that declares
    A1:XFD1048576 makes every row 16,384 cells wide. openpyxl documents the remedy for
    dimensions that lie ("Worksheet dimensions", in its read-only mode's page):
    ``reset_dimensions()``, after which rows are yielded as the sheet holds them, each as wide as
    its own last cell (the caller also passes ``max_col``); reading stops when the caller stops.
    (A sheet without a dimension, as openpyxl's write-only files are, is parsed once at load by
    openpyxl looking for one: a streamed pass, bounded by XLSX_MAX_UNPACKED.)

    The archive is openpyxl's own reader's, swapped for one that refuses, as it is opened, every
    part past XLSX_MAX_PART but the first worksheet, the one part read as a stream (and only
    when the archive's content types call it a worksheet, so no part read whole passes as it).
    openpyxl is pinned to the minor series this is tested with (pyproject.toml).
    """
    from openpyxl.reader.excel import ExcelReader

    class CappedReader(ExcelReader):
        def __init__(self):
            super().__init__(io.BytesIO(data), read_only=True, data_only=True)
            self.archive.close()
            self.archive = _CappedZip(io.BytesIO(data))

        def read_worksheets(self):
            # The first worksheet as openpyxl finds it (workbook order, chartsheets skipped).
            first = next((rel.target for _sheet, rel in self.parser.find_sheets()
                          if rel.target in self.valid_files and "chartsheet" not in rel.Type), None)
            if first and any(o.PartName == "/" + first and o.ContentType == _WORKSHEET_TYPE
                             for o in self.package.Override):
                self.archive.streamed = first
            super().read_worksheets()

    reader = CappedReader()
    try:
        reader.read()
        sheet = reader.wb.worksheets[0]
        sheet.reset_dimensions()
        return reader.archive, sheet
    except BaseException:
        reader.archive.close()
        raise


def _rows_from_xlsx(data: bytes) -> Iterator[Sequence]:
    try:
        archive, sheet = _open_first_sheet(data)
    except _PartTooLarge:
        raise _unpacks_too_large() from None
    except Exception:  # noqa: BLE001 - a damaged or disguised file
        raise ImportRejected("Không đọc được tệp .xlsx.") from None
    read = 0
    try:
        for row in sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True):
            read += 1
            yield row
    except Exception:  # noqa: BLE001 - a damaged sheet, found while reading it
        raise ImportRejected(f"Không đọc được tệp .xlsx: trang tính bị hỏng sau dòng {read}; chưa nhập hộ nào.") \
            from None
    finally:
        archive.close()


def estimated_rows(filename: str, data: bytes) -> int:
    """About how many rows a file holds, to show a background import's progress: the lines of a
    .csv; 0 (not known before reading) for an .xlsx."""
    return max(data.count(b"\n"), 1) if filename.lower().endswith(".csv") else 0


def read_rows(filename: str, data: bytes, *, max_bytes: int = 10 * 1024 * 1024) -> Iterator[Sequence]:
    """The rows of an uploaded .csv (UTF-8) or .xlsx, checked to be what the name says.

    The file is checked now; its rows are read as they are asked for (``import_households`` stops
    asking after ``MAX_ROWS`` + 1 rows). A problem found while reading raises ``ImportRejected``
    from the iteration. An .xlsx row is a tuple of cell values (None for an empty cell), a CSV row
    a list of texts.
    """
    try:
        checked = check_upload(filename, data, allowed={"csv", "xlsx"}, max_bytes=max_bytes)
    except UploadRejected as exc:
        raise ImportRejected(str(exc)) from None
    if checked.extension == "xlsx":
        _check_xlsx_size(checked.data)
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


def _blank(row: Sequence) -> bool:
    if row.count(None) == len(row):  # quick: the empty rows openpyxl makes up for a gap in the row numbers
        return True
    return not any(_text(value).strip() for value in row)


def _too_many_rows() -> ImportRejected:
    return ImportRejected(f"Tệp có hơn {_number(MAX_ROWS)} dòng hộ, vượt quá {_number(MAX_ROWS)} dòng cho một lần "
                          "nhập; chưa nhập hộ nào. Hãy chia tệp thành nhiều tệp nhỏ hơn (chẳng hạn mỗi khu phố một "
                          "tệp) rồi nhập lần lượt.")


def _too_many_lines() -> ImportRejected:
    return ImportRejected(f"Tệp có hơn {_number(MAX_LINES)} dòng (kể cả dòng trống); chưa nhập hộ nào. Hãy xóa các "
                          "dòng trống ở cuối bảng rồi lưu lại.")


def import_households(session: Session, actor: Actor, commune: Commune, rows: Iterable[Sequence], *,
                      only_group: ResidentialGroup | None = None, progress=None,
                      writer: Session | None = None) -> ImportResult:
    """Check every row, then import all of them or none.

    ``rows`` may be a stream (``read_rows``): it is read once, row by row, and no further than the
    first row past ``MAX_ROWS``, which refuses the file. Empty rows are skipped; the first other
    row is the header. Rows are numbered as they are counted here (header = 1, empty rows not
    counted), in the messages.

    Refused rows: missing code, name or address; a code twice in the file or
    already used by a household of another group; an unknown group, or one
    outside ``only_group`` (a group head imports only their own group).

    A background import reads and checks through ``session`` and writes through ``writer``
    (on SQLite the writer's lock is then held only while writing, not while the file is read).
    """
    try:
        return _import(session, actor, commune, iter(rows), only_group, progress or (lambda rows_read: None),
                       writer or session)
    finally:
        close = getattr(rows, "close", None)
        if close is not None:
            close()  # a reader stopped early lets go of its file now


# A background import says how far it has read every this many rows (``households.jobs``).
PROGRESS_EVERY = 2_000


def _import(session: Session, actor: Actor, commune: Commune, rows: Iterator[Sequence],
            only_group: ResidentialGroup | None, progress, writer: Session) -> ImportResult:
    lines = 0
    header = None
    for row in rows:
        lines += 1
        if lines > MAX_LINES:
            raise _too_many_lines()
        if row and not _blank(row):
            header = [_text(value) for value in row]
            break
    if header is None:
        raise ImportRejected("Tệp không có dữ liệu.")
    mapping = _map_header(header)
    missing = [label for field, label in (("code", "Mã hộ"), ("representative", "Đại diện hộ"),
                                          ("address", "Địa chỉ")) if field not in mapping]
    if "group" not in mapping and only_group is None:
        missing.append("Khu phố")
    if missing:
        raise ImportRejected("Sai định dạng: thiếu cột " + ", ".join(missing) +
                             ". Dòng đầu phải là tiêu đề: Mã hộ, Đại diện hộ, Địa chỉ, Khu phố, Số nhân khẩu.")
    commune_groups = list(session.scalars(select(ResidentialGroup).where(ResidentialGroup.commune_id == commune.id)))
    groups = {fold(g.name): g for g in commune_groups}
    groups.update({fold(g.full_name): g for g in commune_groups})
    group_names = {g.id: g.full_name for g in commune_groups}
    folded: dict[str, ResidentialGroup | None] = {}  # group names as typed, folded once each
    # The commune's codes in one query: code → (id, group id).
    existing = {code: (household_id, group_id) for code, household_id, group_id in session.execute(
        select(Household.code, Household.id, Household.group_id).where(Household.commune_id == commune.id))}
    errors, seen, clean = [], {}, []
    indexes = [mapping.get(field) for field in ("code", "representative", "address", "group", "members")]

    number = 1  # the header
    for row in rows:
        lines += 1
        if lines > MAX_LINES:
            raise _too_many_lines()
        if not row:
            continue
        width = len(row)
        code, name, address, group_name, members_text = (
            nfc(_text(row[index])).strip() if index is not None and index < width else "" for index in indexes)
        if not (code or name or address or group_name or members_text) and _blank(row):
            continue
        number += 1
        if number - 1 > MAX_ROWS:
            raise _too_many_rows()  # and not a row further is read
        if (number - 1) % PROGRESS_EVERY == 0:
            progress(number - 1)
        code = code.upper()
        problems = []
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
        if not group_name and only_group:
            group = only_group
        else:
            if group_name not in folded:
                folded[group_name] = groups.get(fold(group_name))
            group = folded[group_name]
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
        known = existing.get(code) if code else None
        if known is not None and group is not None and known[1] != group.id:
            problems.append(f"mã hộ {code} đã thuộc {_group_name(session, group_names, known[1])}")
        if code:
            seen.setdefault(code, number)
        if problems:
            errors.append(f"Dòng {number}: " + "; ".join(problems) + ".")
        elif not errors:
            clean.append((code, name, address, group.id, members))
    if errors:
        raise ImportRejected(f"Tệp bị từ chối vì có {len(errors)} dòng lỗi; chưa nhập hộ nào.", errors)
    progress(number - 1)
    added, updated = _write(writer, commune, clean, existing)
    record(writer, actor, "household.import", commune, commune_id=commune.id,
           object_type="residential_group" if only_group else "commune",
           object_id=only_group.id if only_group else commune.id, details={"added": added, "updated": updated})
    return ImportResult(added, updated)


def _group_name(session: Session, names: dict[int, str], group_id: int) -> str:
    if group_id not in names:
        names[group_id] = session.get(ResidentialGroup, group_id).full_name
    return names[group_id]


def _write(session: Session, commune: Commune, clean: list[tuple], existing: dict[str, tuple[int, int]]
           ) -> tuple[int, int]:
    """Insert the new households and update the known ones, a few thousand rows per statement."""
    added = updated = 0
    for start in range(0, len(clean), WRITE_CHUNK):
        new, known = [], []
        for code, name, address, group_id, members in clean[start:start + WRITE_CHUNK]:
            household = existing.get(code)
            if household is None:
                new.append({"commune_id": commune.id, "group_id": group_id, "code": code, "representative": name,
                            "address": address, "members": members})
            else:
                known.append({"id": household[0], "representative": name, "address": address, "members": members})
        if new:
            session.execute(insert(Household), new)
        if known:
            session.execute(update(Household), known)
        added, updated = added + len(new), updated + len(known)
    return added, updated


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


def _register(commune_id: int, group_id: int | None, query: str):
    stmt = select(Household).where(Household.commune_id == commune_id)
    if group_id:
        stmt = stmt.where(Household.group_id == group_id)
    if query.strip():
        like = f"%{query.strip().upper()}%"
        stmt = stmt.where(func.upper(Household.code).like(like) | Household.representative.ilike(f"%{query.strip()}%"))
    return stmt


def list_households(session: Session, commune_id: int, group_id: int | None, *, query: str = "") -> list[Household]:
    """The register of a commune or one group, searchable by code or name, whole."""
    return list(session.scalars(_register(commune_id, group_id, query).order_by(Household.code)))


def household_page(session: Session, commune_id: int, group_id: int | None, *, query: str = "",
                   after: str | None = None, before: str | None = None, size: int = 100) -> Page[Household]:
    """A page of the register of a commune or one group in the order of the households'
    codes (unique in the commune), after or before a code, filtered by code or name: one
    range of the index (group_id, code) or (commune_id, code) at any size of the register."""
    return keyset_page(session, _register(commune_id, group_id, query), [Household.code], lambda h: (h.code,),
                       size=size, after=(after,) if after else None, before=(before,) if before else None)


def count_households(session: Session, commune_id: int, group_id: int | None, *, query: str = "",
                     at_most: int | None = None) -> int:
    """How many households the register (of a group, matching a search) holds; with ``at_most``,
    counted no further than one past it (a search's count then costs the same in any register)."""
    matching = _register(commune_id, group_id, query).with_only_columns(Household.id)
    if at_most is not None:
        matching = matching.limit(at_most + 1)
    return session.scalar(select(func.count()).select_from(matching.subquery())) or 0
