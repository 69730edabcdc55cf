"""The page where officers record where and when a draft and its results were made public."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for

from consult.access import current_actor, get_scoped, staff_required
from consult.auth.models import ROLE_ADMIN, ROLE_OFFICER
from consult.consultations.models import STATUS_PUBLISHED, Consultation
from consult.db import db_session
from consult.pages import act
from consult.publication import service
from consult.publication.forms import EndForm, PostingForm
from consult.publication.models import DRAFT, PORTAL, RESULTS, SUBJECTS, Posting

bp = Blueprint("publication", __name__)
OFFICERS = (ROLE_OFFICER, ROLE_ADMIN)


def _posting(consultation: Consultation, posting_id: int) -> Posting:
    posting = db_session().get(Posting, posting_id)
    if posting is None or posting.consultation_id != consultation.id:
        abort(404)
    return posting


@bp.route("/consultations/<int:consultation_id>/publication", methods=["GET", "POST"])
@staff_required(*OFFICERS)
def page(consultation_id: int):
    """Where the draft and the results were posted, what is still to post (Luật Điều 13)."""
    consultation = get_scoped(Consultation, consultation_id)
    s = db_session()
    form = PostingForm()
    form.group_id.choices = [(0, "—")] + [(g.id, g.full_name) for g in consultation.commune.groups]
    if request.method == "GET":
        form.subject.data = RESULTS if consultation.status == STATUS_PUBLISHED else DRAFT
        form.channel.data = PORTAL
        form.place.data = url_for("consultations.public_show", slug=consultation.commune.slug,
                                  consultation_id=consultation.id, _external=True)
    if request.method == "POST" and form.validate_on_submit():
        photo = form.photo.data
        data = service.PostingInput(
            subject=form.subject.data, channel=form.channel.data, posted_on=form.posted_on.data,
            confirmed_by=form.confirmed_by.data, place=form.place.data or "", group_id=form.group_id.data or None,
            ended_on=form.ended_on.data, photo_name=getattr(photo, "filename", None),
            photo_data=photo.read() if photo else None)
        done = act(lambda: service.record_posting(s, current_actor(), consultation, data),
                   lambda posting: f"Đã ghi nhận: {posting.channel_label}, {posting.place}.",
                   url_for("publication.page", consultation_id=consultation.id), again=True)
        if done is not None:
            return done
    items = service.postings(s, consultation)
    start = service.real_start(s, consultation, items)
    return render_template(
        "publication/page.html", c=consultation, form=form, postings=items, subjects=SUBJECTS,
        draft_places=service.checklist(s, consultation, DRAFT, items=items),
        result_places=(service.checklist(s, consultation, RESULTS, items=items)
                       if consultation.status == STATUS_PUBLISHED else None),
        start=start, shortfall=service.period_shortfall(consultation, start), labels=service.STATE_LABELS,
        end_form=EndForm()), 422 if request.method == "POST" else 200


@bp.route("/consultations/<int:consultation_id>/postings/<int:posting_id>/end", methods=["POST"])
@staff_required(*OFFICERS)
def end(consultation_id: int, posting_id: int):
    consultation = get_scoped(Consultation, consultation_id)
    posting = _posting(consultation, posting_id)
    form = EndForm()
    back = url_for("publication.page", consultation_id=consultation.id)
    if not form.validate_on_submit():
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
        return redirect(back)
    return act(lambda: service.end_posting(db_session(), current_actor(), posting, form.ended_on.data),
               "Đã ghi ngày gỡ.", back)


@bp.route("/consultations/<int:consultation_id>/postings/<int:posting_id>/photo")
@staff_required(*OFFICERS)
def photo(consultation_id: int, posting_id: int):
    consultation = get_scoped(Consultation, consultation_id)
    posting = _posting(consultation, posting_id)
    if not posting.photo:
        abort(404)
    return Response(posting.photo, mimetype=posting.photo_mimetype, headers={
        "Content-Disposition": f"inline; filename*=UTF-8''{quote(posting.photo_name or 'anh')}",
        "Cache-Control": "private, no-store"})
