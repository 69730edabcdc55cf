"""The secret ballot's cryptography: encrypted choices, a key split among the vote's board.

The scheme is the one Helios (Adida 2008, "Helios v3 verification specs") and
ElectionGuard (spec 1.0, "Encryption of ballots") use, on a different group:

* exponential ElGamal on the prime-order subgroup of edwards25519. With the
  vote's secret scalar ``x`` and public key ``K = x·G``, a choice ``m`` (0 or 1)
  encrypts as ``(α, β) = (r·G, m·G + r·K)`` for a fresh random ``r``;
* a ballot is one such ciphertext per choice of the vote, encrypting 1 for the
  chosen one and 0 for the others (Helios' "approval" encoding), so every
  ballot has the same size whatever it says;
* ciphertexts add up component-wise, so the sum of all ballots encrypts the
  count of each choice; only that sum is ever decrypted (``β - x·α = n·G``), and
  ``n`` is found by a baby-step giant-step search bounded by the households.

The group operations are libsodium's (``crypto_core_ed25519_*`` and
``crypto_scalarmult_ed25519_*`` through PyNaCl); nothing here computes on
curve points by hand.

The key. ``x`` and the key that seals the "ý kiến khác" texts (an X25519 key
for libsodium's sealed boxes) are both derived from a 128-bit seed. The seed
is split with Shamir's scheme (pycryptodome, over GF(2^128)) into one share
per member of the vote's board, any ``k`` of which rebuild it; the server
hands the shares out once, when the vote opens, and keeps only the public
keys. At the count, ``k`` members enter their shares, the seed is rebuilt in
memory, checked against the public key, used, and dropped.

Proofs. Every ciphertext carries a disjunctive Chaum-Pedersen proof that it
encrypts 0 or 1, and every ballot a proof that its choices add up to what the
vote allows (one; at most the seats in an election); every decrypted sum
carries a Chaum-Pedersen proof that it is the sum's decryption. Their
definition, the specifications they follow and their checks are in
``consult/verify.py``, the verifier anyone can run on the vote's election
record; the server checks with the same functions when it records a ballot and
again at the count.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import secrets
from dataclasses import dataclass

from Crypto.Protocol.SecretSharing import Shamir
from nacl import bindings as sodium
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

from consult import verify
from consult.errors import DomainError

POINT, PAIR, IDENTITY = verify.POINT, verify.PAIR, verify.IDENTITY
# Sealed "ý kiến khác": UTF-8 padded to one size, so that a text's presence or
# length shows nothing (every ballot carries one, empty or not).
TEXT_BYTES = 2048


class KeyShareError(DomainError):
    """Shares that are missing, mistyped, or do not rebuild the vote's key (message in Vietnamese)."""


def _scalar(n: int) -> bytes:
    return n.to_bytes(32, "little")


def _random_scalar() -> bytes:
    return sodium.crypto_core_ed25519_scalar_reduce(secrets.token_bytes(64))


def _base_mult(n: int) -> bytes:
    return IDENTITY if n == 0 else sodium.crypto_scalarmult_ed25519_base_noclamp(_scalar(n))


G = _base_mult(1)


@dataclass(frozen=True)
class VoteKey:
    """The secret of one vote, rebuilt from its seed; never stored."""

    seed: bytes

    @property
    def scalar(self) -> bytes:
        return sodium.crypto_core_ed25519_scalar_reduce(hashlib.sha512(b"consult/vote/elgamal" + self.seed).digest())

    @property
    def public(self) -> bytes:
        return sodium.crypto_scalarmult_ed25519_base_noclamp(self.scalar)

    @property
    def texts_key(self) -> PrivateKey:
        return PrivateKey(hashlib.sha256(b"consult/vote/texts" + self.seed).digest())

    @property
    def texts_public(self) -> bytes:
        return bytes(self.texts_key.public_key)


@dataclass(frozen=True)
class NewKey:
    public: bytes
    texts_public: bytes
    threshold: int
    shares: list[str]  # one per board member, in the board's order


def threshold_for(members: int) -> int:
    """Shares needed to count: a majority of the board (2 of 3, 3 of 4, 3 of 5)."""
    return members // 2 + 1


def new_key(poll_id: int, members: int) -> NewKey:
    """A fresh vote key, split into ``members`` shares of which a majority rebuilds it."""
    if members < 2:
        raise ValueError("a key split needs at least two board members")
    key = VoteKey(secrets.token_bytes(16))
    k = threshold_for(members)
    shares = [format_share(poll_id, index, share) for index, share in Shamir.split(k, members, key.seed)]
    return NewKey(key.public, key.texts_public, k, shares)


