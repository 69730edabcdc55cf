"""Votes through the pages: creating, the household's ballot, slips, documents, public results."""

import io
import re
from datetime import timedelta

import pyotp
from docx import Document
from sqlalchemy import func, select

from consult.audit.service import SYSTEM
from consult.polls import service
from consult.polls.models import BallotToken, Participation, Poll, PollHousehold
from consult.timeutil import format_date, format_datetime, today, utcnow
from tests.support.helpers import csrf_from, login, make_user, post_form
from tests.support.polls import choice, close, group_with_households, hand_in_paper, open_vote, pass_consent


def _head(session, households=10):
    commune, group = group_with_households(session, households)
    make_user(session, "truong.kp1", "group_head", commune, group=group)
    session.commit()
    return commune, group


def _form(group, **extra):
    now = utcnow()
    data = {"title": "Bầu Trưởng ban điều hành khu phố 1", "question": "Bầu ông A làm Trưởng ban?",
            "matter_kind": "k4", "form_kind": "online", "group_ids": [str(group.id)],
            "opens_at": format_datetime(now + timedelta(minutes=5)),
            "closes_at": format_datetime(now + timedelta(days=5)),
            "agreed_unnecessary_on": "01/11/2026", "reported_on": "02/11/2026", "devices_confirmed": "y",
            "committee-0-name": "Nguyễn Thị Hoa", "committee-0-role": "Đại diện Ban công tác Mặt trận",
            "committee-0-is_leader": "y", "committee-1-name": "B", "committee-1-role": "Thành viên",
            "committee-2-name": "C", "committee-2-role": "Thành viên"}
    data.update(extra)
    return data


def test_online_vote_on_khoan_4_refused_on_the_page_and_nothing_saved(client, session):
    _, group = _head(session)
    login(client, "truong.kp1")
    r = post_form(client, "/polls/new", _form(group))
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and "Không được biểu quyết trực tuyến nội dung thuộc khoản 4" in page
    # Shown again at the step of the form, offering only what the law allows for khoản 4: a meeting.
    assert 'id="step-form"' in page and 'value="meeting"' in page and 'value="online"' not in page
    assert session.scalar(select(func.count()).select_from(Poll)) == 0
    r = post_form(client, "/polls/new", _form(group, matter_kind="k6"))
    assert r.status_code == 302


def _ballot_post(client, token, step, choice_value, other="", **headers):
    """A household's step on its link: the link's token is its credential, no session CSRF token."""
    return client.post(f"/b/{token}", data={"step": step, "choice": str(choice_value), "other_text": other},
                       headers=headers)


def test_household_votes_with_confirmation_receipt_and_second_attempt(client, session):
    commune, group = _head(session)
    poll = open_vote(session, commune, [group])
    pass_consent(session, poll)
    ballots = service.issue_ballots(session, SYSTEM, poll)
    session.commit()
    token = ballots[0].token
    page = client.get(f"/b/{token}").get_data(as_text=True)
    assert "Hộ <strong>KP1-001</strong>" in page and poll.question in page and "<script" not in page
    assert "csrf_token" not in page  # nor a session cookie: the link is the household's credential
    review = _ballot_post(client, token, "review", choice(poll, "agree"))
    assert "Xác nhận biểu quyết" in review.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Participation).where(Participation.phase == "vote")) == 0
    done = _ballot_post(client, token, "confirm", choice(poll, "agree"))
    receipt = re.search(r'id="receipt">([A-Z0-9-]+)<', done.get_data(as_text=True)).group(1)
    assert "Hộ này đã biểu quyết ngày" in client.get(f"/b/{token}").get_data(as_text=True)
    again = _ballot_post(client, token, "confirm", choice(poll, "disagree"))
    assert again.status_code == 409 and "Hộ này đã biểu quyết ngày" in again.get_data(as_text=True)
    public = client.get(f"/c/{commune.slug}/polls/{poll.id}?receipt={receipt}").get_data(as_text=True)
    assert "nằm trong danh sách đã được đếm" in public
    wrong = _ballot_post(client, ballots[1].token, "confirm", 999999)
    assert wrong.status_code == 422 and "không thuộc cuộc biểu quyết" in wrong.get_data(as_text=True)


def test_manual_code_and_bad_tokens(app, client, session):
    commune, group = _head(session)
    poll = open_vote(session, commune, [group])
    pass_consent(session, poll)
    ballots = service.issue_ballots(session, SYSTEM, poll)
    session.commit()
    r = post_form(client, "/b/", {"code": ballots[2].code.lower().replace("-", "")})
    assert r.status_code == 200 and "KP1-003" in r.get_data(as_text=True)
    r = client.get("/b/ma-khong-ton-tai")
    assert r.status_code == 404 and "Mã phiếu không đúng" in r.get_data(as_text=True)
    service.issue_ballots(session, SYSTEM, poll, household_ids=[ballots[3].household.id])
    session.commit()
    r = client.get(f"/b/{ballots[3].token}")
    assert r.status_code == 404 and "đã bị hủy" in r.get_data(as_text=True)


def test_token_guessing_is_rate_limited_per_address(app, client, session):
    app.config["TOKEN_RATE_LIMIT"] = "5 per 10 minutes"
    for i in range(5):
        assert client.get(f"/b/doan-{i}").status_code == 404
    r = client.get("/b/doan-6")
    assert r.status_code == 429 and "quá nhiều lần" in r.get_data(as_text=True)


def test_a_real_ballot_link_is_never_refused_for_its_address(app, client, session):
    """One household guessing links behind a village's shared address must not stop its
    neighbours: once the address is over its limit, guesses get 429, real links and codes
    open and vote."""
    app.config["TOKEN_RATE_LIMIT"] = "5 per 10 minutes"
    commune, group = _head(session)
    poll = open_vote(session, commune, [group])
    pass_consent(session, poll)
    ballots = service.issue_ballots(session, SYSTEM, poll)
    session.commit()
    for i in range(5):
        assert client.get(f"/b/doan-{i}").status_code == 404
    assert client.get("/b/doan-6").status_code == 429
    assert post_form(client, "/b/", {"code": "ABCDE-23456"}).status_code == 429
    neighbour = app.test_client()
    assert neighbour.get(f"/b/{ballots[0].token}").status_code == 200
    assert _ballot_post(neighbour, ballots[0].token, "confirm", choice(poll, "agree")).status_code == 200
    assert post_form(neighbour, "/b/", {"code": ballots[1].code}).status_code == 200
    session.rollback()
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Participation).where(Participation.phase == "vote")) == 1


