"""The board's key shares through the pages (NĐ 59 Điều 5 khoản 1 điểm c; issue 22, attacks 4 and 8).

Each member of an online vote's Tổ lấy ý kiến picks up their own share on their own
account, once; the opener sees none and cannot count alone. An online vote's end is
fixed at opening: an early count needs a reason and a majority of the board, and the
minutes say so.
"""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta

import pyotp
from docx import Document
from sqlalchemy import func, select

from consult.audit.models import AuditEntry
from consult.audit.service import SYSTEM
from consult.polls import secrecy, service
from consult.polls.models import PHASE_VOTE, BallotBox, KeyShareEnvelope, Poll
from consult.timeutil import utcnow
from tests.support.helpers import PASSWORD, csrf_from, login, make_unit, make_user, post_form
from tests.support.polls import (board_member, choice, group_with_households, pass_consent, pick_up_all,
                                 poll_input, shares)

MEMBERS = ["Nguyễn Thị Hoa", "Lê Văn Bảy", "Trần Văn Tư", "Phạm Thị Năm"]


def _fresh(session) -> None:
    """A fresh snapshot, and fresh objects: what the pages wrote."""
    session.rollback()
    session.expire_all()


def _codes_in(text: str, poll_id: int) -> set[str]:
    return set(re.findall(rf"P{poll_id}-\d-[A-Z2-7]{{4}}(?:-[A-Z2-7]{{1,4}})+", text))


def _board(session, commune, names=MEMBERS):
    """Board members with accounts of their own (representatives of the group's Ban điều hành)."""
    unit = make_unit(session, commune, "Ban điều hành khu phố 1", kind="ban_dieu_hanh")
    return [board_member(session, commune, name, role="unit_rep", unit=unit) for name in names]


def _vote(session, commune, group, members, **extra):
    """A draft online vote whose board is ``members`` (the first leads it)."""
    committee = [service.CommitteeInput(user.full_name, "Đại diện Ban công tác Mặt trận" if i == 0 else "Thành viên",
                                        i == 0, user_id=user.id) for i, user in enumerate(members)]
    return service.create_poll(session, SYSTEM, commune, poll_input([group], committee=committee, **extra))


def _open(session, commune, group, members, **extra):
    poll = _vote(session, commune, group, members, **extra)
    service.open_poll(session, SYSTEM, poll)
    session.commit()
    return poll


def _pick_up(client, poll_id, password=PASSWORD):
    return post_form(client, f"/polls/{poll_id}/my-share", {"password": password})


def test_attack_4_the_opener_sees_no_share_and_cannot_close_the_consent_round_alone(client, session):
    """Issue 22, attack 4: a head opened a vote and got every share. Now a 5-member board with
    the head on it: the opening, and every page the head can reach, hold at most the head's own
    share; with it alone the consent round stays open."""
    commune, group = group_with_households(session, 12)
    head = make_user(session, "truong.kp1", "group_head", commune, group=group, full_name="Trần Văn Hải")
    others = _board(session, commune)
    session.commit()
    login(client, "truong.kp1")  # the head's first sign-in makes the head's pickup key
    _fresh(session)
    poll = _vote(session, commune, group, [*others[:1], session.get(type(head), head.id), *others[1:]])
    session.commit()
    pages = []
    r = post_form(client, f"/polls/{poll.id}/open", {}, get_url=f"/polls/{poll.id}")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/polls/{poll.id}")
    pages.append(r.get_data(as_text=True))
    show = client.get(f"/polls/{poll.id}").get_data(as_text=True)
    assert "Không ai nhận thay được" in show and show.count("chưa nhận") == 5 and 'id="my-share-link"' in show
    pages.append(show)
    slug = commune.slug
    for url in ("/staff", "/polls/", f"/polls/{poll.id}/edit", f"/polls/{poll.id}/my-share", f"/c/{slug}/polls/",
                f"/c/{slug}/polls/{poll.id}", f"/c/{slug}/polls/{poll.id}/record.json?phase=consent"):
        pages.append(client.get(url, follow_redirects=True).get_data(as_text=True))
    card = _pick_up(client, poll.id)
    assert card.status_code == 200
    pages.append(card.get_data(as_text=True))
    for url in (f"/polls/{poll.id}", f"/polls/{poll.id}/my-share", "/staff"):
        pages.append(client.get(url).get_data(as_text=True))
    seen = set().union(*(_codes_in(page, poll.id) for page in pages))
    assert len(seen) == 1
    [own] = seen
    assert secrecy.parse_share(poll.id, own)[0] == 2  # the head's own place on the board
    # Alone, the head does not close the consent round: three of five are needed.
    _fresh(session)
    poll = session.get(Poll, poll.id)
    ballots = service.issue_ballots(session, SYSTEM, poll)
    for ballot in ballots[:9]:
        service.cast_online(session, ballot.token, "agree")
    session.commit()
    r = post_form(client, f"/polls/{poll.id}/consent/close", {"share-2": own}, get_url=f"/polls/{poll.id}",
                  follow_redirects=True)
    assert "Cần mã khóa của ít nhất 3 thành viên" in r.get_data(as_text=True)
    _fresh(session)
    assert session.get(Poll, poll.id).phase == "consent"
    # The others' shares, picked up by them, were on none of the head's pages.
    others_codes = [c for m, c in zip(session.get(Poll, poll.id).committee, _others_pick_up(session, poll))
                    if m.user_id != head.id]
    assert len(others_codes) == 4 and not seen & set(others_codes)


