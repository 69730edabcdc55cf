"""Consultations: create a draft for comment, publish it, extend it, correct
its parsed parts. Rules of Luật Thực hiện dân chủ ở cơ sở, Điều 25 to 28."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from consult.audit.service import Actor, record
from consult.communes.models import Commune, Unit
from consult.consultations.models import (
    DOC_KINDS,
    STATUS_DRAFT,
    STATUS_OPEN,
    STATUS_PUBLISHED,
    STATUS_SCHEDULED,
    Consultation,
    DeadlineChange,
    DraftPart,
    Invitation,
)
from consult.errors import DomainError
from consult.consultations.parser import (DraftParseError, Node, ParsedDraft, assign_labels, footnote_references,
                                          parse_draft)
from consult.textsearch import words_condition, search_blob
from consult.textutil import nfc
from consult.timeutil import format_datetime, local_date, utcnow
from consult.consultations import reader, wordtext

# Luật Điều 28 khoản 2: at least 20 days from publication; NĐ 61 Điều 9: a
# hương ước draft is posted at least 30 days.
MIN_PERIOD_DAYS = 20
DRAFT_FORMATS = reader.DRAFT_FORMATS
MIN_PERIOD_DAYS_HUONG_UOC = 30


class ConsultationError(DomainError):
    """A consultation rule was broken; the message is for the user."""


class ConsultationClosed(ConsultationError):
    """The comment period is over (or not open)."""


@dataclass
class DraftSource:
    """The draft as given: pasted text, or an uploaded file read by ``reader.read_draft_file``."""

    parsed: ParsedDraft
    text: str
    filename: str | None = None
    mimetype: str | None = None
    data: bytes | None = None
    had_revisions: bool = False  # the file carried tracked changes, read as accepted
    # A scanned PDF, not read yet: OCR reads it in the background (``consultations.jobs``).
    scanned: bool = False


def read_draft(*, text: str | None = None, filename: str | None = None, data: bytes | None = None,
               max_bytes: int = 10 * 1024 * 1024) -> DraftSource:
    """Parse a pasted text or an uploaded file (through the one reader of draft files); raise
    ConsultationError, tied to the form's field, on bad input."""
    if data:
        try:
            drafted = reader.read_draft_file(filename, data, max_bytes=max_bytes, scans=False)
            parsed = drafted.parse()
        except wordtext.ScannedPdf:
            return _scan_source(filename, data, max_bytes)
        except (DraftParseError, wordtext.UnreadableDraft) as exc:
            raise ConsultationError(str(exc), field=reader.FIELD) from None
        return DraftSource(parsed, nfc(drafted.text), drafted.filename, drafted.mimetype, drafted.data,
                           had_revisions=drafted.had_revisions)
    if not (text or "").strip():
        raise ConsultationError("Hãy dán nội dung dự thảo hoặc tải lên tệp .docx, .doc, .odt, .pdf hoặc .txt.",
                                field="draft_text")
    try:
        return DraftSource(parse_draft(text), nfc(text))
    except DraftParseError as exc:
        raise ConsultationError(str(exc), field="draft_text") from None


def _scan_source(filename: str | None, data: bytes, max_bytes: int) -> DraftSource:
    """A scan, to be read by OCR after the draft is saved: its pages are counted now, so that
    a file OCR would refuse is refused here, beside the upload field."""
    from consult.consultations import ocr
    from consult.uploads import check_upload

    checked = check_upload(reader._clean_name(filename), data, allowed=DRAFT_FORMATS, max_bytes=max_bytes)
    # Refused now, beside the field, when this server cannot read scans: not saved to fail later.
    missing = ocr.available()
    if missing:
        raise ConsultationError(f"{wordtext.SCAN_MESSAGE} {missing}", field=reader.FIELD)
    try:
        pages = ocr.page_count(checked.data)
    except wordtext.UnreadableDraft as exc:
        raise ConsultationError(str(exc), field=reader.FIELD) from None
    if pages > ocr.MAX_PAGES:
        raise ConsultationError(f"Bản quét có {pages} trang, quá {ocr.MAX_PAGES} trang đọc được một lần. Hãy tách "
                                "tệp, hoặc tải lên tệp Word của dự thảo.", field=reader.FIELD)
    return DraftSource(ParsedDraft("", [], ""), "", checked.filename, checked.mimetype, checked.data, scanned=True)


