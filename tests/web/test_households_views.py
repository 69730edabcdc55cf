"""Household register import: all or nothing, with every bad row named."""

import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select, update

from consult.communes.models import Household, ResidentialGroup
from tests.support.helpers import login, make_commune, make_group, make_user, post_form


def _head(session):
    commune = make_commune(session)
    kp1 = make_group(session, commune, name="Khu phố 1")
    make_group(session, commune, name="Khu phố 2")
    make_user(session, "truong.kp1", "group_head", commune, group=kp1)
    session.commit()
    return commune, kp1


def _upload(client, group, name, data):
    return post_form(client, f"/households/groups/{group.id}/import", {"file": (io.BytesIO(data), name)},
                     get_url=f"/households/groups/{group.id}", content_type="multipart/form-data")


def _count(session):
    return session.scalar(select(func.count()).select_from(Household))


def test_csv_import_of_the_heads_own_group(client, session):
    _, kp1 = _head(session)
    login(client, "truong.kp1")
    csv = "Mã hộ,Đại diện hộ,Địa chỉ,Khu phố,Số nhân khẩu\nKP1-001,Nguyễn Văn An,Số 1 đường số 7,Khu phố 1,4\n" \
          "kp1-002,Trần Thị Bình,Số 2 đường số 7,,3\n"
    r = _upload(client, kp1, "ho.csv", csv.encode("utf-8"))
    assert r.status_code == 302
    assert sorted(session.scalars(select(Household.code))) == ["KP1-001", "KP1-002"]
    page = client.get(f"/households/groups/{kp1.id}").get_data(as_text=True)
    assert "Trần Thị Bình" in page


def test_one_bad_row_rejects_the_whole_file_with_every_reason(client, session):
    _, kp1 = _head(session)
    login(client, "truong.kp1")
    csv = ("Mã hộ;Chủ hộ;Địa chỉ;Khu phố\n"
           "KP1-001;Nguyễn Văn An;Số 1;Khu phố 1\n"
           ";Không Mã;Số 2;Khu phố 1\n"
           "KP1-001;Trùng Mã;Số 3;Khu phố 1\n"
           "KP1-004;Lê Thị Dung;Số 4;Khu phố 9\n"
           "KP1-005;Phạm Văn Em;Số 5;Khu phố 2\n")
    r = _upload(client, kp1, "ho.csv", csv.encode("utf-8"))
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert "chưa nhập hộ nào" in page
    assert "Dòng 3: thiếu mã hộ" in page
    assert "Dòng 4: trùng mã hộ KP1-001 với dòng 2" in page
    assert "Dòng 5: khu phố “Khu phố 9” không có trong" in page
    assert "Dòng 6: khu phố “Khu phố 2” không thuộc phạm vi được nhập" in page
    assert _count(session) == 0


def test_xlsx_import_and_wrong_formats(client, session):
    _, kp1 = _head(session)
    login(client, "truong.kp1")
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Mã hộ", "Họ tên đại diện", "Địa chỉ thường trú", "Khu phố", "Nhân khẩu"])
    for i in range(1, 31):
        sheet.append([f"KP1-{i:03d}", f"Hộ số {i}", f"Số {i}", "Khu phố 1", 3])
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert _upload(client, kp1, "danh-sach.xlsx", buffer.getvalue()).status_code == 302
    assert _count(session) == 30
    r = _upload(client, kp1, "danh-sach.xlsx", b"Ma ho,Ten\n1,2\n")
    assert r.status_code == 422 and "không đúng định dạng .xlsx" in r.get_data(as_text=True)
    r = _upload(client, kp1, "danh-sach.csv", "Tên,Tuổi\nAn,3\n".encode())
    assert r.status_code == 422 and "thiếu cột Mã hộ, Đại diện hộ, Địa chỉ" in r.get_data(as_text=True)
    r = _upload(client, kp1, "danh-sach.pdf", b"%PDF-1.4")
    assert r.status_code == 422 and "Chỉ nhận tệp" in r.get_data(as_text=True)
    assert _count(session) == 30


def test_head_adds_edits_and_removes_a_household(client, session):
    _, kp1 = _head(session)
    login(client, "truong.kp1")
    r = post_form(client, f"/households/groups/{kp1.id}/new", {"group_id": str(kp1.id), "code": "KP1-050",
                                                               "representative": "Vũ Văn Phúc", "address": "Số 50"})
    assert r.status_code == 302
    hid = session.scalar(select(Household.id))
    r = post_form(client, f"/households/{hid}/edit", {"group_id": str(kp1.id), "code": "KP1-050",
                                                      "representative": "Vũ Văn Phúc", "address": "Số 51", "members": "5"})
    assert r.status_code == 302
    session.rollback()  # end the test's own read snapshot
    assert session.get(Household, hid).address == "Số 51"
    r = post_form(client, f"/households/{hid}/delete", {}, get_url=f"/households/{hid}/edit")
    session.rollback()
    assert r.status_code == 302 and _count(session) == 0


