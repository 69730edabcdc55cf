"""What the staff pages share: one change, committed or refused with the rule's words."""

from __future__ import annotations

from flask import flash, redirect

from consult.db import db_session


def act(run, success, back: str, *, refused: type[Exception]):
    """Run a change: committed and redirected to ``back`` with the message ``success`` (or
    ``success(result)``), or, when the rule refuses it (``refused``), rolled back with the
    rule's message and None returned, so that the page is shown again (status 422)."""
    s = db_session()
    try:
        result = run()
    except refused as exc:
        s.rollback()
        flash(str(exc), "error")
        return None
    s.commit()
    flash(success(result) if callable(success) else success, "success")
    return redirect(back)
