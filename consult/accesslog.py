"""Logs that never name a ballot link.

A household's link ``/b/<token>`` is its live credential: the token's SHA-256 leads to the
household (``ballot_token``), so an access log line with it, beside the time and the size of
the answer, says which household did what. Every log line this application writes, or that
gunicorn and Werkzeug's development server write for it, shows ``/b/…`` instead: the request
line, the referer (a page opened from the ballot page names the ballot page) and Flask's own
error messages. Other paths are kept as they are.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote

BALLOT_PATH = "/b/…"

# A ballot path where a path starts: at the start of the text, after a space or a quote (the
# request line, a quoted log field), or after a scheme and host (a full URL, the referer).
# Its spellings that reach the same view are included: repeated slashes and a percent-encoded
# "b". Everything after "/b/" up to a space or a quote goes (the token and any query).
_LINK = re.compile(r"((?:^|[\s\"'(\[])(?:[a-z][a-z0-9+.-]*://[^\s/\"']*)?)/+(?:b|%62)/+[^\s\"']+", re.I)


def redact(text: str) -> str:
    """``text`` with every ballot link's token replaced by "…"."""
    if "/" not in text:
        return text
    return _LINK.sub(lambda m: m.group(1) + BALLOT_PATH, text)


def is_ballot_path(path: str | None) -> bool:
    """Whether Werkzeug would route this path (PATH_INFO, already decoded) to a ballot link."""
    normal = re.sub(r"/{2,}", "/", unquote(path or ""))
    return normal.startswith("/b/") and len(normal) > 3


class BallotLinkFilter(logging.Filter):
    """Rewrites a record's message, its arguments merged in, without the ballot links' tokens."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a record that cannot be formatted is logged as it is
            return True
        safe = redact(message)
        if safe != message:
            record.msg, record.args = safe, ()
        return True


FILTER = BallotLinkFilter()


def protect_loggers(*loggers: logging.Logger) -> None:
    """Add the filter to each logger (once: ``addFilter`` skips a filter already there)."""
    for logger in loggers:
        logger.addFilter(FILTER)
