"""Every list that grows comes a page at a time by key (issue 24): the first page holds
exactly a page of rows, "next" walks the rest with no row twice and none missed, a row is
found by searching for it, filters narrow the list on the server, and a page weighs the
same whatever the length of the list."""

from __future__ import annotations

import hashlib
import html as htmllib
import re
from datetime import date, timedelta

import pyotp
import pytest
from sqlalchemy import insert, select, update

from consult.audit.service import SYSTEM
from consult.documents import views as documents_views
from consult.documents.models import OutgoingDocument
from consult.households import views as households_views
from consult.mail import views as mail_views
from consult.mail.models import FAILED, SENT, OutgoingMail
from consult.polls import secrecy, service
from consult.polls import views as polls_views
from consult.polls.models import PHASE_VOTE, BallotBox, CastBallot, Participation, PollHousehold
from consult.proposals import views as proposals_views
from consult.proposals.models import Proposal
from consult.communes.models import Household
from consult.timeutil import utcnow
from tests.support.helpers import login, make_commune, make_group, make_user
from tests.support.polls import choice, close, group_with_households, open_vote, pass_consent

SIZE = 10  # the page size the tests set, so that long lists stay cheap to build


def _next(html: str, label: str, rel: str = "next") -> str | None:
    """The href of a pager's link (``templates/_pager.html``), by the pager's label."""
    nav = re.search(rf'<nav class="pager" aria-label="{re.escape(label)}">(.*?)</nav>', html, re.S)
    if nav is None:
        return None
    link = re.search(rf'<a rel="{rel}" href="([^"]+)"', nav.group(1))
    return htmllib.unescape(link.group(1)) if link else None


def _walk(client, url: str, rows, label: str) -> list[list[str]]:
    """Every page of a list from its first, following "next" to the end."""
    pages = []
    while url:
        html = client.get(url).get_data(as_text=True)
        pages.append(rows(html))
        url = _next(html, label)
        assert len(pages) < 100, "the walk does not end"
    return pages


def _check_walk(pages: list[list[str]], expected: list[str]) -> None:
    assert len(pages[0]) == SIZE, "the first page holds exactly a page"
    assert all(len(p) == SIZE for p in pages[:-1]) and 0 < len(pages[-1]) <= SIZE
    walked = [row for page in pages for row in page]
    assert walked == expected, "next leads to the following rows: none twice, none missed, in order"


def _flat(small: int, large: int) -> None:
    """A page of a list 10 times longer weighs the same, within a small margin."""
    assert abs(large - small) <= 0.03 * small + 200, f"{small} bytes at 2 pages, {large} at 20"


def _officer(session, client, commune):
    secret = pyotp.random_base32()
    make_user(session, f"canbo.{commune.id}", "officer", commune, totp=secret)
    session.commit()
    login(client, f"canbo.{commune.id}", totp_secret=secret)


# --- the public results of a vote: participants, bulletin, "ý kiến khác" --------------------

def _tracker(poll_id: int, i: int) -> str:
    return hashlib.sha256(f"{poll_id}-{i}".encode()).hexdigest()


def _big_vote(session, extra: int, *, texts: int = 0, slug: str = "binh-an"):
    """A counted online vote of 6 ballots, its lists then lengthened by ``extra`` households
    that took part and their ballots on the bulletin (Core inserts: the count is not redone),
    and ``texts`` "ý kiến khác" texts."""
    commune, group = group_with_households(session, 10, commune=make_commune(session, name=slug, slug=slug))
    poll = open_vote(session, commune, [group])
    pass_consent(session, poll)
    for b in service.issue_ballots(session, SYSTEM, poll)[:6]:
        service.cast_online(session, b.token, choice(poll, "agree"))
    close(session, poll)
    if extra:
        session.execute(insert(PollHousehold), [
            {"poll_id": poll.id, "group_id": group.id, "code": f"KP9-{i:05d}", "representative": f"Hộ {i:05d}",
             "address": "Khu phố 9"} for i in range(extra)])
        ids = session.scalars(select(PollHousehold.id).where(PollHousehold.poll_id == poll.id,
                                                             PollHousehold.code.startswith("KP9-")))
        session.execute(insert(Participation), [
            {"poll_id": poll.id, "phase": PHASE_VOTE, "poll_household_id": i, "voted_on": date(2026, 12, 1),
             "channel": "online"} for i in ids])
        session.execute(insert(CastBallot), [
            {"poll_id": poll.id, "phase": PHASE_VOTE, "group_id": group.id, "ciphertext": b"", "sealed_text": b"",
             "proofs": b"", "tracker": _tracker(poll.id, i)} for i in range(extra)])
    if texts:
        session.execute(update(BallotBox).where(BallotBox.poll_id == poll.id, BallotBox.phase == PHASE_VOTE).values(
            other_texts=[f"Ý kiến khác số {i:05d}: đề nghị lắp thêm đèn chiếu sáng ở ngõ." for i in range(texts)]))
    session.commit()
    return commune, poll


