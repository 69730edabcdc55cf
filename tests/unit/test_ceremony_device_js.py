"""The board member's device in the browser (static/js/ceremony-device.js, on the vendored @noble
libraries) plays the ceremony and the count with the Python reference: the server's checks accept
what it announces, seals and decrypts; the Python members open the shares it seals and it opens
theirs; it refuses a share that does not match its sender's commitments; its S_ℓ, partial
decryptions and card code are the ones the server and the verifier compute. The module runs in
Node.js, one step per process, its state passed through JSON as the page keeps it in storage."""

from __future__ import annotations

import secrets

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl import bindings as sodium
from nacl.public import PublicKey, SealedBox

from consult import verify
from consult.polls import ceremony
from consult.polls.ceremony import Announcement, Ceremony, Member, PartialDecryption, Setup
from tests.support.js import run_js

SETUP = Setup(vote_id=41, phase="key", members=3, threshold=2)


def device(op: str, *args):
    """One step of the board member's device: (its result, the state after the step)."""
    result, after = run_js("static/js/ceremony-device.js", op, *args)
    return result, (after[0] if after else None)


def setup_json(setup: Setup = SETUP) -> dict:
    return {"vote_id": setup.vote_id, "phase": setup.phase, "members": setup.members, "threshold": setup.threshold}


def announcement_of(index: int, sent: dict) -> Announcement:
    return Announcement(index, bytes.fromhex(sent["ceremony_key"]), [bytes.fromhex(c) for c in sent["commitments"]],
                        [(bytes.fromhex(c), bytes.fromhex(v)) for c, v in sent["proofs"]])


def as_json(a: Announcement) -> dict:
    return {"ceremony_key": a.ceremony_key.hex(), "commitments": [c.hex() for c in a.commitments],
            "proofs": [[c.hex(), v.hex()] for c, v in a.proofs]}


@pytest.fixture(scope="module")
def ceremony_run():
    """Member 1 is the JS device, members 2 and 3 the Python reference, through the server."""
    state, _ = device("newMember", setup_json(), 1)
    sent, _ = device("announcement", state)
    server = Ceremony(SETUP)
    server.announce(announcement_of(1, sent))  # raises when a proof does not hold
    py = {i: Member(SETUP, i) for i in (2, 3)}
    for member in py.values():
        server.announce(member.announcement())
    announced = {str(i): as_json(a) for i, a in server.announcements.items()}
    sealed, _ = device("sealedShares", state, announced)
    server.post_shares(1, {int(r): bytes.fromhex(b) for r, b in sealed.items()})
    for index, member in py.items():
        server.post_shares(index, member.sealed_shares(server.announcements))
    return {"state": state, "server": server, "py": py, "announced": announced}


def test_the_server_accepts_the_devices_commitments_and_the_python_members_open_its_shares(ceremony_run):
    server, py = ceremony_run["server"], ceremony_run["py"]
    for index, member in py.items():
        assert member.receive(1, server.announcements[1], server.sealed[(1, index)])


def test_the_device_opens_the_python_members_shares_and_refuses_a_bad_one(ceremony_run):
    server, state, announced = ceremony_run["server"], ceremony_run["state"], ceremony_run["announced"]
    ok, state = device("receive", state, 2, announced["2"], server.sealed[(2, 1)].hex())
    assert ok is True
    ceremony_key = PublicKey(server.announcements[1].ceremony_key)
    label = SETUP.share_label(3, 1) + b"|"
    honest = ceremony_run["py"][3].revealed_share(1)
    wrong = sodium.crypto_core_ed25519_scalar_add(honest, verify.scalar(1))
    for bad in (SealedBox(ceremony_key).encrypt(label + wrong),                        # not on 3's polynomial
                SealedBox(ceremony_key).encrypt(SETUP.share_label(3, 2) + b"|" + honest),  # another pair's label
                secrets.token_bytes(len(server.sealed[(3, 1)]))):                      # does not open
        refused, after = device("receive", state, 3, announced["3"], bad.hex())
        assert refused is False and "3" not in after["received"]
    ok, state = device("receive", state, 3, announced["3"], server.sealed[(3, 1)].hex())
    assert ok is True and set(state["received"]) == {"1", "2", "3"}


def test_a_revealed_share_settles_a_complaint_on_both_sides(ceremony_run):
    server, state = ceremony_run["server"], ceremony_run["state"]
    share, _ = device("revealedShare", state, 2)
    assert server.settle(1, 2, bytes.fromhex(share))
    assert share == ceremony_run["py"][2]._received[1].hex()
    wrong = sodium.crypto_core_ed25519_scalar_add(bytes.fromhex(share), verify.scalar(1)).hex()
    kept, after = device("acceptRevealed", dict(state, received={}), 1, ceremony_run["announced"]["1"], wrong)
    assert kept is False and after["received"] == {}


