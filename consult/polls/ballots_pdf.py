"""Printable ballot slips: three per A4 page with cut lines (NĐ 59 Điều 4 khoản 5).

Each slip: the commune and group, the title, the content, the choices with a
box to mark and how to mark it, "ý kiến khác", the deadline, and the place for
the commune's stamp (commune-wide matter, top left) or the head's signature
(group matter, bottom right); beside it, the household's code and name, a QR
code of its ballot link and the manual code.

A paper ballot (phát phiếu) keeps the household on a stub (cuống phiếu) that is
torn off when the slip is handed in and recorded for turnout; the ballot part
that goes into the box carries nothing linked to the household. An online slip
is the household's key to the ballot page and is never handed in.
Fonts: DejaVu Sans, shipped in static/fonts.
"""

from __future__ import annotations

from pathlib import Path

import qrcode
import qrcode.exceptions
from fpdf import FPDF
from fpdf.enums import MethodReturnValue
from PIL import Image

from consult import ROOT
from consult.polls import rules
from consult.polls.models import FORM_MEETING, FORM_ONLINE, Poll
from consult.polls.secrecy import key_fingerprint
from consult.polls.service import IssuedBallot
from consult.timeutil import format_datetime

FONT_DIR = Path(ROOT) / "static" / "fonts"
SLIPS_PER_PAGE = 3
SLIP_H = 297 / SLIPS_PER_PAGE
# Every slip has its own two cut lines, this far inside its third of the page: slips are
# printed in the households' order, so a slip must not tell where on the page it stood (the
# top one with the paper's edge, the bottom one without a cut line or its words). Cut along
# them, every slip has the same marks, the same height and two cut edges; the strips between
# go away. 5 mm keeps the lines inside what any printer prints.
CUT_MARGIN = 5


QR_SCALE = 4  # pixels per module: crisp when printed at 40 mm, whatever the viewer's smoothing


def _qr_image(data: str):
    """The QR code of ``data`` as a black-and-white greyscale image.

    A fixed mask: letting the library try all eight in pure Python costs two thirds of the
    time of a slip; every mask is valid and the slips are checked with zbarimg in the tests.
    The image is made from the library's module matrix by PIL in one call, not module
    by module through the library's image factory (a third of a slip's time).
    """
    matrix = _qr_matrix(data)
    size = len(matrix)
    pixels = b"".join(bytes(row) for row in matrix).translate(_DARK_TO_BLACK)  # True (1) → 0, False (0) → 255
    image = Image.frombytes("L", (size, size), pixels)
    return image.resize((size * QR_SCALE, size * QR_SCALE), Image.Resampling.NEAREST)


_DARK_TO_BLACK = bytes([255, 0]) + bytes(254)
_versions: dict[int, int] = {}


def _qr_matrix(data: str) -> list[list[bool]]:
    """The module matrix; the smallest version that fits is found once per length of text
    (every link of a vote has the same length), not by trial encodings for each code."""
    version = _versions.get(len(data))
    qr = qrcode.QRCode(version=version, error_correction=qrcode.constants.ERROR_CORRECT_M, border=2, mask_pattern=4)
    qr.add_data(data)
    try:
        qr.make(fit=version is None)
    except qrcode.exceptions.DataOverflowError:  # a text of this length needing more (another mode)
        qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2, mask_pattern=4)
        qr.add_data(data)
        qr.make(fit=True)
    if version is None:
        _versions[len(data)] = qr.version
    return qr.get_matrix()


_widths: dict[tuple, float] = {}


def _write(pdf: FPDF, x: float, y: float, w: float, h: float, text: str, *, centred: bool = False) -> None:
    """One line of text where ``cell(w, h, text)`` at (x, y) would put it, drawn with
    ``text()``, a quarter of the cost (a slip has some fifteen such lines)."""
    if centred:
        key = (pdf.font_family, pdf.font_style, pdf.font_size_pt, text)
        width = _widths.get(key)
        if width is None:
            width = _widths[key] = pdf.get_string_width(text)
            if len(_widths) > 10_000:
                _widths.clear()
        x += (w - width) / 2
    else:
        x += pdf.c_margin
    pdf.text(x, y + 0.5 * h + 0.3 * pdf.font_size, text)


class _Lines:
    """A text broken into lines once for all slips (the line breaking is most of a slip's
    text cost and the same on every slip), then written line by line."""

    def __init__(self, pdf: FPDF, width: float, height: float, text: str, style: str, size: float, align: str = "L"):
        pdf.set_font("DejaVu", style, size)
        self.lines = pdf.multi_cell(width, height, text, align=align, dry_run=True, output=MethodReturnValue.LINES)
        self.width, self.height, self.style, self.size, self.align = width, height, style, size, align

    def write(self, pdf: FPDF, x: float, y: float) -> float:
        pdf.set_font("DejaVu", self.style, self.size)
        for line in self.lines:
            _write(pdf, x, y, self.width, self.height, line, centred=self.align == "C")
            y += self.height
        return y


