"""The verifiable vote: ballots that can only be ballots, a count that checks what it counts,
and an election record that anyone can check (issue: an online vote that anyone can verify).

Each attack of the issue is replayed on today's steps: the key swapped in the database (2),
the board's close made to decrypt single ballots (3), forged ballots (5)."""

from __future__ import annotations

import copy
import json
import base64
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nacl import bindings as sodium
from sqlalchemy import select, text, update

from consult import verify
from consult.audit.service import SYSTEM
from consult.polls import secrecy, service
from consult.polls.ballots import ballot_context
from consult.polls.models import BallotBox, CastBallot, Participation, Poll, PollHousehold
from consult.polls.record import election_record, election_record_dict
from tests.support import polls as tp

KEY = secrecy.VoteKey(b"k" * 16)
# A point of order 8 (edwards25519's torsion): on the curve, outside the prime-order subgroup.
TORSION = bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")


def _context(choices: int, vote_id: int = 7, public: bytes | None = None) -> bytes:
    return verify.ballot_context(vote_id, "vote", public or KEY.public, choices, 1, 1)


def _encrypt_any(public: bytes, values: list[int]) -> tuple[bytes, list[bytes]]:
    """Ciphertexts of arbitrary integers (negative too), with their randomness."""
    out, randomness = b"", []
    for value in values:
        r = secrecy._random_scalar()
        m = verify.small(abs(value))
        if value < 0:
            m = verify.sub(verify.IDENTITY, m)
        out += verify.base_mult(r) + verify.add(verify.mult(r, public), m)
        randomness.append(r)
    return out, randomness


def _forge(public: bytes, context: bytes, values: list[int]) -> tuple[bytes, bytes]:
    """What a forger with the prover's own code makes of a vector that is not a ballot: the
    proofs claim the nearest allowed value in each branch."""
    ciphertext, randomness = _encrypt_any(public, values)
    pairs = verify.pairs(ciphertext, len(values))
    digest = __import__("hashlib").sha512(ciphertext).digest()
    proofs = b""
    for index, ((alpha, beta), r, value) in enumerate(zip(pairs, randomness, values)):
        proofs += secrecy._range_proof(public, context, digest, verify.text(index), alpha, beta, range(0, 2),
                                       min(1, max(0, value)), r)
    total_r = randomness[0]
    for r in randomness[1:]:
        total_r = sodium.crypto_core_ed25519_scalar_add(total_r, r)
    alpha, beta = verify.total(pairs)
    proofs += secrecy._range_proof(public, context, digest, b"sum", alpha, beta, range(1, 2), 1, total_r)
    return ciphertext, proofs


# --- properties of the ballot's cryptography ----------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(st.integers(2, 5).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))))
def test_every_valid_ballot_proves_and_verifies(case):
    choices, chosen = case
    context = _context(choices)
    ciphertext, proofs = secrecy.encrypt_ballot(KEY.public, context, choices, chosen)
    verify.check_ballot(KEY.public, context, choices, 1, 1, ciphertext, proofs)
    aggregate = secrecy.Aggregate(choices)
    aggregate.add(ciphertext)
    assert aggregate.decrypt(KEY) == [int(i == chosen) for i in range(choices)]


def _not_a_ballot(values: list[int]) -> bool:
    return not (all(v in (0, 1) for v in values) and sum(values) == 1)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-5, 9), min_size=2, max_size=4).filter(_not_a_ballot))
