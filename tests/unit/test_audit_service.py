"""The audit trail: append-only, hash-chained, verified by a CLI command."""

from sqlalchemy import text

from consult.audit.service import Actor, record, verify_chain
from tests.support.helpers import make_commune, make_group


def test_every_structure_change_is_recorded_with_who_and_from_where(session):
    actor = Actor(id=None, name="Cán bộ thử", ip="10.1.2.3")
    commune = make_commune(session)
    from consult.communes.service import save_group

    group = save_group(session, actor, commune, None, kind="khu_pho", name="Khu phố 9")
    session.commit()
    entry = session.execute(text(
        "SELECT actor_name, ip, action, object_type, object_id FROM audit_entry ORDER BY id DESC LIMIT 1")).one()
    assert tuple(entry) == ("Cán bộ thử", "10.1.2.3", "group.create", "residential_group", str(group.id))


def test_chain_verifies_when_untouched(session):
    commune = make_commune(session)
    for i in range(5):
        make_group(session, commune, name=f"Khu phố {i}")
    session.commit()
    report = verify_chain(session)
    assert report.ok and report.checked == 6


def test_edited_entry_makes_verify_command_fail_and_name_it(app, session, runner):
    commune = make_commune(session)
    for i in range(4):
        make_group(session, commune, name=f"Khu phố {i}")
    session.commit()
    target = session.execute(text("SELECT id FROM audit_entry ORDER BY id LIMIT 1 OFFSET 2")).scalar()
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    session.execute(text("UPDATE audit_entry SET actor_name = 'kẻ sửa' WHERE id = :id"), {"id": target})
    session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code != 0
    assert f"#{target}" in result.output


def test_deleted_entry_breaks_the_chain_at_the_next_one(session):
    commune = make_commune(session)
    for i in range(3):
        make_group(session, commune, name=f"Khu phố {i}")
    session.commit()
    ids = [r[0] for r in session.execute(text("SELECT id FROM audit_entry ORDER BY id"))]
    session.execute(text("DELETE FROM audit_entry WHERE id = :id"), {"id": ids[1]})
    session.commit()
    report = verify_chain(session)
    assert not report.ok and report.broken_id == ids[2]


def test_deleting_the_last_entry_is_detected(session):
    make_commune(session)
    session.commit()
    last = session.execute(text("SELECT max(id) FROM audit_entry")).scalar()
    session.execute(text("DELETE FROM audit_entry WHERE id = :id"), {"id": last})
    session.commit()
    assert not verify_chain(session).ok


def test_record_is_in_the_callers_transaction(session):
    """A rolled-back change leaves no audit entry behind (STYLE principle 4)."""
    commune = make_commune(session)
    session.commit()
    before = session.execute(text("SELECT count(*) FROM audit_entry")).scalar()
    record(session, Actor(None, "x"), "something", commune)
    session.rollback()
    assert session.execute(text("SELECT count(*) FROM audit_entry")).scalar() == before
    assert verify_chain(session).ok


def test_rewriting_an_entry_and_recomputing_the_chain_without_the_key_is_detected(session):
    """Whoever can write the database but lacks the key kept outside it cannot rebuild the chain:
    an edited entry with every later hash recomputed (as plain SHA-256, or under a guessed key) fails."""
    import hashlib
    import hmac

    from consult.audit.models import AuditEntry, AuditHead
    from consult.audit.service import GENESIS, _canonical

    commune = make_commune(session)
    for i in range(3):
        make_group(session, commune, name=f"Khu phố {i}")
    session.commit()
    entries = session.query(AuditEntry).order_by(AuditEntry.id).all()
    entries[1].actor_name = "kẻ sửa"
    for forge in (lambda data: hashlib.sha256(data).hexdigest(),
                  lambda data: hmac.new(b"khoa-doan", data, hashlib.sha256).hexdigest()):
        prev = GENESIS
        for entry in entries:
            entry.prev_hash = prev
            entry.hash = forge(_canonical(entry))
            prev = entry.hash
        head = session.get(AuditHead, 1)
        head.last_hash, head.last_id = prev, entries[-1].id
        session.commit()
        report = verify_chain(session)
        assert not report.ok and report.broken_id == entries[0].id


def test_deleting_the_newest_entries_and_moving_the_head_is_caught_against_an_exported_head(session, runner, tmp_path):
    """The head exported to a file (kept apart from the server) shows that entries were cut off the end,
    even when the head row in the database was moved back to match."""
    from consult.audit.models import AuditEntry, AuditHead

    commune = make_commune(session)
    for i in range(3):
        make_group(session, commune, name=f"Khu phố {i}")
    session.commit()
    head_file = tmp_path / "moc.json"
    assert runner.invoke(args=["audit", "head", "-o", str(head_file)]).exit_code == 0
    assert runner.invoke(args=["audit", "verify", "--head", str(head_file)]).exit_code == 0
    entries = session.query(AuditEntry).order_by(AuditEntry.id).all()
    for entry in entries[-2:]:
        session.delete(entry)
    head = session.get(AuditHead, 1)
    head.last_hash, head.last_id = entries[-3].hash, entries[-3].id
    session.commit()
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0  # alone, the truncated chain looks whole
    result = runner.invoke(args=["audit", "verify", "--head", str(head_file)])
    assert result.exit_code == 1 and f"#{entries[-1].id}" in result.output and "mốc" in result.output


def test_the_chain_key_lives_outside_the_database(app):
    import os
    import stat

    path = os.path.join(app.instance_path, "audit_key")
    assert app.config["AUDIT_KEY"] and os.path.exists(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