def ballots_pdf(poll: Poll, ballots: list[IssuedBallot], base_url: str, group_names: dict[int, str], *,
                progress=None) -> bytes:
    """All slips, three to a page; ``progress(done, total)`` is told every 100 slips."""
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    # The QR images go in as 8-bit greyscale under zlib: smaller than as 1-bit images under the
    # CCITT fax encoding fpdf2 picks for those (a TIFF written and parsed per code), and faster.
    pdf.set_image_filter("FlateDecode")
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_title(f"Phiếu biểu quyết: {poll.title}")
    pdf.set_creator("consult")
    commune = poll.commune
    text = poll.question if not poll.content else f"{poll.question} {poll.content}"
    # The vote key's fingerprint, the same on every slip: the ballot page shows it too.
    fingerprint = (key_fingerprint(poll.public_key, poll.texts_key)
                   if poll.form == FORM_ONLINE and poll.public_key and poll.texts_key else None)
    shared = None
    for index, ballot in enumerate(ballots):
        slot = index % SLIPS_PER_PAGE
        if slot == 0:
            pdf.add_page()
        if shared is None:
            shared = (_Lines(pdf, 140, 4, poll.title, "B", 9, align="C"), _Lines(pdf, 140, 3.6, text[:600], "", 8),
                      _Lines(pdf, 46, 3, code_note(poll, base_url), "", 6.5, align="C"))
        top = slot * SLIP_H
        _slip(pdf, poll, commune, ballot, base_url.rstrip("/"), group_names.get(ballot.household.group_id, ""), top,
              shared, fingerprint)
        _cut_lines(pdf, top)
        if progress and index % 100 == 99:
            progress(index + 1, len(ballots))
    return bytes(pdf.output())


def code_note(poll: Poll, base_url: str) -> str:
    """What the code under the QR code is for. Only an online vote's household enters it to vote;
    a paper ballot's code is on the stub, which the Tổ phát phiếu scans or types when the slip is
    handed in (the ballot page refuses a household's choice for a paper vote); a meeting's slip is
    shown at the door."""
    if poll.form == FORM_ONLINE:
        return f"Mã phiếu (nhập tại {base_url.rstrip('/')}/b)"
    if poll.form == FORM_MEETING:
        return "Mã phiếu: xuất trình khi điểm danh tại cuộc họp"
    return "Mã cuống phiếu: Tổ phát phiếu quét hoặc nhập khi thu phiếu"


def _cut_lines(pdf: FPDF, top: float) -> None:
    """The slip's own cut lines and their words, at the same place on every slip (CUT_MARGIN)."""
    pdf.set_draw_color(120, 120, 120)
    pdf.set_dash_pattern(dash=2, gap=1.5)
    for y in (top + CUT_MARGIN, top + SLIP_H - CUT_MARGIN):
        pdf.line(CUT_MARGIN, y, 210 - CUT_MARGIN, y)
    pdf.set_dash_pattern()
    pdf.set_draw_color(0, 0, 0)
    pdf.set_text_color(90, 90, 90)
    pdf.set_font("DejaVu", "", 6)
    # On the scrap beyond each line, thrown away with it.
    _write(pdf, 155, top + CUT_MARGIN - 3.2, 46, 3, "✂ cắt theo đường này", centred=True)
    _write(pdf, 155, top + SLIP_H - CUT_MARGIN + 0.2, 46, 3, "✂ cắt theo đường này", centred=True)
    pdf.set_text_color(0, 0, 0)


