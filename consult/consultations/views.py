"""Officers' pages for a consultation, and the public pages that show it."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from consult.access import current_actor, get_scoped, staff_required
from consult.auth.models import ROLE_ADMIN, ROLE_OFFICER
from consult.communes.models import Commune
from consult.communes.service import list_units
from consult import worker
from consult.consultations import jobs as scan_jobs  # noqa: F401 - registers the OCR job's runner
from consult.consultations import parser, service
from consult.consultations.forms import (ConsultationForm, ExtendForm, NewConsultationForm, PartTextForm,
                                         RelabelForm, SplitForm)
from consult.consultations.models import STATUS_DRAFT, STATUS_LABELS, Consultation
from consult.db import db_session
from consult.jobs.models import DONE, FAILED, Job
from consult.opinions import service as opinions
from consult.pages import act
from consult.publication import service as publication
from consult.timeutil import humanize_remaining, utcnow

bp = Blueprint("consultations", __name__)

# A part that ends with a table shows it as one (its rows are its children of kind "row").
bp.add_app_template_filter(parser.table_cells, "table_cells")
bp.add_app_template_filter(parser.row_words, "row_words")
bp.add_app_template_filter(parser.table_header, "table_header")
bp.add_app_template_filter(parser.text_before_table, "text_before_table")
OFFICERS = (ROLE_OFFICER, ROLE_ADMIN)


def _commune_of_staff() -> Commune:
    if current_user.commune_id is None:
        abort(404)  # a platform administrator works inside a commune's own pages
    return db_session().get(Commune, current_user.commune_id)


def _facts(form: ConsultationForm) -> service.ConsultationFacts:
    return service.ConsultationFacts(
        title=form.title.data or "", doc_kind=form.doc_kind.data, issuing_body=form.issuing_body.data or "",
        officer_name=form.officer_name.data or "", opens_at=form.opens_at.data, closes_at=form.closes_at.data,
        letter_number=form.letter_number.data, letter_date=form.letter_date.data,
        officer_contact=form.officer_contact.data, residents_may_comment=form.residents_may_comment.data,
        short_period_basis=form.short_period_basis.data)


def _unit_choices(form: ConsultationForm, commune: Commune) -> None:
    form.units.choices = [(u.id, u.name) for u in list_units(db_session(), commune.id)]


# --- officers -----------------------------------------------------------------------

@bp.route("/consultations/")
@staff_required(*OFFICERS)
def index():
    commune = _commune_of_staff()
    items = service.staff_consultations(db_session(), commune.id, query=request.args.get("q", ""))
    return render_template("consultations/index.html", commune=commune, consultations=items, now=utcnow(),
                           labels=STATUS_LABELS, q=request.args.get("q", ""))


@bp.route("/consultations/new", methods=["GET", "POST"])
@staff_required(*OFFICERS)
def new():
    commune = _commune_of_staff()
    form = NewConsultationForm()
    _unit_choices(form, commune)
    if request.method == "GET":
        form.issuing_body.data = f"Ủy ban nhân dân {commune.kind_label.lower()} {commune.name}"
        form.units.data = [c[0] for c in form.units.choices]
    if form.validate_on_submit():
        upload = request.files.get("draft_file")

        def create():
            source = service.read_draft(
                text=form.draft_text.data, filename=upload.filename if upload else None,
                data=upload.read() if upload and upload.filename else None,
                max_bytes=current_app.config["UPLOAD_MAX_BYTES"])
            return service.create_consultation(db_session(), current_actor(), commune, _facts(form),
                                               source, form.units.data)

        def created(consultation: Consultation) -> str:
            if consultation.ocr_job_id is None:
                return "Đã tạo bản nháp. Hãy kiểm tra cấu trúc dự thảo trước khi công khai."
            worker.wake(current_app)  # after the commit: the job is there to be taken
            return ("Đã tạo bản nháp. Tệp là bản quét: hệ thống đang nhận dạng chữ từng trang; khi xong, hãy đối "
                    "chiếu từng phần với bản quét trước khi công khai.")

        # A file or text that cannot be read is told beside its field, with nothing saved.
        done = act(create, created, _show, again=True, form=form)
        if done:
            return done
    # Shown again after a POST: a field or the file was refused, and nothing was saved.
    return render_template("consultations/form.html", form=form, title="Tạo đợt lấy ý kiến", new=True), (
        422 if request.method == "POST" else 200)


@bp.route("/consultations/<int:consultation_id>")
@staff_required(*OFFICERS)
def show(consultation_id: int):
    consultation = get_scoped(Consultation, consultation_id)
    now = utcnow()
    reading = db_session().get(Job, consultation.ocr_job_id) if service.reading_in_progress(consultation) else None
    return render_template(
        "consultations/show.html", c=consultation, tree=service.part_tree(consultation), now=now,
        reading=reading, reading_done=(DONE, FAILED),
        reading_percent=int(100 * reading.done / reading.total) if reading and reading.total else 0,
        doubts=service.parse_doubts(consultation) if consultation.status == "draft" else [],
        status=consultation.effective_status(now), labels=STATUS_LABELS,
        counts=service.opinion_counts(db_session(), consultation.id),
        summary=opinions.reply_summary(db_session(), consultation), remaining=humanize_remaining(
            consultation.closes_at - now),
        shortfall=publication.period_shortfall(consultation, publication.real_start(db_session(), consultation)))


@bp.route("/consultations/<int:consultation_id>/edit", methods=["GET", "POST"])
@staff_required(*OFFICERS)
def edit(consultation_id: int):
    consultation = get_scoped(Consultation, consultation_id)
    form = ConsultationForm(obj=consultation)
    _unit_choices(form, consultation.commune)
    if request.method == "GET":
        form.units.data = [i.unit_id for i in consultation.invitations]
    if form.validate_on_submit():
        done = act(lambda: service.update_consultation(db_session(), current_actor(), consultation, _facts(form),
                                                       form.units.data),
                   "Đã lưu.", _show(consultation), again=True)
        if done:
            return done
    return render_template("consultations/form.html", form=form, title=f"Sửa: {consultation.title}", new=False)


def _show(consultation: Consultation) -> str:
    return url_for("consultations.show", consultation_id=consultation.id)


@bp.route("/consultations/<int:consultation_id>/publish", methods=["POST"])
@staff_required(*OFFICERS)
def publish(consultation_id: int):
    consultation = get_scoped(Consultation, consultation_id)
    return act(lambda: service.publish(db_session(), current_actor(), consultation),
               "Đã công khai dự thảo; người dân và các đơn vị có thể góp ý.", _show(consultation))


@bp.route("/consultations/<int:consultation_id>/extend", methods=["GET", "POST"])
@staff_required(*OFFICERS)
def extend(consultation_id: int):
    consultation = get_scoped(Consultation, consultation_id)
    form = ExtendForm()
    if form.validate_on_submit():
        return act(lambda: service.extend_deadline(
            db_session(), current_actor(), consultation, form.closes_at.data, form.reason.data),
            "Đã gia hạn; thời hạn mới được hiện công khai.", _show(consultation))
    return render_template("consultations/simple_form.html", form=form, c=consultation,
                           title="Gia hạn lấy ý kiến", submit="Gia hạn")


@bp.route("/consultations/<int:consultation_id>/parts/<int:part_id>/merge", methods=["POST"])
@staff_required(*OFFICERS)
def merge_part(consultation_id: int, part_id: int):
    consultation = get_scoped(Consultation, consultation_id)
    return act(lambda: service.merge_part(db_session(), current_actor(), consultation, part_id),
               "Đã gộp vào phần đứng trước.", _show(consultation))


@bp.route("/consultations/<int:consultation_id>/parts/<int:part_id>/<any(indent, outdent):move>", methods=["POST"])
@staff_required(*OFFICERS)
def move_part(consultation_id: int, part_id: int, move: str):
    """One level down (the part before becomes its parent) or one level up."""
    consultation = get_scoped(Consultation, consultation_id)
    run = service.indent_part if move == "indent" else service.outdent_part
    return act(lambda: run(db_session(), current_actor(), consultation, part_id),
               "Đã thụt vào một cấp." if move == "indent" else "Đã lùi ra một cấp.", _show(consultation))


@bp.route("/consultations/<int:consultation_id>/renumber", methods=["POST"])
@staff_required(*OFFICERS)
def renumber(consultation_id: int):
    consultation = get_scoped(Consultation, consultation_id)
    return act(lambda: service.renumber_parts(db_session(), current_actor(), consultation),
               "Đã đánh số lại các phần theo thứ tự.", _show(consultation))


@bp.route("/consultations/<int:consultation_id>/parts/<int:part_id>/relabel", methods=["GET", "POST"])
@staff_required(*OFFICERS)
def relabel_part(consultation_id: int, part_id: int):
    consultation = get_scoped(Consultation, consultation_id)
    part = _part_or_404(consultation, part_id)
    form = RelabelForm(obj=part)
    if form.validate_on_submit():
        return act(lambda: service.relabel_part(
            db_session(), current_actor(), consultation, part.id, kind=form.kind.data, number=form.number.data,
            title=form.title.data), "Đã sửa số hiệu.", _show(consultation))
    return render_template("consultations/simple_form.html", form=form, c=consultation,
                           title=f"Sửa số hiệu: {part.label}", submit="Lưu", part=part)


@bp.route("/consultations/<int:consultation_id>/parts/<int:part_id>/split", methods=["GET", "POST"])
@staff_required(*OFFICERS)
def split_part(consultation_id: int, part_id: int):
    consultation = get_scoped(Consultation, consultation_id)
    part = _part_or_404(consultation, part_id)
    form = SplitForm()
    if form.validate_on_submit():
        return act(lambda: service.split_part(
            db_session(), current_actor(), consultation, part.id, at_text=form.at_text.data, kind=form.kind.data,
            number=form.number.data, title=form.title.data), "Đã tách thành phần mới.", _show(consultation))
    return render_template("consultations/simple_form.html", form=form, c=consultation,
                           title=f"Tách phần: {part.label}", submit="Tách", part=part)


@bp.route("/consultations/<int:consultation_id>/parts/<int:part_id>/text", methods=["GET", "POST"])
@staff_required(*OFFICERS)
def edit_part_text(consultation_id: int, part_id: int):
    """Correct a part's words before publishing (what OCR misread, a slip in the file)."""
    consultation = get_scoped(Consultation, consultation_id)
    part = _part_or_404(consultation, part_id)
    form = PartTextForm(obj=part)
    if form.validate_on_submit():
        done = act(lambda: service.edit_part_text(db_session(), current_actor(), consultation, part.id,
                                                  title=form.title.data, text=form.text.data),
                   "Đã sửa nội dung.", f"{_show(consultation)}#{part.anchor}", again=True, form=form)
        if done:
            return done
    status = 422 if request.method == "POST" else 200
    return render_template("consultations/simple_form.html", form=form, c=consultation,
                           title=f"Sửa nội dung: {part.label}", submit="Lưu", part=part, scan=consultation.read_by_ocr
                           ), status


