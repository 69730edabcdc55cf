"""The officer's workspace a page at a time (issue 24): paged by key, filtered in the database,
a group one row with its count, and a page's size that does not grow with the consultation."""

import re

import pyotp
import pytest
from sqlalchemy import select

from consult.audit.service import SYSTEM
from consult.opinions.service import add_resident_opinion, add_unit_comments
from consult.reports import service, workspace
from consult.reports.models import ClusterMember, OpinionCluster
from tests.support.helpers import login, make_commune, make_consultation, make_group, make_unit, make_user, post_form

GROUP_ID = re.compile(r'<article class="group [a-z]+" id="group-(\d+)"')


@pytest.fixture
def desk(client, session, monkeypatch):
    """A commune, an officer logged in, a consultation; pages of 4 groups, previews of 3 members."""
    monkeypatch.setattr(workspace, "PAGE_SIZE", 4)
    monkeypatch.setattr(workspace, "MEMBERS_PAGE_SIZE", 2)
    commune = make_commune(session)
    group = make_group(session, commune, name="Khu phố 2")
    unit = make_unit(session, commune, "Hội Nông dân phường")
    secret = pyotp.random_base32()
    make_user(session, "tam.vptk", "officer", commune, totp=secret)
    c = make_consultation(session, commune, [unit])
    session.commit()
    login(client, "tam.vptk", totp_secret=secret)
    return c, group, unit


def _distinct(session, c, group, n, *, part_of=lambda i: None, start=0):
    """``n`` opinions that each stand alone: different amounts are never grouped."""
    for i in range(start, start + n):
        add_resident_opinion(session, c, part_id=part_of(i), text=f"Đề nghị điều chỉnh mức thu {i + 1}00.000 đồng.",
                             name=f"Người {i}", group_id=group.id)
    session.commit()


def _walk(client, url):
    """Every page from ``url`` on, following the next link; the group ids of each page."""
    pages = []
    while url:
        html = client.get(url).get_data(as_text=True)
        pages.append([int(g) for g in GROUP_ID.findall(html)])
        link = re.search(r'id="next-page" href="([^"]+)"', html)
        url = link[1].replace("&amp;", "&") if link else None
        assert len(pages) < 50
    return pages


def test_pages_continue_by_key_with_no_overlap_and_no_gap(client, session, desk):
    c, group, _ = desk
    parts = [p.id for p in c.parts]
    _distinct(session, c, group, 10, part_of=lambda i: None if i % 3 == 0 else parts[i % len(parts)])
    pages = _walk(client, f"/reports/consultations/{c.id}")
    assert [len(p) for p in pages] == [4, 4, 2]
    seen = [g for p in pages for g in p]
    positions = {p.id: p.position for p in c.parts}
    expected = [cid for cid, _ in sorted(
        ((cl.id, (positions.get(cl.part_id, -1), cl.id)) for cl in session.scalars(select(OpinionCluster))),
        key=lambda x: x[1])]
    assert seen == expected  # the draft's order, general opinions first, each group once


def test_each_filter_returns_only_matching_groups(client, session, desk):
    c, group, unit = desk
    part = c.parts[1]
    _distinct(session, c, group, 6, part_of=lambda i: part.id if i < 3 else None)
    add_unit_comments(session, SYSTEM, c, unit.id, [(None, "Đề nghị bổ sung kinh phí cho nhà văn hóa.")])
    session.commit()
    url = f"/reports/consultations/{c.id}"
    client.get(url)
    clusters = {cl.id: cl for cl in session.scalars(select(OpinionCluster))}
    text_of = {m.cluster_id: m.opinion for m in session.scalars(select(ClusterMember))}
    decided = sorted(clusters)[:2]
    for cid in decided:
        post_form(client, f"{url}/clusters/{cid}/decide", {"decision": "accepted", "explanation": ""}, get_url=url)

    def shown(query):
        return {g for page in _walk(client, f"{url}?{query}") for g in page}

    assert shown(f"part={part.id}") == {cid for cid, cl in clusters.items() if cl.part_id == part.id} != set()
    assert shown("part=0") == {cid for cid, cl in clusters.items() if cl.part_id is None}
    assert shown("state=undecided") == set(clusters) - set(decided)
    assert shown("state=accepted") == set(decided)
    assert shown(f"unit={unit.id}") == {cid for cid, o in text_of.items() if o.unit_id == unit.id} != set()
    assert shown("unit=0") == {cid for cid, o in text_of.items() if o.author_kind == "resident"}
    assert shown("q=kinh+phi") == {cid for cid, o in text_of.items() if "kinh phí" in o.text} != set()
    assert shown("q=300.000") == {cid for cid, o in text_of.items() if "300.000" in o.text}
    assert shown(f"part={part.id}&state=undecided&unit=0") == {
        cid for cid, cl in clusters.items() if cl.part_id == part.id and cid not in decided}
    # An answer given on a filtered page comes back to that page, its filters kept.
    left = sorted(shown(f"part={part.id}&state=undecided"))
    r = post_form(client, f"{url}/clusters/{left[0]}/decide?part={part.id}&state=undecided",
                  {"decision": "noted", "explanation": ""}, get_url=url)
    assert r.status_code == 302 and f"part={part.id}" in r.location and "state=undecided" in r.location
    assert shown(f"part={part.id}&state=undecided") == set(left[1:])


