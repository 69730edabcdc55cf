"""The board's key ceremony and the count without the key, through the database
(``consult/polls/keyceremony.py``), on both databases: the members' devices are played by the
reference ``ceremony.Member``; the server side is the service and its rows.

Each test names what it catches: a majority that cannot count or a minority that can, a bad
share or a bad partial decryption accepted or blamed on the wrong member, a secret of the key
anywhere the server keeps things, a record whose commitments or partials were changed still
passing the verifier."""

from __future__ import annotations

import copy
import itertools
from dataclasses import replace

import pytest
from sqlalchemy import delete, inspect, select, text

from consult import verify
from consult.audit.service import SYSTEM
from consult.models import metadata
from consult.polls import keyceremony, record, service
from consult.polls.ceremony import CeremonyError, Member
from consult.polls.errors import PollError
from consult.polls.models import PHASE_CONSENT, PHASE_VOTE, CeremonyMember, KeyCeremony
from consult.polls.models import PartialDecryption as PartialRow
from consult.timeutil import utcnow
from tests.support.ceremony import count_phase, hold_ceremony, partials_of, text_partials_of, users
from tests.support.polls import COMMITTEE, after_the_end, group_with_households, poll_input, with_accounts

OPTIONS = ["Phương án A: lát gạch", "Phương án B: đổ bê tông", "Phương án C: để nguyên"]
FIVE = COMMITTEE + [service.CommitteeInput("Phạm Thị Năm", "Thành viên"), service.CommitteeInput("Đỗ Văn Sáu", "Thành viên")]


def draft(session, households=6, *, committee=FIVE, options=OPTIONS):
    commune, group = group_with_households(session, households)
    data = poll_input([group], options=list(options))
    data.committee = with_accounts(session, commune, committee)
    return service.create_poll(session, SYSTEM, commune, data)


def run_vote(session, poll, devices, choices_cast, *, counters=(1, 2, 3)):
    """Open, consent by every household, vote, close: each phase counted by ``counters``."""
    service.open_poll(session, SYSTEM, poll)
    slips = service.issue_ballots(session, SYSTEM, poll)
    for slip in slips:
        service.cast_online(session, slip.token, "agree")
    keyceremony.check_for_count(session, poll, PHASE_CONSENT)
    counted = count_phase(session, poll, devices, PHASE_CONSENT, counters)
    assert service.close_consent(session, SYSTEM, poll, counted=counted)
    slips = service.issue_ballots(session, SYSTEM, poll)
    by_position = [c.id for c in poll.choices]
    for slip, position in zip(slips, choices_cast):
        service.cast_online(session, slip.token, by_position[position])
    session.commit()
    now = after_the_end(poll)
    keyceremony.check_for_count(session, poll, PHASE_VOTE, now=now)
    counted = count_phase(session, poll, devices, PHASE_VOTE, counters)
    return service.close_poll(session, SYSTEM, poll, counted=counted, now=now)


def test_a_vote_keyed_by_the_ceremony_is_counted_by_three_of_five_and_its_record_verifies(session):
    poll = draft(session)
    devices = hold_ceremony(session, poll)
    assert session.get(KeyCeremony, poll.id).threshold == 3
    result = run_vote(session, poll, devices, [0, 1, 1, 2, 1])
    assert [result.total(c.id) for c in poll.choices] == [1, 3, 1]
    assert poll.public_key == session.get(KeyCeremony, poll.id).joint_key
    doc = record.election_record_dict(session, poll)
    assert doc["ceremony"]["qualified"] == [1, 2, 3, 4, 5]
    assert verify.verify_record(copy.deepcopy(doc)) == {"totals": [1, 3, 1]}
    decryption = doc["groups"][0]["decryption"][1]
    assert sorted(p["member"] for p in decryption["partials"]) == [1, 2, 3]

    changed = copy.deepcopy(doc)  # a commitment of member 4 changed
    changed["ceremony"]["commitments"]["4"][1] = changed["ceremony"]["commitments"]["4"][0]
    with pytest.raises(verify.Invalid, match="thành viên số 4"):
        verify.verify_record(changed)
    changed = copy.deepcopy(doc)  # member 2's partial decryption of a sum changed
    partial = changed["groups"][0]["decryption"][1]["partials"][1]
    other = changed["groups"][0]["decryption"][0]["partials"][1]
    partial["m"], partial["c"], partial["v"] = other["m"], other["c"], other["v"]
    with pytest.raises(verify.Invalid, match="chứng minh giải mã"):
        verify.verify_record(changed)
    changed = copy.deepcopy(doc)  # a majority cut to two partials
    del changed["groups"][0]["decryption"][1]["partials"][2]
    with pytest.raises(verify.Invalid):
        verify.verify_record(changed)


