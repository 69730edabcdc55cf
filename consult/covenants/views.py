"""Pages of a hương ước, quy ước: the group's steps (staff) and its public text and comments."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user

from consult.access import current_actor, get_scoped, staff_required, visible, visible_groups
from consult.auth.models import ROLE_ADMIN, ROLE_GROUP_HEAD, ROLE_OFFICER
from consult.communes.models import Commune
from consult.consultations.views import public_commune
from consult.covenants import service
from consult.covenants.forms import CommentForm, CovenantForm, DraftForm, MeetingForm, OpenCommentsForm
from consult.covenants.models import Covenant
from consult.db import db_session
from consult.opinions.limits import public_post_limits
from consult.pages import act
from consult.timeutil import utcnow

bp = Blueprint("covenants", __name__)
RUNNERS = (ROLE_ADMIN, ROLE_OFFICER, ROLE_GROUP_HEAD)


@bp.route("/covenants/", methods=["GET", "POST"])
@staff_required(*RUNNERS)
def index():
    """The group's hương ước, quy ước, and a new draft."""
    if current_user.commune_id is None:
        abort(404)
    form = CovenantForm()
    form.group_id.choices = [(g.id, g.full_name) for g in visible_groups()]
    if request.method == "GET" and request.args.get("amends", type=int):
        amended = get_scoped(Covenant, request.args.get("amends", type=int))
        form.amends_id.data, form.group_id.data, form.kind.data = str(amended.id), amended.group_id, amended.kind
        form.title.data = f"Sửa đổi, bổ sung {amended.title}"
        form.text.data = amended.final_text or amended.draft_text
    if request.method == "POST" and form.validate_on_submit():
        s = db_session()
        done = act(lambda: service.create(
            s, current_actor(), s.get(Commune, current_user.commune_id), group_id=form.group_id.data,
            kind=form.kind.data, title=form.title.data, text=form.text.data,
            amends_id=int(form.amends_id.data) if (form.amends_id.data or "").isdigit() else None),
            "Đã lưu dự thảo.", lambda created: url_for("covenants.show", covenant_id=created.id), again=True)
        if done is not None:
            return done
    s = db_session()
    items = service.listing(s, visible(current_user, Covenant))
    return render_template("covenants/index.html", form=form, items=items,
                           stages={c.id: service.progress(s, c) for c in items}), \
        422 if request.method == "POST" else 200


@bp.route("/covenants/<int:covenant_id>", methods=["GET", "POST"])
@staff_required(*RUNNERS)
def show(covenant_id: int):
    covenant = get_scoped(Covenant, covenant_id)
    s = db_session()
    now = utcnow()
    draft, opener, meeting = DraftForm(prefix="draft"), OpenCommentsForm(prefix="open"), MeetingForm(prefix="meeting")
    paper = CommentForm(prefix="paper")
    if request.method == "GET":
        draft.title.data, draft.text.data = covenant.title, covenant.draft_text
        meeting.final_text.data = covenant.final_text or covenant.draft_text
    back = url_for("covenants.show", covenant_id=covenant.id)
    action, done = request.form.get("action"), None
    if action == "draft" and draft.validate_on_submit():
        done = act(lambda: service.update_draft(s, current_actor(), covenant, title=draft.title.data,
                                                 text=draft.text.data, now=now), "Đã lưu dự thảo.", back, again=True)
    elif action == "open" and opener.validate_on_submit():
        done = act(lambda: service.open_comments(s, current_actor(), covenant, opener.closes_at.data, now=now),
                    "Đã công khai dự thảo để lấy ý kiến hộ gia đình.", back, again=True)
    elif action == "paper" and paper.validate_on_submit():
        done = act(lambda: service.add_comment(s, covenant, name=paper.name.data, address=paper.address.data,
                                                text=paper.text.data, channel="paper", now=now),
                    "Đã ghi ý kiến nhận bằng văn bản.", back, again=True)
    elif action == "meeting" and meeting.validate_on_submit():
        done = act(lambda: service.call_meeting(s, current_actor(), covenant, service.MeetingInput(
            meeting.final_text.data, meeting.opens_at.data, meeting.closes_at.data, meeting.announced_on.data),
            now=now), "Đã tạo cuộc họp thông qua; mở cuộc họp, điểm danh và biểu quyết ở trang cuộc biểu quyết.", back, again=True)
    if done is not None:
        return done
    return render_template("covenants/show.html", c=covenant, p=service.progress(s, covenant, now), draft=draft,
                           opener=opener, meeting=meeting, paper=paper, comments=service.comments(s, covenant),
                           amendments=service.amendments(s, covenant), stages=service.STAGES), \
        422 if request.method == "POST" else 200


@bp.route("/covenants/<int:covenant_id>/dossier.<any(docx, pdf):ext>")
@staff_required(*RUNNERS)
def dossier(covenant_id: int, ext: str):
    """The hồ sơ đề nghị công nhận the group head sends the commune's UBND (NĐ 61/2023 Điều 11),
    as .docx, or laid out as PDF to check before printing."""
    from flask import Response

    from consult import previews
    from consult.covenants import documents

    covenant = get_scoped(Covenant, covenant_id)
    try:
        data = documents.dossier_docx(db_session(), covenant)
    except service.CovenantError:
        abort(404)
    name = f"ho-so-de-nghi-cong-nhan-{covenant.kind.replace('_', '-')}-{covenant.id}.{ext}"
    if ext == "docx":
        return Response(data, mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"})
    return previews.respond(db_session(), commune_id=covenant.commune_id, document=data, name=name,
                            title=f"Hồ sơ đề nghị công nhận: {covenant.title}",
                            back=url_for("covenants.show", covenant_id=covenant.id))


# --- public ------------------------------------------------------------------------------------


def _public(slug: str, covenant_id: int) -> Covenant:
    commune = public_commune(slug)
    covenant = db_session().get(Covenant, covenant_id)
    if covenant is None or covenant.commune_id != commune.id or covenant.comments_open_at is None:
        abort(404)
    return covenant


@bp.route("/c/<slug>/covenants/")
def public_index(slug: str):
    commune = public_commune(slug)
    s = db_session()
    items = [c for c in service.listing(s, (Covenant.commune_id == commune.id) & Covenant.comments_open_at.is_not(None))]
    return render_template("covenants/public_index.html", commune=commune, items=items,
                           stages={c.id: service.progress(s, c) for c in items})


@bp.route("/c/<slug>/covenants/<int:covenant_id>", methods=["GET", "POST"])
@public_post_limits
def public_show(slug: str, covenant_id: int):
    covenant = _public(slug, covenant_id)
    s = db_session()
    now = utcnow()
    form = CommentForm()
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            done = act(lambda: service.add_comment(s, covenant, name=form.name.data, address=form.address.data,
                                                   text=form.text.data, now=now),
                       "Cảm ơn! Ý kiến của hộ đã được ghi nhận.",
                       url_for("covenants.public_show", slug=slug, covenant_id=covenant.id), again=True)
            if done is not None:
                return done
    p = service.progress(s, covenant, now)
    return render_template("covenants/public_show.html", c=covenant, p=p, form=form,
                           comment_count=len(service.comments(s, covenant)),
                           amendments=[a for a in service.amendments(s, covenant)
                                       if service.progress(s, a, now).stage == service.RECOGNISED]), status
