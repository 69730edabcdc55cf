"""The commune's answer to a community's decision, on paper (Luật Điều 21 khoản 2; NĐ 61/2023
Điều 10, 11; NĐ 30/2020 layout): the quyết định công nhận, the letter of refusal with its reasons,
the hồ sơ đề nghị công nhận of a hương ước, and the hương ước as an annex that keeps its chapters,
articles and lines (issue 23 points 7 and 10). Each document is read back with python-docx, and
laid out by LibreOffice: the signature never stands alone on a page, only Liberation Serif (the
Times New Roman of the decree) is embedded."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from datetime import timedelta

import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from sqlalchemy import select

from consult.audit.service import SYSTEM
from consult.covenants import documents as covenant_documents
from consult.covenants import service as covenants
from consult.polls import documents, recognition
from consult.polls import service as polls
from consult.polls.models import PollHousehold
from consult.timeutil import format_date, local_date, today, vietnamese_long_date
from tests.support.covenants import COMMENT, TEXT, adopted_covenant, recognised_covenant
from tests.support.polls import close, group_with_households, open_vote

ARTICLES = ["Điều 1. Phạm vi điều chỉnh", "Điều 2. Đối tượng áp dụng", "Điều 3. Vệ sinh môi trường",
            "Điều 4. An ninh trật tự", "Điều 5. Hiệu lực"]
LINES = ["Hương ước này quy định việc giữ gìn vệ sinh, an ninh trật tự", "và nếp sống văn minh của khu phố.",
         "1. Các hộ gia đình thường trú tại khu phố;", "2. Các hộ tạm trú từ 6 tháng trở lên.",
         "a) Đổ rác đúng giờ quy định;", "b) Không đổ rác xuống cống.",
         "Giữ trật tự từ 22 giờ đến 5 giờ sáng hôm sau."]
REASONS = "Điều 4 đặt giờ giữ trật tự trái với quy định chung của phường.\nChưa có biên bản kiểm phiếu kèm theo."


def _read(data: bytes) -> tuple[Document, str]:
    document = Document(io.BytesIO(data))
    text = "\n".join(p.text for p in document.paragraphs)
    text += "\n" + "\n".join(c.text for t in document.tables for row in t.rows for c in row.cells)
    return document, text


def _paragraph(document, text: str):
    found = [p for p in document.paragraphs if p.text == text]
    assert len(found) == 1, f"{text!r}: {len(found)} paragraphs"
    return found[0]


def _bold(p) -> bool:
    return bool(p.runs) and all(r.bold for r in p.runs if r.text.strip())


def _after(document, marker: str):
    """The paragraphs after the first one that contains ``marker``."""
    paragraphs = document.paragraphs
    start = next(i for i, p in enumerate(paragraphs) if marker in p.text)
    return paragraphs[start + 1:]


def _assert_structure(paragraphs) -> None:
    """Issue 23 point 10: one bold paragraph per Điều, chapters centred and bold, every line of the
    text its own paragraph, a line that only quotes an article ("Điều 9 của Luật...") plain text."""
    texts = [p.text for p in paragraphs]
    for article in ARTICLES:
        assert texts.count(article) == 1, article
        assert _bold(paragraphs[texts.index(article)]), article
    for chapter in ("Chương I", "QUY ĐỊNH CHUNG", "Chương II", "NỘI DUNG CỤ THỂ", "Chương III"):
        p = paragraphs[texts.index(chapter)]
        assert _bold(p) and p.alignment == WD_ALIGN_PARAGRAPH.CENTER, chapter
    for line in LINES:
        assert texts.count(line) == 1, line
        assert not _bold(paragraphs[texts.index(line)])
    quoted = next(p for p in paragraphs if p.text.startswith("Điều 9 của Luật"))
    assert not _bold(quoted)
    assert texts.index(ARTICLES[0]) < texts.index(LINES[0]) < texts.index(LINES[1]) < texts.index(ARTICLES[1])


def test_dieu_21_k2_nd61_dieu_11_quyet_dinh_cong_nhan_huong_uoc_with_its_annex(session):
    """Luật Điều 21 khoản 2, NĐ 61 Điều 11: the UBND's quyết định công nhận, with the number and date
    recorded, its căn cứ, Điều 1-3, Nơi nhận, "TM. ỦY BAN NHÂN DÂN / CHỦ TỊCH", and the hương ước
    ban hành kèm theo on its own pages, keeping its chapters, articles and lines."""
    covenant, poll = recognised_covenant(session)
    on, decided = poll.recognised_on, local_date(poll.decided_at)
    document, text = _read(recognition.recognition_docx(session, poll))
    assert "Số: 15/QĐ-UBND" in text and vietnamese_long_date(on, "Bình An") in text
    assert "ỦY BAN NHÂN DÂN\nPHƯỜNG BÌNH AN" in text
    assert _bold(_paragraph(document, "QUYẾT ĐỊNH")) and _bold(_paragraph(document, "QUYẾT ĐỊNH:"))
    assert _bold(_paragraph(document, "Về việc công nhận hương ước khu phố 1"))
    for ground in ("Căn cứ Luật Tổ chức chính quyền địa phương", "Căn cứ Luật Thực hiện dân chủ ở cơ sở ngày 10 "
                   "tháng 11 năm 2022;", "Căn cứ Nghị định số 61/2023/NĐ-CP",
                   f"Căn cứ Nghị quyết của Hội nghị cộng đồng dân cư Khu phố 1 ngày {format_date(decided)}",
                   f"Xét đề nghị của Trưởng khu phố 1 và Trưởng Ban công tác Mặt trận khu phố 1 (hồ sơ nhận ngày "
                   f"{format_date(poll.received_on)})."):
        assert ground in text, ground
    articles = {n: next(p for p in document.paragraphs if p.text.startswith(f"Điều {n}. ")) for n in (1, 2, 3)}
    assert f"Công nhận hương ước khu phố 1 được cộng đồng dân cư Khu phố 1 thông qua tại Hội nghị cộng đồng dân cư " \
           f"Khu phố 1 ngày {format_date(decided)} (ban hành kèm theo Quyết định này)" in articles[1].text
    assert "Kết quả: tổng số hộ gia đình 10; số hộ có mặt 7; 6/10 hộ đồng ý" in articles[1].text
    assert articles[1].runs[0].text == "Điều 1. " and articles[1].runs[0].bold
    assert f"có hiệu lực kể từ ngày {format_date(on)}" in articles[2].text and "Điều 21" in articles[2].text
    assert "chịu trách nhiệm thi hành Quyết định này./." in articles[3].text
    assert "niêm yết công khai hương ước" in articles[3].text
    closing = document.tables[-1].rows[0].cells
    assert closing[0].text.startswith("Nơi nhận:\n- Như Điều 3;") and closing[0].text.endswith("- Lưu: VT, VP-TK.")
    assert closing[1].text.startswith("TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH")
    note = _paragraph(document, f"(Ban hành kèm theo Quyết định số 15/QĐ-UBND ngày {format_date(on)} của Ủy ban "
                                "nhân dân phường Bình An)")
    annex = _after(document, note.text)
    assert _paragraph(document, "HƯƠNG ƯỚC").paragraph_format.page_break_before
    assert _bold(_paragraph(document, "KHU PHỐ 1"))
    _assert_structure(annex)
    # Everything of the text is in the annex, and nowhere else.
    assert sum(1 for p in document.paragraphs if LINES[0] in p.text) == 1


def test_dieu_21_k2_quyet_dinh_cong_nhan_of_a_k5_election_by_the_front(session):
    """Luật Điều 21 khoản 2: a khoản 5 election takes effect when the Ban Thường trực Ủy ban MTTQ cấp
    xã recognises it; the quyết định is the Front's, under Luật Mặt trận and NĐ 59, and names the
    elected; no annex."""
    commune, group = group_with_households(session, 10)
    poll = open_vote(session, commune, [group], matter="k5", form="meeting", options=["Nguyễn Văn A", "Trần Thị B"],
                     title="Bầu thành viên Ban Thanh tra nhân dân")
    for h in session.scalars(select(PollHousehold).where(PollHousehold.poll_id == poll.id)).all()[:8]:
        polls.check_in(session, SYSTEM, poll, poll_household_id=h.id)
    a, b = (c.id for c in poll.choices)
    polls.record_meeting_count(session, SYSTEM, poll, counts={a: 2, b: 6}, method="secret", returned=8, invalid=0)
    close(session, poll)
    decided = local_date(poll.decided_at)
    polls.record_received(session, SYSTEM, poll, decided)
    polls.recognise(session, SYSTEM, poll, number="03/QĐ-MTTQ-BTT", on=decided + timedelta(days=1))
    document, text = _read(recognition.recognition_docx(session, poll))
    assert "Số: 03/QĐ-MTTQ-BTT" in text and "BAN THƯỜNG TRỰC" in text
    assert "BAN THƯỜNG TRỰC ỦY BAN MẶT TRẬN TỔ QUỐC VIỆT NAM PHƯỜNG BÌNH AN" in text
    assert "Căn cứ Luật Mặt trận Tổ quốc Việt Nam" in text and "Căn cứ Nghị định số 59/2023/NĐ-CP" in text
    assert "Nghị định số 61/2023" not in text and "Luật Tổ chức chính quyền địa phương" not in text
    assert "Về việc công nhận kết quả biểu quyết của cộng đồng dân cư Khu phố 1 về bầu thành viên Ban Thanh tra " \
           "nhân dân" in text
    assert "Trúng cử: Trần Thị B" in text
    assert f"có hiệu lực kể từ ngày {format_date(poll.recognised_on)}" in text
    assert document.tables[-1].rows[0].cells[1].text.startswith("TM. BAN THƯỜNG TRỰC\nCHỦ TỊCH")
    assert "kèm theo Quyết định số" not in text


def test_dieu_21_k2_no_decision_before_recognition_and_no_letter_before_a_refusal(session):
    """Luật Điều 21 khoản 2: the document exists once the commune has recorded its answer."""
    covenant, poll = adopted_covenant(session)
    with pytest.raises(recognition.NotAvailable):
        recognition.recognition_docx(session, poll)
    with pytest.raises(recognition.NotAvailable):
        recognition.refusal_docx(session, poll)


def test_dieu_21_k2_cong_van_khong_cong_nhan_states_its_reasons_and_what_follows(session):
    """Luật Điều 21 khoản 2: a refusal is answered in writing with its reasons; for a hương ước the
    community amends it, posts it again for comments and adopts it again (NĐ 61 Điều 9-11)."""
    covenant, poll = adopted_covenant(session)
    polls.refuse_recognition(session, SYSTEM, poll, reason=REASONS)
    document, text = _read(recognition.refusal_docx(session, poll))
    header = document.tables[0]
    assert header.cell(1, 0).text == "Số:       /UBND\nV/v không công nhận hương ước khu phố 1"
    # Dated the day the refusal was recorded, never before the day the decision was received.
    assert header.cell(1, 1).text == vietnamese_long_date(max(today(), poll.received_on), "Bình An")
    assert "Kính gửi:\n- Trưởng khu phố 1;\n- Trưởng Ban công tác Mặt trận khu phố 1.\n" in text
    received = next(p.text for p in document.paragraphs if p.text.startswith("Ngày "))
    assert received.startswith(f"Ngày {format_date(poll.received_on)}, Ủy ban nhân dân phường Bình An nhận được "
                               f"Nghị quyết của Hội nghị cộng đồng dân cư Khu phố 1 ngày "
                               f"{format_date(poll.decided_at)}")
    assert "không công nhận hương ước khu phố 1, vì các lý do sau:" in text
    assert "Điều 11 Nghị định số 61/2023/NĐ-CP" in text
    for reason in REASONS.splitlines():  # each reason its own paragraph
        _paragraph(document, f"- {reason}")
    assert "hương ước khu phố 1 chưa có hiệu lực" in text
    assert "góp ý ít nhất 30 ngày" in text and "thông qua lại" in text and "hồ sơ đề nghị công nhận" in text
    assert "Ủy ban nhân dân phường Bình An thông báo để Trưởng khu phố 1 và Trưởng Ban công tác Mặt trận khu phố 1 " \
           "biết, thực hiện./." in text
    closing = document.tables[-1].rows[0].cells
    assert closing[0].text.startswith("Nơi nhận:\n- Như trên;")
    assert closing[1].text.startswith("TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH")


def test_nd61_dieu_11_ho_so_de_nghi_cong_nhan_lists_its_papers_and_holds_the_text(session):
    """NĐ 61 Điều 11: the group head's tờ trình to the UBND lists what the hồ sơ holds (the text, the
    community's nghị quyết, the synthesis of opinions); the synthesis gives every comment without
    the household's name; the adopted text keeps its structure."""
    covenant, poll = adopted_covenant(session)
    document, text = _read(covenant_documents.dossier_docx(session, covenant))
    assert _bold(_paragraph(document, "TỜ TRÌNH"))
    assert _bold(_paragraph(document, "Về việc đề nghị công nhận hương ước khu phố 1"))
    assert "PHƯỜNG BÌNH AN\nKHU PHỐ 1" in text and "Kính gửi: Ủy ban nhân dân phường Bình An." in text
    assert "Căn cứ Nghị định số 61/2023/NĐ-CP" in text
    decided = format_date(poll.decided_at)
    assert (f"Ngày {decided}, hương ước khu phố 1 đã được thông qua tại Hội nghị cộng đồng dân cư Khu phố 1: tổng số "
            "hộ gia đình 10; số hộ có mặt 7; số hộ tán thành 6") in text
    assert "đã nhận 1 ý kiến góp ý" in text
    listing = [p.text for p in _after(document, "Hồ sơ gửi kèm theo gồm:")][:4]
    assert listing == [
        "1. Tờ trình đề nghị công nhận hương ước khu phố 1 (văn bản này);",
        f"2. Nghị quyết của Hội nghị cộng đồng dân cư Khu phố 1 ngày {decided} thông qua hương ước;",
        "3. Toàn văn hương ước đã được cộng đồng dân cư thông qua (gồm 3 chương, 5 điều);",
        "4. Bản tổng hợp ý kiến góp ý của các hộ gia đình đối với dự thảo (1 ý kiến).",
    ]
    assert document.tables[1].rows[0].cells[0].text.startswith("Nơi nhận:")
    assert document.tables[1].rows[0].cells[1].text.startswith("TRƯỞNG KHU PHỐ")
    synthesis = document.tables[2]
    assert [c.text for c in synthesis.rows[0].cells] == ["STT", "Ngày", "Hình thức", "Nội dung góp ý"]
    assert [c.text for c in synthesis.rows[1].cells][2:] == ["Trực tuyến", COMMENT]
    assert "Nguyễn Văn An" not in text
    _paragraph(document, f"(Đã được cộng đồng dân cư Khu phố 1 thông qua ngày {decided})")
    _assert_structure(_after(document, "(Đã được cộng đồng dân cư Khu phố 1 thông qua ngày"))


