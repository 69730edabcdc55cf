"""LibreOffice headless, for what python-docx cannot do: lay a .docx out in pages.

Used for the PDF previews of generated documents (an officer checks a document
before printing it) and by the tests that look at the pages. The conversion
runs in a temporary folder with its own LibreOffice profile, so that several
conversions can run at once.

Fonts. The documents are set in Times New Roman, which fontconfig maps to its
metric twin Liberation Serif. Debian's fonts-liberation (1.07) lacks most
Vietnamese letters (ơ ư ủ ộ ữ ặ ẫ ỹ...), so LibreOffice would take them glyph by
glyph from another font (DejaVu) and mix two fonts inside one word;
fonts-liberation2 (2.x) has them all. LibreOffice is given a fontconfig file of
its own (FONTCONFIG_FILE): the system's configuration, with every Liberation
font older than 2.0 rejected when a 2.x of the same family is installed and
Times New Roman bound to Liberation Serif, so that which one wins does not
depend on the machine's preferences or on the caller's FONTCONFIG_FILE.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

SYSTEM_FONTCONFIG = "/etc/fonts/fonts.conf"
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts")


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
                       check=True, capture_output=True, timeout=timeout, env=font_environment(folder))
        return [(folder / "out" / f"{path.stem}.{target}").read_bytes() for path in names]


def to_pdf(document: bytes, *, suffix: str = ".docx") -> bytes:
    """One document laid out in pages, as PDF."""
    return convert([document], suffix=suffix)[0]


# --- fonts ------------------------------------------------------------------------------------

def font_revision(path: str | Path) -> float:
    """The fontRevision of a TrueType file's 'head' table (1.07 for fonts-liberation, 2.1 for
    fonts-liberation2); 0 when it cannot be read."""
    try:
        with open(path, "rb") as handle:
            header = handle.read(12)
            tables = struct.unpack(">H", header[4:6])[0]
            records = handle.read(16 * tables)
            for i in range(tables):
                tag, _checksum, offset, _length = struct.unpack(">4sIII", records[16 * i:16 * i + 16])
                if tag == b"head":
                    handle.seek(offset)
                    return struct.unpack(">i", handle.read(8)[4:8])[0] / 65536
    except (OSError, struct.error):
        pass
    return 0.0


@lru_cache(maxsize=1)
def _liberation_files() -> tuple[tuple[str, str, float], ...]:
    """(path, family, revision) of every Liberation font file installed."""
    found = []
    for root in FONT_DIRS:
        if not Path(root).is_dir():
            continue
        for path in sorted(Path(root).rglob("Liberation*.ttf")):
            family = re.sub(r"-.*$", "", path.stem)  # LiberationSerif-BoldItalic -> LiberationSerif
            found.append((str(path), family, font_revision(path)))
    return tuple(found)


def outdated_liberation_fonts() -> list[str]:
    """Liberation font files older than 2.0 whose family is also installed at 2.0 or later."""
    files = _liberation_files()
    current = {family for _, family, revision in files if revision >= 2.0}
    return [path for path, family, revision in files if revision < 2.0 and family in current]


def fontconfig_text() -> str:
    """The fontconfig configuration LibreOffice runs with (see the module's docstring)."""
    rejected = "".join(f"<glob>{escape(path)}</glob>" for path in outdated_liberation_fonts())
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n<fontconfig>\n'
        f'  <include ignore_missing="yes">{SYSTEM_FONTCONFIG}</include>\n'
        + (f"  <selectfont><rejectfont>{rejected}</rejectfont></selectfont>\n" if rejected else "")
        + '  <match target="pattern"><test qual="any" name="family"><string>Times New Roman</string></test>'
          '<edit name="family" mode="prepend" binding="strong"><string>Liberation Serif</string></edit></match>\n'
          "</fontconfig>\n")


def font_environment(folder: str | Path) -> dict[str, str]:
    """The environment for LibreOffice: this process's, with FONTCONFIG_FILE pointing to a file
    written in ``folder`` from ``fontconfig_text``."""
    path = Path(folder) / "fonts.conf"
    path.write_text(fontconfig_text(), encoding="utf-8")
    env = dict(os.environ)
    env["FONTCONFIG_FILE"] = str(path)
    env.pop("FONTCONFIG_PATH", None)
    return env
