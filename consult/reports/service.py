"""Synthesis and response (Luật Điều 28 khoản 3-4): group identical opinions,
record a decision for each, and gather what the report shows.

A report is final only when every opinion has a decision; before that it can
be produced only as a draft marked "DỰ THẢO" (DOMAIN.md, "Synthesis and
response").
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import delete, exists, func, insert, or_, select
from sqlalchemy.orm import Session

from consult.audit.service import Actor, record
from consult.consultations.models import STATUS_CLOSED, STATUS_PUBLISHED, Consultation, DraftPart
from consult.consultations.service import ConsultationError, mark_results_published
from consult.documents.service import take_number
from consult.opinions.models import AUTHOR_RESIDENT, AUTHOR_UNIT, Opinion
from consult.opinions.service import (
    REPLY_AGREED,
    REPLY_COMMENTS,
    REPLY_NONE,
    ReplySummary,
    is_agreement_only,
    reply_summary,
)
from consult.reports.grouping import GroupIndex, gc_paused, normalize, signature, similar  # noqa: F401
from consult.reports.models import (
    DECISION_ACCEPTED,
    DECISION_NOTED,
    DECISION_PARTLY,
    DECISION_REJECTED,
    DECISIONS,
    ClusterMember,
    OpinionCluster,
    ReportSettings,
)
from consult.timeutil import format_datetime, local_date, to_local, today, utcnow, vietnamese_long_date

# ``normalize`` and ``similar`` stay importable from here; the rule of "the same opinion" lives in grouping.


class ReportError(ConsultationError):
    """A rule of the synthesis was broken; the message is for the officer."""


# --- grouping (a proposal the officer checks: see consult.reports.grouping) -------------------

def _drop_agreements(session: Session, consultation: Consultation) -> None:
    """Take out of the groups any unit comment that only agrees ("Nhất trí, không có ý kiến"),
    saved before such comments were recognised: it is an answer, not an opinion to answer."""
    rows = session.execute(
        select(ClusterMember.opinion_id, ClusterMember.cluster_id, Opinion.text)
        .join(Opinion, Opinion.id == ClusterMember.opinion_id)
        .where(Opinion.consultation_id == consultation.id, Opinion.author_kind == AUTHOR_UNIT)).all()
    stale = [(row.opinion_id, row.cluster_id) for row in rows if is_agreement_only(row.text)]
    if not stale:
        return
    session.execute(delete(ClusterMember).where(ClusterMember.opinion_id.in_([o for o, _ in stale])))
    touched = {c for _, c in stale}
    session.execute(delete(OpinionCluster).where(
        OpinionCluster.id.in_(touched),
        ~exists().where(ClusterMember.cluster_id == OpinionCluster.id)))
    for obj in list(session.identity_map.values()):
        if isinstance(obj, OpinionCluster):
            session.expire(obj)
    for cluster_id in touched:
        _refresh_key(session, cluster_id)


def _refresh_key(session: Session, cluster_id: int) -> None:
    """A group is matched through its first opinion: keep its key that opinion's text."""
    first = session.scalar(select(Opinion.text).join(ClusterMember, ClusterMember.opinion_id == Opinion.id)
                           .where(ClusterMember.cluster_id == cluster_id)
                           .order_by(Opinion.created_at, Opinion.id).limit(1))
    if first is None:  # the group is gone with its last opinion
        return
    cluster = session.get(OpinionCluster, cluster_id)
    if cluster is not None:
        cluster.key = normalize(first)


def sync_clusters(session: Session, consultation: Consultation) -> int:
    """Propose a group for every opinion not yet in one: the group of an opinion on the
    same part that says the same thing (``consult.reports.grouping``), or a new group.
    Groups the officer split off are never joined again. Returns how many were placed.

    Near-linear: only the groups of the parts that received opinions are read, and each
    opinion is compared with the few groups that share one of its blocking keys.
    """
    _drop_agreements(session, consultation)
    pending = [row for row in session.execute(
        select(Opinion.id, Opinion.part_id, Opinion.text, Opinion.author_kind)
        .outerjoin(ClusterMember, ClusterMember.opinion_id == Opinion.id)
        .where(Opinion.consultation_id == consultation.id, ClusterMember.opinion_id.is_(None))
        .order_by(Opinion.created_at, Opinion.id))
        if not (row.author_kind == AUTHOR_UNIT and is_agreement_only(row.text))]
    if not pending:
        return 0
    parts = {row.part_id for row in pending}
    named = [p for p in parts if p is not None]
    on_parts = [OpinionCluster.part_id.in_(named)] if named else []
    if None in parts:
        on_parts.append(OpinionCluster.part_id.is_(None))
    with gc_paused():
        return _place(session, consultation, pending, on_parts)


