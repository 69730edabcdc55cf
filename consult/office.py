"""LibreOffice headless, for what python-docx cannot do: lay a .docx out in pages.

Used for the PDF previews of generated documents (an officer checks a document
before printing it) and by the tests that look at the pages. The conversion
runs in a temporary folder with its own LibreOffice profile, so that several
conversions can run at once.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path


class OfficeUnavailable(RuntimeError):
    """LibreOffice is not installed (Debian package libreoffice-writer-nogui)."""


def soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found:
        raise OfficeUnavailable("Máy chủ chưa cài LibreOffice nên chưa xem trước được bản PDF.")
    return found


def convert(documents: list[bytes], *, suffix: str = ".docx", target: str = "pdf", timeout: int = 180) -> list[bytes]:
    """Convert documents (all of one ``suffix``) to ``target`` in one LibreOffice run."""
    binary = soffice()
    with tempfile.TemporaryDirectory(prefix="consult-office-") as tmp:
        folder = Path(tmp)
        names = []
        for index, data in enumerate(documents):
            path = folder / f"doc{index:04d}{suffix}"
            path.write_bytes(data)
            names.append(path)
        profile = (folder / "profile").as_uri()
        subprocess.run([binary, f"-env:UserInstallation={profile}", "--headless", "--norestore", "--convert-to",
                        target, "--outdir", str(folder / "out"), *map(str, names)],
                       check=True, capture_output=True, timeout=timeout)
        return [(folder / "out" / f"{path.stem}.{target}").read_bytes() for path in names]


def to_pdf(document: bytes, *, suffix: str = ".docx") -> bytes:
    """One document laid out in pages, as PDF."""
    return convert([document], suffix=suffix)[0]
