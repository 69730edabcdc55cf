"""The officer's publication page (Luật Điều 13 khoản 1 to 3, Điều 12 khoản 3, Điều 28 khoản 2):
postings recorded with the person who confirmed them and a photo, what is still to post, the
comment period counted from the real publication day, bad input refused with nothing written."""

from __future__ import annotations

import io

import pyotp
from PIL import Image
from sqlalchemy import select

from consult.publication.models import Posting
from consult.timeutil import format_date, today
from tests.support.helpers import login, make_commune, make_consultation, make_group, make_user, post_form


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def _officer(client, session):
    commune = make_commune(session)
    make_group(session, commune, "Khu phố 1")
    c = make_consultation(session, commune, [])
    secret = pyotp.random_base32()
    make_user(session, "tam.vptk", "officer", commune, totp=secret)
    session.commit()
    login(client, "tam.vptk", totp_secret=secret)
    return c


def _postings(session):
    session.rollback()
    session.expire_all()
    return list(session.scalars(select(Posting)))


def test_officer_records_a_posting_with_its_photo_and_sees_what_is_left(client, session):
    c = _officer(client, session)
    url = f"/consultations/{c.id}/publication"
    page = client.get(url).get_data(as_text=True)
    assert "Chưa ghi nhận nơi nào đã công khai dự thảo" in page and "Nhà văn hóa Khu phố 1" in page
    assert f"/c/{c.commune.slug}/consultations/{c.id}" in page  # the portal's address is offered
    photo = (io.BytesIO(_png()), "niem-yet.png")
    r = post_form(client, url, {"subject": "draft", "channel": "office", "group_id": "0", "place": "",
                                "posted_on": format_date(today()), "ended_on": "",
                                "confirmed_by": "Nguyễn Văn Bảo vệ, bảo vệ trụ sở", "photo": photo},
                  content_type="multipart/form-data", follow_redirects=True)
    text = r.get_data(as_text=True)
    assert "Đã ghi nhận: Niêm yết tại trụ sở Ủy ban nhân dân, Trụ sở Ủy ban nhân dân Phường Bình An." in text
    assert f"Dự thảo được công khai thực tế từ ngày <strong>{format_date(today())}</strong>" in text
    assert "đủ 30 ngày vào hết ngày" in text
    [posting] = _postings(session)
    assert posting.confirmed_by.startswith("Nguyễn Văn Bảo vệ") and posting.photo_mimetype == "image/png"
    # Residents see where the draft is posted (Điều 13), not who confirmed it nor the photo.
    public = client.get(f"/c/{c.commune.slug}/consultations/{c.id}").get_data(as_text=True)
    assert f"Dự thảo: Trụ sở Ủy ban nhân dân Phường Bình An, từ ngày {format_date(today())}" in public
    assert "Nguyễn Văn Bảo vệ" not in public
    shown = client.get(f"/consultations/{c.id}/postings/{posting.id}/photo")
    assert shown.status_code == 200 and shown.mimetype == "image/png"
    # The photo kept is re-encoded without its metadata: the same picture, not the same bytes.
    from PIL import Image, ImageChops

    kept, sent = Image.open(io.BytesIO(shown.data)), Image.open(io.BytesIO(_png()))
    assert kept.size == sent.size and ImageChops.difference(kept.convert("RGB"), sent.convert("RGB")).getbbox() is None
    ended = post_form(client, f"/consultations/{c.id}/postings/{posting.id}/end",
                      {"ended_on": format_date(today())}, get_url=url, follow_redirects=True)
    assert "Đã ghi ngày gỡ." in ended.get_data(as_text=True)
    assert "chưa đủ 30 ngày liên tục" in ended.get_data(as_text=True)


def test_a_bad_posting_is_refused_in_vietnamese_and_nothing_is_saved(client, session):
    c = _officer(client, session)
    url = f"/consultations/{c.id}/publication"
    base = {"subject": "draft", "channel": "office", "group_id": "0", "place": "", "ended_on": "",
            "posted_on": format_date(today()), "confirmed_by": "Lê Thị Tâm"}
    for change, message in (({"posted_on": "31/02/2026"}, "Ngày không có thật trên lịch."),
                            ({"confirmed_by": ""}, "Vui lòng ghi người xác nhận."),
                            ({"channel": "house"}, "Hãy chọn khu dân cư có nhà văn hóa"),
                            ({"photo": (io.BytesIO(b"MZ\x90\x00"), "anh.jpg")}, "Ảnh chụp: Tệp “anh.jpg” không đúng")):
        r = post_form(client, url, {**base, **change}, content_type="multipart/form-data")
        assert r.status_code == 422 and message in r.get_data(as_text=True), change
    assert _postings(session) == []


def test_a_draft_posted_late_warns_on_the_consultation_page(client, session):
    """Điều 28 khoản 2: 20 days from the real publication; here the office posting comes 5 days
    after the system's publication of a 21-day consultation."""
    from datetime import timedelta

    from consult.timeutil import utcnow

    commune = make_commune(session)
    c = make_consultation(session, commune, [], now=utcnow() - timedelta(days=5, hours=1), days=21)
    secret = pyotp.random_base32()
    make_user(session, "tam.vptk", "officer", commune, totp=secret)
    session.commit()
    login(client, "tam.vptk", totp_secret=secret)
    assert "period-shortfall" not in client.get(f"/consultations/{c.id}").get_data(as_text=True)
    r = post_form(client, f"/consultations/{c.id}/publication",
                  {"subject": "draft", "channel": "office", "group_id": "0", "place": "", "ended_on": "",
                   "posted_on": format_date(today()), "confirmed_by": "Lê Thị Tâm"},
                  content_type="multipart/form-data")
    assert r.status_code == 302
    page = client.get(f"/consultations/{c.id}").get_data(as_text=True)
    assert 'id="period-shortfall"' in page and "chưa đủ 20 ngày theo Luật Thực hiện dân chủ ở cơ sở, Điều 28 khoản 2" in page

