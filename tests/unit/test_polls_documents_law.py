"""Every step of a vote leaves its document, as the law names it (issue #23, points 3, 8, 9, 12).

Luật 10/2022/QH15 Điều 20 khoản 2 (each community's decision and its signers), Điều 21
khoản 1 (a commune-wide khoản 1, 2 matter: two thirds of the groups); NĐ 59/2023 Điều 3
khoản 5 and Mẫu 02 (the biên bản kiểm phiếu of a secret ballot), Điều 4 (paper ballots),
Điều 5 (online: the consent round and the minutes), Điều 7 to 9 (a failed election);
NĐ 30/2020 (layout). Each document is read back with python-docx; the layout is checked
in the PDF LibreOffice makes of it.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess

import pytest
from docx import Document
from sqlalchemy import select

from consult.audit.service import SYSTEM
from consult.communes.models import Household
from consult.polls import documents, service
from consult.polls.ballots_pdf import ballots_pdf
from consult.polls.models import PollHousehold
from consult.timeutil import format_datetime
from tests.support.helpers import login, make_commune, make_group, make_user
from tests.support.polls import choice, close, hand_in_paper, open_vote, pass_consent


def _text(data: bytes) -> str:
    document = Document(io.BytesIO(data))
    text = "\n".join(p.text for p in document.paragraphs)
    return text + "\n" + "\n".join(c.text for t in document.tables for row in t.rows for c in row.cells)


def _paragraphs(data: bytes) -> list[str]:
    return [p.text for p in Document(io.BytesIO(data)).paragraphs]


def _signature_cells(data: bytes) -> list[str]:
    """The cells of the signature table (the one whose cells say "(ký, ghi rõ họ tên)")."""
    document = Document(io.BytesIO(data))
    table = next(t for t in document.tables if "(ký, ghi rõ họ tên)" in t.rows[0].cells[0].text)
    return [c.text for row in table.rows for c in row.cells]


def _commune_with(session, groups: list[tuple[str, str, int]], commune=None):
    """A commune with groups (kind, name, households)."""
    commune = commune or make_commune(session)
    made = []
    for position, (kind, name, households) in enumerate(groups, start=len(commune.groups)):
        group = make_group(session, commune, name=name, kind=kind, position=position)
        for i in range(1, households + 1):
            session.add(Household(commune_id=commune.id, group_id=group.id, code=f"G{position}-{i:03d}",
                                  representative=f"Đại diện hộ G{position}-{i:03d}", address=f"Số {i}, {name}"))
        made.append(group)
    session.flush()
    return commune, made


def _present(session, poll, group=None, n=None):
    stmt = select(PollHousehold).where(PollHousehold.poll_id == poll.id)
    if group is not None:
        stmt = stmt.where(PollHousehold.group_id == group.id)
    for h in session.scalars(stmt.order_by(PollHousehold.code)).all()[:n]:
        service.check_in(session, SYSTEM, poll, poll_household_id=h.id)


THREE = [("thon", "Thôn Đông", 30), ("to_dan_pho", "Tổ dân phố 2", 20), ("khu_pho", "Khu phố 3", 25)]


def _commune_wide_k1(session, commune=None, groups=None):
    """A commune-wide khoản 1 matter at a meeting of three groups: two approve by their own two thirds."""
    if groups is None:
        commune, groups = _commune_with(session, THREE)
    poll = open_vote(session, commune, groups, form="meeting", matter="k1")
    _present(session, poll)
    for group, agree in zip(groups, (25, 10, 20)):
        service.record_meeting_count(session, SYSTEM, poll, counts={choice(poll, "agree"): agree}, method="hands",
                                     group_id=group.id)
    close(session, poll)
    return commune, groups, poll


def test_dieu_20_k2_each_community_signs_its_own_decision(session):
    """Luật Điều 20 khoản 2: the decision of a vote of several groups is each community's own,
    headed by the commune and that group, with that group's result, and signed by its head (by
    its kind), its Trưởng Ban công tác Mặt trận and two of its household representatives — not
    by the commune's UBND and MTTQ chairmen."""
    commune, groups, poll = _commune_wide_k1(session)
    listed = [d for d in documents.available(session, poll) if d.doc == "decision"]
    assert [d.group_id for d in listed] == [g.id for g in groups]
    with pytest.raises(documents.NoSuchDocument):  # no one decision for all three
        documents.render(session, poll, "decision")
    expected = {"Thôn Đông": ("TRƯỞNG THÔN", "25/30", True), "Tổ dân phố 2": ("TỔ TRƯỞNG TỔ DÂN PHỐ", "10/20", False),
                "Khu phố 3": ("TRƯỞNG KHU PHỐ", "20/25", True)}
    for group in groups:
        data = documents.render(session, poll, "decision", group.id)
        text = _text(data)
        head, agree, passed = expected[group.name]
        header = Document(io.BytesIO(data)).tables[0].rows[0].cells[0].text
        assert header.startswith("PHƯỜNG BÌNH AN\n" + group.name.upper()) and "ỦY BAN NHÂN DÂN" not in header
        assert f"{agree} hộ của khu dân cư đồng ý" in text
        households = agree.split("/")[1]  # everyone came: each community's own count of households
        assert f"2. Tổng số hộ gia đình: {households}; số đại diện hộ gia đình có mặt: {households};" in text
        signers = _signature_cells(data)
        assert [c.split("\n")[0] for c in signers] == [head, "TRƯỞNG BAN CÔNG TÁC MẶT TRẬN", "ĐẠI DIỆN HỘ GIA ĐÌNH",
                                                      "ĐẠI DIỆN HỘ GIA ĐÌNH"]
        assert "TM. ỦY BAN NHÂN DÂN" not in text and "ỦY BAN MẶT TRẬN TỔ QUỐC" not in text
        assert ("NGHỊ QUYẾT" in text) is passed and f"- Lưu: {group.name}." in text
        others = [g.name for g in groups if g is not group]
        assert all(f"- Lưu: {name}." not in text for name in others)


