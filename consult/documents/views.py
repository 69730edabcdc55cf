"""Pages of the outgoing documents: a consultation's plan and letter, the commune's register."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_login import current_user

from consult.access import current_actor, get_scoped, staff_required
from consult.auth.models import ROLE_ADMIN, ROLE_OFFICER
from consult.consultations.models import Consultation
from consult.db import db_session
from consult.paging import int_key
from consult.documents import service
from consult.documents.docx import hdnd_docx, letter_docx, plan_docx
from consult.documents.forms import IssueForm, PlanForm
from consult.documents.models import KINDS, PLAN_FORMS
from consult.pages import act
from consult.timeutil import today

bp = Blueprint("documents", __name__)
OFFICERS = (ROLE_OFFICER, ROLE_ADMIN)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# Entries on one page of the register.
PAGE_SIZE = 100


def _docx(data: bytes, name: str) -> Response:
    return Response(data, mimetype=DOCX, headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


@bp.route("/consultations/<int:consultation_id>/plan", methods=["GET", "POST"])
@staff_required(*OFFICERS)
def plan(consultation_id: int):
    """Kế hoạch lấy ý kiến (Luật Điều 28 khoản 1), made before the draft is published."""
    consultation = get_scoped(Consultation, consultation_id)
    s = db_session()
    current, saved = service.plan_for(s, consultation)
    entry = service.entry_for(s, consultation, "plan")
    form, issue = PlanForm(prefix="plan"), IssueForm(prefix="issue")
    if request.method == "GET":
        form.forms.data, form.purpose.data, form.method.data = current.forms, current.purpose, current.method
        form.timeline.data, form.assignments.data = current.timeline, current.assignments
        form.signer_mode.data, form.signer_name.data = current.signer_mode, current.signer_name
        issue.issued_on.data = today()
    action = request.form.get("action")
    back = url_for("documents.plan", consultation_id=consultation.id)
    done = None
    if action == "save" and form.validate_on_submit():
        done = act(lambda: service.save_plan(s, current_actor(), consultation, service.PlanInput(
            form.forms.data or [], form.purpose.data, form.method.data, form.timeline.data,
            form.assignments.data, form.signer_mode.data, form.signer_name.data or "")),
            lambda _: "Đã lưu kế hoạch.", back, again=True)
    elif action == "issue" and issue.validate_on_submit():
        done = act(lambda: service.issue_plan(s, current_actor(), consultation, issue.issued_on.data),
                   lambda e: f"Đã ban hành Kế hoạch số {e.reference}.", back, again=True)
    if done is not None:
        return done
    status = 422 if request.method == "POST" else 200
    return render_template("documents/plan.html", c=consultation, form=form, issue=issue, saved=saved,
                           entry=entry, forms=PLAN_FORMS), status


@bp.route("/consultations/<int:consultation_id>/plan.docx")
@staff_required(*OFFICERS)
def plan_download(consultation_id: int):
    consultation = get_scoped(Consultation, consultation_id)
    s = db_session()
    current, _ = service.plan_for(s, consultation)
    entry = service.entry_for(s, consultation, "plan")
    name = f"ke-hoach-{entry.number:02d}-{entry.year}.docx" if entry else f"du-thao-ke-hoach-{consultation.id}.docx"
    return _docx(plan_docx(consultation, current, entry), name)


def _issue_page(consultation: Consultation, kind: str, issue_with, message: str, template: str, **extra):
    """A page that takes a number from the register for one of the consultation's documents:
    the date and signer form, then the number and the download."""
    s = db_session()
    issue = IssueForm(prefix="issue")
    if request.method == "GET":
        issue.issued_on.data = today()
    if request.method == "POST" and issue.validate_on_submit():
        done = act(lambda: issue_with(s, current_actor(), consultation, issue.issued_on.data,
                                      signer=issue.signer_name.data or ""),
                   lambda e: f"{message} {e.reference}.", request.path, again=True)
        if done is not None:
            return done
    return render_template(template, c=consultation, issue=issue, entry=service.entry_for(s, consultation, kind),
                           **extra), 422 if request.method == "POST" else 200


@bp.route("/consultations/<int:consultation_id>/letter", methods=["GET", "POST"])
@staff_required(*OFFICERS)
def letter(consultation_id: int):
    """The công văn xin ý kiến to the invited units, numbered from the register."""
    consultation = get_scoped(Consultation, consultation_id)
    return _issue_page(consultation, "letter", service.issue_letter, "Đã lấy số Công văn", "documents/letter.html",
                       plan_entry=service.entry_for(db_session(), consultation, "plan"))


@bp.route("/consultations/<int:consultation_id>/letter.docx")
@staff_required(*OFFICERS)
def letter_download(consultation_id: int):
    consultation = get_scoped(Consultation, consultation_id)
    s = db_session()
    entry = service.entry_for(s, consultation, "letter")
    current, _ = service.plan_for(s, consultation)
    reply_url = url_for("opinions.unit_index", _external=True)
    data = letter_docx(consultation, entry, plan_entry=service.entry_for(s, consultation, "plan"),
                       signer_mode=current.signer_mode, signer_name=entry.signer if entry else "", reply_url=reply_url)
    name = f"cong-van-{entry.number:02d}-{entry.year}.docx" if entry else f"du-thao-cong-van-{consultation.id}.docx"
    return _docx(data, name)


@bp.route("/consultations/<int:consultation_id>/hdnd", methods=["GET", "POST"])
@staff_required(*OFFICERS)
def hdnd(consultation_id: int):
    """The report to the HĐND of the consultation's outcome (Luật Điều 28 khoản 5)."""
    consultation = get_scoped(Consultation, consultation_id)
    return _issue_page(consultation, "hdnd", service.issue_hdnd_report, "Đã lấy số Báo cáo", "documents/hdnd.html")


@bp.route("/consultations/<int:consultation_id>/hdnd.docx")
@staff_required(*OFFICERS)
def hdnd_download(consultation_id: int):
    from consult.reports.service import report_data

    consultation = get_scoped(Consultation, consultation_id)
    s = db_session()
    entry = service.entry_for(s, consultation, "hdnd")
    current, _ = service.plan_for(s, consultation)
    url = url_for("reports.public_report", slug=consultation.commune.slug, consultation_id=consultation.id,
                  _external=True)
    from consult.publication.models import RESULTS
    from consult.publication.service import postings

    data = hdnd_docx(consultation, report_data(s, consultation, public=True), entry, signer_mode=current.signer_mode,
                     signer_name=entry.signer if entry else "", results_url=url,
                     postings=postings(s, consultation, RESULTS))
    name = f"bao-cao-hdnd-{entry.number:02d}-{entry.year}.docx" if entry else f"du-thao-bao-cao-hdnd-{consultation.id}.docx"
    return _docx(data, name)


@bp.route("/documents/")
@staff_required(*OFFICERS)
def register():
    """Sổ văn bản đi of the commune: numbers from 01 each year (NĐ 30/2020)."""
    if current_user.commune_id is None:
        abort(404)
    year = int_key(request.args, "year") or today().year
    kind = request.args.get("kind", "")
    kind = kind if kind in KINDS else None
    # By key (``paging``): ?after=<number> / ?before=<number>; the old ?page=N is the first page.
    entries = service.register_page(db_session(), current_user.commune_id, year, kind=kind, size=PAGE_SIZE,
                                    after=int_key(request.args, "after"), before=int_key(request.args, "before"))
    return render_template("documents/register.html", entries=entries, year=year, kinds=KINDS, kind=kind,
                           params={"year": year, **({"kind": kind} if kind else {})})
