"""Votes end to end through the service: forms, consent, thresholds, slips, secrecy."""

from datetime import timedelta

import pytest
from sqlalchemy import func, inspect, select, text

from consult.audit.service import SYSTEM
from consult.communes.models import Household
from consult.polls import rules, service
from consult.polls.models import CastBallot, Participation, PollHousehold
from tests.support.helpers import make_commune
from tests.support.polls import (after_the_end, choice, close, group_with_households, hand_in_paper, open_vote,
                                 pass_consent, poll_input, shares)


def test_khoan_6_online_120_households_61_agree_passes(session):
    commune, group = group_with_households(session, 120)
    poll = open_vote(session, commune, [group])
    assert pass_consent(session, poll)
    ballots = service.issue_ballots(session, SYSTEM, poll)
    for ballot in ballots[:61]:
        service.cast_online(session, ballot.token, choice(poll, "agree"))
    result = close(session, poll)
    assert result.passed and result.summary == "61/120 hộ đồng ý, cần ít nhất 61"
    assert poll.outcome_text.startswith("Thông qua")


def test_60_agree_and_5_disagree_of_120_does_not_pass(session):
    commune, group = group_with_households(session, 120)
    poll = open_vote(session, commune, [group])
    pass_consent(session, poll)
    ballots = service.issue_ballots(session, SYSTEM, poll)
    for ballot in ballots[:60]:
        service.cast_online(session, ballot.token, choice(poll, "agree"))
    for ballot in ballots[60:65]:
        service.cast_online(session, ballot.token, choice(poll, "disagree"))
    result = close(session, poll)
    assert not result.passed and result.summary == "60/120 hộ đồng ý, cần ít nhất 61"
    assert result.participated == 65


def test_consent_round_of_60_of_120_refuses_online_voting(session):
    commune, group = group_with_households(session, 120)
    poll = open_vote(session, commune, [group])
    ballots = service.issue_ballots(session, SYSTEM, poll)
    for ballot in ballots[:60]:
        service.cast_online(session, ballot.token, "agree")
    assert not service.close_consent(session, SYSTEM, poll, shares=shares(poll))
    assert poll.status == "closed" and "chỉ 60/120 hộ đồng ý biểu quyết trực tuyến" in poll.outcome_text
    before = session.scalar(select(func.count()).select_from(Participation))
    with pytest.raises(service.BallotRejected, match="đã kết thúc"):
        service.cast_online(session, ballots[100].token, choice(poll, "agree"))
    with pytest.raises(service.PollError, match="đang mở"):
        service.issue_ballots(session, SYSTEM, poll)
    assert session.scalar(select(func.count()).select_from(Participation)) == before


def test_online_vote_on_khoan_4_is_refused_with_the_reason(session):
    commune, group = group_with_households(session, 10)
    with pytest.raises(service.PollError, match="khoản 4 Điều 15.*khoản 6"):
        service.create_poll(session, SYSTEM, commune, poll_input([group], matter="k4", form="online"))


def test_online_preconditions_must_be_recorded(session):
    commune, group = group_with_households(session, 10)
    with pytest.raises(service.PollError, match="báo cáo Ủy ban nhân dân"):
        service.create_poll(session, SYSTEM, commune, poll_input([group], reported_on=None))
    with pytest.raises(service.PollError, match="3 đến 5"):
        service.create_poll(session, SYSTEM, commune, poll_input([group], committee=service_committee(2)))


def service_committee(n):
    return [service.CommitteeInput(f"Người {i}", "Đại diện Ban công tác Mặt trận" if i == 0 else "Thành viên",
                                   i == 0) for i in range(n)]