def test_dieu_21_k1_the_ubnd_synthesises_the_groups_results(session):
    """Luật Điều 21 khoản 1: a commune-wide khoản 1 matter passes when two thirds of the groups
    approve, each by its own households; the UBND cấp xã writes the synthesis, group by group,
    signed TM. ỦY BAN NHÂN DÂN, CHỦ TỊCH."""
    commune, groups, poll = _commune_wide_k1(session)
    assert any(d.doc == "synthesis" for d in documents.available(session, poll))
    data = documents.render(session, poll, "synthesis")
    text = _text(data)
    header = Document(io.BytesIO(data)).tables[0].rows[0].cells[0].text
    assert header.startswith("ỦY BAN NHÂN DÂN\nPHƯỜNG BÌNH AN") and "/BC-UBND" in text and "BÁO CÁO" in text
    rows = [[c.text for c in row.cells] for row in Document(io.BytesIO(data)).tables[1].rows]
    assert rows[1:] == [["1", "Thôn Đông", "30", "30", "25", "20", "Tán thành"],
                        ["2", "Tổ dân phố 2", "20", "20", "10", "14", "Không tán thành"],
                        ["3", "Khu phố 3", "25", "25", "20", "17", "Tán thành"]]
    assert "Số khu dân cư tán thành: 2/3; cần ít nhất 2" in text and "đạt." in text
    assert "nội dung được thông qua trên địa bàn phường Bình An" in text
    assert "TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH" in text