def test_failed_posts_are_counted_per_ballot_token(app, client, session):
    """A real link's failed posts count against that link alone (TOKEN_FAILURE_RATE_LIMIT)."""
    app.config["TOKEN_FAILURE_RATE_LIMIT"] = "3 per 10 minutes"
    commune, group = _head(session)
    poll = open_vote(session, commune, [group])
    pass_consent(session, poll)
    ballots = service.issue_ballots(session, SYSTEM, poll)
    session.commit()
    for _ in range(3):
        assert _ballot_post(client, ballots[0].token, "confirm", 999999).status_code == 422
    assert _ballot_post(client, ballots[0].token, "confirm", choice(poll, "agree")).status_code == 429
    assert client.get(f"/b/{ballots[0].token}").status_code == 200  # reading it is not a failure
    assert _ballot_post(client, ballots[1].token, "confirm", choice(poll, "agree")).status_code == 200


def test_the_ballot_page_follows_the_vote_through_its_phases(client, session):
    """The page's vote is read with the token on every request (only its fixed texts, choices and
    keys are kept between requests): the consent round, then the vote, then its close, on one link;
    a household that answered the consent round has not voted yet."""
    from tests.support.polls import shares

    commune, group = _head(session)
    poll = open_vote(session, commune, [group])
    ballots = service.issue_ballots(session, SYSTEM, poll)
    session.commit()
    token = ballots[0].token
    page = client.get(f"/b/{token}").get_data(as_text=True)
    assert "Đồng ý biểu quyết trực tuyến?" in page and poll.question not in page
    for ballot in ballots:
        service.cast_online(session, ballot.token, "agree")
    service.close_consent(session, SYSTEM, poll, shares=shares(poll))
    session.commit()
    page = client.get(f"/b/{token}").get_data(as_text=True)
    assert poll.question in page and "Đồng ý biểu quyết trực tuyến?" not in page
    assert "Hộ này đã biểu quyết" not in page and 'name="choice"' in page
    done = _ballot_post(client, token, "confirm", choice(poll, "agree"))
    assert 'id="receipt"' in done.get_data(as_text=True)
    assert "Hộ này đã biểu quyết ngày" in client.get(f"/b/{token}").get_data(as_text=True)
    close(session, poll)
    session.commit()
    page = client.get(f"/b/{ballots[1].token}").get_data(as_text=True)
    assert "Cuộc biểu quyết đã kết thúc" in page and 'name="choice"' not in page
    r = _ballot_post(client, ballots[1].token, "confirm", choice(poll, "agree"))
    assert r.status_code == 410


def test_a_ballot_sent_from_another_site_is_refused(client, session):
    """The household's link is its credential, so its steps carry no session CSRF token; a post
    the browser marks as sent from another page (Sec-Fetch-Site, else Origin) records nothing."""
    commune, group = _head(session)
    poll = open_vote(session, commune, [group])
    pass_consent(session, poll)
    ballots = service.issue_ballots(session, SYSTEM, poll)
    session.commit()
    agree = choice(poll, "agree")
    page = client.get(f"/b/{ballots[0].token}")
    assert page.status_code == 200 and "Set-Cookie" not in page.headers
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
                    {"Origin": "https://ke-gian.example"}, {"Origin": "null"}):
        r = _ballot_post(client, ballots[0].token, "confirm", agree, **headers)
        assert r.status_code == 403 and "trang phiếu biểu quyết của hệ thống" in r.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Participation).where(Participation.phase == "vote")) == 0
    r = _ballot_post(client, ballots[0].token, "confirm", agree, **{"Sec-Fetch-Site": "same-origin"})
    assert r.status_code == 200 and 'id="receipt"' in r.get_data(as_text=True)
    r = _ballot_post(client, ballots[1].token, "confirm", agree, Origin="http://localhost")
    assert r.status_code == 200 and 'id="receipt"' in r.get_data(as_text=True)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Participation).where(Participation.phase == "vote")) == 2


def test_closed_vote_refuses_the_ballot(client, session):
    commune, group = _head(session)
    poll = open_vote(session, commune, [group])
    pass_consent(session, poll)
    ballots = service.issue_ballots(session, SYSTEM, poll)
    close(session, poll)
    session.commit()
    r = client.get(f"/b/{ballots[0].token}")
    assert "Cuộc biểu quyết đã kết thúc" in r.get_data(as_text=True)
    r = _ballot_post(client, ballots[0].token, "confirm", choice(poll, "agree"))
    assert r.status_code == 410 and "đã kết thúc" in r.get_data(as_text=True)


def test_committee_records_stubs_then_the_count_of_the_box(client, session):
    """Paper ballots (Luật Điều 19, NĐ 59 Điều 4): the stub says who took part; the box is counted by totals."""
    commune, group = _head(session)
    poll = open_vote(session, commune, [group], form="ballot", chosen_by_head_and_front=True)
    ballots = service.issue_ballots(session, SYSTEM, poll)
    session.commit()
    token = ballots[0].token
    assert "Đây là phiếu giấy" in client.get(f"/b/{token}").get_data(as_text=True)
    login(client, "truong.kp1")
    page = client.get(f"/b/{token}").get_data(as_text=True)
    assert "Ghi cuống phiếu của hộ KP1-001" in page and 'name="choice"' not in page
    # The staff's step acts on their signed-in session: it needs the session's CSRF token.
    forged = client.post(f"/b/{token}", data={"step": "stub"})
    assert forged.status_code == 400 and "Phiên làm việc đã hết hạn" in forged.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Participation)) == 0
    r = client.post(f"/b/{token}", data={"csrf_token": csrf_from(page), "step": "stub"})
    assert r.status_code == 302
    url = f"/polls/{poll.id}/slips"
    r = post_form(client, url, {"stub-code": ballots[1].code}, follow_redirects=True)
    assert "Đã ghi cuống phiếu của hộ KP1-002" in r.get_data(as_text=True)
    r = post_form(client, url, {"stub-code": ballots[1].code}, follow_redirects=True)
    assert "đã được ghi trước đó" in r.get_data(as_text=True) and 'id="stubs">2/10' in r.get_data(as_text=True)
    count = {"action": "count", "count-group_id": str(group.id), "count-issued": "10", "count-returned": "2",
             "count-valid": "2", "count-invalid": "0", f"choice-{choice(poll, 'agree')}": "1",
             f"choice-{choice(poll, 'disagree')}": "0", f"choice-{choice(poll, 'other')}": "0",
             "count-counters": "Nguyễn Thị Hoa\nLê Văn Bảy", "count-witnesses": "Hộ A\nHộ B",
             "count-place": "Nhà văn hóa"}
    r = post_form(client, url, count, follow_redirects=True)
    assert "phải bằng số phiếu hợp lệ" in r.get_data(as_text=True)
    assert not service.paper_counts(session, poll)
    count[f"choice-{choice(poll, 'disagree')}"] = "1"
    r = post_form(client, url, count, follow_redirects=True)
    assert "Đã ghi biên bản kiểm phiếu" in r.get_data(as_text=True) and 'id="paper-counts"' in r.get_data(as_text=True)
    r = post_form(client, f"/polls/{poll.id}/close", {}, get_url=f"/polls/{poll.id}", follow_redirects=True)
    assert "1/10 hộ đồng ý" in r.get_data(as_text=True)


