"""Every staff query is scoped in one place (consult/access.py): each branch of
``access.visible`` is the one some route takes, so no view filters by itself beside it.

The world of the authorization matrix (tests/web/test_authorization_matrix.py) is built
once; each staff role of commune A signs in and opens every staff page it may open, with
objects of its own. Meanwhile ``visible`` is wrapped (in every module that imported it) to
record which of its ``return`` statements answered. Each one must be reached by some
route; only the last, the refusal of anything not named above it, may go unused.
"""

from __future__ import annotations

import ast
import inspect
import sys
import textwrap

from consult import access
from tests.support.helpers import login
from tests.web.test_authorization_matrix import ADMIN, GROUP_HEAD, OFFICER, PLATFORM, UNIT_REP, _arrange, _allowed


def _returns(function) -> list[int]:
    """The line numbers (in the file) of ``function``'s return statements, in order."""
    lines, first = inspect.getsourcelines(function)
    tree = ast.parse(textwrap.dedent("".join(lines)))
    return sorted(node.lineno + first - 1 for node in ast.walk(tree) if isinstance(node, ast.Return))


def _recording(original, reached: dict[int, set]):
    """``original`` wrapped: each call notes (role, model) under the return line it ended on."""
    code = original.__code__

    def visible(user, model):
        last = []

        def local(frame, event, arg):
            if event == "return":
                last.append(frame.f_lineno)
            return local

        def tracer(frame, event, arg):
            return local if frame.f_code is code else None

        previous = sys.gettrace()
        sys.settrace(tracer)
        try:
            condition = original(user, model)
        finally:
            sys.settrace(previous)
        role = "platform_admin" if user.is_platform_admin else user.role
        reached.setdefault(last[-1], set()).add((role, model.__name__))
        return condition

    return visible


def test_every_branch_of_visible_is_taken_by_a_route(app, session, monkeypatch):
    original = access.visible
    reached: dict[int, set] = {}
    recorder = _recording(original, reached)
    for module in [m for name, m in sys.modules.items() if name.startswith("consult") and m is not None]:
        if getattr(module, "visible", None) is original:
            monkeypatch.setattr(module, "visible", recorder)

    world, own, overrides, _foreign, users = _arrange(session)
    session.commit()
    adapter = app.url_map.bind("localhost")
    for role in (UNIT_REP, GROUP_HEAD, OFFICER, ADMIN, PLATFORM):
        client = app.test_client()
        username, secret = users[role]
        login(client, username, totp_secret=secret)
        values_of = dict(own, job_id=own["job_id"][role])
        for rule in app.url_map.iter_rules():
            view = app.view_functions[rule.endpoint]
            if not hasattr(view, "staff_roles") or "GET" not in rule.methods:
                continue
            if role not in _allowed(rule.endpoint, "GET"):
                continue
            values = {name: values_of[name] for name in rule.arguments}
            values.update({k: v for k, v in overrides.get(rule.endpoint, {}).items() if k in values})
            response = client.get(adapter.build(rule.endpoint, values))
            assert response.status_code < 500, f"{role}: GET {rule.rule} answered {response.status_code}"

    returns = _returns(original)
    source = dict(enumerate(inspect.getsourcelines(original)[0], start=inspect.getsourcelines(original)[1]))
    unreached = [f"line {line}: {source[line].strip()}" for line in returns[:-1] if line not in reached]
    assert not unreached, ("branches of access.visible no route takes (a view filtering by itself, "
                           f"or a dead branch): {unreached}; reached: {reached}")
    # The roles' own branches are reached by those roles.
    taken = {role for line in returns[:-1] for role, _model in reached[line]}
    assert {"unit_rep", "group_head", "officer", "admin", "platform_admin"} <= taken