@pytest.fixture
def small_public_pages(monkeypatch):
    monkeypatch.setattr(polls_views, "PUBLIC_PAGE_SIZE", SIZE)
    monkeypatch.setattr(polls_views, "PUBLIC_TEXTS_PAGE_SIZE", SIZE)


def _participants(html: str) -> list[str]:
    block = re.search(r'<ul class="columns" id="participants">(.*?)</ul>', html, re.S).group(1)
    return re.findall(r"<li>(KP\d-\d+) — ", block)


def _bulletin(html: str) -> list[str]:
    block = re.search(r'<ul class="columns" id="bulletin">(.*?)</ul>', html, re.S)
    return re.findall(r"<code>([0-9a-f]{16})…</code>", block.group(1)) if block else []


def _texts(html: str) -> list[str]:
    block = re.search(r'<ul id="other-texts">(.*?)</ul>', html, re.S)
    return re.findall(r'<li class="opinion-text">([^<]+)</li>', block.group(1)) if block else []


def test_the_participants_of_a_vote_are_walked_by_code(client, session, small_public_pages):
    commune, poll = _big_vote(session, 3 * SIZE + 4)
    url = f"/c/{commune.slug}/polls/{poll.id}"
    expected = sorted(session.scalars(select(PollHousehold.code).join(
        Participation, Participation.poll_household_id == PollHousehold.id).where(
        PollHousehold.poll_id == poll.id, Participation.phase == PHASE_VOTE)))
    pages = _walk(client, url, _participants, "Trang danh sách hộ đã tham gia")
    _check_walk(pages, expected)
    second = client.get(_next(client.get(url).get_data(as_text=True), "Trang danh sách hộ đã tham gia"))
    back = _next(second.get_data(as_text=True), "Trang danh sách hộ đã tham gia", rel="prev")
    assert _participants(client.get(back).get_data(as_text=True)) == pages[0]  # previous: the page before
    assert _participants(client.get(f"{url}?page=3").get_data(as_text=True)) == pages[0]  # an old link


def test_the_bulletin_is_walked_by_tracker_and_a_receipt_finds_its_page(client, session, small_public_pages):
    commune, poll = _big_vote(session, 4 * SIZE)
    url = f"/c/{commune.slug}/polls/{poll.id}"
    trackers = sorted(session.scalars(select(CastBallot.tracker).where(
        CastBallot.poll_id == poll.id, CastBallot.phase == PHASE_VOTE)))
    pages = _walk(client, url, _bulletin, "Trang bảng công khai")
    _check_walk(pages, [t[:16] for t in trackers])
    # A receipt in the middle of the board: its page starts at its ballot, the one before ends just before it.
    wanted = trackers[2 * SIZE + 3]
    html = client.get(f"{url}?receipt={secrecy.receipt_code(wanted)}").get_data(as_text=True)
    assert "nằm trong danh sách đã được đếm" in html
    assert _bulletin(html)[0] == wanted[:16] and f"<mark><code>{wanted[:16]}…" in html
    assert _bulletin(html) == [t[:16] for t in trackers[2 * SIZE + 3:3 * SIZE + 3]]
    before = client.get(_next(html, "Trang bảng công khai", rel="prev")).get_data(as_text=True)
    assert _bulletin(before) == [t[:16] for t in trackers[SIZE + 3:2 * SIZE + 3]]
    assert service.receipt_tracker(session, poll, secrecy.receipt_code(wanted)) == wanted
    missing = client.get(f"{url}?receipt=AAAA-BBBB-CC").get_data(as_text=True)
    assert "Không tìm thấy mã này" in missing and _bulletin(missing) == pages[0]