def _part_or_404(consultation: Consultation, part_id: int):
    part = next((p for p in consultation.parts if p.id == part_id), None)
    if part is None:
        abort(404)
    return part


@bp.route("/consultations/<int:consultation_id>/replies")
@staff_required(*OFFICERS)
def replies(consultation_id: int):
    consultation = get_scoped(Consultation, consultation_id)
    return render_template("consultations/replies.html", c=consultation,
                           summary=opinions.reply_summary(db_session(), consultation))


@bp.route("/consultations/<int:consultation_id>/reminders")
@staff_required(*OFFICERS)
def reminders(consultation_id: int):
    consultation = get_scoped(Consultation, consultation_id)
    return render_template("consultations/reminders.html", c=consultation, now=utcnow(),
                           summary=opinions.reply_summary(db_session(), consultation))


@bp.route("/consultations/<int:consultation_id>/opinions")
@staff_required(*OFFICERS)
def opinion_list(consultation_id: int):
    consultation = get_scoped(Consultation, consultation_id)
    q = request.args.get("q", "")
    return render_template("consultations/opinions.html", c=consultation, q=q,
                           opinions=opinions.list_opinions(db_session(), consultation, query=q))


# --- public ----------------------------------------------------------------------------

def public_commune(slug: str) -> Commune:
    commune = db_session().scalar(select(Commune).where(Commune.slug == slug))
    if commune is None:
        abort(404)
    return commune


