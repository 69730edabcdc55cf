"""The hương ước pages (NĐ 61/2023 Điều 9, 10; Luật Điều 15 khoản 3, Điều 21 khoản 2): the group
head drafts and posts it, households comment on the public page, the meeting is called and held
on the vote pages, the recognised text is published; bad input changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from consult.audit.service import SYSTEM
from consult.covenants import service
from consult.covenants.models import Covenant, CovenantComment
from consult.polls import service as polls
from consult.timeutil import format_datetime, local_date, utcnow
from tests.support.helpers import csrf_from, fits_its_columns, login, make_user, post_form
from tests.support.polls import group_with_households

TEXT = "Điều 1. Phạm vi\nHương ước này quy định việc giữ gìn vệ sinh chung của khu phố."


def _fresh(session):
    session.rollback()
    session.expire_all()


def test_the_head_drafts_posts_and_calls_the_meeting_and_households_comment(client, session):
    commune, group = group_with_households(session, 4)
    make_user(session, "truong.kp1", "group_head", commune, group=group)
    session.commit()
    login(client, "truong.kp1")
    r = post_form(client, "/covenants/", {"group_id": str(group.id), "kind": "huong_uoc",
                                          "title": "Hương ước khu phố 1", "text": TEXT, "amends_id": ""},
                  follow_redirects=True)
    assert "Đã lưu dự thảo." in r.get_data(as_text=True)
    _fresh(session)
    covenant = session.scalar(select(Covenant))
    url = f"/covenants/{covenant.id}"
    short = post_form(client, url, {"action": "open",
                                    "open-closes_at": format_datetime(utcnow() + timedelta(days=20))})
    assert short.status_code == 422 and "Nghị định 61/2023/NĐ-CP, Điều 9" in short.get_data(as_text=True)
    r = post_form(client, url, {"action": "open", "open-closes_at": format_datetime(utcnow() + timedelta(days=31))},
                  follow_redirects=True)
    assert "Đã công khai dự thảo để lấy ý kiến hộ gia đình." in r.get_data(as_text=True)
    public = f"/c/{commune.slug}/covenants/{covenant.id}"
    client.get("/auth/logout")
    assert "Hương ước khu phố 1" in client.get(f"/c/{commune.slug}/covenants/").get_data(as_text=True)
    refused = post_form(client, public, {"name": "", "address": "Số 2", "text": "Ý kiến"})
    assert refused.status_code == 422 and "Vui lòng nhập họ tên." in refused.get_data(as_text=True)
    r = post_form(client, public, {"name": "Nguyễn Văn An", "address": "Số 2, khu phố 1",
                                   "text": "Đề nghị quy định giờ đổ rác."}, follow_redirects=True)
    assert "Cảm ơn! Ý kiến của hộ đã được ghi nhận." in r.get_data(as_text=True)
    page = r.get_data(as_text=True)
    assert "đã nhận 1 ý kiến" in page and "Nguyễn Văn An" not in page  # names are not published
    _fresh(session)
    assert session.query(CovenantComment).count() == 1
    login(client, "truong.kp1")
    staff = client.get(url).get_data(as_text=True)
    assert "Đề nghị quy định giờ đổ rác." in staff and "Nguyễn Văn An" in staff
    # A household that answered on paper: the head types its comment in.
    r = post_form(client, url, {"action": "paper", "paper-name": "Trần Thị Bình", "paper-address": "Số 9, khu phố 1",
                                "paper-text": "Nhất trí với dự thảo."}, follow_redirects=True)
    assert "Đã ghi ý kiến nhận bằng văn bản." in r.get_data(as_text=True) and "văn bản" in r.get_data(as_text=True)
    _fresh(session)
    assert [m.channel for m in service.comments(session, covenant)] == ["online", "paper"]
    # The comment period has not ended: no meeting form yet; a forged post is refused.
    day = utcnow() + timedelta(days=32)
    early = post_form(client, url, {"action": "meeting", "meeting-final_text": TEXT,
                                    "meeting-opens_at": format_datetime(day),
                                    "meeting-closes_at": format_datetime(day + timedelta(hours=2)),
                                    "meeting-announced_on": ""})
    assert early.status_code == 422 and "Chưa hết thời gian lấy ý kiến hộ gia đình" in early.get_data(as_text=True)


def test_the_recognised_text_is_published_with_its_decision(client, session):
    commune, group = group_with_households(session, 4)
    start = utcnow() - timedelta(days=40)
    covenant = service.create(session, SYSTEM, commune, group_id=group.id, kind="huong_uoc",
                              title="Hương ước khu phố 1", text=TEXT, now=start)
    service.open_comments(session, SYSTEM, covenant, start + timedelta(days=30), now=start)
    day = start + timedelta(days=32)
    poll = service.call_meeting(session, SYSTEM, covenant, service.MeetingInput(
        TEXT + "\nĐiều 2. Giờ đổ rác từ 18 giờ đến 20 giờ.", day, day + timedelta(hours=2),
        local_date(day) - timedelta(days=3)), now=day - timedelta(days=1))
    polls.open_poll(session, SYSTEM, poll, now=day)
    for h in session.scalars(select(polls.PollHousehold).where(polls.PollHousehold.poll_id == poll.id)):
        polls.check_in(session, SYSTEM, poll, poll_household_id=h.id)
    agree = next(c.id for c in poll.choices if c.kind == "agree")
    polls.record_meeting_count(session, SYSTEM, poll, counts={agree: 3}, method="hands", now=day)
    polls.close_poll(session, SYSTEM, poll, now=day + timedelta(hours=1))
    polls.record_received(session, SYSTEM, poll, local_date(day) + timedelta(days=1))
    polls.recognise(session, SYSTEM, poll, number="15/QĐ-UBND", on=local_date(day) + timedelta(days=2))
    session.commit()
    page = client.get(f"/c/{commune.slug}/covenants/{covenant.id}").get_data(as_text=True)
    assert "Đã được công nhận" in page and "Quyết định số 15/QĐ-UBND" in page
    assert "Giờ đổ rác từ 18 giờ đến 20 giờ." in page and 'id="comment-form"' not in page
    shut = post_form(client, f"/c/{commune.slug}/covenants/{covenant.id}",
                     {"name": "A", "address": "B", "text": "C"}, get_url="/b/")
    assert shut.status_code == 422 and "không trong thời gian lấy ý kiến" in shut.get_data(as_text=True)
    assert client.get(f"/c/{commune.slug}/covenants/999999").status_code == 404


# --- fuzzing the public comment form: no input ends in HTTP 500, none is half saved -----------

_tricky = st.sampled_from(["\x00", "\r\n", "\t", "ß", "\u0958", "\ufeff", "'", '"', "<script>", "Nguyễn Văn An", " "])
_texts = st.lists(st.one_of(st.text(max_size=40), _tricky), max_size=8).map("".join)
_long = st.one_of(_texts, st.integers(150, 300).map(lambda n: "Đ" * n), st.integers(4990, 5010).map(lambda n: "a" * n))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=_long, address=_long, text=_long)
def test_fuzz_the_public_comment_form(app, client, session, name, address, text):
    """NĐ 61/2023 Điều 9 khoản 2 điểm b, comments online: any input ends in a saved comment that fits
    PostgreSQL's columns, or in a Vietnamese refusal with nothing saved."""
    app.config.update(PUBLIC_POST_RATE_LIMIT="100000 per hour", PUBLIC_POST_DEVICE_LIMIT="100000 per hour")
    world = getattr(test_fuzz_the_public_comment_form, "_world", None)
    if world is None or world[0] != id(session):
        commune, group = group_with_households(session, 2)
        covenant = service.create(session, SYSTEM, commune, group_id=group.id, kind="huong_uoc",
                                  title="Hương ước khu phố 1", text=TEXT)
        service.open_comments(session, SYSTEM, covenant, utcnow() + timedelta(days=31))
        session.commit()
        world = test_fuzz_the_public_comment_form._world = (id(session), commune.slug, covenant.id)
    _, slug, covenant_id = world
    url = f"/c/{slug}/covenants/{covenant_id}"
    token = csrf_from(client.get(url).get_data(as_text=True))
    _fresh(session)
    before = session.query(CovenantComment).count()
    r = client.post(url, data={"csrf_token": token, "name": name, "address": address, "text": text})
    assert r.status_code in (302, 400, 422), r.status_code
    _fresh(session)
    after = session.query(CovenantComment).count()
    if r.status_code == 302:
        assert after == before + 1
        fits_its_columns(session.scalars(select(CovenantComment).order_by(CovenantComment.id.desc())).first())
    else:
        assert after == before
