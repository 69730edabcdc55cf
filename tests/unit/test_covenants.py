"""A hương ước, quy ước from draft to published text (NĐ 61/2023 Điều 9, 10; Luật Điều 15 khoản 3,
Điều 17 khoản 2, Điều 21): comments at least 30 days, adoption at a meeting with more than half
of the households present and more than half of all households in favour, ballots only after
such a meeting failed, never online, recognition by the commune's UBND, then an amendment."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from consult.audit.service import SYSTEM
from consult.covenants import service
from consult.covenants.models import Covenant, CovenantComment
from consult.polls import rules
from consult.polls import service as polls
from consult.polls.models import PollHousehold
from consult.timeutil import local_date, utcnow
from tests.support.polls import choice, group_with_households

TEXT = "Chương I. QUY ĐỊNH CHUNG\nĐiều 1. Phạm vi\nHương ước này quy định việc giữ gìn vệ sinh, an ninh trật tự."


@pytest.fixture
def start():
    return utcnow()


def _draft(session, households=10):
    commune, group = group_with_households(session, households)
    covenant = service.create(session, SYSTEM, commune, group_id=group.id, kind="huong_uoc",
                              title="Hương ước khu phố 1", text=TEXT)
    return commune, group, covenant


def _adopt(session, covenant, start, *, present: int, agree: int):
    """Comments for 31 days, then the meeting; returns the meeting's vote, closed."""
    service.open_comments(session, SYSTEM, covenant, start + timedelta(days=31), now=start)
    day = start + timedelta(days=32)
    poll = service.call_meeting(session, SYSTEM, covenant, service.MeetingInput(
        TEXT + "\nĐiều 2. Tiếp thu ý kiến các hộ.", day, day + timedelta(hours=3),
        local_date(day) - timedelta(days=4)), now=day - timedelta(days=1))
    polls.open_poll(session, SYSTEM, poll, now=day)
    households = list(session.scalars(select(PollHousehold).where(PollHousehold.poll_id == poll.id)))
    for h in households[:present]:
        polls.check_in(session, SYSTEM, poll, poll_household_id=h.id)
    if agree:
        polls.record_meeting_count(session, SYSTEM, poll, counts={choice(poll, "agree"): agree}, method="hands",
                                   now=day + timedelta(hours=1))
    polls.close_poll(session, SYSTEM, poll, now=day + timedelta(hours=2))
    return poll


def test_the_draft_is_posted_for_comments_at_least_30_days(session, start):
    """NĐ 61/2023 Điều 9."""
    _, _, covenant = _draft(session)
    with pytest.raises(service.CovenantError, match=re.escape("ít nhất 30 ngày (Nghị định 61/2023/NĐ-CP, Điều 9)")):
        service.open_comments(session, SYSTEM, covenant, start + timedelta(days=29), now=start)
    assert covenant.comments_open_at is None
    service.open_comments(session, SYSTEM, covenant, start + timedelta(days=30), now=start)
    assert service.progress(session, covenant, start).stage == service.COMMENTS
    service.add_comment(session, covenant, name="Nguyễn Văn An", address="Số 3, khu phố 1",
                        text="Đề nghị bổ sung quy định giờ giữ trật tự.", now=start + timedelta(days=1))
    with pytest.raises(service.CovenantError, match="không trong thời gian lấy ý kiến"):
        service.add_comment(session, covenant, name="Trần Thị Bình", address="Số 4", text="Nhất trí",
                            now=start + timedelta(days=30, minutes=1))
    assert session.query(CovenantComment).count() == 1
    with pytest.raises(service.CovenantError, match="Chưa hết thời gian lấy ý kiến"):
        service.call_meeting(session, SYSTEM, covenant, service.MeetingInput(
            TEXT, start + timedelta(days=31), start + timedelta(days=31, hours=2), None), now=start + timedelta(days=2))
    assert covenant.poll_id is None