def test_nd59_dieu_7_a_failed_election_is_a_bien_ban_and_the_ubnd_decides_the_re_election(session):
    """NĐ 59 Điều 7 to 9: no candidate elected — the biên bản of the failed election says that the
    UBND cấp xã decides to hold it again; it is no nghị quyết and never says it takes effect."""
    commune, (group,) = _commune_with(session, [("thon", "Thôn Đông", 30)])
    poll = open_vote(session, commune, [group], matter="k4", form="meeting", options=["Nguyễn Văn A", "Trần Thị B"])
    _present(session, poll, n=28)
    a, b = (c.id for c in poll.choices)
    service.record_meeting_count(session, SYSTEM, poll, counts={a: 12, b: 14}, method="secret", returned=28, invalid=2)
    close(session, poll)
    text = _text(documents.decision_docx(session, poll))
    assert "BIÊN BẢN" in text and "không có người trúng cử" in text and "/BB-CĐDC" in text
    assert "NGHỊ QUYẾT" not in text and "/NQ-" not in text and "có hiệu lực" not in text
    assert "Ủy ban nhân dân cấp xã xem xét, quyết định việc tổ chức bầu lại" in text
    assert "- Nguyễn Văn A: 12 hộ." in text and "- Trần Thị B: 14 hộ." in text


def test_dieu_21_a_matter_not_adopted_never_says_it_takes_effect(session):
    """Luật Điều 21 khoản 2 gives when an ADOPTED decision takes effect; a matter the meeting did not
    adopt gets a biên bản of its result, without "có hiệu lực" and without recognition."""
    commune, (group,) = _commune_with(session, [("khu_pho", "Khu phố 1", 10)])
    poll = open_vote(session, commune, [group], form="meeting")
    _present(session, poll, n=8)
    service.record_meeting_count(session, SYSTEM, poll, counts={choice(poll, "agree"): 3}, method="hands")
    close(session, poll)
    text = _text(documents.decision_docx(session, poll))
    assert "BIÊN BẢN" in text and "NGHỊ QUYẾT" not in text and "7. Kết quả: Không thông qua" in text
    assert "có hiệu lực" not in text and "không đề nghị công nhận" in text


def test_nd59_dieu_5_k1_a_failed_consent_round_has_its_own_minutes(session):
    """NĐ 59 Điều 5 khoản 1: online voting only when more than half of ALL households agree first.
    When they do not, the round's biên bản gives the households, those who agreed, the rule and
    the conclusion that no online vote is held — with its date, no votes, no "có hiệu lực"."""
    commune, (group,) = _commune_with(session, [("khu_pho", "Khu phố 1", 30)])
    poll = open_vote(session, commune, [group])
    assert pass_consent(session, poll, agree=15) is False
    assert [d.doc for d in documents.available(session, poll)] == ["consent"]
    for data in (documents.decision_docx(session, poll), documents.render(session, poll, "consent")):
        text = _text(data)
        assert "Kết quả lấy ý kiến đồng ý biểu quyết trực tuyến" in text
        assert "Tổng số hộ gia đình: 30; số hộ trả lời: 15; số hộ đồng ý biểu quyết trực tuyến: 15 (50,0%" in text
        assert "hơn một nửa tổng số hộ gia đình đồng ý, tức ít nhất 16/30 hộ" in text
        assert "không tổ chức biểu quyết trực tuyến" in text and "Trưởng khu phố và Ban công tác Mặt trận" in text
        assert "có hiệu lực" not in text and "Kết quả biểu quyết trực tuyến" not in text.replace(
            "Kết quả lấy ý kiến đồng ý biểu quyết trực tuyến", "")
        assert "ngày     tháng" not in text and format_datetime(poll.consent_closes_at) in text
        assert [c.split("\n")[-1] for c in _signature_cells(data)][:3] == ["Nguyễn Thị Hoa", "Lê Văn Bảy",
                                                                          "Trần Văn Tư"]
    with pytest.raises(documents.NoSuchDocument):
        documents.render(session, poll, "minutes")


