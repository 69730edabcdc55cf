"""The election record of an online vote: one JSON file that anyone can check with
``python -m consult.verify`` (the format is described there).

Written from the database a part at a time, so that its size (about 1 KB a ballot)
never sits in memory whole.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from consult import verify
from consult.polls import keyceremony, secrecy
from consult.polls.ballots import CONSENT_CHOICES, ballot_rule
from consult.polls.models import FORM_ONLINE, PHASE_VOTE, BallotBox, CastBallot, Poll


def record_available(session: Session, poll: Poll, phase: str = PHASE_VOTE) -> bool:
    """A record exists once the board has counted the phase (and the count kept its record)."""
    if poll.form != FORM_ONLINE or poll.public_key is None:
        return False
    return session.scalar(select(BallotBox.record.is_not(None)).where(
        BallotBox.poll_id == poll.id, BallotBox.phase == phase)) is True


def _b64(data: bytes) -> str:
    return base64.b64encode(bytes(data)).decode("ascii")


def election_record(session: Session, poll: Poll, phase: str = PHASE_VOTE) -> Iterator[str]:
    """The record as JSON text, in pieces: the vote read now, the ballots as the pieces are
    taken (a response streams them after its view has returned)."""
    box = session.scalar(select(BallotBox).where(BallotBox.poll_id == poll.id, BallotBox.phase == phase))
    if box is None or box.record is None:
        raise LookupError("the phase has not been counted")
    if phase == PHASE_VOTE:
        choices = [{"position": c.position, "label": c.label, "kind": c.kind} for c in poll.choices]
    else:
        choices = [{"position": i, "label": label, "kind": key} for i, (key, label) in enumerate(CONSENT_CHOICES.items())]
    n, low, high = ballot_rule(phase, len(poll.choices))
    head = {
        "format": verify.FORMAT,
        "vote": {"id": poll.id, "commune": poll.commune.full_name, "title": poll.title, "question": poll.question,
                 "phase": phase, "opens_at": poll.opens_at.isoformat(), "closes_at": poll.closes_at.isoformat(),
                 "choices": choices, "min_choices": low, "max_choices": high},
        "public_key": bytes(poll.public_key).hex(), "texts_key": bytes(poll.texts_key).hex(),
        "fingerprint": secrecy.key_fingerprint(poll.public_key, poll.texts_key),
        "counted_at": box.counted_at.isoformat(),
    }
    ceremony = keyceremony.record_part(session, poll)
    if ceremony is not None:  # a key no one holds: the members' commitments (verify.check_ceremony)
        head["ceremony"] = ceremony
    groups, refused = list(box.record["groups"]), box.record["refused"]
    return _pieces(session, poll.id, phase, head, groups, refused, n)


def _pieces(session: Session, poll_id: int, phase: str, head: dict, groups: list[dict], refused: int,
            n: int) -> Iterator[str]:
    text = json.dumps(head, ensure_ascii=False, indent=1)
    yield text[:text.rindex("}")].rstrip() + ',\n "groups": ['
    totals = [0] * n
    for index, group in enumerate(groups):
        meta = {key: group[key] for key in ("id", "name", "households", "marked", "refused", "sum", "counts",
                                            "decryption")}
        totals = [t + c for t, c in zip(totals, group["counts"])]
        piece = json.dumps(meta, ensure_ascii=False)
        yield ("\n  " if index == 0 else ",\n  ") + piece[:-1] + ', "ballots": ['
        rows = session.execute(select(CastBallot.ciphertext, CastBallot.proofs, CastBallot.sealed_text,
                                      CastBallot.tracker).where(
            CastBallot.poll_id == poll_id, CastBallot.phase == phase, CastBallot.group_id == group["id"])
            .order_by(CastBallot.tracker).execution_options(yield_per=1000))
        for number, (ciphertext, proofs, sealed, tracker) in enumerate(rows):
            ballot = {"tracker": tracker, "ciphertext": _b64(ciphertext), "proofs": _b64(proofs),
                      "text_digest": hashlib.sha256(bytes(sealed)).hexdigest()}
            yield ("\n   " if number == 0 else ",\n   ") + json.dumps(ballot)
        yield "]}"
    yield '\n ],\n "result": ' + json.dumps({"totals": totals, "refused": refused}) + "\n}\n"


def election_record_dict(session: Session, poll: Poll, phase: str = PHASE_VOTE) -> dict:
    """The whole record as a mapping (tests, small votes)."""
    return json.loads("".join(election_record(session, poll, phase)))
