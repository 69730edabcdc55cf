"""Behaviours that mutation testing found unpinned (issue #25, point 3), one test per rule.

Each test names the rule it pins; the comment above each group names the mutation
(a change of the kind real bugs make) that it was checked to catch.
"""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consult import verify
from consult.audit.service import SYSTEM
from consult.consultations.parser import parse_draft
from consult.polls import ballots, deadlines, rules, secrecy
from consult.polls import service as polls
from consult.polls.counting import tally_counts
from consult.polls.errors import BallotRejected, PollError
from consult.reports.grouping import propose_groups, signature, similar
from consult.timeutil import humanize_remaining, vietnamese_long_date
from tests.support import polls as tp
from tests.support.helpers import make_commune, make_group

KEY = secrecy.VoteKey(b"s" * 16)
MINUS_G = verify.sub(verify.IDENTITY, verify.G)


def _context(choices: int) -> bytes:
    return verify.ballot_context(3, "vote", KEY.public, choices, 1, 1)


# --- the secrecy of a ciphertext (consult/polls/secrecy.py alone, no database) ----------------
# Mutations caught: one random value per ballot instead of one per choice (``r`` drawn once
# before the loop of encrypt_ballot), and a constant nonce (``r`` a fixed scalar).

ballot_cases = st.integers(2, 5).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1)))


@settings(max_examples=25, deadline=None)
@given(ballot_cases)
def test_ciphertexts_of_equal_choices_share_no_component(case):
    """Two households making the same choice leave ciphertexts with nothing in common."""
    choices, chosen = case
    first, _ = secrecy.encrypt_ballot(KEY.public, _context(choices), choices, chosen)
    second, _ = secrecy.encrypt_ballot(KEY.public, _context(choices), choices, chosen)
    assert first != second
    for (a1, b1), (a2, b2) in zip(verify.pairs(first, choices), verify.pairs(second, choices)):
        assert a1 != a2 and b1 != b2


@settings(max_examples=25, deadline=None)
@given(st.integers(3, 5).flatmap(lambda n: st.tuples(st.just(n), st.sets(st.integers(0, n - 1), min_size=1,
                                                                          max_size=2))))
def test_each_choice_of_a_ballot_has_its_own_randomness(case):
    """The α of one ballot are pairwise distinct, and β_i − β_j is never 0 or ±G: with one
    random value per ballot, β_i − β_j = (m_i − m_j)·G would name the chosen choice."""
    choices, chosen = case
    context = verify.ballot_context(3, "vote", KEY.public, choices, 1, 2)
    ciphertext, proofs = secrecy.encrypt_ballot(KEY.public, context, choices, chosen, 1, 2)
    verify.check_ballot(KEY.public, context, choices, 1, 2, ciphertext, proofs)
    pairs = verify.pairs(ciphertext, choices)
    assert len({alpha for alpha, _ in pairs}) == choices
    for i, (_, beta_i) in enumerate(pairs):
        for j, (_, beta_j) in enumerate(pairs):
            if i != j:
                assert verify.sub(beta_i, beta_j) not in (verify.IDENTITY, verify.G, MINUS_G)


def _small_multiples(limit: int = 16) -> set[bytes]:
    return {verify.small(k) for k in range(limit + 1)} | {verify.sub(verify.IDENTITY, verify.small(k))
                                                          for k in range(1, limit + 1)}


SMALL = _small_multiples()


def _keyless_guess(pairs, known_pairs, known_choice, choices):
    """What someone holding no key (only the published ciphertexts, and the plaintext of
    their own ballot) could read of a ballot; None when nothing gives it away."""
    # Inside the ballot: a shared nonce makes β_i − β_j = ±G exactly where i is chosen.
    for i in range(choices):
        for j in range(choices):
            if i != j and verify.sub(pairs[i][1], pairs[j][1]) == verify.G:
                return i
    # Across ballots: a nonce reused with one's own ballot makes β − β' 0 or ±G.
    for i, ((alpha, beta), (known_alpha, known_beta)) in enumerate(zip(pairs, known_pairs)):
        if alpha == known_alpha:
            difference = verify.sub(beta, known_beta)
            if difference == verify.IDENTITY:
                return known_choice if i == known_choice else next(c for c in range(choices) if c != i)
            if difference == verify.G:
                return i
            if difference == MINUS_G:
                return known_choice
    # A predictable nonce: α a small multiple of G gives r, and β − r·K the choice.
    for i, (alpha, beta) in enumerate(pairs):
        if alpha in SMALL:
            return i
    return None