def test_the_tracker_range_of_a_receipt_is_an_index_range():
    """``tracker >= prefix AND tracker < prefix + 1``, not a LIKE (which PostgreSQL's b-tree
    serves only under the C collation); a prefix of only f's has no upper end."""
    from consult.polls.ballots import _tracker_range

    sql = str(_tracker_range("00ff3f").compile(compile_kwargs={"literal_binds": True}))
    assert "LIKE" not in sql and "'00ff3f'" in sql and "'00ff40'" in sql
    assert "<" not in str(_tracker_range("ffff").compile(compile_kwargs={"literal_binds": True}))


def test_the_other_texts_of_a_vote_come_a_page_at_a_time(client, session, small_public_pages):
    commune, poll = _big_vote(session, 0, texts=3 * SIZE + 5)
    url = f"/c/{commune.slug}/polls/{poll.id}"
    pages = _walk(client, url, _texts, "Trang ý kiến khác")
    _check_walk(pages, [f"Ý kiến khác số {i:05d}: đề nghị lắp thêm đèn chiếu sáng ở ngõ." for i in range(3 * SIZE + 5)])
    assert f"Ý kiến khác ({3 * SIZE + 5})" in client.get(url).get_data(as_text=True)


def test_the_public_results_page_weighs_the_same_at_any_size_of_vote(client, session, small_public_pages):
    sizes = []
    for extra in (2 * SIZE, 20 * SIZE):
        commune, poll = _big_vote(session, extra, texts=extra, slug=f"xa-{extra:04d}")
        html = client.get(f"/c/{commune.slug}/polls/{poll.id}").get_data(as_text=True)
        assert len(_participants(html)) == len(_bulletin(html)) == len(_texts(html)) == SIZE
        sizes.append(len(html.encode()))
    _flat(*sizes)


# --- the household register ------------------------------------------------------------------

@pytest.fixture
def small_register(monkeypatch):
    monkeypatch.setattr(households_views, "PAGE_SIZE", SIZE)


def _register_rows(html: str) -> list[str]:
    return re.findall(r"<tr><td>([A-Z0-9]+-\d+)</td>", html)


def _households(session, commune, group, prefix: str, n: int) -> None:
    session.execute(insert(Household), [
        {"commune_id": commune.id, "group_id": group.id, "code": f"{prefix}-{i:04d}",
         "representative": f"Đại diện hộ {prefix}-{i:04d}", "address": f"Số {i}", "created_at": utcnow()}
        for i in range(n)])


def test_a_group_s_register_is_walked_by_code_and_searched(client, session, small_register):
    commune = make_commune(session)
    group, other = make_group(session, commune, "Khu phố 1"), make_group(session, commune, "Khu phố 2", position=1)
    _households(session, commune, group, "KP1", 3 * SIZE + 7)
    _households(session, commune, other, "KP2", 5)
    session.add(Household(commune_id=commune.id, group_id=group.id, code="KP1-9999", representative="Nguyễn Văn Tèo",
                          address="Số 1"))
    _officer(session, client, commune)
    url = f"/households/groups/{group.id}"
    pages = _walk(client, url, _register_rows, "Trang sổ hộ")
    _check_walk(pages, [f"KP1-{i:04d}" for i in range(3 * SIZE + 7)] + ["KP1-9999"])
    assert f"{3 * SIZE + 8} hộ" in client.get(url).get_data(as_text=True)
    # Filters, on the server: by code, by name; each a page at a time.
    by_code = _walk(client, f"{url}?q=kp1-001", _register_rows, "Trang sổ hộ")
    _check_walk(by_code, [f"KP1-{i:04d}" for i in range(10, 20)])
    assert _register_rows(client.get(f"{url}?q=Tèo").get_data(as_text=True)) == ["KP1-9999"]
    assert _register_rows(client.get(f"{url}?page=4").get_data(as_text=True)) == pages[0]  # an old link


def test_a_search_counts_its_matches_up_to_a_bound_and_walks_them_all(client, session, small_register, monkeypatch):
    monkeypatch.setattr(households_views, "SEARCH_COUNT_AT_MOST", SIZE)
    commune = make_commune(session)
    group = make_group(session, commune, "Khu phố 1")
    _households(session, commune, group, "KP1", 3 * SIZE)
    _officer(session, client, commune)
    url = f"/households/groups/{group.id}"
    assert f"hơn {SIZE} hộ khớp" in client.get(f"{url}?q=KP1").get_data(as_text=True)
    _check_walk(_walk(client, f"{url}?q=KP1", _register_rows, "Trang sổ hộ"), [f"KP1-{i:04d}" for i in range(3 * SIZE)])
    # At the bound, the count is exact; without a search, the register's size always is.
    at_bound = client.get(f"{url}?q=KP1-001").get_data(as_text=True)  # KP1-0010 to KP1-0019
    assert f"{SIZE} hộ khớp" in at_bound and "hơn" not in at_bound
    assert f"{3 * SIZE} hộ" in client.get(url).get_data(as_text=True)