def test_ballots_pdf_and_decision_documents(client, session):
    commune, group = _head(session)
    poll = open_vote(session, commune, [group], form="ballot", chosen_by_head_and_front=True)
    session.commit()
    login(client, "truong.kp1")
    page = client.get(f"/polls/{poll.id}").get_data(as_text=True)
    pdf = client.post(f"/polls/{poll.id}/ballots.pdf", data={"csrf_token": csrf_from(page)})
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    ballots = service.issue_ballots(session, SYSTEM, poll)
    hand_in_paper(session, poll, ballots[:7], {group.id: {choice(poll, "agree"): 6, choice(poll, "other"): 1}},
                  other_texts=["Nên lắp thêm đèn"])
    close(session, poll)
    session.commit()
    decision = Document(io.BytesIO(client.get(f"/polls/{poll.id}/decision.docx").data))
    text = "\n".join(p.text for p in decision.paragraphs) + "\n".join(
        c.text for t in decision.tables for row in t.rows for c in row.cells)
    for item in ("BIÊN BẢN", "Kết quả lấy ý kiến hộ gia đình bằng phiếu của cộng đồng dân cư Khu phố 1",
                 "/BB-CĐDC", "1. Thời gian", "Tổng số hộ gia đình: 10; số đại diện hộ gia đình tham gia: 7; số hộ "
                 "không có đại diện tham gia: 3", "3. Nội dung", "5. Hình thức: Phát phiếu", "6. Kết quả",
                 "7. Quyết định: Thông qua", "TRƯỞNG KHU PHỐ", "TRƯỞNG BAN CÔNG TÁC MẶT TRẬN", "ĐẠI DIỆN HỘ GIA ĐÌNH",
                 "05 ngày làm việc", "Nơi nhận:", "- UBND phường Bình An;", "- Ủy ban MTTQ Việt Nam phường Bình An;"):
        assert item in text, item
    assert "QUYẾT ĐỊNH" not in text and "TRƯỞNG KHU DÂN CƯ" not in text
    minutes = Document(io.BytesIO(client.get(f"/polls/{poll.id}/minutes.docx").data))
    text = "\n".join(p.text for p in minutes.paragraphs)
    cells = [[c.text for c in row.cells] for t in minutes.tables for row in t.rows]
    # The list of households who took part is asked only of online votes (NĐ 59 Điều 5 khoản 4).
    assert ["1", "KP1-001", "Đại diện hộ KP1-001", "Số 1, Khu phố 1"] not in cells and "Nên lắp thêm đèn" in text
    assert ["Khu phố 1", "10", "7", "7", "0", "6", "0", "1"] in cells


def test_meeting_too_small_offers_paper_ballots(client, session):
    commune, group = _head(session)
    poll = open_vote(session, commune, [group], matter="k3", form="meeting")
    session.commit()
    login(client, "truong.kp1")
    households = client.get(f"/polls/{poll.id}/meeting").get_data(as_text=True)
    assert "Số hộ có mặt chưa đủ" in households
    r = post_form(client, f"/polls/{poll.id}/close", {}, get_url=f"/polls/{poll.id}", follow_redirects=True)
    page = r.get_data(as_text=True)
    assert "Không đủ số hộ tham dự" in page and "Phát phiếu lấy ý kiến cho cùng nội dung" in page
    r = post_form(client, f"/polls/{poll.id}/follow-up", {}, get_url=f"/polls/{poll.id}")
    assert r.headers["Location"].endswith(f"/polls/new?after={poll.id}")
    r = post_form(client, f"/polls/new?after={poll.id}", _form(group, matter_kind="k3", form_kind="ballot"),
                  get_url=f"/polls/new?after={poll.id}")
    assert r.status_code == 302
    follow = session.scalar(select(Poll).where(Poll.follows_meeting_id == poll.id))
    assert follow.form == "ballot" and follow.matter_kind == "k3"


def test_public_results_show_chart_and_participants_never_choices(client, session):
    commune, group = _head(session)
    poll = open_vote(session, commune, [group])
    pass_consent(session, poll)
    ballots = service.issue_ballots(session, SYSTEM, poll)
    for b in ballots[:6]:
        service.cast_online(session, b.token, choice(poll, "agree"))
    close(session, poll)
    session.commit()
    page = client.get(f"/c/{commune.slug}/polls/{poll.id}").get_data(as_text=True)
    assert "<svg" in page and "6/10 hộ đồng ý, cần ít nhất 6" in page and "KP1-006" in page
    assert 'id="bulletin"' in page and page.count("<li><code>") == 6  # the public bulletin of ballots
    participants = re.findall(r"KP1-0\d\d", page.split('id="bulletin"')[0])
    assert sorted(set(participants)) == [f"KP1-{i:03d}" for i in range(1, 7)]


def test_the_result_of_an_ended_vote_is_counted_once_for_the_public_page(client, session, monkeypatch):
    """A closed vote's result never changes: the public page, asked for on every visit, counts it once."""
    from consult.polls import counting

    commune, group = _head(session)
    poll = open_vote(session, commune, [group])
    pass_consent(session, poll)
    for b in service.issue_ballots(session, SYSTEM, poll)[:6]:
        service.cast_online(session, b.token, choice(poll, "agree"))
    close(session, poll)
    session.commit()
    url = f"/c/{commune.slug}/polls/{poll.id}"
    first = client.get(url).get_data(as_text=True)

    def counted_again(*args, **kwargs):
        raise AssertionError("counted again")

    monkeypatch.setattr(counting, "read_counts", counted_again)
    monkeypatch.setattr(counting, "tally", counted_again)
    again = client.get(url).get_data(as_text=True)
    assert "6/10 hộ đồng ý, cần ít nhất 6" in again and again == first


