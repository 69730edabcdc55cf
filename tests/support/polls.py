"""Factories for votes: a group of N households, a vote of a given matter and form."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import timedelta

from consult.audit.service import SYSTEM
from consult.auth import pickup
from consult.auth import service as auth_service
from consult.communes.models import Household
from consult.polls import keycards, service
from consult.timeutil import local_date, utcnow
from tests.support.helpers import PASSWORD, make_commune, make_group, make_unit, make_user

# The pickup key's Argon2id at libsodium's minimum, as tests/conftest.py configures the app.
LIGHT_KDF = pickup.KdfCost(opslimit=1, memlimit=8192)

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


# The board's key shares of each online vote opened by ``open_vote``, as its members
# picked them up (the server keeps none).
KEY_SHARES: dict[int, list[str]] = {}
_board_numbers = itertools.count(1)


def signed_in_once(session, user):
    """The account's first sign-in, through the real check: it makes the pickup key."""
    assert auth_service.authenticate(session, user.username, PASSWORD, pickup_cost=LIGHT_KDF) is user
    return user


def board_member(session, commune, name, *, role="officer", **kwargs):
    """A board member's own account (password ``PASSWORD``), signed in once."""
    user = make_user(session, f"to-lay-y-kien.{next(_board_numbers)}", role, commune, full_name=name, **kwargs)
    return signed_in_once(session, user)


def with_accounts(session, commune, committee):
    """The committee, each member without an account given one of their own."""
    return [m if m.user_id else replace(m, user_id=board_member(session, commune, m.name).id) for m in committee]


def pick_up_all(session, poll, *, now=None) -> list[str]:
    """Each member picks up their own share with their password (keycards.pick_up), in the board's order."""
    return [keycards.pick_up(session, SYSTEM, poll, m.user, PASSWORD, now=now).code for m in poll.committee]


def open_vote(session, commune, groups, *, now=None, **kwargs):
    """A vote created and opened; an online vote's board gets accounts and picks up its shares."""
    data = poll_input(groups, **kwargs)
    if data.form == "online":
        data.committee = with_accounts(session, commune, data.committee)
    poll = service.create_poll(session, SYSTEM, commune, data, now=now)
    service.open_poll(session, SYSTEM, poll, now=now)
    if poll.form == "online":
        KEY_SHARES[poll.id] = pick_up_all(session, poll, now=now)
    return poll


def shares(poll, how_many: int | None = None) -> list[str]:
    """The key shares of a vote opened here: a majority of its board by default."""
    codes = KEY_SHARES.get(poll.id, [])
    return codes[:poll.key_threshold if how_many is None else how_many] if codes else []


def after_the_end(poll):
    """The first second past an online vote's fixed end (or now, if later): its count may start."""
    return max(utcnow(), poll.closes_at + timedelta(seconds=1))


def close(session, poll):
    """Close and count, with a majority of the board's key shares; an online vote at its end."""
    now = after_the_end(poll) if poll.form == "online" else None
    return service.close_poll(session, SYSTEM, poll, shares=shares(poll), now=now)


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


CEREMONY_OPTIONS = ["Phương án A: lắp ở cổng chính", "Phương án B: lắp ở hai đầu hẻm"]


def ceremony_draft(session, households: int = 4, *, options=tuple(CEREMONY_OPTIONS)):
    """A draft online vote (named options; none: đồng ý / không đồng ý / ý kiến khác) whose board
    signs in with no second factor: the khu phố head (member 1, who runs the vote) and two unit
    representatives."""
    commune, group = group_with_households(session, households)
    data = poll_input([group], options=list(options))
    unit = make_unit(session, commune, "Ban điều hành khu phố 1", kind="ban_dieu_hanh", group=group)
    accounts = [make_user(session, "truong.kp1", "group_head", commune, group=group, full_name=data.committee[0].name)]
    accounts += [make_user(session, f"thanh-vien.{n}", "unit_rep", commune, unit=unit, full_name=m.name)
                 for n, m in enumerate(data.committee[1:], start=2)]
    session.flush()
    data.committee = [replace(m, user_id=u.id) for m, u in zip(data.committee, accounts)]
    return commune, service.create_poll(session, SYSTEM, commune, data)