def test_every_majority_of_three_of_five_counts_the_same_and_two_are_refused(session):
    poll = draft(session)
    devices = hold_ceremony(session, poll)
    service.open_poll(session, SYSTEM, poll)
    for slip in service.issue_ballots(session, SYSTEM, poll):
        service.cast_online(session, slip.token, "agree")
    keyceremony.check_for_count(session, poll, PHASE_CONSENT)
    for size in (3, 4, 5):
        for chosen in itertools.combinations(range(1, 6), size):
            counted = count_phase(session, poll, devices, PHASE_CONSENT, chosen)
            assert counted.counts == {poll.groups[0].group_id: [6, 0]}, chosen
            session.execute(delete(PartialRow).where(PartialRow.poll_id == poll.id))
    for chosen in itertools.combinations(range(1, 6), 2):
        with pytest.raises(PollError, match="ít nhất 3 thành viên; mới có 2"):
            count_phase(session, poll, devices, PHASE_CONSENT, chosen)
        session.execute(delete(PartialRow).where(PartialRow.poll_id == poll.id))


def test_a_wrong_partial_decryption_is_refused_naming_its_member_and_the_others_still_count(session):
    poll = draft(session)
    devices = hold_ceremony(session, poll)
    service.open_poll(session, SYSTEM, poll)
    for slip in service.issue_ballots(session, SYSTEM, poll)[:4]:
        service.cast_online(session, slip.token, "agree")
    keyceremony.check_for_count(session, poll, PHASE_CONSENT)
    wrong = partials_of(session, poll, devices[2], PHASE_CONSENT)
    first = next(iter(wrong))
    wrong[first] = replace(wrong[first], m=verify.add(wrong[first].m, verify.base_mult(verify.scalar(1))))
    with pytest.raises(CeremonyError, match="thành viên số 2 không đúng") as refused:
        keyceremony.send_partials(session, poll, users(poll)[2], PHASE_CONSENT, wrong)
    assert refused.value.member == 2
    assert keyceremony.partials_sent(session, poll, PHASE_CONSENT) == []  # nothing of it kept
    # another member's partials under member 2's name are refused the same way
    with pytest.raises(CeremonyError, match="thành viên số 2"):
        keyceremony.send_partials(session, poll, users(poll)[2], PHASE_CONSENT,
                                  partials_of(session, poll, devices[4], PHASE_CONSENT))
    counted = count_phase(session, poll, devices, PHASE_CONSENT, (1, 3, 5))
    assert counted.counts == {poll.groups[0].group_id: [4, 0]}
    # a partial changed in the database after it was checked stops the count
    row = session.scalar(select(PartialRow).where(PartialRow.member == 3, PartialRow.choice == 0))
    row.v = bytes(row.c)
    session.flush()
    with pytest.raises(service.PollError, match="số 3 không còn đúng"):
        keyceremony.combine_count(session, poll, PHASE_CONSENT)


def test_no_ballot_is_lost_between_the_check_of_the_box_and_the_count(session):
    """The box is checked once, then decrypted by the members: an answer after the check is
    refused; one that raced the check (recorded with an earlier time) makes the count start
    over rather than leave it out; the vote's box cannot be checked before its fixed end."""
    from datetime import timedelta

    from consult.polls.ballots import BallotRejected

    poll = draft(session)
    devices = hold_ceremony(session, poll)
    service.open_poll(session, SYSTEM, poll)
    slips = service.issue_ballots(session, SYSTEM, poll)
    for slip in slips[:3]:
        service.cast_online(session, slip.token, "agree")
    checked_at = utcnow()
    keyceremony.check_for_count(session, poll, PHASE_CONSENT, now=checked_at)
    with pytest.raises(BallotRejected):
        service.cast_online(session, slips[3].token, "agree", now=checked_at + timedelta(seconds=1))
    service.cast_online(session, slips[4].token, "agree", now=checked_at - timedelta(seconds=1))  # the race
    for i in (1, 2, 3):
        keyceremony.send_partials(session, poll, users(poll)[i], PHASE_CONSENT,
                                  partials_of(session, poll, devices[i], PHASE_CONSENT))
    with pytest.raises(service.PollError, match="ghi sau lúc kiểm phiếu"):
        keyceremony.combine_count(session, poll, PHASE_CONSENT)
    assert keyceremony.partials_sent(session, poll, PHASE_CONSENT) == []
    keyceremony.check_for_count(session, poll, PHASE_CONSENT, now=checked_at)
    counted = count_phase(session, poll, devices, PHASE_CONSENT, (2, 4, 5))
    assert counted.counts == {poll.groups[0].group_id: [4, 0]}
    assert service.close_consent(session, SYSTEM, poll, counted=counted)
    with pytest.raises(service.PollError, match="Chưa đến thời điểm kết thúc"):
        keyceremony.check_for_count(session, poll, PHASE_VOTE, now=poll.closes_at - timedelta(seconds=1))
    keyceremony.check_for_count(session, poll, PHASE_VOTE, now=poll.closes_at)


