"""Behaviours of the web tier that mutation testing found unpinned (issue #25, point 3)."""

from __future__ import annotations

import pytest

from consult.auth.models import User
from tests.support.helpers import login, make_commune, make_group, make_user


# Mutation caught: ``fully_signed_in`` reduced to ``is_authenticated`` (the second factor
# asked only at sign-in, for the role the account had then).
@pytest.mark.parametrize("new_role", ["officer", "admin"])
def test_a_session_signed_in_without_a_second_factor_is_stopped_when_the_role_comes_to_need_one(
        client, session, new_role):
    commune = make_commune(session)
    make_user(session, "truong.kp1", "group_head", commune, group=make_group(session, commune))
    session.commit()
    login(client, "truong.kp1")
    assert client.get("/staff").status_code == 200
    user = session.query(User).filter_by(username="truong.kp1").one()
    user.role, user.group_id = new_role, None
    session.commit()
    response = client.get("/staff")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


# --- the limits' device cookie and ballot answers ---------------------------------------------
# Mutations caught: the device cookie set without HttpOnly; 409 ("already voted") counted
# as a failed ballot post (``answers=(409, 410)`` made ``(410,)``).

def test_the_device_cookie_set_at_sign_in_is_http_only(client, session):
    commune = make_commune(session)
    make_user(session, "truong.kp1", "group_head", commune, group=make_group(session, commune))
    session.commit()
    response = login(client, "truong.kp1")
    cookies = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("consult_device=")]
    assert len(cookies) == 1
    assert "HttpOnly" in cookies[0] and "SameSite=Lax" in cookies[0]


def test_already_voted_is_an_answer_not_a_failed_ballot_post(app, client, session):
    """A household that presses "confirm" again is told it has voted (409), as often as it
    likes: its link's failure limit counts refused forms only."""
    from consult.audit.service import SYSTEM
    from consult.polls import service
    from tests.support.polls import choice, group_with_households, open_vote, pass_consent

    app.config["TOKEN_FAILURE_RATE_LIMIT"] = "3 per 10 minutes"
    commune, group = group_with_households(session, 3)
    poll = open_vote(session, commune, [group])
    pass_consent(session, poll)
    token = service.issue_ballots(session, SYSTEM, poll)[0].token
    session.commit()

    def confirm(choice_value):
        return client.post(f"/b/{token}", data={"step": "confirm", "choice": str(choice_value), "other_text": ""})

    assert confirm(choice(poll, "agree")).status_code == 200
    assert [confirm(choice(poll, "disagree")).status_code for _ in range(5)] == [409] * 5
    # the three failures the limit allows are still all there
    assert [confirm(999999).status_code for _ in range(3)] == [422] * 3
    assert confirm(999999).status_code == 429
