"""The documents of a residents' vote, as .docx in the NĐ 30 layout, one for each step
the law makes a step:

- the community's decision (Luật Điều 20 khoản 2): a nghị quyết of its meeting, or the
  biên bản of the result of household ballots or of an online vote. A vote of several
  groups gives one per community, headed by the commune and that group, with that
  community's own result and signed by its own people: its head (rules.HEAD_TITLES),
  the Trưởng Ban công tác Mặt trận and two household representatives (Điều 20 khoản 2);
- a result that failed is a biên bản saying what follows, never "có hiệu lực": a meeting
  short of households (ballots, Điều 19 khoản 1 điểm b), an election with no one elected
  (the UBND cấp xã decides the re-election, NĐ 59 Điều 7 to 9), a matter not adopted;
- the UBND cấp xã's synthesis of the groups' results of a commune-wide matter, and for
  khoản 1, 2 whether two thirds of the groups approved (Điều 21 khoản 1);
- the biên bản kiểm phiếu whenever ballots are counted: a secret ballot at a meeting
  (NĐ 59 Điều 3 khoản 5, Mẫu 02), household ballots (Điều 4 khoản 6), an online vote
  (Điều 5 khoản 4), each signed by the members of its Tổ or Ban kiểm phiếu, named;
- the biên bản of an online vote's consent round (NĐ 59 Điều 5 khoản 1).

Each community's decision is a download of its own rather than a section of one file:
it is a document of its own, with its own number, signers and date, that its head
sends to the UBND and the Fatherland Front (Điều 20 khoản 3).

Every document of a vote gives the same times (``_times``): the meeting's, or the
voting's start after the consent round and its end (``vote_ended_at``), and the count.
A signature block stays with the last lines of the body: those keep with the next
paragraph, and no empty paragraph stands between them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from docx.shared import Pt
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from consult.adminpaper import (CELL_MARGIN_CM, body, closing_block, column_widths, header_block,
                                keep_rows_together, new_document, para, signature_cell, text_width, text_width_cm,
                                title, to_bytes, widths)
from consult.covenants import documents as covenant_papers  # a hương ước's text as the decision's annex
from consult.polls import rules
from consult.polls.deadlines import vote_ended_at
from consult.polls.models import (FORM_BALLOT, FORM_MEETING, FORM_ONLINE, FORMS, MATTER_KINDS, PHASE_CONSENT,
                                  PROCEDURE_SUBJECTS, STATUS_DECIDED, Attendance, BallotBox, MeetingCount, Poll,
                                  PollHousehold)
from consult.polls.service import (GroupTally, Tally, bulletin, consent_answers, key_fingerprint, paper_counts,
                                   participants, procedures, report_deadline, tally)
from consult.timeutil import format_date, format_datetime, local_date


class NoSuchDocument(LookupError):
    """This vote has no such document (yet): e.g. the minutes of a count that did not happen."""


# --- what a vote has ------------------------------------------------------------------------------

@dataclass(frozen=True)
class VoteDocument:
    doc: str  # decision / minutes / consent / synthesis
    group_id: int | None
    label: str


def _consent_failed(poll: Poll) -> bool:
    return poll.form == FORM_ONLINE and poll.phase == PHASE_CONSENT and poll.consent_closes_at is not None


def _meeting_failed(poll: Poll) -> bool:
    return poll.failed_for_attendance


def _secret_counts(session: Session, poll: Poll) -> list[MeetingCount]:
    return list(session.scalars(select(MeetingCount).where(MeetingCount.poll_id == poll.id,
                                                           MeetingCount.method == "secret")
                                .order_by(MeetingCount.id)))


def _per_community(poll: Poll) -> bool:
    return len(poll.groups) > 1


def available(session: Session, poll: Poll) -> list[VoteDocument]:
    """The documents a vote has so far, in the order of its steps: the consent round's once
    it is over, the others once the vote has ended."""
    found = []
    if poll.form == FORM_ONLINE and poll.consent_closes_at is not None:
        found.append(VoteDocument("consent", None, "Biên bản lấy ý kiến đồng ý biểu quyết trực tuyến"))
    if poll.status not in ("closed", STATUS_DECIDED) or _consent_failed(poll):
        return found
    counted = poll.status == STATUS_DECIDED and (poll.form != FORM_MEETING or _secret_counts(session, poll))
    if counted:
        found.append(VoteDocument("minutes", None, "Biên bản kiểm phiếu"))
    result = tally(session, poll)
    for g in result.groups:
        label = _decision_label(session, poll, result, g)
        found.append(VoteDocument("decision", g.group.id if _per_community(poll) else None,
                                  f"{label} — {g.group.full_name}" if _per_community(poll) else label))
    if poll.commune_wide and _per_community(poll) and poll.status == STATUS_DECIDED:
        found.append(VoteDocument("synthesis", None, "Báo cáo tổng hợp kết quả của các khu dân cư (UBND cấp xã)"))
    return found


def render(session: Session, poll: Poll, doc: str, group_id: int | None = None) -> bytes:
    """One of the vote's documents (see ``available``); NoSuchDocument for any other."""
    if not any(d.doc == doc and d.group_id == group_id for d in available(session, poll)):
        raise NoSuchDocument(doc)
    if doc == "consent":
        return consent_docx(session, poll)
    if doc == "minutes":
        return minutes_docx(session, poll)
    if doc == "synthesis":
        return synthesis_docx(session, poll)
    return decision_docx(session, poll, group_id)


