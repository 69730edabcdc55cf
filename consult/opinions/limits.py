"""Residents' public posts' limits: every household behind one address may speak, no browser may flood.

A resident's public post is an opinion in the law's sense, whichever page takes it: a
comment on a draft (here) or on a hương ước (``covenants``), a proposal or a support of
one (``proposals``); those blueprints decorate their posts with ``public_post_limits``.

A refused post (a form with a mistake, a closed draft) counts per address
(``PUBLIC_POST_RATE_LIMIT``); a post that is saved counts per browser
(``PUBLIC_POST_DEVICE_LIMIT``, its session) and, far more loosely, per address
(``PUBLIC_POST_ADDRESS_LIMIT``), so that two dozen residents behind one address (a
commune's Wi-Fi, a mobile operator's NAT) each post, while one browser, or one address
looping, cannot flood a draft. The same text twice on the same draft is refused by the
services themselves.
"""

from __future__ import annotations

import secrets

from flask import session

from consult import throttle
from consult.extensions import limiter

public_post_failed = throttle.refused_post()
public_post_saved = throttle.saved_post


def public_device_key() -> str:
    """The resident's browser: its session (the form's CSRF token lives there too, so a post
    without the session is refused anyway)."""
    device = session.get("device")
    if not device:
        device = session["device"] = secrets.token_urlsafe(12)
    return "public-device:" + device


_FAILURES = limiter.limit(throttle.configured("PUBLIC_POST_RATE_LIMIT"), key_func=throttle.address_key,
                          methods=["POST"], deduct_when=public_post_failed, scope="public-post-failed")
_PER_DEVICE = limiter.limit(throttle.configured("PUBLIC_POST_DEVICE_LIMIT"), key_func=public_device_key,
                            methods=["POST"], deduct_when=public_post_saved, scope="public-post-device")
_PER_ADDRESS = limiter.limit(throttle.configured("PUBLIC_POST_ADDRESS_LIMIT"), key_func=throttle.address_key,
                             methods=["POST"], deduct_when=public_post_saved, scope="public-post-address")


def public_post_limits(view):
    """The three limits of a residents' public post (see the module's docstring)."""
    return _FAILURES(_PER_DEVICE(_PER_ADDRESS(view)))