def test_adopted_at_a_meeting_of_more_than_half_then_recognised_and_published(session, start):
    """NĐ 61 Điều 10: 6 of 10 households present, 6 in favour: adopted; the UBND recognises it
    (Luật Điều 21 khoản 2: k3 takes effect on recognition); then an amendment follows the same path."""
    commune, group, covenant = _draft(session)
    poll = _adopt(session, covenant, start, present=6, agree=6)
    assert poll.matter_kind == "k3" and poll.form == "meeting" and poll.outcome_passed
    assert poll.content.endswith("Tiếp thu ý kiến các hộ.") and covenant.final_text == poll.content
    assert service.progress(session, covenant).stage == service.ADOPTED
    decided = local_date(poll.decided_at)
    polls.record_received(session, SYSTEM, poll, decided + timedelta(days=1))
    polls.recognise(session, SYSTEM, poll, number="15/QĐ-UBND", on=decided + timedelta(days=2))
    assert service.progress(session, covenant).stage == service.RECOGNISED
    assert service.of_poll(session, poll) is covenant
    amendment = service.create(session, SYSTEM, commune, group_id=group.id, kind="huong_uoc",
                               title="Sửa đổi Hương ước khu phố 1", text=TEXT + "\nĐiều 3. Sửa đổi.",
                               amends_id=covenant.id)
    assert amendment.amends is covenant and service.amendments(session, covenant) == [amendment]
    with pytest.raises(service.CovenantError, match="đã được công nhận"):
        service.create(session, SYSTEM, commune, group_id=group.id, kind="huong_uoc", title="Sửa lần nữa",
                       text=TEXT, amends_id=amendment.id)  # the amendment itself is not recognised yet


def test_half_of_all_households_is_not_enough(session, start):
    """Luật Điều 21 khoản 1: more than half of ALL households; 5 of 10 is not."""
    _, _, covenant = _draft(session)
    poll = _adopt(session, covenant, start, present=8, agree=5)
    assert poll.outcome_passed is False
    assert service.progress(session, covenant).stage == service.NOT_ADOPTED


def test_a_meeting_of_half_the_households_fails_and_only_ballots_may_follow(session, start):
    """NĐ 61 Điều 10: the meeting needs more than half of the households present; 5 of 10 is
    not. Ballots may follow that meeting; online voting never (Luật Điều 17 khoản 2)."""
    commune, group, covenant = _draft(session)
    poll = _adopt(session, covenant, start, present=5, agree=0)
    assert poll.status == "closed" and "Không đủ số hộ tham dự" in poll.outcome_text
    assert service.progress(session, covenant).stage == service.MEETING
    with pytest.raises(rules.FormNotAllowed, match="khoản 2 Điều 17"):
        rules.check_form("k3", "online", commune_wide=False)
    with pytest.raises(rules.FormNotAllowed, match="phải quyết định tại cuộc họp"):
        rules.check_form("k3", "ballot", commune_wide=False, chosen_by_head_and_front=True)
    later = poll.closes_at + timedelta(days=1)
    ballots = polls.follow_with_ballots(session, SYSTEM, poll, polls.PollInput(
        title=poll.title, question=poll.question, matter_kind="k3", form="ballot", opens_at=later,
        closes_at=later + timedelta(days=5), group_ids=[group.id], content=poll.content,
        committee=[polls.CommitteeInput("Nguyễn Thị Hoa", "Đại diện Ban công tác Mặt trận", True),
                   polls.CommitteeInput("Lê Văn Bảy", "Thành viên"), polls.CommitteeInput("Trần Văn Tư", "Thành viên")]),
        now=later - timedelta(hours=1))
    progress = service.progress(session, covenant)
    assert progress.stage == service.BALLOTS and progress.deciding is ballots
    assert service.of_poll(session, ballots) is covenant


@pytest.mark.parametrize("field, value, message", [
    ("title", "  ", "Vui lòng nhập tên hương ước, quy ước."),
    ("text", "", "Vui lòng nhập nội dung dự thảo."),
    ("kind", "nghi_quyet", "Hãy chọn hương ước hoặc quy ước."),
    ("group_id", 0, "Hãy chọn khu dân cư"),
])
def test_a_bad_draft_is_refused_and_nothing_saved(session, field, value, message):
    commune, group = group_with_households(session, 3)
    data = dict(group_id=group.id, kind="quy_uoc", title="Quy ước", text=TEXT)
    data[field] = value
    with pytest.raises(service.CovenantError, match=re.escape(message)):
        service.create(session, SYSTEM, commune, **data)
    assert session.query(Covenant).count() == 0