def check_period(doc_kind: str, opens_at: datetime, closes_at: datetime, basis: str | None) -> None:
    """The comment period must reach the law's minimum unless a legal basis is recorded."""
    if closes_at <= opens_at:
        raise ConsultationError("Thời điểm kết thúc phải sau thời điểm bắt đầu.")
    minimum = MIN_PERIOD_DAYS_HUONG_UOC if doc_kind == "huong_uoc" else MIN_PERIOD_DAYS
    # From the instant of publication to the instant of closing, not from date to date: a
    # closing at 00:00 on the 20th day after a publication at 10:00 leaves 19 days and 14 hours.
    length = closes_at - opens_at
    if length < timedelta(days=minimum) and not (basis or "").strip():
        days, hours = length.days, length.seconds // 3600
        days = f"{days} ngày" + (f" {hours} giờ" if hours else "")
        law = ("Nghị định 61/2023/NĐ-CP, Điều 9" if doc_kind == "huong_uoc"
               else "Luật Thực hiện dân chủ ở cơ sở, Điều 28 khoản 2")
        raise ConsultationError(
            f"Thời gian lấy ý kiến chỉ có {days}; theo {law} phải ít nhất {minimum} ngày kể từ ngày công khai. "
            "Nếu có căn cứ pháp lý cho thời hạn ngắn hơn, hãy ghi căn cứ đó.")


@dataclass
class ConsultationFacts:
    title: str
    doc_kind: str
    issuing_body: str
    officer_name: str
    opens_at: datetime
    closes_at: datetime
    letter_number: str | None = None
    letter_date: date | None = None
    officer_contact: str | None = None
    residents_may_comment: bool = True
    short_period_basis: str | None = None


def _check_facts(facts: ConsultationFacts) -> None:
    if not facts.title.strip():
        raise ConsultationError("Vui lòng nhập tên đợt lấy ý kiến.")
    if len(facts.title) > 500:
        raise ConsultationError("Tên đợt lấy ý kiến dài quá 500 ký tự.")
    if facts.doc_kind not in DOC_KINDS:
        raise ConsultationError("Loại văn bản không hợp lệ.")
    if not facts.issuing_body.strip() or not facts.officer_name.strip():
        raise ConsultationError("Vui lòng nhập cơ quan ban hành và cán bộ phụ trách.")


def create_consultation(session: Session, actor: Actor, commune: Commune, facts: ConsultationFacts,
                        source: DraftSource, unit_ids: list[int], *, now: datetime | None = None) -> Consultation:
    """A draft consultation (seen by staff only) with its parts and invited units."""
    now = now or utcnow()
    _check_facts(facts)
    if facts.closes_at <= now:
        raise ConsultationError("Thời điểm kết thúc góp ý đã qua. Hãy chọn một thời điểm trong tương lai.")
    check_period(facts.doc_kind, max(facts.opens_at, now), facts.closes_at, facts.short_period_basis)
    units = _units_of(session, commune, unit_ids)
    consultation = Consultation(
        commune_id=commune.id, status=STATUS_DRAFT, created_at=now,
        preamble=source.parsed.preamble, closing_text=source.parsed.closing, source_text=source.text,
        source_filename=source.filename, source_mimetype=source.mimetype, source_blob=source.data,
        source_had_revisions=source.had_revisions,
    )
    _apply_facts(consultation, facts)
    session.add(consultation)
    session.flush()
    _store_parts(session, consultation, source.parsed.parts)
    for unit in units:
        session.add(Invitation(consultation_id=consultation.id, unit_id=unit.id))
    session.flush()
    refresh_search_text(session, consultation)
    record(session, actor, "consultation.create", consultation,
           details={"title": consultation.title, "parts": len(list(source.parsed.walk())), "units": len(units)})
    if source.scanned:
        _queue_scan(session, actor, consultation)
    return consultation


# The background job that reads a scan by OCR (its runner: consultations.jobs).
SCAN_JOB_KIND = "read_scan"


def _queue_scan(session: Session, actor: Actor, consultation: Consultation) -> None:
    """Read the scan by OCR in the background (a page takes seconds): the job, in the name of
    the officer who uploaded it, shows its progress on the check page."""
    from consult.jobs.service import enqueue

    if actor.id is None:
        raise ConsultationError("Bản quét chỉ đọc được khi cán bộ đăng nhập tải lên.", field=reader.FIELD)
    job = enqueue(session, commune_id=consultation.commune_id, kind=SCAN_JOB_KIND,
                  title=f"Nhận dạng chữ bản quét: {consultation.title}"[:300],
                  params={"consultation_id": consultation.id}, user_id=actor.id, user_name=actor.name)
    consultation.ocr_job_id = job.id