def test_khoan_1_paper_ballots_79_fails_80_passes_and_a_second_stub_counts_once(session):
    """Luật Điều 21 khoản 1: two thirds of all 120 households (80); Điều 19: ballots after a failed meeting."""
    commune = make_commune(session)
    for agree, expected in ((79, False), (80, True)):
        commune, group = group_with_households(session, 120, name=f"Khu phố {agree}", prefix=f"P{agree}",
                                               commune=commune)
        meeting = open_vote(session, commune, [group], matter="k1", form="meeting")
        failed = service.close_poll(session, SYSTEM, meeting)  # nobody came
        assert meeting.outcome_text.startswith("Không đủ số hộ tham dự") and not failed.passed
        poll = open_vote(session, commune, [group], matter="k1", form="ballot", follows_meeting_id=meeting.id)
        ballots = service.issue_ballots(session, SYSTEM, poll)
        hand_in_paper(session, poll, ballots[:agree + 5], {group.id: {choice(poll, "agree"): agree,
                                                                      choice(poll, "disagree"): 5}})
        household, new = service.record_stub(session, SYSTEM, poll, token_value=ballots[0].token)
        assert not new and household.code == ballots[0].household.code
        result = close(session, poll)
        assert result.passed is expected
        assert result.summary == f"{agree}/120 hộ đồng ý, cần ít nhất 80"
        assert result.total(choice(poll, "disagree")) == 5 and result.participated == agree + 5


def test_khoan_1_ballots_need_a_ground(session):
    commune, group = group_with_households(session, 10)
    with pytest.raises(service.PollError, match="Chỉ phát phiếu"):
        service.create_poll(session, SYSTEM, commune, poll_input([group], matter="k1", form="ballot"))


def test_khoan_3_ballots_only_after_a_failed_meeting_of_the_same_matter(session):
    commune, group = group_with_households(session, 10)
    with pytest.raises(service.PollError, match="cuộc họp"):
        service.create_poll(session, SYSTEM, commune, poll_input([group], matter="k3", form="ballot",
                                                                 chosen_by_head_and_front=True))
    other = open_vote(session, commune, [group], matter="k6", form="meeting")
    close(session, other)
    with pytest.raises(service.PollError, match="cùng nội dung"):
        service.create_poll(session, SYSTEM, commune, poll_input([group], matter="k3", form="ballot",
                                                                 follows_meeting_id=other.id))


def test_commune_wide_khoan_1_counts_groups_each_by_its_own_households(session):
    commune, g1 = group_with_households(session, 30, name="Khu phố 1", prefix="A")
    _, g2 = group_with_households(session, 30, commune=commune, name="Khu phố 2", prefix="B")
    _, g3 = group_with_households(session, 30, commune=commune, name="Khu phố 3", prefix="C")
    poll = open_vote(session, commune, [g1, g2, g3], matter="k1", form="ballot", chosen_by_chairman=True)
    ballots = service.issue_ballots(session, SYSTEM, poll)
    by_group = {}
    for b in ballots:
        by_group.setdefault(b.household.group_id, []).append(b)
    returned = [b for group, agree in ((g1, 20), (g2, 20), (g3, 5)) for b in by_group[group.id][:agree]]
    hand_in_paper(session, poll, returned, {g1.id: {choice(poll, "agree"): 20}, g2.id: {choice(poll, "agree"): 20},
                                            g3.id: {choice(poll, "agree"): 5}})
    result = close(session, poll)
    assert [g.passed for g in result.groups] == [True, True, False]
    assert result.passed and result.summary.startswith("2/3 khu dân cư tán thành, cần ít nhất 2")


def test_register_snapshot_keeps_the_denominator_of_an_open_vote(session):
    commune, group = group_with_households(session, 10)
    poll = open_vote(session, commune, [group], form="meeting")
    session.add(Household(commune_id=commune.id, group_id=group.id, code="KP1-999", representative="Hộ mới",
                          address="Số 99"))
    session.delete(session.scalar(select(Household).where(Household.code == "KP1-001")))
    session.flush()
    assert service.total_households(poll) == 10
    assert service.tally(session, poll).households == 10