def _others_pick_up(session, poll):
    """Every member but the one who already picked up: their codes in the board's order ('' for that one)."""
    from consult.polls import keycards

    poll = session.get(Poll, poll.id)
    codes = []
    for member in poll.committee:
        envelope = keycards.envelopes(session, poll)[member.id]
        codes.append(keycards.pick_up(session, SYSTEM, poll, member.user, PASSWORD).code if envelope.sealed else "")
    session.commit()
    return codes


def test_each_member_picks_up_their_own_share_once_and_nobody_else_can(app, client, session):
    commune, group = group_with_households(session, 6)
    make_user(session, "truong.kp1", "group_head", commune, group=group)
    secret = pyotp.random_base32()
    make_user(session, "quan.tri", "admin", commune, totp=secret)
    hoa, bay, tu = _board(session, commune, MEMBERS[:3])
    poll = _open(session, commune, group, [hoa, bay, tu])
    fingerprint = secrecy.key_fingerprint(poll.public_key, poll.texts_key)

    # Neither the opener nor the commune's administrator finds a share to pick up.
    login(client, "truong.kp1")
    assert client.get(f"/polls/{poll.id}/my-share").status_code == 404
    assert client.post(f"/polls/{poll.id}/my-share", data={
        "csrf_token": csrf_from(client.get("/staff").get_data(as_text=True)), "password": PASSWORD}).status_code == 404
    client.post("/auth/logout", data={"csrf_token": csrf_from(client.get("/staff").get_data(as_text=True))})
    login(client, "quan.tri", totp_secret=secret)
    assert client.get(f"/polls/{poll.id}/my-share").status_code == 404
    client.post("/auth/logout", data={"csrf_token": csrf_from(client.get("/staff").get_data(as_text=True))})

    login(client, hoa.username)
    desk = client.get("/staff").get_data(as_text=True)
    assert 'id="key-shares-waiting"' in desk and f"/polls/{poll.id}/my-share" in desk
    page = client.get(f"/polls/{poll.id}/my-share")
    assert page.status_code == 200 and "Nhận phiếu giữ khóa" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    # A wrong password: refused, and nothing erased.
    wrong = _pick_up(client, poll.id, "không-phải-mật-khẩu")
    assert wrong.status_code == 422 and "Mật khẩu không đúng." in wrong.get_data(as_text=True)
    assert not _codes_in(wrong.get_data(as_text=True), poll.id)
    _fresh(session)
    envelope = session.scalar(select(KeyShareEnvelope).where(KeyShareEnvelope.committee_member_id
                                                             == session.get(Poll, poll.id).committee[0].id))
    assert envelope.sealed is not None and envelope.picked_up_at is None
    # The right one: the card, once.
    card = _pick_up(client, poll.id)
    html = card.get_data(as_text=True)
    assert card.status_code == 200 and card.headers["Cache-Control"] == "no-store"
    [code] = _codes_in(html, poll.id)
    assert secrecy.parse_share(poll.id, code)[0] == 1
    assert fingerprint in html and "Nguyễn Thị Hoa" in html and "<svg" in html and poll.title in html
    assert "Ctrl</kbd> + <kbd>P" in html and 'id="share-card"' in html
    _fresh(session)
    envelope = session.get(KeyShareEnvelope, envelope.id)
    assert envelope.sealed is None and envelope.picked_up_at is not None
    again = _pick_up(client, poll.id)
    assert again.status_code == 410 and "phiếu chỉ hiện một lần" in again.get_data(as_text=True)
    assert not _codes_in(again.get_data(as_text=True), poll.id)
    shown = client.get(f"/polls/{poll.id}/my-share").get_data(as_text=True)
    assert 'id="picked-up"' in shown and code not in shown
    assert 'id="key-shares-waiting"' not in client.get("/staff").get_data(as_text=True)
    picked = session.scalars(select(AuditEntry).where(AuditEntry.action == "poll.key_share_picked_up")).all()
    assert len(picked) == 1 and code not in picked[0].details
    # Signed in as Hoa, Bảy's share is out of reach: only one's own envelope exists for one.
    client.post("/auth/logout", data={"csrf_token": csrf_from(client.get("/staff").get_data(as_text=True))})
    login(client, bay.username)
    other = _pick_up(client, poll.id)
    [code_bay] = _codes_in(other.get_data(as_text=True), poll.id)
    assert code_bay != code and secrecy.parse_share(poll.id, code_bay)[0] == 2


