"""The rules of issue #23's scenarios, each named with its article: votes of several groups
decided group by group, the 5 working days counted from the vote, the comment period counted
from instant to instant, and the working-day calendar corrected both ways."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from consult.audit.service import SYSTEM
from consult.consultations import service as consultations
from consult.mail import service as mail
from consult.mail.models import OutgoingMail
from consult.polls import deadlines, service
from consult.polls.models import DAY_OFF, DAY_WORK, PollHousehold
from consult.timeutil import parse_local_datetime
from tests.support.polls import choice, close, group_with_households, open_vote


def _groups(session, sizes, *, kind_name="Khu phố"):
    commune, first = group_with_households(session, sizes[0], name=f"{kind_name} 1", prefix="G1")
    groups = [first]
    for i, size in enumerate(sizes[1:], start=2):
        groups.append(group_with_households(session, size, commune=commune, name=f"{kind_name} {i}",
                                            prefix=f"G{i}")[1])
    return commune, groups


def _present(session, poll, group, count):
    rows = session.scalars(select(PollHousehold).where(PollHousehold.poll_id == poll.id,
                                                       PollHousehold.group_id == group.id)
                           .order_by(PollHousehold.code)).all()
    for h in rows[:count]:
        service.check_in(session, SYSTEM, poll, poll_household_id=h.id)


# --- 1. a matter of several groups: each community decides for itself ---------------------------

def test_dieu_21_k1_k6_meeting_of_three_groups_binds_each_group_by_its_own_households(session):
    """Điều 21 khoản 1: a k6 meeting of 3 of the 5 khu phố. 80/150 over the three would pass,
    but Khu phố 2 agreed 20 of its 50: it is not bound; the other two are."""
    commune, groups = _groups(session, [50, 50, 50, 40, 40])
    poll = open_vote(session, commune, groups[:3], matter="k6", form="meeting")
    agree, disagree = choice(poll, "agree"), choice(poll, "disagree")
    for group, yes in zip(groups[:3], (30, 20, 30)):
        _present(session, poll, group, 45)
        service.record_meeting_count(session, SYSTEM, poll, counts={agree: yes, disagree: 45 - yes},
                                     method="hands", group_id=group.id)
    result = close(session, poll)
    assert result.by_group
    assert [(g.group.name, g.passed, g.needed) for g in result.groups] == [
        ("Khu phố 1", True, 26), ("Khu phố 2", False, 26), ("Khu phố 3", True, 26)]
    assert "80/150" not in poll.outcome_text
    assert "Khu phố 2: không thông qua (20/50 hộ đồng ý, cần ít nhất 26)" in poll.outcome_text
    assert "Khu phố 1: thông qua (30/50 hộ đồng ý, cần ít nhất 26)" in poll.outcome_text


def test_dieu_21_k1_one_group_vote_is_still_decided_on_its_households(session):
    """A single group: the rule is unchanged (26 of 50 is more than half, 25 is not)."""
    commune, groups = _groups(session, [50])
    for yes, passed in ((26, True), (25, False)):
        poll = open_vote(session, commune, groups, matter="k6", form="meeting")
        _present(session, poll, groups[0], 50)
        service.record_meeting_count(session, SYSTEM, poll, counts={choice(poll, "agree"): yes},
                                     method="hands", group_id=groups[0].id)
        result = close(session, poll)
        assert not result.by_group and result.passed is passed
        assert poll.outcome_text.startswith(("Thông qua: " if passed else "Không thông qua: ") + f"{yes}/50")


def test_dieu_21_k1_an_election_of_several_groups_elects_in_each_group(session):
    """A choice between options over two groups: each group's option by its own households."""
    commune, groups = _groups(session, [10, 10])
    poll = open_vote(session, commune, groups, matter="k6", form="meeting", options=["Phương án A", "Phương án B"])
    a, b = (c.id for c in poll.choices)
    for group, counts in zip(groups, ({a: 6, b: 4}, {a: 4, b: 6})):
        _present(session, poll, group, 10)
        service.record_meeting_count(session, SYSTEM, poll, counts=counts, method="hands", group_id=group.id)
    result = close(session, poll)
    # Over the 20 households A and B tie at 10 (neither more than half); each group chose its own.
    assert result.by_group and [g.passed for g in result.groups] == [True, True]
    assert "Khu phố 1: Phương án được chọn: Phương án A (6/10 hộ)" in poll.outcome_text
    assert "Khu phố 2: Phương án được chọn: Phương án B (6/10 hộ)" in poll.outcome_text


