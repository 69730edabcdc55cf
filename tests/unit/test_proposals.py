"""Residents' proposals through the service (Luật Điều 16): 10% of the group's households,
counted in integers, from supports given within 3 months; pending supports do not count;
a household counts once."""

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from consult.audit.models import AuditEntry
from consult.audit.service import SYSTEM
from consult.communes.models import Household
from consult.proposals import service
from consult.proposals.models import (STATUS_CHECKING, STATUS_COLLECTING, STATUS_DECIDED, STATUS_EXPIRED,
                                      STATUS_REACHED, STATUS_REFUSED, STATUS_SUBMITTED, ProposalSupport)
from consult.proposals.service import ProposalError
from consult.timeutil import UTC, local_day_bounds, today
from tests.support.helpers import make_commune, make_group
from tests.support.polls import group_with_households, open_vote


# --- the rules, without a database -------------------------------------------------------------

@pytest.mark.parametrize("supporters, households, met", [
    (9, 90, True), (8, 90, False),  # exactly 10%, and one short
    (9, 81, True), (8, 81, False),  # 90 ≥ 81; 80 < 81: 8 of 81 is 9.9%
    (10, 100, True), (9, 100, False), (11, 101, True), (10, 101, False),
    (1, 10, True), (1, 11, False), (2, 11, True), (1, 1, True),
    (0, 0, False),  # an empty register reaches nothing
])
def test_luat_dieu_16_ten_percent_of_the_households_in_integers(supporters, households, met):
    """Luật Điều 16: supporters × 10 ≥ H, never a rounded percentage."""
    assert service.threshold_met(supporters, households) is met


def test_the_number_needed_is_the_least_that_meets_the_threshold():
    for households in range(0, 1001):
        needed = service.needed_supporters(households)
        assert service.threshold_met(needed, households), households
        assert needed == 1 or not service.threshold_met(needed - 1, households), households
    assert [service.needed_supporters(h) for h in (0, 5, 80, 81, 90, 91, 120)] == [1, 1, 8, 9, 9, 10, 12]


@pytest.mark.parametrize("opened, closes", [
    (date(2026, 3, 15), date(2026, 6, 15)),
    (date(2025, 11, 30), date(2026, 2, 28)),  # February has no 30th: its last day
    (date(2027, 11, 30), date(2028, 2, 29)),  # a leap year
    (date(2026, 8, 31), date(2026, 11, 30)),
    (date(2025, 12, 31), date(2026, 3, 31)),  # across the new year
])
def test_support_is_valid_three_calendar_months(opened, closes):
    """Luật Điều 16: 3 months from the day support opened, to the end of the same day of the
    third month after (or that month's last day)."""
    assert service.closing_day(opened) == closes


def test_the_window_ends_at_midnight_viet_nam_time_on_its_last_day():
    assert service.window_end(date(2026, 6, 15)) == datetime(2026, 6, 15, 17, 0, tzinfo=UTC)


@pytest.mark.parametrize("day, pending, supporters, households, expected", [
    (date(2026, 6, 15), 0, 0, 100, STATUS_COLLECTING),  # the last day
    (date(2026, 6, 16), 0, 3, 100, STATUS_EXPIRED),
    (date(2026, 6, 16), 7, 3, 100, STATUS_CHECKING),  # 3 + 7 pending could still reach 10
    (date(2026, 6, 16), 6, 3, 100, STATUS_EXPIRED),  # 3 + 6 could not
])
def test_a_proposal_still_collecting_after_its_last_day_has_expired(day, pending, supporters, households, expected):
    status = service.effective_status(STATUS_COLLECTING, date(2026, 6, 15), day, supporters=supporters,
                                      pending=pending, households=households)
    assert status == expected


def test_a_proposal_that_reached_its_threshold_stays_reached_after_the_window():
    assert service.effective_status(STATUS_REACHED, date(2026, 6, 15), date(2027, 1, 1), supporters=0, pending=0,
                                    households=100) == STATUS_REACHED


# --- through the database --------------------------------------------------------------------

def _proposal(session, commune, group, *, now, open_=True, title="Lắp đèn chiếu sáng hẻm 27"):
    proposal = service.submit_proposal(
        session, commune, group_id=group.id, matter_kind="k6", title=title,
        content="Hẻm 27 tối, đề nghị lắp 4 đèn.", name="Nguyễn Văn An", address="Số 3, hẻm 27", now=now)
    if open_:
        service.open_for_support(session, SYSTEM, proposal, now=now)
    return proposal


