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
