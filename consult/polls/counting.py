"""Counting: turnout and results per group and choice, the law's thresholds of
all households (Luật Điều 21 khoản 1), and the outcome."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from consult.communes.models import ResidentialGroup
from consult.paging import Page, keyset_page
from consult.polls import rules
from consult.polls.models import (
    FORM_BALLOT,
    FORM_MEETING,
    PHASE_VOTE,
    STATUS_CLOSED,
    STATUS_DECIDED,
    Attendance,
    BallotBox,
    MeetingCount,
    Participation,
    Poll,
    PollChoice,
    PollHousehold,
)
from consult.polls.ballots import paper_counts, stubs_recorded
from consult.polls.meetings import attendance_by_group

def total_households(poll: Poll) -> int:
    """H: all households of the covered groups in the register snapshot (Điều 21 khoản 1)."""
    return poll.households_total


# --- tally and outcome ---------------------------------------------------------------------

@dataclass
class GroupTally:
    group: ResidentialGroup
    households: int
    participated: int
    counts: dict[int, int]
    agree: int
    passed: bool
    needed: int


@dataclass
class Tally:
    poll: Poll
    groups: list[GroupTally]
    choices: list[PollChoice]
    other_texts: list[str]
    passed: bool
    summary: str
    # False while an online vote's ballots are still encrypted (before the board counts).
    counted: bool = True
    # A vote between candidates or named options: who is elected / which option is chosen.
    election: bool = False
    elected: list[PollChoice] = field(default_factory=list)
    tied: list[PollChoice] = field(default_factory=list)

    @property
    def by_group(self) -> bool:
        """Each community of the vote decides for itself (see ``decided_by_group``)."""
        return decided_by_group(self.poll.matter_kind, self.poll.commune_wide, len(self.groups))

    @property
    def households(self) -> int:
        return sum(g.households for g in self.groups)

    @property
    def participated(self) -> int:
        return sum(g.participated for g in self.groups)

    def total(self, choice_id: int) -> int:
        return sum(g.counts.get(choice_id, 0) for g in self.groups)


def _agree_choice(poll: Poll) -> PollChoice | None:
    return next((c for c in poll.choices if c.kind == "agree"), None)


def is_choice_between(poll: Poll) -> bool:
    """A vote between candidates (an election, Điều 15 khoản 4, 5) or named options, not a yes/no question."""
    return bool(poll.choices) and _agree_choice(poll) is None


def _between(poll: Poll, groups: list[GroupTally]) -> tuple[bool, str, list[PollChoice], list[PollChoice]]:
    """Each candidate or option counted on its own against all households."""
    households = sum(g.households for g in groups)
    totals = [(c.id, sum(g.counts.get(c.id, 0) for g in groups)) for c in poll.choices]
    by_id = {c.id: c for c in poll.choices}
    seats = poll.seats or 1
    won, tied = rules.elected(totals, poll.matter_kind, households, seats)
    needed = rules.min_agree(poll.matter_kind, households)
    votes = dict(totals)
    election = poll.matter_kind in rules.ELECTION_KINDS
    if won:
        names = "; ".join(f"{by_id[c].label} ({votes[c]}/{households} hộ)" for c in won)
        head = "Trúng cử" if election else "Phương án được chọn"
        summary = f"{head}: {names}, cần ít nhất {needed}"
    else:
        summary = (f"Không {'ứng cử viên' if election else 'phương án'} nào đạt {rules.rule_text(poll.matter_kind)}"
                   f" (cần ít nhất {needed}/{households} hộ)")
    if election and len(won) < seats:
        summary += f"; còn {seats - len(won)}/{seats} chỗ chưa bầu được"
    if tied:
        summary += ("; bằng phiếu ở chỗ cuối: " + ", ".join(by_id[c].label for c in tied)
                    + " — phải biểu quyết lại chỗ này")
    return bool(won), summary, [by_id[c] for c in won], [by_id[c] for c in tied]


def decided_by_group(matter_kind: str, commune_wide: bool, groups: int) -> bool:
    """Whether each community of a vote decides for itself (Luật Điều 21 khoản 1): only a
    commune-wide khoản 1, 2 matter has a commune-wide rule (two thirds of the groups, each
    by its own households); any other vote of several groups binds each group by its own count."""
    return groups > 1 and not (commune_wide and matter_kind in rules.TWO_THIRDS_KINDS)


def tally_counts(matter_kind: str, commune_wide: bool, groups: list[tuple[ResidentialGroup, int, int, dict[int, int]]],
                 agree_id: int) -> tuple[list[GroupTally], bool, str]:
    """Apply the thresholds to counts: always of ALL households of each group (Điều 21 khoản 1).

    Returns the groups' tallies, whether the matter passed and the summary. Where each group
    decides for itself (``decided_by_group``), "passed" means it passed in at least one group,
    and the summary names each group's own result: 80/150 over three groups binds none of them."""
    results = []
    for group, households, participated, counts in groups:
        agree = counts.get(agree_id, 0)
        results.append(GroupTally(group, households, participated, counts, agree,
                                  rules.passes(matter_kind, households, agree),
                                  rules.min_agree(matter_kind, households)))
    if commune_wide and matter_kind in rules.TWO_THIRDS_KINDS:
        approving = sum(g.passed for g in results)
        passed = rules.commune_wide_passes(len(results), approving)
        needed = -(-2 * len(results) // 3)
        summary = (f"{approving}/{len(results)} khu dân cư tán thành, cần ít nhất {needed} "
                   f"(mỗi khu dân cư cần {rules.rule_text(matter_kind)} của khu đồng ý)")
        return results, passed, summary
    if decided_by_group(matter_kind, commune_wide, len(results)):
        summary = "; ".join(
            f"{g.group.full_name}: {'thông qua' if g.passed else 'không thông qua'} "
            f"({g.agree}/{g.households} hộ đồng ý, cần ít nhất {g.needed})" for g in results)
        return results, any(g.passed for g in results), "mỗi khu dân cư quyết định theo số hộ của khu — " + summary
    households = sum(g.households for g in results)
    agree = sum(g.agree for g in results)
    passed = rules.passes(matter_kind, households, agree)
    needed = rules.min_agree(matter_kind, households)
    summary = f"{agree}/{households} hộ đồng ý, cần ít nhất {needed}"
    return results, passed, summary


@dataclass(frozen=True)
class Counts:
    """What a vote's tally is made from, as read from the database: plain numbers and texts
    only, never an ORM object, so that ``final_tally`` may keep it across requests (an ORM
    object would belong to the session of the request that loaded it)."""
    per_group: tuple[tuple[int, tuple[tuple[int, int], ...]], ...]  # group id -> (choice id, count)
    participated: tuple[tuple[int, int], ...]  # group id -> households that took part
    other_texts: tuple[str, ...]
    # False while an online vote's ballots are still encrypted (before the board counts).
    counted: bool = True


def read_counts(session: Session, poll: Poll) -> Counts:
    """The counts recorded for the vote: a meeting's counts and attendance, the paper ballots'
    biên bản and stubs, or the online ballot box's sums and the households that voted."""
    phase = PHASE_VOTE
    per_group: dict[int, dict[int, int]] = {g.group_id: {} for g in poll.groups}
    participated: dict[int, int] = {g.group_id: 0 for g in poll.groups}
    texts: list[str] = []
    counted = True
    if poll.form == FORM_MEETING:
        # Each group's count apart (a meeting of several groups); a row without a group
        # (recorded before counts were kept per group) belongs to the vote's only group.
        only = poll.groups[0].group_id
        for row in session.scalars(select(MeetingCount).where(MeetingCount.poll_id == poll.id)):
            totals = per_group.setdefault(row.group_id or only, {})
            for key, value in row.counts.items():
                totals[int(key)] = totals.get(int(key), 0) + value
        participated.update(attendance_by_group(session, poll))
    elif poll.form == FORM_BALLOT:
        for row in paper_counts(session, poll):
            per_group[row.group_id] = {int(k): v for k, v in row.counts.items()}
            texts.extend(row.other_texts or [])
        participated.update(stubs_recorded(session, poll))
    else:
        # Known only once the board has counted (see close_poll); until then, turnout only.
        box = session.scalar(select(BallotBox).where(BallotBox.poll_id == poll.id, BallotBox.phase == phase))
        counted = box is not None
        for group_key, counts in ((box.counts if box else None) or {}).items():
            per_group.setdefault(int(group_key), {}).update({int(k): v for k, v in counts.items()})
        texts = list((box.other_texts if box else None) or [])
        participated.update(stubs_recorded(session, poll))
    return Counts(tuple((int(g), tuple((int(c), int(n)) for c, n in counts.items())) for g, counts in per_group.items()),
                  tuple((int(g), int(n)) for g, n in participated.items()), tuple(str(t) for t in texts), counted)


def tally(session: Session, poll: Poll) -> Tally:
    """Turnout and results per choice, per group and overall, and the outcome under the matter's rule."""
    return tally_of(poll, read_counts(session, poll))


def tally_of(poll: Poll, counts: Counts) -> Tally:
    """The tally of ``counts`` under the rule of ``poll`` (an object of the caller's session)."""
    per_group = {group_id: dict(by_choice) for group_id, by_choice in counts.per_group}
    participated = dict(counts.participated)
    texts, counted = list(counts.other_texts), counts.counted
    agree = _agree_choice(poll)
    inputs = [(g.group, g.households, participated.get(g.group_id, 0), per_group.get(g.group_id, {}))
              for g in poll.groups]
    groups, passed, summary = tally_counts(poll.matter_kind, poll.commune_wide, inputs, agree.id if agree else 0)
    if is_choice_between(poll) and decided_by_group(poll.matter_kind, poll.commune_wide, len(groups)):
        parts = [(g, _between(poll, [g])) for g in groups]
        summary = "mỗi khu dân cư quyết định theo số hộ của khu — " + "; ".join(
            f"{g.group.full_name}: {r[1]}" for g, r in parts)
        for g, r in parts:
            g.passed = r[0]
        won = [c for _, r in parts for c in r[2]]
        tied = [c for _, r in parts for c in r[3]]
        return Tally(poll, groups, list(poll.choices), sorted(texts), any(r[0] for _, r in parts), summary, counted,
                     True, list(dict.fromkeys(won)), list(dict.fromkeys(tied)))
    if is_choice_between(poll):
        passed, summary, won, tied = _between(poll, groups)
        return Tally(poll, groups, list(poll.choices), sorted(texts), passed, summary, counted, True, won, tied)
    return Tally(poll, groups, list(poll.choices), sorted(texts), passed, summary, counted)


# The counts of ended votes, kept by this process: plain data (``Counts``), never the tally,
# whose poll, groups and choices are ORM objects of the request that made it.
_ended_counts: OrderedDict[tuple, Counts] = OrderedDict()
_ended_lock = threading.Lock()
_ENDED_KEPT = 64


def final_tally(session: Session, poll: Poll) -> Tally:
    """The tally of a vote that has ended, its counts read once per process: they never
    change (the public results page asks for them on every visit). Keyed by the database,
    the vote and the instant it was decided; an open vote is counted afresh. The tally
    itself is made each time around the caller's own ``poll``."""
    if poll.status not in (STATUS_CLOSED, STATUS_DECIDED) or poll.decided_at is None:
        return tally(session, poll)
    key = (str(session.get_bind().url), poll.id, poll.status, poll.decided_at, poll.outcome_text)
    with _ended_lock:
        counts = _ended_counts.get(key)
        if counts is not None:
            _ended_counts.move_to_end(key)
    if counts is None:
        counts = read_counts(session, poll)
        with _ended_lock:
            _ended_counts[key] = counts
            while len(_ended_counts) > _ENDED_KEPT:
                _ended_counts.popitem(last=False)
    return tally_of(poll, counts)


def _participants(poll: Poll):
    if poll.form == FORM_MEETING:
        return select(PollHousehold).join(Attendance, Attendance.poll_household_id == PollHousehold.id).where(
            Attendance.poll_id == poll.id, PollHousehold.poll_id == poll.id)
    # Walk the vote's households in the order of their code (index poll_id, code) and keep
    # those with a mark: a page stops after its rows instead of sorting every participant.
    marked = select(Participation.poll_household_id).where(
        Participation.poll_id == poll.id, Participation.phase == PHASE_VOTE,
        Participation.poll_household_id == PollHousehold.id).exists()
    return select(PollHousehold).where(PollHousehold.poll_id == poll.id, marked)


def participants(session: Session, poll: Poll) -> list[PollHousehold]:
    """The households that took part (present at the meeting, or having voted), in the order
    of their code; never with their choice."""
    return list(session.scalars(_participants(poll).order_by(PollHousehold.code)))


def participants_page(session: Session, poll: Poll, *, after: str | None = None, before: str | None = None,
                      size: int = 200) -> Page[PollHousehold]:
    """A page of the households that took part, after (or before) a household's code: a
    range of the index (poll_id, code) at any size of vote, never an OFFSET."""
    return keyset_page(session, _participants(poll), [PollHousehold.code], lambda h: (h.code,), size=size,
                       after=(after,) if after else None, before=(before,) if before else None)
