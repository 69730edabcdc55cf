"""The board's key shares and an online vote's fixed end, through the services
(NĐ 59 Điều 5 khoản 1 điểm c; consult/auth/pickup.py, consult/polls/keycards.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from consult.audit.service import SYSTEM
from consult.auth import pickup
from consult.auth import service as auth_service
from consult.polls import keycards, service
from consult.polls.models import KeyShareEnvelope
from tests.support.helpers import PASSWORD, make_commune, make_user
from tests.support.polls import (COMMITTEE, LIGHT_KDF, after_the_end, board_member, choice, group_with_households,
                                 open_vote, pass_consent, poll_input, shares, with_accounts)


def _draft(session, commune, group, committee):
    return service.create_poll(session, SYSTEM, commune, poll_input([group], committee=committee))


def test_an_online_vote_opens_only_when_every_member_has_an_account_of_their_own(session):
    commune, group = group_with_households(session, 4)
    hoa, bay, tu = (board_member(session, commune, m.name) for m in COMMITTEE)
    never = make_user(session, "chua.dang.nhap", "officer", commune, full_name="Lê Văn Bảy")
    locked = board_member(session, commune, "Trần Văn Tư")
    auth_service.set_active(session, SYSTEM, locked, False)
    linked = [replace(COMMITTEE[0], user_id=hoa.id), replace(COMMITTEE[1], user_id=never.id),
              replace(COMMITTEE[2], user_id=locked.id)]
    poll = _draft(session, commune, group, [linked[0], COMMITTEE[1], COMMITTEE[2]])
    with pytest.raises(service.PollError, match="Lê Văn Bảy: chưa chọn tài khoản; Trần Văn Tư: chưa chọn"):
        service.open_poll(session, SYSTEM, poll)
    assert poll.status == "draft" and session.scalar(select(KeyShareEnvelope.id)) is None
    # An account that never signed in has no pickup key; a locked one receives nothing.
    poll.committee[1].user_id, poll.committee[2].user_id = never.id, locked.id
    session.flush()
    session.expire(poll)
    with pytest.raises(service.PollError) as refused:
        service.open_poll(session, SYSTEM, poll)
    assert "chua.dang.nhap chưa đăng nhập lần nào" in str(refused.value)
    assert f"{locked.username} đang bị khóa" in str(refused.value)
    # The same account for two members is refused already in the draft.
    with pytest.raises(service.PollError, match="tài khoản riêng"):
        _draft(session, commune, group, [linked[0], replace(COMMITTEE[1], user_id=hoa.id), COMMITTEE[2]])
    # An account of another commune neither.
    elsewhere = make_user(session, "o.noi.khac", "officer", make_commune(session, name="Tân Đông Hiệp"))
    with pytest.raises(service.PollError, match="tài khoản đang hoạt động của"):
        _draft(session, commune, group, [linked[0], replace(COMMITTEE[1], user_id=elsewhere.id), COMMITTEE[2]])
    # A member given by the account alone takes the holder's name.
    named = _draft(session, commune, group, [linked[0], replace(COMMITTEE[1], name="", user_id=bay.id),
                                             replace(COMMITTEE[2], user_id=tu.id)])
    assert [m.name for m in named.committee] == [m.name for m in COMMITTEE]
    assert service.open_poll(session, SYSTEM, named) is None  # nothing secret goes back to the opener


def test_each_share_is_sealed_to_its_member_and_opens_once_with_that_password(session):
    commune, group = group_with_households(session, 4)
    poll = _draft(session, commune, group, with_accounts(session, commune, COMMITTEE))
    service.open_poll(session, SYSTEM, poll)
    envelopes = session.scalars(select(KeyShareEnvelope).order_by(KeyShareEnvelope.id)).all()
    assert len(envelopes) == 3 and all(e.sealed and e.picked_up_at is None for e in envelopes)
    hoa, bay = poll.committee[0].user, poll.committee[1].user
    # Hoa's password opens Hoa's share only; Bảy's envelope does not open with it.
    assert pickup.unseal(pickup.private_key(hoa, PASSWORD), envelopes[1].sealed) is None
    with pytest.raises(keycards.PickupRefused) as wrong:
        keycards.pick_up(session, SYSTEM, poll, hoa, "sai-mật-khẩu-rồi")
    assert wrong.value.reason == keycards.WRONG_PASSWORD and envelopes[0].sealed is not None
    card = keycards.pick_up(session, SYSTEM, poll, hoa, PASSWORD)
    assert card.code.startswith(f"P{poll.id}-1-") and card.member == "Nguyễn Thị Hoa" and card.threshold == 2
    assert card.fingerprint == service.key_fingerprint(poll.public_key, poll.texts_key)
    session.refresh(envelopes[0])
    assert envelopes[0].sealed is None and envelopes[0].picked_up_at is not None
    with pytest.raises(keycards.PickupRefused) as again:
        keycards.pick_up(session, SYSTEM, poll, hoa, PASSWORD)
    assert again.value.reason == keycards.PICKED_UP
    outsider = board_member(session, commune, "Người ngoài")
    with pytest.raises(keycards.PickupRefused) as stranger:
        keycards.pick_up(session, SYSTEM, poll, outsider, PASSWORD)
    assert stranger.value.reason == keycards.NOT_MEMBER
    assert keycards.waiting_for(session, bay) == [poll] and keycards.waiting_for(session, hoa) == []
    # The shares picked up rebuild the key the vote opened with.
    codes = [card.code] + [keycards.pick_up(session, SYSTEM, poll, m.user, PASSWORD).code for m in poll.committee[1:]]
    assert service.close_consent(session, SYSTEM, poll, shares=codes[1:]) is False  # nobody answered


def test_a_first_sign_in_makes_the_pickup_key_a_change_reseals_a_reset_loses(session):
    commune, group = group_with_households(session, 4)
    user = make_user(session, "thanh.vien", "officer", commune)
    assert not pickup.has_key(user)
    auth_service.authenticate(session, "thanh.vien", PASSWORD, pickup_cost=LIGHT_KDF)
    public, salt = user.pickup_public_key, user.pickup_salt
    assert len(public) == 32 and len(salt) == 16 and user.pickup_memlimit == LIGHT_KDF.memlimit
    auth_service.authenticate(session, "thanh.vien", PASSWORD, pickup_cost=LIGHT_KDF)
    assert (user.pickup_public_key, user.pickup_salt) == (public, salt)  # kept: shares may wait for it
    committee = with_accounts(session, commune, [replace(COMMITTEE[0], user_id=user.id), *COMMITTEE[1:]])
    poll = _draft(session, commune, group, committee)
    service.open_poll(session, SYSTEM, poll)
    auth_service.set_password(session, SYSTEM, user, "mật-khẩu-thứ-hai", current_password=PASSWORD,
                              pickup_cost=LIGHT_KDF)
    assert user.pickup_public_key != public
    with pytest.raises(keycards.PickupRefused):
        keycards.pick_up(session, SYSTEM, poll, user, PASSWORD)
    assert keycards.pick_up(session, SYSTEM, poll, user, "mật-khẩu-thứ-hai").code.startswith(f"P{poll.id}-1-")
    other = poll.committee[1].user
    assert auth_service.set_password(session, SYSTEM, other, "đặt-lại-bởi-quản-trị") == 1
    assert not pickup.has_key(other)
    with pytest.raises(keycards.PickupRefused) as lost:
        keycards.pick_up(session, SYSTEM, poll, other, "đặt-lại-bởi-quản-trị")
    assert lost.value.reason == keycards.LOST


def test_an_online_vote_counted_before_its_end_needs_a_reason_and_says_so(session):
    """Issue 22, attack 8: 3 of 120 households had voted, ten days before the end printed on the
    slips. Without a reason: refused, nothing written; a paper vote is not concerned."""
    commune, group = group_with_households(session, 120)
    poll = open_vote(session, commune, [group], days=10)
    pass_consent(session, poll)
    for ballot in service.issue_ballots(session, SYSTEM, poll)[:3]:
        service.cast_online(session, ballot.token, choice(poll, "agree"))
    session.commit()
    for reason in (None, "", "   "):
        with pytest.raises(service.EarlyStopRefused, match="Chưa đến thời điểm kết thúc đã định"):
            service.close_poll(session, SYSTEM, poll, shares=shares(poll), early_stop_reason=reason)
        assert poll.status == "open" and poll.early_stopped_at is None
    with pytest.raises(service.PollError, match="ít nhất 2"):
        service.close_poll(session, SYSTEM, poll, shares=shares(poll, 1), early_stop_reason="Dừng sớm")
    session.rollback()
    result = service.close_poll(session, SYSTEM, poll, shares=shares(poll), early_stop_reason="  Mưa bão  ")
    assert not result.passed and poll.early_stop_reason == "Mưa bão" and poll.early_stopped_at == poll.decided_at
    assert session.scalar(select(KeyShareEnvelope.id).where(KeyShareEnvelope.sealed.is_not(None))) is None
    # At its end no reason is asked, and none is kept.
    other = open_vote(session, commune, [group])
    pass_consent(session, other)
    service.close_poll(session, SYSTEM, other, shares=shares(other), early_stop_reason="không cần",
                       now=after_the_end(other))
    assert other.early_stop_reason is None and other.early_stopped_at is None
    paper = open_vote(session, commune, [group], form="ballot", chosen_by_head_and_front=True)
    from tests.support.polls import hand_in_paper

    hand_in_paper(session, paper, service.issue_ballots(session, SYSTEM, paper)[:2], {})
    assert service.close_poll(session, SYSTEM, paper).participated == 2
    assert paper.early_stopped_at is None


def test_an_open_vote_keeps_its_end(session):
    commune, group = group_with_households(session, 4)
    poll = open_vote(session, commune, [group])
    later = poll_input([group], days=30)
    with pytest.raises(service.PollError, match="khi còn là bản nháp"):
        service.save_poll(session, SYSTEM, commune, poll, later)
    assert poll.closes_at < later.closes_at


def test_the_test_helpers_pick_up_through_the_real_pickup(session):
    commune, group = group_with_households(session, 4)
    poll = open_vote(session, commune, [group])
    assert len(shares(poll, 3)) == 3 and all(m.user_id for m in poll.committee)
    assert all(e.picked_up_at for e in keycards.envelopes(session, poll).values())
    assert timedelta(0) < after_the_end(poll) - poll.closes_at
