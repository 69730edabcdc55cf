"""Residents' public posts behind one address (a commune's Wi-Fi, a mobile operator's NAT):
each resident posts, refused posts count per address, a browser or an address looping cannot
flood a draft, and the same words twice are one opinion (consult/opinions/limits.py)."""

from __future__ import annotations

from sqlalchemy import func, select

from consult.opinions.models import Opinion
from tests.support.helpers import make_commune, make_consultation, make_group, post_form


def _draft(session):
    commune = make_commune(session)
    group = make_group(session, commune)
    c = make_consultation(session, commune, [])
    session.commit()
    return f"/c/{commune.slug}/consultations/{c.id}/comment", group


def _comment(client, url, group, text, name="Nguyễn Văn An"):
    return post_form(client, url, {"part_id": "0", "text": text, "name": name, "group_id": str(group.id), "phone": ""})


def _saved(session) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(Opinion))


def test_two_dozen_residents_behind_one_address_each_comment(app, session):
    """24 residents of one village Wi-Fi each send one comment: all 24 are saved (before: 20, then 429 for an hour)."""
    url, group = _draft(session)
    for i in range(24):
        resident = app.test_client()  # a browser of its own, the same address
        assert _comment(resident, url, group, f"Ý kiến số {i} về khoản 2", name=f"Cư dân {i}").status_code == 302
    assert _saved(session) == 24


def test_one_browser_looping_is_stopped_and_others_are_not(app, client, session):
    """One browser: 10 saved comments an hour (PUBLIC_POST_DEVICE_LIMIT), then 429; a neighbour
    behind the same address still posts."""
    url, group = _draft(session)
    for i in range(10):
        assert _comment(client, url, group, f"Ý kiến lặp {i}").status_code == 302
    assert _comment(client, url, group, "Ý kiến thứ mười một").status_code == 429
    assert _comment(app.test_client(), url, group, "Ý kiến của hàng xóm", name="Trần Thị Bình").status_code == 302
    assert _saved(session) == 11


def test_refused_posts_count_per_address(app, session):
    """Twenty refused posts (empty texts) from one address: the next is 429, from any browser there."""
    url, group = _draft(session)
    for i in range(20):
        assert _comment(app.test_client(), url, group, "").status_code in (200, 422)
    assert _comment(app.test_client(), url, group, "Một ý kiến đúng mẫu").status_code == 429
    assert _saved(session) == 0


def test_an_address_looping_through_new_browsers_meets_its_ceiling(app, session):
    """A new browser per post escapes the per-browser limit, not the per-address ceiling."""
    app.config["PUBLIC_POST_ADDRESS_LIMIT"] = "30 per hour"
    url, group = _draft(session)
    for i in range(30):
        assert _comment(app.test_client(), url, group, f"Ý kiến {i}", name=f"Người {i}").status_code == 302
    assert _comment(app.test_client(), url, group, "Ý kiến 31", name="Người 31").status_code == 429
    assert _saved(session) == 30


def test_the_same_words_twice_are_one_opinion(client, session):
    """A form sent twice (a double tap on a slow phone) saves one opinion and says so."""
    url, group = _draft(session)
    assert _comment(client, url, group, "Đề nghị bỏ điểm b").status_code == 302
    again = _comment(client, url, group, "Đề nghị bỏ điểm b")
    assert again.status_code == 422 and "Ý kiến này đã được ghi nhận trước đó." in again.get_data(as_text=True)
    assert _comment(client, url, group, "Đề nghị bỏ điểm b", name="Lê Văn Cường").status_code == 302
    assert _saved(session) == 2
