"""Public pages from a read replica (issue 24, point 7).

An anonymous GET of a public page reads from the replica named by
``READ_DATABASE_URL``; a signed-in user, every POST, the ballot pages and a
browser that has just written read from the primary (consult/db.py).

The routing is shown first on SQLite, with a copy of the database standing in for
the replica; then on PostgreSQL's own replication: a primary and a hot standby
made with ``pg_basebackup -R``, its replay paused while the primary changes.
"""

from __future__ import annotations

import shutil
import sqlite3
import time

import pyotp
import pytest
from sqlalchemy import create_engine, func, select, text

from consult import create_app, migrate
from consult.consultations.models import Consultation
from consult.db import PRIMARY_COOKIE, REPLICA_ENDPOINTS, reads_from_replica
from consult.opinions.models import Opinion
from tests.support.helpers import login, make_commune, make_consultation, make_group, make_user, post_form
from tests.support.pgserver import PostgresServer, require_bindir

OLD, NEW = "Dự thảo như bản sao còn giữ", "Dự thảo đã đổi trên máy chính"


def _app(tmp_path, url: str, read_url: str | None):
    instance = tmp_path / "instance"
    instance.mkdir(exist_ok=True)
    config = {"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test-secret-key", "INSTANCE_PATH": str(instance),
              "RATELIMIT_STORAGE_URL": "memory://", "PICKUP_KDF_OPSLIMIT": 1, "PICKUP_KDF_MEMLIMIT": 8192}
    if read_url:
        config["READ_DATABASE_URL"] = read_url
    return create_app(config)


def _dispose(app) -> None:
    for key in ("consult_engine", "consult_read_engine"):
        if key in app.extensions:
            app.extensions[key].dispose()


def _arrange(session):
    """A commune with one open draft, an officer with TOTP; returns (commune, group, draft, secret)."""
    commune = make_commune(session)
    group = make_group(session, commune)
    secret = pyotp.random_base32()
    make_user(session, "tam.vptk", "officer", commune, totp=secret)
    draft = make_consultation(session, commune, [], title=OLD)
    session.commit()
    return commune, group, draft, secret


def _retitle(session, draft_id: int) -> None:
    session.get(Consultation, draft_id).title = NEW
    session.commit()