def test_nd61_dieu_11_no_ho_so_before_the_community_adopts_it(session):
    commune, group = group_with_households(session, 4)
    covenant = covenants.create(session, SYSTEM, commune, group_id=group.id, kind="quy_uoc", title="Quy ước",
                                text=TEXT)
    with pytest.raises(covenants.CovenantError, match="Điều 11"):
        covenant_documents.dossier_docx(session, covenant)


def test_point_10_nd61_dieu_10_the_adopted_huong_uoc_is_an_annex_of_the_nghi_quyet(session):
    """Issue 23 point 10: item "3. Nội dung" of the community's nghị quyết refers to the annex; the
    hương ước follows as that annex with its chapters, articles and line breaks, never run into
    one justified paragraph."""
    covenant, poll = adopted_covenant(session)
    document, text = _read(documents.decision_docx(session, poll))
    item = next(p.text for p in document.paragraphs if p.text.startswith("3. Nội dung"))
    assert LINES[0] not in item and "Điều 1" not in item
    assert "Toàn văn hương ước trình cộng đồng dân cư (gồm 3 chương, 5 điều) tại Phụ lục kèm theo" in item
    appendix = _paragraph(document, "PHỤ LỤC")
    assert appendix.paragraph_format.page_break_before and _bold(appendix)
    note = f"(Kèm theo Nghị quyết của Hội nghị cộng đồng dân cư Khu phố 1 ngày {format_date(poll.decided_at)})"
    _paragraph(document, note)
    _assert_structure(_after(document, note))
    assert sum(1 for p in document.paragraphs if LINES[0] in p.text) == 1


