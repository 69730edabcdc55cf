"""The warm LibreOffice of the previews (office.WarmOffice, unoserver): it lays documents out with
the same fonts as a cold conversion, starts once for many documents, starts again when it has
died, and leaves no process behind when stopped."""

from __future__ import annotations

import io
import os
import signal
import subprocess

import pytest
from docx import Document

from consult import office

TEXT = "Ủy ban nhân dân phường Bình An: ơ ư ủ ộ ữ ặ ẫ ỹ Ỷ"


def _warm() -> office.WarmOffice:
    converter = office.WarmOffice()
    if not converter.available():
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("LibreOffice with python3-uno and unoserver are needed")
        pytest.skip("no LibreOffice with python3-uno here")
    return converter


def _docx(text: str) -> bytes:
    document = Document()
    run = document.add_paragraph().add_run(text)
    run.font.name = "Times New Roman"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _read(pdf: bytes, tmp_path, tool: str) -> str:
    path = tmp_path / "out.pdf"
    path.write_bytes(pdf)
    return subprocess.run([tool, str(path), "-"] if tool == "pdftotext" else [tool, str(path)],
                          capture_output=True, text=True, check=True).stdout


def test_warm_conversions_share_one_libreoffice_and_embed_the_vietnamese_fonts(tmp_path):
    converter = _warm()
    try:
        first = converter.convert(_docx(TEXT))
        second = converter.convert(_docx(TEXT + " lần hai"))
        assert converter.starts == 1 and converter.alive()
        assert TEXT in _read(first, tmp_path, "pdftotext") and "lần hai" in _read(second, tmp_path, "pdftotext")
        fonts = _read(first, tmp_path, "pdffonts")
        # Times New Roman is laid out in Liberation Serif 2 (every Vietnamese letter), as cold.
        assert "LiberationSerif" in fonts and "DejaVu" not in fonts
        cold_fonts = _read(office.to_pdf(_docx(TEXT)), tmp_path, "pdffonts")
        assert [line.split()[0] for line in fonts.splitlines()[2:]] == \
            [line.split()[0] for line in cold_fonts.splitlines()[2:]]
    finally:
        converter.stop()


def test_a_dead_libreoffice_is_started_again_and_stop_leaves_nothing_running(tmp_path):
    converter = _warm()
    try:
        converter.convert(_docx(TEXT))
        group = converter.process.pid
        os.killpg(group, signal.SIGKILL)  # LibreOffice and its server die (out of memory, a crash)
        converter.process.wait()
        assert not converter.alive()
        assert TEXT in _read(converter.convert(_docx(TEXT)), tmp_path, "pdftotext")
        assert converter.starts == 2
        group = converter.process.pid
        folder = converter.folder.name
    finally:
        converter.stop()
    assert converter.process is None and not os.path.exists(folder)
    with pytest.raises(ProcessLookupError):
        os.killpg(group, 0)  # no process of the server's group is left


def test_preview_pdf_converts_cold_when_no_python_has_uno(tmp_path, monkeypatch):
    if office.shutil.which("soffice") is None:
        pytest.skip("LibreOffice not installed")
    monkeypatch.setattr(office, "_WARM", None)
    pdf = office.preview_pdf(_docx(TEXT), python=str(tmp_path / "no-such-python"))
    assert TEXT in _read(pdf, tmp_path, "pdftotext")
    assert office._WARM is not None and office._WARM.process is None  # nothing was started


def test_the_converter_runs_on_the_machines_clock_and_keeps_any_other_preload():
    env = {"LD_PRELOAD": "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1:/opt/lib/libother.so",
           "FAKETIME": "@2026-12-31 23:59:30", "FAKETIME_NO_CACHE": "1", "DONT_FAKE_MONOTONIC": "1",
           "TZ": "UTC", "PATH": "/usr/bin"}
    assert office._machine_clock(env) == {"LD_PRELOAD": "/opt/lib/libother.so", "TZ": "UTC", "PATH": "/usr/bin"}
    assert "LD_PRELOAD" not in office._machine_clock({"LD_PRELOAD": "libfaketime.so.1", "FAKETIME": "+1d"})
    assert office._machine_clock({"PATH": "/bin"}) == {"PATH": "/bin"}
