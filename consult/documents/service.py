"""The register of outgoing documents and the consultation's plan.

Numbers (NĐ 30/2020 Điều 15): one sequence per issuing body (the commune's UBND) and
year, from 01 each 1 January, whatever the kind of document; a number once taken stays
in the register. A consultation takes at most one number for its plan and one for its
letter (asking again gives the same entry).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from consult.audit.service import Actor, record
from consult.communes.models import Commune
from consult.consultations.models import STATUS_DRAFT, Consultation
from consult.errors import DomainError
from consult.paging import Page, keyset_page
from consult.documents.models import KINDS, PLAN_FORMS, ConsultationPlan, OutgoingDocument
from consult.textutil import nfc
from consult.timeutil import format_date, local_date, to_local, today, utcnow


class DocumentError(DomainError):
    """A rule about a document was broken; the message is for the user."""


def take_number(session: Session, actor: Actor, commune: Commune, kind: str, subject: str, issued_on: date, *,
                consultation_id: int | None = None, signer: str = "",
                now: datetime | None = None) -> OutgoingDocument:
    """The next number of the commune's register for the year of ``issued_on``."""
    if kind not in KINDS:
        raise DocumentError("Loại văn bản không hợp lệ.")
    if consultation_id is not None:
        existing = session.scalar(select(OutgoingDocument).where(
            OutgoingDocument.consultation_id == consultation_id, OutgoingDocument.kind == kind))
        if existing is not None:
            return existing
    now = now or utcnow()
    for _ in range(5):  # two officers taking a number at once: the unique constraint decides
        number = (session.scalar(select(func.max(OutgoingDocument.number)).where(
            OutgoingDocument.commune_id == commune.id, OutgoingDocument.year == issued_on.year)) or 0) + 1
        entry = OutgoingDocument(commune_id=commune.id, year=issued_on.year, number=number, kind=kind,
                                 symbol=KINDS[kind][1], subject=nfc(subject).strip()[:500], issued_on=issued_on,
                                 signer=signer, consultation_id=consultation_id, created_by=actor.name,
                                 created_at=now)
        try:
            with session.begin_nested():
                session.add(entry)
        except IntegrityError:
            continue
        record(session, actor, "document.number", commune, commune_id=commune.id, now=now,
               details={"number": entry.reference, "kind": kind, "subject": entry.subject})
        return entry
    raise DocumentError("Không lấy được số văn bản, vui lòng thử lại.")


def _register(commune_id: int, year: int, kind: str | None = None):
    stmt = select(OutgoingDocument).where(OutgoingDocument.commune_id == commune_id, OutgoingDocument.year == year)
    return stmt.where(OutgoingDocument.kind == kind) if kind else stmt


def register(session: Session, commune_id: int, year: int) -> list[OutgoingDocument]:
    """The year's sổ văn bản đi, whole, in the order of its numbers."""
    return list(session.scalars(_register(commune_id, year).order_by(OutgoingDocument.number)))


def register_page(session: Session, commune_id: int, year: int, *, kind: str | None = None,
                  after: int | None = None, before: int | None = None, size: int = 100) -> Page[OutgoingDocument]:
    """A page of the year's register in the order of its numbers, of one kind or all,
    after or before a number: one range of the unique index (commune_id, year, number)."""
    return keyset_page(session, _register(commune_id, year, kind), [OutgoingDocument.number],
                       lambda e: (e.number,), size=size, after=(after,) if after else None,
                       before=(before,) if before else None)


def entry_for(session: Session, consultation: Consultation, kind: str) -> OutgoingDocument | None:
    return session.scalar(select(OutgoingDocument).where(
        OutgoingDocument.consultation_id == consultation.id, OutgoingDocument.kind == kind))


# --- the plan -------------------------------------------------------------------------------

@dataclass
class PlanInput:
    forms: list[str]
    purpose: str
    method: str
    timeline: str
    assignments: str
    signer_mode: str = "TM"
    signer_name: str = ""