def test_what_the_vote_pages_keep_across_requests_holds_no_orm_object(client, session):
    """A cache of the process outlives the request's session: it keeps plain numbers and
    texts, never a vote, a group or a choice of an earlier request (STYLE principle 8)."""
    from consult.polls import ballots, counting
    from tests.support.background import orm_objects_in

    commune, group = _head(session)
    poll = open_vote(session, commune, [group])
    pass_consent(session, poll)
    for b in service.issue_ballots(session, SYSTEM, poll)[:6]:
        service.cast_online(session, b.token, choice(poll, "agree"))
    close(session, poll)
    session.commit()
    url = f"/c/{commune.slug}/polls/{poll.id}"
    first = client.get(url).get_data(as_text=True)
    assert "6/10 hộ đồng ý, cần ít nhất 6" in first
    assert orm_objects_in(counting) == [] and orm_objects_in(ballots) == []
    # Another request's session: the page is made around its own objects, and is the same.
    assert client.get(url).get_data(as_text=True) == first


def test_each_commune_keeps_its_own_days_and_only_its_administrator_changes_them(client, session):
    """Luật Điều 20 khoản 3 counts working days; the national holidays come from the calendar
    package, and a commune's own days change that commune's deadlines only."""
    from datetime import date

    from consult.polls.models import LocalDay
    from tests.support.helpers import make_commune

    commune, _ = _head(session)
    other = make_commune(session, name="Tân Đông Hiệp")
    secret = pyotp.random_base32()
    make_user(session, "quan.tri", "admin", commune, totp=secret)
    session.commit()
    login(client, "truong.kp1")
    page = client.get("/polls/holidays").get_data(as_text=True)
    assert "Tết Nguyên Đán" in page and "Giỗ Tổ Hùng Vương" in page and 'name="name"' not in page
    assert post_form(client, "/polls/holidays", {"day": "21/08/2026", "name": "Lễ hội", "kind": "off"},
                     get_url="/polls/holidays").status_code == 200
    assert session.scalar(select(func.count()).select_from(LocalDay)) == 0
    client.get("/auth/logout")
    login(client, "quan.tri", totp_secret=secret)
    r = post_form(client, "/polls/holidays", {"day": "21/08/2026", "name": "Lễ hội đình làng", "kind": "off"})
    assert r.status_code == 302
    r = post_form(client, "/polls/holidays", {"day": "05/09/2026", "name": "Làm bù", "kind": "work"})
    assert r.status_code == 302
    r = post_form(client, "/polls/holidays", {"day": "24/08/2026", "name": "Làm bù", "kind": "work"},
                  follow_redirects=True)
    assert "Ngày 24/08/2026 đã là ngày làm việc" in r.get_data(as_text=True)
    r = post_form(client, "/polls/holidays", {"day": "21/08/2026", "name": "Lần nữa", "kind": "off"})
    assert "đã có trong lịch" in r.get_data(as_text=True)
    session.rollback()  # a fresh snapshot after the pages' commits
    mine = service.calendar(session, commune.id, date(2026, 8, 20))
    theirs = service.calendar(session, other.id, date(2026, 8, 20))
    # Thursday 20/8/2026 + 5 working days: here Friday 21 is off; everywhere Saturday 22 is
    # worked (in exchange for Monday 31/08, the ``holidays`` package's own swap).
    assert mine.add_working_days(date(2026, 8, 20), 5) == date(2026, 8, 27)
    assert theirs.add_working_days(date(2026, 8, 20), 5) == date(2026, 8, 26)
    # Thursday 3/9/2026: here Saturday 5 is worked.
    assert mine.add_working_days(date(2026, 9, 3), 5) == date(2026, 9, 9)
    assert theirs.add_working_days(date(2026, 9, 3), 5) == date(2026, 9, 10)
    entry = session.scalar(select(LocalDay).where(LocalDay.kind == "off"))
    r = post_form(client, f"/polls/holidays/{entry.id}/delete", {}, get_url="/polls/holidays")
    assert r.status_code == 302
    session.rollback()
    assert session.scalar(select(func.count()).select_from(LocalDay)) == 1


def test_head_checks_in_a_household_by_scanning_its_slip(client, session):
    commune, group = _head(session)
    poll = open_vote(session, commune, [group], form="meeting")
    ballots = service.issue_ballots(session, SYSTEM, poll)
    session.commit()
    login(client, "truong.kp1")
    page = client.get(f"/b/{ballots[1].token}").get_data(as_text=True)
    assert "Điểm danh hộ KP1-002" in page
    r = client.post(f"/b/{ballots[1].token}", data={"csrf_token": csrf_from(page), "step": "checkin"})
    assert r.status_code == 302
    assert service.attendance_count(session, poll) == 1


def test_decision_deadline_reminder_until_marked_sent(client, session):
    commune, group = _head(session)
    poll = open_vote(session, commune, [group], form="meeting")
    for h in session.scalars(select(PollHousehold).where(PollHousehold.poll_id == poll.id)).all()[:6]:
        service.check_in(session, SYSTEM, poll, poll_household_id=h.id)
    service.record_meeting_count(session, SYSTEM, poll, counts={choice(poll, "agree"): 6}, method="hands")
    close(session, poll)
    session.commit()
    login(client, "truong.kp1")
    home = client.get("/staff").get_data(as_text=True)
    assert 'id="desk-deadlines"' in home and poll.title in home
    deadline = service.report_deadline(session, poll)
    assert deadline.weekday() < 5
    r = post_form(client, f"/polls/{poll.id}/sent", {"sent_on": format_date(today())}, get_url=f"/polls/{poll.id}")
    assert r.status_code == 302
    assert 'id="desk-deadlines"' not in client.get("/staff").get_data(as_text=True)
    r = post_form(client, f"/polls/{poll.id}/sent", {"sent_on": "31/02/2026"}, get_url=f"/polls/{poll.id}",
                  follow_redirects=True)
    assert "không có thật" in r.get_data(as_text=True)


