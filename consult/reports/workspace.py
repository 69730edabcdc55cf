"""The officer's synthesis workspace a page at a time (issue 24): light at any size.

A consultation may hold 50,000 opinions; the page that answers them shows ``PAGE_SIZE``
groups (a group of identical opinions is one row with its count, answered once for all its
members, ``service.decide``), filtered in the database by part, by state, by sender and by
words, and continued by key: the next page starts after the last row's (part's place in the
draft, group id), a range of an index (migration 0019), never an OFFSET that reads every row
before it. A group's members are shown a few at a time beside it and in full on their own
pages, by key too. The counts come from one aggregate over the indexes.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import exists, func, select, tuple_
from sqlalchemy.orm import Session

from consult.communes.models import ResidentialGroup, Unit
from consult.consultations.models import Consultation, DraftPart
from consult.opinions.models import AUTHOR_RESIDENT, Opinion
from consult.reports.models import DECISIONS, ClusterMember, OpinionCluster
from consult.reports.service import ClusterView, period_is_over, sender_label, sync_new_opinions
from consult.textsearch import words_condition
from consult.timeutil import utcnow

PAGE_SIZE = 50  # groups on a page
PREVIEW = 3  # members of a group shown beside it; the rest on the group's own pages
TEXT_SHOWN = 400  # characters of an opinion shown on the workspace; the whole text on its group's pages
MEMBERS_PAGE_SIZE = 50

STATE_UNDECIDED = "undecided"
STATES = {"": "Mọi trạng thái", STATE_UNDECIDED: "Chưa trả lời", **DECISIONS}
GENERAL = 0  # the part filter's value for opinions on the whole draft
RESIDENTS = 0  # the sender filter's value for residents (any other value is a unit's id)

_AFTER = re.compile(r"^(-?\d{1,9})\.(\d{1,18})$")


@dataclass(frozen=True)
class Filters:
    """What the officer narrowed the workspace to; empty is everything."""

    part: int | None = None  # a part's id, GENERAL, or None for every part
    state: str = ""
    unit: int | None = None  # a unit's id, RESIDENTS, or None for every sender
    q: str = ""

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> Filters:
        """From a query string; anything unreadable is no filter."""
        def number(name: str) -> int | None:
            value = (args.get(name) or "").strip()
            return int(value) if value.isdigit() and len(value) < 12 else None

        state = args.get("state") or ""
        return cls(number("part"), state if state in STATES else "", number("unit"), (args.get("q") or "").strip()[:200])

    @property
    def args(self) -> dict[str, str]:
        """The filters as query arguments, for links and redirects that keep them."""
        found = {"part": self.part, "state": self.state, "unit": self.unit, "q": self.q}
        return {k: str(v) for k, v in found.items() if v not in (None, "")}

    @property
    def active(self) -> bool:
        return bool(self.args)


def parse_after(value: str | None) -> tuple[int, int] | None:
    """The cursor of a next page: '<part position>.<group id>' of the last row before it."""
    match = _AFTER.match(value or "")
    return (int(match[1]), int(match[2])) if match else None


@dataclass
class Member:
    id: int
    text: str
    channel: str
    sender: str


@dataclass
class GroupRow:
    cluster: ClusterView
    part: DraftPart | None
    count: int
    members: list[Member]  # the first PREVIEW, or a page of them on the group's page

    @property
    def text(self) -> str:
        return self.members[0].text if self.members else ""

    @property
    def label(self) -> str:
        return self.part.label if self.part else "Góp ý chung về dự thảo"

    @property
    def more(self) -> int:
        return self.count - len(self.members)

    @property
    def cut(self) -> bool:
        """Whether the workspace shows a shortened text of the group (its own pages show each whole)."""
        return len(self.text) > TEXT_SHOWN or any(len(m.text) > TEXT_SHOWN // 2 for m in self.members[1:])


@dataclass
class Counts:
    by_decision: dict[str, int]
    undecided: int
    period_over: bool = True  # the comment period has ended (ReportData.period_over)

    @property
    def total(self) -> int:
        return self.undecided + sum(self.by_decision.values())

    @property
    def final(self) -> bool:
        return self.undecided == 0 and self.period_over


@dataclass
class Page:
    counts: Counts
    rows: list[GroupRow]
    filters: Filters
    after: tuple[int, int] | None
    next_after: str | None  # the cursor of the next page, or None on the last
    parts: list[tuple[int, str]]  # (id, label) in the draft's order, for the part filter
    units: list[tuple[int, str]] = field(default_factory=list)

    @property
    def final(self) -> bool:
        return self.counts.final

    @property
    def total_opinions(self) -> int:
        return self.counts.total

    @property
    def undecided(self) -> int:
        return self.counts.undecided

    @property
    def args(self) -> dict[str, str]:
        """This page's own query arguments: where an answer given on it comes back to."""
        args = self.filters.args
        if self.after:
            args["after"] = f"{self.after[0]}.{self.after[1]}"
        return args

    @property
    def members_args(self) -> dict[str, str]:
        """A group's pages of members keep the way back to this page."""
        args = self.filters.args
        if self.after:
            args["from"] = f"{self.after[0]}.{self.after[1]}"
        return args


