"""Running consult in production: a consistent backup and its restore, and the
checks an operator runs before opening the doors (``flask --app consult
check-deploy``).

Backup. SQLite: the online backup API (``sqlite3.Connection.backup``) copies a
consistent snapshot while the app keeps serving. PostgreSQL: ``pg_dump -Fc``
and ``pg_restore`` (Debian's postgresql-client), whose snapshot is consistent
by itself.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url


class OperationError(RuntimeError):
    """A backup, restore or check could not be done; the message is for the operator."""


def _sqlite_path(url: str) -> str:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise OperationError("Cơ sở dữ liệu SQLite trong bộ nhớ không sao lưu được.")
    return database


def _pg_args(url: str) -> tuple[list[str], dict]:
    parsed = make_url(url)
    args = ["--host", parsed.host or "localhost", "--port", str(parsed.port or 5432),
            "--username", parsed.username or os.environ.get("USER", "postgres"), "--dbname", parsed.database or ""]
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    return args, env


def _pg_tool(name: str, bindir: str | None) -> str:
    if bindir:
        return str(Path(bindir) / name)
    found = shutil.which(name)
    if not found:
        raise OperationError(f"Không tìm thấy {name} (gói Debian postgresql-client).")
    return found


def backup(url: str, target: str, *, pg_bindir: str | None = None) -> None:
    """A consistent copy of the running database into ``target``."""
    if url.startswith("sqlite"):
        source = sqlite3.connect(_sqlite_path(url))
        dest = sqlite3.connect(target)
        try:
            with dest:
                source.backup(dest)
        finally:
            dest.close()
            source.close()
        return
    args, env = _pg_args(url)
    result = subprocess.run([_pg_tool("pg_dump", pg_bindir), "--format=custom", "--no-owner", "--file", target,
                             *args], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise OperationError(f"pg_dump không chạy được: {result.stderr.strip()[:500]}")


def restore(url: str, source: str, *, pg_bindir: str | None = None) -> None:
    """Put a backup back into the database named by ``url`` (replacing what it holds)."""
    if not Path(source).is_file():
        raise OperationError(f"Không có tệp sao lưu {source}.")
    if url.startswith("sqlite"):
        src = sqlite3.connect(source)
        try:
            if src.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise OperationError("Tệp sao lưu bị hỏng (integrity_check).")
            dest = sqlite3.connect(_sqlite_path(url))
            try:
                with dest:
                    src.backup(dest)
            finally:
                dest.close()
        except sqlite3.DatabaseError as exc:
            raise OperationError(f"Tệp {source} không phải bản sao lưu SQLite: {exc}") from None
        finally:
            src.close()
        return
    args, env = _pg_args(url)
    result = subprocess.run([_pg_tool("pg_restore", pg_bindir), "--clean", "--if-exists", "--no-owner", *args,
                             source], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise OperationError(f"pg_restore không chạy được: {result.stderr.strip()[:500]}")


# --- check-deploy ------------------------------------------------------------------------------

@dataclass
class Finding:
    level: str  # "error" or "warning"
    message: str


def check_deploy(config: dict, engine, *, workers: int) -> list[Finding]:
    """What is wrong with this installation for production."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from consult.migrate import alembic_config

    findings: list[Finding] = []
    secret = config.get("SECRET_KEY") or ""
    if len(secret) < 32 or secret in {"dev", "test-secret-key", "change-me", "secret"}:
        findings.append(Finding("error", "Khóa bí mật (CONSULT_SECRET_KEY) quá ngắn hoặc là giá trị mặc định."))
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except Exception as exc:  # noqa: BLE001 - any failure to reach the database is the finding
        findings.append(Finding("error", f"Không kết nối được cơ sở dữ liệu: {str(exc).splitlines()[0][:200]}"))
    else:
        head = ScriptDirectory.from_config(alembic_config(config["DATABASE_URL"])).get_current_head()
        if current != head:
            findings.append(Finding("error", f"Cơ sở dữ liệu chưa được nâng cấp (đang ở {current or 'trống'}, cần {head}): "
                                             "chạy flask --app consult db upgrade."))
    storage = config.get("RATELIMIT_STORAGE_URL", "memory://")
    if workers > 1 and storage.startswith("memory://"):
        findings.append(Finding("error", f"{workers} tiến trình dùng chung giới hạn tần suất memory://: mỗi tiến trình "
                                         "đếm riêng. Đặt CONSULT_RATELIMIT_STORAGE_URL=redis://..."))
    if config.get("PREFERRED_URL_SCHEME") == "https" or config.get("PROXY_FIX"):
        if not config.get("SESSION_COOKIE_SECURE"):
            findings.append(Finding("error", "Phục vụ qua HTTPS nhưng cookie chưa đặt Secure "
                                             "(CONSULT_SESSION_COOKIE_SECURE=1)."))
        if not config.get("HSTS"):
            findings.append(Finding("warning", "Phục vụ qua HTTPS nhưng chưa bật Strict-Transport-Security "
                                               "(CONSULT_HSTS=1): lần vào đầu qua HTTP có thể bị chặn giữa đường."))
    if workers > 1 and config.get("JOBS_IN_PROCESS", True):
        findings.append(Finding("warning", "Việc nền (in phiếu cả khu dân cư) đang chạy trong tiến trình web: với nhiều "
                                           "tiến trình, đặt CONSULT_JOBS_IN_PROCESS=0 và chạy flask --app consult worker."))
    if config["DATABASE_URL"].startswith("sqlite") and workers > 4:
        findings.append(Finding("warning", "SQLite với nhiều tiến trình ghi: cân nhắc PostgreSQL."))
    for tool, package in (("soffice", "libreoffice-writer-nogui"), ("pdftotext", "poppler-utils")):
        if shutil.which(tool) is None:
            findings.append(Finding("warning", f"Chưa cài {package}: chưa xem trước PDF, chưa đọc dự thảo .doc/.pdf."))
    return findings
