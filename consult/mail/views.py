"""Reminder mail to the units that have not replied, and the record of what was sent."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from consult import worker
from consult.access import current_actor, get_scoped, staff_required
from consult.auth.models import ROLE_ADMIN, ROLE_OFFICER
from consult.consultations.models import Consultation
from consult.db import db_session
from consult.pages import refuse_back
from consult.paging import int_key
from consult.mail import service
from consult.mail.models import STATUS_LABELS, TOPICS
from consult.opinions.service import reply_summary

bp = Blueprint("mail", __name__)
OFFICERS = (ROLE_OFFICER, ROLE_ADMIN)
# Messages on one page of the commune's mail.
PAGE_SIZE = 100


@bp.route("/consultations/<int:consultation_id>/reminders/mail", methods=["POST"])
@staff_required(*OFFICERS)
def send_reminders(consultation_id: int):
    consultation = get_scoped(Consultation, consultation_id)
    s = db_session()
    refuse_back(url_for("consultations.reminders", consultation_id=consultation.id))
    queued, without = service.queue_reminders(s, current_actor(), consultation, reply_summary(s, consultation),
                                              reply_url=url_for("opinions.unit_index", _external=True))
    s.commit()
    if queued:
        worker.wake(current_app)  # delivered by the worker, never inside the request
        flash(f"Đã xếp {queued} thư nhắc vào hàng gửi.", "success")
    else:
        flash("Không có thư nhắc mới để gửi.", "error")
    if without:
        flash(f"{len(without)} đơn vị chưa có địa chỉ thư điện tử: in danh sách để nhắc trực tiếp.", "error")
    return redirect(url_for("mail.outbox", consultation_id=consultation.id))


@bp.route("/consultations/<int:consultation_id>/mail")
@staff_required(*OFFICERS)
def outbox(consultation_id: int):
    consultation = get_scoped(Consultation, consultation_id)
    configured = bool(current_app.config.get("SMTP_HOST"))
    return render_template("mail/outbox.html", c=consultation, mails=service.outbox(db_session(), consultation),
                           labels=STATUS_LABELS, configured=configured)


@bp.route("/mail/")
@staff_required(*OFFICERS)
def commune_outbox():
    """Every message of the commune: to whom, about what, when, and what bounced."""
    if current_user.commune_id is None:
        abort(404)
    status = request.args.get("status", "")
    status = status if status in STATUS_LABELS else None
    # By key (``paging``): ?after=<id> / ?before=<id>; the old ?page=N is the first page.
    page = service.commune_mail(db_session(), current_user.commune_id, status=status, size=PAGE_SIZE,
                                after=int_key(request.args, "after"), before=int_key(request.args, "before"))
    return render_template("mail/commune.html", mails=page, status=status, params={"status": status} if status else {},
                           labels=STATUS_LABELS, topics=TOPICS, configured=bool(current_app.config.get("SMTP_HOST")))
