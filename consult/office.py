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


# --- a warm LibreOffice, for the previews -----------------------------------------------------
#
# A cold conversion starts LibreOffice, converts and stops it: seconds, nearly all of them the
# start. The previews (``consult.previews``) are converted by one LibreOffice kept running in the
# worker's process: the unoserver package (https://github.com/unoconv/unoserver) starts it with a
# UNO listener and answers conversions over XML-RPC on 127.0.0.1. unoserver's server imports
# ``uno``, the bridge LibreOffice ships for the system's Python (Debian: python3-uno), which a
# virtualenv of another Python cannot load; so the server runs under the Python that has ``uno``
# (``uno_python``), with only the unoserver package put on its path, and this process speaks to it
# through unoserver's client, which needs no ``uno``. Without such a Python, or when the warm
# LibreOffice fails, the conversion is made cold, as before.

START_TIMEOUT = 90.0        # seconds for LibreOffice to start and the server to answer
CONVERSION_TIMEOUT = 180    # unoserver stops a LibreOffice that takes longer on one document


@lru_cache(maxsize=4)
def uno_python(configured: str | None = None) -> str | None:
    """A Python that can import LibreOffice's ``uno`` module (configured, else the system's)."""
    import sys

    for candidate in ([configured] if configured else ["/usr/bin/python3", "/usr/local/bin/python3", sys.executable]):
        if not candidate or not Path(candidate).exists():
            continue
        try:
            subprocess.run([candidate, "-c", "import uno"], check=True, capture_output=True, timeout=30)
        except (OSError, subprocess.SubprocessError):
            continue
        return candidate
    return None


def _free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _unoserver_path(folder: Path) -> Path:
    """A folder holding only the unoserver package (and its metadata, which it reads at import),
    to be the server's PYTHONPATH: nothing else of this virtualenv reaches the other Python."""
    from importlib import metadata

    import unoserver

    lib = folder / "pylib"
    lib.mkdir()
    (lib / "unoserver").symlink_to(Path(unoserver.__file__).parent, target_is_directory=True)
    info = Path(str(metadata.distribution("unoserver")._path))  # the .dist-info folder
    (lib / info.name).symlink_to(info, target_is_directory=True)
    return lib


def _machine_clock(env: dict[str, str]) -> dict[str, str]:
    """``env`` without libfaketime (the test suite runs under a faked clock): under it Python's
    ``time.sleep``, which unoserver calls as it starts, fails with EINVAL, and a conversion reads
    no clock that matters (the documents carry their dates as text)."""
    env = dict(env)
    preload = [p for p in env.get("LD_PRELOAD", "").split(":") if p and "faketime" not in p]
    if preload:
        env["LD_PRELOAD"] = ":".join(preload)
    else:
        env.pop("LD_PRELOAD", None)
    for key in [k for k in env if k.startswith("FAKETIME") or k in ("DONT_FAKE_MONOTONIC", "NO_FAKE_MONOTONIC")]:
        env.pop(key)
    return env


class WarmOffice:
    """One LibreOffice kept running behind unoserver, started on the first conversion and started
    again when it has died. Conversions are made one at a time (a lock): LibreOffice converts one
    document at a time anyway."""

    def __init__(self, python: str | None = None):
        import threading

        self.python = python
        self.process: subprocess.Popen | None = None
        self.port = 0
        self.folder: tempfile.TemporaryDirectory | None = None
        self.starts = 0
        self._lock = threading.Lock()

    def available(self) -> bool:
        try:
            import unoserver.client  # noqa: F401
        except ImportError:
            return False
        return shutil.which("soffice") is not None and uno_python(self.python) is not None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _start(self) -> None:
        import select
        import time
        from xmlrpc.client import ServerProxy

        self.stop()
        python = uno_python(self.python)
        if python is None:
            raise OfficeUnavailable("Không tìm thấy Python có mô-đun uno của LibreOffice (gói python3-uno).")
        self.folder = tempfile.TemporaryDirectory(prefix="consult-office-warm-")
        folder = Path(self.folder.name)
        env = _machine_clock(font_environment(folder))
        env["PYTHONPATH"] = str(_unoserver_path(folder))
        self.port, uno_port = _free_port(), _free_port()
        while uno_port == self.port:
            uno_port = _free_port()
        self.process = subprocess.Popen(
            [python, "-m", "unoserver.server", "--interface", "127.0.0.1", "--port", str(self.port),
             "--uno-interface", "127.0.0.1", "--uno-port", str(uno_port), "--executable", soffice(),
             "--user-installation", str(folder / "profile"), "--temp-dir", str(folder),
             "--conversion-timeout", str(CONVERSION_TIMEOUT), "--quiet"],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)  # its own process group: ``stop`` ends LibreOffice with it
        self.starts += 1
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if not self.alive():
                break
            try:
                with ServerProxy(f"http://127.0.0.1:{self.port}", allow_none=True) as proxy:
                    proxy.info()
                return
            except OSError:
                select.select([], [], [], 0.2)  # a relative wait, whatever the process's clock
        self.stop()
        raise OfficeUnavailable("LibreOffice không khởi động được để chuyển tài liệu sang PDF.")

    def convert(self, document: bytes, *, suffix: str = ".docx", target: str = "pdf") -> bytes:
        """``document`` converted by the warm LibreOffice (started or restarted as needed)."""
        from xmlrpc.client import Error as RpcError

        from unoserver.client import UnoClient

        with self._lock:
            for attempt in (1, 2):
                if not self.alive():
                    self._start()
                try:
                    data = UnoClient("127.0.0.1", str(self.port), host_location="remote").convert(
                        indata=document, convert_to=target)
                except (OSError, RpcError, RuntimeError):
                    # LibreOffice died or hung (unoserver then stops): once more on a fresh one.
                    self.stop()
                    if attempt == 2:
                        raise
                    continue
                if data:
                    return bytes(data)
                self.stop()
            raise OfficeUnavailable("LibreOffice không chuyển được tài liệu sang PDF.")

    def stop(self) -> None:
        """Stop the server and every process of its group (LibreOffice's oosplash outlives the
        server by seconds), killing what is left after a few seconds."""
        import select
        import signal
        import time

        if self.process is not None:
            group = self.process.pid
            for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(group, sig)
                except ProcessLookupError:
                    break
                deadline = time.monotonic() + grace
                while time.monotonic() < deadline:
                    self.process.poll()  # reap the server itself
                    try:
                        os.killpg(group, 0)
                    except ProcessLookupError:
                        break
                    select.select([], [], [], 0.05)  # not time.sleep: see _machine_clock
                else:
                    continue
                break
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            self.process = None
        if self.folder is not None:
            self.folder.cleanup()
            self.folder = None


_WARM: WarmOffice | None = None


def warm(python: str | None = None) -> WarmOffice:
    """This process's warm LibreOffice (one per process, stopped when the process exits)."""
    global _WARM
    if _WARM is None:
        import atexit

        _WARM = WarmOffice(python)
        atexit.register(_WARM.stop)
    return _WARM


def preview_pdf(document: bytes, *, suffix: str = ".docx", python: str | None = None) -> bytes:
    """A document as PDF for a preview: by the warm LibreOffice when this machine has one, else cold."""
    converter = warm(python)
    if converter.available():
        try:
            return converter.convert(document, suffix=suffix)
        except Exception:  # noqa: BLE001 - the cold way still works
            import logging

            logging.getLogger(__name__).warning("warm LibreOffice failed; converting cold", exc_info=True)
    return to_pdf(document, suffix=suffix)
