"""The board's devices played by the reference ``ceremony.Member`` through the key ceremony's
service (``consult/polls/keyceremony.py``): the ceremony, and each member's partial decryptions."""

from __future__ import annotations

from consult.audit.service import SYSTEM
from consult.polls import keyceremony
from consult.polls.ceremony import Member


def users(poll):
    return {i: m.user for i, m in enumerate(poll.committee, start=1)}


def hold_ceremony(session, poll, *, tamper=None, reveal=None) -> dict[int, Member]:
    """Every member's device through the service's steps. ``tamper(sender, recipient, blob)``
    may change a sealed share on its way; ``reveal(sender, recipient, honest)`` is what an
    accused device reveals. Returns the devices of the qualified members."""
    kc = keyceremony.start(session, SYSTEM, poll)
    setup, people = keyceremony.setup_of(kc), users(poll)
    devices = {i: Member(setup, i) for i in people}
    for i, device in devices.items():
        a = device.announcement()
        keyceremony.announce(session, poll, people[i], {
            "ceremony_key": a.ceremony_key.hex(), "commitments": [c.hex() for c in a.commitments],
            "proofs": [[c.hex(), v.hex()] for c, v in a.proofs]})
    for i, device in devices.items():
        shares = device.sealed_shares(keyceremony.announcements(session, poll))
        if tamper:
            shares = {r: tamper(i, r, blob) for r, blob in shares.items()}
        keyceremony.send_shares(session, poll, people[i], shares)
    for i, device in devices.items():
        box = keyceremony.inbox(session, poll, people[i])
        assert box.missing == []
        for sender, blob in sorted(box.sealed.items()):
            if not device.receive(sender, box.announcements[sender], blob):
                keyceremony.complain(session, poll, people[i], sender)
    for i, device in devices.items():
        for recipient in keyceremony.complaints_against(session, poll, people[i]):
            honest = device.revealed_share(recipient)
            shown = reveal(i, recipient, honest) if reveal else honest
            if keyceremony.reveal(session, SYSTEM, poll, people[i], recipient, shown):
                devices[recipient].accept_revealed(i, keyceremony.inbox(session, poll, people[recipient]).revealed[i])
    qualified = keyceremony.server_side(session, poll).qualified
    done = False
    for i in sorted(qualified):
        done = keyceremony.confirm(session, poll, people[i], devices[i].finish(qualified))
    assert done
    return {i: d for i, d in devices.items() if i in qualified}


def partials_of(session, poll, device, phase):
    return {(s.group_id, s.choice): device.partial_decrypt(s.context, s.alpha)
            for s in keyceremony.sums(session, poll, phase)}


def text_partials_of(session, poll, device, phase):
    return [device.partial_decrypt(t.context, t.alpha) for t in keyceremony.sealed_texts(session, poll, phase)]


def count_phase(session, poll, devices, phase, members):
    for i in members:
        keyceremony.send_partials(session, poll, users(poll)[i], phase, partials_of(session, poll, devices[i], phase),
                                  texts=text_partials_of(session, poll, devices[i], phase))
    return keyceremony.combine_count(session, poll, phase)