def test_a_members_own_password_change_keeps_the_share_an_administrators_reset_loses_it(client, session):
    commune, group = group_with_households(session, 6)
    secret = pyotp.random_base32()
    make_user(session, "quan.tri", "admin", commune, totp=secret)
    hoa, bay, tu = _board(session, commune, MEMBERS[:3])
    poll = _open(session, commune, group, [hoa, bay, tu])

    login(client, hoa.username)
    new_password = "mật-khẩu-mới-của-hoa"
    r = post_form(client, "/auth/account", {"current": PASSWORD, "new": new_password, "confirm": new_password},
                  follow_redirects=True)
    assert "Đã đổi mật khẩu." in r.get_data(as_text=True)
    assert _pick_up(client, poll.id).status_code == 422  # the old password opens nothing now
    card = _pick_up(client, poll.id, new_password)
    assert card.status_code == 200 and len(_codes_in(card.get_data(as_text=True), poll.id)) == 1

    client.post("/auth/logout", data={"csrf_token": csrf_from(client.get("/staff").get_data(as_text=True))})
    login(client, "quan.tri", totp_secret=secret)
    edit = f"/admin/users/{bay.id}/edit"
    assert "còn 1 phiếu giữ khóa chưa nhận" in client.get(edit).get_data(as_text=True)
    r = post_form(client, edit, {"active": "y", "new_password": "đặt-lại-bởi-quản-trị"}, follow_redirects=True)
    assert "1 phiếu giữ khóa chưa nhận của tài khoản này đã mất" in r.get_data(as_text=True)
    client.post("/auth/logout", data={"csrf_token": csrf_from(client.get("/staff").get_data(as_text=True))})
    client.post("/auth/login", data={"csrf_token": csrf_from(client.get("/auth/login").get_data(as_text=True)),
                                     "username": bay.username, "password": "đặt-lại-bởi-quản-trị"})
    lost = client.get(f"/polls/{poll.id}/my-share").get_data(as_text=True)
    assert 'id="lost"' in lost and 'id="pickup-form"' not in lost
    assert _pick_up(client, poll.id, "đặt-lại-bởi-quản-trị").status_code == 410
    _fresh(session)
    assert session.get(type(bay), bay.id).pickup_public_key is not None  # a new key for the next votes