def _place(session: Session, consultation: Consultation, pending: list, on_parts: list) -> int:
    positions = _part_positions(session, consultation)
    index = GroupIndex()
    for cluster_id, part_id, key in session.execute(
            select(OpinionCluster.id, OpinionCluster.part_id, OpinionCluster.key)
            .where(OpinionCluster.consultation_id == consultation.id, OpinionCluster.split_off.is_(False),
                   or_(*on_parts))
            .order_by(OpinionCluster.id)):
        index.add(part_id, signature(key), cluster_id)
    new: list[dict] = []
    placed: list[tuple[int, int]] = []  # (opinion, cluster id; -n for the n-th new cluster)
    for row in pending:
        sig = signature(row.text)
        cluster = index.find(row.part_id, sig)
        if cluster is None:
            new.append({"consultation_id": consultation.id, "part_id": row.part_id, "key": sig.key,
                        "part_position": positions.get(row.part_id, -1), "split_off": False})
            cluster = -len(new)
            index.add(row.part_id, sig, cluster)
        placed.append((row.id, cluster))
    ids: list[int] = []
    if new:
        ids = list(session.scalars(insert(OpinionCluster).returning(OpinionCluster.id, sort_by_parameter_order=True),
                                   new))
    session.execute(insert(ClusterMember), [
        {"opinion_id": opinion, "cluster_id": cluster if cluster > 0 else ids[-cluster - 1]}
        for opinion, cluster in placed])
    for obj in list(session.identity_map.values()):
        if isinstance(obj, OpinionCluster):
            session.expire(obj, ["members"])
    return len(placed)


def _part_positions(session: Session, consultation: Consultation) -> dict[int | None, int]:
    """Each part's place in the draft, the whole draft (None) first: a group's order in the workspace."""
    positions: dict[int | None, int] = dict(session.execute(
        select(DraftPart.id, DraftPart.position).where(DraftPart.consultation_id == consultation.id)).all())
    positions[None] = -1
    return positions


def sync_new_opinions(session: Session, consultation: Consultation, *, placed: int) -> int:
    """Place the opinions that arrived since the groups were last made, at the cost of a count
    when none did: what the workspace runs on every page. ``placed`` is how many opinions the
    groups hold (``workspace.counts``). The full ``sync_clusters`` reads every opinion of the
    consultation (6 s at 50,000 opinions, bench/workspace.py); it runs only when some are new.
    """
    total = session.scalar(select(func.count()).select_from(Opinion)
                           .where(Opinion.consultation_id == consultation.id)) or 0
    if total <= placed:
        return 0
    return sync_clusters(session, consultation)


def _cluster_of(session: Session, consultation: Consultation, cluster_id: int) -> OpinionCluster:
    cluster = session.get(OpinionCluster, cluster_id)
    if cluster is None or cluster.consultation_id != consultation.id:
        raise ReportError("Nhóm ý kiến này không thuộc đợt lấy ý kiến.")
    return cluster


def _check_open(consultation: Consultation) -> None:
    if consultation.status == STATUS_PUBLISHED:
        raise ReportError("Kết quả đã được công khai; không sửa được nữa.")


