"""The board's key ceremony without a dealer and the count without the key (polls.ceremony, the
checks in verify.py): every majority of 3-of-5 counts, two members cannot, a bad share and a bad
partial decryption are each named and the honest majority still counts, and nothing the server
keeps is, or combines into, the key."""

from __future__ import annotations

import itertools
import secrets

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl import bindings as sodium
from nacl.public import PrivateKey, SealedBox

from consult import verify
from consult.polls import ceremony, secrecy
from consult.polls.ceremony import Ceremony, CeremonyError, Member, Setup

SETUP = Setup(vote_id=7, phase="vote", members=5, threshold=3)
CONTEXT = verify.ballot_context(7, "vote", b"", 3, 1, 1)


def run(setup: Setup = SETUP, *, tamper=None, reveal=None) -> tuple[Ceremony, dict[int, Member]]:
    """A whole ceremony played by ``setup.members`` devices through the server's ``Ceremony``.
    ``tamper(sender, recipient, sealed, members)`` may replace a sealed share in transit;
    ``reveal(sender, recipient, honest_share)`` what an accused sender reveals."""
    members = {i: Member(setup, i) for i in range(1, setup.members + 1)}
    server = Ceremony(setup)
    for member in members.values():
        server.announce(member.announcement())
    for index, member in members.items():
        shares = member.sealed_shares(server.announcements)
        if tamper:
            shares = {r: tamper(index, r, blob, members) for r, blob in shares.items()}
        server.post_shares(index, shares)
    for (sender, recipient), blob in sorted(server.sealed.items()):
        if not members[recipient].receive(sender, server.announcements[sender], blob):
            honest = members[sender].revealed_share(recipient)
            shown = reveal(sender, recipient, honest) if reveal else honest
            if server.settle(sender, recipient, shown):
                members[recipient].accept_revealed(sender, shown)
    for index in server.qualified:
        public_share = members[index].finish(server.qualified)
        assert public_share == server.member_public(index)  # S_ℓ from the commitments alone
    return server, {i: m for i, m in members.items() if i in server.qualified}


def encrypted_sum(public: bytes, votes: list[int], choices: int = 3) -> secrecy.Aggregate:
    box = secrecy.Aggregate(choices)
    for choice in votes:
        ciphertext, proofs = secrecy.encrypt_ballot(public, CONTEXT, choices, choice)
        verify.check_ballot(public, CONTEXT, choices, 1, 1, ciphertext, proofs)  # raises unless proven
        box.add(ciphertext)
    return box


def count(server: Ceremony, box: secrecy.Aggregate, partials_of) -> list[int]:
    """Each choice's count, decrypted from the partial decryptions ``partials_of(choice, α)``."""
    counts = []
    for choice, (alpha, beta) in enumerate(box.sums):
        context = verify.decryption_context(7, "vote", server.joint_key(), 1, choice)
        decrypted = ceremony.combine(server, context, alpha, partials_of(context, alpha))
        counts.append(secrecy._small_log(verify.sub(beta, decrypted.value), box.count))
    return counts


def test_every_majority_of_three_of_five_counts_and_two_cannot():
    server, members = run()
    box = encrypted_sum(server.joint_key(), [0, 2, 2, 1, 2, 0, 2])
    for size in (3, 4, 5):
        for chosen in itertools.combinations(sorted(members), size):
            assert count(server, box, lambda ctx, a: [members[i].partial_decrypt(ctx, a) for i in chosen]) == [2, 1, 4]
    for chosen in itertools.combinations(sorted(members), 2):
        with pytest.raises(CeremonyError, match="ít nhất 3 thành viên; mới có 2"):
            count(server, box, lambda ctx, a: [members[i].partial_decrypt(ctx, a) for i in chosen])