def test_the_key_share_partials_and_card_agree_with_the_server_and_the_verifier(ceremony_run):
    server, py, state = ceremony_run["server"], ceremony_run["py"], ceremony_run["state"]
    for sender in (2, 3):
        ok, state = device("receive", state, sender, ceremony_run["announced"][str(sender)],
                           server.sealed[(sender, 1)].hex())
        assert ok is True
    public_share, state = device("finish", state, [1, 2, 3])
    assert bytes.fromhex(public_share) == server.member_public(1)
    assert state["coefficients"] == [] and state["received"] == {}
    for index, member in py.items():
        for sender in (1, 2, 3):
            if sender != index:
                assert member.receive(sender, server.announcements[sender], server.sealed[(sender, index)])
        member.finish({1, 2, 3})
    commitments = {str(m): [c.hex() for c in cs] for m, cs in server.commitments().items()}
    joint, _ = device("jointKey", commitments)
    assert bytes.fromhex(joint) == server.joint_key()
    assert device("memberPublic", commitments, 2)[0] == server.member_public(2).hex()

    key = server.joint_key()
    r = sodium.crypto_core_ed25519_scalar_reduce(secrets.token_bytes(64))
    alpha, beta = verify.base_mult(r), verify.add(verify.small(5), verify.mult(r, key))
    context_hex, _ = device("decryptionContext", SETUP.vote_id, "vote-1", key.hex(), 12, 0)
    context = verify.decryption_context(SETUP.vote_id, "vote-1", key, 12, 0)
    assert bytes.fromhex(context_hex) == context
    sent, _ = device("partialDecrypt", state, context_hex, alpha.hex())
    mine = PartialDecryption(1, *(bytes.fromhex(sent[k]) for k in ("m", "c", "v")))
    assert verify.check_partial(verify.partial_context(context, 1), server.member_public(1), alpha,
                                mine.m, mine.c, mine.v)
    assert not verify.check_partial(verify.partial_context(context, 2), server.member_public(1), alpha,
                                    mine.m, mine.c, mine.v)  # bound to its member
    for other in (2, 3):
        decrypted = ceremony.combine(server, context, alpha, [mine, py[other].partial_decrypt(context, alpha)])
        assert verify.sub(beta, decrypted.value) == verify.small(5)

    code, _ = device("cardCode", state)
    assert code == ceremony.format_key_share(SETUP.vote_id, 1, bytes.fromhex(state["key_share"]))
    assert ceremony.parse_key_share(server, code) == (1, bytes.fromhex(state["key_share"]))


def test_a_device_seals_only_to_the_key_it_was_given():
    state, _ = device("newMember", setup_json(), 1)
    other = Member(SETUP, 2)
    third = Member(SETUP, 3)
    announced = {"2": as_json(other.announcement()), "3": as_json(third.announcement())}
    sealed, _ = device("sealedShares", state, announced)
    assert set(sealed) == {"2", "3"}
    mine, _ = device("announcement", state)
    assert other.receive(1, announcement_of(1, mine), bytes.fromhex(sealed["2"]))
    assert not third.receive(1, announcement_of(1, mine), bytes.fromhex(sealed["2"]))  # 2's share, 3's key


def _finished_ceremony(setup: Setup):
    members = {i: Member(setup, i) for i in range(1, setup.members + 1)}
    server = Ceremony(setup)
    for member in members.values():
        server.announce(member.announcement())
    for index, member in members.items():
        server.post_shares(index, member.sealed_shares(server.announcements))
    for (sender, recipient), blob in server.sealed.items():
        assert members[recipient].receive(sender, server.announcements[sender], blob)
    for member in members.values():
        member.finish(server.qualified)
    return server, members


CARD_SETUP = Setup(vote_id=58, phase="key", members=3, threshold=2)
CARD_SERVER, CARD_MEMBERS = _finished_ceremony(CARD_SETUP)
CARD_COMMITMENTS = {str(m): [c.hex() for c in cs] for m, cs in CARD_SERVER.commitments().items()}
CARD = ceremony.format_key_share(58, 1, CARD_MEMBERS[1].key_share)
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def _restore(code: str, index: int = 1):
    return run_js("static/js/ceremony-device.js", "restoreFromCard", setup_json(CARD_SETUP), index, code,
                  CARD_COMMITMENTS)[0]


def test_a_card_restores_the_device_typed_loosely_and_each_wrong_card_has_its_own_message():
    restored = _restore("  " + CARD.lower().replace("-", " - ") + " ")
    assert restored["key_share"] == CARD_MEMBERS[1].key_share.hex() and restored["index"] == 1
    for code, message in (
            (ceremony.format_key_share(59, 1, CARD_MEMBERS[1].key_share), "cuộc biểu quyết khác"),
            (ceremony.format_key_share(58, 2, CARD_MEMBERS[2].key_share), "không phải của bạn"),
            (ceremony.format_key_share(58, 1, CARD_MEMBERS[2].key_share), "lần tạo khóa trước"),  # a valid card, not this key's
            ("K58-1", "gõ chưa đúng"), ("", "gõ chưa đúng")):
        with pytest.raises(RuntimeError, match=message):
            _restore(code)


@settings(max_examples=20, deadline=None)
@given(st.data())
def test_every_mistyped_character_of_a_card_is_refused_by_the_device(data):
    start = CARD.index("-", CARD.index("-") + 1)  # after "K58-1-"
    body = [i for i, ch in enumerate(CARD) if i > start and ch != "-"][:-1]  # the last one has spare bits
    at = data.draw(st.sampled_from(body))
    typo = data.draw(st.sampled_from([c for c in BASE32 if c != CARD[at]]))
    with pytest.raises(RuntimeError, match="sai ký tự kiểm tra"):
        _restore(CARD[:at] + typo + CARD[at + 1:])