def test_nd59_dieu_3_k5_a_secret_ballot_at_a_meeting_has_its_bien_ban_kiem_phieu(session):
    """NĐ 59 Điều 3 khoản 5 (Mẫu 02): ballots counted at a meeting leave a biên bản kiểm phiếu by the
    Ban kiểm phiếu the meeting chose: ballots issued to those present, valid, per choice; each member
    of the Ban signs, named. A show of hands counts no ballots: no such biên bản."""
    commune, (group,) = _commune_with(session, [("khu_pho", "Khu phố 1", 30)])
    poll = open_vote(session, commune, [group], form="meeting", place="Nhà văn hóa khu phố 1",
                     chair="Ông Nguyễn Văn Tâm, Trưởng khu phố")
    _present(session, poll, n=28)
    service.record_procedure(session, SYSTEM, poll, subject="secretary", proposal="Bà Lê Thị Mai", agree=20)
    service.record_procedure(session, SYSTEM, poll, subject="counters", proposal="Ông Vũ Văn An, bà Đỗ Thị Bình",
                             agree=20)
    agree, disagree = choice(poll, "agree"), choice(poll, "disagree")
    # The Ban kiểm phiếu's box: 28 handed out (one per household present), 27 back, 2 invalid.
    for returned, invalid, counts, refusal in (
            (None, None, {agree: 23, disagree: 2}, "số phiếu thu vào"), (29, 0, {agree: 23}, "từ 0 đến số phiếu phát ra"),
            (27, 28, {agree: 23}, "từ 0 đến số phiếu thu vào"), (27, 2, {agree: 24, disagree: 2}, "vượt quá số phiếu hợp lệ")):
        with pytest.raises(service.PollError, match=refusal):
            service.record_meeting_count(session, SYSTEM, poll, counts=counts, method="secret", returned=returned,
                                         invalid=invalid)
    service.record_meeting_count(session, SYSTEM, poll, counts={agree: 23, disagree: 2}, method="secret",
                                 returned=27, invalid=2)
    close(session, poll)
    assert "minutes" in [d.doc for d in documents.available(session, poll)]
    data = documents.render(session, poll, "minutes")
    text = _text(data)
    assert "BIÊN BẢN KIỂM PHIẾU" in text and "Bỏ phiếu kín tại Hội nghị cộng đồng dân cư Khu phố 1" in text
    assert "Tổ phát phiếu" not in text and "Ban kiểm phiếu do hội nghị bầu: Ông Vũ Văn An, bà Đỗ Thị Bình" in text
    table = next(t for t in Document(io.BytesIO(data)).tables if t.rows[0].cells[0].text == "Khu dân cư")
    assert [c.text for c in table.rows[0].cells][:5] == ["Khu dân cư", "Phát ra", "Thu về", "Hợp lệ", "Không hợp lệ"]
    row = [c.text for c in table.rows[1].cells]
    assert row[:5] == ["Khu phố 1", "28", "27", "25", "2"] and row[5:7] == ["23", "2"]
    assert "thư ký: Bà Lê Thị Mai" in text and "Địa điểm: Nhà văn hóa khu phố 1" in text
    assert "chủ trì: Ông Nguyễn Văn Tâm, Trưởng khu phố" in text
    assert [c.split("\n")[-1] for c in _signature_cells(data)][:2] == ["Ông Vũ Văn An", "bà Đỗ Thị Bình"]

    hands = open_vote(session, commune, [group], form="meeting")
    _present(session, hands, n=28)
    service.record_meeting_count(session, SYSTEM, hands, counts={choice(hands, "agree"): 25}, method="hands")
    close(session, hands)
    assert "minutes" not in [d.doc for d in documents.available(session, hands)]
    with pytest.raises(documents.NoSuchDocument):
        documents.render(session, hands, "minutes")


