"""A residents' vote, the whole way, in Chromium: the khu phố head imports the household
register from .xlsx, sets up and opens an online vote, prints the slips; a resident's
phone opens the link decoded from a QR code of that PDF (zbarimg), answers the consent
round and then votes, and sees the receipt; each member of the board signs in on their own
and picks up their own key share card (the head sees none); the head sees turnout change,
the board ends the vote early with their shares and a reason, and the public results page
shows the outcome. Every page
is checked with axe-core and the Nu HTML Checker, and kept as a screenshot
(tests/support/pagecheck.py)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from datetime import timedelta

import pytest
from openpyxl import Workbook
from playwright.sync_api import expect

from consult.polls import service
from consult.polls.models import Poll
from consult.timeutil import format_date, format_datetime, today, utcnow
from tests.support.helpers import PASSWORD, browser_login, make_commune, make_group, make_unit, make_user
from tests.support.pagecheck import Journey

pytestmark = pytest.mark.browser

HOUSEHOLDS = [("KP1-001", "Nguyễn Văn An", "Số 1 đường Lê Lợi", 4), ("KP1-002", "Trần Thị Bình", "Số 2 đường Lê Lợi", 3),
              ("KP1-003", "Lê Văn Cường", "Số 3 đường Lê Lợi", 5), ("KP1-004", "Phạm Thị Dung", "Số 4 đường Lê Lợi", 2)]


def _register_xlsx() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Mã hộ", "Đại diện hộ", "Địa chỉ", "Khu phố", "Số nhân khẩu"])
    for code, name, address, members in HOUSEHOLDS:
        sheet.append([code, name, address, "Khu phố 1", members])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _qr_links(pdf_path, tmp_path) -> list[str]:
    for tool in ("pdftoppm", "zbarimg"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is needed (Debian packages poppler-utils and zbar-tools)")
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(pdf_path), str(tmp_path / "slips")], check=True)
    links = []
    for image in sorted(tmp_path.glob("slips*.png")):
        out = subprocess.run(["zbarimg", "--quiet", "--raw", str(image)], capture_output=True, text=True)
        links += [line.strip() for line in out.stdout.splitlines() if line.strip()]
    return links


def test_group_head_runs_an_online_vote_and_a_resident_votes_from_the_printed_qr(
        browser, live_server, session, tmp_path):
    commune = make_commune(session)
    group = make_group(session, commune, name="Khu phố 1")
    make_user(session, "truong.kp1", "group_head", commune, group=group)
    unit = make_unit(session, commune, "Ban điều hành khu phố 1", kind="ban_dieu_hanh", group=group)
    board = [("hoa.bctmt", "Nguyễn Thị Hoa"), ("bay.kp1", "Lê Văn Bảy"), ("tu.kp1", "Trần Văn Tư")]
    for username, name in board:
        make_user(session, username, "unit_rep", commune, unit=unit, full_name=name)
    session.commit()
    desk = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", bypass_csp=True, accept_downloads=True)
    phone_context = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", bypass_csp=True,
                                        viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    head_page, phone = desk.new_page(), phone_context.new_page()
    head = Journey("truong-khu-pho", head_page, tmp_path)
    resident = Journey("nguoi-dan-bieu-quyet", phone, tmp_path, phone=True)
    member_context = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", bypass_csp=True)
    member_page = member_context.new_page()
    member = Journey("to-lay-y-kien", member_page, tmp_path)

    def sign_out(page):
        page.get_by_role("button", name="Đăng xuất").click()

    # Each board member signs in once on their own (the sign-in makes the account's pickup key).
    for username, _ in board:
        browser_login(member_page, live_server, username)
        sign_out(member_page)

    # The register, from the .xlsx a ward keeps.
    browser_login(head_page, live_server, "truong.kp1")
    head.check("trang làm việc")
    head_page.goto(f"{live_server}/households/groups/{group.id}")
    head.check("sổ hộ gia đình trống")
    head_page.get_by_text("Nhập từ tệp .csv hoặc .xlsx").click()
    xlsx = tmp_path / "so-ho.xlsx"
    xlsx.write_bytes(_register_xlsx())
    head_page.get_by_label("Tệp danh sách hộ").set_input_files(str(xlsx))
    with head_page.expect_navigation():
        head_page.get_by_role("button", name="Nhập danh sách").click()
    assert "Đã nhập: thêm 4 hộ" in head_page.locator("main").inner_text()
    head.check("sổ hộ sau khi nhập")

    # An online vote on a khoản 6 matter, with the law's preconditions recorded.
    # Step by step: the matter, then only the forms the law allows for it, then only that form's fields.
    head_page.goto(f"{live_server}/polls/new")
    head.check("tạo cuộc biểu quyết: bước 1, việc cần quyết định")
    head_page.get_by_role("radio", name="Các công việc tự quản khác của cộng đồng (khoản 6)").check()
    head_page.get_by_role("button", name="Tiếp tục").click()
    head.check("tạo cuộc biểu quyết: bước 2, hình thức")
    head_page.get_by_role("radio", name="Biểu quyết trực tuyến").check()
    head_page.get_by_role("button", name="Tiếp tục").click()
    head.check("tạo cuộc biểu quyết: bước 3, nội dung và thời gian")
    expect(head_page.locator("#online-fields")).to_be_visible()
    assert head_page.get_by_label("Địa điểm họp").count() == 0 and head_page.locator("#ballot-fields").count() == 0
    head_page.get_by_label("Tên cuộc biểu quyết").fill("Lắp đèn chiếu sáng hẻm 12")
    head_page.get_by_label("Nội dung biểu quyết (câu hỏi)").fill("Hộ có đồng ý góp 200.000 đồng để lắp đèn không?")
    start = utcnow() - timedelta(minutes=1)
    head_page.get_by_label("Bắt đầu (HH:MM dd/mm/yyyy)").fill(format_datetime(start))
    head_page.get_by_label("Kết thúc (HH:MM dd/mm/yyyy)").fill(format_datetime(start + timedelta(days=5)))
    head_page.get_by_label("Ngày Trưởng khu dân cư và BCTMT thống nhất").fill(format_date(today()))
    head_page.get_by_label("Ngày báo cáo UBND").fill(format_date(today()))
    head_page.get_by_role("checkbox", name="Các hộ có thiết bị").check()
    for row, (username, name) in enumerate(board):
        head_page.locator(f"#committee-{row}-name").fill(name)
        if row:
            head_page.locator(f"#committee-{row}-role").fill("Thành viên")
        head_page.locator(f"#committee-{row}-user_id").select_option(label=f"{name} ({username}, Đại diện đơn vị)")
    with head_page.expect_navigation():
        head_page.get_by_role("button", name="Lưu bản nháp").click()
    head.check("cuộc biểu quyết nháp")
    poll_id = int(re.search(r"/polls/(\d+)", head_page.url).group(1))

    with head_page.expect_navigation():
        head_page.get_by_role("button", name="Mở biểu quyết (chốt danh sách hộ)").click()
    assert "Không ai nhận thay được" in head_page.locator("main").inner_text()
    assert not re.search(rf"P{poll_id}-\d-", head_page.content())  # the opener sees no share
    assert head_page.locator("#board").inner_text().count("chưa nhận") == 3
    head.check("đã mở: chờ Tổ lấy ý kiến nhận phiếu giữ khóa")

    # Each member, on their own account, picks up their own card, once.
    shares = []
    for n, (username, _) in enumerate(board):
        browser_login(member_page, live_server, username)
        member_page.get_by_role("link", name=re.compile("Nhận phiếu giữ khóa")).click()
        if n == 0:
            member.check("nhận phiếu giữ khóa")
        member_page.get_by_label("Mật khẩu của bạn").fill(PASSWORD)
        member_page.get_by_role("button", name="Mở phiếu giữ khóa").click()
        shares.append(member_page.locator("#share-code").inner_text())
        assert member_page.locator("#key-fingerprint").inner_text()
        # The card as a phone's camera would see it: its picture, to be read at the close.
        member_page.locator("#share-card").screenshot(path=str(tmp_path / f"the-card-{n}.png"))
        if n == 0:
            member.check("phiếu giữ khóa")
            # The print button (this site's own script, the page's one addition) opens printing.
            member_page.evaluate("window.print = () => { window.printed = true; }")
            member_page.get_by_role("button", name="In phiếu giữ khóa").click()
            assert member_page.evaluate("window.printed") is True
            member_page.emulate_media(media="print")
            assert not member_page.locator(".topbar").first.is_visible()
            assert member_page.locator("#share-card").is_visible() and not member_page.locator("#print-how").is_visible()
            member_page.emulate_media(media="screen")
            member_page.goto(f"{live_server}/polls/{poll_id}/my-share")
            assert "đã nhận phiếu giữ khóa" in member_page.locator("main").inner_text()
            assert not member_page.locator("#share-code").count()
        member_page.goto(f"{live_server}/staff")
        sign_out(member_page)
    assert [int(code.split("-")[1]) for code in shares] == [1, 2, 3]
    head_page.reload()
    assert head_page.locator("#board").inner_text().count("đã nhận") == 3
    with head_page.expect_download() as download:
        head_page.get_by_role("button", name="In phiếu cho các hộ chưa biểu quyết (PDF)").click()
    pdf = tmp_path / "phieu.pdf"
    download.value.save_as(pdf)
    links = _qr_links(pdf, tmp_path)
    assert len(links) == 4 and all(link.startswith(f"{live_server}/b/") for link in links)

    # The consent round: this phone and two neighbours agree to vote online (NĐ 59 Điều 5).
    phone.goto(links[0])
    resident.check("phiếu: vòng lấy ý kiến đồng ý")
    phone.get_by_label("Đồng ý biểu quyết trực tuyến", exact=True).check()
    phone.get_by_role("button", name="Tiếp tục").click()
    resident.check("xác nhận đồng ý")
    phone.get_by_role("button", name="Xác nhận biểu quyết").click()
    resident.check("đã trả lời vòng đồng ý")
    for link in links[1:3]:
        service.cast_online(session, link.rsplit("/", 1)[1], "agree")
    session.commit()
    head_page.goto(f"{live_server}/polls/{poll_id}")
    assert head_page.locator("#consent").inner_text() == "3/4"
    head.check("vòng đồng ý: 3/4 hộ")
    # One member shows the camera their card; the other types the code.
    head_page.get_by_role("group", name="Mã khóa của Nguyễn Thị Hoa").get_by_label(
        "Chụp ảnh mã QR trên phiếu").set_input_files(str(tmp_path / "the-card-0.png"))
    head_page.get_by_role("group", name="Mã khóa của Trần Văn Tư").get_by_label("hoặc nhập mã khóa").fill(shares[2])
    head_page.get_by_role("button", name="Kết thúc vòng lấy ý kiến đồng ý").click()
    head.check("đã kết thúc vòng đồng ý")

    # The vote itself, from the same slip.
    phone.goto(links[0])
    resident.check("phiếu biểu quyết")
    phone.get_by_label("Đồng ý", exact=True).check()
    phone.get_by_role("button", name="Tiếp tục").click()
    resident.check("xác nhận lựa chọn")
    phone.get_by_role("button", name="Xác nhận biểu quyết").click()
    receipt = phone.locator("#receipt").inner_text()
    assert len(receipt) == 12
    resident.check("biên nhận")
    for link in links[1:3]:
        poll = session.get(Poll, poll_id)
        service.cast_online(session, link.rsplit("/", 1)[1], next(c.id for c in poll.choices if c.kind == "agree"))
    session.commit()

    head_page.goto(f"{live_server}/polls/{poll_id}")
    assert "3/4" in head_page.locator(".stats").first.inner_text()  # turnout, before any result is known
    head.check("số hộ đã biểu quyết")
    # Five days before its end: the board stops it early, with its reason and a majority's shares.
    assert "Chưa đến thời điểm kết thúc đã định" in head_page.locator("#early-warning").inner_text()
    head_page.get_by_label("Lý do kết thúc sớm").fill("3/4 hộ đã biểu quyết, hộ còn lại đi làm xa")
    head_page.get_by_role("group", name="Mã khóa của Lê Văn Bảy").get_by_label(
        "Chụp ảnh mã QR trên phiếu").set_input_files(str(tmp_path / "the-card-1.png"))
    head_page.get_by_role("group", name="Mã khóa của Trần Văn Tư").get_by_label(
        "Chụp ảnh mã QR trên phiếu").set_input_files(str(tmp_path / "the-card-2.png"))
    with head_page.expect_navigation():
        head_page.get_by_role("button", name="Kết thúc sớm và tính kết quả").click()
    assert "hộ còn lại đi làm xa" in head_page.locator("#early-stop").inner_text()
    outcome = head_page.locator("#outcome").inner_text()
    assert outcome.startswith("Thông qua") and "3/4 hộ đồng ý" in outcome
    head.check("kết quả")

    phone.goto(f"{live_server}/c/{commune.slug}/polls/{poll_id}?receipt={receipt}")
    assert "nằm trong danh sách đã được đếm" in phone.locator("#receipt-result").inner_text()
    assert "3/4 hộ đồng ý" in phone.locator("main").inner_text()
    resident.check("kết quả công khai")

    # The group's hương ước (NĐ 61/2023 Điều 9): drafted, posted 31 days; a household comments on its phone.
    head_page.goto(f"{live_server}/covenants/")
    head.check("hương ước")
    head_page.get_by_label("Tên", exact=True).fill("Hương ước khu phố 1")
    head_page.get_by_label("Nội dung dự thảo").fill("Điều 1. Giữ gìn vệ sinh\nBỏ rác đúng giờ, từ 18 giờ đến 20 giờ.")
    head_page.get_by_role("button", name="Lưu dự thảo").click()
    head_page.get_by_label("Hạn góp ý").fill(format_datetime(utcnow() + timedelta(days=31)))
    with head_page.expect_navigation():
        head_page.get_by_role("button", name="Công khai, bắt đầu lấy ý kiến").click()
    assert head_page.locator("#stage").inner_text() == "Đang lấy ý kiến hộ gia đình"
    head.check("hương ước đang lấy ý kiến")
    phone.goto(f"{live_server}/c/{commune.slug}/covenants/")
    phone.get_by_role("link", name="Hương ước khu phố 1").click()
    phone.get_by_label("Họ tên đại diện hộ").fill("Nguyễn Văn An")
    phone.get_by_label("Địa chỉ hộ").fill("Số 2, khu phố 1")
    phone.get_by_label("Ý kiến góp ý").fill("Đề nghị thêm giờ bỏ rác buổi sáng.")
    with phone.expect_navigation():
        phone.get_by_role("button", name="Gửi ý kiến").click()
    assert "đã nhận 1 ý kiến" in phone.locator("main").inner_text()
    resident.check("góp ý hương ước")
    head_page.goto(f"{live_server}/proposals/")
    head.check("đề xuất của người dân")
    phone.goto(f"{live_server}/c/{commune.slug}/proposals/")
    resident.check("đề xuất của người dân")
    desk.close()
    phone_context.close()
    member_context.close()
    head.finish()
    resident.finish()
    member.finish()
