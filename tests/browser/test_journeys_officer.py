"""The VP-TK officer's consultation, the whole way, in Chromium: sign in with TOTP, create
the consultation from the Bình An seed draft uploaded as a Word file (and again pasted as
text: the same parts), correct one parsed part, invite the units, publish; when the period
is over, answer every opinion, download the report as .docx and .xlsx (read back), and
publish the results. Every page is checked with axe-core and the Nu HTML Checker, and kept
as a screenshot (tests/support/pagecheck.py)."""

from __future__ import annotations

import io
import re
from datetime import datetime, time, timedelta

import pyotp
import pytest
from docx import Document
from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlalchemy import select, update

from consult.audit.service import SYSTEM
from consult.consultations.models import Consultation
from consult.opinions.service import add_resident_opinion, add_unit_comments
from consult.timeutil import format_date, format_datetime, local_to_utc, today, utcnow
from tests.support.drafts import seed_as_docx
from tests.support.helpers import SEEDS, browser_login, make_commune, make_group, make_unit, make_user
from tests.support.pagecheck import Journey

pytestmark = pytest.mark.browser

SEED = SEEDS / "binh-an-cong-van-va-du-thao-nghi-quyet.txt"
UNITS = ("Ủy ban MTTQ Việt Nam phường Bình An", "Hội Nông dân phường Bình An", "Ban điều hành khu phố 1")


def _fill_facts(page, title: str) -> None:
    page.get_by_label("Tên đợt lấy ý kiến").fill(title)
    page.get_by_label("Cơ quan chủ trì").fill("Ủy ban nhân dân phường Bình An")
    page.get_by_label("Số công văn").fill("491/UBND")
    page.get_by_label("Ngày công văn (dd/mm/yyyy)").fill(format_date(today()))
    page.get_by_label("Cán bộ phụ trách").fill("Lê Thị Tâm")
    page.get_by_label("Bắt đầu (HH:MM dd/mm/yyyy, giờ Việt Nam)").fill(format_datetime(utcnow() + timedelta(minutes=2)))
    closing = local_to_utc(datetime.combine(today() + timedelta(days=22), time(17, 0)))
    page.get_by_label("Hạn cuối gửi ý kiến (HH:MM dd/mm/yyyy)").fill(format_datetime(closing))
    for unit in UNITS:
        page.get_by_label(unit).check()


