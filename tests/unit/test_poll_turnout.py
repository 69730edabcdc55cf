"""An open vote's turnout per group, kept by the database's triggers (migration 0028): equal
to the marks at every step, on both databases, whichever code path writes the mark."""

from sqlalchemy import delete, func, select

from consult.audit.service import SYSTEM
from consult.polls import service
from consult.polls.models import PHASE_CONSENT, PHASE_VOTE, Participation, PollHousehold
from tests.support.polls import choice, group_with_households, open_vote, shares


def marks(session, poll, phase=PHASE_VOTE):
    """The figure from its source: the marks, counted per group."""
    return dict(session.execute(select(PollHousehold.group_id, func.count()).join(
        Participation, Participation.poll_household_id == PollHousehold.id).where(
        Participation.poll_id == poll.id, Participation.phase == phase).group_by(PollHousehold.group_id)).all())


def test_online_turnout_follows_every_mark_of_each_phase(session):
    commune, group = group_with_households(session, 6)
    poll = open_vote(session, commune, [group])
    assert service.turnout(session, poll, PHASE_CONSENT) == {}
    ballots = service.issue_ballots(session, SYSTEM, poll)
    for ballot in ballots:
        service.cast_online(session, ballot.token, "agree")
        assert service.turnout(session, poll, PHASE_CONSENT) == marks(session, poll, PHASE_CONSENT)
    assert service.turnout(session, poll, PHASE_CONSENT) == {group.id: 6}
    assert service.close_consent(session, SYSTEM, poll, shares=shares(poll))
    assert service.turnout(session, poll, PHASE_VOTE) == {}
    ballots = service.issue_ballots(session, SYSTEM, poll)
    service.cast_online(session, ballots[2].token, choice(poll, "agree"))
    session.commit()
    try:  # a second ballot of the same household is refused and counts nothing
        service.cast_online(session, ballots[2].token, choice(poll, "disagree"))
    except service.PollError:
        session.rollback()
    assert service.turnout(session, poll, PHASE_VOTE) == {group.id: 1} == marks(session, poll)
    assert service.turnout(session, poll, PHASE_CONSENT) == {group.id: 6}


def test_paper_stubs_per_group_count_once_and_a_removed_mark_counts_no_more(session):
    commune, one = group_with_households(session, 5)
    _, two = group_with_households(session, 4, commune=commune, name="Khu phố 2", prefix="KP2")
    poll = open_vote(session, commune, [one, two], matter="k6", form="ballot", chosen_by_chairman=True)
    ballots = service.issue_ballots(session, SYSTEM, poll)
    for ballot in ballots[:3] + ballots[-2:]:
        service.record_stub(session, SYSTEM, poll, code=ballot.code)
    service.record_stub(session, SYSTEM, poll, code=ballots[0].code)  # the same stub again
    assert service.turnout(session, poll) == {one.id: 3, two.id: 2} == service.stubs_recorded(session, poll)
    session.execute(delete(Participation).where(Participation.poll_household_id == ballots[0].household.id))
    session.flush()
    assert service.turnout(session, poll) == {one.id: 2, two.id: 2} == marks(session, poll)


def test_the_migration_starts_votes_under_way_from_their_marks(session, app, db_url):
    from consult import migrate

    commune, one = group_with_households(session, 5)
    _, two = group_with_households(session, 4, commune=commune, name="Khu phố 2", prefix="KP2")
    poll = open_vote(session, commune, [one, two], matter="k6", form="ballot", chosen_by_chairman=True)
    ballots = service.issue_ballots(session, SYSTEM, poll)
    for ballot in ballots[1:4] + ballots[-1:]:
        service.record_stub(session, SYSTEM, poll, code=ballot.code)
    session.commit()
    session.close()
    app.extensions["consult_engine"].dispose()
    migrate.downgrade(db_url, "0027")
    migrate.upgrade(db_url)
    assert service.turnout(session, poll) == {one.id: 3, two.id: 1}
    # and the triggers are back
    service.record_stub(session, SYSTEM, poll, code=ballots[0].code)
    assert service.turnout(session, poll) == {one.id: 4, two.id: 1}
