"""The community's documents, read back from the .docx (Luật Điều 19-20; NĐ 30/2020)."""

from __future__ import annotations

import io

import pytest
from docx import Document
from docx.oxml.ns import qn
from sqlalchemy import select

from consult.polls import documents, service
from consult.polls.models import PollHousehold
from tests.support.helpers import make_commune, make_group
from tests.support.polls import choice, close, open_vote
from consult.audit.service import SYSTEM
from consult.communes.models import Household
from consult.timeutil import format_date


def _text(data: bytes) -> tuple[str, Document]:
    document = Document(io.BytesIO(data))
    text = "\n".join(p.text for p in document.paragraphs)
    text += "\n" + "\n".join(c.text for t in document.tables for row in t.rows for c in row.cells)
    return text, document


def _group(session, kind, name, households=10):
    commune = make_commune(session)
    group = make_group(session, commune, name=name, kind=kind)
    for i in range(households):
        session.add(Household(commune_id=commune.id, group_id=group.id, code=f"H-{i:03d}",
                              representative=f"Đại diện {i}", address=f"Số {i}"))
    session.flush()
    return commune, group


def _meeting(session, commune, group, present, agree, **kwargs):
    poll = open_vote(session, commune, [group], form="meeting", **kwargs)
    for h in session.scalars(select(PollHousehold).where(PollHousehold.poll_id == poll.id)).all()[:present]:
        service.check_in(session, SYSTEM, poll, poll_household_id=h.id)
    if agree is not None:
        service.record_meeting_count(session, SYSTEM, poll, counts={choice(poll, "agree"): agree}, method="hands")
    close(session, poll)
    return poll


@pytest.mark.parametrize("kind,name,signer", [
    ("thon", "Thôn Đông", "TRƯỞNG THÔN"), ("to_dan_pho", "Tổ dân phố 3", "TỔ TRƯỞNG TỔ DÂN PHỐ"),
    ("khu_pho", "Khu phố 1", "TRƯỞNG KHU PHỐ"), ("ap", "Ấp Bình Thuận", "TRƯỞNG ẤP"), ("ban", "Bản Mường", "TRƯỞNG BẢN"),
])
def test_a_meeting_adopts_a_nghi_quyet_signed_by_the_head_of_its_kind(session, kind, name, signer):
    """Luật Điều 20 khoản 2: a nghị quyết (a community issues no quyết định), signed by the group's
    head under the title of its kind, the Trưởng Ban công tác Mặt trận and two household representatives."""
    commune, group = _group(session, kind, name)
    poll = _meeting(session, commune, group, present=8, agree=7)
    text, document = _text(documents.decision_docx(session, poll))
    assert "NGHỊ QUYẾT" in text and f"Hội nghị cộng đồng dân cư {name}" in text and "/NQ-HNCĐ" in text
    assert "QUYẾT ĐỊNH CỦA CỘNG ĐỒNG" not in text and "QĐ-CĐDC" not in text
    for field in ("1. Thời gian", "2. Tổng số hộ gia đình: 10; số đại diện hộ gia đình có mặt: 8; số hộ không có "
                  "đại diện tham gia: 2", "3. Nội dung", "5. Hình thức: Họp cộng đồng dân cư", "6. Kết quả",
                  "7. Quyết định: Thông qua", "8. Hiệu lực"):
        assert field in text, field
    assert signer in text and "TRƯỞNG BAN CÔNG TÁC MẶT TRẬN" in text and text.count("ĐẠI DIỆN HỘ GIA ĐÌNH") == 2
    notice = format_date(poll.announced_on)
    assert f"Cuộc họp đã được thông báo đến các hộ gia đình ngày {notice}." in text
    assert "Nơi nhận:" in text and "- UBND phường Bình An;" in text and f"- Lưu: {name}." in text
    # The four signers in one table, two a row (NĐ 30 layout; the law changed this from two tables).
    signature_tables = [t for t in document.tables if signer in t.rows[0].cells[0].text]
    assert len(signature_tables) == 1 and "ĐẠI DIỆN HỘ GIA ĐÌNH" in signature_tables[0].rows[1].cells[0].text
    for table in signature_tables:  # a signature block never splits across pages
        for row in table.rows:
            assert row._tr.trPr.find(qn("w:cantSplit")) is not None
            assert all(p.paragraph_format.keep_with_next for c in row.cells for p in c.paragraphs)


