"""The authorization matrix: every route of the URL map × every role, in two communes.

For each role (anonymous, unit representative, group head, officer, commune
administrator, platform administrator) a fresh world of two communes is built
(tests/support/scoping.py), the user of that role in commune A signs in, and every
rule of the URL map is tried with each of its methods:

* with objects of A within the user's reach: a role that ``EXPECTED`` allows is
  not refused (403), not sent to the login page, and not told 404 (the objects are
  its own); a role it does not allow gets 403 (anonymous: the login page; see
  ``REFUSED_OTHERWISE`` for the few refusals that answer otherwise);
* with objects of commune B: every role gets 403 or 404 (anonymous: the login page
  on staff routes, 404 on public pages given A's address and B's object).

``EXPECTED`` is written out by hand, not read from the views' ``staff_roles``: a
changed decorator makes this test fail, and so does a new route without its row.
Every request changing a commune's calendar (holidays) is checked in the database
too: only A's administrator changes A's days, and nobody changes B's.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from urllib.parse import urlsplit

import pyotp
import pytest
from sqlalchemy import select

from consult.audit.service import SYSTEM
from consult.communes.models import Household
from consult.polls.models import LocalDay
from tests.support.helpers import csrf_from, login, make_consultation, make_unit, make_user
from tests.support.scoping import _cluster_id, _proposal, _vote, build_world, make_covenant, make_job, make_posting

ANON, UNIT_REP, GROUP_HEAD, OFFICER, ADMIN, PLATFORM = (
    "anonymous", "unit_rep", "group_head", "officer", "admin", "platform_admin")
ROLES = (ANON, UNIT_REP, GROUP_HEAD, OFFICER, ADMIN, PLATFORM)

EVERYONE = frozenset(ROLES)
STAFF = frozenset({UNIT_REP, GROUP_HEAD, OFFICER, ADMIN, PLATFORM})
RUNNERS = frozenset({GROUP_HEAD, OFFICER, ADMIN, PLATFORM})  # households and votes
OFFICERS = frozenset({OFFICER, ADMIN, PLATFORM})  # consultations, replies on paper, reports
ADMINS = frozenset({ADMIN, PLATFORM})
UNIT_REPS = frozenset({UNIT_REP})

# Endpoint -> the roles allowed, for every method; or {method: roles} where they differ.
EXPECTED: dict[str, frozenset | dict[str, frozenset]] = {
    # --- public: sign-in, the commune's pages, ballots, results
    "main.index": EVERYONE,
    "main.healthz": EVERYONE,
    "main.commune_home": EVERYONE,
    "auth.login": EVERYONE,
    "auth.totp": EVERYONE,
    "auth.enrol": EVERYONE,
    "auth.logout": EVERYONE,
    "consultations.public_index": EVERYONE,
    "consultations.public_show": EVERYONE,
    "consultations.source": EVERYONE,
    "covenants.public_index": EVERYONE,
    "covenants.public_show": EVERYONE,
    "opinions.resident_comment": EVERYONE,
    "mail.subscribe": EVERYONE,
    "mail.subscription": EVERYONE,
    "reports.public_report": EVERYONE,
    "reports.public_download": EVERYONE,
    "polls.ballot_code": EVERYONE,
    "polls.ballot": EVERYONE,
    "polls.public_index": EVERYONE,
    "polls.public_show": EVERYONE,
    "polls.public_record": EVERYONE,
    # --- every signed-in account
    "main.staff_home": STAFF,
    "auth.account": STAFF,
    "auth.recovery_codes": STAFF,
    "auth.regenerate_codes": STAFF,
    # --- administrators; only the platform's creates a commune
    "admin.index": ADMINS,
    "admin.communes": ADMINS,
    "admin.commune_new": frozenset({PLATFORM}),
    "admin.commune": ADMINS,
    "admin.commune_edit": ADMINS,
    "admin.group_new": ADMINS,
    "admin.group_edit": ADMINS,
    "admin.unit_new": ADMINS,
    "admin.unit_edit": ADMINS,
    "admin.user_new": ADMINS,
    "admin.user_edit": ADMINS,
    "admin.audit": ADMINS,
    # --- consultations: officers and administrators
    "consultations.index": frozenset({OFFICER, ADMIN}),
    "consultations.new": frozenset({OFFICER, ADMIN}),
    "consultations.show": OFFICERS,
    "consultations.edit": OFFICERS,
    "consultations.publish": OFFICERS,
    "consultations.extend": OFFICERS,
    "consultations.merge_part": OFFICERS,
    "consultations.move_part": OFFICERS,
    "consultations.renumber": OFFICERS,
    "consultations.relabel_part": OFFICERS,
    "consultations.edit_part_text": OFFICERS,
    "consultations.source_file": OFFICERS,
    "consultations.split_part": OFFICERS,
    "consultations.replies": OFFICERS,
    "consultations.reminders": OFFICERS,
    "consultations.opinion_list": OFFICERS,
    "opinions.paper_reply": OFFICERS,
    "opinions.attachment": OFFICERS,
    # --- a unit's own answer
    "opinions.unit_index": UNIT_REPS,
    "opinions.unit_reply": UNIT_REPS,
    # --- the synthesis report
    "reports.workspace": OFFICERS,
    "reports.members": OFFICERS,  # the opinions of one group of the workspace, a page at a time
    "reports.decide": OFFICERS,
    "reports.split": OFFICERS,
    "reports.ungroup": OFFICERS,
    "reports.settings": OFFICERS,
    "reports.print_view": OFFICERS,
    "reports.download": OFFICERS,
    "reports.publish": OFFICERS,
    # --- household register: group heads for their group, the commune's staff
    "households.index": RUNNERS,
    "households.group": RUNNERS,
    "households.template": RUNNERS,
    "households.import_file": RUNNERS,
    "households.new": RUNNERS,
    "households.edit": RUNNERS,
    "households.delete": RUNNERS,
    # --- votes
    "polls.index": RUNNERS,
    "polls.new": RUNNERS,
    "polls.edit": RUNNERS,
    "polls.show": RUNNERS,
    "polls.open_": RUNNERS,
    "polls.close_consent": RUNNERS,
    "polls.close": RUNNERS,
    "polls.ballots": RUNNERS,
    "polls.reprint": RUNNERS,
    "polls.slips": RUNNERS,
    "polls.meeting": RUNNERS,
    "polls.sent": RUNNERS,
    "polls.recognition": frozenset({OFFICER, ADMIN, PLATFORM}),  # the commune's side, not the head's
    "polls.follow_up": RUNNERS,
    "polls.document": RUNNERS,
    # The commune's answer to a decision it must recognise (Luật Điều 21 khoản 2): its own paper.
    "polls.recognition_document": frozenset({OFFICER, ADMIN, PLATFORM}),
    # A board member's own key share (NĐ 59 Điều 5): every account of the commune may be on a
    # board; each finds only its own envelope (the world's online vote has all four on its board).
    "polls.my_share": frozenset({UNIT_REP, GROUP_HEAD, OFFICER, ADMIN}),
    # The key ceremony: each board member's own page and steps (any account of the commune may
    # sit on a board; the world's ceremony has all four on it); the runner's steps.
    "polls.ceremony_page": frozenset({UNIT_REP, GROUP_HEAD, OFFICER, ADMIN}),
    "polls.ceremony_state": frozenset({UNIT_REP, GROUP_HEAD, OFFICER, ADMIN}),
    "polls.ceremony_step": frozenset({UNIT_REP, GROUP_HEAD, OFFICER, ADMIN}),
    "polls.ceremony_start": RUNNERS,
    "polls.ceremony_silent": RUNNERS,
    "polls.ceremony_check": RUNNERS,
    "polls.ceremony_count": RUNNERS,
    # The working-day calendar: the commune's staff read it; only the commune's own
    # administrator changes it (a platform administrator has no commune calendar).
    "polls.holidays": {"GET": frozenset({GROUP_HEAD, OFFICER, ADMIN}), "POST": frozenset({ADMIN})},
    "polls.delete_local_day": frozenset({ADMIN}),
    # --- outgoing documents: the plan, the letter, the register (officers and administrators)
    "documents.plan": OFFICERS,
    "documents.plan_download": OFFICERS,
    "documents.letter": OFFICERS,
    "documents.letter_download": OFFICERS,
    "documents.register": frozenset({OFFICER, ADMIN}),
    "documents.hdnd": OFFICERS,
    "documents.hdnd_download": OFFICERS,
    # --- reminder mail to the units
    "mail.send_reminders": OFFICERS,
    "mail.outbox": OFFICERS,
    "mail.commune_outbox": frozenset({OFFICER, ADMIN}),
    "publication.page": OFFICERS,
    "covenants.index": frozenset({GROUP_HEAD, OFFICER, ADMIN}),
    "covenants.show": RUNNERS,
    "covenants.dossier": RUNNERS,  # the head's hồ sơ đề nghị công nhận (NĐ 61 Điều 11), once adopted
    "publication.end": OFFICERS,
    "publication.photo": OFFICERS,
    # --- residents' proposals (Luật Điều 16): residents propose and support on the public
    # pages; the group head for their group, and the commune's staff, check and decide
    "proposals.public_index": EVERYONE,
    "proposals.public_new": EVERYONE,
    "proposals.public_show": EVERYONE,
    "proposals.support": EVERYONE,
    "proposals.index": RUNNERS,
    "proposals.show": RUNNERS,
    "proposals.open_support": RUNNERS,
    "proposals.refuse": RUNNERS,
    "proposals.confirm_support": RUNNERS,
    "proposals.reject_support": RUNNERS,
    "proposals.paper": RUNNERS,
    "proposals.link_poll": RUNNERS,
    # --- background jobs (a whole ward's slips): every account, each its own jobs only
    "jobs.show": STAFF,
    "jobs.download": STAFF,
}

# Public routes whose object in this world has nothing to show, so 404 is right for every role:
# the world's vote is a paper vote, which has no election record (tests/unit/test_verifiable_vote.py
# downloads an online vote's), is not decided (its documents come with its result:
# tests/unit/test_polls_documents*.py) nor recognised, and the world's hương ước is not adopted
# (their papers are downloaded in tests/web/test_recognition_documents_views.py).
NOTHING_TO_SHOW = {"polls.public_record", "polls.recognition_document", "covenants.dossier", "polls.document"}

# Refusals that are not a 403, each for a stated reason: (endpoint, method, role) -> status.
REFUSED_OTHERWISE: dict[tuple[str, str, str], int] = {
    # A platform administrator has no commune of its own: "my commune" pages answer 404.
    ("consultations.index", "GET", PLATFORM): 404,
    ("consultations.new", "GET", PLATFORM): 404,
    ("consultations.new", "POST", PLATFORM): 404,
    ("polls.holidays", "GET", PLATFORM): 404,
    ("documents.register", "GET", PLATFORM): 404,  # the register of "my commune"
    ("mail.commune_outbox", "GET", PLATFORM): 404,  # the mail of "my commune"
    ("covenants.index", "GET", PLATFORM): 404,  # the covenants of "my commune"
    ("covenants.index", "POST", PLATFORM): 404,
    ("polls.holidays", "POST", PLATFORM): 404,
    ("polls.delete_local_day", "POST", PLATFORM): 404,
    # A platform administrator sits on no commune's board: no share of its own to pick up.
    ("polls.my_share", "GET", PLATFORM): 404,
    ("polls.my_share", "POST", PLATFORM): 404,
    # Nor in any ceremony: it has no member's page there.
    ("polls.ceremony_page", "GET", PLATFORM): 404,
    ("polls.ceremony_state", "GET", PLATFORM): 404,
    ("polls.ceremony_step", "POST", PLATFORM): 404,
    # The calendar page is shared with the commune's staff; their form posts are
    # ignored (200, nothing written: the database check below makes sure of it).
    ("polls.holidays", "POST", OFFICER): 200,
    ("polls.holidays", "POST", GROUP_HEAD): 200,
}

# Public steps of signing in that send back to the login page when no sign-in is under way.
LOGIN_STEPS = {"auth.totp", "auth.enrol"}

# Form data beyond the CSRF token, where an empty form would not test the action.
FORM_DATA = {
    "polls.holidays": {"day": "18/09/2026", "kind": "off", "name": "Lễ hội làng"},
}
NEW_DAY = date(2026, 9, 18)

# Parameters that are not objects: the same value serves both communes.
NOT_OBJECTS = {"fmt", "doc", "ext", "move", "slug", "token", "step"}


def _allowed(endpoint: str, method: str) -> frozenset:
    row = EXPECTED[endpoint]
    return row[method] if isinstance(row, dict) else row


def _rules(app):
    return sorted((r for r in app.url_map.iter_rules() if r.endpoint != "static"), key=lambda r: r.rule)


def test_every_route_has_a_row(app):
    endpoints = {r.endpoint for r in _rules(app)}
    missing = sorted(endpoints - EXPECTED.keys())
    assert not missing, (f"routes without a row in EXPECTED of {__file__}: {missing}; "
                         "add each with the roles allowed to use it")
    stale = sorted(EXPECTED.keys() - endpoints)
    assert not stale, f"rows of EXPECTED for routes that no longer exist: {stale}"
    for endpoint, row in EXPECTED.items():
        if isinstance(row, dict):
            methods = {m for r in _rules(app) if r.endpoint == endpoint for m in r.methods - {"HEAD", "OPTIONS"}}
            assert set(row) == methods, f"{endpoint}: EXPECTED names {sorted(row)}, the route has {sorted(methods)}"
        assert set(row if not isinstance(row, dict) else set().union(*row.values())) <= EVERYONE, endpoint


# --- the world -------------------------------------------------------------------------------

def _arrange(session):
    """build_world, plus objects of commune A within reach of every role and the
    users of each role in A. Returns (own params, per-endpoint overrides, foreign
    params, {role: (username, totp secret)})."""
    from consult.consultations.service import mark_results_published
    from consult.opinions.models import CHANNEL_PAPER
    from consult.opinions.service import PaperLetter, add_resident_opinion, agree_without_comment
    from consult.polls import service as polls
    from consult.reports.service import sync_clusters
    from consult.timeutil import utcnow

    world = build_world(session)
    a, kp1 = world.commune_a, world.kp1
    hh1 = session.scalar(select(Household).where(Household.commune_id == a.id, Household.code == "KP1-001"))
    spare = Household(commune_id=a.id, group_id=kp1.id, code="KP1-002", representative="Phạm Hộ Xóa",
                      address="Số 5, khu phố 1")  # for households.delete
    session.add(spare)
    session.flush()
    unit_rep_unit = make_unit(session, a, "Hội Nông dân Bình An")
    paper_unit = make_unit(session, a, "Đoàn Thanh niên Bình An")
    consultation = make_consultation(session, a, [unit_rep_unit, paper_unit])
    paper = agree_without_comment(session, SYSTEM, consultation, paper_unit.id, channel=CHANNEL_PAPER,
                                  letter=PaperLetter("12/ĐTN", date(2026, 1, 5), "cong-van.pdf",
                                                     b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n"))
    opinion = add_resident_opinion(session, consultation, part_id=None, text="Đề nghị làm rõ phạm vi áp dụng.",
                                   name="Trần Khu Một", group_id=kp1.id)
    sync_clusters(session, consultation)
    posting = make_posting(session, consultation)
    finished = make_consultation(session, a, [], now=utcnow() - timedelta(days=40), days=30,
                                 title="Lấy ý kiến dự thảo Nghị quyết về chợ")
    mark_results_published(session, SYSTEM, finished)
    poll_id, poll_household_id = _vote(session, a, kp1)
    # A vote of its own for the ballot page: printing slips of the first one revokes its links.
    now = utcnow() - timedelta(minutes=1)
    ballot_poll = polls.create_poll(session, SYSTEM, a, polls.PollInput(
        title="Phiếu của khu phố 1", question="Đồng ý?", matter_kind="k6", form="ballot", opens_at=now,
        closes_at=now + timedelta(days=3), group_ids=[kp1.id], chosen_by_head_and_front=True,
        committee=[polls.CommitteeInput("A", "Đại diện Ban công tác Mặt trận", True),
                   polls.CommitteeInput("B", "Thành viên"), polls.CommitteeInput("C", "Thành viên")]))
    polls.open_poll(session, SYSTEM, ballot_poll)
    token = polls.issue_ballots(session, SYSTEM, ballot_poll)[0].token
    target = make_user(session, "muc.tieu", "unit_rep", a, unit=paper_unit)  # for admin.user_edit
    proposal_id, support_id = _proposal(session, a, kp1, "Trần Khu Một")  # open for support, one pending

    users = {GROUP_HEAD: ("truong.kp1", None)}
    jobs = {GROUP_HEAD: make_job(session, a, world.head)}  # each account's own job
    rep = make_user(session, "dai.dien", "unit_rep", a, unit=unit_rep_unit)
    users[UNIT_REP], jobs[UNIT_REP] = ("dai.dien", None), make_job(session, a, rep)
    accounts = {UNIT_REP: rep}
    for role, username, commune in ((OFFICER, "cong.chuc", a), (ADMIN, "quan.tri", a), (PLATFORM, "nen.tang", None)):
        secret = pyotp.random_base32()
        user = make_user(session, username, "officer" if role == OFFICER else "admin", commune, totp=secret)
        users[role], jobs[role] = (username, secret), make_job(session, commune or a, user)
        accounts[role] = user
    jobs[ANON] = jobs[GROUP_HEAD]
    online_poll = _online_vote(session, a, kp1, [accounts[UNIT_REP], world.head, accounts[OFFICER], accounts[ADMIN]])
    ceremony_poll = _ceremony_vote(session, a, kp1, [accounts[UNIT_REP], world.head, accounts[OFFICER], accounts[ADMIN]])

    own = {
        "commune_id": a.id, "group_id": kp1.id, "unit_id": unit_rep_unit.id, "user_id": target.id,
        "household_id": hh1.id, "consultation_id": consultation.id, "part_id": consultation.parts[0].id,
        "reply_id": paper.id, "cluster_id": _cluster_id(session, opinion.id), "opinion_id": opinion.id,
        "poll_id": poll_id, "poll_household_id": poll_household_id,
        "local_day_id": world.foreign_ids["local_day_id"][0],  # A's day of 21/08/2026
        "job_id": jobs,  # the signed-in account's own: see test_authorization_matrix
        "proposal_id": proposal_id, "support_id": support_id,
        "fmt": "docx", "doc": "decision", "ext": "docx", "move": "indent", "slug": a.slug, "token": token,
        "step": "announce",
        "posting_id": posting, "covenant_id": make_covenant(session, a, kp1),
    }
    links: list[str] = []  # a resident's confirmation link for the results mail
    from consult.mail.service import subscribe_results

    subscribe_results(session, consultation, "cu.dan@example.vn", confirm_url=links.append)
    overrides = {
        "mail.subscription": {"token": links[0]},
        "households.delete": {"household_id": spare.id},
        "reports.public_report": {"consultation_id": finished.id},
        "reports.public_download": {"consultation_id": finished.id},
        "polls.my_share": {"poll_id": online_poll},
        **{f"polls.ceremony_{name}": {"poll_id": ceremony_poll}
           for name in ("page", "state", "step", "start", "silent", "check", "count")},
    }
    f = world.foreign_ids
    foreign = {  # commune B's objects, picked from build_world's lists
        "commune_id": world.commune_b.id, "group_id": f["group_id"][1], "unit_id": f["unit_id"][1],
        "user_id": f["user_id"][1], "household_id": f["household_id"][1], "consultation_id": f["consultation_id"][0],
        "part_id": f["part_id"][0], "reply_id": f["reply_id"][0], "cluster_id": f["cluster_id"][0],
        "opinion_id": f["opinion_id"][0], "poll_id": f["poll_id"][1], "poll_household_id": f["poll_household_id"][1],
        "local_day_id": f["local_day_id"][1], "job_id": f["job_id"][1],
        "proposal_id": f["proposal_id"][1], "support_id": f["support_id"][1], "posting_id": f["posting_id"][0],
        "covenant_id": f["covenant_id"][0],
    }
    return world, own, overrides, foreign, users


def _online_vote(session, commune, group, members) -> int:
    """An open online vote of ``group`` whose board is ``members``, each signed in once: its id."""
    from consult.polls import service as polls
    from tests.support.polls import poll_input, signed_in_once

    committee = [polls.CommitteeInput(user.full_name, "Đại diện Ban công tác Mặt trận" if i == 0 else "Thành viên",
                                      i == 0, user_id=signed_in_once(session, user).id)
                 for i, user in enumerate(members)]
    poll = polls.create_poll(session, SYSTEM, commune, poll_input([group], committee=committee,
                                                                  title="Biểu quyết trực tuyến của khu phố 1"))
    polls.open_poll(session, SYSTEM, poll)
    return poll.id


def _ceremony_vote(session, commune, group, members) -> int:
    """A draft online vote of ``group`` whose board is ``members``, its key ceremony started: its id."""
    from consult.polls import keyceremony
    from consult.polls import service as polls
    from tests.support.polls import poll_input

    committee = [polls.CommitteeInput(user.full_name, "Đại diện Ban công tác Mặt trận" if i == 0 else "Thành viên",
                                      i == 0, user_id=user.id) for i, user in enumerate(members)]
    poll = polls.create_poll(session, SYSTEM, commune, poll_input([group], committee=committee,
                                                                  title="Biểu quyết có lễ tạo khóa của khu phố 1"))
    keyceremony.start(session, SYSTEM, poll)
    return poll.id


def _calendar(session):
    session.rollback()
    session.expire_all()
    return set(session.execute(select(LocalDay.commune_id, LocalDay.day)).all())


def _is_login_redirect(response) -> bool:
    return response.status_code in (301, 302, 303, 307, 308) and \
        urlsplit(response.headers.get("Location", "")).path == "/auth/login"


def _verdict(endpoint, method, role, response, allowed: bool) -> str | None:
    """Why this answer is wrong, or None."""
    status = response.status_code
    if status >= 500:
        return f"server error {status}"
    if allowed:
        if status == 403:
            return "403 for an allowed role"
        if _is_login_redirect(response) and endpoint not in LOGIN_STEPS:
            return "sent to the login page though allowed"
        if status == 404 and endpoint not in NOTHING_TO_SHOW:  # every object given is the user's own
            return "404 for an allowed role, with objects of its own commune and group"
        return None
    if role == ANON:
        return None if _is_login_redirect(response) else f"{status} for anonymous, expected the login page"
    expected = REFUSED_OTHERWISE.get((endpoint, method, role), 403)
    return None if status == expected else f"{status}, expected {expected} (role not allowed)"


@pytest.mark.parametrize("role", ROLES)
def test_authorization_matrix(app, client, session, role):
    started = time.monotonic()
    world, own, overrides, foreign, users = _arrange(session)
    own["job_id"] = own["job_id"][role]
    # The published report's files, as the job queued at publication makes them.
    from consult.consultations.models import Consultation
    from consult.reports import published

    finished = session.get(Consultation, overrides["reports.public_download"]["consultation_id"])
    published.build(session, finished, published.folder_of(app))
    a_id = world.commune_a.id
    session.commit()
    if role == ANON:
        token = csrf_from(client.get("/auth/login").get_data(as_text=True))
    else:
        username, secret = users[role]
        login(client, username, totp_secret=secret)
        token = csrf_from(client.get("/auth/account").get_data(as_text=True))
    adapter = app.url_map.bind("localhost")
    rules = _rules(app)
    for rule in rules:
        assert rule.endpoint in EXPECTED, (f"{rule.rule} ({rule.endpoint}) has no row in EXPECTED of {__file__}: "
                                           "add it with the roles allowed to use it")
        unknown = sorted(set(rule.arguments) - own.keys())
        assert not unknown, f"{rule.rule}: add a value for {unknown} to the own objects of _arrange"

    failures, counts = [], {"own": 0, "foreign": 0}

    def check(endpoint, method, url, *, foreign_objects: bool):
        before = _calendar(session) if method == "POST" else None
        data = {"csrf_token": token, **FORM_DATA.get(endpoint, {})} if method == "POST" else None
        response = client.open(url, method=method, data=data)
        where = f"{role}: {method} {url} [{endpoint}]"
        if foreign_objects:
            counts["foreign"] += 1
            public = EXPECTED[endpoint] == EVERYONE
            if not (response.status_code in (403, 404)
                    or (role == ANON and not public and _is_login_redirect(response))):
                failures.append(f"{where} with commune B's objects: {response.status_code}")
        else:
            counts["own"] += 1
            problem = _verdict(endpoint, method, role, response, role in _allowed(endpoint, method))
            if problem:
                failures.append(f"{where}: {problem}")
        if before is None:
            return
        # Only A's administrator changes A's calendar; nobody changes B's.
        after, expected = _calendar(session), before
        if role == ADMIN and not foreign_objects and endpoint == "polls.holidays":
            expected = before | {(a_id, NEW_DAY)}
        elif role == ADMIN and not foreign_objects and endpoint == "polls.delete_local_day":
            expected = before - {(a_id, date(2026, 8, 21))}
        if after != expected:
            failures.append(f"{where} changed the calendar: added {sorted(after - before)}, "
                            f"removed {sorted(before - after)}; expected added {sorted(expected - before)}, "
                            f"removed {sorted(before - expected)}")

    sign_out = []
    for rule in rules:
        values = {name: own[name] for name in rule.arguments}
        values.update({k: v for k, v in overrides.get(rule.endpoint, {}).items() if k in values})
        url = adapter.build(rule.endpoint, values)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if rule.endpoint == "auth.logout":  # ends the session: last
                sign_out.append((rule.endpoint, method, url))
            else:
                check(rule.endpoint, method, url, foreign_objects=False)

    # Commune B's objects, seen from commune A: refused or not found for every role (a
    # platform administrator has no other commune).
    if role != PLATFORM:
        for rule in rules:
            if not set(rule.arguments) - NOT_OBJECTS:
                continue
            url = adapter.build(rule.endpoint, {name: foreign.get(name, own[name]) for name in rule.arguments})
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                check(rule.endpoint, method, url, foreign_objects=True)

    for endpoint, method, url in sign_out:
        check(endpoint, method, url, foreign_objects=False)
    own_cells, foreign_cells = counts["own"], counts["foreign"]

    pairs = sum(len(r.methods - {"HEAD", "OPTIONS"}) for r in rules)
    assert own_cells == pairs, f"{own_cells} cells for {pairs} (route, method) pairs"
    print(f"\nauthorization matrix, {role}: {own_cells} (route, method) cells with commune A's objects, "
          f"{foreign_cells} with commune B's, in {time.monotonic() - started:.1f}s")
    assert not failures, "\n".join(failures)
