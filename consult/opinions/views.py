"""Residents comment; unit representatives answer for their unit; officers
enter replies that arrived on paper."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from consult.access import current_actor, get_scoped, staff_required, visible
from consult.auth.models import ROLE_ADMIN, ROLE_OFFICER, ROLE_UNIT_REP
from consult.communes.service import list_groups
from consult.consultations.models import Consultation
from consult.consultations.parser import row_words
from consult.consultations.views import public_consultation
from consult.db import db_session
from consult.pages import act
from consult.opinions.limits import public_post_limits
from consult.opinions import service
from consult.opinions.forms import PaperReplyForm, ResidentOpinionForm, UnitCommentForm
from consult.opinions.models import CHANNEL_PAPER, Opinion, UnitReply
from consult.timeutil import utcnow

bp = Blueprint("opinions", __name__)


def _part_choices(consultation: Consultation):
    """Each part by its label and the start of its words, so that it is found without the draft at hand."""
    return [(0, "Toàn bộ dự thảo")] + [(p.id, f"{'  ' * p.depth}{p.label}{_gist(p)}") for p in consultation.parts]


def _gist(part, width: int = 60) -> str:
    words = " ".join((part.title or part.text or "").split())
    if part.kind == "row":  # "| 1 | Quỹ đền ơn đáp nghĩa | 10.000 đồng/hộ |" → "1 · Quỹ đền ơn đáp nghĩa · …"
        words = row_words(part.text)
    if not words:
        return ""
    return " — " + (words if len(words) <= width else words[:width].rsplit(" ", 1)[0] + "…")


def _chosen_part(consultation: Consultation, part_id: int | None):
    return next((p for p in consultation.parts if part_id and p.id == part_id), None)


def _back_to_part(slug: str, consultation: Consultation, part_id: int | None) -> str:
    """The public draft at the part just commented on (its page of a long draft, at its anchor)."""
    from consult.consultations.service import draft_pages, part_tree

    part = _chosen_part(consultation, part_id)
    if part is None:
        return url_for("consultations.public_show", slug=slug, consultation_id=consultation.id)
    pages = draft_pages(part_tree(consultation))
    number = next((i for i, page in enumerate(pages, 1) if _holds(page.views, part.id)), 1)
    return url_for("consultations.public_show", slug=slug, consultation_id=consultation.id,
                   **({"page": number} if number > 1 else {}), _anchor=part.anchor)


def _holds(views, part_id: int) -> bool:
    return any(v.part.id == part_id or _holds(v.children, part_id) for v in views)


def _speaks_for_unit(consultation: Consultation) -> bool:
    """A signed-in representative of a unit invited to this draft: what they write is the unit's."""
    return (current_user.is_authenticated and getattr(current_user, "role", None) == ROLE_UNIT_REP
            and current_user.unit_id is not None
            and any(i.unit_id == current_user.unit_id for i in consultation.invitations))



# --- residents -----------------------------------------------------------------------

@bp.route("/c/<slug>/consultations/<int:consultation_id>/comment", methods=["GET", "POST"])
@public_post_limits
def resident_comment(slug: str, consultation_id: int):
    consultation = public_consultation(slug, consultation_id)
    if request.method == "GET" and _speaks_for_unit(consultation):
        return redirect(url_for("opinions.unit_reply", consultation_id=consultation.id,
                                **({"part": request.args["part"]} if request.args.get("part") else {})))
    form = ResidentOpinionForm()
    form.part_id.choices = _part_choices(consultation)
    form.group_id.choices = [(0, "— chọn khu phố, thôn —")] + [
        (g.id, g.full_name) for g in list_groups(db_session(), consultation.commune_id)]
    if request.method == "GET" and request.args.get("part", type=int):
        form.part_id.data = request.args.get("part", type=int)
    now = utcnow()
    if request.method == "POST" and form.validate_on_submit():
        done = act(lambda: service.add_resident_opinion(
            db_session(), consultation, part_id=form.part_id.data or None, text=form.text.data,
            name=form.name.data, group_id=form.group_id.data or None, phone=form.phone.data),
            "Cảm ơn bạn! Ý kiến đã được ghi nhận.",
            _back_to_part(slug, consultation, form.part_id.data), again=True, form=form)
        return done or (render_template("opinions/resident_form.html", form=form, c=consultation, now=now,
                                        open=consultation.accepts_opinions(now),
                                        part=_chosen_part(consultation, form.part_id.data)), 422)
    return render_template("opinions/resident_form.html", form=form, c=consultation, now=now,
                           open=consultation.accepts_opinions(now), part=_chosen_part(consultation, form.part_id.data))


# --- unit representatives -----------------------------------------------------------------