def public_consultation(slug: str, consultation_id: int) -> Consultation:
    commune = public_commune(slug)
    consultation = db_session().get(Consultation, consultation_id)
    if consultation is None or consultation.commune_id != commune.id or consultation.status == STATUS_DRAFT:
        abort(404)
    return consultation


@bp.route("/c/<slug>/consultations/")
def public_index(slug: str):
    commune = public_commune(slug)
    q = request.args.get("q", "")
    items = service.public_consultations(db_session(), commune.id, query=q)
    return render_template("consultations/public_index.html", commune=commune, consultations=items, q=q,
                           now=utcnow(), labels=STATUS_LABELS)


@bp.route("/c/<slug>/consultations/<int:consultation_id>")
def public_show(slug: str, consultation_id: int):
    consultation = public_consultation(slug, consultation_id)
    now = utcnow()
    tree = service.part_tree(consultation)
    pages = service.draft_pages(tree)
    if request.args.get("page") == "all":  # the whole draft on one page, to print
        pages, number = [service.DraftPage(tree, "", "")], 1
    else:
        number = min(max(1, request.args.get("page", 1, type=int)), len(pages))
    return render_template(
        "consultations/public_show.html", c=consultation, commune=consultation.commune,
        pages=pages, page=pages[number - 1], number=number, contents=service.draft_contents(pages),
        counts=service.opinion_counts(db_session(), consultation.id),
        status=consultation.effective_status(now), labels=STATUS_LABELS, open=consultation.accepts_opinions(now),
        remaining=humanize_remaining(consultation.closes_at - now), now=now,
        postings=publication.postings(db_session(), consultation))