def _online(session, households=30, agree=19, commune=None, group=None):
    if group is None:
        commune, (group,) = _commune_with(session, [("khu_pho", "Khu phố 1", households)])
    poll = open_vote(session, commune, [group])
    pass_consent(session, poll)
    for ballot in service.issue_ballots(session, SYSTEM, poll)[:agree]:
        service.cast_online(session, ballot.token, choice(poll, "agree"))
    close(session, poll)
    return commune, group, poll


def test_nd59_mau_02_the_result_and_the_count_are_named_apart_with_the_same_times(session):
    """The two documents of a vote: the community's biên bản of the result (Luật Điều 20 khoản 2)
    and the biên bản kiểm phiếu (NĐ 59 Điều 5 khoản 4), each named for what it is, both giving the
    times the vote took place: its consent round, its voting, its count."""
    commune, group, poll = _online(session)
    decision = _paragraphs(documents.decision_docx(session, poll))
    minutes = _paragraphs(documents.minutes_docx(session, poll))
    kinds = [p for p in decision + minutes if p in ("BIÊN BẢN", "BIÊN BẢN KIỂM PHIẾU", "NGHỊ QUYẾT")]
    assert kinds == ["BIÊN BẢN", "BIÊN BẢN KIỂM PHIẾU"]
    assert any(p.startswith("Kết quả biểu quyết trực tuyến của cộng đồng dân cư Khu phố 1") for p in decision)
    assert any(p.startswith("Biểu quyết trực tuyến của cộng đồng dân cư Khu phố 1") for p in minutes)
    when = [p for p in decision if p.startswith("1. Thời gian")]
    assert when == [p for p in minutes if p.startswith("1. Thời gian")]
    assert (f"biểu quyết trực tuyến từ {format_datetime(poll.consent_closes_at)} đến "
            f"{format_datetime(poll.closes_at)}") in when[0]
    assert f"lấy ý kiến đồng ý biểu quyết trực tuyến từ {format_datetime(poll.consent_opens_at)}" in when[0]


def test_nd59_dieu_5_k4_online_minutes_have_no_witnesses_and_write_a_decimal_comma(session):
    """NĐ 59 Điều 5 khoản 4: the online minutes are signed by the Tổ lấy ý kiến — each member named —
    and an online vote has no witness households; 19 of 30 is "63,3%" in Vietnamese."""
    commune, group, poll = _online(session)
    data = documents.minutes_docx(session, poll)
    text = _text(data)
    assert "63,3%" in text and "63.3%" not in text and "0,0%" in text
    assert "CHỨNG KIẾN" not in text
    names = [c.split("\n")[-1] for c in _signature_cells(data) if c]
    assert names == ["Nguyễn Thị Hoa", "Lê Văn Bảy", "Trần Văn Tư"]
    assert "Danh sách đại diện hộ gia đình đã tham gia:" in text  # the list the law asks of online votes


def test_nd59_dieu_4_k6_paper_minutes_signed_by_the_to_and_its_named_witnesses_without_the_households_list(session):
    """NĐ 59 Điều 4 khoản 6: the Tổ phát phiếu counts before two household witnesses; every member of
    the Tổ and both witnesses sign, their names printed. The list of households who took part is
    what NĐ 59 Điều 5 khoản 4 asks of an ONLINE vote: a paper count does not append it."""
    commune, (group,) = _commune_with(session, [("khu_pho", "Khu phố 1", 30)])
    poll = open_vote(session, commune, [group], form="ballot", chosen_by_head_and_front=True)
    ballots = service.issue_ballots(session, SYSTEM, poll)
    hand_in_paper(session, poll, ballots[:25], {group.id: {choice(poll, "agree"): 20, choice(poll, "disagree"): 3}})
    close(session, poll)
    data = documents.minutes_docx(session, poll)
    text = _text(data)
    assert "Danh sách đại diện hộ gia đình" not in text and "Đại diện hộ G0-001" not in text
    cells = [c for c in _signature_cells(data) if c]
    assert [(c.split("\n")[0], c.split("\n")[-1]) for c in cells] == [
        ("TỔ TRƯỞNG", "Nguyễn Thị Hoa"), ("THÀNH VIÊN", "Lê Văn Bảy"), ("THÀNH VIÊN", "Trần Văn Tư"),
        ("HỘ GIA ĐÌNH CHỨNG KIẾN", "Đại diện hộ A"), ("HỘ GIA ĐÌNH CHỨNG KIẾN", "Đại diện hộ B")]
    # The community's decision names the same two household representatives under its slots.
    decision = _signature_cells(documents.decision_docx(session, poll))
    assert [c.split("\n")[-1] for c in decision[2:]] == ["Đại diện hộ A", "Đại diện hộ B"]