def decide(session: Session, actor: Actor, consultation: Consultation, cluster_id: int, *, decision: str,
           explanation: str | None = None, revised_text: str | None = None,
           now: datetime | None = None) -> OpinionCluster:
    """Record the response to a group of opinions: every member gets it.

    Không tiếp thu needs its explanation (giải trình), Luật Điều 28 khoản 3-4.
    """
    _check_open(consultation)
    if decision not in DECISIONS:
        raise ReportError("Hãy chọn một hướng xử lý: tiếp thu, tiếp thu một phần, không tiếp thu hoặc ghi nhận.",
                          field="decision")
    explanation = (explanation or "").strip() or None
    if decision == DECISION_REJECTED and not explanation:
        raise ReportError("Ý kiến không tiếp thu phải có nội dung giải trình lý do.", field="explanation")
    if explanation and len(explanation) > 10_000:
        raise ReportError("Nội dung giải trình dài quá 10.000 ký tự.", field="explanation")
    cluster = _cluster_of(session, consultation, cluster_id)
    cluster.decision, cluster.explanation = decision, explanation
    cluster.revised_text = (revised_text or "").strip() or None
    cluster.decided_at, cluster.decided_by = now or utcnow(), actor.name
    record(session, actor, "opinion.decide", cluster, commune_id=consultation.commune_id, now=now, details={
        "decision": decision, "opinions": _size(session, cluster.id), "explanation": explanation})
    return cluster


def _size(session: Session, cluster_id: int) -> int:
    """How many opinions a group holds, counted on the index rather than loaded."""
    return session.scalar(select(func.count()).select_from(ClusterMember)
                          .where(ClusterMember.cluster_id == cluster_id)) or 0


def _members_in_order(cluster: OpinionCluster) -> list[ClusterMember]:
    return sorted(cluster.members, key=lambda m: (m.opinion.created_at, m.opinion_id))


def split_off(session: Session, actor: Actor, consultation: Consultation, cluster_id: int,
              opinion_id: int) -> OpinionCluster:
    """Take one opinion out of a group that should not hold it; it is answered apart.

    The group keeps its answer; if the opinion taken out was the group's first, the
    next one becomes the text later opinions are matched with.
    """
    _check_open(consultation)
    cluster = _cluster_of(session, consultation, cluster_id)
    member = session.get(ClusterMember, opinion_id)
    if member is None or member.cluster_id != cluster.id:
        raise ReportError("Ý kiến này không thuộc nhóm.")
    if _size(session, cluster.id) == 1:
        raise ReportError("Nhóm chỉ có một ý kiến, không cần tách.")
    opinion = member.opinion
    new = OpinionCluster(consultation_id=consultation.id, part_id=opinion.part_id, key=normalize(opinion.text),
                         part_position=cluster.part_position, split_off=True)
    session.add(new)
    session.flush()
    member.cluster_id = new.id
    session.flush()
    session.expire(cluster, ["members"])
    _refresh_key(session, cluster.id)
    record(session, actor, "opinion.split", new, commune_id=consultation.commune_id,
           details={"opinion": opinion_id, "from_group": cluster.id})
    return new


def ungroup(session: Session, actor: Actor, consultation: Consultation, cluster_id: int) -> list[OpinionCluster]:
    """Undo a proposed group in one action: every opinion but the first is answered apart.

    The first opinion keeps the group and its answer, if any (the answer was written
    reading its text); each other one gets a group of its own, without an answer, that
    later opinions never join. Returns the new groups.
    """
    _check_open(consultation)
    cluster = _cluster_of(session, consultation, cluster_id)
    members = _members_in_order(cluster)
    if len(members) < 2:
        raise ReportError("Nhóm chỉ có một ý kiến, không có gì để bỏ gộp.")
    created = []
    for member in members[1:]:
        new = OpinionCluster(consultation_id=consultation.id, part_id=member.opinion.part_id,
                             key=normalize(member.opinion.text), part_position=cluster.part_position, split_off=True)
        session.add(new)
        created.append((member, new))
    session.flush()
    for member, new in created:
        member.cluster_id = new.id
    cluster.key = normalize(members[0].opinion.text)
    session.flush()
    session.expire(cluster, ["members"])
    record(session, actor, "opinion.ungroup", cluster, commune_id=consultation.commune_id, details={
        "kept": members[0].opinion_id, "apart": [m.opinion_id for m in members[1:]], "decision": cluster.decision})
    return [new for _, new in created]


