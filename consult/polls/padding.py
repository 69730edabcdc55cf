"""Ballot pages of one size whatever the household chose.

Under TLS an onlooker on the network still sees how long every answer is. The review page
repeats the chosen label and the "ý kiến khác", and carries the choice's id: "Đồng ý" and
"Không đồng ý", choice 9 and choice 10, an empty text and a long one would each give another
length. So the parts of a page that depend on the choice are rendered on their own (the
fragments), and the page gets an HTML comment before ``</body>`` that makes them as long as
the longest they can be for this vote: every choice, with the longest text once escaped. The
rest of the page (the household, its group, the vote) does not depend on the choice.
"""

from __future__ import annotations

from collections.abc import Iterable

# The character that grows most when escaped for HTML: '"' becomes "&#34;", five bytes (as do
# "&" and "'"; "<" and ">" take four, as does a 4-byte UTF-8 character).
WIDEST_CHARACTER = '"'


def longest_text(limit: int) -> str:
    """A text of ``limit`` characters whose escaped form is as long as any such text's."""
    return WIDEST_CHARACTER * limit


def size(fragments: Iterable[str]) -> int:
    """The bytes the fragments take in a page (UTF-8, as the page is sent)."""
    return sum(len(str(f).encode("utf-8")) for f in fragments)


def pad(page: str, fragments: Iterable[str], room: int) -> str:
    """``page``, which holds each fragment once, padded as if its fragments took ``room``
    bytes: every page of the same vote, step and household then has one length. The comment
    is always there (at least ``<!---->``), so no length is too close to pad."""
    filler = "<!--" + " " * max(0, room - size(fragments)) + "-->"
    at = page.rfind("</body>")
    return page[:at] + filler + page[at:] if at >= 0 else page + filler