def _pdf_text(pdf: bytes, tmp_path, name: str) -> list[str]:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout.split("\f")


def _needs_office():
    if shutil.which("soffice") is None or shutil.which("pdftotext") is None:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("LibreOffice and poppler-utils are needed (Debian: libreoffice-writer-nogui, poppler-utils)")
        pytest.skip("LibreOffice not installed")


def test_nd59_dieu_4_k5_a_paper_slip_does_not_send_the_household_online(session):
    """NĐ 59 Điều 4 khoản 5: a paper ballot is marked and handed in to the Tổ phát phiếu; its stub's
    code is for the Tổ to record, not for the household to type online (the ballot page refuses
    a household's choice for a paper vote). An online slip still says where to enter its code."""
    _needs_office()
    commune, (group,) = _commune_with(session, [("khu_pho", "Khu phố 1", 3)])
    paper = open_vote(session, commune, [group], form="ballot", chosen_by_head_and_front=True)
    online = open_vote(session, commune, [group])
    names = {group.id: group.full_name}
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        paper_text = "".join(_pdf_text(ballots_pdf(paper, service.issue_ballots(session, SYSTEM, paper),
                                                   "https://xa.example", names), Path(tmp), "paper"))
        online_text = "".join(_pdf_text(ballots_pdf(online, service.issue_ballots(session, SYSTEM, online),
                                                    "https://xa.example", names), Path(tmp), "online"))
    paper_text, online_text = " ".join(paper_text.split()), " ".join(online_text.split())
    assert "nhập tại" not in paper_text and "xa.example/b" not in paper_text
    assert "Tổ phát phiếu quét hoặc nhập khi thu phiếu" in paper_text and "Hạn nộp phiếu" in paper_text
    assert "xa.example/b" in online_text


def test_nd30_the_signatures_stay_with_the_last_lines_of_the_body(session, tmp_path):
    """NĐ 30: a signature block is never alone on a page. The body's last paragraphs keep with the
    signatures (no empty paragraph between them), and in the PDF every page that holds a signature
    slot has body text above it — the meeting decision of issue #23 put its four signatures and
    its Nơi nhận alone on page 2."""
    _needs_office()
    from consult import office

    commune, groups = _commune_with(session, THREE)
    poll = open_vote(session, commune, groups[:1], form="meeting")
    _present(session, poll, n=28)
    service.record_procedure(session, SYSTEM, poll, subject="secretary", proposal="Bà Lê Thị Mai", agree=20)
    service.record_procedure(session, SYSTEM, poll, subject="counters", proposal="Ông A, bà B, ông C", agree=20)
    service.record_meeting_count(session, SYSTEM, poll, counts={choice(poll, "agree"): 25}, method="secret", returned=28, invalid=3)
    close(session, poll)
    _, _, wide = _commune_wide_k1(session, commune, groups)
    _, _, online = _online(session, commune=commune, group=groups[2], agree=19)
    docs = [documents.decision_docx(session, poll), documents.minutes_docx(session, poll)]
    docs += [documents.render(session, wide, d.doc, d.group_id) for d in documents.available(session, wide)]
    docs += [documents.render(session, online, d.doc, d.group_id) for d in documents.available(session, online)]
    from docx.text.paragraph import Paragraph

    marks = ("(ký, ghi rõ họ tên)", "TM. ỦY BAN NHÂN DÂN")  # a slot; the UBND's signature (NĐ 30)
    for data in docs:  # in the .docx: the body's end keeps with the signatures
        document = Document(io.BytesIO(data))
        table = next(t for t in document.tables if any(m in t.rows[0].cells[-1].text for m in marks))
        before = Paragraph(table._tbl.getprevious(), document)
        while not before.text.strip():  # adminpaper.closing_block's own spacer: it keeps with the table
            assert before.paragraph_format.keep_with_next
            before = Paragraph(before._p.getprevious(), document)
        assert before.paragraph_format.keep_with_next, before.text
    for n, pdf in enumerate(office.convert(docs)):
        pages = _pdf_text(pdf, tmp_path, f"d{n}")
        signed = [i for i, p in enumerate(pages) if any(m in p for m in marks)]
        assert len(signed) == 1, f"document {n}: the signatures split across pages {signed}"
        lines = [line.strip() for line in pages[signed[0]].splitlines() if line.strip()]
        first = next(i for i, line in enumerate(lines) if any(m in line for m in marks))
        first -= marks[0] in lines[first]  # a slot's note stands under its title
        above = [line for line in lines[:first] if not line.isdigit()]
        assert above, f"document {n}, page {signed[0] + 1}: the signatures stand alone"


