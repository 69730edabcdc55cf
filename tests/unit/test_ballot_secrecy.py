"""The secret ballot against the people who run the server.

The PostgreSQL test plays the database administrator after an online vote:
every tuple version of every table (pageinspect, dead ones included), the
write-ahead log (raw and through pg_waldump), the server's log and the audit
trail. Before the board enters its shares, nothing there gives a household's
choice or the result: the choices are ciphertexts, the key is nowhere, and the
old attack (the difference between two versions of a counts row, tied to a
household by the transaction id) has nothing to work on.
"""

from __future__ import annotations

import glob
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import select, text

from consult.audit.service import SYSTEM
from consult.polls import secrecy, service
from consult.polls.models import Participation, PollHousehold
from tests.support.polls import (KEY_SHARES, after_the_end, choice, group_with_households, open_vote, pass_consent,
                                 shares)

OTHER_TEXT = "Đề nghị lắp camera ở hẻm 7 thay vì cổng chính"


def _relations(session) -> list[str]:
    return session.execute(text(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname IN ('public', 'pg_toast') AND c.relkind IN ('r', 't') ORDER BY 1")).scalars().all()


def _tuples(session) -> list[tuple[str, int, bytes]]:
    """Every tuple version on disk, live or dead: (table, xmin, data)."""
    found = []
    for rel in _relations(session):
        schema = "pg_toast" if rel.startswith("pg_toast") else "public"
        pages = session.execute(text(f"SELECT pg_relation_size('{schema}.\"{rel}\"') / 8192")).scalar()
        for page in range(pages):
            rows = session.execute(text(
                f"SELECT t_xmin::text::bigint, t_data FROM heap_page_items(get_raw_page('{schema}.\"{rel}\"', {page})) "
                "WHERE t_data IS NOT NULL")).all()
            found += [(rel, xmin, bytes(data)) for xmin, data in rows]
    return found


def _server_files(pg_server, log_from: int) -> tuple[bytes, str, str]:
    """The raw WAL, pg_waldump's reading of it, and what the server logged from ``log_from`` on
    (the server is shared by the whole run: other tests' lines are not this vote's)."""
    wal_files = sorted(glob.glob(str(pg_server.datadir / "pg_wal" / "0*")))
    raw = b"".join(Path(f).read_bytes() for f in wal_files)
    dump = subprocess.run([f"{pg_server.bindir}/pg_waldump", "--path", str(pg_server.datadir / "pg_wal"),
                           Path(wal_files[0]).name, Path(wal_files[-1]).name],
                          capture_output=True, text=True).stdout
    with open(pg_server.root / "log", "rb") as file:
        file.seek(log_from)
        log = file.read().decode("utf-8", errors="replace")
    return raw, dump, log


def test_the_database_administrator_links_no_household_to_its_choice(request, session):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("plays the administrator of a PostgreSQL server (pageinspect, pg_waldump)")
    pg_server = request.getfixturevalue("pg_server")
    log_from = (pg_server.root / "log").stat().st_size
    session.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
    commune, group = group_with_households(session, 30)
    poll = open_vote(session, commune, [group])
    pass_consent(session, poll)
    ballots = service.issue_ballots(session, SYSTEM, poll)
    session.commit()
    agree, disagree, other = choice(poll, "agree"), choice(poll, "disagree"), choice(poll, "other")
    picks = [agree, disagree, agree, other, agree, disagree] * 5
    chosen_by = {}
    for ballot, pick in zip(ballots, picks):  # one at a time, each in its own transaction, as over HTTP
        service.cast_online(session, ballot.token, pick, other_text=OTHER_TEXT if pick == other else None)
        session.commit()
        chosen_by[ballot.household.id] = pick
    with pytest.raises(service.AlreadyVoted):  # a second ballot: refused without a database error
        service.cast_online(session, ballots[0].token, disagree)
    session.commit()
    session.execute(text("CHECKPOINT"))
    session.execute(text("SELECT pg_switch_wal()"))
    session.commit()

    tuples = _tuples(session)
    raw_wal, waldump, log = _server_files(pg_server, log_from)
    assert "participation" in str(session.execute(text("SELECT 'participation'::regclass")).scalar())
    assert "INSERT" in waldump or "INSERT+INIT" in waldump  # the WAL was read
    key = secrecy.rebuild_key(poll.id, poll.public_key, poll.key_threshold, shares(poll))
    secrets_of_the_board = [key.seed, key.scalar, bytes(key.texts_key), key.seed.hex().encode(),
                            *(code.encode() for code in KEY_SHARES[poll.id])]
    everything = [data for _, _, data in tuples] + [raw_wal, log.encode()]
    # 1. The key is nowhere the administrator looks: not in any tuple version, the WAL or the log.
    for blob in everything:
        for secret in secrets_of_the_board:
            assert secret not in blob
    # 2. Nor is any plaintext a ballot carried: the "ý kiến khác" text is sealed.
    for blob in everything:
        assert OTHER_TEXT.encode() not in blob
    # 3. No result of the vote exists before the count: the result table holds only the consent
    #    round's count (its phase, counted at its close), never a row of the vote's phase.
    boxes = [t for t in tuples if t[0] == "ballot_box"]
    assert all(b"\x11consent" in data and b"\x0bvote" not in data for _, _, data in boxes)
    # 4. The old attack: for each household, the tuples written in its transaction (its xmin or
    #    the next, a savepoint) hold the same kinds of rows whatever it chose, and the same
    #    sizes, so no byte pattern separates one choice from another.
    household_xmin = {}
    ids = {h.id for h in session.scalars(select(PollHousehold).where(PollHousehold.poll_id == poll.id))}
    for hh_id, xmin in session.execute(text(
            "SELECT poll_household_id, xmin::text::bigint FROM participation WHERE poll_id = :p AND phase = 'vote'"),
            {"p": poll.id}):
        household_xmin[hh_id] = xmin
    by_xmin = defaultdict(list)
    for rel, xmin, data in tuples:
        by_xmin[xmin].append((rel, len(data)))
    shapes = defaultdict(set)
    for hh_id, xmin in household_xmin.items():
        assert hh_id in ids
        shape = tuple(sorted(by_xmin[xmin] + by_xmin[xmin + 1]))
        shapes[shape].add(chosen_by[hh_id])
    assert any(len(choices) > 1 for choices in shapes.values())
    # (``poll_turnout``: the group's count, one more, rewritten by the mark's trigger; the same
    # row and size whatever the choice, and the count is public.)
    for shape in shapes:
        assert {rel for rel, _ in shape} <= {"participation", "cast_ballot", "poll_turnout",
                                             "pg_toast_" + _toast_of(session)}
    # 5. The server's log names no household (the second ballot raised no unique violation).
    assert "duplicate key" not in log and "KP1-0" not in log
    # 6. The audit trail records no household in an online vote.
    assert session.execute(text("SELECT count(*) FROM audit_entry WHERE details LIKE '%KP1-0%'")).scalar() == 0
    # 7. Without the shares no one counts; with a majority of them the count is the plaintext one.
    with pytest.raises(service.PollError, match="ít nhất 2"):
        service.close_poll(session, SYSTEM, poll, shares=shares(poll, 1), now=after_the_end(poll))
    session.rollback()
    result = service.close_poll(session, SYSTEM, poll, shares=shares(poll), now=after_the_end(poll))
    for pick in (agree, disagree, other):
        assert result.total(pick) == picks.count(pick)
    assert result.other_texts == [OTHER_TEXT] * picks.count(other)
    session.commit()
    for _, _, data in _tuples(session):
        for secret in secrets_of_the_board:
            assert secret not in data
    assert session.scalar(select(Participation.voted_on).limit(1)) is not None


def _toast_of(session) -> str:
    return str(session.execute(text("SELECT 'cast_ballot'::regclass::oid")).scalar())


def test_tally_equals_the_plaintext_count_on_both_databases(session):
    """Exponential ElGamal sums (Helios, ElectionGuard): the decrypted sum per choice equals the
    choices cast, whatever their mix."""
    import random

    commune, group = group_with_households(session, 40)
    poll = open_vote(session, commune, [group])
    pass_consent(session, poll)
    ballots = service.issue_ballots(session, SYSTEM, poll)
    rng = random.Random(7)
    ids = [c.id for c in poll.choices]
    cast = [rng.choice(ids) for _ in ballots[:37]]
    for ballot, pick in zip(ballots, cast):
        service.cast_online(session, ballot.token, pick, other_text="Khác" if pick == choice(poll, "other") else None)
    result = service.close_poll(session, SYSTEM, poll, shares=shares(poll), now=after_the_end(poll))
    assert {c: result.total(c) for c in ids} == {c: cast.count(c) for c in ids}
    assert result.participated == 37 and len(result.other_texts) == cast.count(choice(poll, "other"))


def test_a_paper_ballot_part_carries_nothing_that_names_the_household(session, tmp_path):
    """NĐ 59 Điều 4: the household is on the stub, torn off for the turnout list; the part that
    goes into the box has no code, no name, no QR code. Read as the counters would see it."""
    import shutil

    from consult.polls.ballots_pdf import ballots_pdf

    for tool in ("pdftotext", "pdftoppm", "zbarimg"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is needed (Debian packages poppler-utils and zbar-tools)")
    commune, group = group_with_households(session, 3)
    poll = open_vote(session, commune, [group], form="ballot", chosen_by_head_and_front=True)
    issued = service.issue_ballots(session, SYSTEM, poll)
    pdf = tmp_path / "phieu.pdf"
    pdf.write_bytes(ballots_pdf(poll, issued, "http://127.0.0.1", {group.id: group.full_name}))
    # The ballot part: the left 150 mm of each slip (425 pt of 595).
    ballot_part = subprocess.run(["pdftotext", "-r", "72", "-x", "0", "-y", "0", "-W", "425", "-H", "842",
                                  str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    stub = subprocess.run(["pdftotext", "-r", "72", "-x", "440", "-y", "0", "-W", "155", "-H", "842",
                           str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert poll.title.split()[0] in ballot_part and "Đồng ý" in ballot_part
    for ballot in issued:
        h = ballot.household
        assert h.code in stub and ballot.code in stub
        for identifying in (h.code, h.representative, ballot.code, ballot.token[:12]):
            assert identifying not in ballot_part
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", "-x", "0", "-y", "0", "-W", "885",
                    "-H", "1754", str(pdf), str(tmp_path / "ballot-part")], check=True)
    image = next(tmp_path.glob("ballot-part*.png"))
    found = subprocess.run(["zbarimg", "--quiet", "--raw", str(image)], capture_output=True, text=True)
    assert found.stdout.strip() == ""  # no code the counters could scan
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "whole")],
                   check=True)
    whole = subprocess.run(["zbarimg", "--quiet", "--raw", str(next(tmp_path.glob("whole*.png")))],
                           capture_output=True, text=True).stdout.split()
    assert len(whole) == 3  # the QR codes are all on the stubs
