"""Rate limits' shared mechanics: count failures only, and know a browser that came before.

Many households share one address (a commune's Wi-Fi, a mobile operator's NAT), so a
limit per address alone lets one guesser lock everyone behind it out. Every limit of
consult therefore counts only failures (the limiter's ``deduct_when``, built here), and
counts them per account, per ballot token or per browser as well as per address. A
browser that has signed in to an account before carries a signed device cookie for it
(the "device cookie" defence of OWASP's authentication guidance), made and read here.

Each domain owns its limits' policy, which failures count, against what, under which
config key: sign-in in ``consult/auth/limits.py``, ballot links and typed codes in
``consult/polls/limits.py``, residents' public posts in ``consult/opinions/limits.py``.
This module imports none of them, nor any other domain.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from flask import current_app, request
from flask_limiter.util import get_remote_address
from itsdangerous import BadSignature, URLSafeTimedSerializer


DEVICE_COOKIE = "consult_device"
DEVICE_MAX_AGE = 180 * 24 * 3600

# The client's address (behind ProxyFix when configured): the key of every per-address limit.
address_key = get_remote_address


def configured(key: str) -> Callable[[], str]:
    """A limit read from the config at each request, so an instance (or a test) sets it."""
    return lambda: current_app.config[key]


def status_in(*statuses: int) -> Callable[[object], bool]:
    """``deduct_when``: count a response only when its status is one of ``statuses``."""
    return lambda response: response.status_code in statuses


def refused_post(*, answers: tuple[int, ...] = ()) -> Callable[[object], bool]:
    """``deduct_when``: count a POST that was refused (status 400 or more), except the
    limiter's own 429 and the statuses in ``answers``, which are answers, not failures."""
    return lambda response: (request.method == "POST" and response.status_code >= 400
                             and response.status_code != 429 and response.status_code not in answers)


def saved_post(response) -> bool:
    """``deduct_when``: count a POST that succeeded (for the limits on floods, not guesses)."""
    return request.method == "POST" and response.status_code < 400


# --- the device cookie -------------------------------------------------------------------------

def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="consult.device")


def normal_account(name: str | None) -> str:
    """An account's name as the counters key it (typed names differ in case and spaces)."""
    return (name or "").strip().lower()


def remember_device(response, account: str, *, path: str) -> None:
    """This browser is a known device of ``account``: a signed cookie, sent back only under ``path``."""
    value = _serializer().dumps({"u": normal_account(account), "n": secrets.token_urlsafe(12)})
    response.set_cookie(DEVICE_COOKIE, value, max_age=DEVICE_MAX_AGE, httponly=True, samesite="Lax",
                        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")), path=path)


def device_for(account: str) -> str | None:
    """The device's id when the request carries a valid device cookie for ``account``."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw or not account:
        return None
    try:
        data = _serializer().loads(raw, max_age=DEVICE_MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("u") != normal_account(account):
        return None
    return str(data.get("n") or "") or None