def test_the_server_never_holds_the_key_nor_can_combine_it_from_what_it_keeps():
    server, members = run()
    # The key the members made together: only a test, which sees inside every device, can add it up.
    secret = verify.ZERO
    key_shares = {i: m.key_share for i, m in members.items()}
    for chosen in [sorted(key_shares)[:3]]:
        for i in chosen:
            secret = sodium.crypto_core_ed25519_scalar_add(
                secret, sodium.crypto_core_ed25519_scalar_mul(verify.lagrange(i, chosen), key_shares[i]))
    assert verify.base_mult(secret) == server.joint_key()
    # Everything the server stores: announcements (keys, commitments, proofs), the sealed shares.
    kept = [a.ceremony_key for a in server.announcements.values()]
    kept += [c for a in server.announcements.values() for c in a.commitments]
    kept += [x for a in server.announcements.values() for pair in a.proofs for x in pair]
    kept += list(server.sealed.values())
    assert all(secret not in blob and all(s not in blob for s in key_shares.values()) for blob in kept)
    # A sealed share opens only with its recipient's ceremony key, which never leaves its device.
    with pytest.raises(Exception):
        SealedBox(PrivateKey.generate()).decrypt(next(iter(server.sealed.values())))
    # Two members together (short of a majority) interpolate something that is not the key.
    for pair in itertools.combinations(sorted(key_shares), 2):
        guess = verify.ZERO
        for i in pair:
            guess = sodium.crypto_core_ed25519_scalar_add(
                guess, sodium.crypto_core_ed25519_scalar_mul(verify.lagrange(i, list(pair)), key_shares[i]))
        assert verify.base_mult(guess) != server.joint_key()


def test_a_bad_share_is_named_and_the_honest_majority_still_counts():
    def bad_share(sender, recipient, blob, members):
        if sender == 2 and recipient == 4:  # member 2 sends member 4 a share off its polynomial
            label = SETUP.share_label(2, 4) + b"|"
            wrong = sodium.crypto_core_ed25519_scalar_add(members[2].revealed_share(4), verify.scalar(1))
            return SealedBox(sodium_public(members, 4)).encrypt(label + wrong)
        return blob

    def lies(sender, recipient, honest):  # and, accused, stands by it
        return sodium.crypto_core_ed25519_scalar_add(honest, verify.scalar(1))

    server, members = run(tamper=bad_share, reveal=lies)
    assert server.disqualified == {2} and server.qualified == {1, 3, 4, 5}
    assert server.record()["disqualified"] == [2]
    box = encrypted_sum(server.joint_key(), [1, 1, 0])
    assert count(server, box, lambda ctx, a: [members[i].partial_decrypt(ctx, a) for i in (1, 4, 5)]) == [1, 2, 0]


def test_a_share_spoiled_in_transit_is_settled_by_its_honest_sender_in_public():
    def spoiled(sender, recipient, blob, members):  # the database's administrator swaps a sealed share
        return secrets.token_bytes(len(blob)) if (sender, recipient) == (3, 1) else blob

    server, members = run(tamper=spoiled)
    assert server.disqualified == set() and (3, 1) in server.revealed
    box = encrypted_sum(server.joint_key(), [2, 0])
    assert count(server, box, lambda ctx, a: [members[i].partial_decrypt(ctx, a) for i in (1, 2, 3)]) == [1, 0, 1]


def test_a_wrong_commitment_or_proof_is_refused_and_names_its_member():
    members = {i: Member(SETUP, i) for i in (1, 2)}
    server = Ceremony(SETUP)
    announcement = members[2].announcement()
    forged = ceremony.Announcement(2, announcement.ceremony_key,
                                   [verify.small(5)] + announcement.commitments[1:], announcement.proofs)
    with pytest.raises(CeremonyError, match="thành viên số 2") as refused:
        server.announce(forged)
    assert refused.value.member == 2 and 2 not in server.announcements
    short = ceremony.Announcement(2, announcement.ceremony_key, announcement.commitments[:2], announcement.proofs[:2])
    with pytest.raises(CeremonyError, match="thành viên số 2"):
        server.announce(short)
    # A proof made for another member's slot does not pass for this one.
    other = members[1].announcement()
    with pytest.raises(CeremonyError, match="thành viên số 2"):
        server.announce(ceremony.Announcement(2, other.ceremony_key, other.commitments, other.proofs))
    server.announce(announcement)
    assert 2 in server.announcements