# --- 2. commune-wide attendance, group by group ---------------------------------------------------

@pytest.mark.parametrize("last_present, decides", [(28, True), (27, False)])
def test_dieu_21_k1_commune_wide_meeting_attendance_is_counted_group_by_group(session, last_present, decides):
    """Điều 21 khoản 1: a commune-wide k1 meeting of 5 groups of 42 households (210). Four groups
    present at exactly their own two thirds (28 each, 112 in all) and one absent: 4 of 5 groups can
    decide, which is two thirds of the groups. Compared with two thirds of all 210 (140) it would
    fail. One household fewer in the fourth group leaves 3 of 5: not enough."""
    commune, groups = _groups(session, [42] * 5, kind_name="Thôn")
    poll = open_vote(session, commune, groups, matter="k1", form="meeting")
    present = [28, 28, 28, last_present, 0]
    for group, count in zip(groups, present):
        _present(session, poll, group, count)
    assert service.meeting_can_decide(session, poll) is decides
    agree = choice(poll, "agree")
    if decides:
        for group, count in zip(groups[:4], present):
            service.record_meeting_count(session, SYSTEM, poll, counts={agree: count}, method="hands",
                                         group_id=group.id)
    close(session, poll)
    if decides:
        assert poll.status == "decided" and poll.outcome_passed is True
        assert poll.outcome_text.startswith("Thông qua: 4/5 khu dân cư tán thành")
    else:
        assert poll.status == "closed" and poll.outcome_passed is None
        assert "Thôn 4 27/42 hộ có mặt, cần ít nhất 28" in poll.outcome_text
        assert "140" not in poll.outcome_text


def test_dieu_19_a_group_of_a_multi_group_meeting_may_decide_while_another_lacks_attendance(session):
    """A k6 meeting of two groups: one group present in full, the other with too few: the meeting
    decides (each group for itself); the second group's matter does not pass."""
    commune, groups = _groups(session, [10, 10])
    poll = open_vote(session, commune, groups, matter="k6", form="meeting")
    _present(session, poll, groups[0], 10)
    _present(session, poll, groups[1], 5)
    assert service.meeting_can_decide(session, poll)
    agree = choice(poll, "agree")
    service.record_meeting_count(session, SYSTEM, poll, counts={agree: 8}, method="hands", group_id=groups[0].id)
    service.record_meeting_count(session, SYSTEM, poll, counts={agree: 5}, method="hands", group_id=groups[1].id)
    result = close(session, poll)
    assert [g.passed for g in result.groups] == [True, False]


# --- 4. five working days from the end of the vote ------------------------------------------------

def _ended_meeting(session, *, ends: str, closed: str):
    commune, groups = _groups(session, [10])
    end = parse_local_datetime(ends)
    start = end - timedelta(hours=2)
    poll = open_vote(session, commune, groups, matter="k6", form="meeting", start=start,
                     closes_at=end, now=start)
    _present(session, poll, groups[0], 10)
    service.record_meeting_count(session, SYSTEM, poll, counts={choice(poll, "agree"): 9}, method="hands",
                                 group_id=groups[0].id, now=end)
    service.close_poll(session, SYSTEM, poll, now=parse_local_datetime(closed))
    groups[0].head_email = "truongkhupho@example.vn"
    session.flush()
    return poll


def test_dieu_20_k3_five_working_days_run_from_the_end_of_the_vote_not_the_click(session):
    """Điều 20 khoản 3: a vote that ended at 17:00 on 03/02/2027 (Tết 2027 from 04/02 to 10/02)
    and was closed on 12/02: due 17/02, not 19/02; the reminders move with it."""
    poll = _ended_meeting(session, ends="17:00 03/02/2027", closed="09:00 12/02/2027")
    assert deadlines.vote_ended_at(poll) == parse_local_datetime("17:00 03/02/2027")
    assert service.report_deadline(session, poll) == date(2027, 2, 17)
    reminders = service.deadline_reminders(session, service.Poll.id == poll.id, today=date(2027, 2, 18))
    assert [(r.deadline, r.overdue) for r in reminders] == [(date(2027, 2, 17), True)]
    # The mail to the head on 18/02 is the overdue one (due 17/02), not the "2 days left" one.
    mail.queue_deadline_reminders(session, now=parse_local_datetime("08:00 18/02/2027"))
    topics = [m.topic for m in session.scalars(select(OutgoingMail).where(OutgoingMail.poll_id == poll.id))]
    assert topics == [mail.TOPIC_SEND_LATE]


