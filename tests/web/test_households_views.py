"""Household register import: all or nothing, with every bad row named."""

import io

from openpyxl import Workbook
from sqlalchemy import func, select

from consult.communes.models import Household
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