def test_attack_8_an_early_close_needs_a_reason_and_a_majority_and_the_minutes_say_so(client, session):
    """Issue 22, attack 8: a head closed an online vote ten days before the end printed on its
    slips, at 3 of 120 households. Without a reason nothing happens; with one and a majority of the
    board the count runs and the minutes and the decision state the early stop and its reason."""
    commune, group = group_with_households(session, 120)
    make_user(session, "truong.kp1", "group_head", commune, group=group)
    members = _board(session, commune, MEMBERS[:3])
    poll = _vote(session, commune, group, members, days=10, start=utcnow() - timedelta(minutes=5))
    service.open_poll(session, SYSTEM, poll)
    codes = pick_up_all(session, poll)
    from tests.support.polls import KEY_SHARES

    KEY_SHARES[poll.id] = codes
    assert pass_consent(session, poll)
    ballots = service.issue_ballots(session, SYSTEM, poll)
    for ballot in ballots[:3]:
        service.cast_online(session, ballot.token, choice(poll, "agree"))
    session.commit()
    login(client, "truong.kp1")
    url = f"/polls/{poll.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'id="early-warning"' in page and "Kết thúc sớm và tính kết quả" in page

    def audit_count():
        return session.scalar(select(func.count()).select_from(AuditEntry))

    before = audit_count()
    r = post_form(client, f"{url}/close", {"share-1": codes[0], "share-2": codes[1]}, get_url=url,
                  follow_redirects=True)
    assert "Chưa đến thời điểm kết thúc đã định" in r.get_data(as_text=True)
    r = post_form(client, f"{url}/close", {"share-1": codes[0], "early_stop_reason": "Tổ thống nhất dừng"},
                  get_url=url, follow_redirects=True)
    assert "Cần mã khóa của ít nhất 2 thành viên" in r.get_data(as_text=True)
    _fresh(session)
    poll = session.get(Poll, poll.id)
    assert poll.status == "open" and poll.early_stopped_at is None and poll.decided_at is None
    assert session.scalar(select(BallotBox).where(BallotBox.poll_id == poll.id, BallotBox.phase == PHASE_VOTE)) is None
    assert audit_count() == before

    reason = "Khu phố phải sửa cổng gấp trước mùa mưa; Tổ lấy ý kiến thống nhất kết thúc sớm"
    r = post_form(client, f"{url}/close", {"share-1": codes[0], "share-3": codes[2], "early_stop_reason": reason},
                  get_url=url, follow_redirects=True)
    page = r.get_data(as_text=True)
    assert "Không thông qua: 3/120 hộ đồng ý" in page and f"lý do: {reason}" in page
    _fresh(session)
    poll = session.get(Poll, poll.id)
    assert poll.status == "decided" and poll.early_stop_reason == reason and poll.early_stopped_at < poll.closes_at
    decide = session.scalar(select(AuditEntry).where(AuditEntry.action == "poll.decide"))
    assert json.loads(decide.details)["early_stop"]["reason"] == reason
    assert json.loads(decide.details)["early_stop"]["board"] == [MEMBERS[0], MEMBERS[2]]
    for doc in ("minutes", "decision"):
        document = Document(io.BytesIO(client.get(f"{url}/{doc}.docx").data))
        text = "\n".join(p.text for p in document.paragraphs)
        assert "Cuộc biểu quyết kết thúc sớm lúc" in text and "trước thời điểm kết thúc đã định" in text, doc
        assert f"Lý do kết thúc sớm: {reason}." in text and "đa số Tổ lấy ý kiến" in text, doc
    assert not session.scalars(select(KeyShareEnvelope).where(KeyShareEnvelope.sealed.is_not(None))).all()


def test_a_vote_closed_at_its_end_needs_no_reason_and_its_minutes_say_nothing_of_an_early_stop(client, session):
    commune, group = group_with_households(session, 4)
    members = _board(session, commune, MEMBERS[:3])
    poll = _open(session, commune, group, members)
    from tests.support.polls import KEY_SHARES, close

    KEY_SHARES[poll.id] = pick_up_all(session, poll)
    pass_consent(session, poll)
    for ballot in service.issue_ballots(session, SYSTEM, poll)[:3]:
        service.cast_online(session, ballot.token, choice(poll, "agree"))
    result = close(session, poll)
    session.commit()
    assert result.passed and poll.early_stopped_at is None and poll.early_stop_reason is None
    from consult.polls import documents

    text = "\n".join(p.text for p in Document(io.BytesIO(documents.minutes_docx(session, poll))).paragraphs)
    assert "kết thúc sớm" not in text
    assert shares(poll)


def _card_photo(code: str, *, angle: float = 6, quality: int = 70) -> bytes:
    """A phone's photo of a printed card: the QR code of ``code`` on paper on a desk, a little
    turned, JPEG-compressed."""
    import qrcode
    from PIL import Image

    qr = qrcode.make(code).convert("RGB").resize((520, 520))
    photo = Image.new("RGB", (1600, 1200), (214, 206, 190))
    photo.paste(qr, (520, 320))
    photo = photo.rotate(angle, expand=True, fillcolor=(96, 84, 70))
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=quality)
    return out.getvalue()


