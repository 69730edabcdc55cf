from __future__ import annotations

from flask import Blueprint, abort, jsonify, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select, text

from consult.access import ALL_STAFF, staff_required
from consult.communes.models import Commune
from consult.db import db_session

bp = Blueprint("main", __name__)


@bp.route("/")
def index():
    communes = db_session().scalars(select(Commune).order_by(Commune.province, Commune.name)).all()
    if len(communes) == 1 and not current_user.is_authenticated:
        return redirect(url_for("main.commune_home", slug=communes[0].slug))
    return render_template("main/index.html", communes=communes)


@bp.route("/c/<slug>/")
def commune_home(slug: str):
    commune = db_session().scalar(select(Commune).where(Commune.slug == slug))
    if commune is None:
        abort(404)
    from consult.consultations.service import public_consultations
    from consult.timeutil import utcnow

    return render_template("main/commune.html", commune=commune, now=utcnow(),
                           consultations=public_consultations(db_session(), commune.id))


@bp.route("/staff")
@staff_required(*ALL_STAFF)
def staff_home():
    """The desk (``consult.desk``): what waits for this person, then the links by role. The
    heads' reminders by mail are queued by the worker (consult/worker.py), not by this page."""
    from consult.desk import desk
    from consult.polls.keycards import waiting_for
    from consult.timeutil import utcnow

    return render_template("main/staff_home.html", sections=desk(db_session(), current_user, utcnow()),
                           key_shares=waiting_for(db_session(), current_user))


@bp.route("/healthz")
def healthz():
    try:
        db_session().execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any database failure means unhealthy
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
