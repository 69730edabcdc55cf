"""An account's share-pickup key: where a vote's key share waits for the one member it belongs to.

An X25519 key pair is derived from the account's password with Argon2id (libsodium's
``crypto_pwhash`` through PyNaCl) and a random salt. The account keeps the public half,
the salt and the cost; the private half exists only while a request holds the password
(signing in, changing it, picking up a share). A share sealed to the public half (an
anonymous sealed box, ``crypto_box_seal``) opens only for whoever types that password:
not the opener of the vote, not an administrator, not the server's operator.

What it does not stop, said plainly: whoever holds the database can guess the password
offline, at the cost of one Argon2id per guess, exactly as with the password hash beside
it; hence the same cost as that hash by default, and the sealed share is erased once
picked up. A live compromise of the server sees the password at sign-in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from nacl import exceptions as nacl_errors
from nacl import pwhash, utils
from nacl.public import PrivateKey, PublicKey, SealedBox


@dataclass(frozen=True)
class KdfCost:
    """Argon2id's passes and memory (bytes), stored with each key so that a changed
    setting never strands a key made under the old one."""

    opslimit: int
    memlimit: int


# As costly as the password hash (argon2-cffi's defaults, RFC 9106's second profile:
# 3 passes over 64 MiB): a stolen database makes guessing one no cheaper than the other.
DEFAULT_COST = KdfCost(opslimit=3, memlimit=64 * 1024 * 1024)


def cost_from_config(config: Mapping) -> KdfCost:
    """The cost for new keys: ``PICKUP_KDF_OPSLIMIT`` / ``PICKUP_KDF_MEMLIMIT`` (tests make them light)."""
    return KdfCost(int(config.get("PICKUP_KDF_OPSLIMIT") or DEFAULT_COST.opslimit),
                   int(config.get("PICKUP_KDF_MEMLIMIT") or DEFAULT_COST.memlimit))


def _derive(password: str, salt: bytes, cost: KdfCost) -> PrivateKey:
    seed = pwhash.argon2id.kdf(PrivateKey.SIZE, (password or "").encode("utf-8"), salt,
                               opslimit=cost.opslimit, memlimit=cost.memlimit)
    return PrivateKey(seed)


def has_key(user) -> bool:
    return user.pickup_public_key is not None and user.pickup_salt is not None


def new_key(user, password: str, cost: KdfCost = DEFAULT_COST) -> PrivateKey:
    """A fresh salt and key pair from ``password``; the account keeps the public half."""
    salt = utils.random(pwhash.argon2id.SALTBYTES)
    key = _derive(password, salt, cost)
    user.pickup_public_key, user.pickup_salt = bytes(key.public_key), salt
    user.pickup_opslimit, user.pickup_memlimit = cost.opslimit, cost.memlimit
    return key


def private_key(user, password: str) -> PrivateKey | None:
    """The private half, rebuilt from ``password`` with the account's salt and cost."""
    if not has_key(user):
        return None
    return _derive(password, user.pickup_salt, KdfCost(user.pickup_opslimit, user.pickup_memlimit))


def forget(user) -> None:
    """No key until the next sign-in (an administrator's reset: the old password is gone)."""
    user.pickup_public_key = user.pickup_salt = user.pickup_opslimit = user.pickup_memlimit = None


def seal(public_key: bytes, message: bytes) -> bytes:
    return SealedBox(PublicKey(bytes(public_key))).encrypt(message)


def unseal(key: PrivateKey | None, sealed: bytes | None) -> bytes | None:
    """The message, or None when this key does not open it."""
    if key is None or sealed is None:
        return None
    try:
        return SealedBox(key).decrypt(bytes(sealed))
    except nacl_errors.CryptoError:
        return None