@settings(max_examples=20, deadline=None)
@given(st.lists(st.sampled_from([0, 1]), min_size=2, max_size=6), st.sampled_from([0, 1]))
def test_without_the_key_no_one_tells_an_agree_ballot_from_a_disagree_one(cast, own):
    """Given only the ciphertexts of "agree" (0) and "disagree" (1) ballots, and the plaintext
    of one's own ballot, no component is equal across ballots, predictable, or ±G apart."""
    choices = 3  # đồng ý, không đồng ý, ý kiến khác
    known, _ = secrecy.encrypt_ballot(KEY.public, _context(choices), choices, own)
    known_pairs = verify.pairs(known, choices)
    seen_alphas = {alpha for alpha, _ in known_pairs}
    seen_betas = {beta for _, beta in known_pairs}
    for chosen in cast:
        ciphertext, _ = secrecy.encrypt_ballot(KEY.public, _context(choices), choices, chosen)
        pairs = verify.pairs(ciphertext, choices)
        assert _keyless_guess(pairs, known_pairs, own, choices) is None
        alphas, betas = {a for a, _ in pairs}, {b for _, b in pairs}
        assert not alphas & seen_alphas and not betas & seen_betas
        seen_alphas |= alphas
        seen_betas |= betas


def test_the_keyless_distinguisher_reads_a_ballot_whose_choices_share_a_nonce():
    """The distinguisher above is not blind: a ballot made with one nonce for all its choices
    (the bug it guards against) gives its choice away."""
    r = secrecy._random_scalar()
    pairs = [(verify.base_mult(r), verify.add(verify.mult(r, KEY.public), verify.small(int(i == 1))))
             for i in range(3)]
    known, _ = secrecy.encrypt_ballot(KEY.public, _context(3), 3, 0)
    assert _keyless_guess(pairs, verify.pairs(known, 3), 0, 3) == 1


def test_a_sealed_other_opinion_has_one_size_whatever_it_says():
    """Every ballot carries a sealed "ý kiến khác", empty or not, all of one size."""
    empty = secrecy.seal_text(KEY.texts_public, "")
    again = secrecy.seal_text(KEY.texts_public, "")
    said = secrecy.seal_text(KEY.texts_public, "Đề nghị lắp thêm camera ở chợ")
    assert len(empty) == len(said) == len(again) and empty != again
    assert secrecy.open_texts(KEY, [empty, said, again]) == ["Đề nghị lắp thêm camera ở chợ"]


# --- a vote's closing instant (ballots.prepare_ballot and record_ballot) -----------------------
# Mutation caught: ``now >= closes_at`` made ``now > closes_at`` (in _check_window, and in
# record_ballot's check inside the write transaction).

def _vote_phase(session, households=3):
    commune, group = tp.group_with_households(session, households)
    poll = tp.open_vote(session, commune, [group])
    tp.pass_consent(session, poll)
    issued = polls.issue_ballots(session, SYSTEM, poll)
    return poll, [ballots.find_token(session, token=b.token) for b in issued]


def test_a_ballot_at_the_closing_instant_is_refused(session):
    poll, tokens = _vote_phase(session)
    closes = tokens[0].poll.closes_at
    with pytest.raises(BallotRejected, match="Đã hết thời gian"):
        ballots.prepare_ballot(tokens[0], tp.choice(poll, "agree"), now=closes)


def test_a_ballot_one_microsecond_before_the_close_is_recorded(session):
    poll, tokens = _vote_phase(session)
    closes = tokens[0].poll.closes_at
    receipt = ballots.cast_online(session, None, tp.choice(poll, "agree"), found=tokens[0],
                                  now=closes - timedelta(microseconds=1))
    assert receipt


def test_a_ballot_prepared_before_the_close_is_not_recorded_at_the_close(session):
    """record_ballot checks the end again inside the write transaction."""
    poll, tokens = _vote_phase(session)
    closes = tokens[0].poll.closes_at
    prepared = ballots.prepare_ballot(tokens[0], tp.choice(poll, "agree"), now=closes - timedelta(microseconds=1))
    with pytest.raises(BallotRejected, match="đã kết thúc"):
        ballots.record_ballot(session, prepared, now=closes)
    ballots.record_ballot(session, prepared, now=closes - timedelta(microseconds=1))