def test_a_draft_vote_can_be_corrected_before_it_opens(client, session):
    from tests.support.polls import board_member

    commune, group = _head(session)
    board = [board_member(session, commune, name).id for name in ("Nguyễn Thị Hoa", "Lê Văn Bảy", "Trần Văn Tư")]
    session.commit()
    login(client, "truong.kp1")
    assert post_form(client, "/polls/new", _form(group, matter_kind="k6")).status_code == 302
    poll = session.scalar(select(Poll))
    page = client.get(f"/polls/{poll.id}/edit").get_data(as_text=True)
    assert "Bầu Trưởng ban điều hành khu phố 1" in page and "Nguyễn Thị Hoa" in page
    accounts = {f"committee-{i}-user_id": str(user_id) for i, user_id in enumerate(board)}
    r = post_form(client, f"/polls/{poll.id}/edit", _form(group, matter_kind="k6", title="Lắp đèn đường hẻm 5",
                                                          options="Phương án A\nPhương án B", **accounts))
    assert r.status_code == 302
    session.rollback()
    poll = session.get(Poll, poll.id)
    assert poll.title == "Lắp đèn đường hẻm 5" and [c.label for c in poll.choices] == ["Phương án A", "Phương án B"]
    assert len(poll.committee) == 3 and len(poll.groups) == 1
    assert [m.user_id for m in poll.committee] == board
    page = client.get(f"/polls/{poll.id}/edit").get_data(as_text=True)
    assert f'<option selected value="{board[1]}">' in page
    r = post_form(client, f"/polls/{poll.id}/edit", _form(group, matter_kind="k4"), get_url=f"/polls/{poll.id}/edit")
    assert "Không được biểu quyết trực tuyến" in r.get_data(as_text=True)
    session.rollback()
    assert session.get(Poll, poll.id).matter_kind == "k6"
    service.open_poll(session, SYSTEM, session.get(Poll, poll.id))
    session.commit()
    r = client.get(f"/polls/{poll.id}/edit", follow_redirects=True)
    assert "Chỉ sửa được cuộc biểu quyết khi còn là bản nháp" in r.get_data(as_text=True)


def test_meeting_chooses_its_secretary_by_more_than_half_of_those_present(client, session):
    commune, group = _head(session)
    poll = open_vote(session, commune, [group], form="meeting")
    for h in session.scalars(select(PollHousehold).where(PollHousehold.poll_id == poll.id)).all()[:7]:
        service.check_in(session, SYSTEM, poll, poll_household_id=h.id)
    session.commit()
    login(client, "truong.kp1")
    url = f"/polls/{poll.id}/meeting"
    r = post_form(client, url, {"action": "procedure", "subject": "secretary", "proposal": "Bà Hoa làm thư ký",
                                "agree": "4"}, follow_redirects=True)
    assert "Bà Hoa làm thư ký" in r.get_data(as_text=True) and "4/7" in r.get_data(as_text=True)
    r = post_form(client, url, {"action": "procedure", "subject": "method", "proposal": "Bỏ phiếu kín",
                                "agree": "3"}, follow_redirects=True)
    assert "không thông qua" in r.get_data(as_text=True)
    r = post_form(client, url, {"action": "procedure", "subject": "counters", "proposal": "Ông A, ông B",
                                "agree": "9"}, follow_redirects=True)
    assert "phải từ 0 đến số đại diện có mặt (7)" in r.get_data(as_text=True)
    assert [p.passed for p in service.procedures(session, poll)] == [True, False]
    service.record_meeting_count(session, SYSTEM, poll, counts={choice(poll, "agree"): 7}, method="hands")
    close(session, poll)
    session.commit()
    decision = Document(io.BytesIO(client.get(f"/polls/{poll.id}/decision.docx").data))
    text = "\n".join(p.text for p in decision.paragraphs)
    assert "Thư ký cuộc họp: Bà Hoa làm thư ký — 4/7 đại diện có mặt tán thành, thông qua." in text


def test_opening_an_online_vote_seals_each_share_to_its_member_and_counting_needs_them(client, session):
    """NĐ 59 Điều 5 khoản 1c: the Tổ lấy ý kiến holds the key; the opener sees no share, each
    member picks up their own, and a majority of them counts."""
    from tests.support.polls import pick_up_all, poll_input, with_accounts

    commune, group = _head(session)
    data = poll_input([group])
    data.committee = with_accounts(session, commune, data.committee)
    poll = service.create_poll(session, SYSTEM, commune, data)
    session.commit()
    login(client, "truong.kp1")
    r = post_form(client, f"/polls/{poll.id}/open", {}, get_url=f"/polls/{poll.id}", follow_redirects=True)
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and not re.search(r"P\d+-\d-[A-Z0-9]{4}-", page)
    assert "Mỗi thành viên Tổ lấy ý kiến đăng nhập bằng tài khoản của mình để nhận phiếu giữ khóa" in page
    assert page.count("chưa nhận") == 3 and 'id="sealed"' in page and 'id="my-share-link"' not in page
    session.expire_all()
    poll = session.get(Poll, poll.id)
    codes = pick_up_all(session, poll)
    session.commit()
    show = client.get(f"/polls/{poll.id}").get_data(as_text=True)
    assert not any(code in show for code in codes) and show.count("đã nhận</span>") == 3
    assert poll.public_key and not any(code.encode() in poll.public_key for code in codes)
    ballots = service.issue_ballots(session, SYSTEM, poll)
    for b in ballots[:8]:
        service.cast_online(session, b.token, "agree")
    session.commit()
    r = post_form(client, f"/polls/{poll.id}/consent/close", {"share-1": codes[0]}, get_url=f"/polls/{poll.id}",
                  follow_redirects=True)
    assert "Cần mã khóa của ít nhất 2 thành viên" in r.get_data(as_text=True)
    r = post_form(client, f"/polls/{poll.id}/consent/close", {"share-1": codes[0], "share-3": codes[2]},
                  get_url=f"/polls/{poll.id}", follow_redirects=True)
    assert "8</strong> hộ đồng ý" in r.get_data(as_text=True)
    session.expire_all()
    for b, pick in zip(ballots, ["agree"] * 6 + ["disagree"] * 2):
        service.cast_online(session, b.token, choice(poll, pick))
    session.commit()
    page = client.get(f"/polls/{poll.id}").get_data(as_text=True)
    assert 'id="early-warning"' in page and "Chưa đến thời điểm kết thúc đã định" in page
    r = post_form(client, f"/polls/{poll.id}/close", {"share-2": codes[1].lower(), "share-3": codes[2]},
                  get_url=f"/polls/{poll.id}", follow_redirects=True)
    assert "Muốn kết thúc sớm, hãy ghi rõ lý do" in r.get_data(as_text=True)
    r = post_form(client, f"/polls/{poll.id}/close", {"share-2": codes[1].lower(), "share-3": codes[2],
                                                       "early_stop_reason": "8/10 hộ đã biểu quyết"},
                  get_url=f"/polls/{poll.id}", follow_redirects=True)
    page = r.get_data(as_text=True)
    assert "Thông qua: 6/10 hộ đồng ý, cần ít nhất 6" in page and "lý do: 8/10 hộ đã biểu quyết" in page


