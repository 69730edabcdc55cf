"""No form answers in English: WTForms' own messages (a choice not offered, a text over its
column, a number that is not one) come out in Vietnamese, and nothing is saved."""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest
from sqlalchemy import select

import consult
from consult.covenants.models import Covenant
from consult.fields import VIETNAMESE, Form
from tests.support.helpers import login, make_user, post_form
from tests.support.polls import group_with_households

ENGLISH = re.compile(r"\b(Not a valid|Invalid|Field cannot|Field must|This field|could not coerce)\b")


def test_every_form_of_consult_speaks_vietnamese(app):
    for module in pkgutil.iter_modules(consult.__path__):
        try:
            importlib.import_module(f"consult.{module.name}.forms")
        except ModuleNotFoundError:
            continue

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    forms = [f for f in subclasses(Form) if f.__module__.startswith("consult.")]
    assert len(forms) > 20
    with app.test_request_context():
        for form_class in forms:
            assert form_class(meta={"csrf": False}).meta.get_translations(None) is VIETNAMESE, form_class
    for english, vietnamese in VIETNAMESE.TEXTS.items():
        assert not ENGLISH.search(vietnamese), english


@pytest.mark.parametrize("change, message", [
    ({"group_id": "abc"}, "Lựa chọn không hợp lệ; hãy chọn trong danh sách."),
    ({"kind": "nghi_quyet"}, "Lựa chọn không hợp lệ; hãy chọn trong danh sách."),
    ({"title": "T" * 400}, "Không được dài quá 300 ký tự."),
])
def test_a_forged_choice_or_an_overlong_text_is_refused_in_vietnamese(client, session, change, message):
    commune, group = group_with_households(session, 2)
    make_user(session, "truong.kp1", "group_head", commune, group=group)
    session.commit()
    login(client, "truong.kp1")
    data = {"group_id": str(group.id), "kind": "huong_uoc", "title": "Hương ước", "text": "Điều 1.", "amends_id": ""}
    r = post_form(client, "/covenants/", {**data, **change})
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and message in page and not ENGLISH.search(page)
    session.rollback()
    assert session.scalars(select(Covenant)).all() == []
