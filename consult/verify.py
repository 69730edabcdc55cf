"""Verifier of a vote's election record: ``python -m consult.verify RECORD.json``.

This module depends on PyNaCl (libsodium) and Python's standard library alone and
imports nothing else of consult, so that anyone can copy it out and run it on its
own (``python verify.py RECORD.json``). The server checks ballots and counts with
the same functions, so there is one definition of a valid ballot.

What it checks, and the specifications it follows
--------------------------------------------------
The group is the prime-order subgroup of edwards25519 (order ℓ = 2^252 + …);
points are 32-byte encodings, scalars 32-byte little-endian integers below ℓ, and
every operation is libsodium's (``crypto_core_ed25519_*``,
``crypto_scalarmult_ed25519_*_noclamp``). ``G`` is the standard base point.

* A ciphertext of ``m`` under the vote's key ``K`` is exponential ElGamal,
  ``(α, β) = (r·G, m·G + r·K)`` (Helios v3 verification specs, "ElGamal";
  ElectionGuard Design Specification 2.0, §3.3 "Ballot encryption").
* Every ciphertext of a ballot carries a disjunctive Chaum-Pedersen proof
  (Cramer-Damgård-Schoenmakers) that it encrypts 0 or 1, and the ciphertexts'
  component-wise sum a proof that it encrypts a number between ``min_choices``
  and ``max_choices`` (one, for a question; at most the seats, for an election):
  Helios' "disjunctive proofs" and "overall proof", ElectionGuard 2.0 §3.3.5
  (range proofs), Belenios' specification §"Zero-knowledge proofs" (iprove).
  For the statement ``(α, β)`` and the allowed values ``s_0 … s_k`` the proof is
  ``(c_0, v_0, …, c_k, v_k)``; the verifier recomputes
  ``a_j = v_j·G − c_j·α`` and ``b_j = v_j·K − c_j·(β − s_j·G)`` and accepts when
  ``Σ c_j = H(…, a_0, b_0, …, a_k, b_k)``.
* Each group's sum is decrypted to ``M = n·G`` with a Chaum-Pedersen proof
  ``(c, v)`` that ``log_G K = log_A (B − M)``: ``a = v·G − c·K``,
  ``b = v·A − c·(B − M)``, ``c = H(…, a, b)`` (Helios "decryption proofs",
  ElectionGuard 2.0 §3.6.3).
* The Fiat-Shamir challenge ``H`` is SHA-512 reduced modulo ℓ (a 512-bit value,
  so its bias is below 2^-250) over a domain tag, the vote, its public key and
  the whole statement: the ballot's ciphertexts, the proven ciphertext and the
  commitments, each part length-prefixed. Hashing the statement and the key is
  the lesson of Bernhard, Pereira and Warinschi, "How not to prove yourself"
  (2012), taken up by Helios and Belenios; every received point is checked to be
  a canonical encoding of a point of the prime-order subgroup, not the identity
  (``crypto_core_ed25519_is_valid_point``), and every scalar to be below ℓ.

The record (JSON, ``format`` = "consult-election-record/1")
-----------------------------------------------------------
``vote``: id, commune, title, question, phase, opens_at, closes_at, choices
(position, label, kind), min_choices, max_choices; ``public_key`` and
``texts_key`` (hex), ``fingerprint`` (the one printed on the slips); ``groups``:
for each group its id, name, households (the register at opening), marked (the
households marked as having voted), its ``ballots`` (each: ``ciphertext`` and
``proofs`` in base64, ``text_digest``: SHA-256 of the sealed "ý kiến khác" in hex,
``tracker``), ``refused`` (trackers and reasons, ballots the count left out),
``sum`` (base64), ``counts`` (one per choice) and ``decryption`` (per choice ``c``,
``v`` in base64); ``result``: the totals per choice. A vote whose key was made by the board
without a dealer has ``ceremony`` (members, threshold, qualified, disqualified, each qualified
member's ``commitments`` and ``proofs`` in hex, see ``check_ceremony``), and each decryption
holds ``partials`` (member, ``m``, ``c``, ``v`` in base64) in place of ``c`` and ``v``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys

from nacl import bindings as sodium

POINT = 32
PAIR = 2 * POINT
SCALAR = 32
IDENTITY = b"\x01" + b"\x00" * 31
ZERO = b"\x00" * 32
FORMAT = "consult-election-record/1"
DOMAIN = b"consult/v1"


class Invalid(ValueError):
    """A check failed; the message (in Vietnamese) names what is wrong."""


# --- the group, through libsodium --------------------------------------------------------------

def scalar(n: int) -> bytes:
    return (n % (2 ** 256)).to_bytes(32, "little")


def is_scalar(s: bytes) -> bool:
    return len(s) == SCALAR and sodium.crypto_core_ed25519_scalar_reduce(s + ZERO) == s


def is_point(p: bytes) -> bool:
    """A canonical encoding of a point of the prime-order subgroup, not the identity."""
    return len(p) == POINT and sodium.crypto_core_ed25519_is_valid_point(p)


def base_mult(s: bytes) -> bytes:
    if s == ZERO:
        return IDENTITY
    return sodium.crypto_scalarmult_ed25519_base_noclamp(s)


def mult(s: bytes, p: bytes) -> bytes:
    """``s·p`` for ``p`` in the subgroup or the identity (libsodium refuses the identity)."""
    if p == IDENTITY or s == ZERO:
        return IDENTITY
    return sodium.crypto_scalarmult_ed25519_noclamp(s, p)


def add(p: bytes, q: bytes) -> bytes:
    return sodium.crypto_core_ed25519_add(p, q)


def sub(p: bytes, q: bytes) -> bytes:
    return sodium.crypto_core_ed25519_sub(p, q)


def small(n: int) -> bytes:
    """``n·G`` for a small non-negative ``n`` (a plaintext)."""
    return base_mult(scalar(n))


G = small(1)


def challenge(*parts: bytes) -> bytes:
    """The Fiat-Shamir challenge: SHA-512 of the length-prefixed parts, reduced modulo ℓ."""
    h = hashlib.sha512(DOMAIN)
    for part in parts:
        h.update(len(part).to_bytes(4, "big"))
        h.update(part)
    return sodium.crypto_core_ed25519_scalar_reduce(h.digest())


def text(value) -> bytes:
    return str(value).encode("utf-8")


# --- ballots -----------------------------------------------------------------------------------

def ballot_context(vote_id: int, phase: str, public: bytes, choices: int, low: int, high: int) -> bytes:
    """What every proof of a ballot is bound to: the vote, its phase and key, and the rule."""
    return b"|".join([b"ballot", text(vote_id), text(phase), public, text(choices), text(low), text(high)])


def pairs(ciphertext: bytes, choices: int) -> list[tuple[bytes, bytes]]:
    if len(ciphertext) != choices * PAIR:
        raise Invalid("Phiếu có số bản mã khác số lựa chọn của cuộc biểu quyết.")
    return [(ciphertext[i:i + POINT], ciphertext[i + POINT:i + PAIR]) for i in range(0, len(ciphertext), PAIR)]


def total(cipher_pairs: list[tuple[bytes, bytes]]) -> tuple[bytes, bytes]:
    alpha, beta = IDENTITY, IDENTITY
    for a, b in cipher_pairs:
        alpha, beta = add(alpha, a), add(beta, b)
    return alpha, beta


def range_commitments(public: bytes, alpha: bytes, beta: bytes, values: range,
                      proof: list[tuple[bytes, bytes]]) -> list[bytes]:
    out = []
    for value, (c, v) in zip(values, proof):
        out.append(sub(base_mult(v), mult(c, alpha)))
        out.append(sub(mult(v, public), mult(c, sub(beta, small(value)))))
    return out


def range_statement(context: bytes, digest: bytes, label: bytes, alpha: bytes, beta: bytes,
                    commitments: list[bytes]) -> bytes:
    return challenge(b"range", context, digest, label, alpha, beta, *commitments)


def split_proof(data: bytes, branches: int) -> list[tuple[bytes, bytes]]:
    if len(data) != branches * 2 * SCALAR:
        raise Invalid("Chứng minh của phiếu có độ dài sai.")
    proof = [(data[i:i + SCALAR], data[i + SCALAR:i + 2 * SCALAR]) for i in range(0, len(data), 2 * SCALAR)]
    if not all(is_scalar(c) and is_scalar(v) for c, v in proof):
        raise Invalid("Chứng minh của phiếu có số không hợp lệ.")
    return proof


def check_range(public: bytes, context: bytes, digest: bytes, label: bytes, alpha: bytes, beta: bytes,
                values: range, proof: list[tuple[bytes, bytes]]) -> bool:
    commitments = range_commitments(public, alpha, beta, values, proof)
    expected = range_statement(context, digest, label, alpha, beta, commitments)
    c_sum = ZERO
    for c, _ in proof:
        c_sum = sodium.crypto_core_ed25519_scalar_add(c_sum, c)
    return c_sum == expected


def proofs_size(choices: int, low: int, high: int) -> int:
    return (choices * 2 + (high - low + 1)) * 2 * SCALAR


def check_ballot(public: bytes, context: bytes, choices: int, low: int, high: int, ciphertext: bytes,
                 proofs: bytes) -> None:
    """Raise Invalid unless every ciphertext is of the group and proven 0 or 1, and their sum
    proven to lie in [low, high]."""
    cipher_pairs = pairs(ciphertext, choices)
    if not all(is_point(a) and is_point(b) for a, b in cipher_pairs):
        raise Invalid("Phiếu có điểm không thuộc nhóm của khóa (kiểm tra nhóm con cấp nguyên tố).")
    if len(proofs) != proofs_size(choices, low, high):
        raise Invalid("Chứng minh của phiếu có độ dài sai.")
    digest = hashlib.sha512(ciphertext).digest()
    step = 4 * SCALAR
    for index, (alpha, beta) in enumerate(cipher_pairs):
        proof = split_proof(proofs[index * step:(index + 1) * step], 2)
        if not check_range(public, context, digest, text(index), alpha, beta, range(0, 2), proof):
            raise Invalid(f"Chứng minh bản mã thứ {index + 1} chứa 0 hoặc 1 không đúng.")
    alpha, beta = total(cipher_pairs)
    proof = split_proof(proofs[choices * step:], high - low + 1)
    if not check_range(public, context, digest, b"sum", alpha, beta, range(low, high + 1), proof):
        raise Invalid(f"Chứng minh tổng số lựa chọn của phiếu (từ {low} đến {high}) không đúng.")


def tracker(ciphertext: bytes, proofs: bytes, text_digest: bytes) -> str:
    """The ballot's fingerprint: what the household's receipt starts with."""
    return hashlib.sha256(b"consult/tracker/v1" + hashlib.sha256(ciphertext).digest()
                          + hashlib.sha256(proofs).digest() + text_digest).hexdigest()


# --- decryption of a sum -----------------------------------------------------------------------

def decryption_context(vote_id: int, phase: str, public: bytes, group_id: int, choice: int) -> bytes:
    return b"|".join([b"decrypt", text(vote_id), text(phase), public, text(group_id), text(choice)])


def text_context(vote_id: int, phase: str, public: bytes, alpha: bytes) -> bytes:
    """What a partial decryption of a ballot's sealed "ý kiến khác" (hashed ElGamal, its α) is bound to."""
    return b"|".join([b"text", text(vote_id), text(phase), public, alpha])


