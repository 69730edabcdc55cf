"""The PDF previews are set in one font with every Vietnamese letter (issue #23 point 13).

Every generated document asks for Times New Roman, which fontconfig maps to Liberation Serif.
Debian's fonts-liberation 1.07 lacks most Vietnamese letters, and LibreOffice then takes them
glyph by glyph from DejaVu ("PHƯỜNG" with "ƯỜ" in another face); fonts-liberation2 (2.x) has
them all. Each kind of document is converted with ``consult.office.to_pdf`` and read back with
``pdffonts`` (only Liberation Serif regular, bold, italic, bold italic may be embedded) and
``pdftotext`` (the letters come out whole).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import unicodedata
from datetime import timedelta

import pytest
from docx import Document
from docx.oxml.ns import qn
from sqlalchemy import select

from consult import office
from consult.audit.service import SYSTEM
from consult.documents import service as documents
from consult.documents.docx import hdnd_docx, letter_docx, plan_docx
from consult.opinions.service import add_resident_opinion
from consult.reports import service as reports
from consult.reports.docx_export import build_docx
from consult.timeutil import utcnow
from tests.support.helpers import make_commune, make_consultation, make_group, make_unit

LETTERS = "ủ ộ ữ ặ ẫ ỹ ơ ư"
ALLOWED = {"LiberationSerif", "LiberationSerif-Bold", "LiberationSerif-Italic", "LiberationSerif-BoldItalic"}
DRAFT = f"""DỰ THẢO
NGHỊ QUYẾT
Về các chữ {LETTERS}
QUYẾT NGHỊ:
Điều 1. Phạm vi
1. Nghị quyết này có các chữ {LETTERS}.
Điều 2. Tổ chức thực hiện
Giao Ủy ban nhân dân tổ chức thực hiện./.
"""
KINDS = ["plan", "letter", "hdnd_report", "synthesis_report", "poll_decision", "poll_minutes"]

# Fonts do not depend on the database: the tests that build documents run on SQLite only.
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _need(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"{', '.join(missing)} needed (Debian: libreoffice-writer-nogui, poppler-utils, fontconfig)")
        pytest.skip(f"{', '.join(missing)} not installed")


def _consultation(session):
    commune = make_commune(session)
    group = make_group(session, commune)
    start = utcnow() - timedelta(days=30)
    c = make_consultation(session, commune, [make_unit(session, commune, "Hội Nông dân phường")], text=DRAFT,
                          now=start, days=21, title=f"Lấy ý kiến dự thảo Nghị quyết về các chữ {LETTERS}")
    add_resident_opinion(session, c, part_id=c.parts[0].id, text=f"Đề nghị giữ các chữ {LETTERS}.", name="Lan",
                         group_id=group.id, now=start + timedelta(days=1))
    return c


def _answered_and_published(session, c):
    reports.sync_clusters(session, c)
    for row in reports.report_data(session, c).rows():
        reports.decide(session, SYSTEM, c, row.cluster.id, decision="not_accepted",
                       explanation=f"Giữ nguyên các chữ {LETTERS}.")
    reports.publish_results(session, SYSTEM, c)


def _poll(session, *, minutes: bool):
    """A meeting that adopts its decision; for minutes of a count, household ballots counted."""
    from consult.polls import service as polls
    from consult.polls.models import PollHousehold
    from tests.support.polls import choice, close, group_with_households, hand_in_paper, open_vote

    commune, group = group_with_households(session, 10)
    title = f"Lắp camera có các chữ {LETTERS}"
    if minutes:
        poll = open_vote(session, commune, [group], form="ballot", chosen_by_head_and_front=True, title=title)
        ballots = polls.issue_ballots(session, SYSTEM, poll)
        hand_in_paper(session, poll, ballots[:8], {group.id: {choice(poll, "agree"): 6, choice(poll, "disagree"): 1}})
    else:
        poll = open_vote(session, commune, [group], form="meeting", title=title)
        for h in session.scalars(select(PollHousehold).where(PollHousehold.poll_id == poll.id)).all()[:8]:
            polls.check_in(session, SYSTEM, poll, poll_household_id=h.id)
        polls.record_meeting_count(session, SYSTEM, poll, counts={choice(poll, "agree"): 7}, method="hands")
    close(session, poll)
    return poll


def _build(session, kind: str) -> bytes:
    """One document of ``kind``, with the Vietnamese letters in its bold title and in its body."""
    if kind.startswith("poll_"):
        from consult.polls import documents as poll_documents

        poll = _poll(session, minutes=kind == "poll_minutes")
        return (poll_documents.decision_docx if kind == "poll_decision" else poll_documents.minutes_docx)(session, poll)
    c = _consultation(session)
    if kind == "plan":
        return plan_docx(c, documents.default_plan(c), None)
    if kind == "letter":
        return letter_docx(c, None, plan_entry=None, signer_mode="TM", signer_name="Vũ Thị Hiền",
                           reply_url="https://binhan.example.vn/opinions/")
    _answered_and_published(session, c)
    if kind == "hdnd_report":
        return hdnd_docx(c, reports.report_data(session, c, public=True), None, signer_mode="TM",
                         signer_name="Vũ Thị Hiền", results_url="https://binhan.example.vn/r")
    return build_docx(reports.report_data(session, c))


def _fonts(pdf: bytes, tmp_path) -> set[str]:
    path = tmp_path / "document.pdf"
    path.write_bytes(pdf)
    listing = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    # "BAAAAA+LiberationSerif-Bold  TrueType ..." : the subset prefix off, the name only.
    return {re.sub(r"^[A-Z]{6}\+", "", line.split()[0]) for line in listing.splitlines()[2:] if line.strip()}


def _text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "document.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(unicodedata.normalize("NFC", text).split())


@sqlite_only
@pytest.mark.parametrize("kind", KINDS)
def test_pdf_previews_embed_only_liberation_serif_and_keep_every_vietnamese_letter_whole(session, tmp_path, kind):
    """Issue #23 point 13: no fallback font (DejaVu) inside a word; "PHƯỜNG" and ủ ộ ữ ặ ẫ ỹ ơ ư whole."""
    _need("soffice", "pdffonts", "pdftotext")
    pdf = office.to_pdf(_build(session, kind))
    fonts = _fonts(pdf, tmp_path)
    assert fonts and fonts <= ALLOWED, f"{kind}: {sorted(fonts - ALLOWED)} embedded beside Liberation Serif"
    text = _text(pdf, tmp_path)
    assert "PHƯỜNG" in text and LETTERS in text, kind