def test_a_member_who_sends_a_bad_share_is_named_and_the_honest_majority_makes_the_key_and_counts(session):
    poll = draft(session)

    def corrupt(sender, recipient, blob):
        return blob[:-1] + bytes([blob[-1] ^ 1]) if (sender, recipient) == (4, 1) else blob

    # The accused's device reveals a share that is not the one its commitments promise: disqualified.
    devices = hold_ceremony(session, poll, tamper=corrupt,
                            reveal=lambda s, r, honest: verify.scalar(12345))
    assert sorted(devices) == [1, 2, 3, 5]
    assert session.get(CeremonyMember, (poll.id, 4)).disqualified == "gửi phần khóa sai cho thành viên số 1"
    doc_qualified = keyceremony.record_part(session, poll)
    assert doc_qualified["qualified"] == [1, 2, 3, 5] and doc_qualified["disqualified"] == [4]
    result = run_vote(session, poll, devices, [2, 2, 0], counters=(2, 3, 5))
    with pytest.raises(CeremonyError, match="số 4 không có phần khóa hợp lệ"):
        keyceremony.send_partials(session, poll, users(poll)[4], PHASE_VOTE, {})
    assert [result.total(c.id) for c in poll.choices] == [1, 0, 2]
    assert verify.verify_record(record.election_record_dict(session, poll)) == {"totals": [1, 0, 2]}


def test_a_share_spoiled_in_transit_is_settled_by_the_honest_sender_who_stays(session):
    poll = draft(session, committee=COMMITTEE)

    def corrupt(sender, recipient, blob):
        return blob[:-1] + bytes([blob[-1] ^ 1]) if (sender, recipient) == (2, 3) else blob

    devices = hold_ceremony(session, poll, tamper=corrupt)
    assert sorted(devices) == [1, 2, 3]
    assert session.get(KeyCeremony, poll.id).threshold == 2
    result = run_vote(session, poll, devices, [0, 0, 1], counters=(1, 3))
    assert [result.total(c.id) for c in poll.choices] == [2, 1, 0]


def test_a_silent_accused_is_disqualified_and_a_member_cannot_confirm_a_wrong_key_share(session):
    poll = draft(session)
    kc = keyceremony.start(session, SYSTEM, poll)
    setup, people = keyceremony.setup_of(kc), users(poll)
    devices = {i: Member(setup, i) for i in people}
    for i, d in devices.items():
        a = d.announcement()
        keyceremony.announce(session, poll, people[i], {"ceremony_key": a.ceremony_key.hex(),
                                                        "commitments": [c.hex() for c in a.commitments],
                                                        "proofs": [[c.hex(), v.hex()] for c, v in a.proofs]})
    with pytest.raises(CeremonyError, match="đã gửi phần công khai"):
        keyceremony.announce(session, poll, people[1], {})
    for i, d in devices.items():
        keyceremony.send_shares(session, poll, people[i], d.sealed_shares(keyceremony.announcements(session, poll)))
    keyceremony.complain(session, poll, people[1], 5)
    with pytest.raises(CeremonyError, match="khiếu nại chưa giải quyết"):
        keyceremony.confirm(session, poll, people[2], verify.base_mult(verify.scalar(1)))
    assert keyceremony.disqualify_silent(session, SYSTEM, poll) == [5]
    qualified = keyceremony.server_side(session, poll).qualified
    assert qualified == {1, 2, 3, 4}
    for i in qualified:
        box = keyceremony.inbox(session, poll, people[i])
        for sender in qualified - {i}:
            assert devices[i].receive(sender, box.announcements[sender], box.sealed[sender])
    box = keyceremony.inbox(session, poll, people[2])
    assert devices[2].receive(5, box.announcements[5], box.sealed[5])
    wrong = devices[2].finish(qualified | {5})  # counting the disqualified member's share too
    with pytest.raises(CeremonyError, match="số 2 tính ra không khớp"):
        keyceremony.confirm(session, poll, people[2], wrong)
    with pytest.raises(PollError, match="chưa xong"):  # the vote cannot open on a key not made
        service.open_poll(session, SYSTEM, poll)