# --- the workspace and the report -------------------------------------------------------

@dataclass
class ClusterView:
    """What the workspace and the report read of a group (no ORM object per group)."""

    id: int
    part_id: int | None
    decision: str | None
    explanation: str | None
    revised_text: str | None
    decided_by: str | None

    @property
    def decision_label(self) -> str:
        return DECISIONS.get(self.decision or "", "Chưa xử lý")


@dataclass
class Row:
    cluster: ClusterView
    part: DraftPart | None
    text: str
    opinions: list  # rows with id, text, created_at, channel, author fields
    senders: list[str]

    @property
    def count(self) -> int:
        return len(self.opinions)

    @property
    def members(self) -> list[tuple]:
        """Every opinion of the group with its sender: the workspace shows each text."""
        return list(zip(self.opinions, self.senders))

    @property
    def response(self) -> str:
        c = self.cluster
        if not c.decision:
            return "(chưa xử lý)"
        text = f"{DECISIONS[c.decision]}."
        if c.explanation:
            text += f" {c.explanation}"
        if c.revised_text:
            text += f"\nNội dung sửa đổi: {c.revised_text}"
        return text


@dataclass
class Section:
    part: DraftPart | None
    rows: list[Row] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.part.label if self.part else "Góp ý chung về dự thảo"


def sender_label(opinion, groups: dict[int, str], units: dict[int, str], *, public: bool = False) -> str:
    """A unit's name; a resident's name and khu phố, or on a public page only
    "Người dân <khu phố>" (a resident's name is personal data, Luật 91/2025)."""
    if opinion.author_kind == AUTHOR_RESIDENT:
        group = groups.get(opinion.resident_group_id or 0, "")
        if public:
            return f"Người dân {group.lower()}".strip()
        return f"{opinion.resident_name} ({group})" if group else opinion.resident_name or ""
    return units.get(opinion.unit_id or 0, "")


def sections(session: Session, consultation: Consultation, *, public: bool = False) -> list[Section]:
    """Groups of opinions by part, general opinions first, then in the draft's order.

    Read with plain column queries: ten thousand opinions as ORM objects took
    most of an export's time.
    """
    from consult.communes.models import ResidentialGroup, Unit

    groups = dict(session.execute(select(ResidentialGroup.id, ResidentialGroup.name).where(
        ResidentialGroup.commune_id == consultation.commune_id)).all())
    units = dict(session.execute(select(Unit.id, Unit.name).where(Unit.commune_id == consultation.commune_id)).all())
    parts = {p.id: p for p in session.scalars(select(DraftPart).where(DraftPart.consultation_id == consultation.id))}
    clusters = {row.id: ClusterView(*row) for row in session.execute(
        select(OpinionCluster.id, OpinionCluster.part_id, OpinionCluster.decision, OpinionCluster.explanation,
               OpinionCluster.revised_text, OpinionCluster.decided_by)
        .where(OpinionCluster.consultation_id == consultation.id))}
    members: dict[int, list] = defaultdict(list)
    for row in session.execute(
            select(ClusterMember.cluster_id, Opinion.id, Opinion.text, Opinion.created_at, Opinion.channel,
                   Opinion.author_kind, Opinion.unit_id, Opinion.resident_name, Opinion.resident_group_id)
            .join(Opinion, Opinion.id == ClusterMember.opinion_id)
            .where(Opinion.consultation_id == consultation.id)
            .order_by(Opinion.created_at, Opinion.id)):
        members[row.cluster_id].append(row)
    by_part: dict[int | None, Section] = {}
    for cluster_id, opinions in members.items():
        cluster = clusters[cluster_id]
        part = parts.get(cluster.part_id)
        section = by_part.setdefault(part.id if part else None, Section(part))
        section.rows.append(Row(cluster, part, opinions[0].text, opinions,
                                [sender_label(o, groups, units, public=public) for o in opinions]))
    for section in by_part.values():
        section.rows.sort(key=lambda r: (r.opinions[0].created_at, r.opinions[0].id))
    return sorted(by_part.values(), key=lambda s: -1 if s.part is None else s.part.position)