def key_fingerprint(public: bytes, texts_public: bytes) -> str:
    """The vote key's fingerprint, printed on the opening notice, each share card, every
    slip, the ballot page and the minutes: 100 bits of SHA-256 over both public keys, in
    five groups of four (base32), so that a key swapped in the database shows."""
    digest = hashlib.sha256(b"consult/vote-key/v1" + bytes(public) + bytes(texts_public)).digest()
    body = base64.b32encode(digest).decode()[:20]
    return "-".join(body[i:i + 4] for i in range(0, 20, 4))


def _share_check(poll_id: int, index: int, share: bytes) -> bytes:
    return hashlib.sha256(f"consult/share/{poll_id}/{index}".encode() + share).digest()[:4]


def format_share(poll_id: int, index: int, share: bytes) -> str:
    """'P12-2-ABCD-EFGH-…': the vote, the member's index, the share and a check, easy to type."""
    body = base64.b32encode(share + _share_check(poll_id, index, share)).decode().rstrip("=")
    groups = "-".join(body[i:i + 4] for i in range(0, len(body), 4))
    return f"P{poll_id}-{index}-{groups}"


def parse_share(poll_id: int, text: str) -> tuple[int, bytes]:
    raw = "".join(ch for ch in (text or "").upper() if ch.isalnum())
    head = f"P{poll_id}"
    if not raw.startswith(head) or len(raw) < len(head) + 2:
        raise KeyShareError("Mã khóa không thuộc cuộc biểu quyết này (phải bắt đầu bằng "
                            f"{head}-). Hãy kiểm tra lại mã trên phiếu giữ khóa.")
    rest = raw[len(head):]
    if not rest[0].isdigit():
        raise KeyShareError("Mã khóa gõ chưa đúng: sau mã cuộc biểu quyết phải là số thứ tự của thành viên.")
    index, body = int(rest[0]), rest[1:]
    try:
        data = base64.b32decode(body + "=" * (-len(body) % 8))
    except (ValueError, base64.binascii.Error):
        data = b""
    share, check = data[:16], data[16:]
    if len(data) != 20 or not hmac.compare_digest(check, _share_check(poll_id, index, share)):
        raise KeyShareError(f"Mã khóa số {index} gõ chưa đúng (sai ký tự kiểm tra). Hãy kiểm tra lại.")
    return index, share


def rebuild_key(poll_id: int, public: bytes, threshold: int, texts: list[str]) -> VoteKey:
    """The vote's key from at least ``threshold`` of its board's shares, checked against
    its public key; fewer shares, or shares that do not fit, are refused."""
    shares = {}
    for text in texts:
        if (text or "").strip():
            index, share = parse_share(poll_id, text)
            shares[index] = share
    if len(shares) < threshold:
        raise KeyShareError(f"Cần mã khóa của ít nhất {threshold} thành viên Tổ lấy ý kiến để kiểm phiếu; "
                            f"mới nhập {len(shares)}. Chưa ai, kể cả máy chủ, tính được kết quả.")
    for chosen in itertools.combinations(sorted(shares.items()), threshold):
        key = VoteKey(Shamir.combine(list(chosen)))
        if hmac.compare_digest(key.public, public):
            return key
    raise KeyShareError("Các mã khóa đã nhập không khớp với khóa của cuộc biểu quyết. "
                        "Hãy kiểm tra lại từng mã.")


# --- ballots ---------------------------------------------------------------------------------
# The proofs follow the specifications cited in ``consult/verify.py``, whose functions check
# them (here and in anyone's hands); this part makes them.

def _range_proof(public: bytes, context: bytes, digest: bytes, label: bytes, alpha: bytes, beta: bytes,
                 values: range, value: int, r: bytes) -> bytes:
    """A disjunctive Chaum-Pedersen proof that ``(α, β)``, made with randomness ``r``,
    encrypts one of ``values`` (it encrypts ``value``): the other branches simulated,
    the true one answered once the challenge is known (CDS 1994; Helios, ElectionGuard)."""
    branches: list[tuple[bytes, bytes] | None] = []
    commitments: list[bytes] = []
    w = _random_scalar()
    for candidate in values:
        if candidate == value:
            branches.append(None)
            commitments += [verify.base_mult(w), verify.mult(w, public)]
        else:
            c, v = _random_scalar(), _random_scalar()
            branches.append((c, v))
            commitments += [verify.sub(verify.base_mult(v), verify.mult(c, alpha)),
                            verify.sub(verify.mult(v, public), verify.mult(c, verify.sub(beta, verify.small(candidate))))]
    c_true = verify.range_statement(context, digest, label, alpha, beta, commitments)
    for branch in branches:
        if branch is not None:
            c_true = sodium.crypto_core_ed25519_scalar_sub(c_true, branch[0])
    v_true = sodium.crypto_core_ed25519_scalar_add(w, sodium.crypto_core_ed25519_scalar_mul(c_true, r))
    return b"".join(c + v for c, v in ((c_true, v_true) if b is None else b for b in branches))