def test_bad_tokens_and_choices_are_refused_and_record_nothing(session, now):
    commune, group = group_with_households(session, 5)
    poll = open_vote(session, commune, [group])
    pass_consent(session, poll)
    first = service.issue_ballots(session, SYSTEM, poll)
    second = service.issue_ballots(session, SYSTEM, poll, household_ids=[first[0].household.id])
    before = session.scalar(select(func.count()).select_from(Participation).where(Participation.phase == "vote"))
    with pytest.raises(service.BallotRejected, match="không đúng"):
        service.cast_online(session, "khong-co-ma-nay", choice(poll, "agree"))
    with pytest.raises(service.BallotRejected, match="đã bị hủy"):
        service.cast_online(session, first[0].token, choice(poll, "agree"))
    with pytest.raises(service.BallotRejected, match="không thuộc"):
        service.cast_online(session, second[0].token, 999999)
    with pytest.raises(service.BallotRejected, match="ý kiến khác"):
        service.cast_online(session, second[0].token, choice(poll, "other"), other_text="  ")
    assert session.scalar(select(func.count()).select_from(Participation).where(Participation.phase == "vote")) == before
    receipt = service.cast_online(session, second[0].token, choice(poll, "agree"))
    with pytest.raises(service.AlreadyVoted, match="Hộ này đã biểu quyết ngày"):
        service.cast_online(session, second[0].token, choice(poll, "disagree"))
    assert service.receipt_published(session, poll, receipt)
    late = now + timedelta(days=30)
    with pytest.raises(service.BallotRejected, match="hết thời gian"):
        service.cast_online(session, first[1].token, choice(poll, "agree"), now=late)
    close(session, poll)
    with pytest.raises(service.BallotRejected, match="đã kết thúc"):
        service.cast_online(session, first[2].token, choice(poll, "agree"))


def test_meeting_counts_add_up_over_clusters_and_cannot_exceed_attendance(session):
    """Luật Điều 18 khoản 3: a group of 200 households or more may meet by clusters, whose results add up."""
    commune, group = group_with_households(session, 200)
    poll = open_vote(session, commune, [group], form="meeting")
    households = list(session.scalars(select(PollHousehold).where(PollHousehold.poll_id == poll.id)))
    for h in households[:60]:
        service.check_in(session, SYSTEM, poll, poll_household_id=h.id, cluster="Cụm 1")
    for h in households[60:120]:
        service.check_in(session, SYSTEM, poll, poll_household_id=h.id, cluster="Cụm 2")
    with pytest.raises(service.PollError, match="vượt quá số hộ có mặt"):
        service.record_meeting_count(session, SYSTEM, poll, counts={choice(poll, "agree"): 61}, method="hands",
                                     cluster="Cụm 1")
    service.record_meeting_count(session, SYSTEM, poll, counts={choice(poll, "agree"): 51}, method="hands",
                                 cluster="Cụm 1")
    service.record_meeting_count(session, SYSTEM, poll, counts={choice(poll, "agree"): 50}, method="secret", returned=50, invalid=0,
                                 cluster="Cụm 2")
    result = close(session, poll)
    assert result.passed and result.summary == "101/200 hộ đồng ý, cần ít nhất 101"
    assert [h.code for h in service.participants(session, poll)] == [h.code for h in households[:120]]


def test_clusters_only_for_groups_of_200_households(session):
    """Luật Điều 18 khoản 3: under 200 households the group meets as one."""
    commune, group = group_with_households(session, 199)
    poll = open_vote(session, commune, [group], form="meeting")
    household = session.scalars(select(PollHousehold).where(PollHousehold.poll_id == poll.id)).first()
    with pytest.raises(service.PollError, match="từ 200 hộ trở lên"):
        service.check_in(session, SYSTEM, poll, poll_household_id=household.id, cluster="Cụm 1")
    service.check_in(session, SYSTEM, poll, poll_household_id=household.id)
    assert service.attendance_count(session, poll) == 1