def period_is_over(consultation: Consultation, now: datetime) -> bool:
    return consultation.effective_status(now) in (STATUS_CLOSED, STATUS_PUBLISHED)


@dataclass
class ReportData:
    consultation: Consultation
    settings: ReportSettings
    replies: ReplySummary
    sections: list[Section]
    counts: dict[str, int]
    undecided: int
    generated_at: datetime

    @property
    def period_over(self) -> bool:
        return period_is_over(self.consultation, self.generated_at)

    @property
    def final(self) -> bool:
        """Final only once the comment period is over and every opinion has its answer: before
        the close more opinions may come, and units that have not replied may still reply."""
        return self.undecided == 0 and self.period_over

    @property
    def total_opinions(self) -> int:
        return sum(r.count for s in self.sections for r in s.rows)

    def rows(self):
        for section in self.sections:
            yield from section.rows


def settings_for(session: Session, consultation: Consultation) -> ReportSettings:
    """The report's number, date, signer and recipients, with defaults until the officer fills them in."""
    settings = session.get(ReportSettings, consultation.id)
    if settings is None:
        commune = consultation.commune
        settings = ReportSettings(consultation_id=consultation.id, signer_mode="TM", place=commune.name,
                                  recipients="- Thường trực HĐND {k};\n- Ủy ban MTTQ Việt Nam {k};\n- Lưu: VT, VP-TK."
                                  .format(k=commune.kind_label.lower()))
    return settings


def save_settings(session: Session, actor: Actor, consultation: Consultation, *, number: str | None,
                  report_date: date | None, place: str | None, signer_mode: str, signer_name: str | None,
                  recipients: str | None) -> ReportSettings:
    """Save what the officer fills in for the document (NĐ 30: number, date, signer, recipients)."""
    if signer_mode not in ("TM", "KT"):
        raise ReportError("Hình thức ký không hợp lệ.")
    settings = settings_for(session, consultation)
    settings.number = (number or "").strip() or None
    settings.report_date, settings.place = report_date, (place or "").strip() or None
    settings.signer_mode, settings.signer_name = signer_mode, (signer_name or "").strip() or None
    settings.recipients = (recipients or "").strip() or None
    session.merge(settings)
    session.flush()
    record(session, actor, "report.settings", consultation, details={"number": settings.number})
    return settings


def report_data(session: Session, consultation: Consultation, *, now: datetime | None = None,
                public: bool = False) -> ReportData:
    """Everything the report shows: groups of opinions with their answers, the units' replies, the counts."""
    sync_clusters(session, consultation)
    secs = sections(session, consultation, public=public)
    counts = {key: 0 for key in DECISIONS}
    undecided = 0
    for section in secs:
        for row in section.rows:
            if row.cluster.decision:
                counts[row.cluster.decision] += row.count
            else:
                undecided += row.count
    return ReportData(consultation, settings_for(session, consultation), reply_summary(session, consultation), secs,
                      counts, undecided, now or utcnow())


def undecided_count(session: Session, consultation: Consultation) -> int:
    """Opinions still without a decision; the report is final only at zero."""
    sync_clusters(session, consultation)
    return session.scalar(
        select(func.count()).select_from(ClusterMember).join(OpinionCluster)
        .where(OpinionCluster.consultation_id == consultation.id, OpinionCluster.decision.is_(None))) or 0


def publish_results(session: Session, actor: Actor, consultation: Consultation, *,
                    now: datetime | None = None) -> None:
    """Công khai kết quả (Điều 28 khoản 3): only after closing, only a final report."""
    now = now or utcnow()
    if consultation.status == STATUS_PUBLISHED:
        raise ReportError("Kết quả đã được công khai.")
    if consultation.effective_status(now) != "closed":
        raise ReportError("Chỉ công khai kết quả sau khi hết thời hạn lấy ý kiến.")
    remaining = undecided_count(session, consultation)
    if remaining:
        raise ReportError(f"Còn {remaining} ý kiến chưa có hướng xử lý; báo cáo chưa thể là bản chính thức.")
    settings = settings_for(session, consultation)
    if not settings.number:
        # The report takes its number from the commune's register of outgoing documents (NĐ 30).
        day = settings.report_date or today(now)
        entry = take_number(session, actor, consultation.commune, "report", report_subject(consultation), day,
                            consultation_id=consultation.id, signer=settings.signer_name or "", now=now)
        settings.number, settings.report_date = entry.reference, day
        session.merge(settings)
        session.flush()
    mark_results_published(session, actor, consultation, now=now)