def counts(session: Session, consultation: Consultation, *, now: datetime | None = None) -> Counts:
    """How many opinions each decision covers and how many wait for one: a sum of the group
    sizes the database keeps (``OpinionCluster.member_count``), read from one index."""
    by_decision = {key: 0 for key in DECISIONS}
    undecided = 0
    for decision, n in session.execute(
            select(OpinionCluster.decision, func.sum(OpinionCluster.member_count))
            .where(OpinionCluster.consultation_id == consultation.id)
            .group_by(OpinionCluster.decision)):
        if decision in by_decision:
            by_decision[decision] += n or 0
        else:
            undecided += n or 0
    return Counts(by_decision, undecided, period_is_over(consultation, now or utcnow()))


def _senders(session: Session, consultation: Consultation) -> tuple[dict[int, str], dict[int, str]]:
    groups = dict(session.execute(select(ResidentialGroup.id, ResidentialGroup.name).where(
        ResidentialGroup.commune_id == consultation.commune_id)).all())
    units = dict(session.execute(select(Unit.id, Unit.name).where(Unit.commune_id == consultation.commune_id)
                                 .order_by(Unit.name)).all())
    return groups, units


def _members_matching(filters: Filters):
    """A group is shown when one of its opinions is from the sender and has the words."""
    conditions = []
    if filters.unit is not None:
        conditions.append(Opinion.author_kind == AUTHOR_RESIDENT if filters.unit == RESIDENTS
                          else Opinion.unit_id == filters.unit)
    words = words_condition(Opinion.search_text, filters.q)
    if words is not None:
        conditions.append(words)
    if not conditions:
        return None
    return exists().where(ClusterMember.cluster_id == OpinionCluster.id, Opinion.id == ClusterMember.opinion_id,
                          *conditions)


def page(session: Session, consultation: Consultation, filters: Filters = Filters(),
         after: tuple[int, int] | None = None, *, size: int | None = None) -> Page:
    """One page of the workspace: groups in the draft's order (the whole draft first), with
    ``filters`` applied, starting after the ``after`` cursor; new opinions are grouped first."""
    size = size or PAGE_SIZE
    tally = counts(session, consultation)
    if sync_new_opinions(session, consultation, placed=tally.total):
        tally = counts(session, consultation)
    parts = {p.id: p for p in session.scalars(
        select(DraftPart).where(DraftPart.consultation_id == consultation.id).order_by(DraftPart.position))}
    oc = OpinionCluster
    stmt = (select(oc.id, oc.part_id, oc.decision, oc.explanation, oc.revised_text, oc.decided_by, oc.part_position)
            .where(oc.consultation_id == consultation.id))
    if filters.part is not None:
        part = parts.get(filters.part)
        # Equal positions make the page a prefix range of the index, wherever the part sits.
        position = -1 if part is None else part.position
        stmt = stmt.where(oc.part_position == position,
                          oc.part_id.is_(None) if part is None else oc.part_id == part.id)
    if filters.state == STATE_UNDECIDED:
        stmt = stmt.where(oc.decision.is_(None))
    elif filters.state:
        stmt = stmt.where(oc.decision == filters.state)
    matching = _members_matching(filters)
    if matching is not None:
        stmt = stmt.where(matching)
    if after is not None:
        stmt = stmt.where(tuple_(oc.part_position, oc.id) > tuple_(*after))
    found = session.execute(stmt.order_by(oc.part_position, oc.id).limit(size + 1)).all()
    more = len(found) > size
    found = found[:size]
    groups, units = _senders(session, consultation)
    previews, sizes = _previews(session, [r.id for r in found], groups, units)
    rows = [GroupRow(ClusterView(*r[:6]), parts.get(r.part_id), sizes.get(r.id, 0), previews.get(r.id, []))
            for r in found]
    next_after = f"{found[-1].part_position}.{found[-1].id}" if more else None
    return Page(tally, rows, filters, after, next_after, [(p.id, p.label) for p in parts.values()],
                sorted(units.items(), key=lambda u: u[1]))