def _title(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert (OLD in page) != (NEW in page)
    return OLD if OLD in page else NEW


def _comment(client, commune, group, draft):
    url = f"/c/{commune.slug}/consultations/{draft.id}/comment"
    response = post_form(client, url, {"part_id": "0", "text": "Đề nghị bổ sung Điều 1",
                                       "name": "Nguyễn Văn A", "group_id": str(group.id), "phone": ""})
    assert response.status_code == 302
    return response


# --- the routing, on SQLite ---------------------------------------------------------------------

def test_every_replica_endpoint_is_a_get_page_of_the_app(tmp_path):
    app = _app(tmp_path, f"sqlite:///{tmp_path / 'p.sqlite3'}", None)
    rules = {rule.endpoint: rule for rule in app.url_map.iter_rules()}
    for endpoint in REPLICA_ENDPOINTS:
        assert endpoint in rules and "GET" in rules[endpoint].methods, endpoint
    _dispose(app)


def test_without_a_replica_nothing_changes(tmp_path, sqlite_template):
    primary = tmp_path / "primary.sqlite3"
    shutil.copyfile(sqlite_template, primary)
    app = _app(tmp_path, f"sqlite:///{primary}", None)
    session = app.extensions["consult_sessionmaker"]()
    commune, group, draft, _ = _arrange(session)
    assert "consult_read_engine" not in app.extensions
    client = app.test_client()
    response = _comment(client, commune, group, draft)
    assert PRIMARY_COOKIE not in response.headers.get("Set-Cookie", "")
    with app.test_request_context(f"/c/{commune.slug}/consultations/{draft.id}"):
        assert not reads_from_replica()
    session.close()
    _dispose(app)


def test_anonymous_public_pages_read_the_replica_and_everyone_else_the_primary(tmp_path, sqlite_template):
    primary, replica = tmp_path / "primary.sqlite3", tmp_path / "replica.sqlite3"
    shutil.copyfile(sqlite_template, primary)
    app = _app(tmp_path, f"sqlite:///{primary}", f"sqlite:///{replica}")
    session = app.extensions["consult_sessionmaker"]()
    commune, group, draft, secret = _arrange(session)
    session.close()
    app.extensions["consult_engine"].dispose()
    with sqlite3.connect(primary) as source, sqlite3.connect(replica) as target:
        source.backup(target)  # the replica as it stood before the change below
    session = app.extensions["consult_sessionmaker"]()
    _retitle(session, draft.id)
    page = f"/c/{commune.slug}/consultations/{draft.id}"

    stranger = app.test_client()
    assert _title(stranger, page) == OLD
    assert _title(stranger, f"/c/{commune.slug}/consultations/") == OLD

    officer = app.test_client()
    login(officer, "tam.vptk", totp_secret=secret)
    assert _title(officer, page) == NEW

    resident = app.test_client()
    response = _comment(resident, commune, group, draft)
    assert PRIMARY_COOKIE in response.headers["Set-Cookie"]
    assert session.scalar(select(func.count()).select_from(Opinion)) == 1  # written to the primary
    assert _title(resident, page) == NEW  # reads its own write
    assert _title(stranger, page) == OLD

    # The cookie ends: the resident reads the replica again.
    resident.set_cookie(PRIMARY_COOKIE, str(int(time.time()) - 1))
    assert _title(resident, page) == OLD

    # A voter's receipt check, the ballot pages, the report's download and /healthz: the primary.
    for path in (f"/c/{commune.slug}/polls/1?receipt=ABCDE-FGHIJ", "/b/", "/b/sometoken",
                 f"/c/{commune.slug}/consultations/{draft.id}/report.docx", "/healthz"):
        with app.test_request_context(path):
            assert not reads_from_replica(), path
    with app.test_request_context(page, method="HEAD"):
        assert reads_from_replica()
    # The ballot pages set no cookie, the read-your-writes one included.
    ballot = app.test_client().post("/b/", data={"code": "ABCD-EFGH-JKLM"})
    assert PRIMARY_COOKIE not in ballot.headers.get("Set-Cookie", "")
    session.close()
    _dispose(app)


def test_a_replica_that_does_not_answer_leaves_the_pages_to_the_primary(tmp_path, sqlite_template):
    primary = tmp_path / "primary.sqlite3"
    shutil.copyfile(sqlite_template, primary)
    app = _app(tmp_path, f"sqlite:///{primary}", f"sqlite:///{tmp_path / 'no-such-folder' / 'replica.sqlite3'}")
    session = app.extensions["consult_sessionmaker"]()
    commune, _, draft, _ = _arrange(session)
    assert _title(app.test_client(), f"/c/{commune.slug}/consultations/{draft.id}") == OLD
    session.close()
    _dispose(app)


# --- PostgreSQL: a primary and its hot standby ----------------------------------------------------

@pytest.fixture(scope="module")
def replicated():
    """A primary with the migrated schema and a hot standby streaming from it."""
    primary = PostgresServer(require_bindir()).start(replication=True)
    standby = None
    try:
        admin = create_engine(primary.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE consult"))
        admin.dispose()
        migrate.upgrade(primary.url("consult"))
        standby = primary.start_standby()
        yield primary, standby
    finally:
        if standby is not None:
            standby.stop()
        primary.stop()


def _on(server: PostgresServer, sql: str):
    engine = create_engine(server.url("consult"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            return conn.scalar(text(sql))
    finally:
        engine.dispose()


def test_postgresql_hot_standby_serves_the_public_pages_and_the_primary_what_was_just_changed(
        replicated, tmp_path):
    primary, standby = replicated
    app = _app(tmp_path, primary.url("consult"), standby.url("consult"))
    with app.extensions["consult_read_engine"].connect() as conn:
        assert conn.scalar(text("SELECT pg_is_in_recovery()"))
    session = app.extensions["consult_sessionmaker"]()
    commune, group, draft, secret = _arrange(session)
    primary.wait_replayed_by(standby, "consult")

    stranger = app.test_client()
    page = f"/c/{commune.slug}/consultations/{draft.id}"
    assert _title(stranger, page) == OLD
    for public in (f"/c/{commune.slug}/", f"/c/{commune.slug}/consultations/", f"/c/{commune.slug}/polls/",
                   f"/c/{commune.slug}/proposals/", f"/c/{commune.slug}/covenants/"):
        assert stranger.get(public).status_code == 200, public

    # The standby stops replaying; the primary changes the title.
    _on(standby, "SELECT pg_wal_replay_pause()")
    try:
        deadline = time.monotonic() + 30
        while _on(standby, "SELECT pg_get_wal_replay_pause_state()") != "paused":
            assert time.monotonic() < deadline, "the standby's replay did not pause"
            time.sleep(0.01)
        _retitle(session, draft.id)
        assert _title(stranger, page) == OLD  # served from the standby

        officer = app.test_client()
        login(officer, "tam.vptk", totp_secret=secret)
        assert _title(officer, page) == NEW

        resident = app.test_client()
        _comment(resident, commune, group, draft)
        assert session.scalar(select(func.count()).select_from(Opinion)) == 1
        assert _on(standby, "SELECT count(*) FROM opinion") == 0
        resident_page = resident.get(page).get_data(as_text=True)
        assert NEW in resident_page and "1 ý kiến chung" in resident_page
        assert _title(stranger, page) == OLD
    finally:
        _on(standby, "SELECT pg_wal_replay_resume()")
    primary.wait_replayed_by(standby, "consult")
    assert _title(stranger, page) == NEW
    session.close()
    _dispose(app)