def test_the_template_file_imports_as_it_is(client, session):
    _, kp1 = _head(session)
    login(client, "truong.kp1")
    template = client.get(f"/households/groups/{kp1.id}/template.csv")
    assert template.status_code == 200 and "Mã hộ" in template.data.decode("utf-8-sig")
    assert _upload(client, kp1, "mau.csv", template.data).status_code == 302
    assert _count(session) == 1


# --- streaming: the row limit is checked while reading -----------------------------------------------

HEADER = ["Mã hộ", "Đại diện hộ", "Địa chỉ", "Khu phố", "Số nhân khẩu"]


def _csv(rows: int, *, start=1, tail="") -> bytes:
    lines = [",".join(HEADER)] + [f"KP1-{i:06d},Hộ số {i},Số {i},Khu phố 1,3" for i in range(start, start + rows)]
    return ("\n".join(lines) + "\n" + tail).encode("utf-8")


def _xlsx(rows: int, *, patch=None, extra: dict[str, tuple[str, bytes]] | None = None) -> bytes:
    """A register built in openpyxl's write-only mode; ``patch`` changes the sheet's XML afterwards, ``extra``
    adds parts (name: content type, data)."""
    import zipfile

    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Sổ hộ")
    sheet.append(HEADER)
    for i in range(1, rows + 1):
        sheet.append([f"KP1-{i:06d}", f"Hộ số {i}", f"Số {i}", "Khu phố 1", 3])
    buffer = io.BytesIO()
    workbook.save(buffer)
    if patch is None and not extra:
        return buffer.getvalue()
    out = io.BytesIO()
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    with source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if patch and info.filename.startswith("xl/worksheets/"):
                data = patch(data.decode("utf-8")).encode("utf-8")
            if extra and info.filename == "[Content_Types].xml":  # declare the parts added
                overrides = "".join(f'<Override PartName="/{name}" ContentType="{kind}"/>'
                                    for name, (kind, _) in extra.items())
                data = data.replace(b"</Types>", overrides.encode() + b"</Types>")
            target.writestr(info.filename, data)
        for name, (_, data) in (extra or {}).items():
            target.writestr(name, data)
    return out.getvalue()


def _bad_rows_after(rows: int):
    """Sheet rows after ``rows`` + 1 (the header and that many households) whose number cell is not a number:
    openpyxl raises on them if it reads them."""
    def patch(xml: str) -> str:
        for r in range(rows + 2, rows + 12):
            xml = xml.replace(f'<c r="E{r}" t="n"><v>3</v></c>', f'<c r="E{r}" t="n"><v>không phải số</v></c>')
        return xml
    return patch


LIMIT = "vượt quá 50 dòng cho một lần nhập"


def test_the_limit_is_a_wards_register_and_one_row_more_is_refused_with_nothing_stored(app, client, session):
    from consult.households import service
    from tests.support.helpers import run_jobs

    assert service.MAX_ROWS == 100_000
    _, kp1 = _head(session)
    login(client, "truong.kp1")
    too_many = _csv(service.MAX_ROWS + 1)
    refusal = "Tệp có hơn 100.000 dòng hộ, vượt quá 100.000 dòng cho một lần nhập; chưa nhập hộ nào"
    # Imported in the request (a server set so), and by the background job a file this large gets.
    app.config["IMPORT_INLINE_MAX_BYTES"] = len(too_many)
    r = _upload(client, kp1, "ho.csv", too_many)
    assert r.status_code == 422 and refusal in r.get_data(as_text=True)
    assert _count(session) == 0
    app.config.update(IMPORT_INLINE_MAX_BYTES=512 * 1024, JOBS_IN_PROCESS=False)
    r = _upload(client, kp1, "ho.csv", too_many)
    assert r.status_code == 302 and run_jobs(app) == 1
    assert refusal in client.get(r.headers["Location"]).get_data(as_text=True)
    session.rollback()
    assert _count(session) == 0


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_max_rows_are_imported_and_one_more_refused_empty_rows_not_counted(client, session, monkeypatch, kind):
    from consult.households import service

    monkeypatch.setattr(service, "MAX_ROWS", 50)
    _, kp1 = _head(session)
    login(client, "truong.kp1")
    if kind == "csv":
        fifty = _csv(25) + b"\n,,,,\n\n" + _csv(25, start=26).split(b"\n", 1)[1]
        fifty_one = _csv(51)
    else:
        fifty, fifty_one = _xlsx(50), _xlsx(51)
    r = _upload(client, kp1, f"ho.{kind}", fifty_one)
    assert r.status_code == 422 and LIMIT in r.get_data(as_text=True)
    assert _count(session) == 0
    assert _upload(client, kp1, f"ho.{kind}", fifty).status_code == 302
    session.rollback()  # end the test's own read snapshot
    assert _count(session) == 50


