"""Every rule that depends on "today" uses the date in Asia/Ho_Chi_Minh, never the UTC date.

Each test stands at an instant where the two dates differ (17:00 to 24:00 UTC is
already the next day in Hà Nội) and would fail if the rule took the UTC date.
"""

from __future__ import annotations

import io
import os
from datetime import date, datetime, timedelta, timezone

import pytest
from docx import Document

from consult.audit.service import SYSTEM
from consult.consultations import service as consultations
from consult.opinions import service as opinions
from consult.consultations.service import ConsultationClosed
from consult.polls import documents, rules
from consult.polls import service as polls
from consult.polls.models import Participation, PollHousehold
from consult.timeutil import format_date, local_date, parse_local_datetime, today, vietnamese_long_date
from tests.support.helpers import make_commune, make_consultation, make_group
from tests.support.polls import choice, group_with_households, open_vote, poll_input
from tests.support.polls import shares as board_shares

UTC = timezone.utc

# The instants CI also runs the whole suite at (under libfaketime).
CI_INSTANTS = [
    (datetime(2026, 11, 22, 17, 30, tzinfo=UTC), date(2026, 11, 23)),
    (datetime(2026, 12, 31, 23, 59, 30, tzinfo=UTC), date(2027, 1, 1)),
    (datetime(2027, 2, 5, 16, 59, 50, tzinfo=UTC), date(2027, 2, 5)),
    (datetime(2027, 2, 5, 17, 0, 0, tzinfo=UTC), date(2027, 2, 6)),
]


@pytest.mark.parametrize("now,expected", CI_INSTANTS)
def test_today_is_the_date_in_ha_noi(now, expected):
    assert today(now) == expected


@pytest.mark.parametrize("instant,expected", CI_INSTANTS)
def test_today_without_an_argument_reads_the_clock_in_ha_noi(monkeypatch, instant, expected):
    """``today()`` reads timeutil's one clock (``utcnow``) and takes the date in Hà Nội of
    it: at these instants the UTC date, or the machine's own date, is another day."""
    import consult.timeutil as timeutil
    from zoneinfo import ZoneInfo

    assert instant.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).date() == expected  # independently of timeutil
    monkeypatch.setattr(timeutil, "utcnow", lambda: instant)
    assert timeutil.today() == expected


@pytest.mark.skipif("faketime" not in os.environ.get("LD_PRELOAD", ""), reason="only under libfaketime")
def test_today_without_an_argument_is_the_date_in_ha_noi_of_the_faked_clock():
    """Under CI's libfaketime pass (instants where the two dates differ), the real clock."""
    from zoneinfo import ZoneInfo

    before = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    got = today()
    after = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    assert got in {before, after}