# --- forms, recognition and empty groups (rules, and create/open_poll) -------------------------
# Mutations caught: the several-groups check of online votes dropped; the chairman's ground
# taken without ``commune_wide``; a recognition branch changed; ``households <= 0`` dropped
# from passes().

@pytest.mark.parametrize("commune_wide", [False, True], ids=["several-groups", "commune-wide"])
def test_an_online_vote_over_several_groups_is_refused(commune_wide):
    with pytest.raises(rules.FormNotAllowed, match="một khu dân cư"):
        rules.check_form("k6", "online", commune_wide=commune_wide, several_groups=True)
    rules.check_form("k6", "online", commune_wide=False, several_groups=False)


def test_an_online_vote_over_two_of_the_communes_groups_is_refused_when_created(session):
    commune, first = tp.group_with_households(session, 3)
    _, second = tp.group_with_households(session, 3, commune=commune, name="Khu phố 2", prefix="KP2")
    tp.group_with_households(session, 3, commune=commune, name="Khu phố 3", prefix="KP3")
    data = tp.poll_input([first, second])
    data.committee = tp.with_accounts(session, commune, data.committee)
    with pytest.raises(PollError, match="một khu dân cư"):
        polls.create_poll(session, SYSTEM, commune, data)


@pytest.mark.parametrize("matter", ["k1", "k2"])
def test_the_chairmans_ground_for_ballots_is_for_commune_wide_matters_only(matter):
    with pytest.raises(rules.FormNotAllowed, match="Chủ tịch UBND"):
        rules.check_form(matter, "ballot", commune_wide=False, chosen_by_chairman=True)
    with pytest.raises(rules.FormNotAllowed):
        rules.check_form(matter, "ballot", commune_wide=False, several_groups=True, chosen_by_chairman=True)
    rules.check_form(matter, "ballot", commune_wide=True, chosen_by_chairman=True)


RECOGNISED_BY = {  # Luật Điều 21 khoản 2
    ("k1", True): "ubnd", ("k2", True): "ubnd", ("k1", False): None, ("k2", False): None,
    ("k3", True): "ubnd", ("k3", False): "ubnd", ("k4", True): "ubnd", ("k4", False): "ubnd",
    ("k5", True): "mttq", ("k5", False): "mttq", ("k6", True): None, ("k6", False): None,
}
EFFECT_WORDS = {"ubnd": "công nhận", "mttq": "MTTQ", None: "kể từ ngày được thông qua"}


@pytest.mark.parametrize("matter,commune_wide", sorted(RECOGNISED_BY))
def test_who_recognises_each_matter_in_each_scope(matter, commune_wide):
    result = rules.recognition(matter, commune_wide)
    assert result.by == RECOGNISED_BY[matter, commune_wide]
    expected = "do Ủy ban nhân dân cấp xã quyết định" if (matter in ("k1", "k2") and commune_wide) else \
        EFFECT_WORDS[result.by]
    assert expected in result.effect


@pytest.mark.parametrize("matter", ["k1", "k2", "k3", "k4", "k5", "k6"])
def test_a_group_of_no_households_never_passes(matter):
    """Thresholds are of all households: with none, nothing can pass (even 0 of 0 is not
    "two thirds"), although the smallest count that would pass is 0 (two thirds) or 1 (half)."""
    assert rules.min_agree(matter, 0) == (0 if matter in ("k1", "k2") else 1)
    assert not rules.passes(matter, 0, 0)
    assert not rules.passes(matter, 0, 1)
    assert not rules.consent_reached(0, 0)


def test_a_group_of_no_households_counts_as_not_approving_in_a_commune_wide_tally():
    groups = [SimpleNamespace(full_name="Khu phố 1"), SimpleNamespace(full_name="Khu phố 2"),
              SimpleNamespace(full_name="Khu phố 3")]
    results, passed, summary = tally_counts("k1", True, [(groups[0], 0, 0, {}), (groups[1], 3, 3, {7: 2}),
                                                         (groups[2], 3, 3, {7: 3})], 7)
    assert [g.passed for g in results] == [False, True, True] and passed
    assert summary.startswith("2/3 khu dân cư tán thành")
    results, passed, _ = tally_counts("k1", True, [(groups[0], 0, 0, {}), (groups[1], 0, 0, {}),
                                                   (groups[2], 3, 3, {7: 3})], 7)
    assert [g.passed for g in results] == [False, False, True] and not passed


