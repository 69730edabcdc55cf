"""Factories for votes: a group of N households, a vote of a given matter and form."""

from __future__ import annotations

from datetime import timedelta

from consult.audit.service import SYSTEM
from consult.communes.models import Household
from consult.polls import service
from consult.timeutil import local_date, utcnow
from tests.support.helpers import make_commune, make_group

COMMITTEE = [service.CommitteeInput("Nguyễn Thị Hoa", "Đại diện Ban công tác Mặt trận", True),
             service.CommitteeInput("Lê Văn Bảy", "Thành viên"), service.CommitteeInput("Trần Văn Tư", "Thành viên")]


def group_with_households(session, households: int, *, commune=None, name="Khu phố 1", prefix="KP1"):
    commune = commune or make_commune(session)
    group = make_group(session, commune, name=name)
    for i in range(1, households + 1):
        session.add(Household(commune_id=commune.id, group_id=group.id, code=f"{prefix}-{i:03d}",
                              representative=f"Đại diện hộ {prefix}-{i:03d}", address=f"Số {i}, {name}"))
    session.flush()
    return commune, group


def poll_input(groups, *, matter="k6", form="online", days=7, start=None, **extra) -> service.PollInput:
    start = start or utcnow() - timedelta(minutes=5)
    values = dict(title="Lắp camera an ninh tại cổng khu phố", question="Hộ có đồng ý lắp camera không?",
                  matter_kind=matter, form=form, opens_at=start, closes_at=start + timedelta(days=days),
                  group_ids=[g.id for g in groups], committee=list(COMMITTEE))
    if form == "meeting":  # announced three days before (rules.MEETING_NOTICE_DAYS)
        values.update(announced_on=local_date(start) - timedelta(days=3))
    if form == "online":
        values.update(agreed_unnecessary_on=local_date(start), reported_on=local_date(start), devices_confirmed=True)
    values.update(extra)
    return service.PollInput(**values)


# The board's key shares of each online vote opened by ``open_vote`` (the server keeps none).
KEY_SHARES: dict[int, list[str]] = {}


def open_vote(session, commune, groups, **kwargs):
    poll = service.create_poll(session, SYSTEM, commune, poll_input(groups, **kwargs))
    KEY_SHARES[poll.id] = [share.code for share in service.open_poll(session, SYSTEM, poll)]
    return poll


def shares(poll, how_many: int | None = None) -> list[str]:
    """The key shares of a vote opened here: a majority of its board by default."""
    codes = KEY_SHARES.get(poll.id, [])
    return codes[:poll.key_threshold if how_many is None else how_many] if codes else []


def close(session, poll):
    """Close and count, with a majority of the board's key shares."""
    return service.close_poll(session, SYSTEM, poll, shares=shares(poll))


def hand_in_paper(session, poll, ballots, counts_by_group: dict[int, dict[int, int]], *, other_texts=()):
    """Paper ballots handed in: each returned slip's stub recorded, then each group's box
    counted by totals (biên bản kiểm phiếu); returned ballots not in the counts are invalid."""
    for ballot in ballots:
        service.record_stub(session, SYSTEM, poll, code=ballot.code)
    for group in poll.groups:
        returned = sum(1 for b in ballots if b.household.group_id == group.group_id)
        counts = counts_by_group.get(group.group_id, {})
        valid = sum(counts.values())
        service.record_paper_count(session, SYSTEM, poll, service.PaperCountInput(
            group_id=group.group_id, issued=group.households, returned=returned, valid=valid,
            invalid=returned - valid, counts=dict(counts), other_texts=list(other_texts),
            place="Nhà văn hóa khu phố", counters="Nguyễn Thị Hoa\nLê Văn Bảy\nTrần Văn Tư",
            witnesses="Đại diện hộ A\nĐại diện hộ B"))


def pass_consent(session, poll, agree: int | None = None):
    """Answer the consent round with ``agree`` households (default: all) and close it."""
    ballots = service.issue_ballots(session, SYSTEM, poll)
    count = len(ballots) if agree is None else agree
    for ballot in ballots[:count]:
        service.cast_online(session, ballot.token, "agree")
    reached = service.close_consent(session, SYSTEM, poll, shares=shares(poll))
    return reached


def choice(poll, kind):
    return next(c.id for c in poll.choices if c.kind == kind)