def _households(session, group) -> list[Household]:
    return list(session.scalars(select(Household).where(Household.group_id == group.id).order_by(Household.code)))


def _supports(session) -> int:
    return session.scalar(select(func.count()).select_from(ProposalSupport))


def test_a_proposal_waits_for_the_head_then_collects_for_three_months(session, now):
    """Luật Điều 16: submitted, then opened by the group head for 3 months of support."""
    commune, group = group_with_households(session, 20)
    proposal = _proposal(session, commune, group, now=now, open_=False)
    assert proposal.status == STATUS_SUBMITTED and service.public_proposals(session, commune.id) == []
    with pytest.raises(ProposalError, match="chưa được mở"):
        service.add_online_support(session, proposal, name="Trần Văn Bình", address="Số 5", now=now)
    service.open_for_support(session, SYSTEM, proposal, matter_kind="k1", now=now)
    assert proposal.status == STATUS_COLLECTING and proposal.matter_kind == "k1"
    assert proposal.closes_on == service.closing_day(today(now))
    assert service.public_proposals(session, commune.id) == [proposal]
    st = service.standing(session, proposal, now=now)
    assert (st.status, st.supporters, st.needed, st.households) == (STATUS_COLLECTING, 0, 2, 20)
    assert st.days_left == (proposal.closes_on - today(now)).days
    with pytest.raises(ProposalError, match="đã được xem xét"):
        service.open_for_support(session, SYSTEM, proposal, now=now)
    actions = set(session.scalars(select(AuditEntry.action)))
    assert "proposal.open" in actions


def test_pending_supports_count_only_once_confirmed_against_the_register(session, now):
    """Names are not authentication: an online support counts once the head finds the household."""
    commune, group = group_with_households(session, 20)
    proposal = _proposal(session, commune, group, now=now)
    homes = _households(session, group)
    first = service.add_online_support(session, proposal, name=homes[0].representative, address=homes[0].address,
                                       household_code=" kp1-001 ", now=now)
    second = service.add_online_support(session, proposal, name="Người lạ", address="Không rõ", now=now)
    assert first.household_code == "KP1-001" and first.household_id is None
    st = service.standing(session, proposal, now=now)
    assert (st.supporters, st.pending) == (0, 2)
    service.confirm_support(session, SYSTEM, proposal, first, "KP1-001", now=now)
    service.reject_support(session, SYSTEM, proposal, second, now=now)
    st = service.standing(session, proposal, now=now)
    assert (st.supporters, st.pending, st.status) == (1, 0, STATUS_COLLECTING)
    with pytest.raises(ProposalError, match="đã được xử lý"):
        service.confirm_support(session, SYSTEM, proposal, second, "KP1-002", now=now)


def test_one_household_counts_once(session, now):
    """A household already confirmed cannot be confirmed again, by either channel; nothing is half saved."""
    commune, group = group_with_households(session, 30)
    proposal = _proposal(session, commune, group, now=now)
    homes = _households(session, group)
    one = service.add_online_support(session, proposal, name="Đại diện", address="Số 1", now=now)
    again = service.add_online_support(session, proposal, name="Đại diện", address="Số 1", now=now)
    service.confirm_support(session, SYSTEM, proposal, one, "KP1-001", now=now)
    with pytest.raises(ProposalError, match="mỗi hộ chỉ được tính một lần: KP1-001"):
        service.confirm_support(session, SYSTEM, proposal, again, "KP1-001", now=now)
    assert again.status == "pending" and again.household_id is None
    with pytest.raises(ProposalError, match="mỗi hộ chỉ được tính một lần: KP1-001"):
        service.record_paper_supports(session, SYSTEM, proposal, [homes[1].id, homes[0].id], now=now)
    session.flush()
    counted = session.scalars(select(ProposalSupport.household_id).where(ProposalSupport.household_id.is_not(None)))
    assert list(counted) == [homes[0].id]  # KP1-002 was not saved either


def test_the_register_itself_refuses_a_household_twice(session, now):
    """The invariant lives in the database too: unique (proposal, household)."""
    commune, group = group_with_households(session, 10)
    proposal = _proposal(session, commune, group, now=now)
    home = _households(session, group)[0]
    for _ in range(2):
        session.add(ProposalSupport(proposal_id=proposal.id, household_id=home.id, name="A", address="B",
                                    channel="paper", status="confirmed", submitted_at=now))
    with pytest.raises(IntegrityError):
        session.flush()