def test_a_csv_is_read_no_further_than_the_first_row_past_the_limit(client, session, monkeypatch):
    """Row 52 of the file (51st household) refuses it: the 200,000-character field after it, which the csv
    module refuses when it reads it, is never read."""
    from consult.households import service

    _, kp1 = _head(session)
    login(client, "truong.kp1")
    data = _csv(51, tail="KP1-999,Hộ cuối," + "x" * 200_000 + ",Khu phố 1,3\n")
    monkeypatch.setattr(service, "MAX_ROWS", 100)  # read to the end: the long field is refused
    r = _upload(client, kp1, "ho.csv", data)
    assert r.status_code == 422 and "có một ô dài hơn" in r.get_data(as_text=True)
    monkeypatch.setattr(service, "MAX_ROWS", 50)
    r = _upload(client, kp1, "ho.csv", data)
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and LIMIT in page and "có một ô dài hơn" not in page
    assert _count(session) == 0


def test_an_xlsx_is_read_no_further_than_the_first_row_past_the_limit(client, session, monkeypatch):
    """The same with an .xlsx whose rows after the 51st household are damaged (a number cell holding text)."""
    from consult.households import service

    _, kp1 = _head(session)
    login(client, "truong.kp1")
    data = _xlsx(60, patch=_bad_rows_after(51))
    monkeypatch.setattr(service, "MAX_ROWS", 100)
    r = _upload(client, kp1, "ho.xlsx", data)
    assert r.status_code == 422 and "trang tính bị hỏng sau dòng 52" in r.get_data(as_text=True)
    monkeypatch.setattr(service, "MAX_ROWS", 50)
    r = _upload(client, kp1, "ho.xlsx", data)
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and LIMIT in page and "bị hỏng" not in page
    assert _count(session) == 0


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_the_reader_is_asked_for_one_row_past_the_limit_and_no_more(session, monkeypatch, kind):
    from consult.audit.service import SYSTEM
    from consult.households import service

    monkeypatch.setattr(service, "MAX_ROWS", 50)
    commune, kp1 = _head(session)
    data = _csv(500) if kind == "csv" else _xlsx(500)
    pulled = 0

    def counted():
        nonlocal pulled
        for row in service.read_rows(f"ho.{kind}", data):
            pulled += 1
            yield row

    with pytest.raises(service.ImportRejected, match=LIMIT):
        service.import_households(session, SYSTEM, commune, counted(), only_group=kp1)
    assert pulled == 1 + 51  # the header and 51 households


@pytest.mark.parametrize("dimension", ["A1:E3", "A1:XFD1048576"], ids=["too-small", "whole-sheet"])
def test_an_xlsx_whose_dimension_lies_is_read_as_it_is(client, session, dimension):
    """openpyxl's read-only mode trusts the sheet's <dimension>: one declaring 2 rows of 30 imported 2 of them
    without a word; one declaring the whole sheet made every row 16,384 cells wide."""
    _, kp1 = _head(session)
    login(client, "truong.kp1")
    data = _xlsx(30, patch=lambda xml: xml.replace("<sheetViews>", f'<dimension ref="{dimension}"/><sheetViews>', 1))
    assert f'ref="{dimension}"'.encode() in _unzipped_sheet(data)
    r = _upload(client, kp1, "ho.xlsx", data)
    assert r.status_code == 302
    assert _count(session) == 30


def _unzipped_sheet(data: bytes) -> bytes:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(next(n for n in archive.namelist() if n.startswith("xl/worksheets/")))


def test_an_xlsx_that_jumps_to_a_far_row_is_refused_after_the_empty_rows_limit(client, session, monkeypatch):
    """openpyxl fills a gap in the row numbers with empty rows: a row numbered 999,999,999 would make
    a billion of them. Empty rows are counted too, up to MAX_LINES (Excel's own 1,048,576)."""
    from consult.households import service

    assert service.MAX_LINES == 1_048_576
    monkeypatch.setattr(service, "MAX_LINES", 1_000)
    _, kp1 = _head(session)
    login(client, "truong.kp1")
    data = _xlsx(3, patch=lambda xml: xml.replace('<row r="4">', '<row r="999999999">').replace(
        '"A4"', '"A999999999"').replace('"B4"', '"B999999999"').replace('"C4"', '"C999999999"')
        .replace('"D4"', '"D999999999"').replace('"E4"', '"E999999999"'))
    r = _upload(client, kp1, "ho.xlsx", data)
    assert r.status_code == 422 and "Tệp có hơn 1.000 dòng (kể cả dòng trống)" in r.get_data(as_text=True)
    r = _upload(client, kp1, "ho.csv", _csv(3, tail="\n" * 2_000))
    assert r.status_code == 422 and "Tệp có hơn 1.000 dòng (kể cả dòng trống)" in r.get_data(as_text=True)
    assert _count(session) == 0


