"""Votes end to end through the service: forms, consent, thresholds, slips, secrecy."""

from datetime import timedelta

import pytest
from sqlalchemy import func, inspect, select, text

from consult.audit.service import SYSTEM
from consult.communes.models import Household
from consult.polls import service
from consult.polls.models import Participation, PollHousehold, ScanConflict
from tests.support.helpers import make_commune
from tests.support.polls import choice, group_with_households, open_vote, pass_consent, poll_input


def test_khoan_6_online_120_households_61_agree_passes(session):
    commune, group = group_with_households(session, 120)
    poll = open_vote(session, commune, [group])
    assert pass_consent(session, poll)
    ballots = service.issue_ballots(session, SYSTEM, poll)
    for ballot in ballots[:61]:
        service.cast_online(session, ballot.token, choice(poll, "agree"))
    result = service.close_poll(session, SYSTEM, poll)
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
    result = service.close_poll(session, SYSTEM, poll)
    assert not result.passed and result.summary == "60/120 hộ đồng ý, cần ít nhất 61"
    assert result.participated == 65


def test_consent_round_of_60_of_120_refuses_online_voting(session):
    commune, group = group_with_households(session, 120)
    poll = open_vote(session, commune, [group])
    ballots = service.issue_ballots(session, SYSTEM, poll)
    for ballot in ballots[:60]:
        service.cast_online(session, ballot.token, "agree")
    assert not service.close_consent(session, SYSTEM, poll)
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


def test_khoan_1_paper_ballots_79_fails_80_passes_and_a_double_scan_counts_once(session):
    commune = make_commune(session)
    for agree, expected in ((79, False), (80, True)):
        commune, group = group_with_households(session, 120, name=f"Khu phố {agree}", prefix=f"P{agree}",
                                               commune=commune)
        meeting = open_vote(session, commune, [group], matter="k1", form="meeting")
        failed = service.close_poll(session, SYSTEM, meeting)  # nobody came
        assert meeting.outcome_text.startswith("Không đủ số hộ tham dự") and not failed.passed
        poll = open_vote(session, commune, [group], matter="k1", form="ballot", follows_meeting_id=meeting.id)
        ballots = service.issue_ballots(session, SYSTEM, poll)
        for ballot in ballots[:agree]:
            service.record_paper_slip(session, SYSTEM, poll, code=ballot.code, choice=choice(poll, "agree"))
        with pytest.raises(service.AlreadyVoted, match="KHÔNG được tính"):
            service.record_paper_slip(session, SYSTEM, poll, token_value=ballots[0].token,
                                      choice=choice(poll, "disagree"))
        result = service.close_poll(session, SYSTEM, poll)
        assert result.passed is expected
        assert result.summary == f"{agree}/120 hộ đồng ý, cần ít nhất 80"
        assert result.total(choice(poll, "disagree")) == 0
        assert session.scalar(select(func.count()).select_from(ScanConflict).where(
            ScanConflict.poll_id == poll.id)) == 1


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
    service.close_poll(session, SYSTEM, other)
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
    for group, agree in ((g1, 20), (g2, 20), (g3, 5)):
        for b in by_group[group.id][:agree]:
            service.record_paper_slip(session, SYSTEM, poll, code=b.code, choice=choice(poll, "agree"))
    result = service.close_poll(session, SYSTEM, poll)
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
    service.close_poll(session, SYSTEM, poll)
    with pytest.raises(service.BallotRejected, match="đã kết thúc"):
        service.cast_online(session, first[2].token, choice(poll, "agree"))