def test_no_proof_the_code_can_make_of_an_invalid_ballot_verifies(values):
    context = _context(len(values))
    ciphertext, proofs = _forge(KEY.public, context, values)
    with pytest.raises(verify.Invalid):
        verify.check_ballot(KEY.public, context, len(values), 1, 1, ciphertext, proofs)
    # and the prover itself refuses to make a ballot outside the rule
    with pytest.raises(ValueError):
        secrecy.encrypt_ballot(KEY.public, context, len(values), set(range(len(values))))


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 4).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))))
def test_a_ciphertext_alone_tells_nothing_each_choice_has_its_own_randomness(case):
    """With one random value per ballot (or a constant one) the choice could be read from the
    ciphertext without any key: β_i − β_j would be ±G. Each choice has its own randomness, and
    two ballots of the same choice share nothing."""
    choices, chosen = case
    context = _context(choices)
    first, _ = secrecy.encrypt_ballot(KEY.public, context, choices, chosen)
    second, _ = secrecy.encrypt_ballot(KEY.public, context, choices, chosen)
    assert first != second
    for ciphertext in (first, second):
        pairs = verify.pairs(ciphertext, choices)
        assert len({alpha for alpha, _ in pairs}) == choices
        for i in range(choices):
            for j in range(choices):
                if i != j:
                    difference = verify.sub(pairs[i][1], pairs[j][1])
                    assert difference not in (verify.G, verify.sub(verify.IDENTITY, verify.G), verify.IDENTITY)
    assert not {a for a, _ in verify.pairs(first, choices)} & {a for a, _ in verify.pairs(second, choices)}


def test_a_point_outside_the_prime_order_subgroup_is_refused():
    context = _context(2)
    ciphertext, proofs = secrecy.encrypt_ballot(KEY.public, context, 2, 0)
    moved = verify.add(ciphertext[:32], TORSION) + ciphertext[32:]
    assert sodium.crypto_core_ed25519_is_valid_point(ciphertext[:32])
    with pytest.raises(verify.Invalid, match="nhóm con"):
        verify.check_ballot(KEY.public, context, 2, 1, 1, moved, proofs)


def test_the_challenge_binds_the_vote_and_its_key():
    other = secrecy.VoteKey(b"o" * 16)
    context = _context(2)
    ciphertext, proofs = secrecy.encrypt_ballot(KEY.public, context, 2, 1)
    verify.check_ballot(KEY.public, context, 2, 1, 1, ciphertext, proofs)
    for wrong in (_context(2, vote_id=8), verify.ballot_context(7, "consent", KEY.public, 2, 1, 1),
                  _context(2, public=other.public)):
        with pytest.raises(verify.Invalid):
            verify.check_ballot(KEY.public, wrong, 2, 1, 1, ciphertext, proofs)


def test_a_decryption_proof_holds_for_the_true_count_only():
    context = _context(2)
    aggregate = secrecy.Aggregate(2)
    for chosen in (0, 0, 1):
        aggregate.add(secrecy.encrypt_ballot(KEY.public, context, 2, chosen)[0])
    ctx = verify.decryption_context(7, "vote", KEY.public, 1, 0)
    (first, _), _ = aggregate.sums[0], None
    d = aggregate.decrypt_with_proofs(KEY, lambda i: verify.decryption_context(7, "vote", KEY.public, 1, i))[0]
    assert d.count == 2
    alpha, beta = aggregate.sums[0]
    assert verify.check_decryption(KEY.public, ctx, alpha, beta, 2, d.c, d.v)
    assert not verify.check_decryption(KEY.public, ctx, alpha, beta, 3, d.c, d.v)
    assert not verify.check_decryption(KEY.public, verify.decryption_context(7, "vote", KEY.public, 2, 0),
                                       alpha, beta, 2, d.c, d.v)


# --- a whole vote, its count and its record -------------------------------------------------------

def _vote(session, households=10, agree=9):
    commune, group = tp.group_with_households(session, households)
    poll = tp.open_vote(session, commune, [group])
    tp.pass_consent(session, poll)
    ballots = service.issue_ballots(session, SYSTEM, poll)
    receipts = []
    for index, ballot in enumerate(ballots):
        kind = "agree" if index < agree else "disagree"
        receipts.append(service.cast_online(session, ballot.token, tp.choice(poll, kind)))
    return commune, group, poll, ballots, receipts


def _close(session, poll):
    return service.close_poll(session, SYSTEM, poll, shares=tp.shares(poll), now=poll.closes_at + timedelta(seconds=1))