def test_a_group_is_one_row_with_its_count_and_answering_it_answers_its_members(client, session, desk):
    c, group, _ = desk
    for i in range(5):
        add_resident_opinion(session, c, part_id=c.parts[2].id, text="Đề nghị bỏ điểm b" + "!" * i,
                             name=f"Cư dân {i}", group_id=group.id)
    _distinct(session, c, group, 1)
    url = f"/reports/consultations/{c.id}"
    page = client.get(url).get_data(as_text=True)
    assert len(GROUP_ID.findall(page)) == 2 and "Đề xuất gộp 5 ý kiến giống nhau" in page
    assert page.count("tách để trả lời riêng") == workspace.PREVIEW and "Lưu cho 5 ý kiến" in page
    assert '<b id="undecided">6</b>' in page
    cluster = session.scalar(select(OpinionCluster).where(OpinionCluster.part_id == c.parts[2].id))
    # Its members on their own pages, by key, each once.
    members = f"{url}/clusters/{cluster.id}"
    assert members in page
    names, next_url = [], members
    while next_url:
        html = client.get(next_url).get_data(as_text=True)
        names += re.findall(r"Cư dân \d", html)
        link = re.search(r'id="next-page" href="([^"]+)"', html)
        next_url = link[1].replace("&amp;", "&") if link else None
    assert sorted(names) == [f"Cư dân {i}" for i in range(5)]
    r = post_form(client, f"{url}/clusters/{cluster.id}/decide", {"decision": "accepted", "explanation": ""},
                  get_url=url, follow_redirects=True)
    assert '<b id="undecided">1</b>' in r.get_data(as_text=True)
    session.rollback()  # a fresh snapshot after the page's commit
    data = service.report_data(session, c)
    assert data.counts["accepted"] == 5 and data.undecided == 1


def test_a_page_does_not_grow_with_the_number_of_opinions(client, session, desk):
    c, group, _ = desk
    url = f"/reports/consultations/{c.id}"
    _distinct(session, c, group, 2 * workspace.PAGE_SIZE)
    small = len(client.get(url).data)
    _distinct(session, c, group, 18 * workspace.PAGE_SIZE, start=2 * workspace.PAGE_SIZE)
    large = client.get(url).data
    assert f'<b id="undecided">{20 * workspace.PAGE_SIZE}</b>'.encode() in large
    assert len(large) < small * 1.05, (small, len(large))


def test_the_grouping_pass_runs_only_when_opinions_arrived(client, session, desk, monkeypatch):
    """The full pass reads every opinion of the consultation (seconds at 50,000): a page runs it only
    when opinions came in since, and otherwise counts."""
    c, group, _ = desk
    _distinct(session, c, group, 3)
    runs = []
    real = service.sync_clusters
    monkeypatch.setattr(service, "sync_clusters", lambda *a, **k: runs.append(1) or real(*a, **k))
    url = f"/reports/consultations/{c.id}"
    assert '<b id="undecided">3</b>' in client.get(url).get_data(as_text=True) and len(runs) == 1
    for _ in range(3):
        client.get(url)
    assert len(runs) == 1
    _distinct(session, c, group, 1, start=3)
    assert '<b id="undecided">4</b>' in client.get(url).get_data(as_text=True) and len(runs) == 2