def test_a_failed_meeting_gives_a_bien_ban_and_no_decision(session):
    """Luật Điều 19 khoản 1 điểm b: a meeting without enough households decides nothing; its biên bản
    says so, and the matter goes to household ballots."""
    commune, group = _group(session, "khu_pho", "Khu phố 1")
    poll = _meeting(session, commune, group, present=3, agree=None, matter="k3")
    text, _ = _text(documents.decision_docx(session, poll))
    assert "BIÊN BẢN" in text and "không đủ số hộ tham dự" in text and "/BB-HNCĐ" in text
    assert "số đại diện hộ gia đình có mặt: 3" in text and "điểm b khoản 1 Điều 19" in text
    assert "có hiệu lực" not in text and "NGHỊ QUYẾT" not in text and "Thông qua" not in text
    assert f"thông báo đến các hộ gia đình ngày {format_date(poll.announced_on)}" in text


def test_an_election_names_who_is_elected(session):
    """Luật Điều 15 khoản 4: the decision names the elected candidate."""
    commune, group = _group(session, "thon", "Thôn Đông", households=90)
    poll = open_vote(session, commune, [group], matter="k4", form="meeting", options=["Nguyễn Văn A", "Trần Thị B"])
    for h in session.scalars(select(PollHousehold).where(PollHousehold.poll_id == poll.id)).all()[:85]:
        service.check_in(session, SYSTEM, poll, poll_household_id=h.id)
    a, b = (c.id for c in poll.choices)
    service.record_meeting_count(session, SYSTEM, poll, counts={a: 25, b: 55}, method="secret", returned=85, invalid=5)
    close(session, poll)
    text, _ = _text(documents.decision_docx(session, poll))
    assert "- Nguyễn Văn A: 25 hộ." in text and "- Trần Thị B: 55 hộ." in text
    assert "Trúng cử: Trần Thị B (55/90 hộ)" in text


def test_online_minutes_have_the_actual_times_a_snapshot_and_the_participants_table(session):
    """NĐ 59 Điều 5 khoản 4 điểm a: start and end of the voting, the result's snapshot, and the list
    of the representatives who took part; the start is when voting began (after the consent round)."""
    from datetime import timedelta

    from consult.timeutil import format_datetime, utcnow
    from tests.support.polls import pass_consent

    commune, group = _group(session, "khu_pho", "Khu phố 1", households=6)
    poll = open_vote(session, commune, [group])
    consent_at = utcnow()
    pass_consent(session, poll)
    ballots = service.issue_ballots(session, SYSTEM, poll)
    for ballot in ballots[:4]:
        service.cast_online(session, ballot.token, choice(poll, "agree"))
    close(session, poll)
    text, document = _text(documents.minutes_docx(session, poll))
    # The voting's own times, the same as in the decision (vote_ended_at: its fixed end), and the count.
    assert (f"biểu quyết trực tuyến từ {format_datetime(poll.consent_closes_at)} đến "
            f"{format_datetime(poll.closes_at)}; kiểm phiếu lúc {format_datetime(poll.decided_at)}") in text
    assert poll.consent_closes_at >= consent_at - timedelta(seconds=1)
    assert "ảnh chụp kết quả lúc kiểm phiếu" in text and "dấu vân tay của bảng (SHA-256)" in text
    participants = next(t for t in document.tables if t.rows[0].cells[0].text == "STT")
    assert [c.text for c in participants.rows[0].cells] == ["STT", "Mã hộ", "Họ và tên đại diện hộ",
                                                            "Địa chỉ thường trú"]
    assert len(participants.rows) == 5 and participants.rows[1].cells[0].text == "1"
    assert participants.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    assert all(row._tr.trPr.find(qn("w:cantSplit")) is not None for row in participants.rows)