def test_an_end_to_end_vote_gives_a_record_the_verifier_passes(session, tmp_path):
    commune, group, poll, ballots, receipts = _vote(session)
    result = _close(session, poll)
    assert result.total(tp.choice(poll, "agree")) == 9
    record = election_record_dict(session, poll)
    assert verify.verify_record(record)["totals"] == [9, 1, 0]
    trackers = [b["tracker"] for g in record["groups"] for b in g["ballots"]]
    assert all(any(secrecy.receipt_code(t) == r for t in trackers) for r in receipts)
    # The command line, inside the project and copied out on its own.
    path = tmp_path / "ho-so.json"
    path.write_text("".join(election_record(session, poll)), encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "consult.verify", str(path)], capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.startswith("Hợp lệ"), run.stdout + run.stderr
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(Path(verify.__file__), alone / "verify.py")
    run = subprocess.run([sys.executable, "-I", "verify.py", str(path)], cwd=alone, capture_output=True, text=True)
    assert run.returncode == 0 and "Đồng ý: 9" in run.stdout, run.stdout + run.stderr
    # The consent round has its record too.
    consent = election_record_dict(session, poll, "consent")
    assert verify.verify_record(consent)["totals"] == [10, 0]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _tampered(record: dict, how: str) -> dict:
    changed = copy.deepcopy(record)
    group = changed["groups"][0]
    ballot = group["ballots"][0]
    if how == "ciphertext":
        raw = bytearray(base64.b64decode(ballot["ciphertext"]))
        raw[:32] = secrecy._base_mult(5)
        ballot["ciphertext"] = _b64(bytes(raw))
    elif how == "dropped":
        group["ballots"].pop()
    elif how == "added":
        group["ballots"].append(copy.deepcopy(group["ballots"][0]))
    elif how == "proof":
        raw = bytearray(base64.b64decode(ballot["proofs"]))
        raw[40] ^= 1
        ballot["proofs"] = _b64(bytes(raw))
        # with the tracker made to match, so that the proof itself is what fails
        ballot["tracker"] = verify.tracker(base64.b64decode(ballot["ciphertext"]), bytes(raw),
                                           bytes.fromhex(ballot["text_digest"]))
    elif how == "sum":
        raw = base64.b64decode(group["sum"][0])
        group["sum"][0] = _b64(verify.add(raw[:32], verify.G) + raw[32:])
    elif how == "decryption":
        group["decryption"][0]["v"] = _b64(secrecy._random_scalar())
    elif how == "decrypted count":
        group["counts"][0] += 1
        group["counts"][1] -= 1
    elif how == "result":
        changed["result"]["totals"] = [8, 2, 0]
    elif how == "public key":
        changed["public_key"] = secrecy.VoteKey(b"x" * 16).public.hex()
    return changed


@pytest.mark.parametrize("how", ["ciphertext", "dropped", "added", "proof", "sum", "decryption", "decrypted count",
                                 "result", "public key"])
def test_the_verifier_names_what_was_changed(session, how):
    _, _, poll, _, _ = _vote(session, households=4, agree=3)
    _close(session, poll)
    record = election_record_dict(session, poll)
    verify.verify_record(record)
    with pytest.raises(verify.Invalid) as caught:
        verify.verify_record(_tampered(record, how))
    expected = {"ciphertext": "không khớp", "dropped": "hộ được ghi", "added": "chép lại", "proof": "Chứng minh",
                "sum": "tổng các bản mã", "decryption": "chứng minh giải mã", "decrypted count": "chứng minh giải mã",
                "result": "Kết quả công bố", "public key": "Dấu vân tay"}[how]
    assert expected in str(caught.value)


# --- the attacks -------------------------------------------------------------------------------