def test_officer_publishes_a_draft_answers_every_opinion_and_publishes_the_results(
        browser, live_server, session, tmp_path):
    commune = make_commune(session)
    group = make_group(session, commune, name="Khu phố 1")
    units = [make_unit(session, commune, name) for name in UNITS]
    secret = pyotp.random_base32()
    make_user(session, "tam.vptk", "officer", commune, totp=secret)
    session.commit()
    context = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", bypass_csp=True,
                                  accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20000)
    journey = Journey("can-bo-vp-tk", page, tmp_path)

    page.goto(f"{live_server}/auth/login")
    journey.check("đăng nhập")
    browser_login(page, live_server, "tam.vptk", secret)
    journey.check("trang làm việc")

    # The draft as a Word file, the way the office received it.
    page.goto(f"{live_server}/consultations/new")
    journey.check("tạo đợt lấy ý kiến")
    _fill_facts(page, "Lấy ý kiến dự thảo Nghị quyết về dân chủ ở cơ sở")
    docx = tmp_path / "du-thao-nghi-quyet.docx"
    docx.write_bytes(seed_as_docx(SEED.read_text(encoding="utf-8")))
    page.get_by_label("Hoặc tải lên tệp dự thảo").set_input_files(str(docx))
    page.get_by_role("button", name="Phân tích dự thảo và lưu bản nháp").click()
    page.wait_for_url(re.compile(r"/consultations/\d+$"))
    journey.check("dự thảo sau khi phân tích")
    consultation_id = int(page.url.rsplit("/", 1)[1])
    parts = page.locator("section.part").count()
    assert parts > 10 and page.get_by_text("Điều 1.").first.is_visible()

    # One part corrected by hand.
    page.get_by_role("link", name="Sửa số hiệu").first.click()
    journey.check("sửa một phần")
    page.get_by_label("Tiêu đề (Chương, Mục, Điều)").fill("Phạm vi điều chỉnh (đã sửa)")
    page.get_by_role("button", name="Lưu").click()
    expect(page.get_by_text("Phạm vi điều chỉnh (đã sửa)").first).to_be_visible()
    page.get_by_role("link", name="Kế hoạch lấy ý kiến").click()
    journey.check("kế hoạch lấy ý kiến")
    page.goto(f"{live_server}/consultations/{consultation_id}")
    page.get_by_role("button", name="Công khai, bắt đầu lấy ý kiến").click()
    journey.check("đã công khai")

    # Posted at the commune office the same day, with the photo of the notice board (Luật Điều 13).
    page.get_by_role("link", name="Niêm yết, công khai").click()
    page.get_by_label("Nơi, hình thức công khai").select_option("office")
    page.get_by_label("Địa điểm cụ thể").fill("")
    page.get_by_label("Ngày bắt đầu").fill(format_date(today()))
    page.get_by_label("Người xác nhận").fill("Nguyễn Văn Bảo, bảo vệ trụ sở")
    photo = tmp_path / "bang-tin.png"
    from PIL import Image

    Image.new("RGB", (64, 48), (30, 90, 160)).save(photo)
    page.get_by_label("Ảnh chụp nơi niêm yết").set_input_files(str(photo))
    page.get_by_role("button", name="Ghi nhận").click()
    expect(page.get_by_text("Đã ghi nhận: Niêm yết tại trụ sở Ủy ban nhân dân")).to_be_visible()
    expect(page.locator("#postings").get_by_role("link", name="bang-tin.png")).to_be_visible()
    journey.check("niêm yết, công khai")

    # The same seed pasted as text gives the same parts.
    page.goto(f"{live_server}/consultations/new")
    _fill_facts(page, "Lấy ý kiến dự thảo (bản dán)")
    page.get_by_label("Dán nội dung dự thảo").fill(SEED.read_text(encoding="utf-8"))
    page.get_by_role("button", name="Phân tích dự thảo và lưu bản nháp").click()
    page.wait_for_url(re.compile(r"/consultations/\d+$"))
    assert page.locator("section.part").count() == parts

    # Opinions come in; the period ends (the clock is moved by changing the dates).
    session.rollback()
    session.expire_all()
    session.execute(update(Consultation).where(Consultation.id == consultation_id).values(
        opens_at=utcnow() - timedelta(days=30), closes_at=utcnow() + timedelta(hours=1)))
    consultation = session.get(Consultation, consultation_id)
    first, second = consultation.parts[1], consultation.parts[3]
    add_unit_comments(session, SYSTEM, consultation, units[0].id, [(first.id, "Đề nghị bổ sung thời hạn công khai.")])
    add_unit_comments(session, SYSTEM, consultation, units[1].id, [(second.id, "Đề nghị giữ nguyên như dự thảo.")])
    add_resident_opinion(session, consultation, part_id=None, text="Đề nghị tổ chức hội nghị ở từng khu phố.",
                         name="Nguyễn Thị Mai", group_id=group.id)
    session.execute(update(Consultation).where(Consultation.id == consultation_id).values(
        closes_at=utcnow() - timedelta(hours=1)))
    session.commit()

    page.goto(f"{live_server}/reports/consultations/{consultation_id}")
    journey.check("tổng hợp ý kiến")
    while page.locator("article.group.pending").count():
        group_box = page.locator("article.group.pending").first
        text = group_box.inner_text()
        if "giữ nguyên" in text:
            group_box.get_by_role("radio", name="Không tiếp thu").check()
            group_box.get_by_role("textbox", name=re.compile("^Giải trình")).fill("Dự thảo đã quy định như đề nghị tại Điều 3.")
        else:
            group_box.get_by_role("radio", name="Tiếp thu", exact=True).check()
        # The count below must read the page the answer leads to, not the one it leaves.
        with page.expect_navigation():
            group_box.get_by_role("button", name=re.compile("^Lưu cho")).click()
    assert page.locator("#undecided").inner_text() == "0"
    journey.check("mọi ý kiến đã có hướng xử lý")

    with page.expect_download() as download:
        page.get_by_role("link", name="Tải .docx").click()
    report = Document(io.BytesIO(open(download.value.path(), "rb").read()))
    words = "\n".join(p.text for p in report.paragraphs) + "\n".join(
        c.text for t in report.tables for r in t.rows for c in r.cells)
    assert "BÁO CÁO" in words and "Đề nghị bổ sung thời hạn công khai." in words and "DỰ THẢO" not in words
    assert "Dự thảo đã quy định như đề nghị tại Điều 3." in words
    with page.expect_download() as download:
        page.get_by_role("link", name="Tải .xlsx").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(open(download.value.path(), "rb").read())).active
    cells = " ".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None)
    assert "Đề nghị tổ chức hội nghị ở từng khu phố." in cells and "Hội Nông dân phường Bình An" in cells

    page.get_by_role("button", name="Công khai kết quả").click()
    journey.check("đã công khai kết quả")
    with page.expect_navigation():
        page.get_by_role("link", name="Trang công khai kết quả").click()
    assert "Đề nghị giữ nguyên như dự thảo." in page.locator("main").inner_text()
    journey.check("kết quả công khai")
    page.goto(f"{live_server}/consultations/{consultation_id}/hdnd")
    journey.check("báo cáo hội đồng nhân dân")
    page.goto(f"{live_server}/mail/")
    journey.check("thư đã gửi")
    page.goto(f"{live_server}/documents/")
    journey.check("sổ văn bản đi")
    session.rollback()
    assert session.scalar(select(Consultation.status).where(Consultation.id == consultation_id)) == "published"
    context.close()
    journey.finish()