def filename(poll: Poll, doc: str, group_id: int | None, ext: str) -> str:
    stem = {"decision": "van-ban-quyet-dinh", "minutes": "bien-ban-kiem-phieu", "consent": "bien-ban-dong-y-truc-tuyen",
            "synthesis": "bao-cao-tong-hop"}[doc]
    return f"{stem}-bieu-quyet-{poll.id}" + (f"-khu-{group_id}" if group_id else "") + f".{ext}"


# --- shared parts --------------------------------------------------------------------------------

def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _commune(poll: Poll) -> str:
    return f"{poll.commune.kind_label.lower()} {poll.commune.name}"


def _issuer(poll: Poll, group=None) -> list[str]:
    """A community's document: the commune and that group; a commune-wide one: its UBND."""
    if group is None and poll.group is None:
        return ["Ủy ban nhân dân", f"{poll.commune.kind_label} {poll.commune.name}"]
    group = group or poll.group
    return [f"{poll.commune.kind_label} {poll.commune.name}", group.full_name]


def _where(poll: Poll) -> str:
    return poll.group.full_name if poll.group else _commune(poll)


def percent(count: int, of: int) -> str:
    """"50,8%": Vietnamese writes a decimal comma."""
    return f"{100 * count / max(of, 1):.1f}".replace(".", ",") + "%"


def head_title(poll: Poll, group=None) -> str:
    """The head of the community who signs its decision, by the group's kind (Luật Điều 20 khoản 2)."""
    group = group or poll.group or poll.groups[0].group
    return rules.HEAD_TITLES.get(group.kind, "TRƯỞNG KHU DÂN CƯ")


def _voting_start(poll: Poll):
    """Voting began when the vote opened, or for an online vote when its consent round passed."""
    if poll.form == FORM_ONLINE and poll.consent_closes_at and poll.consent_closes_at > poll.opens_at:
        return poll.consent_closes_at
    return poll.opens_at


def _times(poll: Poll) -> str:
    """The times the vote took place, the same in every document of the vote."""
    end = vote_ended_at(poll) or poll.closes_at
    text = ""
    if poll.form == FORM_ONLINE and poll.consent_opens_at and poll.consent_closes_at:
        text = (f"lấy ý kiến đồng ý biểu quyết trực tuyến từ {format_datetime(poll.consent_opens_at)} đến "
                f"{format_datetime(poll.consent_closes_at)}; ")
    what = {FORM_MEETING: "họp", FORM_BALLOT: "phát và thu phiếu", FORM_ONLINE: "biểu quyết trực tuyến"}[poll.form]
    text += f"{what} từ {format_datetime(_voting_start(poll))} đến {format_datetime(end)}"
    if poll.decided_at and poll.form == FORM_ONLINE:
        text += f"; kiểm phiếu lúc {format_datetime(poll.decided_at)}"
    text += "."
    if poll.early_stopped_at:
        text += f" {early_stop_text(poll)}"
    return text + _notice(poll)


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


def _chosen(session: Session, poll: Poll, subject: str) -> str:
    """What the meeting chose for ``subject`` (its secretary, its counters), when it did (NĐ 59 Điều 3 khoản 5)."""
    adopted = [p for p in procedures(session, poll) if p.subject == subject and p.passed]
    return adopted[-1].proposal if adopted else ""


def _meeting_people(session: Session, poll: Poll, group=None) -> str:
    """The meeting's place, chair and secretary where known (the vote's form records the place
    and the chair; without a name, the head of a one-community meeting chairs it)."""
    if poll.form != FORM_MEETING:
        return ""
    parts = []
    if poll.place:
        parts.append(f"Địa điểm: {poll.place}")
    if poll.chair:
        parts.append(f"chủ trì: {poll.chair}" if parts else f"Chủ trì: {poll.chair}")
    elif not _per_community(poll):  # a joint meeting of several groups: its chair is not recorded
        title = head_title(poll, group).capitalize()
        parts.append(f"chủ trì: {title}" if parts else f"Chủ trì: {title}")
    secretary = _chosen(session, poll, "secretary")
    if secretary:
        parts.append(f"thư ký: {secretary}")
    return (" " + "; ".join(parts) + ".") if parts else ""


def _names(text: str) -> list[str]:
    """The names in a free list ("Ông A, bà B; ông C" or one a line)."""
    return [n.strip(" .") for n in re.split(r"[\n;,]", text or "") if n.strip(" .")]


def _grid(document, blocks: list[tuple[str, str]], per_row: int = 2) -> None:
    """Signature blocks (title, name) in one table, ``per_row`` a row: no row splits across
    pages, and every paragraph keeps with the next, so that the block stays whole and with
    what comes after it (Nơi nhận)."""
    rows = [blocks[i:i + per_row] for i in range(0, len(blocks), per_row)]
    table = document.add_table(rows=len(rows), cols=per_row)
    # Each column as wide as its longest title needs (on one line where the width allows), the rest shared.
    needs = [max([_block_need(*row[c]) for row in rows if c < len(row)] or [1.0]) for c in range(per_row)]
    total = text_width(document).cm
    if sum(needs) <= total:
        needs = [n + (total - sum(needs)) / per_row for n in needs]
    widths(table, column_widths(document, needs))
    keep_rows_together(table)
    for r, row in enumerate(rows):
        for cell, (heading, name) in zip(table.rows[r].cells, row):
            signature_cell(cell, heading, name)
        for cell in table.rows[r].cells:
            for paragraph in cell.paragraphs:
                paragraph.paragraph_format.keep_with_next = True
                paragraph.paragraph_format.space_after = Pt(0)
            cell.paragraphs[-1].paragraph_format.space_after = Pt(18)  # a name apart from the next row's title


