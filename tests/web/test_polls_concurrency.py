"""Two hundred submissions of one token at the same instant, through a running
server, record exactly one vote: the database refuses the second mark."""

import http.client
import threading
from urllib.parse import urlencode, urlsplit

from sqlalchemy import func, select, text

from consult.audit.service import SYSTEM
from consult.polls import service
from consult.polls.models import Participation
from tests.support.polls import choice, close, group_with_households, open_vote, pass_consent

SUBMISSIONS = 200


def test_200_concurrent_submissions_of_one_token_record_one_vote(live_server, session):
    commune, group = group_with_households(session, 5)
    poll = open_vote(session, commune, [group])
    pass_consent(session, poll)
    token = service.issue_ballots(session, SYSTEM, poll)[0].token
    agree = choice(poll, "agree")
    session.commit()

    parts = urlsplit(live_server)
    first = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    first.request("GET", f"/b/{token}")
    assert first.getresponse().status == 200
    first.close()
    body = urlencode({"step": "confirm", "choice": agree})
    statuses: list[int] = []
    gate = threading.Barrier(SUBMISSIONS)

    def submit():
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        gate.wait()
        connection.request("POST", f"/b/{token}", body=body, headers={
            "Content-Type": "application/x-www-form-urlencoded"})
        statuses.append(connection.getresponse().status)
        connection.close()

    threads = [threading.Thread(target=submit) for _ in range(SUBMISSIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)

    assert len(statuses) == SUBMISSIONS
    assert statuses.count(200) == 1, sorted(set(statuses))
    assert statuses.count(409) == SUBMISSIONS - 1
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Participation).where(
        Participation.poll_id == poll.id, Participation.phase == "vote")) == 1
    result = close(session, poll)
    assert result.total(agree) == 1 and result.participated == 1
    assert session.execute(text("SELECT count(*) FROM cast_ballot WHERE poll_id = :p AND phase = 'vote'"),
                           {"p": poll.id}).scalar() == 1
