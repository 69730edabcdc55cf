"""Search by words typed with or without diacritics.

Searchable rows keep a folded copy of their text (``search_blob``): lower case,
no diacritics, punctuation turned into spaces, with a space at each end. A
query is folded the same way and each of its words must appear as a whole
word ("dan chu co so" finds "dân chủ ở cơ sở"; "chu" does not find "tổ
chức"). Plain LIKE works the same on SQLite and PostgreSQL, which is enough for
a commune's volume of drafts and opinions.
"""

from __future__ import annotations

import re

from sqlalchemy import and_

from consult.textutil import fold


def _words(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", fold(text)).strip()


def search_blob(text: str) -> str:
    return f" {_words(text)} "


def search_words(query: str) -> list[str]:
    """The folded words of a query (at most 20)."""
    return [w for w in _words(query).split(" ") if w][:20]


def words_condition(column, query: str):
    """Every word of the query as a whole word of ``column``; None for an empty query."""
    words = search_words(query)
    return and_(*(column.like(f"% {w} %") for w in words)) if words else None