def test_meeting_counts_add_up_over_clusters_and_cannot_exceed_attendance(session):
    commune, group = group_with_households(session, 10)
    poll = open_vote(session, commune, [group], form="meeting")
    households = list(session.scalars(select(PollHousehold).where(PollHousehold.poll_id == poll.id)))
    for h in households[:4]:
        service.check_in(session, SYSTEM, poll, poll_household_id=h.id, cluster="Cụm 1")
    for h in households[4:8]:
        service.check_in(session, SYSTEM, poll, poll_household_id=h.id, cluster="Cụm 2")
    with pytest.raises(service.PollError, match="vượt quá số hộ có mặt"):
        service.record_meeting_count(session, SYSTEM, poll, counts={choice(poll, "agree"): 5}, method="hands",
                                     cluster="Cụm 1")
    service.record_meeting_count(session, SYSTEM, poll, counts={choice(poll, "agree"): 3}, method="hands",
                                 cluster="Cụm 1")
    service.record_meeting_count(session, SYSTEM, poll, counts={choice(poll, "agree"): 3}, method="secret",
                                 cluster="Cụm 2")
    result = service.close_poll(session, SYSTEM, poll)
    assert result.passed and result.summary == "6/10 hộ đồng ý, cần ít nhất 6"
    assert [h.code for h in service.participants(session, poll)] == [h.code for h in households[:8]]


def test_no_query_joins_a_household_to_its_choice(session):
    """Tries what a reader of the schema would: shared columns, keys, times, row order."""
    commune, group = group_with_households(session, 6)
    poll = open_vote(session, commune, [group])
    pass_consent(session, poll)
    ballots = service.issue_ballots(session, SYSTEM, poll)
    agree, disagree = choice(poll, "agree"), choice(poll, "disagree")
    for ballot, pick in zip(ballots, [agree, disagree, agree, disagree, agree, disagree]):
        service.cast_online(session, ballot.token, pick)
    session.commit()
    insp = inspect(session.get_bind())
    participation_cols = {c["name"] for c in insp.get_columns("participation")}
    # Where choices are stored: the ballot box holds only counts and shuffled texts.
    choice_tables = [t for t in insp.get_table_names() if any(
        "choice" in c["name"] or c["name"] in ("counts", "other_texts") for c in insp.get_columns(t))]
    assert set(choice_tables) <= {"ballot_box", "meeting_count", "poll_choice"}
    box_cols = {c["name"] for c in insp.get_columns("ballot_box")}
    assert box_cols == {"poll_id", "phase", "counts", "other_texts", "version"}
    # No column of the box points at a household, a token or a time.
    assert not box_cols & {"poll_household_id", "household_id", "token_id", "voted_at", "created_at", "voted_on"}
    # The participation mark keeps the day only, and no choice.
    assert "voted_on" in participation_cols and not {c for c in participation_cols if "choice" in c}
    types = {c["name"]: str(c["type"]).upper() for c in insp.get_columns("participation")}
    assert types["voted_on"] == "DATE"
    # One row per vote and phase: nothing to order by, nothing to match row for row.
    assert session.execute(text("SELECT count(*) FROM ballot_box WHERE poll_id = :p AND phase = 'vote'"),
                           {"p": poll.id}).scalar() == 1
    counts = session.execute(text("SELECT counts FROM ballot_box WHERE poll_id = :p AND phase = 'vote'"),
                             {"p": poll.id}).scalar()
    assert "KP1" not in str(counts)
    # On PostgreSQL, the row's transaction id names only the last vote, never one choice of one household:
    # every vote rewrites the same single row.
    if session.get_bind().dialect.name == "postgresql":
        xmins = session.execute(text("SELECT xmin::text FROM participation WHERE poll_id = :p AND phase = 'vote'"),
                                {"p": poll.id}).scalars().all()
        box_xmin = session.execute(text("SELECT xmin::text FROM ballot_box WHERE poll_id = :p AND phase = 'vote'"),
                                   {"p": poll.id}).scalar()
        assert xmins.count(box_xmin) <= 1
    # The audit trail of online votes says nothing of any household.
    assert session.execute(text("SELECT count(*) FROM audit_entry WHERE details LIKE '%KP1-00%'")).scalar() == 0