def test_dieu_20_k3_a_meeting_closed_before_its_set_end_counts_from_the_close(session):
    """A meeting that finished at 10:00 on 03/02/2027, two hours before its planned end, was over then."""
    poll = _ended_meeting(session, ends="12:00 03/02/2027", closed="10:00 03/02/2027")
    assert deadlines.vote_ended_at(poll) == parse_local_datetime("10:00 03/02/2027")
    assert service.report_deadline(session, poll) == date(2027, 2, 17)


# --- 5. the comment period, instant to instant ----------------------------------------------------

@pytest.mark.parametrize("closing, accepted", [
    ("00:00 09/10/2024", False),   # 19 days 14 hours
    ("09:59 09/10/2024", False),   # 19 days 23 hours 59 minutes
    ("10:00 09/10/2024", True),    # exactly 20 days
])
def test_dieu_28_k2_the_comment_period_is_compared_instant_to_instant(closing, accepted):
    """Luật Điều 28 khoản 2: at least 20 days from publication (10:00 on 19/09/2024)."""
    opens_at = parse_local_datetime("10:00 19/09/2024")
    closes_at = parse_local_datetime(closing)
    if accepted:
        consultations.check_period("nghi_quyet", opens_at, closes_at, None)
        return
    with pytest.raises(consultations.ConsultationError, match="chỉ có 19 ngày"):
        consultations.check_period("nghi_quyet", opens_at, closes_at, None)
    consultations.check_period("nghi_quyet", opens_at, closes_at, "Văn bản số 12/UBND: yêu cầu gấp")


# --- 6. the calendar, corrected both ways --------------------------------------------------------

def test_calendar_applies_the_holidays_package_s_own_swap(session):
    """Monday 31/08/2026 is off "thay cho ngày 22/08/2026": Saturday 22/08/2026 is then worked."""
    commune, _ = _groups(session, [1])
    work = deadlines.calendar(session, commune.id, date(2026, 8, 22))
    assert not work.is_working_day(date(2026, 8, 31))
    assert work.is_working_day(date(2026, 8, 22))
    assert not work.is_working_day(date(2026, 8, 29))  # an ordinary Saturday
    assert work.add_working_days(date(2026, 8, 21), 1) == date(2026, 8, 22)


def test_calendar_an_administrator_marks_a_weekday_of_the_package_s_tet_as_a_working_day(session):
    """The package's Tết 2027 is a projection: if the announced schedule has Thursday 04/02/2027
    worked, the administrator says so and the deadlines of Điều 20 khoản 3 follow."""
    poll = _ended_meeting(session, ends="17:00 03/02/2027", closed="18:00 03/02/2027")
    assert service.report_deadline(session, poll) == date(2027, 2, 17)
    service.add_local_day(session, SYSTEM, poll.commune_id, date(2027, 2, 4), "Làm việc theo lịch nghỉ Tết đã công bố",
                          DAY_WORK)
    assert service.report_deadline(session, poll) == date(2027, 2, 16)