def decryption_statement(context: bytes, public: bytes, alpha: bytes, beta: bytes, m: bytes,
                         a: bytes, b: bytes) -> bytes:
    return challenge(b"decryption", context, public, alpha, beta, m, a, b)


def check_decryption(public: bytes, context: bytes, alpha: bytes, beta: bytes, count: int,
                     c: bytes, v: bytes) -> bool:
    """Whether ``(c, v)`` proves that ``(α, β)`` decrypts under ``public`` to ``count·G``."""
    if not (is_scalar(c) and is_scalar(v)) or count < 0:
        return False
    m = small(count)
    a = sub(base_mult(v), mult(c, public))
    b = sub(mult(v, alpha), mult(c, sub(beta, m)))
    return decryption_statement(context, public, alpha, beta, m, a, b) == c


# --- a key no one holds: the board's threshold key and its partial decryptions ---------------------
#
# The vote's key made by the board without a dealer, and a sum decrypted without the key ever being
# put together: Pedersen's distributed key generation with Feldman's commitments, as in the
# ElectionGuard Design Specification 2.0, §3.2 "Key generation" (each guardian's polynomial, its
# commitments K_i,j = a_i,j·G with a Schnorr proof of knowledge of each coefficient, the shares
# P_i(ℓ) checked as P_i(ℓ)·G = Σ_j ℓ^j·K_i,j) and §3.6 "Verifiable decryption" (each guardian's
# partial decryption M_ℓ = s_ℓ·A of a sum with a Chaum-Pedersen proof, combined with the Lagrange
# coefficients w_ℓ = Π_{j≠ℓ} j/(j−ℓ)), and as in Belenios' threshold mode (its specification,
# "threshold decryption"). The protocol is Pedersen's ("A threshold cryptosystem without a trusted
# party", EUROCRYPT 1991); a complaint is settled as in Gennaro, Jarecki, Krawczyk and Rabin
# ("Secure distributed key generation for discrete-log based cryptosystems", 1999): the accused
# reveals the share and everyone checks it against the commitments. (Their remark that a member
# who waits for the others' commitments can bias the joint key's distribution applies here as in
# ElectionGuard; it does not let anyone learn the key.) Members are numbered 1…n; the joint key is
# K = Σ_i K_i,0, member ℓ's key share s_ℓ = Σ_i P_i(ℓ) and its public part S_ℓ = s_ℓ·G is
# computed by anyone from the commitments alone.