def encrypt_ballot(public: bytes, context: bytes, choices: int, chosen: set[int] | int, low: int = 1,
                   high: int = 1) -> tuple[bytes, bytes]:
    """One ballot: for each choice an ElGamal pair (α ‖ β) of 1 (chosen) or 0, each with its
    own fresh randomness, and the proofs (``verify.check_ballot``) that each holds 0 or 1 and
    that their sum lies in [low, high]. Refuses a choice outside the rule: no valid proof of
    an invalid ballot can be made."""
    chosen = {chosen} if isinstance(chosen, int) else set(chosen)
    if not chosen <= set(range(choices)) or not low <= len(chosen) <= high:
        raise ValueError("not a valid ballot for this vote")
    randomness, cipher_pairs = [], []
    for index in range(choices):
        r = _random_scalar()
        alpha = sodium.crypto_scalarmult_ed25519_base_noclamp(r)
        beta = sodium.crypto_scalarmult_ed25519_noclamp(r, public)
        if index in chosen:
            beta = sodium.crypto_core_ed25519_add(beta, G)
        randomness.append(r)
        cipher_pairs.append((alpha, beta))
    ciphertext = b"".join(a + b for a, b in cipher_pairs)
    digest = hashlib.sha512(ciphertext).digest()
    proofs = bytearray()
    for index, ((alpha, beta), r) in enumerate(zip(cipher_pairs, randomness)):
        proofs += _range_proof(public, context, digest, verify.text(index), alpha, beta, range(0, 2),
                               int(index in chosen), r)
    total_r = randomness[0]
    for r in randomness[1:]:
        total_r = sodium.crypto_core_ed25519_scalar_add(total_r, r)
    alpha, beta = verify.total(cipher_pairs)
    proofs += _range_proof(public, context, digest, b"sum", alpha, beta, range(low, high + 1), len(chosen), total_r)
    return ciphertext, bytes(proofs)


def _padded(text: str) -> bytes:
    data = text.encode("utf-8")
    if len(data) > TEXT_BYTES - 2:
        raise ValueError("text too long to seal")
    return len(data).to_bytes(2, "big") + data + b"\x00" * (TEXT_BYTES - 2 - len(data))


def _unpadded(padded: bytes) -> str:
    return padded[2:2 + int.from_bytes(padded[:2], "big")].decode("utf-8")


def seal_text(texts_public: bytes, text: str, *, public: bytes | None = None) -> bytes:
    """The ballot's "ý kiến khác" (empty for most), padded and sealed to the vote's key: a
    sealed box to the texts' X25519 key, or, when the texts' key is the vote key itself (a key
    made by the board's ceremony, which nobody holds), hashed ElGamal under it. Both blobs
    have the same size."""
    if public is not None and bytes(texts_public) == bytes(public):
        return seal_text_elgamal(public, text)
    return SealedBox(PublicKey(texts_public)).encrypt(_padded(text))


# Hashed ElGamal (ElectionGuard 2.0 §3.3, its "hashed ElGamal encryption" of contest data):
# α = r·G, a key k = BLAKE2b(K ‖ α ‖ r·K) and the padded text under XChaCha20-Poly1305 with
# that key (used once: the nonce is fixed), bound to α. Opening needs r·K = s·α, which a
# majority of the board compute as proven partial decryptions (``keyceremony``) without the key.
TEXT_NONCE = b"\x00" * 24


def text_key(public: bytes, alpha: bytes, shared: bytes) -> bytes:
    return hashlib.blake2b(bytes(public) + bytes(alpha) + bytes(shared), digest_size=32,
                           person=b"consult-text").digest()


def seal_text_elgamal(public: bytes, text: str) -> bytes:
    r = _random_scalar()
    alpha = verify.base_mult(r)
    key = text_key(public, alpha, verify.mult(r, public))
    return alpha + sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(_padded(text), alpha, TEXT_NONCE, key)