def test_announcements_that_do_not_hold_are_refused_naming_the_member(session):
    poll = draft(session)
    kc = keyceremony.start(session, SYSTEM, poll)
    people = users(poll)
    a = Member(keyceremony.setup_of(kc), 3).announcement()
    payload = {"ceremony_key": a.ceremony_key.hex(), "commitments": [c.hex() for c in a.commitments],
               "proofs": [[c.hex(), v.hex()] for c, v in a.proofs]}
    with pytest.raises(CeremonyError, match="thành viên số 2 không hợp lệ"):  # member 3's proofs under member 2
        keyceremony.announce(session, poll, people[2], payload)
    for broken in ({**payload, "commitments": payload["commitments"][:-1]}, {**payload, "ceremony_key": "zz"},
                   {"commitments": payload["commitments"]}):
        with pytest.raises(CeremonyError):
            keyceremony.announce(session, poll, people[3], broken)
    assert session.get(CeremonyMember, (poll.id, 3)).announced_at is None
    keyceremony.announce(session, poll, people[3], payload)
    with pytest.raises(CeremonyError, match="Chờ thành viên số 1, số 2, số 4, số 5"):
        keyceremony.send_shares(session, poll, people[3], {})
    outsider = with_accounts(session, poll.commune, [service.CommitteeInput("Người ngoài", "Khách")])[0]
    from consult.auth.models import User
    with pytest.raises(PollError, match="không phải thành viên"):
        keyceremony.announce(session, poll, session.get(User, outsider.user_id), payload)
    # A device that lost its state: the ceremony starts again, and nothing of the first attempt stays.
    again = keyceremony.start(session, SYSTEM, poll)
    assert again.attempt == 2 and session.get(CeremonyMember, (poll.id, 3)).announced_at is None