def coefficient_context(vote_id: int, phase: str, member: int, threshold: int, members: int) -> bytes:
    return b"|".join([b"coefficient", text(vote_id), text(phase), text(member), text(threshold), text(members)])


def schnorr_statement(context: bytes, commitment: bytes, h: bytes) -> bytes:
    return challenge(b"schnorr", context, commitment, h)


def check_schnorr(context: bytes, commitment: bytes, c: bytes, v: bytes) -> bool:
    """Whether ``(c, v)`` proves knowledge of ``a`` with ``commitment = a·G``: ``h = v·G − c·K``."""
    if not (is_point(commitment) and is_scalar(c) and is_scalar(v)):
        return False
    return schnorr_statement(context, commitment, sub(base_mult(v), mult(c, commitment))) == c


def check_coefficients(context: bytes, commitments: list[bytes], proofs: list[tuple[bytes, bytes]],
                       threshold: int) -> bool:
    """A member's ``threshold`` commitments, each with its proof (its index in the context)."""
    return (len(commitments) == threshold == len(proofs)
            and all(check_schnorr(context + b"|" + text(j), k, c, v)
                    for j, (k, (c, v)) in enumerate(zip(commitments, proofs))))


def feldman(commitments: list[bytes], index: int) -> bytes:
    """``P(index)·G`` from the commitments of ``P``: Σ_j index^j·K_j."""
    point, power = IDENTITY, 1
    for commitment in commitments:
        point = add(point, mult(scalar(power), commitment))
        power *= index
    return point


