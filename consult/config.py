"""Configuration, loaded in a fixed order.

1. the defaults below;
2. ``instance/config.py`` when it exists;
3. ``CONSULT_*`` environment variables (``CONSULT_DATABASE_URL``,
   ``CONSULT_READ_DATABASE_URL``, ``CONSULT_SECRET_KEY``, ``CONSULT_RATELIMIT_STORAGE_URL``, ...);
4. the mapping passed to ``create_app`` (tests).

With no secret key given anywhere, one is generated on first run and kept in
``instance/secret_key`` so that sessions survive a restart; no key is ever
written in the source.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

DEFAULTS = {
    "DATABASE_URL": None,  # None: SQLite file in the instance folder
    # A PostgreSQL streaming replica (hot standby) for the anonymous public pages (consult/db.py);
    # None: every page reads the primary. After a write, a browser reads the primary this long.
    "READ_DATABASE_URL": None,
    "READ_YOUR_WRITES_SECONDS": 15,
    "SECRET_KEY": None,
    "AUDIT_KEY": None,
    "RATELIMIT_STORAGE_URL": "memory://",
    # The Python that has LibreOffice's uno module (Debian: python3-uno), for the warm LibreOffice
    # of the PDF previews (consult/office.py); None: the system's python3 when it has it.
    "OFFICE_PYTHON": None,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "WTF_CSRF_TIME_LIMIT": 8 * 3600,
    "MAX_CONTENT_LENGTH": 12 * 1024 * 1024,
    "UPLOAD_MAX_BYTES": 10 * 1024 * 1024,
    # Failed sign-in steps before HTTP 429: per account (or per known device), and per
    # address for browsers that never signed in to the account (consult/auth/limits.py).
    "LOGIN_RATE_LIMIT": "5 per 15 minutes",
    "LOGIN_ADDRESS_RATE_LIMIT": "30 per 15 minutes",
    # Residents' public posts: refused ones per address; saved ones per browser, and per address
    # loosely enough for a village behind one address (consult/opinions/limits.py).
    "PUBLIC_POST_RATE_LIMIT": "20 per hour",
    "PUBLIC_POST_DEVICE_LIMIT": "10 per hour",
    "PUBLIC_POST_ADDRESS_LIMIT": "300 per hour",
    # Wrong ballot links or codes per address; failed posts per real ballot token (consult/polls/limits.py).
    "TOKEN_RATE_LIMIT": "30 per 10 minutes",
    "TOKEN_FAILURE_RATE_LIMIT": "20 per 10 minutes",
    "TOTP_ISSUER": "consult",
    # Argon2id cost of the share-pickup key made from each password (consult/auth/pickup.py):
    # passes and bytes of memory, as costly as the password hash. Tests make them light.
    "PICKUP_KDF_OPSLIMIT": 3,
    "PICKUP_KDF_MEMLIMIT": 64 * 1024 * 1024,
    # Slips for more households than this are printed by a background job (consult/jobs).
    "SLIPS_INLINE_MAX": 300,
    # A report of more opinions than this is exported (.docx, .xlsx) by a background job.
    "EXPORT_INLINE_MAX": 5000,
    # An online vote with more ballots than this is counted by a background job (consult/polls/jobs.py).
    "COUNT_INLINE_MAX": 2000,
    # A household register file larger than this (bytes; about 8,000 rows of .csv) is imported by a
    # background job with its progress shown (consult/households/jobs.py).
    "IMPORT_INLINE_MAX_BYTES": 512 * 1024,
    # Run background jobs and mail in one thread of the web process (the embedded setup,
    # consult/worker.py); with several gunicorn workers, set it to 0 and run
    # `flask --app consult worker` beside them.
    "JOBS_IN_PROCESS": True,
    # That thread runs when a page queues work, and at least this often (seconds).
    "WORKER_POLL_SECONDS": 5,
    # Outgoing mail (reminders): any SMTP server; unset host: mail waits in the outbox.
    "SMTP_HOST": None,
    "SMTP_PORT": 25,
    "SMTP_USER": None,
    "SMTP_PASSWORD": None,
    "SMTP_STARTTLS": False,
    "MAIL_FROM": "consult@localhost",
    # The address printed in ballot QR codes; None: the address the page was asked on.
    "PUBLIC_BASE_URL": None,
    "PREFERRED_URL_SCHEME": "http",
    # Strict-Transport-Security on every response; only behind HTTPS (off for local HTTP).
    "HSTS": False,
}

# Environment variables that are read as integers or booleans.
_INT_KEYS = {"WTF_CSRF_TIME_LIMIT", "MAX_CONTENT_LENGTH", "UPLOAD_MAX_BYTES", "SLIPS_INLINE_MAX", "EXPORT_INLINE_MAX", "SMTP_PORT",
             "COUNT_INLINE_MAX", "IMPORT_INLINE_MAX_BYTES", "WORKER_POLL_SECONDS", "PICKUP_KDF_OPSLIMIT", "PICKUP_KDF_MEMLIMIT", "READ_YOUR_WRITES_SECONDS"}
_BOOL_KEYS = {"SESSION_COOKIE_SECURE", "PROXY_FIX", "HSTS", "JOBS_IN_PROCESS", "SMTP_STARTTLS"}


def load_config(app: Flask, overrides: dict | None) -> None:
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    for key, value in os.environ.items():
        if not key.startswith("CONSULT_"):
            continue
        name = key[len("CONSULT_"):]
        if name in _INT_KEYS:
            value = int(value)
        elif name in _BOOL_KEYS:
            value = value.lower() in {"1", "true", "yes", "on"}
        app.config[name] = value
    if overrides:
        app.config.from_mapping(overrides)

    if not app.config.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = default_database_url(app.instance_path)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(app.instance_path)
    # The audit chain's key: kept outside the database, so that whoever can write the
    # database cannot rewrite the chain and recompute its hashes.
    if not app.config.get("AUDIT_KEY"):
        app.config["AUDIT_KEY"] = _instance_secret_key(app.instance_path, "audit_key")
    # Flask-Limiter reads its own key names.
    app.config["RATELIMIT_STORAGE_URI"] = app.config["RATELIMIT_STORAGE_URL"]
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)


def default_database_url(instance_path: str) -> str:
    return "sqlite:///" + str(Path(instance_path) / "consult.sqlite3")


def _instance_secret_key(instance_path: str, name: str = "secret_key") -> str:
    path = Path(instance_path) / name
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # Created with owner-only permissions; never overwrite a key that appears
    # between the check and the write (two workers starting together).
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key
