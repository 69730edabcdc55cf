"""The key ceremony's pages and JSON steps (consult/polls/ceremony_views.py), on both databases:
only the vote's own board reaches them; a step without its CSRF token, with a body that is not
what a device sends, or with values that do not hold, is refused in Vietnamese (422, naming the
member at fault) and changes nothing; without script the page says plainly that the member's
device must do the step, and offers nothing the server would have to do in its place."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from consult.audit.service import SYSTEM
from consult.polls import keyceremony
from consult.polls.ceremony import Member
from consult.polls.models import CeremonyMember
from tests.support.helpers import login, make_unit, make_user
from tests.support.polls import ceremony_draft


def _page(client, poll_id):
    page = client.get(f"/polls/{poll_id}/ceremony")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    return html, re.search(r'data-csrf="([^"]+)"', html).group(1)


def _post(client, poll_id, step, body, token, *, raw=None):
    return client.post(f"/polls/{poll_id}/ceremony/{step}", data=raw if raw is not None else json.dumps(body),
                       headers={"Content-Type": "application/json", **({"X-CSRFToken": token} if token else {})})


@pytest.fixture
def started(session):
    commune, poll = ceremony_draft(session)
    keyceremony.start(session, SYSTEM, poll)
    session.commit()
    return commune, poll


def _announced(session, poll):
    return session.scalar(select(CeremonyMember.announced_at).where(CeremonyMember.poll_id == poll.id,
                                                                     CeremonyMember.member == 2))


def test_only_the_board_reaches_the_ceremony(client, session, started):
    commune, poll = started
    make_user(session, "can-bo.khac", "unit_rep", commune, unit=make_unit(session, commune, "Hội Phụ nữ phường"))
    session.commit()
    login(client, "can-bo.khac")
    for url in (f"/polls/{poll.id}/ceremony", f"/polls/{poll.id}/ceremony/state.json"):
        assert client.get(url).status_code == 404
    assert client.get(f"/polls/{poll.id + 1000}/ceremony").status_code == 404
    login(client, "thanh-vien.2")
    state = client.get(f"/polls/{poll.id}/ceremony/state.json")
    assert state.status_code == 200 and state.get_json()["member"] == 2
    assert state.headers["Cache-Control"] == "no-store"


def test_the_page_says_it_needs_script_and_loads_only_this_sites_own(client, session, started):
    _, poll = started
    login(client, "thanh-vien.2")
    response = client.get(f"/polls/{poll.id}/ceremony")
    html = response.get_data(as_text=True)
    assert "Trang này cần JavaScript" in html and "máy chủ không làm thay được" in html
    assert re.findall(r'<script[^>]*src="([^"]+)"', html) == ["/static/js/ceremony-page.js"]
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy
    assert client.get("/static/vendor/noble/noble-2.4.0.js").status_code == 200


def test_a_step_without_its_token_or_with_a_bad_body_is_refused_and_changes_nothing(client, session, started):
    _, poll = started
    login(client, "thanh-vien.2")
    _, token = _page(client, poll.id)
    device = Member(keyceremony.setup_of(session.get(keyceremony.KeyCeremony, poll.id)), 2)
    a = device.announcement()
    body = {"ceremony_key": a.ceremony_key.hex(), "commitments": [c.hex() for c in a.commitments],
            "proofs": [[c.hex(), v.hex()] for c, v in a.proofs]}
    assert _post(client, poll.id, "announce", body, None).status_code == 400  # no CSRF token
    for raw in ("not json", "[1, 2]", json.dumps({"ceremony_key": "zz"}),
                json.dumps({**body, "commitments": body["commitments"][:1]})):
        refused = _post(client, poll.id, "announce", None, token, raw=raw)
        assert refused.status_code == 422
        assert refused.get_json()["error"].startswith(("Thiết bị gửi", "Thành viên số 2", "Cam kết", "Phần công khai"))
    forged = {**body, "proofs": [[v, c] for c, v in body["proofs"]]}
    refused = _post(client, poll.id, "announce", forged, token)
    assert refused.status_code == 422 and refused.get_json()["member"] == 2
    session.expire_all()
    assert _announced(session, poll) is None
    ok = _post(client, poll.id, "announce", body, token)
    assert ok.status_code == 200 and ok.get_json()["ok"] is True
    session.rollback()
    session.expire_all()
    assert _announced(session, poll) is not None
    again = _post(client, poll.id, "announce", body, token)
    assert again.status_code == 422 and "đã gửi phần công khai" in again.get_json()["error"]
    state = client.get(f"/polls/{poll.id}/ceremony/state.json").get_json()
    assert state["members"][1]["announced"] is True and state["announcements"]["2"] == body


def test_the_runner_cannot_open_a_vote_whose_ceremony_is_unfinished(client, session, started):
    _, poll = started
    login(client, "truong.kp1")
    page = client.get(f"/polls/{poll.id}")
    html = page.get_data(as_text=True)
    assert "Lần tạo khóa thứ 1" in html and "Mở trang lễ tạo khóa của bạn" in html
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    client.post(f"/polls/{poll.id}/open", data={"csrf_token": token})
    session.expire_all()
    session.rollback()
    assert session.get(type(poll), poll.id).status == "draft"


def test_a_large_vote_s_box_is_checked_by_a_job_and_a_majority_counts_it(app, client, session):
    """Above COUNT_INLINE_MAX ballots the box of a ceremony's vote is checked by a background
    job (no key needed: the job holds no secret); the members then decrypt, and the count is
    the one the inline path gives."""
    from datetime import timedelta

    from consult.jobs.models import Job
    from consult.jobs.results import ResultStore
    from consult.jobs.service import run_pending
    from consult.polls import service
    from consult.polls.models import PHASE_CONSENT, PHASE_VOTE, Poll
    from consult.timeutil import utcnow
    from tests.support.ceremony import count_phase, hold_ceremony, partials_of, text_partials_of, users
    from tests.support.helpers import post_form

    app.config.update(COUNT_INLINE_MAX=3, JOBS_IN_PROCESS=False)
    _, poll = ceremony_draft(session, 6, options=())
    devices = hold_ceremony(session, poll)
    service.open_poll(session, SYSTEM, poll)
    for slip in service.issue_ballots(session, SYSTEM, poll):
        service.cast_online(session, slip.token, "agree")
    keyceremony.check_for_count(session, poll, PHASE_CONSENT)
    assert service.close_consent(session, SYSTEM, poll, counted=count_phase(session, poll, devices, PHASE_CONSENT,
                                                                            (1, 2)))
    kinds = {c.kind: c.id for c in poll.choices}
    cast = ["agree", "agree", "agree", "disagree", "other"]
    for slip, kind in zip(service.issue_ballots(session, SYSTEM, poll), cast):
        service.cast_online(session, slip.token, kinds[kind], other_text="Lắp thêm đèn" if kind == "other" else "")
    poll.closes_at = utcnow() - timedelta(seconds=1)  # the vote has reached its end
    session.commit()
    login(client, "truong.kp1")
    url = f"/polls/{poll.id}"
    r = post_form(client, f"{url}/ceremony/check", {}, get_url=url)
    assert r.status_code == 302 and "/jobs/" in r.headers["Location"]
    session.rollback()
    job = session.scalar(select(Job).where(Job.kind == "ceremony_check"))
    assert job.total == 5 and session.get(keyceremony.CeremonyTally, (poll.id, PHASE_VOTE)) is None
    with app.app_context():
        assert run_pending(app.extensions["consult_writer_sessionmaker"], app.extensions["consult_sessionmaker"],
                           results=ResultStore.of_app(app)) == 1
    session.rollback()
    session.expire_all()
    assert session.get(Job, job.id).status == "done"
    poll = session.get(Poll, poll.id)
    assert len(keyceremony.sealed_texts(session, poll, PHASE_VOTE)) == 5
    for i in (2, 3):
        keyceremony.send_partials(session, poll, users(poll)[i], PHASE_VOTE, partials_of(session, poll, devices[i], PHASE_VOTE),
                                  texts=text_partials_of(session, poll, devices[i], PHASE_VOTE))
    session.commit()
    r = post_form(client, f"{url}/ceremony/count", {}, get_url=url)
    assert r.status_code == 302
    session.rollback()
    session.expire_all()
    decided = session.get(Poll, poll.id)
    assert decided.status == "decided" and decided.outcome_passed is False  # 3 of 6: not more than half
    result = service.tally(session, decided)
    assert [result.total(c.id) for c in decided.choices] == [3, 1, 1]
