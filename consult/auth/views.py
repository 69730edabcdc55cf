"""Login with password, then TOTP (required for administrators and officers)."""

from __future__ import annotations

import time

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user

from consult import security
from consult.access import ALL_STAFF, MFA_SESSION_KEY, current_actor, staff_required
from consult.audit.service import Actor, record
from consult.auth import limits, pickup, service
from consult.auth.forms import EnrolForm, LoginForm, PasswordForm, TotpForm
from consult.db import db_session
from consult.pages import attempt, undo
from consult.timeutil import utcnow

bp = Blueprint("auth", __name__, url_prefix="/auth")

PENDING_KEY = limits.PENDING_KEY  # the sign-in limits read the waiting account too
PENDING_SECONDS = 300


def _next_target() -> str:
    target = request.args.get("next") or session.get("login_next")
    return target if security.is_safe_redirect(target) else url_for("main.staff_home")


def _pending_user():
    data = session.get(PENDING_KEY)
    if not data or time.time() - data.get("at", 0) > PENDING_SECONDS:
        session.pop(PENDING_KEY, None)
        return None
    return service.load_user(db_session(), data["key"])


def _finish_login(user, *, mfa: bool):
    next_target = _next_target()
    session.clear()
    login_user(user)
    session[MFA_SESSION_KEY] = mfa
    user.last_login_at = utcnow()
    record(db_session(), Actor(user.id, f"{user.full_name} ({user.username})", request.remote_addr),
           "user.login", user, details={"mfa": mfa})
    db_session().commit()
    response = redirect(next_target)
    limits.remember_device(response, user.username)
    return response


@bp.route("/login", methods=["GET", "POST"])
@limits.limited  # failures count per account and address, or per known device
def login():
    form = LoginForm()
    if request.method == "GET" and security.is_safe_redirect(request.args.get("next")):
        session["login_next"] = request.args["next"]
    if form.validate_on_submit():
        user = service.authenticate(db_session(), form.username.data, form.password.data,
                                    pickup_cost=pickup.cost_from_config(current_app.config))
        if user is None:
            flash("Tên đăng nhập hoặc mật khẩu không đúng.", "error")
            return render_template("auth/login.html", form=form), 401
        db_session().commit()  # a rehashed password, a first pickup key
        if user.totp_enabled or user.totp_required:
            session[PENDING_KEY] = {"key": user.get_id(), "at": time.time()}
            if user.totp_enabled:
                return redirect(url_for("auth.totp"))
            return redirect(url_for("auth.enrol"))
        return _finish_login(user, mfa=False)
    return render_template("auth/login.html", form=form)


@bp.route("/totp", methods=["GET", "POST"])
@limits.limited  # failures count per account and address, or per known device
def totp():
    user = _pending_user()
    if user is None or not user.totp_enabled:
        flash("Phiên đăng nhập đã hết hạn, vui lòng đăng nhập lại.", "error")
        return redirect(url_for("auth.login"))
    form = TotpForm()
    if form.validate_on_submit():
        code = form.code.data.strip()
        ok = service.verify_totp(user, code)
        if not ok and ("-" in code or len(code) == 10):
            ok = service.use_recovery_code(db_session(), user, code)
        if ok:
            return _finish_login(user, mfa=True)
        undo()
        flash("Mã xác thực không đúng hoặc đã được dùng.", "error")
        return render_template("auth/totp.html", form=form), 401
    return render_template("auth/totp.html", form=form)


@bp.route("/enrol", methods=["GET", "POST"])
@limits.limited  # failures count per account and address, or per known device
def enrol():
    """First login of an account that needs TOTP: scan, confirm, save codes."""
    user = _pending_user()
    if user is None:
        flash("Phiên đăng nhập đã hết hạn, vui lòng đăng nhập lại.", "error")
        return redirect(url_for("auth.login"))
    if user.totp_enabled:
        return redirect(url_for("auth.totp"))
    form = EnrolForm()
    if not user.totp_secret:
        service.start_totp_enrolment(user)
        db_session().commit()
    if form.validate_on_submit():
        actor = Actor(user.id, f"{user.full_name} ({user.username})", request.remote_addr)
        codes, refusal = attempt(lambda: service.confirm_totp_enrolment(db_session(), actor, user, form.code.data))
        if refusal is not None:
            flash(str(refusal), "error")
        else:
            db_session().commit()
            _finish_login(user, mfa=True)
            session["fresh_recovery_codes"] = codes
            return redirect(url_for("auth.recovery_codes"))
        return _render_enrol(user, form), 401
    return _render_enrol(user, form)


def _render_enrol(user, form):
    uri = service.provisioning_uri(user, current_app.config["TOTP_ISSUER"])
    return render_template("auth/enrol.html", form=form, qr=service.qr_svg(uri), secret=user.totp_secret)


@bp.route("/recovery-codes")
@staff_required(*ALL_STAFF)
def recovery_codes():
    codes = session.pop("fresh_recovery_codes", None)
    if not codes:
        return redirect(url_for("auth.account"))
    return render_template("auth/recovery_codes.html", codes=codes)


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        user = current_user._get_current_object()
        record(db_session(), current_actor(), "user.logout", user)
        # The session ends on the server too: a copy of the cookie stops working.
        service.end_sessions(user)
        db_session().commit()
    logout_user()
    session.clear()
    flash("Bạn đã đăng xuất.", "info")
    return redirect(url_for("main.index"))


@bp.route("/account", methods=["GET", "POST"])
@staff_required(*ALL_STAFF)
def account():
    form = PasswordForm()
    user = current_user._get_current_object()
    if form.validate_on_submit():
        if not security.verify_password(user.password_hash, form.current.data):
            flash("Mật khẩu hiện tại không đúng.", "error")
        else:
            _, refusal = attempt(lambda: service.set_password(db_session(), current_actor(), user, form.new.data,
                                                              current_password=form.current.data,
                                                              pickup_cost=pickup.cost_from_config(current_app.config)))
            if refusal is not None:
                flash(str(refusal), "error")
            else:
                db_session().commit()
                login_user(user)  # the session version changed
                flash("Đã đổi mật khẩu.", "success")
                return redirect(url_for("auth.account"))
    remaining = service.remaining_recovery_codes(db_session(), user)
    return render_template("auth/account.html", form=form, remaining=remaining)


@bp.route("/account/recovery-codes", methods=["POST"])
@staff_required(*ALL_STAFF)
def regenerate_codes():
    user = current_user._get_current_object()
    if not user.totp_enabled:
        flash("Tài khoản chưa bật xác thực hai lớp.", "error")
        return redirect(url_for("auth.account"))
    codes = service.regenerate_recovery_codes(db_session(), user)
    record(db_session(), current_actor(), "user.recovery_codes", user)
    db_session().commit()
    session["fresh_recovery_codes"] = codes
    return redirect(url_for("auth.recovery_codes"))