def test_a_meeting_opens_only_when_announced_three_days_before(session, now):
    """The meeting's notice (practice, rules.MEETING_NOTICE_DAYS: the law sets no number
    of days): no notice date, or one two days before, and the meeting does not open;
    three days before, it does. Counted in days of Hà Nội."""
    from datetime import datetime, time

    from consult.timeutil import local_date, local_to_utc

    commune, group = group_with_households(session, 10)
    meeting_day = local_date(now) + timedelta(days=3)
    start = local_to_utc(datetime.combine(meeting_day, time(19, 30)))
    later = start + timedelta(days=7)
    unannounced = service.create_poll(session, SYSTEM, commune, poll_input([group], form="meeting", start=start,
                                                                           announced_on=None), now=now)
    with pytest.raises(service.PollError, match="chưa ghi ngày thông báo"):
        service.open_poll(session, SYSTEM, unannounced, now=now)
    late = service.create_poll(session, SYSTEM, commune, poll_input(
        [group], form="meeting", start=start, announced_on=meeting_day - timedelta(days=2)), now=now)
    with pytest.raises(service.PollError, match="ít nhất 3 ngày trước ngày họp"):
        service.open_poll(session, SYSTEM, late, now=now)
    assert late.status == "draft" and not session.scalar(
        select(func.count()).select_from(PollHousehold).where(PollHousehold.poll_id == late.id))
    # announced for tomorrow: not yet given, so not yet opened
    ahead = service.create_poll(session, SYSTEM, commune, poll_input(
        [group], form="meeting", start=later, announced_on=local_date(now) + timedelta(days=1)), now=now)
    with pytest.raises(service.PollError, match="chưa đến"):
        service.open_poll(session, SYSTEM, ahead, now=now)
    on_time = service.create_poll(session, SYSTEM, commune, poll_input(
        [group], form="meeting", start=start, announced_on=meeting_day - timedelta(days=3)), now=now)
    service.open_poll(session, SYSTEM, on_time, now=now)
    assert on_time.status == "open"
    with pytest.raises(service.PollError, match="trước ngày họp"):
        service.create_poll(session, SYSTEM, commune, poll_input(
            [group], form="meeting", start=start, announced_on=meeting_day + timedelta(days=1)), now=now)


def _present(session, poll, count, group=None):
    rows = session.scalars(select(PollHousehold).where(PollHousehold.poll_id == poll.id)).all()
    rows = [h for h in rows if group is None or h.group_id == group.id]
    for h in rows[:count]:
        service.check_in(session, SYSTEM, poll, poll_household_id=h.id)


def test_election_of_a_truong_thon_counts_each_candidate(session):
    """Luật Điều 15 khoản 4; NĐ 59/2023 Điều 6-9: a candidate is elected with more than half of ALL
    households. 90 households, A 25, B 55: B is elected (not "không thông qua 25/90")."""
    commune, group = group_with_households(session, 90)
    poll = open_vote(session, commune, [group], matter="k4", form="meeting",
                     options=["Nguyễn Văn A", "Trần Thị B"])
    assert [c.kind for c in poll.choices] == ["candidate", "candidate"]
    _present(session, poll, 85)
    a, b = (c.id for c in poll.choices)
    service.record_meeting_count(session, SYSTEM, poll, counts={a: 25, b: 55}, method="secret", returned=85, invalid=5)
    result = close(session, poll)
    assert result.passed and [c.label for c in result.elected] == ["Trần Thị B"]
    assert result.summary == "Trúng cử: Trần Thị B (55/90 hộ), cần ít nhất 46"
    assert poll.outcome_text.startswith("Thông qua: Trúng cử: Trần Thị B")


def test_election_where_nobody_reaches_half_elects_no_one(session):
    """NĐ 59/2023: nobody over half of all households → no one is elected, and the outcome says so."""
    commune, group = group_with_households(session, 90)
    poll = open_vote(session, commune, [group], matter="k4", form="meeting", options=["A", "B", "C"])
    _present(session, poll, 90)
    a, b, c = (ch.id for ch in poll.choices)
    service.record_meeting_count(session, SYSTEM, poll, counts={a: 40, b: 30, c: 20}, method="secret", returned=90, invalid=0)
    result = close(session, poll)
    assert not result.passed and result.elected == []
    assert "Không ứng cử viên nào đạt hơn một nửa" in result.summary and "còn 1/1 chỗ chưa bầu được" in result.summary