def test_attack_2_a_key_swapped_in_the_database_is_refused_and_a_re_encryption_is_found(session):
    """The DBA sets his own key mid-vote: no ballot is taken under it. If he re-encrypts a
    ballot under the real key keeping its tracker, the count names it; if he changes the
    tracker too, the household's receipt is no longer on the bulletin."""
    commune, group = tp.group_with_households(session, 6)
    poll = tp.open_vote(session, commune, [group])
    tp.pass_consent(session, poll)
    ballots = service.issue_ballots(session, SYSTEM, poll)
    real = (bytes(poll.public_key), bytes(poll.texts_key))
    attacker = secrecy.VoteKey(b"a" * 16)
    session.execute(update(Poll).where(Poll.id == poll.id).values(public_key=attacker.public,
                                                                  texts_key=attacker.texts_public))
    with pytest.raises(service.BallotRejected, match="dấu vân tay"):
        service.cast_online(session, ballots[0].token, tp.choice(poll, "agree"))
    assert session.scalar(select(CastBallot.id).where(CastBallot.poll_id == poll.id,
                                                      CastBallot.phase == "vote")) is None
    session.execute(update(Poll).where(Poll.id == poll.id).values(public_key=real[0], texts_key=real[1]))
    session.expire_all()
    receipts = [service.cast_online(session, b.token, tp.choice(poll, "agree")) for b in ballots[:4]]
    # He re-encrypts one ballot (to "Không đồng ý") under the real key and keeps its tracker.
    row = session.scalars(select(CastBallot).where(CastBallot.poll_id == poll.id, CastBallot.phase == "vote")
                          .order_by(CastBallot.id)).first()
    context = ballot_context(poll.id, "vote", real[0], len(poll.choices))
    row.ciphertext, row.proofs = secrecy.encrypt_ballot(real[0], context, len(poll.choices), 1)
    session.flush()
    with pytest.raises(service.TamperedBox, match=row.tracker[:16]):
        _close(session, poll)
    assert session.scalar(select(BallotBox.poll_id).where(BallotBox.poll_id == poll.id,
                                                          BallotBox.phase == "vote")) is None
    # With the tracker recomputed, the count passes, but the household finds its receipt missing.
    row.tracker = secrecy.tracker(row.ciphertext, row.proofs, row.sealed_text)
    session.flush()
    found = [service.receipt_published(session, poll, r) for r in receipts]
    assert found.count(False) == 1


def test_attack_2_an_opening_entry_edited_to_the_new_key_breaks_the_audit_hmac(session):
    commune, group = tp.group_with_households(session, 3)
    poll = tp.open_vote(session, commune, [group])
    ballots = service.issue_ballots(session, SYSTEM, poll)
    attacker = secrecy.VoteKey(b"a" * 16)
    session.execute(update(Poll).where(Poll.id == poll.id).values(public_key=attacker.public,
                                                                  texts_key=attacker.texts_public))
    fingerprint = secrecy.key_fingerprint(attacker.public, attacker.texts_public)
    entry = session.execute(text("SELECT id, details FROM audit_entry WHERE action = 'poll.open'")).one()
    details = json.loads(entry.details)
    details["fingerprint"] = fingerprint
    session.execute(text("UPDATE audit_entry SET details = :d WHERE id = :i"),
                    {"d": json.dumps(details, ensure_ascii=False), "i": entry.id})
    session.expire_all()
    with pytest.raises(service.BallotRejected, match="dấu vân tay"):
        service.cast_online(session, ballots[0].token, "agree")


def test_attack_3_the_close_decrypts_no_single_ballot(session):
    """Copies of ballots in one-ballot groups of their own, with as many fake marks from
    another vote's households: the count refuses before decrypting anything."""
    commune, group, poll, ballots, _ = _vote(session, households=5, agree=3)
    other_commune, other_group = tp.group_with_households(session, 3, commune=commune, name="Khu phố 9",
                                                          prefix="KP9")
    other = tp.open_vote(session, commune, [other_group])
    rows = session.scalars(select(CastBallot).where(CastBallot.poll_id == poll.id, CastBallot.phase == "vote")).all()
    foreign = session.scalars(select(PollHousehold).where(PollHousehold.poll_id == other.id)).all()
    for row, household in zip(rows[:2], foreign):
        copy_sealed = secrecy.seal_text(poll.texts_key, "")
        session.add(CastBallot(poll_id=poll.id, phase="vote", group_id=other_group.id, ciphertext=row.ciphertext,
                               proofs=row.proofs, sealed_text=copy_sealed,
                               tracker=secrecy.tracker(row.ciphertext, row.proofs, copy_sealed)))
        session.add(Participation(poll_id=poll.id, phase="vote", poll_household_id=household.id,
                                  voted_on=date(2026, 12, 1), channel="online"))
    session.flush()
    with pytest.raises(service.TamperedBox) as caught:
        _close(session, poll)
    assert "không thuộc cuộc biểu quyết" in str(caught.value)
    assert session.scalar(select(BallotBox.poll_id).where(BallotBox.poll_id == poll.id,
                                                          BallotBox.phase == "vote")) is None