def test_a_wrong_partial_decryption_is_named_and_left_out():
    server, members = run()
    box = encrypted_sum(server.joint_key(), [0, 0, 1])

    def partials(ctx, alpha):
        out = [members[i].partial_decrypt(ctx, alpha) for i in (1, 2, 3, 4)]
        good = out[2]
        out[2] = ceremony.PartialDecryption(3, verify.add(good.m, verify.G), good.c, good.v)  # member 3 cheats
        return out

    for choice, (alpha, beta) in enumerate(box.sums):
        context = verify.decryption_context(7, "vote", server.joint_key(), 1, choice)
        decrypted = ceremony.combine(server, context, alpha, partials(context, alpha))
        assert decrypted.refused == [3] and decrypted.used == [1, 2, 4]
    assert count(server, box, partials) == [2, 1, 0]
    # A partial decryption made for another sum does not pass for this one.
    alpha0, alpha1 = box.sums[0][0], box.sums[1][0]
    context = verify.decryption_context(7, "vote", server.joint_key(), 1, 0)
    moved = members[1].partial_decrypt(context, alpha1)
    assert not verify.check_partial(verify.partial_context(context, 1), server.member_public(1), alpha0, moved.m,
                                    moved.c, moved.v)
    with pytest.raises(CeremonyError, match="số 3"):
        ceremony.combine(server, context, alpha0, partials(context, alpha0)[1:3])


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 5).flatmap(lambda n: st.tuples(st.just(n), st.integers(n // 2 + 1, n))),
       st.randoms(use_true_random=False))
def test_any_threshold_subset_recovers_the_same_decryption(shape, rng):
    members_count, threshold = shape
    setup = Setup(vote_id=9, phase="vote", members=members_count, threshold=threshold)
    server, members = run(setup)
    t = rng.randrange(1, 1000)
    alpha = verify.small(t)
    context = b"test"
    size = rng.randrange(threshold, members_count + 1)
    chosen = rng.sample(sorted(members), size)
    decrypted = ceremony.combine(server, context, alpha, [members[i].partial_decrypt(context, alpha) for i in chosen])
    # x·α for α = t·G is t·K: what the whole key would give, though no one put it together.
    assert decrypted.value == verify.mult(verify.scalar(t), server.joint_key())
    other = sorted(members)[:threshold]
    again = ceremony.combine(server, context, alpha, [members[i].partial_decrypt(context, alpha) for i in other])
    assert decrypted.value == again.value
    assert len(decrypted.used) == threshold


def sodium_public(members, index):
    from nacl.public import PublicKey

    return PublicKey(members[index].announcement().ceremony_key)


def _record(server: Ceremony, members: dict[int, Member], votes: list[int], deciders=(1, 3, 5)) -> dict:
    """An election record of one group's vote counted by ``deciders`` (the verifier's format)."""
    import base64
    import hashlib

    b64 = lambda data: base64.b64encode(data).decode()  # noqa: E731
    public = server.joint_key()
    texts = bytes(PrivateKey.generate().public_key)
    context = verify.ballot_context(7, "vote", public, 3, 1, 1)
    box, ballots = secrecy.Aggregate(3), []
    for choice in votes:
        ciphertext, proofs = secrecy.encrypt_ballot(public, context, 3, choice)
        digest = hashlib.sha256(b"no text").digest()
        ballots.append({"ciphertext": b64(ciphertext), "proofs": b64(proofs), "text_digest": digest.hex(),
                        "tracker": verify.tracker(ciphertext, proofs, digest)})
        box.add(ciphertext)
    counts, decryption = [], []
    for choice, (alpha, beta) in enumerate(box.sums):
        where = verify.decryption_context(7, "vote", public, 1, choice)
        partials = [members[i].partial_decrypt(where, alpha) for i in deciders]
        value = ceremony.combine(server, where, alpha, partials).value
        counts.append(secrecy._small_log(verify.sub(beta, value), box.count))
        decryption.append({"partials": [{"member": p.member, "m": b64(p.m), "c": b64(p.c), "v": b64(p.v)}
                                        for p in partials]})
    return {"format": verify.FORMAT, "public_key": public.hex(), "texts_key": texts.hex(),
            "fingerprint": verify.fingerprint(public, texts), "ceremony": server.record(),
            "vote": {"id": 7, "phase": "vote", "min_choices": 1, "max_choices": 1,
                     "choices": [{"position": i, "label": f"Lựa chọn {i}", "kind": "x"} for i in range(3)]},
            "groups": [{"id": 1, "name": "Khu phố 1", "households": 10, "marked": len(votes), "ballots": ballots,
                        "refused": [], "sum": [b64(a + b) for a, b in box.sums], "counts": counts,
                        "decryption": decryption}],
            "result": {"totals": counts}}


def test_the_record_of_a_vote_with_a_ceremony_passes_the_verifier_and_fails_it_when_changed():
    import base64
    import copy

    server, members = run()
    record = _record(server, members, [2, 0, 2, 1])
    assert verify.verify_record(copy.deepcopy(record)) == {"totals": [1, 1, 2]}

    changed = copy.deepcopy(record)  # a commitment changed (the key then is not theirs)
    changed["ceremony"]["commitments"]["2"][1] = verify.small(3).hex()
    with pytest.raises(verify.Invalid, match="thành viên số 2"):
        verify.verify_record(changed)
    changed = copy.deepcopy(record)  # a member's commitments swapped for a key of one's own choosing
    changed["ceremony"]["commitments"]["2"][0] = verify.small(3).hex()
    with pytest.raises(verify.Invalid):
        verify.verify_record(changed)
    changed = copy.deepcopy(record)  # a partial decryption changed
    partial = changed["groups"][0]["decryption"][1]["partials"][0]
    partial["m"] = base64.b64encode(verify.add(base64.b64decode(partial["m"]), verify.G)).decode()
    with pytest.raises(verify.Invalid, match="chứng minh giải mã"):
        verify.verify_record(changed)
    changed = copy.deepcopy(record)  # a count claimed with fewer members than the threshold
    del changed["groups"][0]["decryption"][0]["partials"][0]
    with pytest.raises(verify.Invalid, match="chứng minh giải mã"):
        verify.verify_record(changed)
    changed = copy.deepcopy(record)  # another count, the partials left as they were
    changed["groups"][0]["counts"] = [2, 0, 2]
    changed["result"]["totals"] = [2, 0, 2]
    with pytest.raises(verify.Invalid, match="chứng minh giải mã"):
        verify.verify_record(changed)


def test_a_members_card_restores_its_device_and_every_wrong_card_says_why():
    server, members = run()
    card = ceremony.format_key_share(7, 2, members[2].key_share)
    assert card.startswith("K7-2-")
    device = ceremony.restored(server, card.lower().replace("-", " - "))  # typed in lower case, spaced
    box = encrypted_sum(server.joint_key(), [1, 2, 2])
    assert count(server, box, lambda ctx, a: [device.partial_decrypt(ctx, a)] + [
        members[i].partial_decrypt(ctx, a) for i in (4, 5)]) == [0, 1, 2]

    body = card.split("-", 2)[2]
    at = len("K7-2-") + 6  # a character in the middle (the last one's two spare bits do not count)
    typo = card[:at] + ("A" if card[at] != "A" else "B") + card[at + 1:]
    with pytest.raises(CeremonyError, match="sai ký tự kiểm tra"):
        ceremony.parse_key_share(server, typo)
    with pytest.raises(CeremonyError, match="cuộc biểu quyết khác"):
        ceremony.parse_key_share(server, ceremony.format_key_share(8, 2, members[2].key_share))
    with pytest.raises(CeremonyError, match="dạng K"):
        ceremony.parse_key_share(server, "P7-2-" + body)
    # Member 3's share under member 2's number: the check is fine, the key share is not member 2's.
    with pytest.raises(CeremonyError, match="không khớp"):
        ceremony.parse_key_share(server, ceremony.format_key_share(7, 2, members[3].key_share))
    # A card of an earlier ceremony of the same vote.
    earlier, old_members = run()
    with pytest.raises(CeremonyError, match="lần tạo khóa trước"):
        ceremony.parse_key_share(server, ceremony.format_key_share(7, 2, old_members[2].key_share))
    with pytest.raises(CeremonyError, match="không có phần khóa"):
        ceremony.parse_key_share(server, ceremony.format_key_share(7, 6, members[2].key_share))


_CARDS: dict = {}


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 5), st.integers(0, 57), st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"))
def test_any_one_character_changed_on_a_card_is_refused(index, position, replacement):
    if not _CARDS:
        _CARDS["run"] = run()
    server, members = _CARDS["run"]
    card = ceremony.format_key_share(7, index, members[index].key_share)
    head, body = card[:len(f"K7-{index}-")], card[len(f"K7-{index}-"):].replace("-", "")
    position %= len(body)
    if body[position] == replacement:
        return
    changed = head + body[:position] + replacement + body[position + 1:]
    try:
        parsed = ceremony.parse_key_share(server, changed)
    except CeremonyError as exc:
        assert "sai ký tự kiểm tra" in str(exc)
    else:  # only the last character's two unused bits changed: the same card
        assert position == len(body) - 1 and parsed == (index, members[index].key_share)
