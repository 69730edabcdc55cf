"""gunicorn forks its workers from a master that loaded the application (preload_app):
a worker must never talk to the database over a connection it inherited."""

from __future__ import annotations

import os

from sqlalchemy import text


def test_a_forked_worker_opens_its_own_connections(app):
    engine = app.extensions["consult_engine"]
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
        parent_connection = connection.connection.dbapi_connection
    assert engine.pool.checkedin() == 1  # the master now holds a pooled connection
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # the worker
        try:
            os.close(reader)
            pooled_before = engine.pool.checkedin()
            with engine.connect() as connection:
                own = connection.connection.dbapi_connection is not parent_connection
                answer = connection.execute(text("SELECT 41 + 1")).scalar()
            os.write(writer, f"{pooled_before} {own} {answer}".encode())
        finally:
            os._exit(0)
    os.close(writer)
    with os.fdopen(reader) as pipe:
        report = pipe.read()
    os.waitpid(child, 0)
    assert report == "0 True 42"
    # The master's connection still works: the worker dropped it without closing it.
    with engine.connect() as connection:
        assert connection.connection.dbapi_connection is parent_connection
        assert connection.execute(text("SELECT 1")).scalar() == 1