@bp.route("/c/<slug>/consultations/<int:consultation_id>/source")
def source(slug: str, consultation_id: int):
    """The draft as it was uploaded (or as pasted, as UTF-8 text)."""
    return _source_of(public_consultation(slug, consultation_id), attachment=True)


@bp.route("/consultations/<int:consultation_id>/source")
@staff_required(*OFFICERS)
def source_file(consultation_id: int):
    """The uploaded file for the officer checking the draft (a scan opened beside its reading)."""
    return _source_of(get_scoped(Consultation, consultation_id), attachment=False)


def _source_of(consultation: Consultation, *, attachment: bool) -> Response:
    from urllib.parse import quote

    if consultation.source_blob:
        data, mimetype, name = consultation.source_blob, consultation.source_mimetype, consultation.source_filename
    else:
        data, mimetype, name = consultation.source_text.encode("utf-8"), "text/plain; charset=utf-8", f"du-thao-{consultation.id}.txt"
    # Shown in the browser only when it is a PDF (its own viewer); anything else is downloaded.
    inline = not attachment and mimetype == "application/pdf"
    return Response(data, mimetype=mimetype, headers={
        "Content-Disposition": f"{'inline' if inline else 'attachment'}; filename*=UTF-8''{quote(name)}",
        "X-Content-Type-Options": "nosniff"})