def store_scan_reading(session: Session, actor: Actor, consultation: Consultation, source: DraftSource) -> None:
    """The scan's draft as OCR read it, in place of the empty draft saved with it (the job's
    last step): the parts with their pages and confidences, the preamble and closing."""
    _editable(consultation)
    if consultation.parts:
        raise ConsultationError("Dự thảo đã có các phần; không ghi đè bằng bản nhận dạng.")
    consultation.preamble, consultation.closing_text = source.parsed.preamble, source.parsed.closing
    consultation.source_text = source.text
    consultation.read_by_ocr = True
    _store_parts(session, consultation, source.parsed.parts)
    session.flush()
    session.refresh(consultation)
    refresh_search_text(session, consultation)
    record(session, actor, "consultation.read_scan", consultation,
           details={"parts": len(list(source.parsed.walk())), "file": consultation.source_filename})


def reading_in_progress(consultation: Consultation) -> bool:
    """A scan still being read (or whose reading failed): nothing to publish yet."""
    return consultation.ocr_job_id is not None and not consultation.read_by_ocr


def _apply_facts(consultation: Consultation, facts: ConsultationFacts) -> None:
    consultation.title = nfc(facts.title.strip())
    consultation.doc_kind = facts.doc_kind
    consultation.issuing_body = nfc(facts.issuing_body.strip())
    consultation.letter_number = (facts.letter_number or "").strip() or None
    consultation.letter_date = facts.letter_date
    consultation.officer_name = nfc(facts.officer_name.strip())
    consultation.officer_contact = (facts.officer_contact or "").strip() or None
    consultation.opens_at = facts.opens_at
    consultation.closes_at = facts.closes_at
    consultation.residents_may_comment = facts.residents_may_comment
    consultation.short_period_basis = (facts.short_period_basis or "").strip() or None


def _units_of(session: Session, commune: Commune, unit_ids: list[int]) -> list[Unit]:
    ids = set(unit_ids or [])
    units = list(session.scalars(select(Unit).where(Unit.id.in_(ids), Unit.commune_id == commune.id))) if ids else []
    if len(units) != len(ids):
        raise ConsultationError("Có đơn vị được chọn không thuộc xã, phường này.")
    return units


def update_consultation(session: Session, actor: Actor, consultation: Consultation, facts: ConsultationFacts,
                        unit_ids: list[int], *, now: datetime | None = None) -> None:
    """Edit facts and invited units before publication."""
    now = now or utcnow()
    if consultation.status != STATUS_DRAFT:
        raise ConsultationError("Chỉ sửa được đợt lấy ý kiến khi còn là bản nháp; sau khi công khai chỉ có thể gia hạn.")
    _check_facts(facts)
    if facts.closes_at <= now:
        raise ConsultationError("Thời điểm kết thúc góp ý đã qua. Hãy chọn một thời điểm trong tương lai.")
    check_period(facts.doc_kind, max(facts.opens_at, now), facts.closes_at, facts.short_period_basis)
    units = _units_of(session, consultation.commune, unit_ids)
    _apply_facts(consultation, facts)
    wanted = {u.id for u in units}
    for invitation in list(consultation.invitations):
        if invitation.unit_id not in wanted:
            consultation.invitations.remove(invitation)
    have = {i.unit_id for i in consultation.invitations}
    for unit_id in wanted - have:
        consultation.invitations.append(Invitation(unit_id=unit_id))
    session.flush()
    refresh_search_text(session, consultation)
    record(session, actor, "consultation.update", consultation, details={"title": consultation.title})


def publish(session: Session, actor: Actor, consultation: Consultation, *, now: datetime | None = None) -> None:
    """Open the consultation to comments; the period counts from now (Điều 28 khoản 2)."""
    now = now or utcnow()
    if consultation.status != STATUS_DRAFT:
        raise ConsultationError("Đợt lấy ý kiến này đã được công khai.")
    if consultation.closes_at <= now:
        raise ConsultationError("Thời điểm kết thúc góp ý đã qua. Hãy sửa thời hạn trước khi công khai.")
    if reading_in_progress(consultation):
        raise ConsultationError("Bản quét của dự thảo chưa được đọc xong. Hãy chờ nhận dạng chữ xong, đối chiếu "
                                "từng phần với bản quét rồi mới công khai.")
    if not consultation.parts:
        raise ConsultationError("Dự thảo chưa có phần nào để góp ý.")
    opens_at = max(consultation.opens_at, now)
    check_period(consultation.doc_kind, opens_at, consultation.closes_at, consultation.short_period_basis)
    consultation.opens_at = opens_at
    consultation.status = STATUS_OPEN
    consultation.published_at = now
    record(session, actor, "consultation.publish", consultation,
           details={"opens_at": format_datetime(opens_at), "closes_at": format_datetime(consultation.closes_at)})