def check_share(commitments: list[bytes], index: int, share: bytes) -> bool:
    """Whether ``share`` is ``P(index)`` for the polynomial the commitments commit to."""
    return is_scalar(share) and base_mult(share) == feldman(commitments, index)


def joint_key(commitments: dict[int, list[bytes]]) -> bytes:
    """The vote's key: the sum of every member's constant commitment."""
    key = IDENTITY
    for member in sorted(commitments):
        key = add(key, commitments[member][0])
    return key


def member_public(commitments: dict[int, list[bytes]], index: int) -> bytes:
    """``S_index = s_index·G``, from the commitments alone."""
    point = IDENTITY
    for member in sorted(commitments):
        point = add(point, feldman(commitments[member], index))
    return point


def partial_context(context: bytes, member: int) -> bytes:
    return b"|".join([b"partial", context, text(member)])


def partial_statement(context: bytes, public_share: bytes, alpha: bytes, m: bytes, a: bytes, b: bytes) -> bytes:
    return challenge(b"partial-decryption", context, public_share, alpha, m, a, b)


def check_partial(context: bytes, public_share: bytes, alpha: bytes, m: bytes, c: bytes, v: bytes) -> bool:
    """Whether ``(c, v)`` proves ``log_G S = log_α M`` (Chaum-Pedersen): ``M`` is the member's
    share of the decryption of ``α``. ``a = v·G − c·S``, ``b = v·α − c·M``."""
    if not (is_point(m) or m == IDENTITY) or not (is_scalar(c) and is_scalar(v)) or alpha == IDENTITY:
        return False
    a = sub(base_mult(v), mult(c, public_share))
    b = sub(mult(v, alpha), mult(c, m))
    return partial_statement(context, public_share, alpha, m, a, b) == c


