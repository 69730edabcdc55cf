"""The votes' domain exceptions; their messages are for the user, in Vietnamese."""

from __future__ import annotations

from consult.errors import DomainError


class PollError(DomainError):
    """A rule of voting was broken; the message is for the user."""


class AlreadyVoted(PollError):
    pass


class BallotRejected(PollError):
    """Unknown, revoked or used token, closed vote, or a choice not of the vote."""


class EarlyStopRefused(PollError):
    """An online vote asked to end before its fixed end without the board's reason."""