def test_the_commune_s_register_is_searched_by_code_name_and_group(client, session, small_register):
    commune = make_commune(session)
    group, other = make_group(session, commune, "Khu phố 1"), make_group(session, commune, "Khu phố 2", position=1)
    _households(session, commune, group, "KP1", 2 * SIZE)
    _households(session, commune, other, "KP2", 2 * SIZE + 3)
    _officer(session, client, commune)
    in_group = _walk(client, f"/households/?group={other.id}", _register_rows, "Trang kết quả tìm")
    _check_walk(in_group, [f"KP2-{i:04d}" for i in range(2 * SIZE + 3)])
    both = _walk(client, "/households/?q=-000", _register_rows, "Trang kết quả tìm")
    assert [r for p in both for r in p] == [f"KP1-{i:04d}" for i in range(10)] + [f"KP2-{i:04d}" for i in range(10)]
    narrowed = client.get(f"/households/?q=-000&group={group.id}").get_data(as_text=True)
    assert _register_rows(narrowed) == [f"KP1-{i:04d}" for i in range(10)]
    named = client.get(f"/households/?q=Đại+diện+hộ+KP2-0021").get_data(as_text=True)
    assert _register_rows(named) == ["KP2-0021"]


def test_a_register_page_weighs_the_same_at_any_size_of_group(client, session, small_register):
    commune = make_commune(session)
    small, large = make_group(session, commune, "Khu phố 1"), make_group(session, commune, "Khu phố 2", position=1)
    _households(session, commune, small, "KP1", 2 * SIZE)
    _households(session, commune, large, "KP2", 20 * SIZE)
    _officer(session, client, commune)
    sizes = [len(client.get(f"/households/groups/{g.id}").get_data()) for g in (small, large)]
    _flat(*sizes)


# --- proposals ---------------------------------------------------------------------------------

