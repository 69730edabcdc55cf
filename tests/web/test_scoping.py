"""No page or action of one group or commune is reachable from another's staff.

Every staff route is tried, not a sample: each rule of the URL map whose view
is a staff view, with each of its methods, and every id of a foreign object for
each of its parameters.
"""

import itertools

import pytest

from tests.support.helpers import csrf_from, login
from tests.support.scoping import OTHER_MARKERS, build_world


def _url(app, rule, values):
    """This rule's URL for these values, or None when the rule takes none of them (an endpoint
    of two rules, e.g. a vote's documents and a community's decision, takes its own values)."""
    from werkzeug.routing import ValidationError

    try:
        built = rule.build(values, append_unknown=False)
    except (ValidationError, ValueError):  # AnyConverter: "'minutes' is not one of 'decision'"
        return None
    return None if built is None else built[1]


def _staff_rules(app):
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if hasattr(view, "staff_roles"):
            yield rule


def test_group_head_of_kp1_reaches_nothing_of_kp2_or_another_commune(app, client, session):
    world = build_world(session)
    session.commit()
    login(client, "truong.kp1")
    token = csrf_from(client.get("/auth/account").get_data(as_text=True))
    checked = 0
    for rule in _staff_rules(app):
        args = sorted(rule.arguments)
        unknown = [a for a in args if a not in world.foreign_ids]
        assert not unknown, f"{rule.rule}: add {unknown} to tests/support/scoping.py"
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        if not args:
            for method in methods:
                r = client.open(rule.rule, method=method, data={"csrf_token": token})
                if r.status_code == 200:
                    body = r.get_data(as_text=True)
                    leaked = [m for m in OTHER_MARKERS if m in body]
                    assert not leaked, f"{method} {rule.rule} shows {leaked}"
                checked += 1
            continue
        for values in itertools.product(*(world.foreign_ids[a] for a in args)):
            url = _url(app, rule, dict(zip(args, values)))
            if url is None:
                continue
            for method in methods:
                r = client.open(url, method=method, data={"csrf_token": token})
                assert r.status_code in (403, 404), f"{method} {url} answered {r.status_code}"
                checked += 1
    assert checked > 20


@pytest.mark.parametrize("role", ["officer", "admin"])
def test_commune_staff_reach_nothing_of_another_commune(app, client, session, role):
    import pyotp

    from tests.support.helpers import make_user

    world = build_world(session)
    secret = pyotp.random_base32()
    make_user(session, f"staff.{role}", role, world.commune_a, totp=secret)
    session.commit()
    login(client, f"staff.{role}", totp_secret=secret)
    token = csrf_from(client.get("/auth/account").get_data(as_text=True))
    foreign = {  # objects of commune B only
        "commune_id": [world.commune_b.id],
        "group_id": [world.foreign_ids["group_id"][1]],
        "unit_id": [world.foreign_ids["unit_id"][1]],
        "user_id": [world.foreign_ids["user_id"][1]],
        "household_id": [world.foreign_ids["household_id"][1]],
        "consultation_id": [world.foreign_ids["consultation_id"][0]],
        "part_id": world.foreign_ids["part_id"],
        "reply_id": world.foreign_ids["reply_id"],
        "cluster_id": world.foreign_ids["cluster_id"],
        "opinion_id": world.foreign_ids["opinion_id"],
        "fmt": world.foreign_ids["fmt"],
        "poll_id": world.foreign_ids["poll_id"][1:],
        "poll_household_id": world.foreign_ids["poll_household_id"][1:],
        "doc": world.foreign_ids["doc"],
        "ext": world.foreign_ids["ext"],
        "move": world.foreign_ids["move"],
        "step": world.foreign_ids["step"],
        "local_day_id": world.foreign_ids["local_day_id"][1:],
        "job_id": world.foreign_ids["job_id"],
        "proposal_id": world.foreign_ids["proposal_id"][1:],
        "support_id": world.foreign_ids["support_id"][1:],
        "posting_id": world.foreign_ids["posting_id"],
        "covenant_id": world.foreign_ids["covenant_id"][:1],
    }
    for rule in _staff_rules(app):
        args = sorted(rule.arguments)
        if not args:
            r = client.get(rule.rule) if "GET" in rule.methods else None
            if r is not None and r.status_code == 200:
                assert "Tân Đông Hiệp" not in r.get_data(as_text=True), rule.rule
            continue
        for values in itertools.product(*(foreign[a] for a in args)):
            url = _url(app, rule, dict(zip(args, values)))
            if url is None:
                continue
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                r = client.open(url, method=method, data={"csrf_token": token})
                assert r.status_code in (403, 404), f"{role}: {method} {url} answered {r.status_code}"
