"""The board's key ceremony without a dealer, and the count without the key.

The protocol and its checks are defined in ``consult/verify.py`` ("a key no one holds"), after
ElectionGuard 2.0 §3.2 and §3.6 and Pedersen's distributed key generation; this module has its two
sides:

* ``Member``: what a board member's device does and keeps. It draws its polynomial, publishes the
  commitments with their proofs, seals one share for each other member to that member's
  ceremony key (libsodium's sealed box, X25519), checks each share it receives against its
  sender's commitments (naming the sender of a bad one), keeps its key share s_ℓ, and computes
  its proven partial decryption of each sum at the count. Its secrets never leave it.
* ``Ceremony`` and ``count``: what the server does with what members send. It checks the
  commitments and proofs as they arrive, passes the sealed shares on (it cannot open them),
  settles complaints with the share the accused reveals, computes the joint key and each
  member's public share from the commitments, and at the count checks each partial decryption
  and combines any valid majority. Nothing on this side ever holds a secret scalar of the key.

The member side runs in the member's browser in the ceremony's pages; this Python version is the
reference they are tested against, and what the tests play the members with.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from nacl import bindings as sodium
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

from consult import verify
from consult.errors import DomainError


class CeremonyError(DomainError):
    """Something a member sent does not hold; the message (Vietnamese) names the member."""

    def __init__(self, message: str, member: int | None = None):
        super().__init__(message)
        self.member = member


def _random_scalar() -> bytes:
    return sodium.crypto_core_ed25519_scalar_reduce(secrets.token_bytes(64))


def _evaluate(coefficients: list[bytes], index: int) -> bytes:
    """P(index) = Σ_j a_j·index^j modulo ℓ (libsodium's scalar arithmetic)."""
    value, power = verify.ZERO, verify.scalar(1)
    for coefficient in coefficients:
        value = sodium.crypto_core_ed25519_scalar_add(value, sodium.crypto_core_ed25519_scalar_mul(coefficient, power))
        power = sodium.crypto_core_ed25519_scalar_mul(power, verify.scalar(index))
    return value


@dataclass(frozen=True)
class Setup:
    """What every side agrees on before the ceremony: the vote, its phase, n and k."""

    vote_id: int
    phase: str
    members: int
    threshold: int

    def coefficient_context(self, member: int) -> bytes:
        return verify.coefficient_context(self.vote_id, self.phase, member, self.threshold, self.members)

    def share_label(self, sender: int, recipient: int) -> bytes:
        return b"|".join([b"share", verify.text(self.vote_id), verify.text(self.phase), verify.text(sender),
                          verify.text(recipient)])


@dataclass(frozen=True)
class Announcement:
    """A member's public contribution: its ceremony key, its commitments and their proofs."""

    member: int
    ceremony_key: bytes  # X25519 public key, to which the others seal its shares
    commitments: list[bytes]
    proofs: list[tuple[bytes, bytes]]


@dataclass(frozen=True)
class PartialDecryption:
    member: int
    m: bytes
    c: bytes
    v: bytes


class Member:
    """A board member's device in the ceremony (its state is the member's secret)."""

    def __init__(self, setup: Setup, index: int):
        if not 1 <= index <= setup.members:
            raise ValueError("member index out of range")
        self.setup, self.index = setup, index
        self._coefficients = [_random_scalar() for _ in range(setup.threshold)]
        self._ceremony_key = PrivateKey.generate()
        self._received: dict[int, bytes] = {index: _evaluate(self._coefficients, index)}
        self.key_share: bytes | None = None

    @classmethod
    def from_key_share(cls, setup: Setup, index: int, share: bytes) -> Member:
        """A device after the ceremony, holding only its key share (restored from the card)."""
        member = cls(setup, index)
        member._coefficients, member._received, member.key_share = [], {}, share
        return member

    def announcement(self) -> Announcement:
        context = self.setup.coefficient_context(self.index)
        commitments, proofs = [], []
        for j, a in enumerate(self._coefficients):
            commitment = verify.base_mult(a)
            u = _random_scalar()
            c = verify.schnorr_statement(context + b"|" + verify.text(j), commitment, verify.base_mult(u))
            proofs.append((c, sodium.crypto_core_ed25519_scalar_add(u, sodium.crypto_core_ed25519_scalar_mul(c, a))))
            commitments.append(commitment)
        return Announcement(self.index, bytes(self._ceremony_key.public_key), commitments, proofs)

    def sealed_shares(self, announcements: dict[int, Announcement]) -> dict[int, bytes]:
        """P(ℓ) for each other member ℓ, sealed to ℓ's ceremony key and labelled with the pair."""
        out = {}
        for other, announcement in announcements.items():
            if other == self.index:
                continue
            body = self.setup.share_label(self.index, other) + b"|" + _evaluate(self._coefficients, other)
            out[other] = SealedBox(PublicKey(announcement.ceremony_key)).encrypt(body)
        return out

    def revealed_share(self, recipient: int) -> bytes:
        """The share for ``recipient`` in the clear, to settle its complaint (GJKR)."""
        return _evaluate(self._coefficients, recipient)

    def receive(self, sender: int, announcement: Announcement, sealed: bytes) -> bool:
        """Open and check ``sender``'s share; False (a complaint to make) when it is bad."""
        try:
            body = SealedBox(self._ceremony_key).decrypt(sealed)
        except CryptoError:
            return False
        label = self.setup.share_label(sender, self.index) + b"|"
        share = body[len(label):]
        if not body.startswith(label) or not verify.check_share(announcement.commitments, self.index, share):
            return False
        self._received[sender] = share
        return True

    def accept_revealed(self, sender: int, share: bytes) -> None:
        """A share settled in public (its sender revealed it and it checked)."""
        self._received[sender] = share

    def finish(self, qualified: set[int]) -> bytes:
        """s_ℓ = Σ P_i(ℓ) over the qualified members; then the polynomial is forgotten."""
        missing = qualified - set(self._received)
        if missing:
            raise CeremonyError(f"Chưa nhận được phần khóa hợp lệ của thành viên {_names(missing)}.")
        share = verify.ZERO
        for sender in sorted(qualified):
            share = sodium.crypto_core_ed25519_scalar_add(share, self._received[sender])
        self.key_share = share
        self._coefficients = []
        self._received = {}
        return verify.base_mult(share)

    def partial_decrypt(self, context: bytes, alpha: bytes) -> PartialDecryption:
        """M = s_ℓ·α with its Chaum-Pedersen proof (``verify.check_partial``)."""
        if self.key_share is None:
            raise CeremonyError("Thiết bị này chưa hoàn tất lễ tạo khóa.", self.index)
        m = verify.mult(self.key_share, alpha)
        w = _random_scalar()
        public_share = verify.base_mult(self.key_share)
        label = verify.partial_context(context, self.index)
        c = verify.partial_statement(label, public_share, alpha, m, verify.base_mult(w), verify.mult(w, alpha))
        v = sodium.crypto_core_ed25519_scalar_add(w, sodium.crypto_core_ed25519_scalar_mul(c, self.key_share))
        return PartialDecryption(self.index, m, c, v)


def _names(members) -> str:
    return ", ".join(f"số {m}" for m in sorted(members))


@dataclass
class Ceremony:
    """The server's side of the ceremony: public values only."""

    setup: Setup
    announcements: dict[int, Announcement] = field(default_factory=dict)
    sealed: dict[tuple[int, int], bytes] = field(default_factory=dict)  # (sender, recipient) -> sealed share
    disqualified: set[int] = field(default_factory=set)
    revealed: dict[tuple[int, int], bytes] = field(default_factory=dict)
    _publics: dict = field(default_factory=dict, repr=False)  # (member, qualified) -> S_member

    def announce(self, announcement: Announcement) -> None:
        """Record a member's commitments, refusing (and naming) a malformed or unproven one."""
        member = announcement.member
        if not 1 <= member <= self.setup.members:
            raise CeremonyError(f"Không có thành viên số {member} trong Tổ lấy ý kiến.", member)
        if not verify.check_coefficients(self.setup.coefficient_context(member), announcement.commitments,
                                         announcement.proofs, self.setup.threshold):
            raise CeremonyError(f"Phần công khai của thành viên số {member} không hợp lệ (cam kết hoặc chứng minh "
                                "sai); thiết bị của thành viên này cần làm lại bước 1.", member)
        if len(announcement.ceremony_key) != 32:
            raise CeremonyError(f"Khóa nhận của thành viên số {member} không hợp lệ.", member)
        self.announcements[member] = announcement
        self._publics.clear()

    def post_shares(self, sender: int, shares: dict[int, bytes]) -> None:
        if sender not in self.announcements:
            raise CeremonyError(f"Thành viên số {sender} chưa gửi phần công khai.", sender)
        expected = set(self.announcements) - {sender}
        if set(shares) != expected:
            raise CeremonyError(f"Thành viên số {sender} phải gửi đúng một phần khóa cho mỗi thành viên khác.", sender)
        for recipient, blob in shares.items():
            self.sealed[(sender, recipient)] = blob

    def settle(self, accused: int, complainant: int, revealed: bytes) -> bool:
        """A complaint: ``accused`` revealed its share for ``complainant``. A share that does not
        match the commitments (or none) disqualifies the accused; True when it held."""
        commitments = self.announcements[accused].commitments
        if revealed is not None and verify.check_share(commitments, complainant, revealed):
            self.revealed[(accused, complainant)] = revealed
            return True
        self.disqualified.add(accused)
        return False

    @property
    def qualified(self) -> set[int]:
        return set(self.announcements) - self.disqualified

    def commitments(self) -> dict[int, list[bytes]]:
        return {m: self.announcements[m].commitments for m in sorted(self.qualified)}

    def joint_key(self) -> bytes:
        if len(self.qualified) < self.setup.threshold:
            raise CeremonyError(f"Chỉ còn {len(self.qualified)} thành viên hợp lệ, cần ít nhất {self.setup.threshold} "
                                "để tạo khóa; hãy làm lại lễ tạo khóa.")
        return verify.joint_key(self.commitments())

    def member_public(self, member: int) -> bytes:
        """S_member from the qualified members' commitments (kept: the count asks once a sum)."""
        key = (member, frozenset(self.qualified))
        if key not in self._publics:
            self._publics[key] = verify.member_public(self.commitments(), member)
        return self._publics[key]

    def record(self) -> dict:
        """The ceremony's part of the election record (JSON-ready)."""
        return {"phase": self.setup.phase, "members": self.setup.members, "threshold": self.setup.threshold,
                "qualified": sorted(self.qualified), "disqualified": sorted(self.disqualified),
                "commitments": {str(m): [c.hex() for c in cs] for m, cs in self.commitments().items()},
                "proofs": {str(m): [[c.hex(), v.hex()] for c, v in self.announcements[m].proofs]
                           for m in sorted(self.qualified)}}


@dataclass(frozen=True)
class Decrypted:
    value: bytes                 # x·α, without x
    used: list[int]              # the members whose partial decryptions were combined
    refused: list[int]           # members whose partial decryption failed its proof


def combine(ceremony: Ceremony, context: bytes, alpha: bytes, partials: list[PartialDecryption]) -> Decrypted:
    """x·α from the members' partial decryptions: each checked against the member's public share;
    a bad one is named and left out; any ``threshold`` valid ones are combined."""
    valid, refused = {}, []
    for partial in partials:
        if partial.member not in ceremony.qualified or partial.member in valid:
            refused.append(partial.member)
            continue
        if verify.check_partial(verify.partial_context(context, partial.member), ceremony.member_public(partial.member),
                                alpha, partial.m, partial.c, partial.v):
            valid[partial.member] = partial.m
        else:
            refused.append(partial.member)
    k = ceremony.setup.threshold
    if len(valid) < k:
        named = f" Phần giải mã của thành viên {_names(refused)} không hợp lệ." if refused else ""
        raise CeremonyError(f"Cần phần giải mã hợp lệ của ít nhất {k} thành viên; mới có {len(valid)}.{named}")
    chosen = dict(sorted(valid.items())[:k])
    return Decrypted(verify.combine_partials(chosen), sorted(chosen), sorted(refused))



# --- the member's printed card ---------------------------------------------------------------------
# A member's key share is kept on the member's device and on a printed card (typed code and QR), so
# that a device that lost its state is restored from paper. The code names the vote and the member,
# carries a check of four bytes, and is checked against the member's public share S_ℓ, which anyone
# computes from the ceremony's commitments: a mistyped card, another member's or another vote's
# card, or one of an earlier ceremony of the same vote, is each refused with its own message.

def _card_check(vote_id: int, index: int, share: bytes) -> bytes:
    import hashlib

    return hashlib.sha256(f"consult/key-card/{vote_id}/{index}".encode() + share).digest()[:4]


def format_key_share(vote_id: int, index: int, share: bytes) -> str:
    """'K12-3-ABCD-…': the vote, the member, the 32-byte key share and its check, in base32."""
    import base64

    body = base64.b32encode(share + _card_check(vote_id, index, share)).decode().rstrip("=")
    return f"K{vote_id}-{index}-" + "-".join(body[i:i + 4] for i in range(0, len(body), 4))


def parse_key_share(server: Ceremony, text: str) -> tuple[int, bytes]:
    """The member and key share a card's code gives, checked against the ceremony."""
    import base64
    import hmac

    vote_id = server.setup.vote_id
    parts = [p for p in "".join(ch for ch in (text or "").upper() if ch.isalnum() or ch == "-").split("-") if p]
    if len(parts) < 3 or not parts[0].startswith("K") or not parts[0][1:].isdigit() or not parts[1].isdigit():
        raise CeremonyError("Mã phiếu giữ khóa gõ chưa đúng: mã có dạng K<số cuộc biểu quyết>-<số thành viên>-…")
    if int(parts[0][1:]) != vote_id:
        raise CeremonyError(f"Phiếu giữ khóa này thuộc cuộc biểu quyết khác (số {int(parts[0][1:])}), "
                            f"không phải cuộc biểu quyết số {vote_id}.")
    index, body = int(parts[1]), "".join(parts[2:])
    try:
        data = base64.b32decode(body + "=" * (-len(body) % 8))
    except (ValueError, base64.binascii.Error):
        data = b""
    share, check = data[:32], data[32:]
    if len(data) != 36 or not hmac.compare_digest(check, _card_check(vote_id, index, share)):
        raise CeremonyError(f"Mã phiếu giữ khóa của thành viên số {index} gõ chưa đúng (sai ký tự kiểm tra). "
                            "Hãy so lại từng nhóm bốn ký tự.", index)
    if index not in server.qualified:
        raise CeremonyError(f"Thành viên số {index} không có phần khóa hợp lệ trong lần tạo khóa này.", index)
    if not verify.is_scalar(share) or verify.base_mult(share) != server.member_public(index):
        raise CeremonyError(f"Phiếu giữ khóa số {index} không khớp với khóa của cuộc biểu quyết: có thể là phiếu "
                            "của một lần tạo khóa trước. Hãy dùng phiếu in ở lần tạo khóa cuối cùng.", index)
    return index, share


def restored(server: Ceremony, text: str) -> Member:
    """A member's device restored from its card: it can decrypt again, nothing more."""
    index, share = parse_key_share(server, text)
    return Member.from_key_share(server.setup, index, share)
