"""Sign-in limits: slow a password guesser down without locking an account's owner out.

Failed sign-in steps (password, second factor, enrolment: a 401) count together per
account (``LOGIN_RATE_LIMIT``) and per address (``LOGIN_ADDRESS_RATE_LIMIT``). A browser
that has signed in to the account before carries a device cookie for it
(``consult/throttle.py``); its attempts on that account skip both limits and count per
device instead (``LOGIN_RATE_LIMIT`` again), so neither a guesser on the same address nor
one hammering the account locks its owner out.
"""

from __future__ import annotations

import hashlib

from flask import g, request, session

from consult import throttle
from consult.auth import service
from consult.db import db_session
from consult.extensions import limiter

# The device cookie goes back to the sign-in pages only.
DEVICE_PATH = "/auth/"
# The session key under which the sign-in views keep the account waiting for its second factor.
PENDING_KEY = "pending_user"


def attempted_account() -> str:
    """The account a sign-in request is about: the username typed, or the one waiting
    for its second factor (read once per request)."""
    if "login_account" not in g:
        name = request.form.get("username", "")
        pending = session.get(PENDING_KEY)
        if not name and pending:
            user = service.load_user(db_session(), pending.get("key", ""))
            name = user.username if user else ""
        g.login_account = throttle.normal_account(name)
    return g.login_account


def from_known_device() -> bool:
    return throttle.device_for(attempted_account()) is not None


def from_unknown_device() -> bool:
    return not from_known_device()


def account_key() -> str:
    return "account:" + hashlib.sha256(attempted_account().encode()).hexdigest()[:32]


def device_key() -> str:
    return "device:" + (throttle.device_for(attempted_account()) or "")


login_failed = throttle.status_in(401)

_PER_DEVICE = limiter.shared_limit(throttle.configured("LOGIN_RATE_LIMIT"), "login-device", key_func=device_key,
                                   methods=["POST"], deduct_when=login_failed, exempt_when=from_unknown_device)
_PER_ACCOUNT = limiter.shared_limit(throttle.configured("LOGIN_RATE_LIMIT"), "login-account", key_func=account_key,
                                    methods=["POST"], deduct_when=login_failed, exempt_when=from_known_device)
_PER_ADDRESS = limiter.shared_limit(throttle.configured("LOGIN_ADDRESS_RATE_LIMIT"), "login-address",
                                    key_func=throttle.address_key, methods=["POST"], deduct_when=login_failed,
                                    exempt_when=from_known_device)


def limited(view):
    """The sign-in limits of a step of signing in (see the module's docstring)."""
    return _PER_ADDRESS(_PER_ACCOUNT(_PER_DEVICE(view)))


def remember_device(response, username: str) -> None:
    """After a full sign-in: this browser is a known device of this account."""
    throttle.remember_device(response, username, path=DEVICE_PATH)