def extend_deadline(session: Session, actor: Actor, consultation: Consultation, new_closes_at: datetime,
                    reason: str, *, now: datetime | None = None) -> DeadlineChange:
    """Extend the closing time while open; audited and shown publicly."""
    now = now or utcnow()
    if consultation.effective_status(now) not in (STATUS_OPEN, STATUS_SCHEDULED):
        raise ConsultationError("Chỉ gia hạn được khi đợt lấy ý kiến đang mở hoặc sắp mở.")
    if new_closes_at <= consultation.closes_at:
        raise ConsultationError("Thời hạn mới phải sau thời hạn hiện tại.")
    reason = (reason or "").strip()
    if not reason:
        raise ConsultationError("Vui lòng ghi lý do gia hạn.")
    change = DeadlineChange(consultation_id=consultation.id, old_closes_at=consultation.closes_at,
                            new_closes_at=new_closes_at, reason=reason, changed_at=now, changed_by=actor.name)
    session.add(change)
    consultation.closes_at = new_closes_at
    session.flush()
    record(session, actor, "consultation.extend", consultation, now=now, details={
        "old": format_datetime(change.old_closes_at), "new": format_datetime(new_closes_at), "reason": reason})
    return change


def mark_results_published(session: Session, actor: Actor, consultation: Consultation, *,
                           now: datetime | None = None) -> None:
    """Công khai kết quả (Luật Điều 28 khoản 3); reports.service checks the report is final first."""
    now = now or utcnow()
    consultation.status = STATUS_PUBLISHED
    consultation.results_published_at = now
    record(session, actor, "consultation.publish_results", consultation, now=now)


# --- parts ------------------------------------------------------------------------

def _store_parts(session: Session, consultation: Consultation, nodes: list[Node]) -> None:
    position = 0

    def store(node: Node, parent: DraftPart | None, depth: int) -> None:
        nonlocal position
        position += 1
        part = DraftPart(consultation_id=consultation.id, parent_id=parent.id if parent else None,
                         position=position, depth=depth, kind=node.kind, number=node.number, label=node.label,
                         anchor=node.anchor, title=node.title, text=node.text, footnotes=list(node.footnotes),
                         ocr_page=node.page, ocr_confidence=node.confidence)
        session.add(part)
        session.flush()
        for child in node.children:
            store(child, part, depth + 1)

    for node in nodes:
        store(node, None, 0)


@dataclass
class PartView:
    part: DraftPart
    children: list["PartView"]


def part_tree(consultation: Consultation) -> list[PartView]:
    """The parts as a tree, in the draft's order."""
    views = {p.id: PartView(p, []) for p in consultation.parts}
    roots = []
    for part in consultation.parts:
        (views[part.parent_id].children if part.parent_id in views else roots).append(views[part.id])
    return roots


# A public draft page shows about this much of the draft (text and the markup of each
# part); a longer draft is split into pages at its top-level parts.
DRAFT_PAGE_BYTES = 40_000
PART_MARKUP_BYTES = 350