def test_two_seat_election_of_three_candidates(session):
    """Luật Điều 15 khoản 5 (Ban Thanh tra nhân dân): those above half of all households are elected in
    order of votes, up to the seats; each ballot names up to two."""
    commune, group = group_with_households(session, 100)
    poll = open_vote(session, commune, [group], matter="k5", form="meeting", options=["An", "Bình", "Cúc"], seats=2)
    assert poll.seats == 2
    _present(session, poll, 95)
    an, binh, cuc = (c.id for c in poll.choices)
    with pytest.raises(service.PollError, match="nhân số chỗ cần bầu"):
        service.record_meeting_count(session, SYSTEM, poll, counts={an: 95, binh: 95, cuc: 1}, method="secret", returned=95, invalid=0)
    service.record_meeting_count(session, SYSTEM, poll, counts={an: 80, binh: 51, cuc: 58}, method="secret", returned=95, invalid=0)
    result = close(session, poll)
    assert [c.label for c in result.elected] == ["An", "Cúc"]
    assert result.summary == "Trúng cử: An (80/100 hộ); Cúc (58/100 hộ), cần ít nhất 51"


def test_a_tie_for_the_last_seat_elects_neither(session):
    assert rules.elected([(1, 60), (2, 55), (3, 55)], "k5", 100, 2) == ([1], [2, 3])
    assert rules.elected([(1, 60), (2, 55), (3, 40)], "k5", 100, 2) == ([1, 2], [])
    assert rules.elected([(1, 50), (2, 50)], "k4", 100, 1) == ([], [])


def test_k4_elects_one_and_seats_need_candidates(session):
    commune, group = group_with_households(session, 10)
    with pytest.raises(service.PollError, match="chỉ một người"):
        service.create_poll(session, SYSTEM, commune, poll_input([group], matter="k4", form="meeting",
                                                                 options=["A", "B"], seats=2))
    with pytest.raises(service.PollError, match="từ 1 đến số ứng cử viên"):
        service.create_poll(session, SYSTEM, commune, poll_input([group], matter="k5", form="meeting",
                                                                 options=["A", "B"], seats=3))
    with pytest.raises(service.PollError, match="mới bầu nhiều người"):
        service.create_poll(session, SYSTEM, commune, poll_input([group], matter="k6", form="meeting", seats=2))


def test_a_meeting_of_three_groups_counts_each_group(session):
    """Luật Điều 21 khoản 1: each group decides by its own households; a commune-wide k1 matter
    passes when two thirds of the groups pass by their own two thirds."""
    commune, g1 = group_with_households(session, 30, prefix="A")
    _, g2 = group_with_households(session, 30, commune=commune, name="Khu phố 2", prefix="B")
    _, g3 = group_with_households(session, 30, commune=commune, name="Khu phố 3", prefix="C")
    poll = open_vote(session, commune, [g1, g2, g3], matter="k6", form="meeting")
    agree = choice(poll, "agree")
    for group, present in ((g1, 25), (g2, 20), (g3, 10)):
        _present(session, poll, present, group)
    with pytest.raises(service.PollError, match="Hãy chọn khu dân cư"):
        service.record_meeting_count(session, SYSTEM, poll, counts={agree: 5}, method="hands")
    with pytest.raises(service.PollError, match="vượt quá số hộ có mặt \\(10\\)"):
        service.record_meeting_count(session, SYSTEM, poll, counts={agree: 11}, method="hands", group_id=g3.id)
    for group, yes in ((g1, 24), (g2, 16), (g3, 10)):
        service.record_meeting_count(session, SYSTEM, poll, counts={agree: yes}, method="hands", group_id=group.id)
    result = close(session, poll)
    assert [(g.participated, g.agree) for g in result.groups] == [(25, 24), (20, 16), (10, 10)]
    # Not "50/90, cần 46" over the three: each group by its own 30 households (16 needed).
    assert result.by_group and [g.passed for g in result.groups] == [True, True, False]
    assert "Khu phố 3: không thông qua (10/30 hộ đồng ý, cần ít nhất 16)" in result.summary