def test_a_vote_over_a_group_with_no_households_does_not_open(session):
    commune = make_commune(session)
    group = make_group(session, commune, name="Khu phố trống")
    poll = polls.create_poll(session, SYSTEM, commune, tp.poll_input([group], form="meeting"))
    with pytest.raises(PollError, match="Sổ hộ gia đình của khu dân cư đang trống"):
        polls.open_poll(session, SYSTEM, poll)


# --- a deadline across 1 January (deadlines.calendar) -----------------------------------------
# Mutation caught: the holidays of one year only (``range(around.year, around.year + 1)``).

def test_five_working_days_from_29_december_skip_new_years_day_of_the_next_year(session):
    commune = make_commune(session)
    start = date(2026, 12, 29)
    calendar = deadlines.calendar(session, commune.id, start)
    assert date(2027, 1, 1) in calendar.off and not calendar.is_working_day(date(2027, 1, 1))
    assert calendar.add_working_days(start, 5) == date(2027, 1, 6)


def test_a_calendar_built_in_january_knows_the_last_year_s_holidays(session):
    commune = make_commune(session)
    calendar = deadlines.calendar(session, commune.id, date(2027, 1, 4))
    assert date(2026, 9, 2) in calendar.off and date(2028, 1, 1) in calendar.off


# --- grouping opinions at the edge of the typing-slip allowance (reports/grouping.py) ----------
# Mutations caught: short words given a slip (``max(len) < 5`` made ``< 3`` or ``< 4``), and the
# allowance moved (``len(words) // 10`` made ``// 9``).

TEN = "Mở cửa nhà văn hóa thôn trong {w} hành {c}"   # ten words: one slip allowed
NINE = "Mở cửa nhà văn hóa trong {w} hành {c}"       # nine words: none


def test_the_allowance_is_one_slip_from_ten_words():
    assert len(signature(TEN.format(w="giờ", c="chính")).words) == 10
    assert signature(TEN.format(w="giờ", c="chính")).slips == 1
    assert len(signature(NINE.format(w="giờ", c="chính")).words) == 9
    assert signature(NINE.format(w="giờ", c="chính")).slips == 0


def test_opinions_differing_in_a_meaningful_short_word_are_not_grouped():
    """"giờ" (hour) and "giá" (price) are one letter apart, but a three-letter word has no safe slip."""
    assert not similar(TEN.format(w="giờ", c="chính"), TEN.format(w="giá", c="chính"))
    assert propose_groups([(1, TEN.format(w="giờ", c="chính")), (1, TEN.format(w="giá", c="chính"))]) == [0, 1]


def test_a_typing_slip_in_a_five_letter_word_of_a_ten_word_opinion_is_grouped():
    assert similar(TEN.format(w="giờ", c="chính"), TEN.format(w="giờ", c="chínk"))
    assert propose_groups([(1, TEN.format(w="giờ", c="chính")), (1, TEN.format(w="giờ", c="chínk"))]) == [0, 0]


def test_a_slip_in_a_four_letter_word_is_not_taken_for_a_typo():
    assert not similar("Mở cửa nhà văn hóa thôn trong giờ hành chính", "Mở cửa nhà văn hóa thôn trong giờ hànk chính")


def test_a_nine_word_opinion_allows_no_typing_slip():
    assert not similar(NINE.format(w="giờ", c="chính"), NINE.format(w="giờ", c="chínk"))


# --- the draft parser (consultations/parser.py) -----------------------------------------------
# Mutations caught: any clause number accepted; a heading's wrapped line taken as text; the
# first "QUYẾT NGHỊ:" taken instead of the last; a Roman section opened inside an article.

def _parts(parsed):
    return [(n.kind, n.number) for n in parsed.walk()]


def test_a_clause_number_that_skips_stays_text_of_the_previous_clause():
    parsed = parse_draft("QUYẾT NGHỊ:\nĐiều 1. Phạm vi\n1. Khoản một.\n2. Khoản hai.\n4. Khoản bốn.\n"
                         "Điều 2. Hiệu lực\nCó hiệu lực./.\n")
    assert _parts(parsed) == [("article", "1"), ("clause", "1"), ("clause", "2"), ("article", "2")]
    assert parsed.parts[0].children[1].text == "Khoản hai. 4. Khoản bốn."