def test_8_of_81_households_do_not_carry_it_and_the_9th_does(session, now):
    """Luật Điều 16: 8 × 10 = 80 < 81; 9 × 10 = 90 ≥ 81."""
    commune, group = group_with_households(session, 81)
    proposal = _proposal(session, commune, group, now=now)
    homes = _households(session, group)
    service.record_paper_supports(session, SYSTEM, proposal, [h.id for h in homes[:8]], now=now)
    assert proposal.status == STATUS_COLLECTING and proposal.reached_at is None
    support = service.add_online_support(session, proposal, name="Hộ thứ chín", address="Số 9", now=now)
    service.confirm_support(session, SYSTEM, proposal, support, homes[8].code, now=now)
    assert proposal.status == STATUS_REACHED and proposal.reached_at == now
    st = service.standing(session, proposal, now=now)
    assert (st.supporters, st.needed, st.households) == (9, 9, 81)
    with pytest.raises(ProposalError, match="đã đủ số hộ ủng hộ"):
        service.add_online_support(session, proposal, name="Hộ thứ mười", address="Số 10", now=now)


def test_the_threshold_is_of_the_register_as_it_stood_at_the_opening(session, now):
    """H is the group's households in the register when the proposal opened for support, as a
    vote counts against its snapshot: 50 households imported mid-window do not move the target
    from 2 to 7; a proposal opened after the import counts them."""
    commune, group = group_with_households(session, 20)
    proposal = _proposal(session, commune, group, now=now)
    assert service.standing(session, proposal, now=now).needed == 2
    for i in range(50):
        session.add(Household(commune_id=commune.id, group_id=group.id, code=f"KP1-{100 + i}",
                              representative=f"Hộ mới {i}", address=f"Số {100 + i}"))
    session.flush()
    standing = service.standing(session, proposal, now=now)
    assert (standing.households, standing.needed) == (20, 2)
    later = _proposal(session, commune, group, now=now, title="Đề xuất mở sau khi nhập thêm hộ")
    assert service.standing(session, later, now=now).needed == 7


def test_a_support_after_the_window_is_refused_and_nothing_saved(session, now):
    """Luật Điều 16: support is valid 3 months; one second before midnight of the last day
    is in time, midnight is not."""
    commune, group = group_with_households(session, 20)
    opened = now - timedelta(days=120)
    proposal = _proposal(session, commune, group, now=opened)
    end = service.window_end(proposal.closes_on)
    assert end == local_day_bounds(service.closing_day(today(opened)))[1]
    service.add_online_support(session, proposal, name="Kịp giờ", address="Số 1", now=end - timedelta(seconds=1))
    before = _supports(session)
    with pytest.raises(ProposalError, match="Đã hết thời hạn ủng hộ"):
        service.add_online_support(session, proposal, name="Muộn", address="Số 2", now=end)
    with pytest.raises(ProposalError, match="Đã hết thời hạn ủng hộ"):
        service.record_paper_supports(session, SYSTEM, proposal, [_households(session, group)[0].id], now=end)
    assert _supports(session) == before
    # The one given in time waits to be checked; were it confirmed, 1 of 20 would not be enough.
    assert service.standing(session, proposal, now=end).status == STATUS_EXPIRED


def test_a_support_given_in_time_may_be_confirmed_after_the_window(session, now):
    commune, group = group_with_households(session, 10)
    opened = now - timedelta(days=120)
    proposal = _proposal(session, commune, group, now=opened)
    support = service.add_online_support(session, proposal, name="Kịp giờ", address="Số 1",
                                         now=opened + timedelta(days=30))
    assert service.standing(session, proposal, now=now).status == STATUS_CHECKING
    service.confirm_support(session, SYSTEM, proposal, support, "KP1-001", now=now)
    assert proposal.status == STATUS_REACHED
    assert service.standing(session, proposal, now=now).status == STATUS_REACHED


def test_a_proposal_without_its_threshold_expires_after_three_months(session, now):
    commune, group = group_with_households(session, 30)
    opened = now - timedelta(days=100)
    proposal = _proposal(session, commune, group, now=opened)
    service.record_paper_supports(session, SYSTEM, proposal, [_households(session, group)[0].id],
                                  now=opened + timedelta(days=1))
    end = service.window_end(proposal.closes_on)
    assert service.standing(session, proposal, now=end - timedelta(seconds=1)).status == STATUS_COLLECTING
    assert service.standing(session, proposal, now=end).status == STATUS_EXPIRED
    assert proposal.status == STATUS_COLLECTING  # computed, not stored