def test_paper_count_minutes_follow_mau_02(session):
    """NĐ 59 Điều 4 khoản 6 (Mẫu 02): phát ra, thu về, hợp lệ, không hợp lệ, per choice, time and
    place, counters and witnesses, three copies."""
    from tests.support.polls import hand_in_paper

    commune, group = _group(session, "khu_pho", "Khu phố 1", households=10)
    poll = open_vote(session, commune, [group], form="ballot", chosen_by_head_and_front=True)
    ballots = service.issue_ballots(session, SYSTEM, poll)
    hand_in_paper(session, poll, ballots[:8], {group.id: {choice(poll, "agree"): 6, choice(poll, "disagree"): 1}})
    close(session, poll)
    text, document = _text(documents.minutes_docx(session, poll))
    counts = next(t for t in document.tables if t.rows[0].cells[0].text == "Khu dân cư")
    assert [c.text for c in counts.rows[1].cells][:7] == ["Khu phố 1", "10", "8", "7", "1", "6", "1"]
    assert "Nhà văn hóa khu phố" in text and "Nguyễn Thị Hoa" in text and "Đại diện hộ A; Đại diện hộ B" in text
    assert "lập thành 03 bản" in text


def _pages(pdf: bytes, tmp_path, name: str) -> list[str]:
    import subprocess

    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")


def test_no_signature_block_splits_across_pages(session, tmp_path):
    """NĐ 30: a signature block stays whole. The decision is laid out by LibreOffice with 0 to 24 extra
    lines before the signatures, so that in some of them the block falls at a page's end; in each
    the block's title, the note and the signer's name are on one page."""
    import os
    import shutil

    from consult import office

    if shutil.which("soffice") is None or shutil.which("pdftotext") is None:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("LibreOffice and poppler-utils are needed (Debian: libreoffice-writer-nogui, poppler-utils)")
        pytest.skip("LibreOffice not installed")
    commune, group = _group(session, "khu_pho", "Khu phố 1", households=30)
    poll = open_vote(session, commune, [group], form="meeting")
    for h in session.scalars(select(PollHousehold).where(PollHousehold.poll_id == poll.id)).all()[:30]:
        service.check_in(session, SYSTEM, poll, poll_household_id=h.id)
    service.record_meeting_count(session, SYSTEM, poll, counts={choice(poll, "agree"): 30}, method="hands")
    close(session, poll)
    base = documents.decision_docx(session, poll)
    variants = []
    for extra in range(0, 25, 2):
        document = Document(io.BytesIO(base))
        anchor = next(p for p in document.paragraphs if p.text.startswith("8. Hiệu lực"))
        for i in range(extra):
            anchor.insert_paragraph_before(f"Dòng bổ sung số {i + 1} để đẩy khối chữ ký xuống cuối trang.")
        buffer = io.BytesIO()
        document.save(buffer)
        variants.append(buffer.getvalue())
    pdfs = office.convert(variants)
    crossed = 0
    for n, pdf in enumerate(pdfs):
        pages = _pages(pdf, tmp_path, f"v{n}")
        crossed += len(pages) > 2
        for heading, name in (("TRƯỞNG BAN CÔNG TÁC MẶT TRẬN", "Nguyễn Thị Hoa"),):
            page = next(i for i, p in enumerate(pages) if heading in p)
            assert name in pages[page], f"variant {n}: '{heading}' and its signer on different pages"
            assert "(ký, ghi rõ họ tên)" in pages[page]
        household_pages = [i for i, p in enumerate(pages) if "ĐẠI DIỆN HỘ GIA ĐÌNH" in p]
        assert len(household_pages) == 1
    assert crossed  # some variants did reach past the first page
