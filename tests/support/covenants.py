"""Factories for hương ước, quy ước: one adopted by its community, one recognised by the commune."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from consult.audit.service import SYSTEM
from consult.covenants import service as covenants
from consult.polls import service as polls
from consult.polls.models import PollHousehold
from consult.timeutil import local_date, utcnow
from tests.support.polls import choice, group_with_households

TEXT = """Chương I
QUY ĐỊNH CHUNG
Điều 1. Phạm vi điều chỉnh
Hương ước này quy định việc giữ gìn vệ sinh, an ninh trật tự
và nếp sống văn minh của khu phố.
Điều 2. Đối tượng áp dụng
1. Các hộ gia đình thường trú tại khu phố;
2. Các hộ tạm trú từ 6 tháng trở lên.
Chương II. NỘI DUNG CỤ THỂ
Điều 3. Vệ sinh môi trường
1. Mỗi hộ giữ sạch phần đường trước nhà:
a) Đổ rác đúng giờ quy định;
b) Không đổ rác xuống cống.
Điều 9 của Luật Thực hiện dân chủ ở cơ sở được thực hiện qua việc công khai nội dung này.
Điều 4. An ninh trật tự
Giữ trật tự từ 22 giờ đến 5 giờ sáng hôm sau.
Chương III. ĐIỀU KHOẢN THI HÀNH
Điều 5. Hiệu lực
Hương ước có hiệu lực kể từ ngày được Ủy ban nhân dân phường công nhận."""
COMMENT = "Đề nghị quy định giờ đổ rác buổi tối."


def adopted_covenant(session, households=10, present=7, agree=6):
    """A hương ước of Khu phố 1, commented on 31 days and adopted at a meeting (NĐ 61 Điều 9, 10)."""
    start = utcnow()
    commune, group = group_with_households(session, households)
    covenant = covenants.create(session, SYSTEM, commune, group_id=group.id, kind="huong_uoc",
                                title="Hương ước khu phố 1", text=TEXT)
    covenants.open_comments(session, SYSTEM, covenant, start + timedelta(days=31), now=start)
    covenants.add_comment(session, covenant, name="Nguyễn Văn An", address="Số 2, khu phố 1", text=COMMENT,
                          now=start + timedelta(days=1))
    day = start + timedelta(days=32)
    poll = covenants.call_meeting(session, SYSTEM, covenant, covenants.MeetingInput(
        TEXT, day, day + timedelta(hours=3), local_date(day) - timedelta(days=4)), now=day - timedelta(days=1))
    polls.open_poll(session, SYSTEM, poll, now=day)
    for h in session.scalars(select(PollHousehold).where(PollHousehold.poll_id == poll.id)).all()[:present]:
        polls.check_in(session, SYSTEM, poll, poll_household_id=h.id)
    polls.record_meeting_count(session, SYSTEM, poll, counts={choice(poll, "agree"): agree}, method="hands",
                               now=day + timedelta(hours=1))
    polls.close_poll(session, SYSTEM, poll, now=day + timedelta(hours=2))
    assert poll.outcome_passed and covenants.progress(session, covenant).stage == covenants.ADOPTED
    polls.record_received(session, SYSTEM, poll, local_date(poll.decided_at) + timedelta(days=1))
    return covenant, poll


def recognised_covenant(session):
    covenant, poll = adopted_covenant(session)
    polls.recognise(session, SYSTEM, poll, number="15/QĐ-UBND", on=local_date(poll.decided_at) + timedelta(days=2))
    return covenant, poll
