"""What the desk lists for each role, and that each item goes away once it is done."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from consult.audit.service import SYSTEM
from consult.desk import desk
from consult.opinions.service import add_resident_opinion, agree_without_comment
from consult.polls.models import Poll
from consult.reports import service as reports
from tests.support.helpers import login, make_commune, make_consultation, make_group, make_unit, make_user
from tests.support.polls import group_with_households, open_vote


def _keys(sections):
    return {s.key: [i.detail for i in s.items] for s in sections}


def test_an_officer_s_desk_follows_the_work_as_it_is_done(session, app, now):
    commune = make_commune(session)
    group = make_group(session, commune)
    units = [make_unit(session, commune, f"Đơn vị {i}") for i in range(3)]
    officer = make_user(session, "tam.vptk", "officer", commune)
    c = make_consultation(session, commune, units, now=now - timedelta(days=15), days=20)
    add_resident_opinion(session, c, part_id=None, text="Đề nghị bổ sung.", name="Lan", group_id=group.id, now=now)
    session.commit()
    with app.test_request_context():
        assert _keys(desk(session, officer, now)) == {
            "units": ["3/3 đơn vị chưa trả lời"], "opinions": ["1 ý kiến chưa xử lý"], "closing": ["Còn 5 ngày 0 giờ"]}
        closing = next(s for s in desk(session, officer, now) if s.key == "closing").items[0]
        assert closing.url.endswith(f"/consultations/{c.id}")
        # 8 days before the close it is not "closing this week" yet.
        assert "closing" not in _keys(desk(session, officer, c.closes_at - timedelta(days=7, microseconds=1)))
        for unit in units:
            agree_without_comment(session, SYSTEM, c, unit.id, now=now)
        row = next(reports.report_data(session, c, now=now).rows())
        reports.decide(session, SYSTEM, c, row.cluster.id, decision="noted")
        assert set(_keys(desk(session, officer, now))) == {"closing"}
        # After the close nothing waits on the draft; a new opinion could not come.
        assert desk(session, officer, c.closes_at) == []


def test_a_vote_past_its_end_waits_for_its_count_on_the_head_s_desk(session, app, now):
    commune, group = group_with_households(session, 4)
    head = make_user(session, "truong.kp1", "group_head", commune, group=group)
    poll = open_vote(session, commune, [group], form="ballot", chosen_by_head_and_front=True)
    session.commit()
    with app.test_request_context():
        assert desk(session, head, now) == []
        session.execute(update(Poll).where(Poll.id == poll.id).values(closes_at=now - timedelta(minutes=1)))
        session.expire_all()
        (section,) = desk(session, head, now)
        assert section.key == "count" and section.items[0].url.endswith(f"/polls/{poll.id}")


def test_a_unit_representative_s_desk_lists_the_drafts_to_answer(client, session, now):
    commune = make_commune(session)
    unit = make_unit(session, commune, "Hội Nông dân phường")
    make_user(session, "dai.dien", "unit_rep", commune, unit=unit)
    c = make_consultation(session, commune, [unit])
    session.commit()
    login(client, "dai.dien")
    home = client.get("/staff").get_data(as_text=True)
    assert 'id="desk-reply"' in home and c.title in home and f"/opinions/consultations/{c.id}" in home
    agree_without_comment(session, SYSTEM, c, unit.id)
    session.commit()
    home = client.get("/staff").get_data(as_text=True)
    assert 'id="desk-reply"' not in home and 'id="desk-empty"' in home
