"""Rate limits that slow guessing down without locking a village out.

Many households share one address (a commune's Wi-Fi, a mobile operator's NAT),
so a limit per address alone lets one guesser lock everyone behind it out. Each
limit here therefore counts only failures, and counts them per account, per
ballot token and per known device as well as per address:

* Login, second factor and enrolment: failures count per account
  (``LOGIN_RATE_LIMIT``) and per address (``LOGIN_ADDRESS_RATE_LIMIT``). A browser
  that has signed in to an account before carries a signed device cookie for it
  (the "device cookie" defence of OWASP's authentication guidance); its attempts
  on that account skip both limits and are counted per device instead, so
  neither a guesser on the same address nor one hammering the account locks its
  owner out.
* Residents' public posts (comments on a draft or a hương ước, proposals, supports): a
  refused post counts per address (``PUBLIC_POST_RATE_LIMIT``); a post that is saved counts
  per browser (``PUBLIC_POST_DEVICE_LIMIT``, its session) and, far more loosely, per address
  (``PUBLIC_POST_ADDRESS_LIMIT``), so that two dozen residents behind one address each post,
  while one browser, or one address looping, cannot flood a draft. The same text twice on the
  same draft is refused by the services themselves.
* Ballot links and typed codes: a wrong token or code counts per address
  (``TOKEN_RATE_LIMIT``); a real one is never refused for its address, and its own
  failed posts count per token. A real link is 192 random bits and a code about
  50, so being told that a guess hit is worth nothing to a guesser.
"""

from __future__ import annotations

import hashlib
import secrets

from flask import current_app, g, request, session
from flask_limiter.util import get_remote_address
from itsdangerous import BadSignature, URLSafeTimedSerializer


DEVICE_COOKIE = "consult_device"
DEVICE_MAX_AGE = 180 * 24 * 3600


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="consult.device")


def _account(username: str | None) -> str:
    return (username or "").strip().lower()


def remember_device(response, username: str) -> None:
    """After a full sign-in: this browser is a known device of this account."""
    value = _serializer().dumps({"u": _account(username), "n": secrets.token_urlsafe(12)})
    response.set_cookie(DEVICE_COOKIE, value, max_age=DEVICE_MAX_AGE, httponly=True, samesite="Lax",
                        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")), path="/auth/")


def _device_for(username: str) -> str | None:
    """The device's id when the request carries a valid device cookie for ``username``."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw or not username:
        return None
    try:
        data = _serializer().loads(raw, max_age=DEVICE_MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("u") != _account(username):
        return None
    return str(data.get("n") or "") or None


# --- sign-in ---------------------------------------------------------------------------------

def _attempted_account() -> str:
    """The account a sign-in request is about: the username typed, or the one waiting
    for its second factor."""
    if "login_account" not in g:
        name = request.form.get("username", "")
        pending = session.get("pending_user")
        if not name and pending:
            from consult.auth import service
            from consult.db import db_session

            user = service.load_user(db_session(), pending.get("key", ""))
            name = user.username if user else ""
        g.login_account = _account(name)
    return g.login_account


def login_from_known_device() -> bool:
    return _device_for(_attempted_account()) is not None


def login_from_unknown_device() -> bool:
    return not login_from_known_device()


def account_key() -> str:
    return "account:" + hashlib.sha256(_attempted_account().encode()).hexdigest()[:32]


def device_key() -> str:
    return "device:" + (_device_for(_attempted_account()) or "")


def account_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def per_device_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def address_login_limit() -> str:
    return current_app.config["LOGIN_ADDRESS_RATE_LIMIT"]


def login_failed(response) -> bool:
    return response.status_code == 401


# --- ballots ---------------------------------------------------------------------------------

def ballot_token(lookup) -> object | None:
    """The live ballot token of this request (the link's token or the typed code),
    looked up once per request with ``lookup(token=..., code=...)``; None when there is none."""
    if "ballot_token" not in g:
        token = (request.view_args or {}).get("token")
        code = request.form.get("code") if request.method == "POST" and not token else None
        row, g.ballot_error = None, None
        if token or code:
            try:
                row = lookup(token=token, code=code)
            except ValueError as exc:
                g.ballot_error = str(exc)
        g.ballot_token = row
    return g.ballot_token


def known_ballot_token(lookup):
    """exempt_when for the per-address limit: a real token or code is never refused for its address."""
    return lambda: ballot_token(lookup) is not None


def unknown_ballot_token(lookup):
    return lambda: ballot_token(lookup) is None


def token_key() -> str:
    row = g.get("ballot_token")
    return f"token:{getattr(row, 'id', '')}"


def token_limit() -> str:
    return current_app.config["TOKEN_RATE_LIMIT"]


def per_token_limit() -> str:
    return current_app.config["TOKEN_FAILURE_RATE_LIMIT"]


def guess_failed(response) -> bool:
    return response.status_code in (404, 410)


def token_post_failed(response) -> bool:
    """A refused post on a real ballot (a bad form, a choice not of the vote); "already
    voted" (409) and "vote closed" (410) are answers, not failures."""
    return request.method == "POST" and response.status_code >= 400 and response.status_code not in (409, 410, 429)


address_key = get_remote_address


# --- residents' public posts -------------------------------------------------------------------

def public_post_failed(response) -> bool:
    """A post refused (a form with a mistake, a closed draft): counted per address."""
    return request.method == "POST" and 400 <= response.status_code != 429


def public_post_saved(response) -> bool:
    return request.method == "POST" and response.status_code < 400


def public_device_key() -> str:
    """The resident's browser: its session (the form's CSRF token lives there too, so a post
    without the session is refused anyway)."""
    device = session.get("device")
    if not device:
        device = session["device"] = secrets.token_urlsafe(12)
    return "public-device:" + device


def public_failure_limit() -> str:
    return current_app.config["PUBLIC_POST_RATE_LIMIT"]


def public_device_limit() -> str:
    return current_app.config["PUBLIC_POST_DEVICE_LIMIT"]


def public_address_limit() -> str:
    return current_app.config["PUBLIC_POST_ADDRESS_LIMIT"]


def public_post_limits(view):
    """The three limits of a residents' public post (see the module's docstring)."""
    from consult.extensions import limiter

    failures = limiter.limit(public_failure_limit, key_func=get_remote_address, methods=["POST"],
                             deduct_when=public_post_failed, scope="public-post-failed")
    per_device = limiter.limit(public_device_limit, key_func=public_device_key, methods=["POST"],
                               deduct_when=public_post_saved, scope="public-post-device")
    per_address = limiter.limit(public_address_limit, key_func=get_remote_address, methods=["POST"],
                                deduct_when=public_post_saved, scope="public-post-address")
    return failures(per_device(per_address(view)))
