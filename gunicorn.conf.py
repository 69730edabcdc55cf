"""gunicorn settings for consult: `gunicorn 'consult:create_app()'` in this folder reads them.

Every setting can be overridden on the command line or by GUNICORN_CMD_ARGS.
Run `flask --app consult check-deploy --workers N` with the same N first.
"""

import multiprocessing
import os

from gunicorn.glogging import Logger

from consult.accesslog import BALLOT_PATH, is_ballot_path, protect_loggers, redact

bind = os.environ.get("CONSULT_BIND", "127.0.0.1:8000")
# Sync workers: two per core is plenty for a ward; the ballot flow is short requests.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
worker_class = "sync"
# The longest request: the synthesis report of 10,000 opinions (about 2 s) or a PDF
# preview through LibreOffice (a few seconds); slips for a whole ward are printed by
# the `ballots` command. 60 s leaves room on a slow machine.
timeout = 60
graceful_timeout = 30
keepalive = 5
# The application is loaded once, in the master, and each worker is a fork of it: a worker
# starts in milliseconds instead of a second of imports, shares the loaded code's memory,
# and a broken installation fails at start. (Each engine drops the connections it
# inherited at the fork: consult/db.py.) The background work's thread (JOBS_IN_PROCESS) is
# therefore never started in the master: a worker's first request starts it, in the one
# worker that holds instance/worker.lock (consult/worker.py).
preload_app = True
# Recycle workers now and then so that a leak cannot grow without bound: a few minutes of
# a busy vote (a ballot is two requests), at the cost of one fork.
max_requests = 10000
max_requests_jitter = 1000
# Behind nginx on the same machine: trust its X-Forwarded-* (set CONSULT_PROXY_FIX=1 too).
forwarded_allow_ips = "127.0.0.1"
accesslog = "-"
errorlog = "-"
# The combined format, written by ``BallotSafeLogger``: a household's link (/b/<token>) is its
# live credential, so its request line and a referer naming it show /b/… (consult/accesslog.py).
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'


class BallotSafeLogger(Logger):
    """gunicorn's logger, with no ballot link's token in the access or error log."""

    def setup(self, cfg):
        super().setup(cfg)
        protect_loggers(self.error_log)  # "Error handling request /b/…"; the access log is redacted below

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        if is_ballot_path(environ.get("PATH_INFO")):
            # Whatever spelling of the path reached the ballot view (RAW_URI is as sent).
            atoms["r"] = f"{environ.get('REQUEST_METHOD', '-')} {BALLOT_PATH} {environ.get('SERVER_PROTOCOL', '-')}"
            atoms["U"], atoms["q"] = BALLOT_PATH, ""
        for key, value in atoms.items():
            if isinstance(value, str):
                atoms[key] = redact(value)
        return atoms


logger_class = BallotSafeLogger


def on_starting(server):
    """Refuse to start several workers on the in-memory rate-limit storage: each worker
    would count on its own, so 5 allowed wrong passwords become 5 per worker. Use Redis
    (CONSULT_RATELIMIT_STORAGE_URL=redis://...), or set CONSULT_ALLOW_MEMORY_RATELIMIT=1
    to accept that."""
    from flask import Flask

    from consult import ROOT
    from consult.config import load_config

    app = Flask("consult", instance_path=str(ROOT / "instance"), instance_relative_config=True)
    load_config(app, None)
    storage = app.config["RATELIMIT_STORAGE_URL"]
    allowed = os.environ.get("CONSULT_ALLOW_MEMORY_RATELIMIT", "").lower() in {"1", "true", "yes", "on"}
    if server.cfg.workers > 1 and storage.startswith("memory://") and not allowed:
        raise RuntimeError(
            f"{server.cfg.workers} tiến trình với giới hạn tần suất memory://: mỗi tiến trình đếm riêng. "
            "Đặt CONSULT_RATELIMIT_STORAGE_URL=redis://... (hoặc CONSULT_ALLOW_MEMORY_RATELIMIT=1 nếu chấp nhận). "
            f"{server.cfg.workers} workers on memory:// rate limits: each counts alone.")