def test_recognition_by_the_commune_with_its_deadline(client, session):
    """Luật Điều 21 khoản 2: a khoản 3 or 4 decision takes effect when the UBND recognises it, within
    5 working days of receipt; a refusal is answered in writing with reasons."""
    from datetime import date

    from tests.support.polls import group_with_households as gwh

    commune, group = gwh(session, 10)
    secret = pyotp.random_base32()
    make_user(session, "tam.vptk", "officer", commune, totp=secret)
    make_user(session, "truong.kp1", "group_head", commune, group=group)
    poll = open_vote(session, commune, [group], matter="k4", form="meeting", options=["A", "B"])
    for h in session.scalars(select(PollHousehold).where(PollHousehold.poll_id == poll.id)).all()[:9]:
        service.check_in(session, SYSTEM, poll, poll_household_id=h.id)
    a, b = (c.id for c in poll.choices)
    service.record_meeting_count(session, SYSTEM, poll, counts={a: 2, b: 7}, method="secret", returned=9, invalid=0)
    # Decided on a fixed day before the receipt below, whatever the clock says.
    from datetime import datetime, timezone

    service.close_poll(session, SYSTEM, poll, now=datetime(2027, 1, 20, 3, 0, tzinfo=timezone.utc))
    session.commit()
    login(client, "truong.kp1")
    page = client.get(f"/polls/{poll.id}").get_data(as_text=True)
    assert 'id="recognition"' in page and 'name="number"' not in page and 'name="day"' not in page
    r = post_form(client, f"/polls/{poll.id}/recognition", {"action": "received", "day": "01/12/2026"},
                  get_url=f"/polls/{poll.id}")
    assert r.status_code == 403
    client.get("/auth/logout")
    login(client, "tam.vptk", totp_secret=secret)
    # Received on Wednesday 3 February 2027: Tết (4-10 February) pushes the deadline to 17 February.
    r = post_form(client, f"/polls/{poll.id}/recognition", {"action": "received", "day": "03/02/2027"},
                  follow_redirects=True)
    assert "17/02/2027" in r.get_data(as_text=True)
    session.rollback()  # a fresh snapshot, and fresh objects
    session.expire_all()
    assert service.recognition_deadline(session, session.get(Poll, poll.id)) == date(2027, 2, 17)
    r = post_form(client, f"/polls/{poll.id}/recognition", {"action": "refuse", "reason": ""},
                  get_url=f"/polls/{poll.id}", follow_redirects=True)
    assert "phải nêu rõ lý do" in r.get_data(as_text=True)
    r = post_form(client, f"/polls/{poll.id}/recognition", {"action": "recognise", "number": "125/QĐ-UBND",
                                                             "day": "11/02/2027"},
                  get_url=f"/polls/{poll.id}", follow_redirects=True)
    page = r.get_data(as_text=True)
    assert "Đã công nhận" in page and "125/QĐ-UBND" in page
    session.rollback()  # a fresh snapshot, and fresh objects
    session.expire_all()
    assert session.get(Poll, poll.id).recognised_on == date(2027, 2, 11)


def test_public_results_stay_light_at_any_size(client, session):
    """Long lists (participants, the bulletin) come a page at a time; a receipt is found by index."""
    commune, group = _head(session, households=250)
    poll = open_vote(session, commune, [group])
    pass_consent(session, poll)
    ballots = service.issue_ballots(session, SYSTEM, poll)
    receipts = [service.cast_online(session, b.token, choice(poll, "agree")) for b in ballots]
    close(session, poll)
    session.commit()
    first = client.get(f"/c/{commune.slug}/polls/{poll.id}")
    html = first.get_data(as_text=True)
    assert html.count("<li>KP1-") == 200 and "Các hộ đã tham gia (250)" in html
    # By key, not by number (issue 24): "next" carries the last code of the page.
    assert "after=KP1-200#participants" in html and "KP1-200" in html and "KP1-201" not in html
    second = client.get(f"/c/{commune.slug}/polls/{poll.id}?after=KP1-200").get_data(as_text=True)
    assert second.count("<li>KP1-") == 50 and "<li>KP1-201 — " in second
    found = client.get(f"/c/{commune.slug}/polls/{poll.id}?receipt={receipts[-1]}").get_data(as_text=True)
    assert "nằm trong danh sách đã được đếm" in found and 'id="receipt-line"' in found
    missing = client.get(f"/c/{commune.slug}/polls/{poll.id}?receipt=AAAA-BBBB-CC").get_data(as_text=True)
    assert "Không tìm thấy mã này" in missing
    assert client.get(f"/c/{commune.slug}/polls/{poll.id}?page=abc").status_code == 200
    assert client.get(f"/c/{commune.slug}/polls/{poll.id}?page=2").get_data(as_text=True) == html  # an old link


def test_a_meeting_announced_too_late_shows_why_and_does_not_open(client, session):
    """The meeting's notice (practice, rules.MEETING_NOTICE_DAYS): the head records the day the
    meeting was announced; the page says what is missing, and the meeting opens only with 3 days' notice."""
    _, group = _head(session)
    login(client, "truong.kp1")
    meeting_day = today() + timedelta(days=5)
    late = format_date(meeting_day - timedelta(days=1))
    r = post_form(client, "/polls/new", _form(group, matter_kind="k6", form_kind="meeting",
                                              opens_at=f"19:30 {format_date(meeting_day)}",
                                              closes_at=f"21:30 {format_date(meeting_day)}", announced_on=late))
    assert r.status_code == 302, r.get_data(as_text=True)
    poll = session.scalars(select(Poll)).one()
    page = client.get(f"/polls/{poll.id}").get_data(as_text=True)
    assert f"ngày {late}" in page and "ít nhất 3 ngày trước ngày họp" in page
    r = post_form(client, f"/polls/{poll.id}/open", {}, get_url=f"/polls/{poll.id}", follow_redirects=True)
    assert "Chưa mở được cuộc họp" in r.get_data(as_text=True)
    session.rollback()
    session.expire_all()
    assert session.get(Poll, poll.id).status == "draft"
    r = post_form(client, f"/polls/{poll.id}/edit", _form(group, matter_kind="k6", form_kind="meeting",
                                                          opens_at=f"19:30 {format_date(meeting_day)}",
                                                          closes_at=f"21:30 {format_date(meeting_day)}",
                                                          announced_on=format_date(today())))
    assert r.status_code == 302
    r = post_form(client, f"/polls/{poll.id}/open", {}, get_url=f"/polls/{poll.id}", follow_redirects=True)
    assert "Đã mở" in r.get_data(as_text=True)
    session.rollback()
    session.expire_all()
    assert session.get(Poll, poll.id).status == "open"