def test_an_article_heading_is_joined_with_its_next_line():
    parsed = parse_draft("QUYẾT NGHỊ:\nĐiều 1\nPhạm vi điều chỉnh\n\nĐiều 2. Trách nhiệm của Ủy ban nhân dân\n"
                         "xã và các đoàn thể\nGiao Ủy ban nhân dân xã tổ chức thực hiện.\n")
    first, second = parsed.parts
    assert (first.title, first.text) == ("Phạm vi điều chỉnh", "")
    assert second.title == "Trách nhiệm của Ủy ban nhân dân xã và các đoàn thể"
    assert second.text == "Giao Ủy ban nhân dân xã tổ chức thực hiện."


def test_the_parts_begin_after_the_last_resolve_line():
    """A tờ trình may quote the draft's own "QUYẾT NGHỊ:" and articles before the draft itself."""
    parsed = parse_draft("TỜ TRÌNH\nDự thảo có phần:\nQUYẾT NGHỊ:\nĐiều 1. Bản chép trong tờ trình\n"
                         "1. Khoản chép.\n\nDỰ THẢO NGHỊ QUYẾT\nQUYẾT NGHỊ:\nĐiều 1. Phạm vi thật\n"
                         "1. Khoản thật.\nĐiều 2. Hiệu lực\nCó hiệu lực./.\n")
    assert [a.title for a in parsed.parts] == ["Phạm vi thật", "Hiệu lực"]
    assert parsed.parts[0].children[0].text == "Khoản thật."
    assert "Bản chép trong tờ trình" in parsed.preamble and parsed.preamble.endswith("QUYẾT NGHỊ:")


def test_a_roman_numeral_inside_an_article_is_not_a_section():
    parsed = parse_draft("QUYẾT NGHỊ:\nĐiều 1. Nội dung\nI. Mục tiêu chung\n1. Khoản một.\nII. Giải pháp\n"
                         "2. Khoản hai.\nĐiều 2. Hiệu lực\nCó hiệu lực./.\n")
    assert _parts(parsed) == [("article", "1"), ("clause", "1"), ("clause", "2"), ("article", "2")]
    assert parsed.parts[0].text == "I. Mục tiêu chung"
    assert "II. Giải pháp" in parsed.parts[0].children[0].text


# --- NĐ 30's date line and the countdown (timeutil) -------------------------------------------
# Mutations caught: March padded (``value.month < 3`` made ``<= 3``); the countdown at 0 s
# (``seconds <= 0`` made ``< 0``).

@pytest.mark.parametrize("day,expected", [
    (date(2026, 1, 5), "ngày 05 tháng 01 năm 2026"), (date(2026, 2, 28), "ngày 28 tháng 02 năm 2026"),
    (date(2026, 3, 5), "ngày 05 tháng 3 năm 2026"), (date(2026, 9, 2), "ngày 02 tháng 9 năm 2026"),
    (date(2026, 10, 1), "ngày 01 tháng 10 năm 2026"), (date(2026, 12, 31), "ngày 31 tháng 12 năm 2026"),
])
def test_nd30_pads_the_day_and_only_january_and_february(day, expected):
    assert vietnamese_long_date(day) == expected


def test_the_countdown_at_zero_seconds_says_the_time_is_up():
    assert humanize_remaining(timedelta(0)) == "đã hết hạn"
    assert humanize_remaining(timedelta(seconds=-1)) == "đã hết hạn"
    assert humanize_remaining(timedelta(seconds=1)) == "còn 1 phút"
    assert humanize_remaining(timedelta(days=1, hours=2, seconds=5)) == "còn 1 ngày 2 giờ"


# --- the limits' answers (consult/throttle.py, auth/limits.py, polls/limits.py) ----------------
# Mutations caught: the device cookie without HttpOnly; 409 (or 410) counted as a failure.

def test_the_device_cookie_is_http_only(app):
    from flask import Response

    from consult import throttle
    from consult.auth import limits

    with app.test_request_context("/auth/login", method="POST"):
        response = Response()
        limits.remember_device(response, "can-bo")
        cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(throttle.DEVICE_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("method,status,failed", [
    ("POST", 409, False), ("POST", 410, False), ("POST", 429, False), ("POST", 200, False), ("POST", 302, False),
    ("POST", 400, True), ("POST", 404, True), ("GET", 404, False),
])
def test_already_voted_and_vote_closed_are_answers_not_failed_ballot_posts(app, method, status, failed):
    from flask import Response

    from consult.polls import limits

    with app.test_request_context("/phieu/x", method=method):
        assert limits.token_post_failed(Response(status=status)) is failed