def _block_need(heading: str, name: str) -> float:
    lines = [text_width_cm(line, 13, bold=True) for line in heading.split("\n")]
    return max(lines + [text_width_cm(name, 13, bold=True), text_width_cm("(ký, ghi rõ họ tên)", 12, italic=True)]) \
        + 2 * CELL_MARGIN_CM + 0.3


def _keep_end_with_signatures(document, lines: int = 2) -> None:
    """The body's last paragraphs go to the next page with the signatures, never the signatures alone."""
    for paragraph in document.paragraphs[-lines:]:
        paragraph.paragraph_format.keep_with_next = True
    if document.paragraphs:
        document.paragraphs[-1].paragraph_format.space_after = Pt(12)


def _recipients(document, poll: Poll, group=None) -> None:
    """Nơi nhận (NĐ 30): the commune's UBND and UB MTTQ (Luật Điều 20 khoản 3), and the group's file."""
    group = group or poll.group
    lines = [f"- UBND {_commune(poll)};", f"- Ủy ban MTTQ Việt Nam {_commune(poll)};",
             f"- Lưu: {group.full_name if group else 'VT'}."]
    p = para(document, "Nơi nhận:", size=12, bold=True, italic=True, space_after=0)
    p.paragraph_format.space_before = Pt(12)
    p.paragraph_format.keep_with_next = True
    for i, line in enumerate(lines):
        para(document, line, size=11, space_after=0).paragraph_format.keep_with_next = i < len(lines) - 1


def _community_signers(session: Session, poll: Poll, group) -> list[tuple[str, str]]:
    """The head, the Trưởng Ban công tác Mặt trận and two household representatives of THAT
    community (Luật Điều 20 khoản 2), with the names the vote knows: the Tổ's leader is the
    BCTMT's representative of a one-group vote; the witnesses of a group's paper count are
    two of its household representatives."""
    leader = next((m.name for m in poll.committee if m.is_leader), "") if not _per_community(poll) else ""
    witnesses = []
    if poll.form == FORM_BALLOT:
        row = next((r for r in paper_counts(session, poll) if r.group_id == group.id), None)
        witnesses = _names(row.witnesses) if row else []
    witnesses = (witnesses + ["", ""])[:2]
    return [(head_title(poll, group), ""), ("TRƯỞNG BAN CÔNG TÁC MẶT TRẬN", leader),
            ("ĐẠI DIỆN HỘ GIA ĐÌNH", witnesses[0]), ("ĐẠI DIỆN HỘ GIA ĐÌNH", witnesses[1])]


def _close_with(document, blocks, poll: Poll, group=None, per_row: int = 2) -> bytes:
    _keep_end_with_signatures(document)
    _grid(document, blocks, per_row)
    _recipients(document, poll, group)
    return to_bytes(document)


# --- the community's decision ----------------------------------------------------------------------

def _group_tally(result: Tally, group_id: int | None) -> GroupTally:
    if group_id is None:
        if len(result.groups) != 1:
            raise NoSuchDocument("decision")
        return result.groups[0]
    found = next((g for g in result.groups if g.group.id == group_id), None)
    if found is None:
        raise NoSuchDocument("decision")
    return found


def _is_election(poll: Poll, result: Tally) -> bool:
    return result.election and poll.matter_kind in rules.ELECTION_KINDS


def _outcome(poll: Poll, result: Tally, g: GroupTally) -> tuple[bool, str]:
    """This community's own result: whether it adopted the matter, and the words of it."""
    if len(result.groups) == 1:
        return result.passed, poll.outcome_text or result.summary
    if result.election:
        seats = poll.seats or 1
        won, tied = rules.elected([(c.id, g.counts.get(c.id, 0)) for c in poll.choices], poll.matter_kind,
                                  g.households, seats)
        labels = {c.id: c.label for c in poll.choices}
        head = "Trúng cử" if poll.matter_kind in rules.ELECTION_KINDS else "Phương án được chọn"
        if won:
            text = f"{head}: " + "; ".join(f"{labels[c]} ({g.counts.get(c, 0)}/{g.households} hộ)" for c in won)
        else:
            what = "ứng cử viên" if head == "Trúng cử" else "phương án"
            text = f"Không {what} nào đạt {rules.rule_text(poll.matter_kind)}"
        text += f", cần ít nhất {g.needed}/{g.households} hộ"
        if tied:
            text += "; bằng phiếu ở chỗ cuối: " + ", ".join(labels[c] for c in tied) + " — phải biểu quyết lại chỗ này"
        return bool(won), text + "."
    verdict = "Thông qua" if g.passed else "Không thông qua"
    return g.passed, f"{verdict}: {g.agree}/{g.households} hộ của khu dân cư đồng ý, cần ít nhất {g.needed}."


def _short_of_households(poll: Poll, result: Tally, g: GroupTally) -> bool:
    """A community whose meeting did not have enough households to decide (Điều 19 khoản 1 điểm b):
    the whole meeting, or one community of a meeting where each decides for itself. (A group short
    of households at a commune-wide khoản 1, 2 meeting simply does not approve.)"""
    if poll.form != FORM_MEETING:
        return False
    return _meeting_failed(poll) or (result.by_group and g.participated < g.needed)