# --- laid out in pages -------------------------------------------------------------------------

def _office_or_skip() -> None:
    if shutil.which("soffice") and shutil.which("pdftotext") and shutil.which("pdffonts"):
        return
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail("LibreOffice and poppler-utils are needed (Debian: libreoffice-writer-nogui, poppler-utils)")
    pytest.skip("LibreOffice or poppler-utils not installed")


def _pages(pdf: bytes, tmp_path, name: str) -> list[str]:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return [" ".join(page.split()) for page in text.split("\f") if page.strip()]


def _fonts(pdf: bytes, tmp_path, name: str) -> set[str]:
    path = tmp_path / f"{name}-fonts.pdf"
    path.write_bytes(pdf)
    listing = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    return {line.split()[0].split("+")[-1] for line in listing.splitlines()[2:] if line.strip()}


def _pushed(data: bytes, before: str, lines: int) -> bytes:
    """The document with ``lines`` more paragraphs before the one starting ``before``, so that the
    signature falls at every place of a page."""
    document = Document(io.BytesIO(data))
    anchor = next(p for p in document.paragraphs if p.text.startswith(before))
    for i in range(lines):
        anchor.insert_paragraph_before(f"Dòng bổ sung số {i + 1} để đẩy khối chữ ký xuống cuối trang.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_nd30_recognition_papers_keep_the_signature_with_the_text_and_embed_only_liberation_serif(session, tmp_path):
    """NĐ 30 (Times New Roman; the signature after the text): the quyết định công nhận, the letter of
    refusal, the hồ sơ and the nghị quyết with its annex, laid out by LibreOffice with 0 to 33 extra
    lines before the end: the page of the signature always holds the last words of the text ("./.");
    the only fonts embedded are Liberation Serif, metric-compatible with Times New Roman and with
    every Vietnamese letter (no DejaVu glyph by glyph: issue 23 point 13)."""
    from consult import office

    _office_or_skip()
    covenant, poll = recognised_covenant(session)
    decision = recognition.recognition_docx(session, poll)
    dossier = covenant_documents.dossier_docx(session, covenant)
    resolution = documents.decision_docx(session, poll)
    polls.refuse_recognition(session, SYSTEM, poll, reason=REASONS)
    refusal = recognition.refusal_docx(session, poll)
    cases = [("decision", decision, "Điều 3.", "TM. ỦY BAN NHÂN DÂN"),
             ("refusal", refusal, "Do đó,", "TM. ỦY BAN NHÂN DÂN"),
             ("dossier", dossier, "Kính trình", "TRƯỞNG KHU PHỐ")]
    variants = [(name, _pushed(data, before, extra), signer)
                for name, data, before, signer in cases for extra in range(0, 34, 3)]
    pdfs = office.convert([data for _, data, _ in variants] + [resolution])
    crossed = set()
    for n, ((name, _, signer), pdf) in enumerate(zip(variants, pdfs)):
        pages = _pages(pdf, tmp_path, f"{name}{n}")
        page = next(i for i, p in enumerate(pages) if signer in p)
        assert "./." in pages[page], f"{name} variant {n}: the signature stands alone on page {page + 1}"
        assert "Nơi nhận:" in pages[page]
        crossed.add(name) if page > 0 else None
    assert crossed == {"decision", "refusal", "dossier"}  # some variants did put the signature on page 2
    per_case = len(variants) // len(cases)
    for n, pdf in enumerate([pdfs[0], pdfs[per_case], pdfs[2 * per_case], pdfs[-1]]):
        fonts = _fonts(pdf, tmp_path, f"f{n}")
        assert fonts and all(re.fullmatch(r"LiberationSerif(-Bold|-Italic|-BoldItalic)?", f) for f in fonts), fonts
    annex_pages = _pages(pdfs[0], tmp_path, "annex")
    start = next(i for i, p in enumerate(annex_pages) if "Ban hành kèm theo Quyết định số 15/QĐ-UBND" in p)
    assert "Điều 3. Vệ sinh môi trường" in " ".join(annex_pages[start:])
    assert not any("TM. ỦY BAN NHÂN DÂN" in p for p in annex_pages[start:])  # the annex starts on its own page
