"""Thin routes over communes.service and auth.service."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from consult.access import COMMUNE_MANAGERS, current_actor, get_scoped, staff_required, visible
from consult.audit import service as audit_service
from consult.auth import service as auth_service
from consult.auth.models import User
from consult.communes import service
from consult.communes.models import Commune, ResidentialGroup, Unit
from consult.db import db_session
from consult.pages import act
from consult.polls import keycards
from consult.admin.forms import CommuneForm, GroupForm, UnitForm, UserEditForm, UserForm
from consult.audit.service import record

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _platform_admin_only():
    if not current_user.is_platform_admin:
        abort(403)


@bp.route("/")
@staff_required(*COMMUNE_MANAGERS)
def index():
    if current_user.is_platform_admin:
        return redirect(url_for("admin.communes"))
    return redirect(url_for("admin.commune", commune_id=current_user.commune_id))


@bp.route("/communes")
@staff_required(*COMMUNE_MANAGERS)
def communes():
    items = service.list_communes(db_session(), visible(current_user, Commune))
    return render_template("admin/communes.html", communes=items)


@bp.route("/communes/new", methods=["GET", "POST"])
@staff_required(*COMMUNE_MANAGERS)
def commune_new():
    _platform_admin_only()
    form = CommuneForm()
    if form.validate_on_submit():
        done = act(lambda: service.save_commune(db_session(), current_actor(), None, kind=form.kind.data,
                                                name=form.name.data, province=form.province.data,
                                                slug=form.slug.data),
                   "Đã thêm xã, phường.", url_for("admin.communes"), again=True)
        if done:
            return done
    return render_template("admin/form.html", form=form, title="Thêm xã, phường")


@bp.route("/communes/<int:commune_id>")
@staff_required(*COMMUNE_MANAGERS)
def commune(commune_id: int):
    item = get_scoped(Commune, commune_id)
    session = db_session()
    users = session.scalars(select(User).where(User.commune_id == item.id).order_by(User.role, User.username))
    return render_template(
        "admin/commune.html", commune=item, groups=service.list_groups(session, item.id),
        units=service.list_units(session, item.id), users=list(users),
        household_counts=service.household_counts(session, item.id),
    )


@bp.route("/communes/<int:commune_id>/edit", methods=["GET", "POST"])
@staff_required(*COMMUNE_MANAGERS)
def commune_edit(commune_id: int):
    item = get_scoped(Commune, commune_id)
    form = CommuneForm(obj=item)
    if form.validate_on_submit():
        done = act(lambda: service.save_commune(db_session(), current_actor(), item, kind=form.kind.data,
                                                name=form.name.data, province=form.province.data,
                                                slug=form.slug.data),
                   "Đã lưu.", url_for("admin.commune", commune_id=item.id), again=True)
        if done:
            return done
    return render_template("admin/form.html", form=form, title=f"Sửa {item.full_name}")


@bp.route("/communes/<int:commune_id>/groups/new", methods=["GET", "POST"])
@staff_required(*COMMUNE_MANAGERS)
def group_new(commune_id: int):
    item = get_scoped(Commune, commune_id)
    form = GroupForm()
    if form.validate_on_submit():
        done = act(lambda: service.save_group(db_session(), current_actor(), item, None, kind=form.kind.data,
                                              name=form.name.data, position=form.position.data or 0,
                                              head_email=form.head_email.data),
                   "Đã thêm khu dân cư.", url_for("admin.commune", commune_id=item.id), again=True)
        if done:
            return done
    return render_template("admin/form.html", form=form, title=f"Thêm khu phố, thôn — {item.full_name}")


@bp.route("/groups/<int:group_id>/edit", methods=["GET", "POST"])
@staff_required(*COMMUNE_MANAGERS)
def group_edit(group_id: int):
    group = get_scoped(ResidentialGroup, group_id)
    form = GroupForm(obj=group)
    if form.validate_on_submit():
        done = act(lambda: service.save_group(db_session(), current_actor(), group.commune, group,
                                              kind=form.kind.data, name=form.name.data,
                                              position=form.position.data or 0, head_email=form.head_email.data),
                   "Đã lưu.", url_for("admin.commune", commune_id=group.commune_id), again=True)
        if done:
            return done
    return render_template("admin/form.html", form=form, title=f"Sửa {group.full_name}")


def _group_choices(commune_id: int):
    return [(0, "— không —")] + [(g.id, g.full_name) for g in service.list_groups(db_session(), commune_id)]


@bp.route("/communes/<int:commune_id>/units/new", methods=["GET", "POST"])
@staff_required(*COMMUNE_MANAGERS)
def unit_new(commune_id: int):
    item = get_scoped(Commune, commune_id)
    form = UnitForm()
    form.group_id.choices = _group_choices(item.id)
    if form.validate_on_submit():
        done = act(lambda: service.save_unit(db_session(), current_actor(), item, None, kind=form.kind.data,
                                             name=form.name.data, group_id=form.group_id.data,
                                             email=form.email.data),
                   "Đã thêm đơn vị.", url_for("admin.commune", commune_id=item.id), again=True)
        if done:
            return done
    return render_template("admin/form.html", form=form, title=f"Thêm đơn vị — {item.full_name}")


@bp.route("/units/<int:unit_id>/edit", methods=["GET", "POST"])
@staff_required(*COMMUNE_MANAGERS)
def unit_edit(unit_id: int):
    unit = get_scoped(Unit, unit_id)
    commune = db_session().get(Commune, unit.commune_id)
    form = UnitForm(obj=unit)
    form.group_id.choices = _group_choices(unit.commune_id)
    if form.validate_on_submit():
        done = act(lambda: service.save_unit(db_session(), current_actor(), commune, unit, kind=form.kind.data,
                                             name=form.name.data, group_id=form.group_id.data,
                                             email=form.email.data),
                   "Đã lưu.", url_for("admin.commune", commune_id=unit.commune_id), again=True)
        if done:
            return done
    return render_template("admin/form.html", form=form, title=f"Sửa {unit.name}")


@bp.route("/communes/<int:commune_id>/users/new", methods=["GET", "POST"])
@staff_required(*COMMUNE_MANAGERS)
def user_new(commune_id: int):
    item = get_scoped(Commune, commune_id)
    form = UserForm()
    form.group_id.choices = _group_choices(item.id)
    form.unit_id.choices = [(0, "— không —")] + [(u.id, u.name) for u in service.list_units(db_session(), item.id)]
    if form.validate_on_submit():
        done = act(lambda: auth_service.create_user(
            db_session(), current_actor(), username=form.username.data, full_name=form.full_name.data,
            role=form.role.data, password=form.password.data, commune_id=item.id,
            group_id=form.group_id.data or None, unit_id=form.unit_id.data or None),
            "Đã tạo tài khoản.", url_for("admin.commune", commune_id=item.id), again=True)
        if done:
            return done
    return render_template("admin/form.html", form=form, title=f"Thêm tài khoản — {item.full_name}")


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@staff_required(*COMMUNE_MANAGERS)
def user_edit(user_id: int):
    user = get_scoped(User, user_id)
    form = UserEditForm(obj=user)
    if form.validate_on_submit():
        def apply():
            session, actor = db_session(), current_actor()
            if form.active.data != user.active:
                if user.id == current_user.id:
                    raise auth_service.AccountError("Không thể tự khóa tài khoản của mình.")
                auth_service.set_active(session, actor, user, form.active.data)
            if form.new_password.data:
                lost = auth_service.set_password(session, actor, user, form.new_password.data)
                if lost:
                    flash(f"{lost} phiếu giữ khóa chưa nhận của tài khoản này đã mất khi đặt lại mật khẩu: không "
                          "ai mở được nữa. Các cuộc biểu quyết đó vẫn kiểm phiếu được khi đủ đa số thành viên Tổ "
                          "lấy ý kiến nhập mã khóa.", "warning")
            if form.reset_totp.data:
                user.totp_secret, user.totp_enabled, user.totp_last_step = None, False, None
                user.session_version += 1
                record(session, actor, "user.totp_reset", user)

        done = act(apply, "Đã lưu.", url_for("admin.commune", commune_id=user.commune_id)
                   if user.commune_id else url_for("admin.communes"), again=True)
        if done:
            return done
    waiting = keycards.waiting_count(db_session(), user)
    notice = (f"Tài khoản này còn {waiting} phiếu giữ khóa chưa nhận (Tổ lấy ý kiến biểu quyết trực tuyến). Đặt lại "
              "mật khẩu sẽ làm mất các phiếu đó, vì chỉ mật khẩu hiện tại của người dùng mở được; người dùng tự đổi "
              "mật khẩu thì không mất." if waiting else None)
    return render_template("admin/form.html", form=form, title=f"Tài khoản {user.username} — {user.role_label}",
                           notice=notice)


@bp.route("/communes/<int:commune_id>/audit")
@staff_required(*COMMUNE_MANAGERS)
def audit(commune_id: int):
    item = get_scoped(Commune, commune_id)
    entries = audit_service.list_entries(db_session(), commune_id=item.id)
    return render_template("admin/audit.html", commune=item, entries=entries)