def _decision_label(session: Session, poll: Poll, result: Tally, g: GroupTally) -> str:
    if _short_of_households(poll, result, g):
        return "Biên bản hội nghị không đủ số hộ tham dự"
    passed, _ = _outcome(poll, result, g)
    if not passed:
        return "Biên bản bầu cử không có người trúng cử" if _is_election(poll, result) else "Biên bản kết quả"
    return "Nghị quyết" if poll.form == FORM_MEETING else "Biên bản kết quả"


def decision_docx(session: Session, poll: Poll, group_id: int | None = None) -> bytes:
    """The decision of one community (Luật Điều 20 khoản 2), with every item the article
    lists: the time; households, representatives present (or taking part) and not; the
    content; the form; the result; the decision; its signers. Adopted at a meeting it is
    a nghị quyết; anything that failed is a biên bản saying what follows, never what takes
    effect. A vote of several groups has one per community: ``group_id`` names it."""
    if _consent_failed(poll):
        return consent_docx(session, poll)
    result = tally(session, poll)
    g = _group_tally(result, group_id)
    group = g.group
    if _short_of_households(poll, result, g):
        return failed_meeting_docx(session, poll, group.id if _per_community(poll) else None)
    passed, outcome = _outcome(poll, result, g)
    election = _is_election(poll, result)
    document = new_document()
    when = local_date(poll.decided_at) if poll.decided_at else None
    where = group.full_name
    subject = f"{_lower_first(poll.title)}"
    if poll.form == FORM_MEETING and passed:
        header_block(document, _issuer(poll, group), "      /NQ-HNCĐ", poll.commune.name, when)
        title(document, "Nghị quyết", f"Hội nghị cộng đồng dân cư {where} về {subject}")
    else:
        header_block(document, _issuer(poll, group), "      /BB-CĐDC", poll.commune.name, when)
        how = {FORM_MEETING: "Hội nghị cộng đồng dân cư", FORM_BALLOT: "Kết quả lấy ý kiến hộ gia đình bằng phiếu của "
               "cộng đồng dân cư", FORM_ONLINE: "Kết quả biểu quyết trực tuyến của cộng đồng dân cư"}[poll.form]
        tail = ": không có người trúng cử" if election and not passed else ""
        title(document, "Biên bản", f"{how} {where} về {subject}{tail}")
    took_part = g.participated
    present = "có mặt" if poll.form == FORM_MEETING else "tham gia"
    items = [
        f"1. Thời gian: {_times(poll)}{_meeting_people(session, poll, group)}",
        f"2. Tổng số hộ gia đình: {g.households}; số đại diện hộ gia đình {present}: {took_part}; số hộ không có "
        f"đại diện tham gia: {g.households - took_part}.",
        covenant_papers.decision_content(session, poll)
        or f"3. Nội dung: {poll.question}" + (f" {poll.content}" if poll.content else ""),
        f"4. Loại việc: {MATTER_KINDS[poll.matter_kind]} (Điều 15 Luật Thực hiện dân chủ ở cơ sở).",
        f"5. Hình thức: {FORMS[poll.form]}." + _scope(poll, result),
        "6. Kết quả biểu quyết:",
    ]
    for line in items:
        body(document, line)
    for choice in result.choices:
        body(document, f"- {choice.label}: {g.counts.get(choice.id, 0)} hộ.")
    for cluster, count in _clusters(session, poll, group.id):
        body(document, f"- Cụm dân cư {cluster}: {count} hộ có mặt.")
    for procedure in procedures(session, poll):
        body(document, f"- {PROCEDURE_SUBJECTS[procedure.subject]}: {procedure.proposal} — {procedure.agree}/"
                       f"{procedure.present} đại diện có mặt tán thành, "
                       f"{'thông qua' if procedure.passed else 'không thông qua'}.")
    rule = f"cần {rules.rule_text(poll.matter_kind)}, tính trên tổng số hộ gia đình của khu dân cư"
    if passed:
        body(document, f"7. Quyết định: {outcome.rstrip('.')} ({rule}).")
        body(document, f"8. Hiệu lực: {_effect(poll, result, g)}")
        if election and "chỗ chưa bầu được" in outcome:
            body(document, "Các chỗ chưa bầu được: Ủy ban nhân dân cấp xã xem xét, quyết định việc bầu bổ sung "
                           "(Nghị định 59/2023/NĐ-CP, Điều 7 đến Điều 9).")
    else:
        body(document, f"7. Kết quả: {outcome.rstrip('.')} ({rule}).")
        body(document, f"8. Việc tiếp theo: {_what_next(poll, result, election)}")
    deadline = report_deadline(session, poll)
    if deadline:
        body(document, f"Văn bản này được gửi Ủy ban nhân dân và Ủy ban Mặt trận Tổ quốc Việt Nam cấp xã chậm nhất "
                       f"ngày {format_date(deadline)} (05 ngày làm việc kể từ ngày kết thúc biểu quyết, khoản 3 "
                       "Điều 20).")
    return covenant_papers.with_annex(session, poll, _close_with(document, _community_signers(session, poll, group),
                                                                 poll, group))


