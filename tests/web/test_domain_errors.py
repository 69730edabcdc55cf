"""One way to refuse (issue #25, point 6): every refusal of a rule is a ``DomainError``, and one
handler rolls the request back and answers with the rule's words and its status."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest
from flask import get_flashed_messages, render_template_string
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import StringField

import consult
from consult.communes.models import Commune
from consult.db import db_session
from consult.errors import DomainError
from consult.extensions import csrf
from consult.pages import act
from consult.polls.errors import AlreadyVoted, PollError

ROOT = Path(consult.__file__).resolve().parent
# The stand-alone verifier imports nothing of consult, so that anyone can copy it out and run
# it on a published record; its Invalid never reaches a page.
STAND_ALONE = {"consult.verify.Invalid"}


def _consult_classes():
    for info in pkgutil.walk_packages([str(ROOT)], prefix="consult."):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__:
                yield f"{cls.__module__}.{cls.__qualname__}", cls


def test_every_refusal_of_the_domain_is_a_domain_error():
    refusals = {name: cls for name, cls in _consult_classes() if issubclass(cls, ValueError)}
    # The ones the issue names, and the others that carry a rule's words to a user.
    for expected in ("PollError", "AlreadyVoted", "BallotRejected", "PickupRefused", "ConsultationError",
                     "ConsultationClosed", "OpinionRejected", "ReportError", "PublicationError", "CovenantError",
                     "HouseholdError", "ImportRejected", "JobError", "UploadRejected", "ProposalError",
                     "AccountError", "StructureError", "MailError", "DocumentError", "FormNotAllowed",
                     "KeyShareError", "DraftParseError", "UnreadableDraft"):
        assert any(name.endswith(f".{expected}") for name in refusals), expected
    strays = sorted(name for name, cls in refusals.items()
                    if not issubclass(cls, DomainError) and name not in STAND_ALONE and cls is not DomainError)
    assert strays == []


def test_a_domain_error_keeps_being_a_value_error_with_its_status_and_field():
    error = PollError("Không được.", field="title")
    assert isinstance(error, ValueError) and str(error) == "Không được."
    assert (error.status, error.field) == (422, "title")
    assert PollError("x").field is None
    assert AlreadyVoted("x", status=409).status == 409 and AlreadyVoted("x").status == 422


class _NameForm(FlaskForm):
    class Meta:
        csrf = False

    name = StringField()


def _routes(app):
    """Throwaway routes: each adds a commune, then a rule refuses."""
    def add_then_refuse(**kwargs):
        db_session().add(Commune(slug="tam-thoi", kind="xa", name="Tạm thời", province="Thử"))
        db_session().flush()
        raise PollError("Cuộc biểu quyết đã kết thúc.", **kwargs)

    def refused_post():
        add_then_refuse()

    def refused_get():
        add_then_refuse(status=409)

    def back():
        return "|".join(get_flashed_messages())

    def acted():
        return act(add_then_refuse, "Đã lưu.", "/_test/back")

    def form_again():
        form = _NameForm()
        done = act(lambda: add_then_refuse(field="name"), "Đã lưu.", "/_test/back", again=True, form=form)
        return done or (render_template_string(
            "{% for e in form.name.errors %}<p class=field-error>{{ e }}</p>{% endfor %}"
            "{% for m in get_flashed_messages() %}<p class=flash>{{ m }}</p>{% endfor %}", form=form), 422)

    for rule, view, methods in (("/_test/refused", refused_post, ["POST"]), ("/_test/refused-get", refused_get, ["GET"]),
                                ("/_test/back", back, ["GET"]), ("/_test/act", acted, ["POST"]),
                                ("/_test/again", form_again, ["POST"])):
        app.add_url_rule(rule, view.__name__, csrf.exempt(view), methods=methods)


def _communes(session) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(Commune).where(Commune.slug == "tam-thoi"))


def test_a_refusal_rolls_back_and_shows_the_rules_words_with_its_status(app, client, session):
    _routes(app)
    response = client.post("/_test/refused")
    assert response.status_code == 422
    assert "Cuộc biểu quyết đã kết thúc." in response.get_data(as_text=True)
    assert _communes(session) == 0

    response = client.get("/_test/refused-get")
    assert response.status_code == 409
    assert "Cuộc biểu quyết đã kết thúc." in response.get_data(as_text=True)
    assert _communes(session) == 0


def test_a_refused_form_goes_back_to_its_page_with_the_words(app, client, session):
    _routes(app)
    response = client.post("/_test/refused", headers={"Referer": "http://localhost/_test/back?x=1"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/_test/back?x=1")
    assert client.get("/_test/back").get_data(as_text=True) == "Cuộc biểu quyết đã kết thúc."
    assert _communes(session) == 0
    # Another site's page is never where a refusal sends the browser.
    response = client.post("/_test/refused", headers={"Referer": "https://elsewhere.example/page"})
    assert response.status_code == 422
    # A change run by pages.act goes back to its own page.
    response = client.post("/_test/act")
    assert response.status_code == 302 and response.headers["Location"].endswith("/_test/back")
    assert client.get("/_test/back").get_data(as_text=True) == "Cuộc biểu quyết đã kết thúc."
    assert _communes(session) == 0


def test_a_form_shown_again_gets_the_words_beside_its_field(app, client, session):
    _routes(app)
    response = client.post("/_test/again", data={"name": "x"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<p class=field-error>Cuộc biểu quyết đã kết thúc.</p>" in page and "class=flash" not in page
    assert _communes(session) == 0


VIEWS = sorted(ROOT.glob("*/views.py"))
OWN_HELPER = re.compile(r"^def (_fail|_act|_action|_done|_run|act)\(", re.MULTILINE)


@pytest.mark.parametrize("path", VIEWS, ids=lambda p: p.parent.name)
def test_no_view_rolls_back_or_refuses_its_own_way(path):
    source = path.read_text(encoding="utf-8")
    assert OWN_HELPER.findall(source) == []
    assert source.count("rollback(") == 0


def test_views_are_found():
    assert len(VIEWS) >= 12