def default_plan(consultation: Consultation) -> PlanInput:
    """A plan filled in from the consultation, for the officer to correct."""
    commune = consultation.commune
    where = f"{commune.kind_label.lower()} {commune.name}"
    opens = local_date(consultation.opens_at)
    forms = ["portal", "written", "other"] + (["social"] if consultation.residents_may_comment else [])
    return PlanInput(
        forms=[f for f in PLAN_FORMS if f in forms],
        purpose=(f"Lấy ý kiến của Nhân dân, các cơ quan, đơn vị, tổ chức trên địa bàn {where} đối với dự thảo "
                 f"{consultation.draft_name}, bảo đảm quyền được bàn, tham gia ý kiến của Nhân dân theo Luật Thực "
                 "hiện dân chủ ở cơ sở; ý kiến được tổng hợp, tiếp thu, giải trình đầy đủ và công khai kết quả."),
        method=("Văn phòng - Thống kê đăng tải toàn văn dự thảo và hướng dẫn góp ý trên trang thông tin của "
                f"{where}; niêm yết tại trụ sở Ủy ban nhân dân và nhà văn hóa các khu phố; thông báo trên hệ thống "
                "loa truyền thanh. Các cơ quan, đơn vị được xin ý kiến trả lời bằng văn bản, kể cả trường hợp nhất "
                "trí, không có ý kiến. Người dân góp ý trực tuyến hoặc gửi ý kiến qua Ban điều hành khu phố."),
        timeline=(f"- Từ ngày {format_date(opens)}: công khai dự thảo, bắt đầu lấy ý kiến.\n"
                  f"- Đến {_deadline(consultation)}: hết hạn gửi ý kiến.\n"
                  "- Trong 05 ngày làm việc sau đó: tổng hợp, tiếp thu, giải trình ý kiến; công khai kết quả.\n"
                  "- Kỳ họp thường lệ gần nhất: báo cáo Hội đồng nhân dân kết quả lấy ý kiến."),
        assignments=("- Văn phòng - Thống kê: tham mưu tổ chức thực hiện Kế hoạch, gửi văn bản xin ý kiến, tổng "
                     "hợp ý kiến, dự thảo báo cáo tiếp thu, giải trình.\n"
                     f"- Đề nghị Ủy ban Mặt trận Tổ quốc Việt Nam {where}: phối hợp tuyên truyền, vận động Nhân dân "
                     "tham gia góp ý và giám sát việc tiếp thu ý kiến.\n"
                     "- Các ban, ngành, đoàn thể: nghiên cứu, góp ý dự thảo; tuyên truyền đến hội viên, đoàn viên.\n"
                     "- Ban điều hành các khu phố: phổ biến dự thảo đến các hộ gia đình, tiếp nhận và chuyển ý "
                     "kiến của người dân."),
        signer_mode="TM", signer_name="")


def _deadline(consultation: Consultation) -> str:
    closes = to_local(consultation.closes_at)
    return f"{closes:%H} giờ {closes:%M} ngày {closes:%d/%m/%Y}"


def plan_for(session: Session, consultation: Consultation) -> tuple[PlanInput, bool]:
    """The saved plan, or the default one; and whether it was saved."""
    saved = session.get(ConsultationPlan, consultation.id)
    if saved is None:
        return default_plan(consultation), False
    return PlanInput(list(saved.forms or []), saved.purpose, saved.method, saved.timeline, saved.assignments,
                     saved.signer_mode, saved.signer_name), True