def test_attack_3_a_copied_ballot_in_the_vote_s_own_group_is_named(session):
    commune, group, poll, ballots, _ = _vote(session, households=5, agree=3)
    row = session.scalars(select(CastBallot).where(CastBallot.poll_id == poll.id, CastBallot.phase == "vote")).first()
    # The DBA removes one household's ballot and puts a copy of another in its place.
    victim = session.scalars(select(CastBallot).where(CastBallot.poll_id == poll.id, CastBallot.phase == "vote",
                                                      CastBallot.id != row.id)).first()
    sealed = bytes(victim.sealed_text)
    victim.ciphertext, victim.proofs = row.ciphertext, row.proofs
    victim.tracker = secrecy.tracker(row.ciphertext, row.proofs, sealed)
    session.flush()
    with pytest.raises(service.TamperedBox, match="chép lại"):
        _close(session, poll)


def test_attack_5_forged_ballots_are_refused_and_named(session):
    """One ballot replaced by an encryption of (−4, +5, 0), another by (0, +9, 0): with valid
    trackers, each fails its proofs, is left out and named; the result counts the rest."""
    commune, group, poll, ballots, _ = _vote(session, households=10, agree=9)
    rows = session.scalars(select(CastBallot).where(CastBallot.poll_id == poll.id, CastBallot.phase == "vote")
                           .order_by(CastBallot.id)).all()
    context = ballot_context(poll.id, "vote", poll.public_key, len(poll.choices))
    forged = []
    for row, values in zip(rows[:2], ([-4, 5, 0], [0, 9, 0])):
        row.ciphertext, row.proofs = _forge(bytes(poll.public_key), context, values)
        row.tracker = secrecy.tracker(row.ciphertext, row.proofs, bytes(row.sealed_text))
        forged.append(row.tracker)
    session.flush()
    result = _close(session, poll)
    assert result.total(tp.choice(poll, "agree")) == 7 and result.total(tp.choice(poll, "disagree")) == 1
    box = session.scalar(select(BallotBox).where(BallotBox.poll_id == poll.id, BallotBox.phase == "vote"))
    assert box.record["refused"] == 2
    assert sorted(r["tracker"] for r in box.record["groups"][0]["refused"]) == sorted(forged)
    record = election_record_dict(session, poll)
    assert verify.verify_record(record)["totals"] == [7, 1, 0]
    # A refused ballot's listing cannot be dropped: the verifier wants every refusal to be a real fault.
    unfair = copy.deepcopy(record)
    good = next(b["tracker"] for b in unfair["groups"][0]["ballots"] if b["tracker"] not in forged)
    unfair["groups"][0]["refused"].append({"tracker": good, "reason": "?"})
    with pytest.raises(verify.Invalid, match="bị loại"):
        verify.verify_record(unfair)


def test_the_public_results_page_offers_the_record(session, client):
    commune, group, poll, _, _ = _vote(session, households=3, agree=2)
    _close(session, poll)
    session.commit()
    page = client.get(f"/c/{commune.slug}/polls/{poll.id}").get_data(as_text=True)
    assert "record.json" in page and secrecy.key_fingerprint(poll.public_key, poll.texts_key) in page
    response = client.get(f"/c/{commune.slug}/polls/{poll.id}/record.json")
    assert response.status_code == 200
    assert verify.verify_record(json.loads(response.get_data(as_text=True)))["totals"] == [2, 1, 0]


def test_the_minutes_give_the_key_fingerprint_and_what_the_count_checked(session):
    import io

    from docx import Document

    from consult.polls import documents

    _, _, poll, _, _ = _vote(session, households=4, agree=3)
    _close(session, poll)
    text_of = "\n".join(p.text for p in Document(io.BytesIO(documents.minutes_docx(session, poll))).paragraphs)
    assert secrecy.key_fingerprint(poll.public_key, poll.texts_key) in text_of
    assert "chứng minh giải mã đúng" in text_of and "Không có phiếu nào bị loại" in text_of


