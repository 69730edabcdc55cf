"""Household register pages: a group head for their own group, officers for the commune."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from consult.access import current_actor, get_scoped, staff_required, visible_groups
from consult.auth.models import ROLE_ADMIN, ROLE_GROUP_HEAD, ROLE_OFFICER
from consult.communes.models import Commune, Household, ResidentialGroup
from consult.communes.service import household_counts
from consult.db import db_session
from consult.pages import act, attempt
from consult import worker
from consult.households import jobs as import_jobs
from consult.households import service
from consult.households.forms import HouseholdForm, ImportForm

bp = Blueprint("households", __name__, url_prefix="/households")
MANAGERS = (ROLE_ADMIN, ROLE_OFFICER, ROLE_GROUP_HEAD)
# Households on one page of the register (its HTML stays small at any size of group).
PAGE_SIZE = 100


# A search's matches are counted up to this many ("hơn 500 hộ khớp"): a wide search of a large
# register would otherwise read every match to print one number.
SEARCH_COUNT_AT_MOST = 500


def _page(commune_id: int, group_id: int | None, q: str):
    """A page of the register by key (``paging``): ?after=<code> / ?before=<code>; an old
    ?page=N shows the first page."""
    s = db_session()
    after, before = request.args.get("after", "")[:40] or None, request.args.get("before", "")[:40] or None
    found = service.count_households(s, commune_id, group_id, query=q, at_most=SEARCH_COUNT_AT_MOST if q else None)
    return (service.household_page(s, commune_id, group_id, query=q, after=after, before=before, size=PAGE_SIZE),
            f"hơn {SEARCH_COUNT_AT_MOST}" if found > SEARCH_COUNT_AT_MOST and q else found)


@bp.route("/")
@staff_required(*MANAGERS)
def index():
    """The commune's groups with their counts, and a search of the whole register by code
    or name, narrowed to one group."""
    groups = visible_groups()
    q = request.args.get("q", "").strip()[:80]
    group_id = request.args.get("group", 0, type=int) or None
    if len(groups) == 1:
        return redirect(url_for("households.group", group_id=groups[0].id, **({"q": q} if q else {})))
    counts = household_counts(db_session(), current_user.commune_id) if current_user.commune_id else {}
    page, found = None, 0
    if current_user.commune_id and (q or group_id):
        if group_id and group_id not in {g.id for g in groups}:
            group_id = None
        page, found = _page(current_user.commune_id, group_id, q)
    params = {k: v for k, v in (("q", q), ("group", group_id)) if v}
    return render_template("households/index.html", groups=groups, counts=counts, q=q, group_id=group_id,
                           page=page, found=found, params=params, searchable=bool(current_user.commune_id))


@bp.route("/groups/<int:group_id>")
@staff_required(*MANAGERS)
def group(group_id: int):
    item = get_scoped(ResidentialGroup, group_id)
    q = request.args.get("q", "").strip()[:80]
    page, found = _page(item.commune_id, item.id, q)
    return render_template("households/group.html", group=item, households=page, found=found, q=q,
                           params={"group_id": item.id, **({"q": q} if q else {})}, form=ImportForm())


@bp.route("/groups/<int:group_id>/template.csv")
@staff_required(*MANAGERS)
def template(group_id: int):
    item = get_scoped(ResidentialGroup, group_id)
    return Response(service.template_csv(item.name), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=mau-so-ho.csv"})


@bp.route("/groups/<int:group_id>/import", methods=["POST"])
@staff_required(*MANAGERS)
def import_file(group_id: int):
    item = get_scoped(ResidentialGroup, group_id)
    form = ImportForm()
    upload = request.files.get("file")
    if not form.validate_on_submit() or not upload or not upload.filename:
        flash("Hãy chọn tệp .csv hoặc .xlsx để nhập.", "error")
        return redirect(url_for("households.group", group_id=item.id))
    commune = db_session().get(Commune, item.commune_id)
    data = upload.read()
    if len(data) > current_app.config["IMPORT_INLINE_MAX_BYTES"]:
        # A large register: read by a background job whose page shows how far it is.
        job, refusal = attempt(lambda: import_jobs.queue_import(
            db_session(), current_app, item, upload.filename, data, user_id=current_user.id,
            user_name=current_actor().name))
        if refusal is None:
            db_session().commit()
            worker.wake(current_app)
            return redirect(url_for("jobs.show", job_id=job.id))
    else:
        result, refusal = attempt(lambda: service.import_households(
            db_session(), current_actor(), commune,
            service.read_rows(upload.filename, data, max_bytes=current_app.config["UPLOAD_MAX_BYTES"]),
            only_group=item))
    if refusal is not None:
        page, found = _page(item.commune_id, item.id, "")
        return render_template("households/group.html", group=item, households=page, found=found, q="", form=form,
                               params={"group_id": item.id}, import_error=str(refusal),
                               import_errors=getattr(refusal, "errors", [])), refusal.status
    db_session().commit()
    flash(f"Đã nhập: thêm {result.added} hộ, cập nhật {result.updated} hộ.", "success")
    return redirect(url_for("households.group", group_id=item.id))


def _form(commune_id: int, obj=None) -> HouseholdForm:
    form = HouseholdForm(obj=obj)
    form.group_id.choices = [(g.id, g.full_name) for g in visible_groups() if g.commune_id == commune_id]
    return form


def _save(form: HouseholdForm, household: Household | None, success: str):
    """Save the form into the chosen group (which must be within reach); None when refused."""
    target = get_scoped(ResidentialGroup, form.group_id.data)
    return act(lambda: service.save_household(db_session(), current_actor(), target.commune, household, group=target,
                                              code=form.code.data, representative=form.representative.data,
                                              address=form.address.data, members=form.members.data),
               success, url_for("households.group", group_id=target.id), again=True)


@bp.route("/groups/<int:group_id>/new", methods=["GET", "POST"])
@staff_required(*MANAGERS)
def new(group_id: int):
    item = get_scoped(ResidentialGroup, group_id)
    form = _form(item.commune_id)
    if request.method == "GET":
        form.group_id.data = item.id
    if form.validate_on_submit():
        done = _save(form, None, "Đã thêm hộ.")
        if done:
            return done
    return render_template("households/form.html", form=form, title=f"Thêm hộ — {item.full_name}", group=item)


@bp.route("/<int:household_id>/edit", methods=["GET", "POST"])
@staff_required(*MANAGERS)
def edit(household_id: int):
    household = get_scoped(Household, household_id)
    form = _form(household.commune_id, household)
    if form.validate_on_submit():
        done = _save(form, household, "Đã lưu.")
        if done:
            return done
    return render_template("households/form.html", form=form, title=f"Sửa hộ {household.code}",
                           group=household.group, household=household)


@bp.route("/<int:household_id>/delete", methods=["POST"])
@staff_required(*MANAGERS)
def delete(household_id: int):
    household = get_scoped(Household, household_id)
    group_id = household.group_id
    service.remove_household(db_session(), current_actor(), household)
    db_session().commit()
    flash("Đã xóa hộ khỏi sổ. Các cuộc biểu quyết đang mở vẫn tính theo sổ lúc mở.", "success")
    return redirect(url_for("households.group", group_id=group_id))