def _print_whole_ward(app, client, session, households=8):
    app.config["SLIPS_INLINE_MAX"] = 5
    commune, group = _head(session, households)
    poll = open_vote(session, commune, [group], form="ballot", chosen_by_head_and_front=True)
    session.commit()
    login(client, "truong.kp1")
    r = post_form(client, f"/polls/{poll.id}/ballots.pdf", {}, get_url=f"/polls/{poll.id}")
    assert r.status_code == 302 and "/jobs/" in r.headers["Location"]
    return poll, r.headers["Location"]


def test_slips_of_a_whole_ward_are_printed_by_a_worker_with_a_progress_page(app, client, session, runner):
    """Slips for more households than SLIPS_INLINE_MAX are a background job: the request
    returns at once, the page shows progress and refreshes itself, the worker command
    prints, and only the one who asked downloads the PDF."""
    app.config["JOBS_IN_PROCESS"] = False
    poll, url = _print_whole_ward(app, client, session)
    page = client.get(url).get_data(as_text=True)
    assert "Đang chờ" in page and '<progress id="job-progress"' in page and 'http-equiv="refresh"' in page
    other = app.test_client()
    make_user(session, "truong.kp9", "group_head", poll.commune, group=poll.group)
    session.commit()
    login(other, "truong.kp9")
    assert other.get(url).status_code == 404
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0 and "Đã chạy 1 việc" in result.output
    page = client.get(url).get_data(as_text=True)
    assert "Đã xong" in page and 'http-equiv="refresh"' not in page and 'id="job-download"' in page
    pdf = client.get(url + "/download")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and pdf.headers["Cache-Control"] == "no-store"
    assert other.get(url + "/download").status_code == 404
    session.rollback()
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(BallotToken).where(
        BallotToken.poll_id == poll.id, BallotToken.revoked_at.is_(None))) == 8


def test_without_a_worker_the_web_process_prints_in_its_worker_thread(app, client, session, worker_thread):
    """The embedded setup (JOBS_IN_PROCESS, the default) needs no worker process: the page
    queues the job and wakes the one worker thread, and starts none itself."""
    from tests.support.background import threads_started, worker_threads

    with threads_started() as started:
        _, url = _print_whole_ward(app, client, session)
    assert started == [] and worker_threads() == [worker_thread._thread]
    assert worker_thread.wait_idle(timeout=60)
    page = client.get(url).get_data(as_text=True)
    assert "Đã xong" in page
    assert client.get(url + "/download").data.startswith(b"%PDF")


def test_a_votes_pages_start_no_thread(app, client, session):
    """A vote's page, its slips printed by a job and its public page: none of them starts a
    thread (JOBS_IN_PROCESS on, as by default); the job waits for the worker."""
    from consult.jobs.models import QUEUED, Job
    from tests.support.background import threads_started

    app.config["JOBS_IN_PROCESS"] = True
    with threads_started() as started:
        poll, url = _print_whole_ward(app, client, session)
        assert client.get(f"/polls/{poll.id}").status_code == 200
        assert client.get(url).status_code == 200
        assert client.get(f"/c/{poll.commune.slug}/polls/{poll.id}").status_code == 200
    assert started == []
    session.rollback()
    assert session.scalar(select(Job.status)) == QUEUED

def test_a_large_online_count_runs_as_a_job_and_the_shares_never_lie_in_the_database_in_clear(app, client, session):
    """Counting many ballots (proofs checked, sums decrypted) is a background job, not the board's
    POST: the page checks the shares at once, the job's row holds them only sealed, and erases
    them when it ends; the result is the one the inline count gives."""
    import json

    from consult.jobs.models import Job
    from consult.jobs.results import ResultStore
    from consult.jobs.service import run_pending
    from tests.support.polls import shares

    app.config.update(COUNT_INLINE_MAX=3, JOBS_IN_PROCESS=False)
    commune, group = _head(session, 8)
    poll = open_vote(session, commune, [group])
    pass_consent(session, poll)
    for ballot, pick in zip(service.issue_ballots(session, SYSTEM, poll), ["agree"] * 5 + ["disagree"] * 2):
        service.cast_online(session, ballot.token, choice(poll, pick))
    poll.closes_at = utcnow() - timedelta(seconds=1)  # the vote has reached its end
    session.commit()
    codes = shares(poll)
    login(client, "truong.kp1")
    url = f"/polls/{poll.id}"
    bad = post_form(client, f"{url}/close", {"share-1": codes[0], "share-2": codes[0]}, get_url=url,
                    follow_redirects=True)
    assert bad.status_code == 200 and session.scalar(select(func.count()).select_from(Job)) == 0
    form = {f"share-{i}": code for i, code in enumerate(codes, start=1)}
    r = post_form(client, f"{url}/close", form, get_url=url)
    assert r.status_code == 302 and "/jobs/" in r.headers["Location"]
    session.rollback()
    job = session.scalar(select(Job).where(Job.kind == "count"))
    stored = json.dumps(job.params)
    assert job.total == 7 and not any(code in stored or code.lower() in stored for code in codes)
    assert session.get(Poll, poll.id).status == "open"
    with app.app_context():
        assert run_pending(app.extensions["consult_writer_sessionmaker"], app.extensions["consult_sessionmaker"],
                           results=ResultStore.of_app(app)) == 1
    session.rollback()
    job = session.get(Job, job.id)
    assert job.status == "done" and not any(key.startswith("sealed_") for key in job.params)
    decided = session.get(Poll, poll.id)
    assert decided.status == "decided" and decided.outcome_text.startswith("Thông qua: 5/8 hộ đồng ý")
    assert decided.early_stopped_at is None
    assert "Đã kiểm 7 phiếu" in client.get(f"/jobs/{job.id}").get_data(as_text=True)