def _scope(poll: Poll, result: Tally) -> str:
    """A vote of several groups: how the communities' results count (Luật Điều 21 khoản 1)."""
    if not _per_community(poll):
        return ""
    names = ", ".join(g.group.full_name for g in result.groups)
    if result.by_group:
        return (f" Biểu quyết cùng lúc tại {len(result.groups)} khu dân cư ({names}); mỗi khu dân cư quyết định theo "
                "số hộ gia đình của khu, văn bản này ghi kết quả của khu dân cư.")
    return (f" Nội dung trên địa bàn {_commune(poll)}, biểu quyết tại {len(result.groups)} khu dân cư ({names}); mỗi "
            "khu dân cư quyết định theo số hộ gia đình của khu và nội dung được thông qua khi ít nhất hai phần ba số "
            "khu dân cư tán thành (khoản 1 Điều 21); Ủy ban nhân dân cấp xã tổng hợp kết quả của các khu dân cư.")


def _effect(poll: Poll, result: Tally, g: GroupTally) -> str:
    """When an adopted decision takes effect and who recognises it (Điều 21 khoản 2)."""
    recognition = rules.recognition(poll.matter_kind, poll.commune_wide)
    if _per_community(poll) and not result.by_group:
        return (f"Khu dân cư tán thành; nội dung {recognition.effect} nếu được thông qua trên địa bàn "
                f"{_commune(poll)} theo báo cáo tổng hợp của Ủy ban nhân dân cấp xã.")
    return f"{recognition.effect}; công nhận: {rules.RECOGNISERS[recognition.by]}."


def _what_next(poll: Poll, result: Tally, election: bool) -> str:
    """What follows a result that failed: never that it takes effect."""
    if _per_community(poll) and not result.by_group:
        return (f"Khu dân cư không tán thành. Ủy ban nhân dân cấp xã tổng hợp kết quả của các khu dân cư; nội dung "
                f"chỉ được thông qua trên địa bàn {_commune(poll)} khi ít nhất hai phần ba số khu dân cư tán thành "
                "(khoản 1 Điều 21).")
    if election:
        return ("Không có người trúng cử. Ủy ban nhân dân cấp xã xem xét, quyết định việc tổ chức bầu lại "
                "(Nghị định 59/2023/NĐ-CP, Điều 7 đến Điều 9). Kết quả này không được đề nghị công nhận.")
    return "Nội dung không được thông qua nên không được thực hiện và không đề nghị công nhận."


def _clusters(session: Session, poll: Poll, group_id: int | None = None) -> list[tuple[str, int]]:
    """The clusters a meeting of 200 households or more was held in (Luật Điều 18 khoản 3)."""
    stmt = (select(Attendance.cluster, func.count()).join(PollHousehold, PollHousehold.id ==
                                                          Attendance.poll_household_id)
            .where(Attendance.poll_id == poll.id, Attendance.cluster != ""))
    if group_id is not None:
        stmt = stmt.where(PollHousehold.group_id == group_id)
    rows = session.execute(stmt.group_by(Attendance.cluster).order_by(Attendance.cluster))
    return [(cluster, count) for cluster, count in rows]


def failed_meeting_docx(session: Session, poll: Poll, group_id: int | None = None) -> bytes:
    """Biên bản of a community meeting that could not decide for lack of households
    present: nothing is adopted, and the matter goes to household ballots (Luật Điều 19
    khoản 1 điểm b)."""
    result = tally(session, poll)
    g = _group_tally(result, group_id)
    group = g.group
    document = new_document()
    when = local_date(poll.decided_at) if poll.decided_at else None
    header_block(document, _issuer(poll, group), "      /BB-HNCĐ", poll.commune.name, when)
    title(document, "Biên bản", f"Hội nghị cộng đồng dân cư {group.full_name} không đủ số hộ tham dự")
    for line in [
        f"1. Thời gian: {_times(poll)}{_meeting_people(session, poll, group)}",
        f"2. Nội dung dự kiến biểu quyết: {poll.question}",
        f"3. Tổng số hộ gia đình: {g.households}; số đại diện hộ gia đình có mặt: {g.participated}; số hộ không có "
        f"đại diện tham gia: {g.households - g.participated}.",
        f"4. Để thông qua cần {rules.rule_text(poll.matter_kind)} ({g.needed}/{g.households} hộ) đồng ý; số hộ có mặt "
        f"không đủ để thông qua nên hội nghị không biểu quyết nội dung này.",
        "5. Kết luận: Hội nghị không đủ điều kiện quyết định. Theo điểm b khoản 1 Điều 19 Luật Thực hiện dân chủ ở cơ "
        "sở, nội dung được đưa ra lấy ý kiến hộ gia đình bằng phiếu.",
    ]:
        body(document, line)
    return _close_with(document, _community_signers(session, poll, group), poll, group)


# --- the UBND's synthesis of the groups' results ---------------------------------------------------

