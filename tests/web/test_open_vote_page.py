"""The public page of an open vote says what the vote is, how to take part, until when, and
how many households have taken part so far (never what any of them chose)."""

from __future__ import annotations

from consult.audit.service import SYSTEM
from consult.polls import service
from consult.timeutil import format_datetime
from tests.support import polls as tp


def _section(page: str, element_id: str) -> str:
    start = page.index(f'id="{element_id}"')
    return page[start:page.index("</", page.index(">", start) + 1) if element_id != "how-to-vote"
                else page.index("</ol>", start)]


def test_an_open_online_vote_says_how_until_when_and_how_many(client, session):
    commune, group = tp.group_with_households(session, 8)
    poll = tp.open_vote(session, commune, [group])
    session.commit()
    url = f"/c/{commune.slug}/polls/{poll.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'id="under-way"' in page
    ends = page[page.index('id="ends"'):page.index("</p>", page.index('id="ends"'))]
    consent_ends = poll.consent_closes_at or poll.closes_at
    assert format_datetime(consent_ends) in ends
    assert "0</strong>/8 hộ" in page
    how = _section(page, "how-to-vote")
    assert 'href="/b/"' in how and "mã 10 ký tự" in how and "mã xác nhận" in how
    tp.pass_consent(session, poll)
    ballots = service.issue_ballots(session, SYSTEM, poll)
    for ballot in ballots[:3]:
        service.cast_online(session, ballot.token, tp.choice(poll, "agree"))
    session.commit()
    page = client.get(url).get_data(as_text=True)
    assert format_datetime(poll.closes_at) in page[page.index('id="ends"'):]
    assert "3</strong>/8 hộ tham gia (37,5%)" in page
    assert "Việc này được thông qua khi có hơn một nửa tổng số hộ gia đình của khu dân cư đồng ý." in page


def test_a_paper_vote_and_a_closed_vote(client, session):
    commune, group = tp.group_with_households(session, 4)
    poll = tp.open_vote(session, commune, [group], form="ballot", chosen_by_head_and_front=True)
    session.commit()
    page = client.get(f"/c/{commune.slug}/polls/{poll.id}").get_data(as_text=True)
    how = _section(page, "how-to-vote")
    assert "Tổ phát phiếu" in how and "/b/" not in how
    assert "0</strong>/4 hộ tham gia (0%)" in page
    poll.status = "closed"
    session.commit()
    assert 'id="under-way"' not in client.get(f"/c/{commune.slug}/polls/{poll.id}").get_data(as_text=True)
