"""Counting: turnout and results per group and choice, the law's thresholds of
all households (Luật Điều 21 khoản 1), and the outcome."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from consult.communes.models import ResidentialGroup
from consult.polls import rules
from consult.polls.models import (
    FORM_BALLOT,
    FORM_MEETING,
    PHASE_VOTE,
    Attendance,
    BallotBox,
    MeetingCount,
    Participation,
    Poll,
    PollChoice,
    PollHousehold,
)
from consult.polls.ballots import paper_counts, stubs_recorded
from consult.polls.meetings import attendance_count

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

    @property
    def households(self) -> int:
        return sum(g.households for g in self.groups)

    @property
    def participated(self) -> int:
        return sum(g.participated for g in self.groups)

    def total(self, choice_id: int) -> int:
        return sum(g.counts.get(choice_id, 0) for g in self.groups)


def _agree_choice(poll: Poll) -> PollChoice | None:
    return next((c for c in poll.choices if c.kind == "agree"), None) or (poll.choices[0] if poll.choices else None)


def tally_counts(matter_kind: str, commune_wide: bool, groups: list[tuple[ResidentialGroup, int, int, dict[int, int]]],
                 agree_id: int) -> tuple[list[GroupTally], bool, str]:
    """Apply the thresholds to counts: always of ALL households of each group (Điều 21 khoản 1)."""
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
    households = sum(g.households for g in results)
    agree = sum(g.agree for g in results)
    passed = rules.passes(matter_kind, households, agree)
    needed = rules.min_agree(matter_kind, households)
    summary = f"{agree}/{households} hộ đồng ý, cần ít nhất {needed}"
    return results, passed, summary


def tally(session: Session, poll: Poll) -> Tally:
    """Turnout and results per choice, per group and overall, and the outcome under the matter's rule."""
    phase = PHASE_VOTE
    per_group: dict[int, dict[int, int]] = {g.group_id: {} for g in poll.groups}
    participated: dict[int, int] = {g.group_id: 0 for g in poll.groups}
    texts: list[str] = []
    counted = True
    if poll.form == FORM_MEETING:
        meeting_totals: dict[int, int] = {}
        for row in session.scalars(select(MeetingCount).where(MeetingCount.poll_id == poll.id)):
            for key, value in row.counts.items():
                meeting_totals[int(key)] = meeting_totals.get(int(key), 0) + value
        # A meeting is of one group; its counts belong to that group.
        only = poll.groups[0].group_id
        per_group[only] = meeting_totals
        participated[only] = attendance_count(session, poll)
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
    agree = _agree_choice(poll)
    inputs = [(g.group, g.households, participated.get(g.group_id, 0), per_group.get(g.group_id, {}))
              for g in poll.groups]
    groups, passed, summary = tally_counts(poll.matter_kind, poll.commune_wide, inputs, agree.id if agree else 0)
    return Tally(poll, groups, list(poll.choices), sorted(texts), passed, summary, counted)


def participants(session: Session, poll: Poll) -> list[PollHousehold]:
    """The households that took part (present at the meeting, or having voted); never with their choice."""
    if poll.form == FORM_MEETING:
        joined = select(PollHousehold).join(Attendance, Attendance.poll_household_id == PollHousehold.id).where(
            Attendance.poll_id == poll.id)
    else:
        joined = select(PollHousehold).join(Participation, Participation.poll_household_id == PollHousehold.id).where(
            Participation.poll_id == poll.id, Participation.phase == PHASE_VOTE)
    return list(session.scalars(joined.order_by(PollHousehold.code)))