def open_text_elgamal(public: bytes, blob: bytes, shared: bytes) -> str:
    """The text of a hashed-ElGamal blob, given r·K (``ValueError`` when it does not open)."""
    alpha = bytes(blob[:POINT])
    try:
        padded = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(bytes(blob[POINT:]), alpha, TEXT_NONCE,
                                                                   text_key(public, alpha, shared))
    except CryptoError:
        raise ValueError("a sealed text does not open") from None
    return _unpadded(padded)


def tracker(ciphertext: bytes, proofs: bytes, sealed: bytes) -> str:
    """The ballot's fingerprint, shown to the household and on the bulletin board."""
    return verify.tracker(ciphertext, proofs, hashlib.sha256(sealed).digest())


def receipt_code(ballot_tracker: str) -> str:
    """The first 50 bits of the tracker, in the 4-4-2 form of the slips' codes."""
    raw = base64.b32encode(bytes.fromhex(ballot_tracker)[:7]).decode()[:10]
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


@dataclass(frozen=True)
class Decryption:
    """A sum's count with the Chaum-Pedersen proof that it is the sum's decryption."""

    count: int
    c: bytes
    v: bytes


class Aggregate:
    """The running component-wise sum of ballots of ``choices`` choices."""

    def __init__(self, choices: int):
        self.choices = choices
        self.sums: list[list[bytes]] = [[IDENTITY, IDENTITY] for _ in range(choices)]
        self.count = 0

    def add(self, ciphertext: bytes) -> None:
        for pair, (alpha, beta) in zip(self.sums, verify.pairs(ciphertext, self.choices)):
            pair[0] = sodium.crypto_core_ed25519_add(pair[0], alpha)
            pair[1] = sodium.crypto_core_ed25519_add(pair[1], beta)
        self.count += 1

    def decrypt(self, key: VoteKey) -> list[int]:
        """The count of each choice; only ever called on a sum, after the close."""
        return [d.count for d in self.decrypt_with_proofs(key, lambda index: b"")]

    def decrypt_with_proofs(self, key: VoteKey, context) -> list[Decryption]:
        """Each choice's count with its proof (``verify.check_decryption``); ``context(i)`` is
        ``verify.decryption_context`` of choice ``i``."""
        x, public = key.scalar, key.public
        out = []
        for index, (alpha, beta) in enumerate(self.sums):
            if self.count == 0:
                out.append(Decryption(0, b"", b""))
                continue
            m = sodium.crypto_core_ed25519_sub(beta, verify.mult(x, alpha))
            count = _small_log(m, self.count)
            w = _random_scalar()
            c = verify.decryption_statement(context(index), public, alpha, beta, m, verify.base_mult(w),
                                            verify.mult(w, alpha))
            v = sodium.crypto_core_ed25519_scalar_add(w, sodium.crypto_core_ed25519_scalar_mul(c, x))
            out.append(Decryption(count, c, v))
        return out


def _small_log(point: bytes, bound: int) -> int:
    """``n`` in [0, bound] with ``n·G == point`` (baby-step giant-step)."""
    if point == IDENTITY:
        return 0
    step = max(1, int(bound ** 0.5) + 1)
    baby = {IDENTITY: 0}
    current = IDENTITY
    for j in range(1, step):
        current = sodium.crypto_core_ed25519_add(current, G)
        baby[current] = j
    giant = _base_mult(step)
    current = point
    for i in range(step + 1):
        if current in baby:
            return i * step + baby[current]
        current = sodium.crypto_core_ed25519_sub(current, giant)
    raise ValueError("the sum does not decrypt to a count of ballots")


class TextOpener:
    """Opens the sealed "ý kiến khác" texts one by one as the count reads them (only after
    the close), keeping only the non-empty ones; ``texts()`` returns them shuffled."""

    def __init__(self, key: VoteKey):
        self.box = SealedBox(key.texts_key)
        self.found: list[str] = []

    def add(self, blob: bytes) -> None:
        try:
            padded = self.box.decrypt(blob)
        except CryptoError:
            raise ValueError("a sealed text does not open with the vote's key") from None
        text = _unpadded(padded)
        if text:
            self.found.append(text)

    def texts(self) -> list[str]:
        texts = list(self.found)
        secrets.SystemRandom().shuffle(texts)
        return texts


def open_texts(key: VoteKey, sealed: list[bytes]) -> list[str]:
    """The non-empty "ý kiến khác" texts, in random order (decrypted only after the close)."""
    opener = TextOpener(key)
    for blob in sealed:
        opener.add(blob)
    return opener.texts()