def test_nothing_but_timeutil_computes_a_date_from_a_clock():
    """One helper gives today's date; no module takes a date from the UTC or the machine's clock."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[2] / "consult"
    forbidden = re.compile(r"date\.today\(|datetime\.now\(\)|datetime\.utcnow|utcnow\(\)\.date\(\)|"
                           r"to_local\([^)]*\)\.date\(\)|\.astimezone\([^)]*\)\.date\(\)")
    offenders = [f"{path.relative_to(root)}:{n}" for path in root.rglob("*.py") if path.name != "timeutil.py"
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if forbidden.search(line)]
    assert offenders == []


def test_closing_at_17h00_local_is_10h00_utc(session):
    """'gửi về trước 17h00 ngày 10/10/2024' closes at 17:00 in Hà Nội (Luật Điều 28 khoản 2)."""
    closes_at = parse_local_datetime("17h00 ngày 10/10/2024")
    assert closes_at == datetime(2024, 10, 10, 10, 0, tzinfo=UTC)
    commune = make_commune(session)
    group = make_group(session, commune)
    opens_at = closes_at - timedelta(days=21)
    c = make_consultation(session, commune, [], now=opens_at, days=21)
    c.closes_at = closes_at
    session.flush()
    opinions.add_resident_opinion(session, c, part_id=None, text="Đúng giờ.", name="Nguyễn Văn A",
                                  group_id=group.id, now=closes_at - timedelta(seconds=1))
    with pytest.raises(ConsultationClosed, match="17:00 10/10/2024"):
        opinions.add_resident_opinion(session, c, part_id=None, text="Trễ một giây.", name="Nguyễn Văn B",
                                      group_id=group.id, now=closes_at + timedelta(seconds=1))


def test_twenty_day_rule_counts_days_in_ha_noi():
    """Luật Điều 28 khoản 2: at least 20 days. Published at 00:30 on 23/11 in Hà Nội (22/11 in UTC)
    and closing at 17h00 on 12/12 is 19 days, though the UTC dates are 20 apart."""
    opens_at = datetime(2026, 11, 22, 17, 30, tzinfo=UTC)
    closes_at = parse_local_datetime("17:00 12/12/2026")
    assert (closes_at.date() - opens_at.date()).days == 20  # what a UTC count would say
    with pytest.raises(consultations.ConsultationError, match="chỉ có 19 ngày"):
        consultations.check_period("nghi_quyet", opens_at, closes_at, None)
    consultations.check_period("nghi_quyet", opens_at, parse_local_datetime("17:00 13/12/2026"), None)


def _decided_meeting(session, decided_at):
    commune, group = group_with_households(session, 10)
    start = decided_at - timedelta(days=1)
    poll = polls.create_poll(session, SYSTEM, commune, poll_input([group], form="meeting", start=start), now=start)
    polls.open_poll(session, SYSTEM, poll, now=start)
    for h in session.query(PollHousehold).filter_by(poll_id=poll.id).all()[:8]:
        polls.check_in(session, SYSTEM, poll, poll_household_id=h.id)
    polls.record_meeting_count(session, SYSTEM, poll, counts={choice(poll, "agree"): 8}, method="hands",
                               now=decided_at)
    polls.close_poll(session, SYSTEM, poll, now=decided_at)
    session.flush()
    return poll


def test_five_working_days_start_from_the_day_in_ha_noi(session):
    """Luật Điều 20 khoản 3: sent within 5 working days. Decided at 00:30 on Friday 27/11/2026 in
    Hà Nội (Thursday 26/11 in UTC): the deadline is Friday 04/12, not Thursday 03/12."""
    decided_at = datetime(2026, 11, 26, 17, 30, tzinfo=UTC)
    poll = _decided_meeting(session, decided_at)
    assert local_date(poll.decided_at) == date(2026, 11, 27)
    assert polls.report_deadline(session, poll) == date(2026, 12, 4)
    assert rules.add_working_days(decided_at.date(), 5, set()) == date(2026, 12, 3)  # the UTC mistake
    reminders = polls.deadline_reminders(session, polls.Poll.id == poll.id, today=today(
        datetime(2026, 12, 4, 16, 59, tzinfo=UTC)))
    assert [r.overdue for r in reminders] == [False]
    reminders = polls.deadline_reminders(session, polls.Poll.id == poll.id, today=today(
        datetime(2026, 12, 4, 17, 0, tzinfo=UTC)))
    assert [r.overdue for r in reminders] == [True]
    # The decision was taken on 27/11 in Hà Nội: sending it on that day is not "before the vote".
    polls.mark_sent(session, SYSTEM, poll, date(2026, 11, 27))


def test_document_date_line_is_the_date_in_ha_noi(session):
    """NĐ 30 Phụ lục I: the date line of the decision is the day it was taken, in Hà Nội."""
    decided_at = datetime(2026, 12, 31, 23, 59, 30, tzinfo=UTC)
    poll = _decided_meeting(session, decided_at)
    text = "\n".join(p.text for p in Document(io.BytesIO(documents.decision_docx(session, poll))).paragraphs)
    text += "\n".join(cell.text for t in Document(io.BytesIO(documents.decision_docx(session, poll))).tables
                      for row in t.rows for cell in row.cells)
    assert "ngày 01 tháng 01 năm 2027" in text
    assert "năm 2026" not in text.split("CỘNG HÒA")[0] + text.split("Độc lập")[-1][:80]


def test_nd30_date_pads_the_day_and_only_months_one_and_two():
    assert vietnamese_long_date(date(2025, 1, 5), "Bình An") == "Bình An, ngày 05 tháng 01 năm 2025"
    assert vietnamese_long_date(date(2025, 2, 9)) == "ngày 09 tháng 02 năm 2025"
    assert vietnamese_long_date(date(2025, 4, 5)) == "ngày 05 tháng 4 năm 2025"
    assert vietnamese_long_date(date(2025, 11, 20)) == "ngày 20 tháng 11 năm 2025"


def test_a_household_has_voted_on_the_day_in_ha_noi(session):
    """The participation mark keeps the day only, and that day is the one in Hà Nội."""
    commune, group = group_with_households(session, 4)
    start = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
    poll = open_vote(session, commune, [group], start=start, now=start)
    shares = board_shares(poll)
    ballots = polls.issue_ballots(session, SYSTEM, poll, now=start)
    for ballot in ballots:
        polls.cast_online(session, ballot.token, "agree", now=start + timedelta(hours=1))
    polls.close_consent(session, SYSTEM, poll, shares=shares, now=start + timedelta(hours=2))
    cast_at = datetime(2026, 11, 22, 17, 30, tzinfo=UTC)
    polls.cast_online(session, ballots[0].token, choice(poll, "agree"), now=cast_at)
    days = {p.voted_on for p in session.query(Participation).filter_by(poll_id=poll.id)}
    assert date(2026, 11, 23) in days and date(2026, 11, 22) not in days
    assert format_date(cast_at) == "23/11/2026"


@pytest.mark.skipif(not os.environ.get("CONSULT_TEST_FAKETIME"), reason="only in CI's faked-clock pass")
def test_the_faked_clock_is_in_force(now):
    """CI's libfaketime pass names the UTC instant it starts at; this proves the clock is faked."""
    start = datetime.fromisoformat(os.environ["CONSULT_TEST_FAKETIME"]).replace(tzinfo=UTC)
    assert start <= now < start + timedelta(hours=1)
    assert today(now) == (now + timedelta(hours=7)).date()