def _previews(session: Session, cluster_ids: list[int], groups: dict[int, str],
              units: dict[int, str]) -> tuple[dict[int, list[Member]], dict[int, int]]:
    """The first PREVIEW members of each group and each group's size, in one statement:
    the numbering reads only the member index; opinions are read for the few shown."""
    if not cluster_ids:
        return {}, {}
    cm = ClusterMember
    ranked = (select(cm.cluster_id, cm.opinion_id,
                     func.row_number().over(partition_by=cm.cluster_id, order_by=cm.opinion_id).label("rn"),
                     func.count().over(partition_by=cm.cluster_id).label("n"))
              .where(cm.cluster_id.in_(cluster_ids)).subquery())
    previews: dict[int, list[Member]] = defaultdict(list)
    sizes: dict[int, int] = {}
    for row in session.execute(
            select(ranked.c.cluster_id, ranked.c.n, Opinion.id, Opinion.text, Opinion.channel, Opinion.author_kind,
                   Opinion.unit_id, Opinion.resident_name, Opinion.resident_group_id)
            .join(Opinion, Opinion.id == ranked.c.opinion_id)
            .where(ranked.c.rn <= PREVIEW).order_by(ranked.c.cluster_id, Opinion.id)):
        sizes[row.cluster_id] = row.n
        previews[row.cluster_id].append(Member(row.id, row.text, row.channel, sender_label(row, groups, units)))
    return previews, sizes


@dataclass
class MembersPage:
    row: GroupRow  # the group, with this page of its members
    after: int | None
    next_after: int | None


def members_page(session: Session, consultation: Consultation, cluster_id: int, after: int | None = None, *,
                 size: int | None = None) -> MembersPage | None:
    """One page of a group's members in the order they came in (by key on the opinion's id);
    None when the group is not of this consultation."""
    size = size or MEMBERS_PAGE_SIZE
    oc = OpinionCluster
    head = session.execute(
        select(oc.id, oc.part_id, oc.decision, oc.explanation, oc.revised_text, oc.decided_by)
        .where(oc.id == cluster_id, oc.consultation_id == consultation.id)).first()
    if head is None:
        return None
    total = session.scalar(select(func.count()).select_from(ClusterMember)
                           .where(ClusterMember.cluster_id == cluster_id)) or 0
    stmt = (select(Opinion.id, Opinion.text, Opinion.channel, Opinion.author_kind, Opinion.unit_id,
                   Opinion.resident_name, Opinion.resident_group_id)
            .join(ClusterMember, ClusterMember.opinion_id == Opinion.id)
            .where(ClusterMember.cluster_id == cluster_id))
    if after is not None:
        stmt = stmt.where(ClusterMember.opinion_id > after)
    found = session.execute(stmt.order_by(ClusterMember.opinion_id).limit(size + 1)).all()
    more = len(found) > size
    found = found[:size]
    groups, units = _senders(session, consultation)
    members = [Member(r.id, r.text, r.channel, sender_label(r, groups, units)) for r in found]
    part = session.get(DraftPart, head.part_id) if head.part_id else None
    return MembersPage(GroupRow(ClusterView(*head), part, total, members), after,
                       found[-1].id if more else None)