@pytest.fixture
def machine_preferring_liberation_1(tmp_path, monkeypatch):
    """A machine whose fontconfig prefers fonts-liberation 1.07: every Liberation 2.x file rejected
    in the FONTCONFIG_FILE the application is started with."""
    _need("fc-match")
    current = [path for path, _, revision in office._liberation_files() if revision >= 2.0]
    if not current:
        pytest.fail("Liberation Serif 2.x is needed for Vietnamese (Debian package fonts-liberation2)")
    globs = "".join(f"<glob>{path}</glob>" for path in current)
    conf = tmp_path / "machine-fonts.conf"
    conf.write_text('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n<fontconfig>'
                    f'<include ignore_missing="yes">{office.SYSTEM_FONTCONFIG}</include>'
                    f"<selectfont><rejectfont>{globs}</rejectfont></selectfont></fontconfig>\n", encoding="utf-8")
    monkeypatch.setenv("FONTCONFIG_FILE", str(conf))
    return conf


def _fc_match(pattern: str, env: dict) -> str:
    return subprocess.run(["fc-match", "-f", "%{file}", pattern], capture_output=True, text=True, check=True,
                          env=env).stdout.strip()


def test_times_new_roman_is_liberation_serif_2_for_libreoffice_whatever_the_machine_prefers(
        machine_preferring_liberation_1, tmp_path):
    """Issue #23 point 13: the fontconfig file the application gives LibreOffice maps Times New Roman,
    and a Liberation Serif with Vietnamese letters (U+1EE7 ủ), to a 2.x file, even where the machine's
    own configuration would pick 1.07."""
    assert office.font_revision(_fc_match("Times New Roman", dict(os.environ))) < 2.0  # the machine's choice
    env = office.font_environment(tmp_path)
    for pattern in ("Times New Roman", "Times New Roman:bold:italic", "Liberation Serif:charset=1ee7"):
        path = _fc_match(pattern, env)
        assert "LiberationSerif" in path and office.font_revision(path) >= 2.0, (pattern, path)


@sqlite_only
def test_pdf_previews_keep_liberation_serif_2_whatever_the_machine_prefers(session, tmp_path,
                                                                           machine_preferring_liberation_1):
    """Issue #23 point 13: where the machine's fontconfig prefers Liberation 1.07, the letter still
    embeds only Liberation Serif (2.x: no DejaVu for ơ, ư, ủ...)."""
    _need("soffice", "pdffonts", "pdftotext")
    pdf = office.to_pdf(_build(session, "letter"))
    fonts = _fonts(pdf, tmp_path)
    assert fonts <= ALLOWED, sorted(fonts - ALLOWED)
    assert "PHƯỜNG" in _text(pdf, tmp_path)


@sqlite_only
@pytest.mark.parametrize("kind", ["plan", "letter", "hdnd_report", "synthesis_report"])
def test_documents_ask_for_times_new_roman_in_every_run_and_in_their_defaults(session, kind):
    """NĐ 30 Điều 8 (Times New Roman): every run names it, and so do the document's defaults
    (w:docDefaults), which otherwise name the template's theme fonts (Calibri: Carlito)."""
    document = Document(io.BytesIO(_build(session, kind)))
    defaults = document.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    fonts = defaults.find(qn("w:rFonts"))
    assert {fonts.get(qn(f"w:{a}")) for a in ("ascii", "hAnsi", "cs", "eastAsia")} == {"Times New Roman"}
    assert not [a for a in fonts.attrib if a.endswith("Theme") or a.endswith("theme")]
    runs = [r for p in document.paragraphs for r in p.runs if r.text.strip()]
    runs += [r for t in document.tables for row in t.rows for c in row.cells for p in c.paragraphs for r in p.runs
             if r.text.strip()]
    assert runs and {r.font.name for r in runs} == {"Times New Roman"}