def save_plan(session: Session, actor: Actor, consultation: Consultation, data: PlanInput, *,
              now: datetime | None = None) -> ConsultationPlan:
    now = now or utcnow()
    forms = [f for f in PLAN_FORMS if f in set(data.forms)]
    if not forms:
        raise DocumentError("Hãy chọn ít nhất một hình thức lấy ý kiến (Điều 26 khoản 1).")
    if entry_for(session, consultation, "plan") is not None:
        raise DocumentError("Kế hoạch đã được ban hành (đã lấy số); không sửa được nữa.")
    if data.signer_mode not in ("TM", "KT"):
        raise DocumentError("Hãy chọn cách ký: TM. Ủy ban nhân dân hoặc KT. Chủ tịch.")
    texts = {name: nfc(getattr(data, name) or "").strip() for name in ("purpose", "method", "timeline", "assignments")}
    if not all(texts.values()):
        raise DocumentError("Vui lòng ghi đủ mục đích, cách thức, thời gian và phân công thực hiện.")
    plan = session.get(ConsultationPlan, consultation.id) or ConsultationPlan(consultation_id=consultation.id)
    plan.forms, plan.signer_mode, plan.signer_name = forms, data.signer_mode, nfc(data.signer_name).strip()
    for name, value in texts.items():
        setattr(plan, name, value)
    plan.updated_by, plan.updated_at = actor.name, now
    session.add(plan)
    session.flush()
    record(session, actor, "consultation.plan", consultation, now=now, details={"forms": forms})
    return plan


def issue_plan(session: Session, actor: Actor, consultation: Consultation, issued_on: date | None = None, *,
               now: datetime | None = None) -> OutgoingDocument:
    """Number the plan (Luật Điều 28 khoản 1: made before the draft is published)."""
    now = now or utcnow()
    issued_on = issued_on or today(now)
    if session.get(ConsultationPlan, consultation.id) is None:
        raise DocumentError("Hãy lưu kế hoạch trước khi ban hành.")
    if issued_on > today(now):
        raise DocumentError("Ngày ban hành không được sau hôm nay.")
    if consultation.status != STATUS_DRAFT and consultation.published_at is not None \
            and issued_on > local_date(consultation.published_at):
        raise DocumentError(f"Kế hoạch phải được ban hành trước khi công khai dự thảo (Điều 28 khoản 1 Luật Thực hiện "
                            f"dân chủ ở cơ sở); dự thảo đã công khai ngày {format_date(consultation.published_at)}: "
                            "hãy ghi ngày ban hành thực tế của kế hoạch.")
    plan = session.get(ConsultationPlan, consultation.id)
    return take_number(session, actor, consultation.commune, "plan", f"Lấy ý kiến dự thảo {consultation.draft_name}",
                       issued_on, consultation_id=consultation.id, signer=plan.signer_name, now=now)


def issue_letter(session: Session, actor: Actor, consultation: Consultation, issued_on: date | None = None, *,
                 signer: str = "", now: datetime | None = None) -> OutgoingDocument:
    """Number the công văn xin ý kiến sent to the invited units."""
    now = now or utcnow()
    issued_on = issued_on or today(now)
    if not consultation.invitations:
        raise DocumentError("Đợt lấy ý kiến chưa mời đơn vị nào; hãy chọn đơn vị được xin ý kiến trước.")
    if issued_on > today(now):
        raise DocumentError("Ngày ban hành không được sau hôm nay.")
    return take_number(session, actor, consultation.commune, "letter",
                       f"V/v lấy ý kiến góp ý dự thảo {consultation.draft_name}", issued_on,
                       consultation_id=consultation.id, signer=signer, now=now)


def issue_hdnd_report(session: Session, actor: Actor, consultation: Consultation, issued_on: date | None = None, *,
                      signer: str = "", now: datetime | None = None) -> OutgoingDocument:
    """Number the report to the HĐND (Luật Điều 28 khoản 5: at its next regular session),
    once the results are public (khoản 3)."""
    from consult.consultations.models import STATUS_PUBLISHED

    now = now or utcnow()
    issued_on = issued_on or today(now)
    if consultation.status != STATUS_PUBLISHED:
        raise DocumentError("Chỉ báo cáo Hội đồng nhân dân sau khi đã công khai kết quả tiếp thu, giải trình "
                            "(Điều 28 khoản 3, 5).")
    if issued_on > today(now):
        raise DocumentError("Ngày ban hành không được sau hôm nay.")
    return take_number(session, actor, consultation.commune, "hdnd",
                       f"Kết quả lấy ý kiến dự thảo {consultation.draft_name}", issued_on,
                       consultation_id=consultation.id, signer=signer, now=now)