def test_commune_wide_k1_with_five_groups_four_passing(session):
    """Luật Điều 21 khoản 1: k1 over the commune passes when two thirds of the groups (4 of 5 ≥ 4) pass,
    each by two thirds of its own households."""
    commune, first = group_with_households(session, 12, prefix="G0")
    groups = [first] + [group_with_households(session, 12, commune=commune, name=f"Thôn {i}", prefix=f"G{i}")[1]
                        for i in range(1, 5)]
    meeting = open_vote(session, commune, groups, matter="k1", form="meeting")
    close(session, meeting)  # nobody came: ballots may follow (Điều 19)
    poll = open_vote(session, commune, groups, matter="k1", form="ballot", follows_meeting_id=meeting.id)
    ballots = service.issue_ballots(session, SYSTEM, poll)
    agree = choice(poll, "agree")
    yes = {g.id: (8 if i < 4 else 7) for i, g in enumerate(groups)}
    hand_in_paper(session, poll, ballots, {g.id: {agree: yes[g.id], choice(poll, "disagree"): 12 - yes[g.id]}
                                           for g in groups})
    result = close(session, poll)
    assert [g.passed for g in result.groups] == [True, True, True, True, False]
    assert result.passed and result.summary.startswith("4/5 khu dân cư tán thành, cần ít nhất 4")


def test_online_choices_are_stored_only_as_ciphertexts(session):
    """Nothing the database holds names a choice: each ballot is a ciphertext per choice and a
    sealed text of one size; the participation mark has the day only."""
    commune, group = group_with_households(session, 6)
    poll = open_vote(session, commune, [group])
    pass_consent(session, poll)
    ballots = service.issue_ballots(session, SYSTEM, poll)
    agree, disagree, other = choice(poll, "agree"), choice(poll, "disagree"), choice(poll, "other")
    for ballot, pick in zip(ballots, [agree, disagree, agree, disagree, agree, other]):
        service.cast_online(session, ballot.token, pick, other_text="Nên lắp ở cổng sau" if pick == other else None)
    session.commit()
    insp = inspect(session.get_bind())
    assert {c["name"] for c in insp.get_columns("cast_ballot")} == {
        "id", "poll_id", "phase", "group_id", "ciphertext", "proofs", "sealed_text", "tracker"}
    rows = session.scalars(select(CastBallot).where(CastBallot.poll_id == poll.id, CastBallot.phase == "vote")).all()
    assert len(rows) == 6
    assert {len(r.ciphertext) for r in rows} == {3 * 64} and len({len(r.sealed_text) for r in rows}) == 1
    assert all("Nên lắp".encode() not in bytes(r.sealed_text) for r in rows)
    types = {c["name"]: str(c["type"]).upper() for c in insp.get_columns("participation")}
    assert types["voted_on"] == "DATE" and not {c for c in types if "choice" in c}
    # Before the count nothing holds a result.
    assert session.execute(text("SELECT count(*) FROM ballot_box WHERE poll_id = :p AND phase = 'vote'"),
                           {"p": poll.id}).scalar() == 0
    assert not service.tally(session, poll).counted
    # The audit trail of online votes says nothing of any household.
    assert session.execute(text("SELECT count(*) FROM audit_entry WHERE details LIKE '%KP1-00%'")).scalar() == 0
    result = close(session, poll)
    assert (result.total(agree), result.total(disagree), result.total(other)) == (3, 2, 1)
    assert result.other_texts == ["Nên lắp ở cổng sau"]


