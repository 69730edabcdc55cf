"""Ballot links' and typed codes' limits: slow a guesser down, never a household.

A wrong link or code (404, 410) counts per address (``TOKEN_RATE_LIMIT``); a real one is
never refused for its address, and its own failed posts count per token
(``TOKEN_FAILURE_RATE_LIMIT``). A real link is 192 random bits and a code about 50, so
being told that a guess hit is worth nothing to a guesser. The link and the typed code
share the counters.

The limits only read the request's ballot token: the polls blueprint looks it up once,
before the limits are checked, and keeps it in ``g.ballot_token`` (``polls.views``).
"""

from __future__ import annotations

from flask import g

from consult import throttle
from consult.extensions import limiter


def _known_token() -> bool:
    """exempt_when of the per-address limit: a real token or code is never refused for its address."""
    return g.get("ballot_token") is not None


def _unknown_token() -> bool:
    return not _known_token()


def token_key() -> str:
    return f"token:{getattr(g.get('ballot_token'), 'id', '')}"


guess_failed = throttle.status_in(404, 410)
# A refused post on a real ballot (a bad form, a choice not of the vote); "already voted"
# (409) and "vote closed" (410) are answers, not failures.
token_post_failed = throttle.refused_post(answers=(409, 410))

_PER_TOKEN = limiter.shared_limit(throttle.configured("TOKEN_FAILURE_RATE_LIMIT"), "ballot-token",
                                  key_func=token_key, methods=["POST"], deduct_when=token_post_failed,
                                  exempt_when=_unknown_token)


def ballot_limits(methods: list[str] | None):
    """The limits of a ballot page: guesses per address (on ``methods``; None: all), failed
    posts per token."""
    per_address = limiter.shared_limit(throttle.configured("TOKEN_RATE_LIMIT"), "ballot-guess",
                                       key_func=throttle.address_key, methods=methods, deduct_when=guess_failed,
                                       exempt_when=_known_token)
    return lambda view: per_address(_PER_TOKEN(view))
