"""What the pages share: one change, committed, or refused with the rule's words. One way.

A service refuses by raising a ``consult.errors.DomainError`` (docs there). A view lets it
go: ``refused``, the one handler ``create_app`` registers for the class, rolls back the
request's transaction (so nothing is half saved), and answers with the rule's words:
a form's POST is sent back where it came from (the ``back`` of ``act``, else the Referer
when it is a page of this site) with the words flashed; anything else gets the error
page with the refusal's status (422 unless the class says otherwise).

A page that shows its own form again, with what was typed and the message beside its
field, catches the refusal through ``attempt`` (or ``act(..., again=True)``), which rolls
back the same way. No view rolls back or catches a refusal by hand.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, render_template, request, url_for

from consult.db import db_session
from consult.errors import DomainError
from consult.security import is_safe_redirect


def undo() -> None:
    """Roll back everything this request changed: its session and its writer's own
    session (``db.writer_session``, a second one on SQLite)."""
    seen = set()
    for key in ("db_writer", "db_session"):
        session = g.get(key)
        if session is not None and id(session) not in seen:
            seen.add(id(session))
            session.rollback()


def attempt(run, form=None):
    """Run a change for a page that shows itself again when refused: ``(result, None)``,
    or ``(None, refusal)`` with the request's transaction rolled back. With ``form``, a
    refusal that names one of its fields (``DomainError.field``) is shown beside it;
    otherwise the caller shows it (``act`` flashes it)."""
    try:
        return run(), None
    except DomainError as refusal:
        undo()
        if form is not None and refusal.problems and all(getattr(form, name, None) is not None
                                                         for name in refusal.problems):
            for name, message in refusal.problems.items():
                field = getattr(form, name)
                field.errors = [*field.errors, message]
            return None, refusal
        field = _field_of(form, refusal)
        if field is not None:
            field.errors = [*field.errors, str(refusal)]
        return None, refusal


def _field_of(form, refusal: DomainError):
    """The field of ``form`` that shows the refusal (the first, when it names several)."""
    if form is None:
        return None
    if refusal.problems and all(getattr(form, name, None) is not None for name in refusal.problems):
        return getattr(form, next(iter(refusal.problems)))
    return getattr(form, refusal.field, None) if refusal.field else None


def act(run, success, back, *, again: bool = False, form=None, refused_to: str | None = None):
    """Run a change: committed and redirected to ``back`` (or ``back(result)``) with the
    message ``success`` (or ``success(result)``). Refused by a rule, the handler (``refused``)
    rolls back and returns to ``refused_to`` (by default ``back``) with the rule's words; with
    ``again``, the words are flashed (or put beside their field of ``form``) and None returned
    instead, so that the page is shown again with what was typed (status 422)."""
    g.refused_back = refused_to or (back if isinstance(back, str) else None)
    if again:
        result, refusal = attempt(run, form)
        if refusal is not None:
            if _field_of(form, refusal) is None:
                flash(str(refusal), "error")
            return None
    else:
        result = run()
    db_session().commit()
    flash(success(result) if callable(success) else success, "success")
    return redirect(back if isinstance(back, str) else back(result))


def refuse_back(back: str) -> None:
    """Where a refusal of this request sends the browser back to (see ``refused``)."""
    g.refused_back = back


def _referer_here() -> str | None:
    """The page the form was on, when it is a page of this site."""
    referer = request.referrer
    if not referer:
        return None
    parts = urlsplit(referer)
    if parts.netloc and parts.netloc != request.host:
        return None
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    return target if is_safe_redirect(target) else None


def refused(error: DomainError):
    """The one handler of the domain's refusals (registered in ``create_app``)."""
    try:
        undo()
    except Exception:  # noqa: BLE001 - the database may be gone; the refusal must still show
        current_app.logger.warning("rollback failed while showing a refusal", exc_info=True)
    message = str(error)
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        back = g.get("refused_back") or _referer_here()
        if back:
            flash(message, "error")
            return redirect(back)
    return render_template("error.html", code=error.status, message=message), error.status


def public_url(endpoint: str, **values) -> str:
    """The full address of a page, for a mail or a printed code: under PUBLIC_BASE_URL when set
    (the address residents know the site by), else the address this request came in on."""
    base = current_app.config.get("PUBLIC_BASE_URL") or request.host_url
    return base.rstrip("/") + url_for(endpoint, **values)
