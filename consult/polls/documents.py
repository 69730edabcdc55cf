"""The community's decision (Luật Điều 20 khoản 2) and the vote-counting minutes
(NĐ 59 Điều 4 khoản 6, Điều 5 khoản 4) as .docx, in the NĐ 30 layout."""

from __future__ import annotations

import hashlib

from docx.shared import Pt
from sqlalchemy import select
from sqlalchemy.orm import Session

from consult.adminpaper import body, header_block, new_document, para, signatures, title, to_bytes
from consult.polls import rules
from consult.polls.models import (FORM_BALLOT, FORM_MEETING, FORM_ONLINE, FORMS, MATTER_KINDS, PROCEDURE_SUBJECTS,
                                  BallotBox, Poll)
from consult.polls.service import (Tally, attendance_count, bulletin, key_fingerprint, paper_counts, participants,
                                   procedures, report_deadline, tally, total_households)
from consult.timeutil import format_date, format_datetime, local_date


def _issuer(poll: Poll) -> list[str]:
    if poll.commune_wide:
        return ["Ủy ban nhân dân", f"{poll.commune.kind_label} {poll.commune.name}"]
    return [f"{poll.commune.kind_label} {poll.commune.name}", poll.group.full_name]


def _results_lines(result: Tally) -> list[str]:
    lines = []
    for choice in result.choices:
        lines.append(f"- {choice.label}: {result.total(choice.id)} hộ.")
    if len(result.groups) > 1:
        for g in result.groups:
            lines.append(f"- {g.group.full_name}: {g.agree}/{g.households} hộ đồng ý "
                         f"({'tán thành' if g.passed else 'không tán thành'}).")
    return lines


def head_title(poll: Poll) -> str:
    """The signer for the community: the group's head, or the commune's chairman for a commune-wide matter."""
    if poll.commune_wide:
        return "TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH"
    return rules.HEAD_TITLES.get(poll.group.kind, "TRƯỞNG KHU DÂN CƯ")


