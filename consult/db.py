"""Declarative base, engine and the per-request session.

The engine and session factory live on the application (``app.extensions``),
created in ``create_app``; nothing connects at import. Views use
``db_session()``, which gives one session per application context and closes
it at teardown. Services receive the session as an argument and never commit.
"""

from __future__ import annotations

import os
import weakref

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
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
    app.teardown_appcontext(_close_session)


def db_session() -> Session:
    """The session of this request: a writer's for POST and the like, except in the views
    marked ``reads_first``, which read with it and write with ``writer_session``."""
    if "db_session" not in g:
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
