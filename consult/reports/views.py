"""The officer's synthesis workspace, the report's exports, and its public page."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from consult.access import current_actor, get_scoped, staff_required
from consult.auth.models import ROLE_ADMIN, ROLE_OFFICER
from consult.consultations.models import STATUS_PUBLISHED, Consultation
from consult.consultations.views import public_consultation
from consult.db import db_session
from consult.mail import service as mail
from consult.pages import act, public_url
from consult import worker
from consult.reports import exports, public, published, service
from consult.reports import workspace as workspace_pages
from consult import previews
from consult.reports.export import MIMETYPES, export, filename
from consult.reports.forms import DecisionForm, SettingsForm
from consult.timeutil import utcnow

bp = Blueprint("reports", __name__)
OFFICERS = (ROLE_OFFICER, ROLE_ADMIN)

@bp.route("/reports/consultations/<int:consultation_id>")
@staff_required(*OFFICERS)
def workspace(consultation_id: int):
    """A page of groups, filtered and continued by key (consult.reports.workspace)."""
    return _workspace_page(get_scoped(Consultation, consultation_id))


def _workspace_page(consultation: Consultation, *, refused_id: int | None = None, refused_form=None):
    """The workspace page the request's filters and cursor name; with ``refused_id``, shown
    again after a refused answer, that group's form holding what was chosen and typed, the
    message beside its field (status 422)."""
    filters = workspace_pages.Filters.parse(request.args)
    data = workspace_pages.page(db_session(), consultation, filters, workspace_pages.parse_after(request.args.get("after")))
    db_session().commit()  # groups of newly arrived opinions
    page = render_template("reports/workspace.html", c=consultation, data=data, form=DecisionForm(),
                           states=workspace_pages.STATES, TEXT_SHOWN=workspace_pages.TEXT_SHOWN, now=utcnow(),
                           status=consultation.effective_status(utcnow()), refused_id=refused_id,
                           refused=refused_form)
    return (page, 422) if refused_id else page


@bp.route("/reports/consultations/<int:consultation_id>/clusters/<int:cluster_id>")
@staff_required(*OFFICERS)
def members(consultation_id: int, cluster_id: int):
    """Every opinion of one group, a page at a time, each one can be split off."""
    consultation = get_scoped(Consultation, consultation_id)
    after = request.args.get("after", type=int)
    data = workspace_pages.members_page(db_session(), consultation, cluster_id, after)
    if data is None:
        abort(404)
    keep = workspace_pages.Filters.parse(request.args).args  # and the workspace's page it was opened from
    back = dict(keep)
    if workspace_pages.parse_after(request.args.get("from")):
        keep["from"] = back["after"] = request.args["from"]
    return render_template("reports/members.html", c=consultation, data=data, keep=keep,
                           back_url=url_for("reports.workspace", consultation_id=consultation.id, **back))


def _back_to(consultation, anchor: str = "") -> str:
    """Where an action returns: the page it was taken on, with its filters and cursor
    (the form's URL carries them), or the group's own page of members."""
    args = workspace_pages.Filters.parse(request.args).args
    after = request.args.get("after", "")
    cluster_id = request.view_args.get("cluster_id")
    if request.args.get("back") == "members" and cluster_id:
        if workspace_pages.parse_after(request.args.get("from")):
            args["from"] = request.args["from"]
        if after.isdigit():
            args["after"] = after
        return url_for("reports.members", consultation_id=consultation.id, cluster_id=cluster_id, **args)
    if workspace_pages.parse_after(after):
        args["after"] = after
    return url_for("reports.workspace", consultation_id=consultation.id, **args) + anchor


@bp.route("/reports/consultations/<int:consultation_id>/clusters/<int:cluster_id>/decide", methods=["POST"])
@staff_required(*OFFICERS)
def decide(consultation_id: int, cluster_id: int):
    consultation = get_scoped(Consultation, consultation_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        flash("Dữ liệu gửi lên không hợp lệ.", "error")
        return redirect(_back_to(consultation))
    done = act(lambda: service.decide(
        db_session(), current_actor(), consultation, cluster_id, decision=form.decision.data or "",
        explanation=form.explanation.data, revised_text=form.revised_text.data),
        "Đã ghi hướng xử lý.", _back_to(consultation, f"#group-{cluster_id}"), again=True, form=form)
    if done:
        return done
    if request.args.get("back") == "members":  # refused on the group's own page: back there, with the words
        flash("; ".join(e for f in form for e in f.errors) or "Không ghi được hướng xử lý.", "error")
        return redirect(_back_to(consultation))
    return _workspace_page(consultation, refused_id=cluster_id, refused_form=form)


@bp.route("/reports/consultations/<int:consultation_id>/clusters/<int:cluster_id>/split/<int:opinion_id>", methods=["POST"])
@staff_required(*OFFICERS)
def split(consultation_id: int, cluster_id: int, opinion_id: int):
    consultation = get_scoped(Consultation, consultation_id)
    return act(lambda: service.split_off(db_session(), current_actor(), consultation, cluster_id, opinion_id),
               "Đã tách ý kiến thành nhóm riêng.", _back_to(consultation, f"#group-{cluster_id}"))


@bp.route("/reports/consultations/<int:consultation_id>/clusters/<int:cluster_id>/ungroup", methods=["POST"])
@staff_required(*OFFICERS)
def ungroup(consultation_id: int, cluster_id: int):
    consultation = get_scoped(Consultation, consultation_id)
    return act(lambda: service.ungroup(db_session(), current_actor(), consultation, cluster_id),
               "Đã bỏ gộp: mỗi ý kiến được xử lý riêng.", _back_to(consultation, f"#group-{cluster_id}"))


@bp.route("/reports/consultations/<int:consultation_id>/settings", methods=["GET", "POST"])
@staff_required(*OFFICERS)
def settings(consultation_id: int):
    consultation = get_scoped(Consultation, consultation_id)
    current = service.settings_for(db_session(), consultation)
    form = SettingsForm(obj=current)
    if form.validate_on_submit():
        return act(lambda: service.save_settings(
            db_session(), current_actor(), consultation, number=form.number.data, report_date=form.report_date.data,
            place=form.place.data, signer_mode=form.signer_mode.data, signer_name=form.signer_name.data,
            recipients=form.recipients.data), "Đã lưu thông tin văn bản.", _back_to(consultation))
    return render_template("reports/settings.html", c=consultation, form=form)


@bp.route("/reports/consultations/<int:consultation_id>/print")
@staff_required(*OFFICERS)
def print_view(consultation_id: int):
    consultation = get_scoped(Consultation, consultation_id)
    data = service.report_data(db_session(), consultation)
    db_session().commit()
    return render_template("reports/print.html", data=data, c=consultation, public=False,
                           opening=service.opening_paragraphs(data), subject=service.report_subject(consultation),
                           closing=service.closing_paragraph(data), date_line=service.report_date_line(data))


@bp.route("/reports/consultations/<int:consultation_id>/export.<fmt>")
@staff_required(*OFFICERS)
def download(consultation_id: int, fmt: str):
    """The report as .docx or .xlsx; as .pdf, the .docx laid out by LibreOffice to check before signing."""
    if fmt not in MIMETYPES and fmt != "pdf":
        abort(404)
    consultation = get_scoped(Consultation, consultation_id)
    if exports.opinions(db_session(), consultation) > current_app.config["EXPORT_INLINE_MAX"]:
        # A large report: built by a background job, with its progress page (consult/reports/exports.py).
        job = exports.queue_export(db_session(), consultation, fmt, user_id=current_user.id,
                                   user_name=current_actor().name)
        db_session().commit()
        worker.wake(current_app)
        return redirect(url_for("jobs.show", job_id=job.id))
    data = service.report_data(db_session(), consultation)
    db_session().commit()
    if fmt == "pdf":  # made in the background, once per content (consult.previews)
        return previews.respond(db_session(), commune_id=consultation.commune_id, document=export(data, "docx"),
                                name=filename(data, "pdf"), title=f"Báo cáo tổng hợp ý kiến: {consultation.title}",
                                back=url_for("reports.workspace", consultation_id=consultation.id))
    return Response(export(data, fmt), mimetype=MIMETYPES[fmt], headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename(data, fmt))}"})


@bp.route("/reports/consultations/<int:consultation_id>/publish", methods=["POST"])
@staff_required(*OFFICERS)
def publish(consultation_id: int):
    consultation = get_scoped(Consultation, consultation_id)

    def publish_and_queue_files():
        service.publish_results(db_session(), current_actor(), consultation)
        # The public files are made once, in the background (consult.reports.published).
        published.queue_build(db_session(), consultation, user_id=current_user.id, user_name=current_actor().name)
        # The residents who asked to be told (and confirmed their address) get one mail each.
        mail.queue_results_news(db_session(), current_actor(), consultation, report_url=public_url(
            "reports.public_report", slug=consultation.commune.slug, consultation_id=consultation.id))

    response = act(publish_and_queue_files, "Đã công khai kết quả tiếp thu, giải trình.", _back_to(consultation))
    worker.wake(current_app)
    return response


@bp.route("/c/<slug>/consultations/<int:consultation_id>/report")
def public_report(slug: str, consultation_id: int):
    """Công khai kết quả (Luật Điều 28 khoản 3): the report, its table a page at a time and searchable."""
    consultation = public_consultation(slug, consultation_id)
    if consultation.status != STATUS_PUBLISHED:
        abort(404)
    report = public.public_report(db_session(), consultation)
    q = request.args.get("q", "").strip()[:200]
    everything = request.args.get("page") == "all"  # the whole table, to print
    page = public.page_of(report, request.args.get("page", 1, type=int), q, everything=everything)
    return render_template("reports/public.html", c=consultation, report=report, page=page, q=q,
                           everything=everything)


@bp.route("/c/<slug>/consultations/<int:consultation_id>/report.<fmt>")
def public_download(slug: str, consultation_id: int, fmt: str):
    """The published report as a file made once per published version; never built here."""
    consultation = public_consultation(slug, consultation_id)
    if consultation.status != STATUS_PUBLISHED or fmt not in MIMETYPES:
        abort(404)
    made = published.ready(published.folder_of(current_app), consultation, fmt)
    if made is None:
        by = published.publisher(db_session(), consultation)
        if by is not None:
            published.queue_build(db_session(), consultation, user_id=by[0], user_name=by[1])
            db_session().commit()
            worker.wake(current_app)
        response = Response(render_template("reports/preparing.html", c=consultation), status=503)
        response.headers["Retry-After"] = "30"
        return response
    response = send_file(made, mimetype=MIMETYPES[fmt], as_attachment=True,
                         download_name=f"bao-cao-tong-hop-y-kien-{consultation.id}.{fmt}", conditional=True,
                         etag=published.version(consultation), max_age=3600)
    return response