def _close_with(client, url, fields: dict, photos: dict[str, tuple[bytes, str]]):
    page = client.get(url).get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), **fields,
            **{key: (io.BytesIO(content), name) for key, (content, name) in photos.items()}}
    return client.post(f"{url}/consent/close", data=data, content_type="multipart/form-data", follow_redirects=True)


def test_the_board_closes_with_photos_of_its_cards_not_typed_codes(client, session):
    """Issue #28 point 6: at the close a member shows the phone's camera their printed card; the
    QR code read from the photo is their share, as if typed. A photo without a readable code, or
    a file that is no photo, is refused naming the member, and nothing is counted."""
    commune, group = group_with_households(session, 4)
    make_user(session, "truong.kp1", "group_head", commune, group=group)
    members = _board(session, commune, MEMBERS[:3])
    poll = _vote(session, commune, group, members, start=utcnow() - timedelta(minutes=5))
    service.open_poll(session, SYSTEM, poll)
    codes = pick_up_all(session, poll)
    session.commit()
    login(client, "truong.kp1")
    url = f"/polls/{poll.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and 'capture="environment"' in page

    blank = io.BytesIO()
    from PIL import Image

    Image.new("RGB", (800, 600), (240, 240, 240)).save(blank, "PNG")
    for photo, message in (((blank.getvalue(), "anh.png"), "Không đọc được mã QR trong ảnh phiếu giữ khóa của Lê Văn Bảy"),
                           ((b"%PDF-1.4 not a photo", "phieu.pdf"), "không phải ảnh chụp đọc được")):
        r = _close_with(client, url, {"share-1": codes[0]}, {"share-photo-2": photo})
        assert message in r.get_data(as_text=True)
        _fresh(session)
        assert _consent_box(session, poll.id) is None
    # A photo of each card, no code typed: the round closes.
    r = _close_with(client, url, {}, {"share-photo-1": (_card_photo(codes[0]), "IMG_0001.jpg"),
                                      "share-photo-3": (_card_photo(codes[2], angle=-9), "IMG_0002.jpg")})
    assert "Đã kết thúc và kiểm phiếu vòng lấy ý kiến" in r.get_data(as_text=True)
    _fresh(session)
    assert _consent_box(session, poll.id) is not None


def _consent_box(session, poll_id):
    return session.scalar(select(BallotBox).where(BallotBox.poll_id == poll_id, BallotBox.phase == "consent"))


def test_only_the_key_card_page_carries_a_script_and_only_this_sites(client, session):
    """The card's print button is the one script of the site, served from static/: its page's
    policy allows 'self' and nothing else; every other page keeps script-src 'none'."""
    commune, group = group_with_households(session, 4)
    members = _board(session, commune, MEMBERS[:3])
    poll = _vote(session, commune, group, members)
    service.open_poll(session, SYSTEM, poll)
    session.commit()
    login(client, members[0].username)
    assert "script-src 'none'" in client.get(f"/polls/{poll.id}/my-share").headers["Content-Security-Policy"]
    card = _pick_up(client, poll.id)
    policy = card.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy and "http" not in policy
    html = card.get_data(as_text=True)
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/js/print-card.js" defer>']
    assert 'id="print-card" data-print hidden' in html  # hidden until the script shows it
    assert client.get("/static/js/print-card.js").status_code == 200


def test_an_upload_never_touches_the_disk_however_large(app, tmp_path, monkeypatch):
    """A photo of a key card (or a register, a signed draft) over Werkzeug's 500 KB spooling
    threshold stays in memory: no temporary file is made for it."""
    import tempfile

    from flask import request

    made = []
    real = tempfile.SpooledTemporaryFile
    monkeypatch.setattr(tempfile, "SpooledTemporaryFile", lambda *a, **k: made.append(1) or real(*a, **k))
    monkeypatch.setattr(tempfile, "TemporaryFile", lambda *a, **k: made.append(1) or real(*a, **k))
    photo = b"\xff\xd8\xff" + bytes(range(256)) * 8000  # 2 MB
    with app.test_request_context("/x", method="POST", content_type="multipart/form-data",
                                  data={"share-photo-1": (io.BytesIO(photo), "IMG_0001.jpg")}):
        upload = request.files["share-photo-1"]
        assert upload.read() == photo and isinstance(upload.stream, io.BytesIO)
    assert made == []
