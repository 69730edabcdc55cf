"""Operating consult: backup and restore round trips on both databases, and check-deploy."""

from __future__ import annotations

from sqlalchemy import func, select

from consult.communes.models import ResidentialGroup
from tests.support.helpers import make_commune, make_group


def test_backup_and_restore_round_trip(app, session, runner, tmp_path, request, monkeypatch):
    """SQLite: the online backup API while the app is open; PostgreSQL: pg_dump and pg_restore."""
    commune = make_commune(session)
    make_group(session, commune, name="Khu phố 1")
    session.commit()
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        bindir = request.getfixturevalue("pg_server").bindir
        monkeypatch.setenv("PATH", f"{bindir}:{__import__('os').environ['PATH']}")
    target = tmp_path / "sao-luu.bak"
    result = runner.invoke(args=["backup", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert target.stat().st_size > 0
    make_group(session, commune, name="Khu phố 2 (sau sao lưu)")
    session.commit()
    assert session.scalar(select(func.count()).select_from(ResidentialGroup)) == 2
    session.close()
    refused = runner.invoke(args=["restore", str(target)])
    assert refused.exit_code != 0 and "--yes" in refused.output
    result = runner.invoke(args=["restore", str(target), "--yes"])
    assert result.exit_code == 0, result.output
    app.extensions["consult_engine"].dispose()
    fresh = app.extensions["consult_sessionmaker"]()
    assert [g.name for g in fresh.scalars(select(ResidentialGroup))] == ["Khu phố 1"]
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    fresh.close()


def test_restore_refuses_a_file_that_is_not_a_backup(app, runner, tmp_path, session):
    if session.get_bind().dialect.name != "sqlite":
        import pytest

        pytest.skip("pg_restore's own checks: covered by the round trip")
    bad = tmp_path / "khong-phai.bak"
    bad.write_bytes(b"day khong phai sqlite" * 100)
    result = runner.invoke(args=["restore", str(bad), "--yes"])
    assert result.exit_code != 0 and "không phải bản sao lưu" in result.output


def test_check_deploy_says_what_is_wrong(app, runner):
    """Default-looking secret key, memory:// rate limits with several workers, insecure cookies over HTTPS."""
    app.config.update(SECRET_KEY="dev", PREFERRED_URL_SCHEME="https", SESSION_COOKIE_SECURE=False)
    result = runner.invoke(args=["check-deploy", "--workers", "4"])
    assert result.exit_code == 1
    for words in ("Khóa bí mật", "memory://", "Secure", "CONSULT_JOBS_IN_PROCESS=0"):
        assert words in result.output, words
    app.config.update(SECRET_KEY="x" * 64, PREFERRED_URL_SCHEME="http", RATELIMIT_STORAGE_URL="redis://localhost/0",
                      JOBS_IN_PROCESS=False)
    result = runner.invoke(args=["check-deploy", "--workers", "4"])
    assert result.exit_code == 0, result.output


def test_check_deploy_finds_an_unmigrated_database(app, runner, tmp_path):
    from consult import create_app

    empty = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path}/vide.sqlite3",
                        "SECRET_KEY": "y" * 64, "INSTANCE_PATH": str(tmp_path)})
    result = empty.test_cli_runner().invoke(args=["check-deploy", "--workers", "1"])
    assert result.exit_code == 1 and "chưa được nâng cấp" in result.output
    empty.extensions["consult_engine"].dispose()


def _gunicorn(tmp_path, workers: int, **env):
    """gunicorn with the repository's gunicorn.conf.py; returns (process, port)."""
    import os
    import socket
    import subprocess
    import sys

    from consult import ROOT

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CONSULT_")}
    environ.update(CONSULT_DATABASE_URL=f"sqlite:///{tmp_path / 'g.sqlite3'}", WEB_CONCURRENCY=str(workers),
                   CONSULT_BIND=f"127.0.0.1:{port}", PYTHONPATH=str(ROOT), **env)
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "consult:create_app()"], cwd=ROOT, env=environ,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return process, port


def _serves(process, port) -> bool:
    """Until a worker answers /healthz: the arbiter listens before its workers have booted, and
    a worker stopped while it still imports the app holds up gunicorn's graceful shutdown."""
    import time
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                return answer.status == 200
        except (OSError, urllib.error.URLError):
            time.sleep(0.2)
    return False


def test_gunicorn_refuses_several_workers_on_in_memory_rate_limits(tmp_path):
    """With memory:// each worker counts on its own (5 allowed wrong passwords became 20 with 4
    workers): gunicorn.conf.py refuses to start more than one worker on it, says why, and
    starts when told to accept it, or with one worker."""
    process, _ = _gunicorn(tmp_path, 2)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 1 and "memory://" in output and "CONSULT_RATELIMIT_STORAGE_URL" in output
    for workers, env in ((2, {"CONSULT_ALLOW_MEMORY_RATELIMIT": "1"}), (1, {})):
        process, port = _gunicorn(tmp_path, workers, **env)
        try:
            assert _serves(process, port), process.stdout.read() if process.poll() is not None else "no answer"
        finally:
            process.terminate()
            process.communicate(timeout=60)