def test_calendar_corrections_go_both_ways_and_refuse_what_changes_nothing(session):
    commune, _ = _groups(session, [1])
    # A day off on a Saturday the package has worked (22/08/2026), a working day on a Sunday.
    service.add_local_day(session, SYSTEM, commune.id, date(2026, 8, 22), "Không làm bù tại phường", DAY_OFF)
    service.add_local_day(session, SYSTEM, commune.id, date(2026, 8, 23), "Làm bù lễ hội", DAY_WORK)
    work = deadlines.calendar(session, commune.id, date(2026, 8, 22))
    assert not work.is_working_day(date(2026, 8, 22)) and work.is_working_day(date(2026, 8, 23))
    with pytest.raises(service.PollError, match="đã là ngày làm việc"):
        service.add_local_day(session, SYSTEM, commune.id, date(2026, 8, 25), "Thứ Ba thường", DAY_WORK)
    with pytest.raises(service.PollError, match="đã là ngày nghỉ"):
        service.add_local_day(session, SYSTEM, commune.id, date(2026, 9, 2), "Quốc khánh", DAY_OFF)
    with pytest.raises(service.PollError, match="đã là ngày nghỉ"):
        service.add_local_day(session, SYSTEM, commune.id, date(2026, 8, 29), "Thứ Bảy", DAY_OFF)


# --- rules decided from data, not from words (issue #25 point 4) ----------------------------------

def test_dieu_19_ballots_follow_a_failed_meeting_whatever_its_result_s_words(session):
    """Luật Điều 19: ballots may follow a meeting without enough households present. That is the
    meeting's state (closed, undecided), not its message: a reworded message changes nothing."""
    from tests.support.polls import poll_input

    commune, groups = _groups(session, [10])
    meeting = open_vote(session, commune, groups, matter="k1", form="meeting")
    _present(session, meeting, groups[0], 3)
    close(session, meeting)
    assert meeting.failed_for_attendance
    meeting.outcome_text = "Cuộc họp chưa đủ điều kiện biểu quyết (3/10 hộ có mặt)."
    ballots = service.follow_with_ballots(session, SYSTEM, meeting, poll_input(groups, matter="k1", form="ballot"))
    assert ballots.follows_meeting_id == meeting.id and ballots.form == "ballot"
    # A meeting that decided is no ground for ballots, whatever its words say.
    decided = open_vote(session, commune, groups, matter="k1", form="meeting")
    _present(session, decided, groups[0], 10)
    service.record_meeting_count(session, SYSTEM, decided, counts={choice(decided, "agree"): 4}, method="hands",
                                 group_id=groups[0].id)
    close(session, decided)
    decided.outcome_text = "Không đủ số hộ đồng ý: 4/10."
    assert not decided.failed_for_attendance
    with pytest.raises(service.PollError):
        service.follow_with_ballots(session, SYSTEM, decided, poll_input(groups, matter="k1", form="ballot"))


def test_dieu_21_k1_a_matter_of_some_groups_is_not_commune_wide(session):
    """Luật Điều 21 khoản 1: the commune-wide rule (two thirds of the groups, recognised by the
    UBND) is for a matter of the whole commune. A khoản 1 matter of 2 of its 3 groups is decided by
    each of them for itself and takes effect when passed; of all 3 it is commune-wide."""
    from consult.polls import rules

    commune, groups = _groups(session, [10, 10, 10])
    some = open_vote(session, commune, groups[:2], matter="k1", form="meeting")
    assert some.several_groups and not some.commune_wide
    assert rules.recognition(some.matter_kind, some.commune_wide).by is None
    every = open_vote(session, commune, groups, matter="k1", form="meeting")
    assert every.several_groups and every.commune_wide
    assert rules.recognition(every.matter_kind, every.commune_wide).by == "ubnd"
    agree = choice(some, "agree")
    for group, yes in zip(groups[:2], (7, 6)):  # two thirds of 10 is 7
        _present(session, some, group, 10)
        service.record_meeting_count(session, SYSTEM, some, counts={agree: yes}, method="hands", group_id=group.id)
    result = close(session, some)
    assert result.by_group and [g.passed for g in result.groups] == [True, False]
    assert "Khu phố 2: không thông qua (6/10 hộ đồng ý, cần ít nhất 7)" in some.outcome_text


def test_nd59_dieu_5_no_online_vote_over_several_groups_commune_wide_or_not(session):
    """NĐ 59 Điều 5: the head organises an online vote within one group: neither two of the
    commune's groups nor all of them."""
    from tests.support.polls import poll_input

    commune, groups = _groups(session, [5, 5, 5])
    for chosen in (groups[:2], groups):
        with pytest.raises(service.PollError, match="trong phạm vi một khu dân cư"):
            service.create_poll(session, SYSTEM, commune, poll_input(chosen, matter="k6", form="online"))