def test_a_vote_with_the_free_text_choice_has_its_texts_opened_by_a_majority_and_no_one_else(session):
    """Đồng ý / Không đồng ý / Ý kiến khác under a ceremony's key: every counted ballot's sealed
    text (empty or not) is decrypted by a majority's proven partials and opened; a member's wrong
    text partial is refused naming them; stored text partials changed so that no majority holds
    stop the count; the texts come out as cast, and no text is readable from what is stored."""
    from nacl.bindings import crypto_core_ed25519_scalar_reduce

    from consult.polls import secrecy
    from consult.polls.ballots import TamperedBox
    from consult.polls.models import BallotBox, CastBallot, TextPartials

    poll = draft(session, options=[])
    devices = hold_ceremony(session, poll)
    service.open_poll(session, SYSTEM, poll)
    assert bytes(poll.texts_key) == bytes(poll.public_key)  # hashed ElGamal under the vote key itself
    for slip in service.issue_ballots(session, SYSTEM, poll):
        service.cast_online(session, slip.token, "agree")
    keyceremony.check_for_count(session, poll, PHASE_CONSENT)
    assert service.close_consent(session, SYSTEM, poll, counted=count_phase(session, poll, devices, PHASE_CONSENT,
                                                                            (1, 2, 3)))
    kinds = {c.kind: c.id for c in poll.choices}
    cast = [("agree", ""), ("other", "Nên lắp thêm đèn ở hẻm 12"), ("other", "Đề nghị họp lại khu phố"),
            ("disagree", ""), ("agree", "")]
    for slip, (kind, text) in zip(service.issue_ballots(session, SYSTEM, poll), cast):
        service.cast_online(session, slip.token, kinds[kind], other_text=text)
    now = after_the_end(poll)
    # Nothing stored opens a text without s·α: not a sealed box to any key, not with a guess.
    blob = bytes(session.scalars(select(CastBallot.sealed_text).where(CastBallot.phase == PHASE_VOTE)).first())
    guess = crypto_core_ed25519_scalar_reduce(b"\x01" * 64)
    with pytest.raises(ValueError):
        secrecy.open_text_elgamal(bytes(poll.public_key), blob, verify.mult(guess, blob[:verify.POINT]))
    keyceremony.check_for_count(session, poll, PHASE_VOTE, now=now)
    texts = keyceremony.sealed_texts(session, poll, PHASE_VOTE)
    assert len(texts) == 5  # every counted ballot's, so that which carry a text shows nothing
    people = users(poll)
    wrong = text_partials_of(session, poll, devices[2], PHASE_VOTE)
    wrong[3] = replace(wrong[3], m=verify.add(wrong[3].m, verify.G))
    with pytest.raises(CeremonyError, match="ý kiến ghi chữ của thành viên số 2") as refused:
        keyceremony.send_partials(session, poll, people[2], PHASE_VOTE, partials_of(session, poll, devices[2], PHASE_VOTE),
                                  texts=wrong)
    assert refused.value.member == 2 and keyceremony.partials_sent(session, poll, PHASE_VOTE) == []
    with pytest.raises(CeremonyError, match="mỗi ý kiến ghi chữ"):
        keyceremony.send_partials(session, poll, people[2], PHASE_VOTE, partials_of(session, poll, devices[2], PHASE_VOTE),
                                  texts=wrong[:4])
    for i in (2, 3, 4, 5):
        keyceremony.send_partials(session, poll, people[i], PHASE_VOTE, partials_of(session, poll, devices[i], PHASE_VOTE),
                                  texts=text_partials_of(session, poll, devices[i], PHASE_VOTE))
    rows = list(session.scalars(select(TextPartials).where(TextPartials.phase == PHASE_VOTE,
                                                           TextPartials.member.in_([4, 5]))))
    kept = {row.member: copy.deepcopy(row.partials) for row in rows}
    for row in rows:  # two of four changed: no three valid partials for the first text
        changed = copy.deepcopy(row.partials)
        changed[0][0] = changed[1][0]
        row.partials = changed
    session.flush()
    with pytest.raises(TamperedBox, match="không mở được"):
        keyceremony.combine_count(session, poll, PHASE_VOTE)
    rows[1].partials = kept[rows[1].member][:-1]  # one text's partial gone, or not hex: refused, never a crash
    session.flush()
    with pytest.raises(TamperedBox, match="không đủ"):
        keyceremony.combine_count(session, poll, PHASE_VOTE)
    rows[1].partials = [["zz", "zz", "zz"]] + copy.deepcopy(kept[rows[1].member][1:])
    session.flush()
    with pytest.raises(TamperedBox, match="không mở được"):  # with rows[0] still changed: two of four
        keyceremony.combine_count(session, poll, PHASE_VOTE)
    rows[1].partials = kept[rows[1].member]
    rows[0].partials = kept[rows[0].member]
    row = rows[0]
    changed = copy.deepcopy(row.partials)
    changed[0][0] = changed[1][0]
    row.partials = changed  # one changed: the other three still open it
    session.flush()
    result = service.close_poll(session, SYSTEM, poll, counted=keyceremony.combine_count(session, poll, PHASE_VOTE),
                                now=now)
    assert [result.total(c.id) for c in poll.choices] == [2, 1, 2]
    box = session.scalar(select(BallotBox).where(BallotBox.poll_id == poll.id, BallotBox.phase == PHASE_VOTE))
    assert sorted(box.other_texts) == sorted(t for _, t in cast if t)


def test_nothing_the_server_keeps_is_or_holds_a_secret_of_the_key(session):
    """Every row of every table and every audit entry after a whole vote: neither the vote's
    secret x nor any member's key share s_ℓ or polynomial coefficient appears, in any encoding."""
    poll = draft(session)
    devices = hold_ceremony(session, poll)
    secrets_ = {d.key_share for d in devices.values()}
    # x = Σ P_i(0): Lagrange over any three key shares, computed here, never by the service.
    x = verify.ZERO
    from nacl import bindings as sodium
    for i in (1, 2, 3):
        x = sodium.crypto_core_ed25519_scalar_add(x, sodium.crypto_core_ed25519_scalar_mul(
            verify.lagrange(i, [1, 2, 3]), devices[i].key_share))
    assert verify.base_mult(x) == session.get(KeyCeremony, poll.id).joint_key
    secrets_.add(x)
    run_vote(session, poll, devices, [0, 1, 2, 1, 0, 0])
    session.commit()
    encodings = set()
    for s in secrets_:
        import base64
        encodings |= {s, s.hex().encode(), s.hex().upper().encode(), base64.b64encode(s),
                      base64.b64encode(s).rstrip(b"="), base64.b32encode(s).rstrip(b"=")}
    found = []
    with session.get_bind().connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                for column, value in zip(table.columns, row):
                    blob = value if isinstance(value, bytes | memoryview) else str(value).encode()
                    if any(e in bytes(blob) for e in encodings):
                        found.append(f"{table.name}.{column.name}")
    assert found == []
    assert inspect(session.get_bind()).has_table("partial_decryption")
    assert session.execute(text("SELECT count(*) FROM partial_decryption")).scalar() == 2 * 3 + 3 * 3