def test_a_ballot_added_in_the_vote_s_own_group_without_its_own_household_s_mark_is_found(session):
    """A valid ballot the DBA encrypts himself and adds to the group, with a "has voted" mark
    borrowed from another vote's household: the group's ballots then outnumber the marks of the
    vote's own households, and the count stops before decrypting."""
    commune, group, poll, ballots, _ = _vote(session, households=5, agree=3)
    other = tp.open_vote(session, commune, [group])  # another vote of the same group: its own register
    stranger = session.scalars(select(PollHousehold).where(PollHousehold.poll_id == other.id)).first()
    context = ballot_context(poll.id, "vote", poll.public_key, len(poll.choices))
    ciphertext, proofs = secrecy.encrypt_ballot(poll.public_key, context, len(poll.choices), 0)
    sealed = secrecy.seal_text(poll.texts_key, "")
    session.add(CastBallot(poll_id=poll.id, phase="vote", group_id=group.id, ciphertext=ciphertext, proofs=proofs,
                           sealed_text=sealed, tracker=secrecy.tracker(ciphertext, proofs, sealed)))
    session.add(Participation(poll_id=poll.id, phase="vote", poll_household_id=stranger.id,
                              voted_on=date(2026, 12, 1), channel="online"))
    session.flush()
    with pytest.raises(service.TamperedBox, match="6 phiếu nhưng 5 hộ"):
        _close(session, poll)
    assert session.scalar(select(BallotBox.poll_id).where(BallotBox.poll_id == poll.id,
                                                          BallotBox.phase == "vote")) is None


def test_attack_a_database_reader_cannot_recover_the_slips_typed_codes(session):
    """A slip's typed code is 10 characters of 31 (about 50 bits): stored as a plain SHA-256, a
    reader of the ``ballot_token`` table finds every live code by trying them all against every
    row at once, then votes for the households that have not voted. Stored as an HMAC under a key
    kept outside the database, the table answers no guess: even the right code, hashed, matches
    no row, and a server with another key finds no slip by it; the real server still does."""
    import hashlib

    from consult.polls.ballots import code_digest, find_token, normalize_code

    commune, group = tp.group_with_households(session, 3)
    poll = tp.open_vote(session, commune, [group])
    tp.pass_consent(session, poll)
    ballots = service.issue_ballots(session, SYSTEM, poll)
    session.flush()
    stored = set(session.scalars(text("SELECT code_hash FROM ballot_token WHERE poll_id = :p AND revoked_at IS NULL"), {"p": poll.id}))
    assert len(stored) == 3
    for ballot in ballots:
        code = normalize_code(ballot.code)
        # the attacker's test of a guess, given the right guess: no row answers it
        assert hashlib.sha256(code.encode()).hexdigest() not in stored
        assert hashlib.sha256(code.replace("-", "").encode()).hexdigest() not in stored
        assert code_digest(session, code) in stored
        assert find_token(session, code=ballot.code.lower().replace("-", " ")).household.id == ballot.household.id
    real_key = session.info["audit_key"]
    try:
        session.info["audit_key"] = real_key + "-another-server"
        with pytest.raises(service.BallotRejected, match="Mã phiếu không đúng"):
            find_token(session, code=ballots[0].code)
    finally:
        session.info["audit_key"] = real_key
    # The QR link's 192-bit token is found as before.
    assert find_token(session, token=ballots[0].token).household.id == ballots[0].household.id


# --- the count streams the box (issue: a province on one server, 3) -------------------------------

def _other_vote(session, households=10):
    """A vote whose ballots carry "ý kiến khác" texts, one of them (its text "Ý kiến 6") forged: it
    fails its proofs, so neither its choice nor its text counts."""
    commune, group = tp.group_with_households(session, households)
    poll = tp.open_vote(session, commune, [group])
    tp.pass_consent(session, poll)
    for index, ballot in enumerate(service.issue_ballots(session, SYSTEM, poll)):
        kind = "agree" if index < 6 else "other" if index < 9 else "disagree"
        service.cast_online(session, ballot.token, tp.choice(poll, kind),
                            other_text=f"Ý kiến {index}" if kind == "other" else None)
    row = session.scalars(select(CastBallot).where(CastBallot.poll_id == poll.id, CastBallot.phase == "vote")
                          .order_by(CastBallot.id)).all()[6]
    context = ballot_context(poll.id, "vote", poll.public_key, len(poll.choices))
    row.ciphertext, row.proofs = _forge(bytes(poll.public_key), context, [0, 3, 0])
    row.tracker = secrecy.tracker(row.ciphertext, row.proofs, bytes(row.sealed_text))
    session.flush()
    return poll, row.tracker