def _keep_together(table) -> None:
    """A signature block never splits across pages: its rows may not break, and
    every paragraph in it keeps with the next."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    for row in table.rows:
        properties = row._tr.get_or_add_trPr()
        if properties.find(qn("w:cantSplit")) is None:
            properties.append(OxmlElement("w:cantSplit"))
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                paragraph.paragraph_format.keep_with_next = True


def _sign(document, poll: Poll) -> None:
    """The head, the Trưởng Ban công tác Mặt trận and two household representatives (Luật Điều 20 khoản 2)."""
    leader = next((m.name for m in poll.committee if m.is_leader), "")
    front = "TM. ỦY BAN MẶT TRẬN TỔ QUỐC VIỆT NAM\nCHỦ TỊCH" if poll.commune_wide else "TRƯỞNG BAN CÔNG TÁC MẶT TRẬN"
    para(document, "", space_after=6).paragraph_format.keep_with_next = True
    signatures(document, [(head_title(poll), ""), (front, "" if poll.commune_wide else leader)])
    _keep_together(document.tables[-1])
    para(document, "", space_after=6).paragraph_format.keep_with_next = True
    signatures(document, [("ĐẠI DIỆN HỘ GIA ĐÌNH", ""), ("ĐẠI DIỆN HỘ GIA ĐÌNH", "")])
    _keep_together(document.tables[-1])


def _recipients(document, poll: Poll) -> None:
    """Nơi nhận (NĐ 30): the commune's UBND and UB MTTQ (Luật Điều 20 khoản 3), and the group's file."""
    commune = f"{poll.commune.kind_label.lower()} {poll.commune.name}"
    lines = [f"- UBND {commune};", f"- Ủy ban MTTQ Việt Nam {commune};",
             f"- Lưu: {poll.group.full_name if poll.group else 'VT'}."]
    para(document, "", space_after=6)
    para(document, "Nơi nhận:", size=12, bold=True, italic=True, space_after=0)
    for line in lines:
        para(document, line, size=11, space_after=0)


def _notice(poll: Poll) -> str:
    """When a meeting was announced to the households (rules.MEETING_NOTICE_DAYS)."""
    if poll.form != FORM_MEETING or not poll.announced_on:
        return ""
    return f" Cuộc họp đã được thông báo đến các hộ gia đình ngày {format_date(poll.announced_on)}."


def early_stop_text(poll: Poll) -> str:
    """An online vote counted before the end fixed at its opening: when, why, and by whom
    (a majority of the board, whose key shares the count needed)."""
    if not poll.early_stopped_at:
        return ""
    reason = (poll.early_stop_reason or "").strip()
    reason += "" if reason.endswith((".", "!", "?", "…")) else "."
    return (f"Cuộc biểu quyết kết thúc sớm lúc {format_datetime(poll.early_stopped_at)}, trước thời điểm kết thúc "
            f"đã định ({format_datetime(poll.closes_at)}), theo quyết định của đa số Tổ lấy ý kiến biểu quyết trực "
            f"tuyến (ít nhất {poll.key_threshold}/{len(poll.committee)} thành viên nhập mã khóa của mình). "
            f"Lý do kết thúc sớm: {reason}")


def _failed(poll: Poll) -> bool:
    return poll.form == FORM_MEETING and (poll.outcome_text or "").startswith("Không đủ")


def decision_docx(session: Session, poll: Poll) -> bytes:
    """The community's decision (Luật Điều 20 khoản 2): a nghị quyết of the community's
    meeting, or the biên bản of the result of household ballots or of an online vote,
    with every item the article lists. A meeting that failed for attendance decides
    nothing: it gets the biên bản of the failed meeting instead (Điều 19 khoản 1 điểm b)."""
    if _failed(poll):
        return failed_meeting_docx(session, poll)
    result = tally(session, poll)
    households = total_households(poll)
    took_part = attendance_count(session, poll) if poll.form == FORM_MEETING else result.participated
    document = new_document()
    when = local_date(poll.decided_at) if poll.decided_at else None
    where = poll.group.full_name if poll.group else f"{poll.commune.kind_label.lower()} {poll.commune.name}"
    if poll.form == FORM_MEETING:
        header_block(document, _issuer(poll), "      /NQ-HNCĐ", poll.commune.name, when)
        title(document, "Nghị quyết", f"Hội nghị cộng đồng dân cư {where} về {poll.title[:1].lower()}{poll.title[1:]}")
    else:
        header_block(document, _issuer(poll), "      /BB-CĐDC", poll.commune.name, when)
        how = "biểu quyết trực tuyến" if poll.form == FORM_ONLINE else "lấy ý kiến hộ gia đình bằng phiếu"
        title(document, "Biên bản", f"Kết quả {how} của cộng đồng dân cư {where} về "
                                    f"{poll.title[:1].lower()}{poll.title[1:]}")
    recognition = rules.recognition(poll.matter_kind, poll.commune_wide)
    items = [
        f"1. Thời gian: từ {format_datetime(poll.opens_at)} đến {format_datetime(poll.closes_at)}"
        + (f"; kết thúc lúc {format_datetime(poll.decided_at)}." if poll.decided_at else ".")
        + _notice(poll) + (f" {early_stop_text(poll)}" if poll.early_stopped_at else ""),
        f"2. Tổng số hộ gia đình: {households}; số đại diện hộ gia đình "
        f"{'có mặt' if poll.form == FORM_MEETING else 'tham gia'}: {took_part}; số hộ không có đại diện tham gia: "
        f"{households - took_part}.",
        f"3. Nội dung: {poll.question}" + (f" {poll.content}" if poll.content else ""),
        f"4. Loại việc: {MATTER_KINDS[poll.matter_kind]} (Điều 15 Luật Thực hiện dân chủ ở cơ sở).",
        f"5. Hình thức: {FORMS[poll.form]}.",
        "6. Kết quả biểu quyết:",
    ]
    for line in items:
        body(document, line)
    for line in _results_lines(result):
        body(document, line)
    for cluster, present in _clusters(session, poll):
        body(document, f"- Cụm dân cư {cluster}: {present} hộ có mặt.")
    for procedure in procedures(session, poll):
        body(document, f"- {PROCEDURE_SUBJECTS[procedure.subject]}: {procedure.proposal} — {procedure.agree}/"
                       f"{procedure.present} đại diện có mặt tán thành, "
                       f"{'thông qua' if procedure.passed else 'không thông qua'}.")
    body(document, f"7. Quyết định: {poll.outcome_text or result.summary} (cần {rules.rule_text(poll.matter_kind)}, "
                   "tính trên tổng số hộ gia đình của khu dân cư).")
    body(document, f"8. Hiệu lực: {recognition.effect}; công nhận: {rules.RECOGNISERS[recognition.by]}.")
    deadline = report_deadline(session, poll)
    if deadline:
        body(document, f"Văn bản này được gửi Ủy ban nhân dân và Ủy ban Mặt trận Tổ quốc Việt Nam cấp xã chậm nhất "
                       f"ngày {format_date(deadline)} (05 ngày làm việc, khoản 3 Điều 20).")
    _sign(document, poll)
    _recipients(document, poll)
    return to_bytes(document)


def _clusters(session: Session, poll: Poll) -> list[tuple[str, int]]:
    """The clusters a meeting of 200 households or more was held in (Luật Điều 18 khoản 3)."""
    from sqlalchemy import func, select

    from consult.polls.models import Attendance

    rows = session.execute(select(Attendance.cluster, func.count()).where(
        Attendance.poll_id == poll.id, Attendance.cluster != "").group_by(Attendance.cluster)
        .order_by(Attendance.cluster))
    return [(cluster, count) for cluster, count in rows]


def failed_meeting_docx(session: Session, poll: Poll) -> bytes:
    """Biên bản of a community meeting that could not decide for lack of households
    present: nothing is adopted, and the matter goes to household ballots (Luật Điều 19
    khoản 1 điểm b)."""
    households = total_households(poll)
    present = attendance_count(session, poll)
    document = new_document()
    when = local_date(poll.decided_at) if poll.decided_at else None
    where = poll.group.full_name if poll.group else f"{poll.commune.kind_label.lower()} {poll.commune.name}"
    header_block(document, _issuer(poll), "      /BB-HNCĐ", poll.commune.name, when)
    title(document, "Biên bản", f"Hội nghị cộng đồng dân cư {where} không đủ số hộ tham dự")
    needed = rules.min_agree(poll.matter_kind, households)
    for line in [
        f"1. Thời gian: {format_datetime(poll.opens_at)}"
        + (f"; kết thúc lúc {format_datetime(poll.decided_at)}." if poll.decided_at else ".") + _notice(poll),
        f"2. Nội dung dự kiến biểu quyết: {poll.question}",
        f"3. Tổng số hộ gia đình: {households}; số đại diện hộ gia đình có mặt: {present}; số hộ không có đại diện "
        f"tham gia: {households - present}.",
        f"4. Để thông qua cần {rules.rule_text(poll.matter_kind)} ({needed}/{households} hộ) đồng ý; số hộ có mặt "
        f"không đủ để thông qua nên hội nghị không biểu quyết nội dung này.",
        "5. Kết luận: Hội nghị không đủ điều kiện quyết định. Theo điểm b khoản 1 Điều 19 Luật Thực hiện dân chủ ở cơ "
        "sở, nội dung được đưa ra lấy ý kiến hộ gia đình bằng phiếu.",
    ]:
        body(document, line)
    _sign(document, poll)
    _recipients(document, poll)
    return to_bytes(document)


def _table(document, header: list[str], rows: list[list[str]], widths_cm: list[float]) -> None:
    """A bordered table in the text width whose header row repeats on every page and
    whose rows never split across pages."""
    from docx.oxml import OxmlElement
    from docx.shared import Cm

    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.autofit = False
    for row_values in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, row_values):
            cell.text = value
    for index, row in enumerate(table.rows):
        properties = row._tr.get_or_add_trPr()
        properties.append(OxmlElement("w:cantSplit"))
        if index == 0:
            properties.append(OxmlElement("w:tblHeader"))
        for cell, width in zip(row.cells, widths_cm):
            cell.width = Cm(width)
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(12)
    for column, width in zip(table.columns, widths_cm):
        column.width = Cm(width)
    for cell, text in zip(table.rows[0].cells, header):
        cell.text = ""
        run = cell.paragraphs[0].add_run(text)
        run.bold, run.font.size = True, Pt(12)


def _participants_table(document, session: Session, poll: Poll) -> None:
    """The representatives who took part (NĐ 59 Điều 5 khoản 4 điểm a), numbered; never their choices."""
    body(document, "Danh sách đại diện hộ gia đình đã tham gia:")
    rows = [[str(i), h.code, h.representative, h.address]
            for i, h in enumerate(participants(session, poll), start=1)]
    _table(document, ["STT", "Mã hộ", "Họ và tên đại diện hộ", "Địa chỉ thường trú"], rows, [1.2, 2.6, 5.6, 6.6])


def minutes_docx(session: Session, poll: Poll) -> bytes:
    """Biên bản kiểm phiếu of household ballots (NĐ 59 Điều 4 khoản 6, Mẫu 02), or the
    biên bản of an online vote's result (NĐ 59 Điều 5 khoản 4): the actual start and
    end, the board, the counts, a snapshot of the result at the count, and the numbered
    list of the representatives who took part (never their choices)."""
    result = tally(session, poll)
    document = new_document()
    when = local_date(poll.decided_at) if poll.decided_at else None
    online = poll.form == FORM_ONLINE
    header_block(document, _issuer(poll), "      /BB-KP", poll.commune.name, when)
    kind = "Biên bản kết quả biểu quyết trực tuyến" if online else "Biên bản kiểm phiếu"
    title(document, kind, poll.title)
    start = poll.opens_at
    if online and poll.consent_closes_at and poll.consent_closes_at > start:
        start = poll.consent_closes_at  # voting began when the consent round passed
    end = poll.decided_at or poll.closes_at
    committee = "; ".join(f"{m.name} ({m.role}{', tổ trưởng' if m.is_leader else ''})" for m in poll.committee)
    lines = [
        f"1. Thời gian bắt đầu biểu quyết: {format_datetime(start)}; kết thúc: {format_datetime(end)}."
        + (f" {early_stop_text(poll)}" if poll.early_stopped_at else ""),
        f"2. Tổ {'lấy ý kiến biểu quyết trực tuyến' if online else 'phát phiếu, kiểm phiếu'}: {committee}.",
        f"3. Tổng số hộ gia đình: {result.households}; số hộ tham gia: {result.participated}; số hộ không tham gia: "
        f"{result.households - result.participated}.",
    ]
    if online and poll.consent_agreed is not None:
        lines.append(f"Số hộ đồng ý biểu quyết trực tuyến (vòng lấy ý kiến trước): {poll.consent_agreed}/"
                     f"{result.households}.")
    for line in lines:
        body(document, line)
    if poll.form == FORM_BALLOT:
        names = {g.group_id: g.group.full_name for g in poll.groups}
        body(document, "4. Kết quả kiểm phiếu:")
        counts = paper_counts(session, poll)
        rows = [[names.get(r.group_id, ""), str(r.issued), str(r.returned), str(r.valid), str(r.invalid)]
                + [str(r.counts.get(str(c.id), 0)) for c in poll.choices] for r in counts]
        width = 16.0 - 3.6
        _table(document, ["Khu dân cư", "Phát ra", "Thu về", "Hợp lệ", "Không hợp lệ"]
               + [c.label for c in poll.choices], rows, [3.6] + [width / (4 + len(poll.choices))] *
               (4 + len(poll.choices)))
        for r in counts:
            body(document, f"{names.get(r.group_id, '')}: kiểm phiếu lúc {format_datetime(r.counted_at)}"
                           f"{' tại ' + r.place if r.place else ''}; người kiểm phiếu: "
                           f"{'; '.join(r.counters.splitlines())}; người chứng kiến: "
                           f"{'; '.join(r.witnesses.splitlines())}.")
    else:
        body(document, "4. Kết quả (ảnh chụp kết quả lúc kiểm phiếu"
                       + (f", {format_datetime(poll.decided_at)}" if poll.decided_at else "") + "):")
        households = max(result.households, 1)
        rows = [[c.label, str(result.total(c.id)), f"{100 * result.total(c.id) / households:.1f}%"]
                for c in result.choices]
        _table(document, ["Lựa chọn", "Số hộ", "Tỷ lệ trên tổng số hộ"], rows, [8.0, 3.5, 4.5])
        if online:
            trackers = bulletin(session, poll)
            digest = hashlib.sha256("\n".join(trackers).encode()).hexdigest()
            body(document, f"Bảng công khai có {len(trackers)} phiếu đã mã hóa; dấu vân tay của bảng (SHA-256): "
                           f"{digest}.")
            if poll.public_key and poll.texts_key:
                body(document, "Dấu vân tay khóa của cuộc biểu quyết (in trên thông báo mở, phiếu giữ khóa và từng "
                               f"phiếu): {key_fingerprint(poll.public_key, poll.texts_key)}.")
            box = session.scalar(select(BallotBox).where(BallotBox.poll_id == poll.id, BallotBox.phase == "vote"))
            if box is not None and box.record:
                checked, refused = box.record["checked"], box.record["refused"]
                body(document, f"Khi kiểm phiếu đã kiểm tra: khóa đúng là khóa công bố khi mở; {checked['ballots']} "
                               f"phiếu thuộc đúng các khu dân cư của cuộc biểu quyết, bằng số hộ đã biểu quyết; mã theo "
                               f"dõi và chứng minh hợp lệ của từng phiếu; chứng minh giải mã đúng của từng tổng. "
                               + (f"Số phiếu bị loại vì chứng minh không hợp lệ: {refused} (mã theo dõi công bố trong "
                                  "hồ sơ kiểm phiếu)." if refused else "Không có phiếu nào bị loại.")
                               + " Hồ sơ kiểm phiếu công khai trên trang kết quả; ai cũng kiểm tra lại được bằng "
                                 "chương trình kiểm tra (python -m consult.verify).")
    if result.other_texts:
        body(document, "Các ý kiến khác:")
        for text in result.other_texts:
            body(document, f"- {text}")
    body(document, f"5. Kết quả: {poll.outcome_text or result.summary}")
    _participants_table(document, session, poll)
    body(document, "Biên bản được lập thành 03 bản: gửi Ủy ban nhân dân cấp xã, Ủy ban Mặt trận Tổ quốc Việt Nam cấp "
                   "xã và lưu tại khu dân cư.")
    leader = next((m.name for m in poll.committee if m.is_leader), "")
    para(document, "", space_after=6).paragraph_format.keep_with_next = True
    signatures(document, [("TỔ TRƯỞNG", leader), ("HỘ GIA ĐÌNH CHỨNG KIẾN", ""), ("HỘ GIA ĐÌNH CHỨNG KIẾN", "")])
    _keep_together(document.tables[-1])
    return to_bytes(document)