@pytest.mark.parametrize("members", [3, 4, 5])
def test_any_majority_of_the_board_counts_and_fewer_cannot(session, members):
    """NĐ 59 Điều 5 khoản 1c: the Tổ lấy ý kiến (3 to 5) holds the key; any majority of it counts."""
    import itertools

    commune, group = group_with_households(session, 9)
    poll = open_vote(session, commune, [group], committee=service_committee(members))
    codes = shares(poll, members)
    assert len(codes) == members and poll.key_threshold == members // 2 + 1
    with pytest.raises(service.PollError, match=f"ít nhất {poll.key_threshold} thành viên"):
        service.close_consent(session, SYSTEM, poll, shares=codes[:poll.key_threshold - 1])
    subsets = list(itertools.combinations(codes, poll.key_threshold))
    ballots = service.issue_ballots(session, SYSTEM, poll)
    for ballot in ballots[:7]:
        service.cast_online(session, ballot.token, "agree")
    service.cast_online(session, ballots[7].token, "disagree")
    with session.begin_nested() as nested:
        assert service.close_consent(session, SYSTEM, poll, shares=list(subsets[-1]))
        nested.rollback()
    assert service.close_consent(session, SYSTEM, poll, shares=list(subsets[0]))
    assert poll.consent_agreed == 7
    for ballot, pick in zip(ballots, ["agree"] * 5 + ["disagree"] * 2):
        service.cast_online(session, ballot.token, choice(poll, pick))
    mistyped = codes[0][:-2] + ("AA" if not codes[0].endswith("AA") else "BB")
    end = after_the_end(poll)
    with pytest.raises(service.PollError, match="gõ chưa đúng"):
        service.close_poll(session, SYSTEM, poll, shares=[mistyped, *codes[1:]], now=end)
    with pytest.raises(service.PollError, match="không thuộc cuộc biểu quyết này"):
        service.close_poll(session, SYSTEM, poll, shares=[c.replace(f"P{poll.id}-", "P999-") for c in codes], now=end)
    for garbage in (f"P{poll.id}-X-ABCD", f"P{poll.id}", "xin chào", f"P{poll.id}-1-!!!!"):
        with pytest.raises(service.PollError):
            service.close_poll(session, SYSTEM, poll, shares=[garbage, *codes[1:]], now=end)
    assert poll.status == "open"
    result = service.close_poll(session, SYSTEM, poll, shares=list(subsets[len(subsets) // 2]), now=end)
    assert result.total(choice(poll, "agree")) == 5 and result.total(choice(poll, "disagree")) == 2
    assert result.passed and result.summary == "5/9 hộ đồng ý, cần ít nhất 5"


def test_a_second_ballot_is_refused_without_a_database_error(session):
    """One ballot per household (a unique key), refused by INSERT … ON CONFLICT DO NOTHING."""
    commune, group = group_with_households(session, 3)
    poll = open_vote(session, commune, [group])
    pass_consent(session, poll)
    ballots = service.issue_ballots(session, SYSTEM, poll)
    service.cast_online(session, ballots[0].token, choice(poll, "agree"))
    with pytest.raises(service.AlreadyVoted):
        service.cast_online(session, ballots[0].token, choice(poll, "disagree"))
    session.commit()  # the transaction is still good: no error was raised by the database
    assert session.scalar(select(func.count()).select_from(CastBallot).where(CastBallot.phase == "vote")) == 1


def test_paper_counts_must_add_up(session):
    """NĐ 59 Điều 4 khoản 6 (Mẫu 02): phát ra ≥ thu về = hợp lệ + không hợp lệ; hợp lệ = sum of choices."""
    commune, group = group_with_households(session, 10)
    poll = open_vote(session, commune, [group], form="ballot", chosen_by_head_and_front=True)
    agree = choice(poll, "agree")

    def count(**values):
        data = dict(group_id=group.id, issued=10, returned=8, valid=7, invalid=1, counts={agree: 7},
                    counters="A\nB\nC", witnesses="D\nE")
        data.update(values)
        return service.record_paper_count(session, SYSTEM, poll, service.PaperCountInput(**data))

    for values, message in [(dict(issued=11), "vượt quá số hộ"), (dict(returned=11, valid=10), "vượt quá số phiếu phát"),
                            (dict(invalid=2), "phải bằng số phiếu thu về"), (dict(counts={agree: 6}), "phải bằng số phiếu hợp lệ"),
                            (dict(witnesses="D"), "hai đại diện"), (dict(counts={agree: -1, 99: 8}), "không")]:
        with pytest.raises(service.PollError, match=message):
            count(**values)
    count()
    with pytest.raises(service.PollError, match="đã có biên bản"):
        count()
    assert service.tally(session, poll).total(agree) == 7