def _key(poll):
    from consult.polls.ballots import _rebuild_key

    return _rebuild_key(poll, tp.shares(poll))


@pytest.mark.parametrize("chunk,pooled", [(2000, False), (3, False), (3, True), (1, True)])
def test_a_box_read_in_chunks_on_other_cores_counts_as_one_read_at_once(session, monkeypatch, chunk, pooled):
    """The count reads the box a chunk at a time and checks the proofs of a large box in other
    processes: in every combination, the same counts, the same refused ballot (named by its
    tracker, in the right group), the same texts, and progress told after each chunk up to the end."""
    from consult.polls import ballots as ballots_module

    poll, forged = _other_vote(session)
    monkeypatch.setattr(ballots_module, "PARALLEL_MIN", 5 if pooled else 10**9)
    told = []
    counted = ballots_module.count_phase(session, poll, "vote", _key(poll), chunk=chunk,
                                         progress=lambda done, total: told.append((done, total)))
    group_id = poll.groups[0].group_id
    assert counted.counts[group_id] == [6, 1, 2] and counted.ballots == 9
    assert sorted(counted.texts) == ["Ý kiến 7", "Ý kiến 8"]  # not the forged ballot's
    record_group = counted.record["groups"][0]
    assert [r["tracker"] for r in record_group["refused"]] == [forged]
    assert record_group["ballots"] == 10 and record_group["counted"] == 9 and counted.record["refused"] == 1
    assert counted.record["checked"]["proofs"] == 10
    assert told[-1] == (11, 11) and [d for d, _ in told] == sorted(d for d, _ in told)
    assert len(told) >= -(-10 // chunk)  # at least once per chunk of the first pass


@pytest.mark.parametrize("how", ["text swapped", "ballot removed", "ballot added"])
def test_a_box_changed_between_the_count_s_two_passes_is_found(session, how):
    """The DBA waits for the proofs to be checked and then swaps a sealed text (to publish an
    "ý kiến khác" nobody wrote), removes or adds a ballot: the texts' pass compares each row
    with what the proofs' pass checked and stops before anything is decrypted."""
    from consult.polls.ballots import count_phase

    poll, _ = _other_vote(session)
    rows = session.scalars(select(CastBallot).where(CastBallot.poll_id == poll.id, CastBallot.phase == "vote")
                           .order_by(CastBallot.tracker)).all()
    target = rows[-1]
    changed = []

    def progress(done, total):
        if done >= 10 and not changed:  # the proofs' pass has checked all ten
            changed.append(how)
            if how == "text swapped":
                session.execute(update(CastBallot).where(CastBallot.id == target.id).values(
                    sealed_text=secrecy.seal_text(poll.texts_key, "Ý kiến giả mạo")))
            elif how == "ballot removed":
                session.execute(CastBallot.__table__.delete().where(CastBallot.id == target.id))
            else:
                context = ballot_context(poll.id, "vote", poll.public_key, len(poll.choices))
                ciphertext, proofs = secrecy.encrypt_ballot(poll.public_key, context, len(poll.choices), 0)
                sealed = secrecy.seal_text(poll.texts_key, "")
                session.execute(CastBallot.__table__.insert().values(
                    poll_id=poll.id, phase="vote", group_id=target.group_id, ciphertext=ciphertext, proofs=proofs,
                    sealed_text=sealed, tracker="f" * 64))

    with pytest.raises(service.TamperedBox, match="trong lúc kiểm phiếu"):
        count_phase(session, poll, "vote", _key(poll), chunk=3, progress=progress)
    assert changed == [how]
