"""A job's result, kept out of the database.

A whole ward's slips PDF holds every household's live ballot link and code. In a column of
the ``job`` table it would be in every backup, every copy of the database and in the hands of
anyone who reads it during its 24 hours. So the job's row keeps its progress only, and the
PDF is a file of the instance folder (``instance/job-results/<job id>.bin``), encrypted with
PyNaCl's SecretBox (XSalsa20-Poly1305) under a key that is nowhere in the database: an HMAC
of the application's secret key (``instance/secret_key`` or the configuration) with the job's
id and creation time. It is deleted once its creator has downloaded it, or when it expires
(``service.purge``); a file left by a job whose id the database hands out again cannot be
opened for the new job (another creation time, another key).

With several application machines, the worker and the web servers share this folder.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import time
from pathlib import Path

import nacl.exceptions
import nacl.secret

FOLDER = "job-results"
_NAME = re.compile(r"^(\d+)\.bin$")
# A file being written when its writer died.
_STALE_TEMPORARY = 3600


class ResultStore:
    """The encrypted result files of one application (its instance folder and secret key)."""

    LABEL = "job-result"

    def __init__(self, folder: str | Path, secret: str | bytes):
        self.folder = Path(folder)
        self._secret = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)

    @classmethod
    def of_app(cls, app) -> ResultStore:
        return cls(Path(app.instance_path) / FOLDER, app.config["SECRET_KEY"])

    def inputs(self) -> InputStore:
        """The files jobs read (an uploaded household register), beside the results, under
        keys of their own."""
        return InputStore(self.folder.parent / InputStore.FOLDER, self._secret)

    def _box(self, job) -> nacl.secret.SecretBox:
        created = round(job.created_at.timestamp() * 1_000_000)
        key = hmac.new(self._secret, f"consult/{self.LABEL}/v1/{job.id}/{created}".encode(), hashlib.sha256).digest()
        return nacl.secret.SecretBox(key)

    def path(self, job_id: int) -> Path:
        return self.folder / f"{int(job_id)}.bin"

    def write(self, job, data: bytes) -> None:
        """Encrypt and write the result, readable by this process's user only; a reader sees
        the whole file or none (written aside, then renamed)."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        sealed = bytes(self._box(job).encrypt(bytes(data)))
        temporary = self.folder / f".{int(job.id)}.{os.getpid()}.{time.monotonic_ns()}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(sealed)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path(job.id))
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise

    def exists(self, job_id: int) -> bool:
        return self.path(job_id).is_file()

    def read(self, job) -> bytes | None:
        """The result, or None when there is none (downloaded, expired) or it is not this job's."""
        try:
            sealed = self.path(job.id).read_bytes()
        except FileNotFoundError:
            return None
        try:
            return self._box(job).decrypt(sealed)
        except nacl.exceptions.CryptoError:
            return None

    def delete(self, job_id: int) -> None:
        self.path(job_id).unlink(missing_ok=True)

    def sweep(self, keep: set[int]) -> int:
        """Delete the results of every job not in ``keep`` (gone from the database, failed,
        expired) and what a dead writer left; the number of files deleted."""
        if not self.folder.is_dir():
            return 0
        gone = 0
        now = time.time()
        for entry in self.folder.iterdir():
            match = _NAME.match(entry.name)
            if match and int(match.group(1)) in keep:
                continue
            try:
                if not match and not (entry.name.endswith(".tmp") and now - entry.stat().st_mtime > _STALE_TEMPORARY):
                    continue
                entry.unlink()
            except FileNotFoundError:  # removed meanwhile (a download, another runner)
                continue
            gone += 1
        return gone


class InputStore(ResultStore):
    """A job's input, kept out of the database as its results are: an uploaded register holds
    every household's name and address. Written by the page that queues the job, deleted by
    the job as it ends (done or failed); ``service.purge`` sweeps any left by a dead runner."""

    FOLDER = "job-inputs"
    LABEL = "job-input"