def _slip(pdf: FPDF, poll: Poll, commune, ballot: IssuedBallot, base_url: str, group_name: str, top: float,
          shared: tuple[_Lines, _Lines, _Lines], fingerprint: str | None = None) -> None:
    left, width = 12, 140
    link = f"{base_url}/b/{ballot.token}"
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("DejaVu", "B", 8)
    _write(pdf, left, top + 6.5, width, 4, f"{commune.full_name.upper()} — {group_name.upper()}")
    if poll.commune_wide:
        pdf.set_font("DejaVu", "", 6)
        _write(pdf, left, top + 10, 40, 3, "(Đóng dấu của UBND cấp xã)")
    pdf.set_font("DejaVu", "B", 11)
    heading = "PHIẾU BIỂU QUYẾT TRỰC TUYẾN" if poll.form == FORM_ONLINE else "PHIẾU LẤY Ý KIẾN HỘ GIA ĐÌNH"
    _write(pdf, left, top + 13, width, 5, heading, centred=True)
    title, question = shared[:2]
    y = question.write(pdf, left, title.write(pdf, left, top + 19)) + 1
    seats = max(1, poll.seats or 1)
    if poll.form == FORM_ONLINE:
        how = "Quét mã QR hoặc nhập mã phiếu tại trang biểu quyết để chọn."
    elif any(c.kind == "candidate" for c in poll.choices):
        how = (f"Đánh dấu X vào ô của người được bầu, tối đa {seats} người; phiếu đánh dấu quá {seats} người "
               "không hợp lệ.")
    else:
        how = "Đánh dấu X vào một ô; ghi ý kiến khác (nếu có) rồi nộp phiếu cho Tổ phát phiếu."
    pdf.set_font("DejaVu", "", 7)
    _write(pdf, left, y, width, 3.5, f"Cách đánh dấu: {how}")
    y += 5
    pdf.set_font("DejaVu", "", 9)
    online = poll.form == FORM_ONLINE
    if online:  # chosen on the ballot page: the slip lists the choices, with no box to tick
        _write(pdf, left, y, width, 5, "Các phương án (chọn trên trang biểu quyết):")
        y += 5.5
    for choice in poll.choices:
        if online:
            _write(pdf, left + 2, y, width - 2, 5, f"– {choice.label}")
            y += 5.5
            continue
        pdf.rect(left + 2, y + 0.6, 3.6, 3.6)
        _write(pdf, left + 8, y, 60, 5, choice.label)
        if choice.kind == "other":
            pdf.set_draw_color(150, 150, 150)
            pdf.line(left + 36, y + 4.2, left + width, y + 4.2)
            pdf.set_draw_color(0, 0, 0)
        y += 5.5
    if not online and not any(c.kind == "other" for c in poll.choices):
        _write(pdf, left, y, 30, 5, "Ý kiến khác:")
        pdf.set_draw_color(150, 150, 150)
        pdf.line(left + 24, y + 4.2, left + width, y + 4.2)
        pdf.set_draw_color(0, 0, 0)
        y += 5.5
    pdf.set_font("DejaVu", "B", 8)
    if poll.form == FORM_MEETING:
        when = f"Thời gian họp: {format_datetime(poll.opens_at)}"
    else:
        when = (f"{'Hạn biểu quyết' if poll.form == FORM_ONLINE else 'Hạn nộp phiếu'}: trước "
                f"{format_datetime(poll.closes_at)}")
    _write(pdf, left, y + 0.5, width, 4, when)
    paper = poll.form != FORM_ONLINE
    if not paper:
        pdf.set_font("DejaVu", "", 8)
        _write(pdf, left, y + 5, width, 4, f"Hộ: {ballot.household.code} — {ballot.household.representative}")
    if poll.group is not None:
        pdf.set_font("DejaVu", "", 7)
        _write(pdf, left + 85, top + SLIP_H - 14, 55, 3.5, rules.HEAD_TITLES.get(poll.group.kind, "TRƯỞNG KHU DÂN CƯ"),
               centred=True)
        _write(pdf, left + 85, top + SLIP_H - 10.5, 55, 3.5, "(ký, ghi rõ họ tên)", centred=True)
    if paper:
        # The stub: torn off along this line when the slip is handed in.
        pdf.set_draw_color(120, 120, 120)
        pdf.set_dash_pattern(dash=2, gap=1.5)
        pdf.line(153.5, top + CUT_MARGIN, 153.5, top + SLIP_H - CUT_MARGIN)
        pdf.set_dash_pattern()
        pdf.set_draw_color(0, 0, 0)
        pdf.set_font("DejaVu", "B", 6.5)
        _write(pdf, 155, top + CUT_MARGIN + 0.5, 46, 3, "CUỐNG PHIẾU — xé ra khi nộp phiếu", centred=True)
        pdf.set_font("DejaVu", "", 6.5)
        name = ballot.household.representative[:80]
        if pdf.get_string_width(name) <= 45:
            _write(pdf, 155, top + 68, 46, 3, name, centred=True)
        else:
            pdf.set_xy(155, top + 68)
            pdf.multi_cell(46, 3, name, align="C")
    # QR code of the ballot link, and the manual code under it.
    pdf.image(_qr_image(link), x=158, y=top + 8, w=40, h=40)
    pdf.set_font("DejaVu", "B", 9)
    _write(pdf, 155, top + 49, 46, 4, ballot.code, centred=True)
    shared[2].write(pdf, 155, top + 53)
    pdf.set_font("DejaVu", "B", 9)
    _write(pdf, 155, top + 60, 46, 4, f"Mã hộ: {ballot.household.code}", centred=True)
    if fingerprint:
        pdf.set_font("DejaVu", "", 6.5)
        _write(pdf, 155, top + 66, 46, 3, "Khóa của cuộc biểu quyết:", centred=True)
        pdf.set_font("DejaVu", "B", 7)
        _write(pdf, 155, top + 69, 46, 3.5, fingerprint, centred=True)