def _proposals(session, commune, group, n: int) -> list[int]:
    start = utcnow() - timedelta(days=400)
    session.execute(insert(Proposal), [
        {"commune_id": commune.id, "group_id": group.id, "matter_kind": "k6", "title": f"Đề xuất số {i:04d}",
         "content": "Nội dung.", "proposer_name": "A", "proposer_address": "B", "status": "refused",
         "refused_reason": "Không thuộc Điều 15.", "created_by": "A",
         # two at the same instant: the id breaks the tie
         "submitted_at": start + timedelta(hours=i // 2)} for i in range(n)])
    session.commit()
    return list(session.scalars(select(Proposal.id).where(Proposal.commune_id == commune.id)
                                .order_by(Proposal.submitted_at.desc(), Proposal.id.desc())))


def _proposal_rows(html: str) -> list[str]:
    return re.findall(r"(Đề xuất số \d+)</(?:strong|a)>", html)


def test_the_public_proposals_are_walked_newest_first(client, session, monkeypatch):
    monkeypatch.setattr(proposals_views, "PAGE_SIZE", SIZE)
    commune = make_commune(session)
    group = make_group(session, commune)
    n = 3 * SIZE + 1
    _proposals(session, commune, group, n)
    expected = [f"Đề xuất số {i:04d}" for i in sorted(range(n), key=lambda i: (i // 2, i), reverse=True)]
    pages = _walk(client, f"/c/{commune.slug}/proposals/", _proposal_rows, "Trang đề xuất")
    _check_walk(pages, expected)


def test_the_staff_proposals_list_is_walked_and_weighs_the_same(client, session, monkeypatch):
    monkeypatch.setattr(proposals_views, "PAGE_SIZE", SIZE)
    commune = make_commune(session)
    group = make_group(session, commune)
    n = 2 * SIZE + 5
    _proposals(session, commune, group, n)
    _officer(session, client, commune)
    pages = _walk(client, "/proposals/", _proposal_rows, "Trang đề xuất")
    _check_walk(pages, [f"Đề xuất số {i:04d}" for i in sorted(range(n), key=lambda i: (i // 2, i), reverse=True)])
    other = make_commune(session, name="Tân Đông Hiệp")
    _proposals(session, other, make_group(session, other), 20 * SIZE)
    small = len(client.get(f"/c/{commune.slug}/proposals/").get_data())
    large = len(client.get(f"/c/{other.slug}/proposals/").get_data())
    _flat(small, large + len(commune.slug) - len(other.slug))


# --- mail ----------------------------------------------------------------------------------------

def _mail(session, commune, n: int, status=None) -> None:
    """``n`` messages, two queued at each instant; without a status, every third one failed."""
    start = utcnow() - timedelta(days=30)
    session.execute(insert(OutgoingMail), [
        {"commune_id": commune.id, "recipient": f"Đơn vị {i:04d}", "to_address": f"u{i:04d}@binhan.vn",
         "subject": "Nhắc trả lời", "body": "…", "status": status or (SENT if i % 3 else FAILED),
         "next_attempt_at": start, "queued_by": "Tâm", "queued_at": start + timedelta(minutes=i // 2)}
        for i in range(n)])
    session.commit()


def _mail_rows(html: str) -> list[str]:
    return re.findall(r"<td>(Đơn vị \d+)</td>", html)


def test_the_commune_s_mail_is_walked_newest_first_and_filtered(client, session, monkeypatch):
    monkeypatch.setattr(mail_views, "PAGE_SIZE", SIZE)
    commune = make_commune(session)
    n = 3 * SIZE + 2
    _mail(session, commune, n)
    _officer(session, client, commune)
    newest_first = sorted(range(n), key=lambda i: (i // 2, i), reverse=True)
    _check_walk(_walk(client, "/mail/", _mail_rows, "Trang thư"), [f"Đơn vị {i:04d}" for i in newest_first])
    failed = _walk(client, "/mail/?status=failed", _mail_rows, "Trang thư")
    _check_walk(failed, [f"Đơn vị {i:04d}" for i in newest_first if i % 3 == 0])
    # A key that fits no INTEGER column is no key (PostgreSQL failed the query): the first page.
    assert _mail_rows(client.get(f"/mail/?after={10 ** 20}").get_data(as_text=True)) == [
        f"Đơn vị {i:04d}" for i in newest_first[:SIZE]]


def test_a_mail_page_weighs_the_same_at_any_size_of_outbox(client, session, monkeypatch):
    monkeypatch.setattr(mail_views, "PAGE_SIZE", SIZE)
    commune = make_commune(session)
    _mail(session, commune, 2 * SIZE, status=FAILED)
    _mail(session, commune, 20 * SIZE, status=SENT)
    _officer(session, client, commune)
    _flat(len(client.get("/mail/?status=failed").get_data()), len(client.get("/mail/?status=sent").get_data()))


# --- the register of outgoing documents ---------------------------------------------------------

def _documents(session, commune, n: int, year: int = 2026) -> None:
    session.execute(insert(OutgoingDocument), [
        {"commune_id": commune.id, "year": year, "number": i, "kind": "letter" if i % 2 else "plan",
         "symbol": "UBND" if i % 2 else "KH-UBND", "subject": f"Văn bản {i:04d}", "issued_on": date(year, 3, 1),
         "signer": "Tâm", "created_by": "Tâm", "created_at": utcnow()} for i in range(1, n + 1)])
    session.commit()


def _document_rows(html: str) -> list[str]:
    return re.findall(r"<td>(Văn bản \d+)</td>", html)


def test_the_register_of_documents_is_walked_by_number_and_filtered(client, session, monkeypatch):
    monkeypatch.setattr(documents_views, "PAGE_SIZE", SIZE)
    commune = make_commune(session)
    n = 3 * SIZE + 3
    _documents(session, commune, n)
    _officer(session, client, commune)
    _check_walk(_walk(client, "/documents/?year=2026", _document_rows, "Trang sổ văn bản"),
                [f"Văn bản {i:04d}" for i in range(1, n + 1)])
    letters = _walk(client, "/documents/?year=2026&kind=letter", _document_rows, "Trang sổ văn bản")
    _check_walk(letters, [f"Văn bản {i:04d}" for i in range(1, n + 1) if i % 2])
    _documents(session, commune, 2 * SIZE, year=2025)
    _documents(session, commune, 20 * SIZE, year=2027)
    _flat(len(client.get("/documents/?year=2025").get_data()), len(client.get("/documents/?year=2027").get_data()))
