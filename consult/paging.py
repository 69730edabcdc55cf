"""Keyset paging: a long list a page at a time, each page found from the key of the row
before it (``after``) or after it (``before``), never by counting rows from the start.

A page costs one index range scan of ``size + 1`` rows at any length of the list (an
``OFFSET`` reads and throws away every row before the page: page 400 of a 100,000-ballot
bulletin read 80,000 rows). Pages have no numbers: a list is walked with "first",
"previous" and "next" links, and a row is found by searching for it (a receipt, a code).
No flask here: the views turn a ``Page`` into links (``templates/_pager.html``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Generic, Iterable, Mapping, Sequence, TypeVar

from sqlalchemy import Select, tuple_
from sqlalchemy.orm import Session

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its rows, the key to ask for the rows after it (None at the end),
    the key to ask for the rows before it (None on the first page)."""

    rows: list[T]
    next_key: Any = None
    prev_key: Any = None
    first: bool = True

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def _beyond(columns: Sequence, key: tuple, forward: bool, inclusive: bool = False):
    """``columns > key`` (or ``<``, ``>=``, ``<=``): a row comparison the index walks."""
    left = columns[0] if len(columns) == 1 else tuple_(*columns)
    right = key[0] if len(columns) == 1 else tuple_(*key)
    if forward:
        return left >= right if inclusive else left > right
    return left <= right if inclusive else left < right


def keyset_page(session: Session, stmt: Select, columns: Sequence, key: Callable[[Any], tuple], *, size: int,
                after: tuple | None = None, before: tuple | None = None, at: tuple | None = None,
                descending: bool = False, scalars: bool = True, cursor: Callable[[Any], Any] | None = None) -> Page:
    """The page of ``stmt`` in the order of ``columns`` (unique together; an index on them
    makes each page a range scan) after the row whose key is ``after``, before ``before``,
    or starting at ``at`` (a row found by a search); the first page without any.
    ``key(row)`` gives a row's key as a tuple of the columns' values; ``cursor(row)`` what
    the links carry for it (the key's one value by default; an id for a key of several columns)."""
    run = session.scalars if scalars else session.execute
    cursor = cursor or (lambda row: key(row)[0])

    def made(rows: list, nxt, prev, first: bool) -> Page:
        return Page(rows, cursor(nxt) if nxt is not None else None, cursor(prev) if prev is not None else None, first)

    def fetch(bound: tuple | None, forward: bool, inclusive: bool = False) -> list:
        query = stmt
        if bound is not None:
            query = query.where(_beyond(columns, bound, forward != descending, inclusive))
        ascending = forward != descending
        order = [c.asc() if ascending else c.desc() for c in columns]
        return list(run(query.order_by(None).order_by(*order).limit(size + 1)))

    if before is not None:
        rows = fetch(before, False)
        if len(rows) > size:  # rows remain before this page
            rows = rows[:size][::-1]
            return made(rows, rows[-1], rows[0], False)
        before = None  # close to the start: the (full) first page instead
        after = at = None
    start = at if at is not None else after
    rows = fetch(start, True, inclusive=at is not None)
    more = len(rows) > size
    rows = rows[:size]
    nxt = rows[-1] if more else None
    if start is None:
        return made(rows, nxt, None, True)
    if not rows:
        # Past the end (the rows after the key were removed): the last page instead.
        rows = fetch(None, False)
        more, rows = len(rows) > size, rows[:size][::-1]
        return made(rows, None, rows[0] if more else None, not more)
    if at is not None:
        # The row found begins the page; is there anything before it?
        earlier = fetch(key(rows[0]), False)
        return made(rows, nxt, rows[0] if earlier else None, not earlier)
    return made(rows, nxt, rows[0], False)


def slice_page(items: Sequence[T], *, start: int, size: int) -> Page[T]:
    """A page of a list already in memory, in its (stable) order, from index ``start``:
    its keys are indexes (``next_key`` where the next page starts, ``prev_key`` where the
    previous one does)."""
    start = max(0, min(start, max(len(items) - 1, 0)))
    rows = list(items[start:start + size])
    return Page(rows, start + size if start + size < len(items) else None,
                max(0, start - size) if start > 0 else None, start == 0)


def int_key(args: Mapping[str, str], name: str) -> int | None:
    """A whole-number key from the query (an id, a number), None unless it fits an INTEGER
    column (a larger one fails the query on PostgreSQL)."""
    value = args.get(name, "")
    return int(value) if value.isdigit() and 0 < int(value) < 2 ** 31 else None


def carried(args: Mapping[str, str], names: Iterable[str], *, drop: Iterable[str] = ()) -> dict[str, str]:
    """The query arguments among ``names`` to keep in a list's links (the filters, the
    other lists' places on the same page), without ``drop`` (this list's own keys)."""
    dropped = set(drop)
    return {n: args[n] for n in names if n not in dropped and args.get(n)}