def _weight(view: PartView) -> int:
    notes = sum(len(note.get("text", "")) + PART_MARKUP_BYTES // 4 for note in view.part.footnotes or [])
    return len(view.part.text or "") + len(view.part.title or "") + notes + PART_MARKUP_BYTES + sum(
        _weight(c) for c in view.children)


@dataclass
class DraftPage:
    views: list[PartView]  # a top-level part may appear with only some of its children
    first: str  # the labels of the first and last parts it holds, for the page list
    last: str


def draft_pages(tree: list[PartView], budget: int = DRAFT_PAGE_BYTES) -> list[DraftPage]:
    """The draft in pages of about ``budget`` bytes, cut between top-level parts; a top-level
    part larger than that (a long chapter) is cut between its children, each page showing
    the chapter's heading over the children it holds."""
    units: list[tuple[PartView, int, str]] = []
    for root in tree:
        weight = _weight(root)
        if weight <= budget or not root.children:
            units.append((root, weight, root.part.label))
        else:
            for child in root.children:
                units.append((PartView(root.part, [child]), _weight(child) + PART_MARKUP_BYTES, child.part.label))
    pages: list[DraftPage] = []
    size = 0
    for view, weight, label in units:
        if not pages or size + weight > budget:
            pages.append(DraftPage([], label, label))
            size = 0
        page = pages[-1]
        if page.views and page.views[-1].part.id == view.part.id:  # the same long chapter, continued
            page.views[-1] = PartView(view.part, page.views[-1].children + view.children)
        else:
            page.views.append(view)
        page.last = label
        size += weight
    return pages or [DraftPage([], "", "")]


CONTENTS_KINDS = ("annex", "chapter", "section", "article", "clause")  # points stay in their clause
CONTENTS_FROM = 6  # a draft with this many such parts or more gets a table of contents


@dataclass
class ContentsLine:
    part: DraftPart
    page: int  # the public page of the draft that shows it (1-based)


def draft_contents(pages: list[DraftPage]) -> list[ContentsLine]:
    """The table of contents of a long draft: its chapters, sections, articles and clauses, each
    with the page it is on; empty for a draft of only a few parts."""
    lines: list[ContentsLine] = []
    seen: set[int] = set()

    def visit(views: list[PartView], number: int) -> None:
        for view in views:
            if view.part.kind in CONTENTS_KINDS and view.part.id not in seen:
                seen.add(view.part.id)
                lines.append(ContentsLine(view.part, number))
                visit(view.children, number)

    for number, page in enumerate(pages, 1):
        visit(page.views, number)
    return lines if len(lines) >= CONTENTS_FROM else []


def _relabel_all(session: Session, consultation: Consultation) -> None:
    """Recompute labels, anchors, depth and document order after an edit."""
    tree = part_tree(consultation)
    nodes_by_part: dict[int, Node] = {}

    def to_node(view: PartView) -> Node:
        node = Node(view.part.kind, view.part.number, view.part.title, view.part.text,
                    [to_node(c) for c in view.children])
        nodes_by_part[view.part.id] = node
        return node

    roots = [to_node(v) for v in tree]
    assign_labels(roots)
    anchors = [n.anchor for n in nodes_by_part.values()]
    if len(anchors) != len(set(anchors)):
        raise ConsultationError("Sau khi sửa, có hai phần trùng số hiệu. Hãy đổi số hiệu cho khác nhau.")
    for part in consultation.parts:
        part.anchor = f"tmp-{part.id}"
    session.flush()
    position = 0

    def walk(view: PartView, depth: int) -> None:
        nonlocal position
        position += 1
        node = nodes_by_part[view.part.id]
        view.part.label, view.part.anchor, view.part.position, view.part.depth = node.label, node.anchor, position, depth
        for child in view.children:
            walk(child, depth + 1)

    for view in tree:
        walk(view, 0)
    session.flush()
    session.refresh(consultation, ["parts"])


def _editable(consultation: Consultation) -> None:
    if consultation.status != STATUS_DRAFT:
        raise ConsultationError("Chỉ sửa được cấu trúc dự thảo trước khi công khai.")


def _part_of(consultation: Consultation, part_id: int) -> DraftPart:
    part = next((p for p in consultation.parts if p.id == part_id), None)
    if part is None:
        raise ConsultationError("Phần này không thuộc dự thảo.")
    return part


ROW_FIXED = ("Dòng của bảng đi theo bảng của nó: không gộp, tách, thụt, lùi hay đổi số hiệu riêng được. "
             "Muốn sửa chữ trong dòng, hãy dùng “Sửa chữ”.")


def _not_a_row(part: DraftPart) -> DraftPart:
    if part.kind == "row":
        raise ConsultationError(ROW_FIXED)
    return part


def _previous_sibling(consultation: Consultation, part: DraftPart, none_message: str) -> DraftPart:
    """The part just before ``part`` under the same parent; ``none_message`` when it is the first."""
    siblings = [p for p in consultation.parts if p.parent_id == part.parent_id]
    index = siblings.index(part)
    if index == 0:
        raise ConsultationError(none_message)
    return siblings[index - 1]


def merge_part(session: Session, actor: Actor, consultation: Consultation, part_id: int) -> DraftPart:
    """Merge a part into the sibling before it (its text and children follow)."""
    _editable(consultation)
    part = _not_a_row(_part_of(consultation, part_id))
    target = _previous_sibling(consultation, part, "Phần đầu tiên không có phần nào đứng trước để gộp vào.")
    if target.kind == "row" or any(p.parent_id == target.id and p.kind == "row" for p in consultation.parts):
        raise ConsultationError("Phần đứng trước kết thúc bằng một bảng: gộp vào đó sẽ chen chữ vào giữa bảng. "
                                "Hãy dùng “Sửa chữ” nếu cần chuyển nội dung.")
    extra = "\n".join(x for x in (part.title if part.kind in ("annex", "chapter", "section", "article") else "", part.text) if x)
    if part.kind in ("clause", "point"):
        extra = f"{part.number}{')' if part.kind == 'point' else '.'} {extra}"
    target.text = f"{target.text}\n{extra}".strip() if target.text else extra
    target.footnotes = [*(target.footnotes or []), *(part.footnotes or [])]  # they follow their references
    for child in consultation.parts:
        if child.parent_id == part.id:
            child.parent_id = target.id
    session.flush()
    label = part.label
    consultation.parts.remove(part)
    session.delete(part)
    session.flush()
    _relabel_all(session, consultation)
    record(session, actor, "draft_part.merge", consultation, details={"merged": label, "into": target.label})
    return target


def split_part(session: Session, actor: Actor, consultation: Consultation, part_id: int, *, at_text: str,
               kind: str, number: str, title: str = "") -> DraftPart:
    """Split a part where ``at_text`` starts; the rest becomes a new part after it."""
    _editable(consultation)
    part = _not_a_row(_part_of(consultation, part_id))
    at_text = (at_text or "").strip()
    position = part.text.find(at_text) if at_text else -1
    if position <= 0:
        raise ConsultationError("Không tìm thấy đoạn văn bắt đầu phần mới trong nội dung của phần này.")
    number = _check_kind_number(kind, number)
    new = DraftPart(consultation_id=consultation.id, parent_id=part.parent_id, position=part.position,
                    depth=part.depth, kind=kind, number=number, label="", anchor=f"tmp-new-{part.id}",
                    title=title.strip(), text=part.text[position:].strip())
    part.text = part.text[:position].strip()
    # Each footnote stays with the half whose text carries its reference.
    moved = set(footnote_references(new.text)) - set(footnote_references(f"{part.title}\n{part.text}"))
    new.footnotes = [note for note in part.footnotes or [] if note["number"] in moved]
    part.footnotes = [note for note in part.footnotes or [] if note["number"] not in moved]
    # Right after the part and its descendants; _relabel_all renumbers positions.
    consultation.parts.insert(consultation.parts.index(part) + 1 + _descendant_count(consultation, part), new)
    session.flush()
    _relabel_all(session, consultation)
    record(session, actor, "draft_part.split", consultation, details={"from": part.label, "new": new.label})
    return new


def _descendant_count(consultation: Consultation, part: DraftPart) -> int:
    ids = {part.id}
    count = 0
    for p in consultation.parts:
        if p.parent_id in ids:
            ids.add(p.id)
            count += 1
    return count


def _check_kind_number(kind: str, number: str) -> str:
    if kind not in ("chapter", "section", "article", "clause", "point"):
        raise ConsultationError("Loại phần không hợp lệ.")
    number = (number or "").strip().rstrip(".)")
    if not number or len(number) > 10:
        raise ConsultationError("Vui lòng nhập số hiệu của phần (ví dụ 3, II, đ).")
    return number


def relabel_part(session: Session, actor: Actor, consultation: Consultation, part_id: int, *, kind: str,
                 number: str, title: str) -> DraftPart:
    """Change a part's kind, number or title, without editing the source."""
    _editable(consultation)
    part = _not_a_row(_part_of(consultation, part_id))
    old = part.label
    part.kind, part.number, part.title = kind, _check_kind_number(kind, number), (title or "").strip()
    session.flush()
    _relabel_all(session, consultation)
    record(session, actor, "draft_part.relabel", consultation, details={"from": old, "to": part.label})
    return part


MAX_PART_TEXT = 20_000


def edit_part_text(session: Session, actor: Actor, consultation: Consultation, part_id: int, *, title: str,
                   text: str) -> DraftPart:
    """Correct a part's words (what OCR misread, a typing slip in the file) before publishing;
    the footnotes whose references are gone from the part leave with them."""
    _editable(consultation)
    part = _part_of(consultation, part_id)
    title, text = nfc((title or "").strip()), nfc((text or "").replace("\r\n", "\n").strip())
    if len(text) > MAX_PART_TEXT:
        raise ConsultationError(f"Nội dung dài quá {MAX_PART_TEXT:,} ký tự.".replace(",", "."), field="text")
    has_children = any(p.parent_id == part.id for p in consultation.parts)
    if not text and not title and not has_children:
        raise ConsultationError("Nội dung của phần không được để trống. Muốn bỏ phần này, hãy gộp nó vào phần "
                                "trước.", field="text")
    if part.kind in ("clause", "point") and title:
        raise ConsultationError("Khoản và điểm không có tiêu đề: hãy viết vào nội dung.", field="title")
    if part.kind == "row":
        if title:
            raise ConsultationError("Dòng của bảng không có tiêu đề: hãy viết vào nội dung.", field="title")
        if "\n" in text or not text.startswith("|") or not text.endswith("|"):
            raise ConsultationError("Một dòng của bảng viết trên một dòng, mở và đóng bằng dấu |, các ô cách nhau "
                                    "bằng dấu | (ví dụ: | 1 | Quỹ đền ơn đáp nghĩa | 10.000 đồng/hộ |).", field="text")
    changed = (title, text) != (part.title, part.text)
    kept = set(footnote_references(f"{title}\n{text}"))
    part.title, part.text = title, text
    part.footnotes = [note for note in part.footnotes or [] if note["number"] in kept]
    if changed:
        part.ocr_confidence = None  # read by a person now
    session.flush()
    refresh_search_text(session, consultation)
    record(session, actor, "draft_part.edit_text", consultation, details={"part": part.label, "changed": changed})
    return part


# The kind a part takes one level down, and one level up (indent, outdent).
_CHILD_KIND = {"annex": "chapter", "chapter": "section", "section": "article", "article": "clause", "clause": "point"}
_PARENT_KIND = {v: k for k, v in _CHILD_KIND.items()}


def _next_number(kind: str, siblings: list[DraftPart]) -> str:
    """The number of a new last child of ``kind`` among ``siblings``."""
    return _sequence_number(kind, sum(1 for s in siblings if s.kind == kind) + 1)


def _move(session: Session, consultation: Consultation, part: DraftPart, parent: DraftPart | None,
          after: DraftPart | None, kind: str) -> None:
    """Put ``part`` (with its descendants) under ``parent``, right after ``after``'s subtree."""
    parts = consultation.parts
    block = [part] + [p for p in parts if _is_descendant(parts, p, part)]
    for p in block:
        parts.remove(p)
    if after is None:
        index = parts.index(parent) + 1 if parent is not None else 0
    else:
        index = parts.index(after) + 1 + _descendant_count(consultation, after)
    for offset, p in enumerate(block):
        parts.insert(index + offset, p)
    part.parent_id = parent.id if parent is not None else None
    part.kind = kind
    session.flush()


def _is_descendant(parts: list[DraftPart], candidate: DraftPart, ancestor: DraftPart) -> bool:
    by_id = {p.id: p for p in parts}
    current = by_id.get(candidate.parent_id)
    while current is not None:
        if current.id == ancestor.id:
            return True
        current = by_id.get(current.parent_id)
    return False


def indent_part(session: Session, actor: Actor, consultation: Consultation, part_id: int) -> DraftPart:
    """Make a part the last child of the part before it, one level down (an article's
    clause, a clause's point), keeping its id and so the opinions that point at it."""
    _editable(consultation)
    part = _not_a_row(_part_of(consultation, part_id))
    parent = _previous_sibling(consultation, part, "Không có phần đứng trước cùng cấp để thụt vào.")
    if parent.kind == "row":
        raise ConsultationError("Phần đứng trước là một dòng của bảng: không thụt vào dòng của bảng được.")
    kind = _CHILD_KIND.get(parent.kind)
    if kind is None:
        raise ConsultationError("Điểm là cấp thấp nhất, không thụt vào được nữa.")
    children = [p for p in consultation.parts if p.parent_id == parent.id]
    old = part.label
    part.number = _next_number(kind, children)
    _move(session, consultation, part, parent, children[-1] if children else None, kind)
    _relabel_all(session, consultation)
    record(session, actor, "draft_part.indent", consultation, details={"from": old, "to": part.label})
    return part


def outdent_part(session: Session, actor: Actor, consultation: Consultation, part_id: int) -> DraftPart:
    """Make a part a sibling of its parent, right after it, one level up."""
    _editable(consultation)
    part = _not_a_row(_part_of(consultation, part_id))
    parent = next((p for p in consultation.parts if p.id == part.parent_id), None)
    if parent is None:
        raise ConsultationError("Phần này đã ở cấp cao nhất.")
    kind = parent.kind if part.kind != "annex" else part.kind
    grand = next((p for p in consultation.parts if p.id == parent.parent_id), None)
    siblings = [p for p in consultation.parts if p.parent_id == parent.parent_id]
    old = part.label
    part.number = _next_number(kind, siblings[:siblings.index(parent) + 1])
    _move(session, consultation, part, grand, parent, kind)
    _renumber_children(consultation, parent)
    _relabel_all(session, consultation)
    record(session, actor, "draft_part.outdent", consultation, details={"from": old, "to": part.label})
    return part


def _renumber_children(consultation: Consultation, parent: DraftPart | None) -> None:
    counts: dict[str, int] = {}
    parent_id = parent.id if parent is not None else None
    for p in consultation.parts:
        if p.parent_id == parent_id and p.kind in ("clause", "point", "article", "section", "chapter"):
            counts[p.kind] = counts.get(p.kind, 0) + 1
            p.number = _sequence_number(p.kind, counts[p.kind])


def _sequence_number(kind: str, n: int) -> str:
    from consult.consultations.parser import POINT_LETTERS, ROMANS

    if kind == "point":
        return POINT_LETTERS[min(n, len(POINT_LETTERS)) - 1]
    if kind == "chapter":
        return ROMANS[min(n, len(ROMANS)) - 1]
    return str(n)


def renumber_parts(session: Session, actor: Actor, consultation: Consultation) -> None:
    """Number every part again in order (1, 2, 3; a, b, c, d, đ; I, II), articles through the whole draft."""
    _editable(consultation)
    article = 0
    for parent in [None, *consultation.parts]:
        _renumber_children(consultation, parent)
    for p in consultation.parts:
        if p.kind == "article" and not any(a.kind == "annex" for a in _ancestors(consultation, p)):
            article += 1
            p.number = str(article)
    session.flush()
    _relabel_all(session, consultation)
    record(session, actor, "draft_part.renumber", consultation)


def _ancestors(consultation: Consultation, part: DraftPart) -> list[DraftPart]:
    by_id = {p.id: p for p in consultation.parts}
    out, current = [], by_id.get(part.parent_id)
    while current is not None:
        out.append(current)
        current = by_id.get(current.parent_id)
    return out


@dataclass
class Doubt:
    """Where the reader is unsure of the parse: the part (or None: the preamble) and why."""

    part: DraftPart | None
    message: str


def parse_doubts(consultation: Consultation) -> list[Doubt]:
    """What the officer should check before publishing: a flat list (clauses with no article),
    numbers that skip, and text before the first part that looks like parts."""
    from consult.consultations.parser import _match_marker

    doubts = []
    roots = [p for p in consultation.parts if p.parent_id is None]
    if roots and all(p.kind in ("clause", "point") for p in roots) and len(roots) > 2:
        doubts.append(Doubt(roots[0], "Dự thảo chỉ có một danh sách phẳng các khoản, không có Điều hay mục: "
                                      "hãy kiểm tra và dùng “Thụt vào” để dựng lại Điều → khoản → điểm."))
    for parent in [None, *consultation.parts]:
        parent_id = parent.id if parent is not None else None
        counts: dict[str, int] = {}
        for p in consultation.parts:
            if p.parent_id != parent_id or p.kind in ("annex", "article", "row"):
                continue
            counts[p.kind] = counts.get(p.kind, 0) + 1
            expected = _sequence_number(p.kind, counts[p.kind])
            if p.number != expected and not (p.kind == "point" and p.number.isascii()):
                doubts.append(Doubt(p, f"Số hiệu {p.number} không liền mạch (chờ {expected}): có thể thiếu hoặc "
                                       "thừa một phần."))
                break
    from consult.consultations.ocr import LOW_CONFIDENCE

    for p in consultation.parts:
        if p.doubtful_reading:
            doubts.append(Doubt(p, f"Nhận dạng chữ ở trang {p.ocr_page} chỉ chắc chắn {p.ocr_confidence:.0f}% "
                                   f"(dưới {LOW_CONFIDENCE:.0f}%): hãy đối chiếu với bản quét và sửa chữ nếu sai."))
    preamble_lines = [line.strip() for line in (consultation.preamble or "").splitlines()]
    looking = [line for line in preamble_lines if (m := _match_marker(line)) and m.kind in ("article", "clause")]
    if len(looking) >= 2:
        doubts.append(Doubt(None, "Phần mở đầu có các dòng giống Điều hoặc khoản (ví dụ “" + looking[0][:60]
                                  + "”): có thể một phần dự thảo đã bị xếp vào phần mở đầu."))
    return doubts


# --- queries --------------------------------------------------------------------

def refresh_search_text(session: Session, consultation: Consultation) -> None:
    """Keep the folded text searched by words with or without diacritics."""
    pieces = [consultation.title, consultation.issuing_body, consultation.letter_number or ""]
    pieces += [f"{p.label} {p.title} {p.text}" for p in consultation.parts]
    consultation.search_text = search_blob(" ".join(pieces))


def public_consultations(session: Session, commune_id: int, *, query: str = "") -> list[Consultation]:
    """What the public sees of a commune: every consultation but drafts, newest closing first."""
    stmt = (select(Consultation)
            .where(Consultation.commune_id == commune_id, Consultation.status != STATUS_DRAFT)
            .order_by(Consultation.closes_at.desc()))
    condition = words_condition(Consultation.search_text, query)
    if condition is not None:
        stmt = stmt.where(condition)
    return list(session.scalars(stmt))


def staff_consultations(session: Session, commune_id: int, *, query: str = "") -> list[Consultation]:
    """Every consultation of the commune, drafts included, for its officers."""
    stmt = select(Consultation).where(Consultation.commune_id == commune_id).order_by(Consultation.created_at.desc())
    condition = words_condition(Consultation.search_text, query)
    if condition is not None:
        stmt = stmt.where(condition)
    return list(session.scalars(stmt))


def opinion_counts(session: Session, consultation_id: int) -> dict[int | None, int]:
    """Opinions per part (None: on the whole draft)."""
    from consult.opinions.models import Opinion

    rows = session.execute(select(Opinion.part_id, func.count()).where(Opinion.consultation_id == consultation_id)
                           .group_by(Opinion.part_id))
    return dict(rows.all())