def test_the_vote_page_offers_each_community_its_decision_and_the_ubnd_its_synthesis(client, session):
    """The documents as downloads: one decision per community (its own URL), the synthesis, and
    no single decision for the whole vote."""
    import pyotp

    commune, groups, poll = _commune_wide_k1(session)
    secret = pyotp.random_base32()
    make_user(session, "vp.tk", "officer", commune, totp=secret)
    session.commit()
    login(client, "vp.tk", totp_secret=secret)
    page = client.get(f"/polls/{poll.id}").get_data(as_text=True)
    for group in groups:
        url = f"/polls/{poll.id}/groups/{group.id}/decision.docx"
        assert url in page
        response = client.get(url)
        assert response.status_code == 200 and group.name.upper() in _text(response.data)
    assert f"/polls/{poll.id}/synthesis.docx" in page
    assert client.get(f"/polls/{poll.id}/synthesis.docx").status_code == 200
    assert client.get(f"/polls/{poll.id}/decision.docx").status_code == 404
    assert client.get(f"/polls/{poll.id}/minutes.docx").status_code == 404  # a show of hands: no ballots counted


def test_an_online_slip_lists_the_choices_without_boxes_to_tick(session):
    """An online vote is chosen on the ballot page: its slip names the choices but draws no box
    to mark and no line to write on (tick boxes that do nothing); a paper slip has both. Counted
    in the page's drawing: the PDF's own rectangle operators."""
    import zlib

    commune, (group,) = _commune_with(session, [("khu_pho", "Khu phố 1", 1)])
    paper = open_vote(session, commune, [group], form="ballot", chosen_by_head_and_front=True)
    online = open_vote(session, commune, [group])
    names = {group.id: group.full_name}

    def drawing(pdf: bytes) -> str:
        streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S)
        out = []
        for raw in streams:
            try:
                out.append(zlib.decompress(raw).decode("latin-1"))
            except zlib.error:
                out.append(raw.decode("latin-1"))
        return "\n".join(out)

    paper_ops = drawing(ballots_pdf(paper, service.issue_ballots(session, SYSTEM, paper), "https://xa.example", names))
    online_ops = drawing(ballots_pdf(online, service.issue_ballots(session, SYSTEM, online), "https://xa.example", names))
    boxes = re.compile(r"[\d.]+ [\d.]+ 10\.20 -10\.20 re")  # a 3.6 mm square, in points
    assert len(boxes.findall(paper_ops)) == len(paper.choices)
    assert boxes.findall(online_ops) == []