def test_a_meeting_s_place_chair_and_secret_ballot_box_are_entered_on_its_pages(client, session):
    """NĐ 59 Điều 3: the meeting's documents name its place and chair (entered with the vote) and
    the biên bản kiểm phiếu the ballots returned and invalid (entered with the count)."""
    from consult.polls.models import MeetingCount

    _, group = _head(session)
    login(client, "truong.kp1")
    start = utcnow() + timedelta(days=4)
    r = post_form(client, "/polls/new", _form(group, matter_kind="k6", form_kind="meeting",
                                              opens_at=format_datetime(start),
                                              closes_at=format_datetime(start + timedelta(hours=3)),
                                              announced_on=format_date(today()),
                                              place="Nhà văn hóa khu phố 1", chair="Ông Nguyễn Văn Tâm"))
    assert r.status_code == 302
    poll = session.scalar(select(Poll))
    assert (poll.place, poll.chair) == ("Nhà văn hóa khu phố 1", "Ông Nguyễn Văn Tâm")
    assert 'value="Nhà văn hóa khu phố 1"' in client.get(f"/polls/{poll.id}/edit").get_data(as_text=True)
    poll.opens_at = utcnow() - timedelta(minutes=1)  # the day has come
    poll.announced_on = today() - timedelta(days=3)
    session.commit()
    service.open_poll(session, SYSTEM, poll)
    for h in session.scalars(select(PollHousehold).where(PollHousehold.poll_id == poll.id)).all()[:8]:
        service.check_in(session, SYSTEM, poll, poll_household_id=h.id)
    session.commit()
    url = f"/polls/{poll.id}/meeting"
    agree = choice(poll, "agree")
    r = post_form(client, url, {"action": "count", "method": "secret", "returned": "9", "invalid": "0",
                                f"count-{agree}": "7"}, follow_redirects=True)
    assert "từ 0 đến số phiếu phát ra (8" in r.get_data(as_text=True)
    r = post_form(client, url, {"action": "count", "method": "secret", "returned": "8", "invalid": "1",
                                f"count-{agree}": "7"})
    assert r.status_code == 302
    session.rollback()
    row = session.scalar(select(MeetingCount))
    assert (row.issued, row.returned, row.invalid) == (8, 8, 1)


# --- creating a vote step by step (issue #28 point 6) ------------------------------------------

FIELDS_OF = {"meeting": ['name="place"', 'name="chair"', 'name="announced_on"'],
             "ballot": ['name="committee-0-name"'],
             "online": ['name="agreed_unnecessary_on"', 'name="devices_confirmed"', 'name="committee-0-user_id"']}


def _fields_shown(page: str) -> set[str]:
    return {kind for kind, names in FIELDS_OF.items() if all(name in page for name in names)}


def test_the_wizard_asks_the_matter_then_only_the_forms_the_law_allows_then_only_their_fields(client, session):
    _, group = _head(session)
    login(client, "truong.kp1")
    first = client.get("/polls/new").get_data(as_text=True)
    assert 'id="step-matter"' in first and 'name="title"' not in first and 'aria-current="step"' in first
    assert first.count('name="matter_kind"') == 6 and "hai phần ba tổng số hộ gia đình" in first
    # Khoản 6: three forms, each with its condition.
    second = client.get("/polls/new?step=choose&matter_kind=k6").get_data(as_text=True)
    assert 'id="step-form"' in second and second.count('name="form_kind"') == 3
    assert "Trưởng khu dân cư và Ban công tác Mặt trận quyết định" in second and 'name="title"' not in second
    # Khoản 1: a meeting, or a ballot the chairman decides; never online.
    k1 = client.get("/polls/new?step=choose&matter_kind=k1").get_data(as_text=True)
    assert 'value="meeting"' in k1 and 'value="ballot"' in k1 and 'value="online"' not in k1
    assert "Chủ tịch Ủy ban nhân dân cấp xã quyết định" in k1
    # Khoản 3, 4, 5 must meet: nothing to choose, straight to the meeting's fields.
    for matter in ("k3", "k4", "k5"):
        page = client.get(f"/polls/new?step=choose&matter_kind={matter}").get_data(as_text=True)
        assert 'id="step-fields"' in page and _fields_shown(page) == {"meeting"}, matter
        assert ('name="seats"' in page) == (matter == "k5")
    for kind, expected in (("meeting", {"meeting"}), ("ballot", {"ballot"}), ("online", {"ballot", "online"})):
        page = client.get(f"/polls/new?step=choose&matter_kind=k6&form_kind={kind}").get_data(as_text=True)
        assert 'id="step-fields"' in page and _fields_shown(page) == expected, kind
        assert f'name="form_kind" value="{kind}"' in page and 'name="matter_kind" value="k6"' in page
        assert ('name="chosen_by_head_and_front"' in page) == (kind == "ballot")
    # A form the law does not allow for the matter, asked in the address: the form step again.
    page = client.get("/polls/new?step=choose&matter_kind=k4&form_kind=online").get_data(as_text=True)
    assert 'id="step-fields"' in page and _fields_shown(page) == {"meeting"}
    page = client.get("/polls/new?step=choose&matter_kind=k1&form_kind=online").get_data(as_text=True)
    assert 'id="step-form"' in page
    # Saved from the third step, as before.
    r = post_form(client, "/polls/new", _form(group, matter_kind="k6"),
                  get_url="/polls/new?step=choose&matter_kind=k6&form_kind=online")
    assert r.status_code == 302


def test_a_refused_third_step_stays_there_with_what_was_typed(client, session):
    _, group = _head(session)
    login(client, "truong.kp1")
    r = post_form(client, "/polls/new", _form(group, matter_kind="k6", title="", question="Có lắp đèn không?"),
                  get_url="/polls/new?step=choose&matter_kind=k6&form_kind=online")
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and 'id="step-fields"' in page and "Vui lòng nhập tên." in page
    assert "Có lắp đèn không?" in page and _fields_shown(page) == {"ballot", "online"}
    assert session.scalar(select(func.count()).select_from(Poll)) == 0


def test_editing_a_draft_vote_opens_at_its_form_and_can_go_back_a_step(client, session):
    commune, group = _head(session)
    login(client, "truong.kp1")
    post_form(client, "/polls/new", _form(group, matter_kind="k6"),
              get_url="/polls/new?step=choose&matter_kind=k6&form_kind=online")
    poll = session.scalar(select(Poll))
    page = client.get(f"/polls/{poll.id}/edit").get_data(as_text=True)
    assert 'id="step-fields"' in page and _fields_shown(page) == {"ballot", "online"} and poll.title in page
    back = client.get(f"/polls/{poll.id}/edit?step=choose&matter_kind=k6").get_data(as_text=True)
    # The vote's own form stays chosen until another is picked.
    assert 'id="step-form"' in back and 'value="online" aria-describedby="form-online-rule" checked' in back
    assert 'value="meeting" aria-describedby="form-meeting-rule" checked' not in back
    assert 'value="k6" aria-describedby="matter-k6-rule" checked' in client.get(
        f"/polls/{poll.id}/edit?step=choose").get_data(as_text=True)
    meeting = client.get(f"/polls/{poll.id}/edit?step=choose&matter_kind=k6&form_kind=meeting").get_data(as_text=True)
    assert _fields_shown(meeting) == {"meeting"} and poll.title in meeting