def test_only_households_of_the_group_are_counted(session, now):
    commune, group = group_with_households(session, 10)
    _, other = group_with_households(session, 5, commune=commune, name="Khu phố 2", prefix="KP2")
    proposal = _proposal(session, commune, group, now=now)
    outsider = _households(session, other)[0]
    support = service.add_online_support(session, proposal, name=outsider.representative,
                                         address=outsider.address, now=now)
    with pytest.raises(ProposalError, match="Không có hộ mã KP2-001 trong sổ hộ của Khu phố 1"):
        service.confirm_support(session, SYSTEM, proposal, support, "KP2-001", now=now)
    with pytest.raises(ProposalError, match="Chỉ ghi được các hộ trong sổ hộ của Khu phố 1"):
        service.record_paper_supports(session, SYSTEM, proposal, [outsider.id], now=now)


def test_a_matter_not_of_dieu_15_is_refused_with_its_reason(session, now):
    commune, group = group_with_households(session, 5)
    proposal = _proposal(session, commune, group, now=now, open_=False)
    with pytest.raises(ProposalError, match="Vui lòng ghi lý do"):
        service.refuse_proposal(session, SYSTEM, proposal, "   ", now=now)
    service.refuse_proposal(session, SYSTEM, proposal, "Việc cấp sổ đỏ do UBND quyết định, không thuộc Điều 15.",
                            now=now)
    assert proposal.status == STATUS_REFUSED and "sổ đỏ" in proposal.refused_reason
    assert service.public_proposals(session, commune.id) == [proposal]
    with pytest.raises(ProposalError, match="không được đưa ra lấy ý kiến ủng hộ"):
        service.add_online_support(session, proposal, name="A", address="B", now=now)


def test_a_proposal_that_reached_its_threshold_is_put_to_a_vote_of_its_group(session, now):
    """Luật Điều 16, 17: the head puts it to the community; the vote is linked and its outcome shown."""
    commune, group = group_with_households(session, 10)
    _, other = group_with_households(session, 5, commune=commune, name="Khu phố 2", prefix="KP2")
    proposal = _proposal(session, commune, group, now=now)
    poll = open_vote(session, commune, [group], form="ballot", chosen_by_head_and_front=True)
    elsewhere = open_vote(session, commune, [other], form="ballot", chosen_by_head_and_front=True)
    with pytest.raises(ProposalError, match="đã đủ số hộ ủng hộ"):
        service.link_poll(session, SYSTEM, proposal, poll.id, now=now)
    service.record_paper_supports(session, SYSTEM, proposal, [_households(session, group)[0].id], now=now)
    assert proposal.status == STATUS_REACHED
    assert service.group_polls(session, proposal) == [poll]
    with pytest.raises(ProposalError, match="cuộc biểu quyết của Khu phố 1"):
        service.link_poll(session, SYSTEM, proposal, elsewhere.id, now=now)
    service.link_poll(session, SYSTEM, proposal, poll.id, "Phát phiếu ngày 20.", now=now)
    assert (proposal.status, proposal.poll_id, proposal.outcome_note) == (STATUS_DECIDED, poll.id, "Phát phiếu ngày 20.")


@pytest.mark.parametrize("change, message", [
    ({"title": "  "}, "Vui lòng ghi tên đề xuất"),
    ({"title": "Đ" * 301}, "Tên đề xuất dài quá 300 ký tự"),
    ({"content": "a\x00b"}, "ký tự NUL"),
    ({"name": ""}, "Vui lòng ghi họ và tên"),
    ({"phone": "12345"}, "Số điện thoại không hợp lệ"),
    ({"matter_kind": "k9"}, "Vui lòng chọn loại nội dung"),
    ({"group_id": None}, "Vui lòng chọn khu phố, thôn"),
])
def test_a_proposal_with_bad_input_is_refused_in_vietnamese(session, now, change, message):
    commune, group = group_with_households(session, 3)
    values = dict(group_id=group.id, matter_kind="k6", title="Lắp đèn", content="Hẻm tối.", name="Nguyễn Văn An",
                  address="Số 3", phone="0912 345 678")
    values.update(change)
    with pytest.raises(ProposalError, match=message):
        service.submit_proposal(session, commune, now=now, **values)


def test_a_group_of_another_commune_cannot_be_chosen(session, now):
    commune, _ = group_with_households(session, 3)
    elsewhere = make_group(session, make_commune(session, name="Tân Đông Hiệp"), name="Khu phố Đông")
    with pytest.raises(ProposalError, match="Vui lòng chọn khu phố, thôn"):
        service.submit_proposal(session, commune, group_id=elsewhere.id, matter_kind="k6", title="A", content="B",
                                name="C", address="D", now=now)
