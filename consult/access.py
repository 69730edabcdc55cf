"""Who may see what: one place for role checks and commune/group scoping.

Every staff view goes through ``staff_required`` and loads objects with
``get_scoped``; both answer 403 or 404 the same way everywhere, so no view
filters by commune on its own.
"""

from __future__ import annotations

from functools import wraps

from flask import abort, redirect, request, session, url_for
from flask_login import current_user
from sqlalchemy import false, select, true

from consult.audit.service import Actor
from consult.auth.models import ROLE_ADMIN, ROLE_GROUP_HEAD, ROLE_OFFICER, ROLE_UNIT_REP, User
from consult.communes.models import Commune, ResidentialGroup
from consult.consultations.models import STATUS_DRAFT, Consultation, Invitation
from consult.db import db_session

MFA_SESSION_KEY = "mfa_ok"


def current_actor() -> Actor:
    ip = request.remote_addr if request else None
    if current_user and current_user.is_authenticated:
        return Actor(id=current_user.id, name=f"{current_user.full_name} ({current_user.username})", ip=ip)
    return Actor(id=None, name="khách", ip=ip)


def staff_required(*roles: str):
    """Logged in, second factor passed where required, and one of ``roles``."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if not fully_signed_in():
                return redirect(url_for("auth.login"))
            if roles and current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.staff_roles = roles
        return wrapped

    return decorator


ALL_STAFF = (ROLE_ADMIN, ROLE_OFFICER, ROLE_GROUP_HEAD, ROLE_UNIT_REP)
COMMUNE_MANAGERS = (ROLE_ADMIN,)


def visible(user: User, model):
    """A SQL condition selecting the rows of ``model`` this user may reach: the platform's
    administrator everything; a commune's administrators and officers their commune's rows;
    a group head their group's (the group, its households, its votes, its proposals, its
    hương ước); a unit's representative the consultations its unit is asked to answer, once
    published, and its unit's own rows (its replies, its opinions). Anything else: nothing."""
    if user.is_platform_admin:
        return true()
    if model is Commune:
        return Commune.id == user.commune_id
    if user.role in (ROLE_ADMIN, ROLE_OFFICER):
        return model.commune_id == user.commune_id
    if user.role == ROLE_GROUP_HEAD:
        if model is ResidentialGroup:
            return (ResidentialGroup.commune_id == user.commune_id) & (ResidentialGroup.id == user.group_id)
        if hasattr(model, "group_id"):
            return (model.commune_id == user.commune_id) & (model.group_id == user.group_id)
    if user.role == ROLE_UNIT_REP:
        if model is Consultation:
            return ((Consultation.commune_id == user.commune_id) & (Consultation.status != STATUS_DRAFT)
                    & Consultation.invitations.any(Invitation.unit_id == user.unit_id))
        if hasattr(model, "unit_id"):
            # A unit is of one commune, so its rows are (a reply carries no commune of its own).
            return model.unit_id == user.unit_id
    return false()


def visible_groups() -> list[ResidentialGroup]:
    """The residential groups this user may reach, in the commune's order."""
    return list(db_session().scalars(select(ResidentialGroup).where(visible(current_user, ResidentialGroup)).order_by(
        ResidentialGroup.commune_id, ResidentialGroup.position, ResidentialGroup.name)))


def get_scoped(model, object_id: int):
    """The object when this user may reach it; 404 otherwise (existence not leaked)."""
    obj = db_session().scalar(select(model).where(model.id == object_id, visible(current_user, model)))
    if obj is None:
        abort(404)
    return obj


def fully_signed_in() -> bool:
    """A staff account past its second factor where one is required."""
    return current_user.is_authenticated and (not current_user.totp_required or bool(session.get(MFA_SESSION_KEY)))