def lagrange(index: int, indices: list[int]) -> bytes:
    """The Lagrange coefficient at 0 of ``index`` among ``indices``: Π_{j≠index} j/(j−index)."""
    numerator, denominator = scalar(1), scalar(1)
    for j in indices:
        if j == index:
            continue
        numerator = sodium.crypto_core_ed25519_scalar_mul(numerator, scalar(j))
        denominator = sodium.crypto_core_ed25519_scalar_mul(
            denominator, sodium.crypto_core_ed25519_scalar_sub(scalar(j), scalar(index)))
    return sodium.crypto_core_ed25519_scalar_mul(numerator, sodium.crypto_core_ed25519_scalar_invert(denominator))


def combine_partials(partials: dict[int, bytes]) -> bytes:
    """``x·α`` from the partial decryptions ``M_ℓ`` of a set of members (at least the threshold,
    each already checked): Σ w_ℓ·M_ℓ."""
    indices = sorted(partials)
    point = IDENTITY
    for index in indices:
        point = add(point, mult(lagrange(index, indices), partials[index]))
    return point


def check_ceremony(vote_id: int, phase: str, public: bytes, ceremony: dict) -> dict[int, list[bytes]]:
    """The record's ceremony: every qualified member's commitments proven, at least the threshold
    of them, adding up to the vote's key; the commitments by member, or Invalid."""
    members, threshold = int(ceremony["members"]), int(ceremony["threshold"])
    phase = str(ceremony.get("phase", phase))  # the key's own context: one key serves every phase
    if not 1 <= threshold <= members:
        raise Invalid("Ngưỡng của khóa chia cho Tổ lấy ý kiến không hợp lệ.")
    commitments = {}
    for key, points in ceremony["commitments"].items():
        member = int(key)
        values = [_hex(p) for p in points]
        proofs = [(_hex(c), _hex(v)) for c, v in ceremony["proofs"][key]]
        if not 1 <= member <= members or not check_coefficients(
                coefficient_context(vote_id, phase, member, threshold, members), values, proofs, threshold):
            raise Invalid(f"Cam kết khóa của thành viên số {member} không hợp lệ.")
        commitments[member] = values
    if sorted(commitments) != sorted(int(m) for m in ceremony["qualified"]) or len(commitments) < threshold:
        raise Invalid("Danh sách thành viên tạo khóa không khớp với các cam kết.")
    if joint_key(commitments) != public:
        raise Invalid("Khóa công khai của cuộc biểu quyết không phải tổng các cam kết của Tổ lấy ý kiến.")
    return commitments


def check_threshold_decryption(context: bytes, commitments: dict[int, list[bytes]], threshold: int, alpha: bytes,
                               beta: bytes, count: int, partials: list[dict]) -> bool:
    """Whether at least ``threshold`` members' proven partial decryptions of ``(α, β)`` combine to
    ``count``; every partial listed must hold."""
    found = {}
    for partial in partials:
        member, m = int(partial["member"]), _b64(partial["m"])
        if member not in commitments or member in found or not check_partial(
                partial_context(context, member), member_public(commitments, member), alpha, m,
                _b64(partial["c"]), _b64(partial["v"])):
            return False
        found[member] = m
    return len(found) >= threshold and count >= 0 and sub(beta, combine_partials(found)) == small(count)


# --- the record ----------------------------------------------------------------------------------

