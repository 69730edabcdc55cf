"""A slip reopened after voting shows the household's receipt again and where to check it; the
receipt is kept sealed under a key only the slip gives, so the table alone links no household
to any ballot."""

from __future__ import annotations

import re

from sqlalchemy import select

from consult.audit.service import SYSTEM
from consult.polls import service
from consult.polls.ballots import find_token
from consult.polls.models import Participation
from tests.support.helpers import post_form
from tests.support.polls import choice, group_with_households, open_vote, pass_consent


def _receipt(page: str) -> str | None:
    found = re.search(r'<strong id="receipt-kept">([^<]+)</strong>', page)
    return found.group(1) if found else None


def test_a_reopened_slip_shows_its_receipt_the_way_it_was_cast(client, session):
    commune, group = group_with_households(session, 4)
    poll = open_vote(session, commune, [group])
    pass_consent(session, poll)
    ballots = service.issue_ballots(session, SYSTEM, poll)
    by_link = service.cast_online(session, ballots[0].token, choice(poll, "agree"))
    by_code = service.cast_online(session, None, choice(poll, "agree"), code=ballots[1].code)
    session.commit()

    page = client.get(f"/b/{ballots[0].token}").get_data(as_text=True)
    assert _receipt(page) == by_link and f"receipt={by_link}" in page
    page = post_form(client, "/b/", {"code": ballots[1].code.lower()}).get_data(as_text=True)
    assert _receipt(page) == by_code
    # Opened the other way, each slip says which way opens its receipt.
    page = post_form(client, "/b/", {"code": ballots[0].code}).get_data(as_text=True)
    assert _receipt(page) is None and 'id="receipt-elsewhere"' in page and "mã QR trên phiếu" in page
    page = client.get(f"/b/{ballots[1].token}").get_data(as_text=True)
    assert _receipt(page) is None and "mã nhập tay" in page
    # A household that has not voted has no receipt to show.
    assert "receipt-" not in client.get(f"/b/{ballots[2].token}").get_data(as_text=True)


def test_attack_the_participation_table_alone_names_no_household_s_ballot(session):
    """Whoever reads ``participation`` sees sealed bytes: not the receipt, not its bulletin line;
    a wrong slip opens nothing; the same receipt sealed for two households differs."""
    commune, group = group_with_households(session, 3)
    poll = open_vote(session, commune, [group])
    pass_consent(session, poll)
    ballots = service.issue_ballots(session, SYSTEM, poll)
    receipts = [service.cast_online(session, b.token, choice(poll, "agree")) for b in ballots[:2]]
    session.flush()
    sealed = list(session.scalars(select(Participation.sealed_receipt).where(
        Participation.poll_id == poll.id, Participation.phase == "vote")))
    assert len(sealed) == 2 and all(s and s[:1] == b"T" for s in sealed)
    for receipt in receipts:
        assert all(receipt.encode() not in s and receipt.replace("-", "").encode() not in s for s in sealed)
    live = find_token(session, token=ballots[0].token)
    assert service.open_receipt(live, token=ballots[0].token).receipt == receipts[0]
    assert service.open_receipt(live, token=ballots[1].token).receipt is None
    assert service.open_receipt(live, code=ballots[0].code).receipt is None
