"""Reminder mail to the units that have not replied, and the record of what was sent."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from consult import worker
from consult.access import current_actor, get_scoped, staff_required
from consult.auth.models import ROLE_ADMIN, ROLE_OFFICER
from consult.consultations.models import Consultation
from consult.consultations.views import public_commune, public_consultation
from consult.db import db_session
from consult.pages import act, public_url, refuse_back
from consult.paging import int_key
from consult.mail import service
from consult.mail.forms import NotifyForm, SubscriptionForm
from consult.mail.models import STATUS_LABELS, TOPICS
from consult.opinions.limits import public_post_limits
from consult.opinions.service import reply_summary

bp = Blueprint("mail", __name__)
bp.add_app_template_filter(service.shown_address, "shown_address")
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


# --- residents: told by mail when a draft's results are published ---------------------------

NO_STORE = {"Cache-Control": "no-store"}


@bp.route("/c/<slug>/consultations/<int:consultation_id>/notify", methods=["GET", "POST"])
@public_post_limits
def subscribe(slug: str, consultation_id: int):
    """Nhận thư báo khi có kết quả: a resident leaves an address; a mail asks them to confirm."""
    consultation = public_consultation(slug, consultation_id)
    form = NotifyForm()
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            def ask() -> None:
                service.subscribe_results(db_session(), consultation, form.email.data, confirm_url=lambda token:
                                          public_url("mail.subscription", slug=slug, token=token))

            done = act(ask, "Đã gửi thư xác nhận tới địa chỉ bạn nhập (nếu địa chỉ chưa đăng ký). Hãy mở thư và bấm "
                            "“Xác nhận” để nhận thư báo khi có kết quả.",
                       url_for("consultations.public_show", slug=slug, consultation_id=consultation.id),
                       again=True, form=form)
            if done:
                worker.wake(current_app)
                return done
    return render_template("mail/subscribe.html", form=form, c=consultation), status


@bp.route("/c/<slug>/notify/<token>", methods=["GET", "POST"])
def subscription(slug: str, token: str):
    """The page a confirmation mail links to: GET shows it (a mail scanner that opens the link
    changes nothing), POST confirms or stops."""
    commune = public_commune(slug)
    s = db_session()
    found = service.subscription_of(s, token)
    consultation = s.get(Consultation, found.consultation_id) if found is not None else None
    if consultation is not None and consultation.commune_id != commune.id:
        found = consultation = None
    form = SubscriptionForm()
    if found is not None and form.validate_on_submit():
        if request.form.get("action") == "stop":
            service.stop_subscription(s, found)
            s.commit()
            page = render_template("mail/subscription.html", commune=commune, c=consultation, sub=None, stopped=True,
                                   form=form)
            return page, 200, NO_STORE
        service.confirm_subscription(s, found)
        s.commit()
    page = render_template("mail/subscription.html", commune=commune, c=consultation, sub=found, stopped=False,
                           form=form)
    return page, (200 if found is not None else 404), NO_STORE
