"""Search by words typed with or without diacritics.

Searchable rows keep a folded copy of their text (``textutil.fold``); a query
is folded the same way and every word must appear. Plain LIKE works the same on
SQLite and PostgreSQL, which is enough for a commune's volume of opinions.
"""

from __future__ import annotations

from sqlalchemy import and_

from consult.textutil import fold


def search_terms(query: str) -> list[str]:
    """'dan chu co so' and 'dân chủ ở cơ sở' give the same words."""
    return [w for w in fold(query).split(" ") if w][:12]


def like_all(column, terms: list[str]):
    escaped = [t.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for t in terms]
    return and_(*(column.like(f"%{t}%", escape="\\") for t in escaped))
