"""The published report on the commune's public pages (Luật Điều 28 khoản 3): light at any size.

A published report never changes (no response can be changed once the results are
public, ``reports.service._check_open``), so its rows are computed once per process
and kept, keyed by the consultation and the instant its results were published;
each page shows ``PAGE_SIZE`` rows, and a search narrows them down.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy.orm import Session

from consult.consultations.models import Consultation
from consult.reports import service
from consult.textutil import fold

PAGE_SIZE = 50
_CACHED = 32


@dataclass(frozen=True)
class PublicRow:
    number: int
    label: str
    text: str
    count: int
    senders: str
    response: str
    folded: str  # what a search matches


@dataclass(frozen=True)
class PublicReport:
    subject: str
    date_line: str
    number: str | None
    opening: tuple[str, ...]
    closing: str
    rows: tuple[PublicRow, ...]


_cache: OrderedDict[tuple, PublicReport] = OrderedDict()
_lock = threading.Lock()


def public_report(session: Session, consultation: Consultation) -> PublicReport:
    key = (consultation.id, consultation.results_published_at)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    data = service.report_data(session, consultation, public=True)
    rows, number = [], 0
    for section in data.sections:
        for row in section.rows:
            number += 1
            senders = ("" if row.count <= 1 else f"{row.count} ý kiến: ") + "; ".join(row.senders)
            rows.append(PublicRow(number, section.label, row.text, row.count, senders, row.response,
                                  fold(" ".join((section.label, row.text, senders, row.response)))))
    report = PublicReport(service.report_subject(consultation), service.report_date_line(data), data.settings.number,
                          tuple(service.opening_paragraphs(data)), service.closing_paragraph(data), tuple(rows))
    with _lock:
        _cache[key] = report
        while len(_cache) > _CACHED:
            _cache.popitem(last=False)
    return report


@dataclass
class Page:
    rows: list[PublicRow]
    number: int
    pages: int
    matching: int


def page_of(report: PublicReport, page: int, query: str = "", *, everything: bool = False) -> Page:
    """One page of the table (or, for printing, every row on one page)."""
    words = fold(query).split()
    rows = [r for r in report.rows if all(w in r.folded for w in words)] if words else list(report.rows)
    if everything:
        return Page(rows, 1, 1, len(rows))
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(max(1, page), pages)
    return Page(rows[(page - 1) * PAGE_SIZE:page * PAGE_SIZE], page, pages, len(rows))
