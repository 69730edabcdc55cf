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
    assert "Nơi nhận:" in text and "- UBND phường Bình An;" in text and f"- Lưu: {name}." in text
    signature_tables = [t for t in document.tables if "ĐẠI DIỆN HỘ GIA ĐÌNH" in t.rows[0].cells[0].text
                        or signer in t.rows[0].cells[0].text]
    assert len(signature_tables) == 2
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


def test_an_election_names_who_is_elected(session):
    """Luật Điều 15 khoản 4: the decision names the elected candidate."""
    commune, group = _group(session, "thon", "Thôn Đông", households=90)
    poll = open_vote(session, commune, [group], matter="k4", form="meeting", options=["Nguyễn Văn A", "Trần Thị B"])
    for h in session.scalars(select(PollHousehold).where(PollHousehold.poll_id == poll.id)).all()[:85]:
        service.check_in(session, SYSTEM, poll, poll_household_id=h.id)
    a, b = (c.id for c in poll.choices)
    service.record_meeting_count(session, SYSTEM, poll, counts={a: 25, b: 55}, method="secret")
    close(session, poll)
    text, _ = _text(documents.decision_docx(session, poll))
    assert "- Nguyễn Văn A: 25 hộ." in text and "- Trần Thị B: 55 hộ." in text
    assert "Trúng cử: Trần Thị B (55/90 hộ)" in text