SHARED_STRINGS = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"


def test_an_xlsx_that_unpacks_past_the_registers_caps_is_refused(client, session, monkeypatch):
    """The whole archive is capped before it is opened; each part openpyxl reads whole into memory (the shared
    strings above all) as it is opened; the sheet, read as a stream, only by the whole archive's cap."""
    from consult.households import service

    _, kp1 = _head(session)
    login(client, "truong.kp1")
    two_thousand = _xlsx(2_000)
    assert len(_unzipped_sheet(two_thousand)) > 64 * 1024
    strings = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' + \
        b"<si><t>a</t></si>" * 5_000 + b"</sst>"  # 85 KB unpacked, 0.3 KB packed
    with_strings = _xlsx(3, extra={"xl/sharedStrings.xml": (SHARED_STRINGS, strings)})
    monkeypatch.setattr(service, "XLSX_MAX_PART", 64 * 1024)
    r = _upload(client, kp1, "ho.xlsx", with_strings)
    assert r.status_code == 422 and "khi giải nén quá lớn" in r.get_data(as_text=True)
    assert _count(session) == 0
    assert _upload(client, kp1, "ho.xlsx", two_thousand).status_code == 302
    session.rollback()
    assert _count(session) == 2_000
    monkeypatch.setattr(service, "XLSX_MAX_UNPACKED", 64 * 1024)
    r = _upload(client, kp1, "ho.xlsx", two_thousand)
    assert r.status_code == 422 and "khi giải nén quá lớn" in r.get_data(as_text=True)
    monkeypatch.setattr(service, "XLSX_MAX_UNPACKED", 100 * 1024 * 1024)
    monkeypatch.setattr(service, "XLSX_MAX_PART", 100 * 1024)
    assert _upload(client, kp1, "ho.xlsx", with_strings).status_code == 302  # the same file, under the caps


def test_a_second_import_updates_the_register_and_a_code_of_another_group_is_refused(client, session):
    _, kp1 = _head(session)
    login(client, "truong.kp1")
    assert _upload(client, kp1, "ho.csv", _csv(3)).status_code == 302
    data = (",".join(HEADER) + "\nkp1-000002,Hộ đổi tên,Số 20,,4\nKP1-000004,Hộ mới,Số 4,Khu phố 1,\n").encode()
    assert _upload(client, kp1, "ho.csv", data).status_code == 302
    session.rollback()
    register = {h.code: (h.representative, h.address, h.members) for h in session.scalars(select(Household))}
    assert register == {"KP1-000001": ("Hộ số 1", "Số 1", 3), "KP1-000002": ("Hộ đổi tên", "Số 20", 4),
                        "KP1-000003": ("Hộ số 3", "Số 3", 3), "KP1-000004": ("Hộ mới", "Số 4", None)}
    # KP1-000001 moved by hand to Khu phố 2: the head of Khu phố 1 may not take it back by import.
    session.execute(update(Household).where(Household.code == "KP1-000001").values(
        group_id=session.scalar(select(ResidentialGroup.id).where(ResidentialGroup.name == "Khu phố 2"))))
    session.commit()
    r = _upload(client, kp1, "ho.csv", _csv(1))
    assert r.status_code == 422
    assert "Dòng 2: mã hộ KP1-000001 đã thuộc Khu phố 2." in r.get_data(as_text=True)


def test_a_file_of_many_bad_rows_names_the_first_200_and_counts_the_rest(client, session):
    """A page of 3,000 refused rows would bury the message: the first 200 are listed, the rest counted."""
    _, kp1 = _head(session)
    login(client, "truong.kp1")
    csv = "Mã hộ,Đại diện hộ,Địa chỉ\n" + "".join(f"KP1-{i:04d},,Số {i}\n" for i in range(3000))
    r = _upload(client, kp1, "ho.csv", csv.encode("utf-8"))
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and "có 3000 dòng lỗi" in page
    assert page.count("thiếu tên đại diện hộ") == 200 and "… và 2800 dòng lỗi khác" in page
    assert _count(session) == 0
