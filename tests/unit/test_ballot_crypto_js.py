"""A ballot encrypted by the page's script (static/js/ballot-crypto.js, on the vendored @noble
libraries) is one the server's and anyone's verifier accept as they accept the server's own
(``verify.check_ballot``); spoiled, its randomness opens it to exactly what was chosen
(``verify.open_spoiled`` and ``python -m consult.verify --spoiled``, Benaloh's challenge), and
to nothing else; a choice outside the rule cannot be encrypted. Every rule shape: one choice of
two to five, and an election's several of up to five."""

from __future__ import annotations

import json
import secrets

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nacl import bindings as sodium

from consult import verify
from tests.support.js import run_js

MODULE = "static/js/ballot-crypto.js"
KEY = sodium.crypto_core_ed25519_scalar_reduce(secrets.token_bytes(64))
PUBLIC = verify.base_mult(KEY)


@st.composite
def ballots(draw):
    choices = draw(st.integers(2, 5))
    low = draw(st.integers(1, choices))
    high = draw(st.integers(low, choices))
    chosen = draw(st.sets(st.integers(0, choices - 1), min_size=low, max_size=high))
    return choices, low, high, sorted(chosen)


def encrypted(vote_id, phase, choices, low, high, chosen):
    context, _ = run_js(MODULE, "ballotContext", vote_id, phase, PUBLIC.hex(), choices, low, high)
    assert bytes.fromhex(context) == verify.ballot_context(vote_id, phase, PUBLIC, choices, low, high)
    out, _ = run_js(MODULE, "encryptBallot", PUBLIC.hex(), context, choices, chosen, low, high)
    return bytes.fromhex(context), out


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ballots(), st.integers(1, 10**6))
def test_a_ballot_encrypted_in_the_browser_verifies_and_opens_to_its_choice(ballot, vote_id):
    choices, low, high, chosen = ballot
    context, out = encrypted(vote_id, "vote", choices, low, high, chosen)
    ciphertext, proofs = bytes.fromhex(out["ciphertext"]), bytes.fromhex(out["proofs"])
    verify.check_ballot(PUBLIC, context, choices, low, high, ciphertext, proofs)
    randomness = [bytes.fromhex(r) for r in out["randomness"]]
    assert verify.open_spoiled(PUBLIC, ciphertext, choices, randomness) == chosen
    # what the key's holders would decrypt: the same
    held = [i for i, (a, b) in enumerate(verify.pairs(ciphertext, choices)) if verify.sub(b, verify.mult(KEY, a)) == verify.G]
    assert held == chosen
    # bound to its vote and rule: another vote's context refuses the proofs
    with pytest.raises(verify.Invalid):
        verify.check_ballot(PUBLIC, verify.ballot_context(vote_id + 1, "vote", PUBLIC, choices, low, high), choices,
                            low, high, ciphertext, proofs)


def test_a_spoiled_ballot_with_the_wrong_randomness_or_a_changed_ciphertext_is_refused(tmp_path, capsys):
    context, out = encrypted(7, "vote", 3, 1, 1, [2])
    ciphertext, randomness = bytes.fromhex(out["ciphertext"]), [bytes.fromhex(r) for r in out["randomness"]]
    swapped = [randomness[1], randomness[0], randomness[2]]
    with pytest.raises(verify.Invalid, match="không tạo ra bản mã"):
        verify.open_spoiled(PUBLIC, ciphertext, 3, swapped)
    doc = {"format": verify.SPOILED_FORMAT, "vote": 7, "phase": "vote", "public_key": PUBLIC.hex(),
           "choices": ["Đồng ý", "Không đồng ý", "Ý kiến khác"], "rule": {"low": 1, "high": 1}, **out}
    path = tmp_path / "phieu-kiem-tra.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert verify.main(["--spoiled", str(path)]) == 0
    assert "Hợp lệ: phiếu kiểm tra chứa «Ý kiến khác»" in capsys.readouterr().out
    changed = bytearray(ciphertext)
    changed[32:64] = verify.add(bytes(changed[32:64]), verify.G)  # the first choice's β moved by one
    path.write_text(json.dumps({**doc, "ciphertext": bytes(changed).hex()}), encoding="utf-8")
    assert verify.main(["--spoiled", str(path)]) == 1
    assert "Không hợp lệ" in capsys.readouterr().out


def test_the_script_refuses_a_choice_outside_the_rule():
    context, _ = run_js(MODULE, "ballotContext", 7, "vote", PUBLIC.hex(), 3, 1, 1)
    for chosen in ([], [0, 1], [3], [-1]):
        with pytest.raises(RuntimeError, match="not a valid ballot"):
            run_js(MODULE, "encryptBallot", PUBLIC.hex(), context, 3, chosen, 1, 1)