def _b64(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (ValueError, TypeError):
        raise Invalid("Hồ sơ có trường base64 không hợp lệ.") from None


def _hex(value: str) -> bytes:
    try:
        return bytes.fromhex(value)
    except (ValueError, TypeError):
        raise Invalid("Hồ sơ có trường hex không hợp lệ.") from None


def fingerprint(public: bytes, texts_public: bytes) -> str:
    digest = hashlib.sha256(b"consult/vote-key/v1" + public + texts_public).digest()
    body = base64.b32encode(digest).decode()[:20]
    return "-".join(body[i:i + 4] for i in range(0, 20, 4))


def verify_record(record: dict) -> dict:
    """Check a whole record; return its totals per choice, or raise Invalid naming the first fault."""
    if record.get("format") != FORMAT:
        raise Invalid(f"Không phải hồ sơ cuộc biểu quyết (format phải là {FORMAT}).")
    vote = record["vote"]
    public, texts_public = _hex(record["public_key"]), _hex(record["texts_key"])
    if not is_point(public):
        raise Invalid("Khóa công khai không phải một điểm hợp lệ của nhóm.")
    if fingerprint(public, texts_public) != record.get("fingerprint"):
        raise Invalid("Dấu vân tay khóa không khớp với khóa công khai trong hồ sơ.")
    choices = len(vote["choices"])
    low, high = int(vote["min_choices"]), int(vote["max_choices"])
    if not 0 <= low <= high <= choices:
        raise Invalid("Quy tắc số lựa chọn của phiếu không hợp lệ.")
    context = ballot_context(int(vote["id"]), vote["phase"], public, choices, low, high)
    ceremony, threshold = None, 0
    if record.get("ceremony") is not None:
        ceremony = check_ceremony(int(vote["id"]), vote["phase"], public, record["ceremony"])
        threshold = int(record["ceremony"]["threshold"])
    seen: set[bytes] = set()
    totals = [0] * choices
    for group in record["groups"]:
        name = group.get("name") or f"nhóm {group.get('id')}"
        refused = {r["tracker"] for r in group.get("refused", [])}
        accepted = []
        for ballot in group["ballots"]:
            ciphertext, proofs = _b64(ballot["ciphertext"]), _b64(ballot["proofs"])
            if tracker(ciphertext, proofs, _hex(ballot["text_digest"])) != ballot["tracker"]:
                raise Invalid(f"{name}: mã theo dõi {ballot['tracker'][:16]}… không khớp với bản mã của phiếu.")
            alphas = {ciphertext[i:i + POINT] for i in range(0, len(ciphertext), PAIR)}
            if seen & alphas or len(alphas) * PAIR != len(ciphertext):
                raise Invalid(f"{name}: phiếu {ballot['tracker'][:16]}… chép lại bản mã của một phiếu khác.")
            seen |= alphas
            try:
                check_ballot(public, context, choices, low, high, ciphertext, proofs)
            except Invalid as exc:
                if ballot["tracker"] in refused:
                    continue
                raise Invalid(f"{name}: phiếu {ballot['tracker'][:16]}…: {exc}") from None
            if ballot["tracker"] in refused:
                raise Invalid(f"{name}: phiếu {ballot['tracker'][:16]}… hợp lệ nhưng bị loại khi kiểm phiếu.")
            accepted.append(pairs(ciphertext, choices))
        if len(group["ballots"]) != int(group["marked"]):
            raise Invalid(f"{name}: {len(group['ballots'])} phiếu trên bảng công khai nhưng "
                          f"{group['marked']} hộ được ghi là đã biểu quyết.")
        if int(group["marked"]) > int(group["households"]):
            raise Invalid(f"{name}: số hộ đã biểu quyết vượt quá số hộ trong danh sách.")
        sums = [total([ballot[i] for ballot in accepted]) for i in range(choices)]
        recorded = [(_b64(s)[:POINT], _b64(s)[POINT:]) for s in group["sum"]]
        if recorded != sums:
            raise Invalid(f"{name}: tổng các bản mã khác tổng ghi trong hồ sơ.")
        counts = [int(n) for n in group["counts"]]
        if len(counts) != choices or len(group["decryption"]) != choices:
            raise Invalid(f"{name}: thiếu kết quả giải mã của một lựa chọn.")
        for index, ((alpha, beta), count, proof) in enumerate(zip(sums, counts, group["decryption"])):
            if not accepted:
                if count != 0:
                    raise Invalid(f"{name}: không có phiếu mà kết quả khác 0.")
                continue
            where = decryption_context(int(vote["id"]), vote["phase"], public, int(group["id"]), index)
            if ceremony is not None:  # a key no one holds: the members' partial decryptions
                ok = count <= len(accepted) and check_threshold_decryption(
                    where, ceremony, threshold, alpha, beta, count, proof["partials"])
            else:
                ok = count <= len(accepted) and check_decryption(public, where, alpha, beta, count,
                                                                 _b64(proof["c"]), _b64(proof["v"]))
            if not ok:
                raise Invalid(f"{name}: chứng minh giải mã của lựa chọn «{vote['choices'][index]['label']}» "
                              "không đúng (kết quả không phải là giải mã của tổng).")
            totals[index] += count
    if [int(n) for n in record["result"]["totals"]] != totals:
        raise Invalid("Kết quả công bố khác tổng các kết quả đã giải mã của từng khu dân cư.")
    return {"totals": totals}


# --- a spoiled ballot (Benaloh's challenge) ------------------------------------------------------
# A ballot the voter's browser encrypted and then, instead of casting it, opened: its randomness
# shown, anyone recomputes each ciphertext and reads which choices it holds, so that a voter (or
# anyone they give the file to) sees the browser encrypted what was chosen. The voter then
# chooses again and casts a fresh encryption; a spoiled ballot is never counted.
SPOILED_FORMAT = "consult-spoiled-ballot/1"


def open_spoiled(public: bytes, ciphertext: bytes, choices: int, randomness: list[bytes]) -> list[int]:
    """The positions a ballot holds, from the randomness of each of its ciphertexts."""
    cipher_pairs = pairs(ciphertext, choices)
    if len(randomness) != choices or not all(is_scalar(r) for r in randomness):
        raise Invalid("Phiếu kiểm tra có số ngẫu nhiên sai.")
    chosen = []
    for index, ((alpha, beta), r) in enumerate(zip(cipher_pairs, randomness)):
        if base_mult(r) != alpha:
            raise Invalid(f"Số ngẫu nhiên của bản mã thứ {index + 1} không tạo ra bản mã đó.")
        value = sub(beta, mult(r, public))
        if value == G:
            chosen.append(index)
        elif value != IDENTITY:
            raise Invalid(f"Bản mã thứ {index + 1} không chứa 0 hoặc 1.")
    return chosen


def verify_spoiled(doc: dict) -> list[str]:
    """The labels a spoiled ballot holds, once its proofs and its randomness are checked."""
    if doc.get("format") != SPOILED_FORMAT:
        raise Invalid("Không phải phiếu kiểm tra của consult.")
    public, labels = _hex(doc["public_key"]), [c for c in doc["choices"]]
    low, high = int(doc["rule"]["low"]), int(doc["rule"]["high"])
    ciphertext, proofs = _hex(doc["ciphertext"]), _hex(doc["proofs"])
    check_ballot(public, ballot_context(int(doc["vote"]), str(doc["phase"]), public, len(labels), low, high),
                 len(labels), low, high, ciphertext, proofs)
    return [labels[i] for i in open_spoiled(public, ciphertext, len(labels), [_hex(r) for r in doc["randomness"]])]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    spoiled = argv[:1] == ["--spoiled"]
    if spoiled:
        argv = argv[1:]
    if len(argv) != 1:
        print("Cách dùng: python -m consult.verify HỒ_SƠ.json, hoặc python -m consult.verify --spoiled PHIẾU.json",
              file=sys.stderr)
        return 2
    try:
        with open(argv[0], encoding="utf-8") as handle:
            record = json.load(handle)
        if spoiled:
            held = ", ".join(f"«{label}»" for label in verify_spoiled(record)) or "không lựa chọn nào"
            key = (f" (dấu vân tay khóa: {fingerprint(_hex(record['public_key']), _hex(record['texts_key']))})"
                   if record.get("texts_key") else "")
            print(f"Hợp lệ: phiếu kiểm tra chứa {held}{key}")
            return 0
        result = verify_record(record)
    except Invalid as exc:
        print(f"Không hợp lệ: {exc}")
        return 1
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"Không hợp lệ: hồ sơ không đọc được ({type(exc).__name__}: {exc}).")
        return 1
    labels = [c["label"] for c in record["vote"]["choices"]]
    print("Hợp lệ: " + "; ".join(f"{label}: {n}" for label, n in zip(labels, result["totals"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