def synthesis_docx(session: Session, poll: Poll) -> bytes:
    """The UBND cấp xã's synthesis of a commune-wide matter: each group's result by its own
    households and, for khoản 1, 2, whether at least two thirds of the groups approved
    (Luật Điều 21 khoản 1); signed TM. ỦY BAN NHÂN DÂN, CHỦ TỊCH."""
    result = tally(session, poll)
    document = new_document()
    when = local_date(poll.decided_at) if poll.decided_at else None
    header_block(document, ["Ủy ban nhân dân", f"{poll.commune.kind_label} {poll.commune.name}"], "      /BC-UBND",
                 poll.commune.name, when)
    title(document, "Báo cáo", f"Tổng hợp kết quả biểu quyết của các khu dân cư về {_lower_first(poll.title)}")
    body(document, f"Ủy ban nhân dân {_commune(poll)} tổng hợp kết quả biểu quyết của cộng đồng dân cư "
                   f"{len(result.groups)} khu dân cư về nội dung: {poll.question} Loại việc: "
                   f"{MATTER_KINDS[poll.matter_kind]} (Điều 15 Luật Thực hiện dân chủ ở cơ sở). Hình thức: "
                   f"{FORMS[poll.form]}. Thời gian: {_times(poll)}")
    body(document, "1. Kết quả của từng khu dân cư (mỗi khu tính trên tổng số hộ gia đình của khu):")
    rows = []
    for i, g in enumerate(result.groups, start=1):
        passed, _ = _outcome(poll, result, g)
        rows.append([str(i), g.group.full_name, str(g.households), str(g.participated), str(g.agree), str(g.needed),
                     "Tán thành" if passed else "Không tán thành"])
    _table(document, ["STT", "Khu dân cư", "Tổng số hộ", "Tham gia", "Đồng ý", "Cần ít nhất", "Kết quả"], rows,
           [1.3, 3.4, 2.1, 1.9, 1.9, 2.2, 3.7])
    para(document, "", space_after=0).paragraph_format.line_spacing = Pt(6)  # a little air under the table
    approving = sum(1 for g in result.groups if _outcome(poll, result, g)[0])
    total = len(result.groups)
    if not result.by_group and poll.matter_kind in rules.TWO_THIRDS_KINDS:
        needed = -(-2 * total // 3)
        body(document, f"2. Số khu dân cư tán thành: {approving}/{total}; cần ít nhất {needed} (hai phần ba tổng số "
                       "khu dân cư, khoản 1 Điều 21 Luật Thực hiện dân chủ ở cơ sở): "
                       + ("đạt." if result.passed else "không đạt."))
        if result.passed:
            body(document, f"3. Kết luận: nội dung được thông qua trên địa bàn {_commune(poll)}; "
                           f"{rules.recognition(poll.matter_kind, True).effect} (khoản 2 Điều 21).")
        else:
            body(document, f"3. Kết luận: nội dung không được thông qua trên địa bàn {_commune(poll)} và không được "
                           "thực hiện.")
    else:
        yes = [g.group.full_name for g in result.groups if _outcome(poll, result, g)[0]]
        no = [g.group.full_name for g in result.groups if not _outcome(poll, result, g)[0]]
        body(document, "2. Kết luận: mỗi khu dân cư quyết định theo số hộ gia đình của khu (khoản 1 Điều 21). "
                       f"Được thông qua tại: {', '.join(yes) or 'không khu dân cư nào'}. Không được thông qua tại: "
                       f"{', '.join(no) or 'không khu dân cư nào'}.")
    _keep_end_with_signatures(document)
    recipients = (f"- Thường trực HĐND {_commune(poll)};\n- Ủy ban MTTQ Việt Nam {_commune(poll)};\n"
                  "- Các khu dân cư;\n- Lưu: VT.")
    closing_block(document, recipients, "TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH", "")
    # closing_block puts an empty paragraph before its table: it goes with the table.
    document.paragraphs[-1].paragraph_format.keep_with_next = True
    for cell in document.tables[-1].rows[0].cells:
        for paragraph in cell.paragraphs:
            paragraph.paragraph_format.keep_with_next = True
    return to_bytes(document)


# --- the consent round of an online vote ------------------------------------------------------------

def consent_docx(session: Session, poll: Poll) -> bytes:
    """Biên bản of an online vote's consent round (NĐ 59 Điều 5 khoản 1): the households,
    those who answered and agreed, the rule (more than half of ALL households), and the
    conclusion: the online vote goes ahead, or none is held."""
    if poll.form != FORM_ONLINE or poll.consent_closes_at is None:
        raise NoSuchDocument("consent")
    households = poll.households_total
    agreed = poll.consent_agreed or 0
    answered = consent_answers(session, poll)
    box = session.scalar(select(BallotBox).where(BallotBox.poll_id == poll.id, BallotBox.phase == PHASE_CONSENT))
    disagreed = sum(c.get("disagree", 0) for c in (box.counts if box else {}).values())
    reached = rules.consent_reached(households, agreed)
    head = head_title(poll).capitalize()
    document = new_document()
    header_block(document, _issuer(poll), "      /BB-CĐDC", poll.commune.name, local_date(poll.consent_closes_at))
    title(document, "Biên bản", f"Kết quả lấy ý kiến đồng ý biểu quyết trực tuyến của cộng đồng dân cư "
                                f"{_where(poll)} về {_lower_first(poll.title)}")
    committee = "; ".join(f"{m.name} ({m.role}{', tổ trưởng' if m.is_leader else ''})" for m in poll.committee)
    lines = [
        f"1. Thời gian lấy ý kiến: từ {format_datetime(poll.consent_opens_at)} đến "
        f"{format_datetime(poll.consent_closes_at)}.",
        f"2. Tổ lấy ý kiến biểu quyết trực tuyến: {committee}.",
        f"3. Nội dung dự kiến biểu quyết: {poll.question}",
        "4. Điều kiện đã có (khoản 1 Điều 5 Nghị định 59/2023/NĐ-CP): "
        + (f"{head} và Ban công tác Mặt trận thống nhất không cần họp hoặc phát phiếu ngày "
           f"{format_date(poll.agreed_unnecessary_on)}; " if poll.agreed_unnecessary_on else "")
        + (f"đã báo cáo Ủy ban nhân dân và Ủy ban MTTQ Việt Nam cấp xã ngày {format_date(poll.reported_on)}; "
           if poll.reported_on else "")
        + ("các hộ có thiết bị để biểu quyết trực tuyến." if poll.devices_confirmed else "chưa xác nhận thiết bị."),
        f"5. Tổng số hộ gia đình: {households}; số hộ trả lời: {answered}; số hộ đồng ý biểu quyết trực tuyến: "
        f"{agreed} ({percent(agreed, households)} tổng số hộ); số hộ không đồng ý: {disagreed}; số hộ không trả lời: "
        f"{households - answered}.",
        f"6. Điều kiện: biểu quyết trực tuyến chỉ được tổ chức khi hơn một nửa tổng số hộ gia đình đồng ý, tức ít nhất "
        f"{households // 2 + 1}/{households} hộ (khoản 1 Điều 5 Nghị định 59/2023/NĐ-CP).",
    ]
    if reached:
        lines.append(f"7. Kết luận: đủ điều kiện; biểu quyết trực tuyến từ {format_datetime(poll.consent_closes_at)} "
                     f"đến {format_datetime(poll.closes_at)}.")
    else:
        lines.append(f"7. Kết luận: không đủ điều kiện, không tổ chức biểu quyết trực tuyến. {head} và Ban công tác "
                     "Mặt trận tổ chức họp cộng đồng dân cư hoặc phát phiếu lấy ý kiến hộ gia đình để quyết định nội "
                     "dung này (Điều 17, Điều 19 Luật Thực hiện dân chủ ở cơ sở).")
    for line in lines:
        body(document, line)
    return _close_with(document, _committee_signers(poll), poll)


def _committee_signers(poll: Poll) -> list[tuple[str, str]]:
    """Each member of the Tổ signs, the name printed: its leader first."""
    members = sorted(poll.committee, key=lambda m: not m.is_leader)
    return [("TỔ TRƯỞNG" if m.is_leader else "THÀNH VIÊN", m.name) for m in members]


# --- the biên bản kiểm phiếu ---------------------------------------------------------------------------

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


def _counts_table(document, poll: Poll, rows: list[list[str]], first: str) -> None:
    width = 16.0 - 3.6
    columns = 4 + len(poll.choices)
    _table(document, [first, "Phát ra", "Thu về", "Hợp lệ", "Không hợp lệ"] + [c.label for c in poll.choices], rows,
           [3.6] + [width / columns] * columns)


def minutes_docx(session: Session, poll: Poll) -> bytes:
    """Biên bản kiểm phiếu, whenever ballots are counted: a secret ballot at a meeting
    (NĐ 59 Điều 3 khoản 5, Mẫu 02: its Ban kiểm phiếu, ballots issued to those present,
    returned, valid, invalid), household ballots (Điều 4 khoản 6: the Tổ phát phiếu and two
    household witnesses), an online vote (Điều 5 khoản 4: a snapshot of the result and the
    list of the representatives who took part, never their choices). Signed by each member
    of the Tổ or Ban kiểm phiếu, named."""
    if _consent_failed(poll):
        return consent_docx(session, poll)
    secret = _secret_counts(session, poll) if poll.form == FORM_MEETING else []
    if poll.status != STATUS_DECIDED or (poll.form == FORM_MEETING and not secret):
        raise NoSuchDocument("minutes")
    result = tally(session, poll)
    document = new_document()
    when = local_date(poll.decided_at) if poll.decided_at else None
    header_block(document, _issuer(poll), "      /BB-KP", poll.commune.name, when)
    how = {FORM_MEETING: f"Bỏ phiếu kín tại Hội nghị cộng đồng dân cư {_where(poll)}",
           FORM_BALLOT: f"Lấy ý kiến hộ gia đình bằng phiếu của cộng đồng dân cư {_where(poll)}",
           FORM_ONLINE: f"Biểu quyết trực tuyến của cộng đồng dân cư {_where(poll)}"}[poll.form]
    title(document, "Biên bản kiểm phiếu", f"{how} về {_lower_first(poll.title)}")
    if poll.form == FORM_MEETING:
        counters = _chosen(session, poll, "counters")
        board = f"Ban kiểm phiếu do hội nghị bầu: {counters}." if counters else "Ban kiểm phiếu: chưa ghi."
    else:
        members = "; ".join(f"{m.name} ({m.role}{', tổ trưởng' if m.is_leader else ''})" for m in poll.committee)
        board = f"Tổ {'lấy ý kiến biểu quyết trực tuyến' if poll.form == FORM_ONLINE else 'phát phiếu'}: {members}."
    lines = [
        f"1. Thời gian: {_times(poll)}{_meeting_people(session, poll)}",
        f"2. {board}",
        f"3. Tổng số hộ gia đình: {result.households}; số hộ tham gia: {result.participated}; số hộ không tham gia: "
        f"{result.households - result.participated}.",
    ]
    if poll.form == FORM_ONLINE and poll.consent_agreed is not None:
        lines.append(f"Số hộ đồng ý biểu quyết trực tuyến (vòng lấy ý kiến trước): {poll.consent_agreed}/"
                     f"{result.households}.")
    for line in lines:
        body(document, line)
    names = {g.group_id: g.group.full_name for g in poll.groups}
    if poll.form == FORM_BALLOT:
        body(document, "4. Kết quả kiểm phiếu:")
        counts = paper_counts(session, poll)
        _counts_table(document, poll, [[names.get(r.group_id, ""), str(r.issued), str(r.returned), str(r.valid),
                                        str(r.invalid)] + [str(r.counts.get(str(c.id), 0)) for c in poll.choices]
                                       for r in counts], "Khu dân cư")
        for r in counts:
            body(document, f"{names.get(r.group_id, '')}: kiểm phiếu lúc {format_datetime(r.counted_at)}"
                           f"{' tại ' + r.place if r.place else ''}; người kiểm phiếu: "
                           f"{'; '.join(_names(r.counters))}; hộ gia đình chứng kiến: "
                           f"{'; '.join(_names(r.witnesses))}.")
    elif poll.form == FORM_MEETING:
        body(document, "4. Kết quả kiểm phiếu (phiếu phát ra cho các đại diện hộ gia đình có mặt):")
        _counts_table(document, poll, [_secret_row(session, poll, row, names) for row in secret], "Khu dân cư")
        for row in secret:
            body(document, f"{_secret_where(poll, row, names)}: kiểm phiếu lúc {format_datetime(row.recorded_at)}.")
    else:
        body(document, "4. Kết quả (ảnh chụp kết quả lúc kiểm phiếu"
                       + (f", {format_datetime(poll.decided_at)}" if poll.decided_at else "") + "):")
        households = max(result.households, 1)
        rows = [[c.label, str(result.total(c.id)), percent(result.total(c.id), households)] for c in result.choices]
        _table(document, ["Lựa chọn", "Số hộ", "Tỷ lệ trên tổng số hộ"], rows, [8.0, 3.5, 4.5])
        _online_checks(document, session, poll)
    if result.other_texts:
        body(document, "Các ý kiến khác:")
        for text in result.other_texts:
            body(document, f"- {text}")
    body(document, f"5. Kết quả: {poll.outcome_text or result.summary}")
    if poll.form == FORM_ONLINE:  # the list of who took part: online votes only (NĐ 59 Điều 5 khoản 4)
        _participants_table(document, session, poll)
    body(document, "Biên bản được lập thành 03 bản: gửi Ủy ban nhân dân cấp xã, Ủy ban Mặt trận Tổ quốc Việt Nam cấp "
                   "xã và lưu tại khu dân cư.")
    return _close_with(document, _counters_signers(session, poll), poll)


def _counters_signers(session: Session, poll: Poll) -> list[tuple[str, str]]:
    """Who signs the count: the Ban kiểm phiếu the meeting chose, or each member of the Tổ; for
    paper ballots also the two household witnesses of each group's count (NĐ 59 Điều 4 khoản 6).
    An online vote has no witnesses."""
    if poll.form == FORM_MEETING:
        names = _names(_chosen(session, poll, "counters"))
        blocks = [("TRƯỞNG BAN KIỂM PHIẾU" if i == 0 else "THÀNH VIÊN BAN KIỂM PHIẾU", n) for i, n in enumerate(names)]
        return blocks or [("TRƯỞNG BAN KIỂM PHIẾU", ""), ("THÀNH VIÊN BAN KIỂM PHIẾU", "")]
    blocks = _committee_signers(poll)
    if poll.form == FORM_BALLOT:
        names = {g.group_id: g.group.full_name for g in poll.groups}
        several = _per_community(poll)
        for r in paper_counts(session, poll):
            heading = "HỘ GIA ĐÌNH CHỨNG KIẾN" + (f"\n{names.get(r.group_id, '').upper()}" if several else "")
            blocks += [(heading, n) for n in (_names(r.witnesses) + ["", ""])[:2]]
    return blocks


def _secret_where(poll: Poll, row: MeetingCount, names: dict[int, str]) -> str:
    group_id = row.group_id or poll.groups[0].group_id
    return names.get(group_id, "") + (f", cụm {row.cluster}" if row.cluster else "")


def _secret_row(session: Session, poll: Poll, row: MeetingCount, names: dict[int, str]) -> list[str]:
    """One secret-ballot count: ballots issued to the representatives present (of its group and
    cluster), returned, valid and invalid. Returned and invalid ballots are printed when the
    count recorded them; valid ballots are the ones counted for a choice (one name a ballot)."""
    group_id = row.group_id or poll.groups[0].group_id
    stmt = select(func.count()).select_from(Attendance).join(
        PollHousehold, PollHousehold.id == Attendance.poll_household_id).where(
        Attendance.poll_id == poll.id, PollHousehold.group_id == group_id)
    if row.cluster:
        stmt = stmt.where(Attendance.cluster == row.cluster)
    issued = row.issued if row.issued is not None else (session.scalar(stmt) or 0)
    returned, invalid = row.returned, row.invalid
    valid = returned - invalid if returned is not None and invalid is not None else None
    if valid is None and (poll.seats or 1) == 1:  # a count recorded before the box's numbers were kept
        valid = sum(row.counts.values())
    show = lambda n: "—" if n is None else str(n)  # noqa: E731
    return ([_secret_where(poll, row, names), str(issued), show(returned), show(valid), show(invalid)]
            + [str(row.counts.get(str(c.id), 0)) for c in poll.choices])


def _online_checks(document, session: Session, poll: Poll) -> None:
    """What the count of an online vote checked: the bulletin's fingerprint, the key, the proofs."""
    trackers = bulletin(session, poll)
    digest = hashlib.sha256("\n".join(trackers).encode()).hexdigest()
    body(document, f"Bảng công khai có {len(trackers)} phiếu đã mã hóa; dấu vân tay của bảng (SHA-256): {digest}.")
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