@bp.route("/opinions/")
@staff_required(ROLE_UNIT_REP)
def unit_index():
    rows = db_session().scalars(select(Consultation).where(visible(current_user, Consultation))
                                .order_by(Consultation.closes_at.desc()))
    replies = {r.consultation_id: r for r in db_session().scalars(
        select(UnitReply).where(visible(current_user, UnitReply)))}
    return render_template("opinions/unit_index.html", consultations=list(rows), replies=replies, now=utcnow())


@bp.route("/opinions/consultations/<int:consultation_id>", methods=["GET", "POST"])
@staff_required(ROLE_UNIT_REP)
def unit_reply(consultation_id: int):
    consultation = get_scoped(Consultation, consultation_id)
    form = UnitCommentForm()
    form.part_id.choices = _part_choices(consultation)
    if request.method == "GET" and request.args.get("part", type=int):
        form.part_id.data = request.args.get("part", type=int)
    session = db_session()
    if form.validate_on_submit():
        def reply() -> str:
            if request.form.get("agree"):
                service.agree_without_comment(session, current_actor(), consultation, current_user.unit_id)
                return "Đã gửi: Nhất trí với dự thảo, không có ý kiến góp ý."
            added = service.add_unit_comments(session, current_actor(), consultation, current_user.unit_id,
                                              [(form.part_id.data or None, form.text.data)])
            return ("Đã gửi ý kiến góp ý của đơn vị." if added else
                    "Nội dung chỉ thể hiện sự nhất trí nên được ghi nhận là: Nhất trí với dự thảo, "
                    "không có ý kiến góp ý.")

        done = act(reply, lambda message: message, url_for("opinions.unit_reply", consultation_id=consultation.id),
                   again=True, form=form)
        if done:
            return done
    reply = session.scalar(select(UnitReply).where(UnitReply.consultation_id == consultation.id,
                                                   visible(current_user, UnitReply)))
    mine = service.list_opinions(session, consultation, within=visible(current_user, Opinion))
    now = utcnow()
    return render_template("opinions/unit_reply.html", c=consultation, form=form, reply=reply, mine=mine,
                           open=consultation.accepts_opinions(now), now=now,
                           part=_chosen_part(consultation, form.part_id.data))


# --- officers: replies on paper --------------------------------------------------------

@bp.route("/opinions/consultations/<int:consultation_id>/paper", methods=["GET", "POST"])
@staff_required(ROLE_OFFICER, ROLE_ADMIN)
def paper_reply(consultation_id: int):
    consultation = get_scoped(Consultation, consultation_id)
    session = db_session()
    summary = service.reply_summary(session, consultation)
    form = PaperReplyForm()
    form.unit_id.choices = [(s.unit.id, f"{s.unit.name} — {s.label}") for s in summary.units]
    for row in form.comments:
        row.part_id.choices = _part_choices(consultation)
    if form.validate_on_submit():
        upload = request.files.get("attachment")
        letter = service.PaperLetter(number=form.letter_number.data, letter_date=form.letter_date.data,
                                     filename=upload.filename if upload else None,
                                     data=upload.read() if upload and upload.filename else None)
        limit = current_app.config["UPLOAD_MAX_BYTES"]
        def record() -> None:
            if form.kind.data == "agree":
                service.agree_without_comment(session, current_actor(), consultation, form.unit_id.data,
                                              channel=CHANNEL_PAPER, letter=letter, max_bytes=limit)
            else:
                comments = [(row.part_id.data or None, row.text.data) for row in form.comments
                            if (row.text.data or "").strip()]
                service.add_unit_comments(session, current_actor(), consultation, form.unit_id.data, comments,
                                          channel=CHANNEL_PAPER, letter=letter, max_bytes=limit)

        done = act(record, "Đã ghi nhận văn bản trả lời của đơn vị.",
                   url_for("consultations.replies", consultation_id=consultation.id), again=True)
        if done:
            return done
    return render_template("opinions/paper_form.html", c=consultation, form=form)


@bp.route("/opinions/replies/<int:reply_id>/attachment")
@staff_required(ROLE_OFFICER, ROLE_ADMIN)
def attachment(reply_id: int):
    reply = db_session().get(UnitReply, reply_id)
    consultation = db_session().get(Consultation, reply.consultation_id) if reply else None
    if consultation is None:
        abort(404)
    get_scoped(Consultation, consultation.id)  # 404 outside the officer's commune
    if not reply.attachment_blob:
        abort(404)
    return Response(reply.attachment_blob, mimetype=reply.attachment_mimetype, headers={
        "Content-Disposition": f"inline; filename*=UTF-8''{quote(reply.attachment_name)}",
        "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"})