def report_subject(consultation: Consultation) -> str:
    """'Tổng hợp, tiếp thu, giải trình ý kiến góp ý dự thảo Nghị quyết quy định ...' (the trích yếu)."""
    return f"Tổng hợp, tiếp thu, giải trình ý kiến góp ý dự thảo {consultation.draft_name}"


def _names(states) -> str:
    return f" ({', '.join(s.unit.name for s in states)})" if states else ""


def opening_paragraphs(data: ReportData) -> list[str]:
    """The report's opening section: the draft, by which letter, when, how; the units asked
    and how each answered (replied, agreed without comment, with comments, not replied);
    the residents' opinions; what was done with them (DOMAIN.md, "Synthesis and response")."""
    c, r, n = data.consultation, data.replies, data.counts
    letter = f" theo {c.letter_label.replace('Số', 'Công văn số', 1)}" if c.letter_label else ""
    period = (f"từ ngày {to_local(c.opens_at).strftime('%d/%m/%Y')} đến {to_local(c.closes_at).strftime('%H giờ %M')} "
              f"ngày {to_local(c.closes_at).strftime('%d/%m/%Y')}")
    channels = ["văn bản gửi các cơ quan, đơn vị"]
    if c.residents_may_comment:
        channels.append("trang thông tin điện tử của " + c.commune.full_name.lower().replace(
            c.commune.name.lower(), c.commune.name))
    by_state = {state: [u for u in r.units if u.state == state] for state in (REPLY_AGREED, REPLY_COMMENTS, REPLY_NONE)}
    return [
        f"{c.issuing_body} đã tổ chức lấy ý kiến góp ý đối với dự thảo {c.draft_name}{letter}, "
        f"thời gian {period}, bằng hình thức: {', '.join(channels)}.",
        f"Số cơ quan, đơn vị được xin ý kiến: {r.invited}{_names(r.units)}. Số đơn vị đã trả lời: {r.replied}, "
        f"trong đó {r.agreed} đơn vị nhất trí, không có ý kiến góp ý{_names(by_state[REPLY_AGREED])} và "
        f"{r.with_comments} đơn vị có {r.unit_opinions} ý kiến góp ý{_names(by_state[REPLY_COMMENTS])}; "
        f"{r.invited - r.replied} đơn vị "
        + ("không trả lời" if data.period_over else f"chưa trả lời (hạn trả lời {format_datetime(c.closes_at)})")
        + f"{_names(by_state[REPLY_NONE])}. "
        f"Số ý kiến của Nhân dân: {r.resident_opinions}.",
        f"Tổng số ý kiến góp ý: {data.total_opinions}; đã tiếp thu {n[DECISION_ACCEPTED]} ý kiến, tiếp thu một phần "
        f"{n[DECISION_PARTLY]} ý kiến, giải trình (không tiếp thu) {n[DECISION_REJECTED]} ý kiến, ghi nhận "
        f"{n[DECISION_NOTED]} ý kiến" + (f"; còn {data.undecided} ý kiến chưa xử lý." if data.undecided else "."),
    ]


def closing_paragraph(data: ReportData) -> str:
    """The last paragraph before the signature (NĐ 30: the content ends with './.')."""
    c = data.consultation
    return (f"Trên đây là Báo cáo tổng hợp, tiếp thu, giải trình ý kiến góp ý dự thảo {c.draft_name} "
            f"của {c.issuing_body}./.")


def report_date_line(data: ReportData) -> str:
    """'Bình An, ngày 05 tháng 01 năm 2025': the place and the report's date (or today's in Hà Nội), NĐ 30."""
    place = data.settings.place or data.consultation.commune.name
    return vietnamese_long_date(data.settings.report_date or local_date(data.generated_at), place)
