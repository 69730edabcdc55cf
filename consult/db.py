"""Declarative base, engine and the per-request session.

The engine and session factory live on the application (``app.extensions``),
created in ``create_app``; nothing connects at import. Views use
``db_session()``, which gives one session per application context and closes
it at teardown. Services receive the session as an argument and never commit.

With ``READ_DATABASE_URL`` (a PostgreSQL streaming replica, hot standby), the
anonymous GETs of the public pages read from it; which request reads where is
decided here, once, in ``db_session()`` (see ``reads_from_replica``), never in a view.
"""

from __future__ import annotations

import os
import time
import weakref

from flask import Flask, current_app, g, has_request_context, request
from flask import session as flask_session
from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

# Named constraints, so that Alembic batch migrations on SQLite can drop them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def make_engine(url: str) -> Engine:
    engine = _make_engine(url)
    # A forked process (gunicorn's workers fork from a preloaded master) must not use the
    # parent's pooled connections: it drops them without closing the parent's (SQLAlchemy's
    # "Using Connection Pools with Multiprocessing or os.fork()").
    reference = weakref.ref(engine)

    def drop_inherited_connections() -> None:
        inherited = reference()
        if inherited is not None:
            inherited.dispose(close=False)

    os.register_at_fork(after_in_child=drop_inherited_connections)
    return engine


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        # SQLAlchemy issues BEGIN itself, so that a request that writes can
        # take the write lock at once ("BEGIN IMMEDIATE") and queue behind
        # another writer instead of failing when its read lock cannot be
        # upgraded; reads stay deferred and never block anyone under WAL.
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection, _record):
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(connection):
    if connection.get_execution_options().get("consult_writer"):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.exec_driver_sql("BEGIN")


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["consult_engine"] = engine
    # Every session carries the audit chain's key (consult.audit.service.record reads it).
    info = {"audit_key": app.config["AUDIT_KEY"]}
    app.extensions["consult_sessionmaker"] = sessionmaker(bind=engine, expire_on_commit=False, info=info)
    app.extensions["consult_writer_sessionmaker"] = sessionmaker(
        bind=engine.execution_options(consult_writer=True), expire_on_commit=False, info=info)
    if app.config.get("READ_DATABASE_URL"):
        read_engine = make_engine(app.config["READ_DATABASE_URL"])
        app.extensions["consult_read_engine"] = read_engine
        app.extensions["consult_read_sessionmaker"] = sessionmaker(
            bind=read_engine, expire_on_commit=False, info={**info, "replica": True})
        app.after_request(_remember_the_write)
    app.teardown_appcontext(_close_session)


# --- the read replica --------------------------------------------------------------------
# Public pages that may be read from the replica, by endpoint: an allow-list, so that a new
# page reads from the primary until someone has checked that its GET writes nothing (a hot
# standby refuses every write). Left out on purpose: the household's ballot pages (/b/…),
# the published report's download (it queues the file's build when the file is missing),
# /healthz (it says whether the primary answers) and every staff page.
REPLICA_ENDPOINTS = frozenset({
    "main.index", "main.commune_home",
    "consultations.public_index", "consultations.public_show", "consultations.source",
    "opinions.resident_comment",  # the form; its POST writes to the primary
    "reports.public_report",
    "polls.public_index", "polls.public_show", "polls.public_record",
    "proposals.public_index", "proposals.public_show", "proposals.public_new",
    "covenants.public_index", "covenants.public_show",
})
# A query that asks about something the asker may have just done: a voter checks their
# receipt right after voting, and the ballot pages set no cookie (see below).
PRIMARY_QUERY_ARGS = ("receipt",)
# Read your writes: after a POST (or any unsafe method) the browser reads from the primary for
# READ_YOUR_WRITES_SECONDS, so its own comment, support or sign-out shows at once whatever
# the replica's lag. The value is the instant it ends. It is not signed: forged, it only
# sends its own holder's reads to the primary, which is always correct.
PRIMARY_COOKIE = "consult_primary"


def _is_ballot_path(path: str) -> bool:
    return path == "/b" or path.startswith("/b/")


def reads_from_replica() -> bool:
    """Whether this request may read from the replica: an anonymous GET or HEAD of a public
    page, from a browser that wrote nothing in the last seconds. Anyone signed in (an officer,
    a group head, a board member) reads the primary, which has what they just changed."""
    if "consult_read_sessionmaker" not in current_app.extensions or not has_request_context():
        return False
    if request.method not in ("GET", "HEAD") or request.endpoint not in REPLICA_ENDPOINTS:
        return False
    if any(name in request.args for name in PRIMARY_QUERY_ARGS):
        return False
    # Flask-Login's key in the signed session cookie: read without loading the user.
    if "_user_id" in flask_session:
        return False
    return not _wrote_recently()


def _wrote_recently() -> bool:
    try:
        return float(request.cookies.get(PRIMARY_COOKIE, "0")) > time.time()
    except ValueError:
        return False


def _remember_the_write(response):
    # Not on the ballot pages, which set no cookie at all; what a voter changed is checked
    # on the primary through PRIMARY_QUERY_ARGS instead.
    if request.method not in ("GET", "HEAD", "OPTIONS") and not _is_ballot_path(request.path):
        seconds = current_app.config["READ_YOUR_WRITES_SECONDS"]
        response.set_cookie(PRIMARY_COOKIE, str(int(time.time()) + seconds), max_age=seconds, httponly=True,
                            samesite="Lax", secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
    return response


def _replica_session() -> Session | None:
    """A session on the replica, already connected; None when the replica does not answer,
    and the primary serves the page (set ``connect_timeout`` in the URL to bound the wait)."""
    replica = current_app.extensions["consult_read_sessionmaker"]()
    try:
        replica.connection()
    except OperationalError as error:
        replica.close()
        current_app.logger.warning("read replica unavailable, reading from the primary: %s", error)
        return None
    return replica


def db_session() -> Session:
    """The session of this request: a writer's for POST and the like, except in the views
    marked ``reads_first``, which read with it and write with ``writer_session``; the
    replica's for an anonymous GET of a public page (``reads_from_replica``)."""
    if "db_session" not in g:
        if reads_from_replica():
            replica = _replica_session()
            if replica is not None:
                g.db_session = replica
                return replica
        writes = has_request_context() and request.method not in ("GET", "HEAD", "OPTIONS")
        if writes and getattr(current_app.view_functions.get(request.endpoint), "reads_first", False):
            writes = False
        key = "consult_writer_sessionmaker" if writes else "consult_sessionmaker"
        g.db_session = current_app.extensions[key]()
    return g.db_session


def writer_session() -> Session:
    """A writing session of its own in this request (see ``reads_first``). PostgreSQL locks
    rows, not the database: there it is the request's own session, one connection and one
    round of checkout and transaction fewer."""
    if "db_writer" not in g:
        if current_app.extensions["consult_engine"].dialect.name == "sqlite":
            g.db_writer = current_app.extensions["consult_writer_sessionmaker"]()
        else:
            g.db_writer = db_session()
    return g.db_writer


def reads_first(view):
    """A view whose POST reads and computes first and writes briefly at the end with
    ``writer_session()``: on SQLite a writer's session takes the database's one write
    lock at its first statement, and would hold it through the whole request."""
    view.reads_first = True
    return view


def engine() -> Engine:
    return current_app.extensions["consult_engine"]


def _close_session(_exc):
    for key in ("db_session", "db_writer"):
        session = g.pop(key, None)
        if session is not None:
            session.close()


def is_sqlite(session_or_engine) -> bool:
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return bind.dialect.name == "sqlite"
