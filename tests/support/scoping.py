"""A world of two communes for scoping tests: the group head of khu phố 1 of
commune A must reach nothing of khu phố 2 nor of commune B.

``foreign_ids`` maps every URL parameter name used by a staff route to ids of
objects outside that head's reach. A new route with a new parameter name must
add it here, or the scoping test fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from consult.communes.models import Household
from tests.support.helpers import make_commune, make_consultation, make_group, make_unit, make_user

OTHER_MARKERS = ("Tân Đông Hiệp", "Nguyễn Khu Hai", "Ban điều hành khu phố 2", "KP2-", "Biểu quyết của Khu phố 2",
                 "Đề xuất của Khu phố 2", "Đề xuất của Khu phố Đông")


@dataclass
class World:
    commune_a: object
    commune_b: object
    kp1: object
    kp2: object
    head: object
    foreign_ids: dict[str, list[int]] = field(default_factory=dict)
    extra: dict = field(default_factory=dict)


def build_world(session) -> World:
    a = make_commune(session, name="Bình An", slug="phuong-binh-an")
    b = make_commune(session, name="Tân Đông Hiệp", slug="phuong-tan-dong-hiep")
    kp1 = make_group(session, a, name="Khu phố 1", position=1)
    kp2 = make_group(session, a, name="Khu phố 2", position=2)
    kpb = make_group(session, b, name="Khu phố Đông", position=1)
    unit_kp2 = make_unit(session, a, "Ban điều hành khu phố 2", kind="ban_dieu_hanh", group=kp2)
    unit_b = make_unit(session, b, "Hội Phụ nữ Tân Đông Hiệp")
    make_unit(session, a, "Ban điều hành khu phố 1", kind="ban_dieu_hanh", group=kp1)
    head = make_user(session, "truong.kp1", "group_head", a, group=kp1)
    other_head = make_user(session, "truong.kp2", "group_head", a, group=kp2)
    user_b = make_user(session, "tam.tdh", "officer", b)
    hh1 = Household(commune_id=a.id, group_id=kp1.id, code="KP1-001", representative="Trần Khu Một",
                    address="Số 1, khu phố 1")
    hh2 = Household(commune_id=a.id, group_id=kp2.id, code="KP2-001", representative="Nguyễn Khu Hai",
                    address="Số 2, khu phố 2")
    hhb = Household(commune_id=b.id, group_id=kpb.id, code="KPD-001", representative="Lê Phía Đông",
                    address="Số 3, khu phố Đông")
    session.add_all([hh1, hh2, hhb])
    session.flush()
    cons_a = make_consultation(session, a, [])
    cons_b = make_consultation(session, b, [unit_b])
    from consult.opinions.service import agree_without_comment
    from consult.audit.service import SYSTEM

    reply_b = agree_without_comment(session, SYSTEM, cons_b, unit_b.id)
    from consult.opinions.service import add_resident_opinion
    from consult.reports.service import sync_clusters

    opinion_b = add_resident_opinion(session, cons_b, part_id=None, text="Ý kiến ở Tân Đông Hiệp",
                                     name="Lê Phía Đông", group_id=kpb.id)
    sync_clusters(session, cons_b)
    poll_kp2, household_kp2 = _vote(session, a, kp2)
    poll_b, household_b = _vote(session, b, kpb)
    from datetime import date

    from consult.polls.deadlines import add_local_day

    proposal_kp2, support_kp2 = _proposal(session, a, kp2, "Nguyễn Khu Hai")
    proposal_b, support_b = _proposal(session, b, kpb, "Lê Phía Đông")
    day_a = add_local_day(session, SYSTEM, a.id, date(2026, 8, 21), "Lễ hội").id
    day_b = add_local_day(session, SYSTEM, b.id, date(2026, 8, 21), "Lễ hội").id
    world = World(a, b, kp1, kp2, head)
    world.foreign_ids = {
        "commune_id": [b.id, a.id],  # A itself: a group head is not its administrator
        "group_id": [kp2.id, kpb.id],
        "unit_id": [unit_kp2.id, unit_b.id],
        "user_id": [other_head.id, user_b.id],
        "household_id": [hh2.id, hhb.id],
        # A's consultation too: a group head is not an officer.
        "consultation_id": [cons_b.id, cons_a.id],
        "part_id": [cons_b.parts[0].id],
        "reply_id": [reply_b.id],
        "cluster_id": [_cluster_id(session, opinion_b.id)],
        "opinion_id": [opinion_b.id],
        "fmt": ["docx", "xlsx"],
        "poll_id": [poll_kp2, poll_b],
        "poll_household_id": [household_kp2, household_b],
        "doc": ["decision", "minutes"],
        "ext": ["docx", "pdf"],
        "move": ["indent", "outdent"],
        "step": ["announce", "partials"],  # the key ceremony's JSON steps
        # A's too: a group head keeps no calendar.
        "local_day_id": [day_a, day_b],
        # Residents' proposals (Luật Điều 16) of KP2 and of commune B, each with a pending support.
        "proposal_id": [proposal_kp2, proposal_b],
        "support_id": [support_kp2, support_b],
        # Jobs of others (a slips PDF holds a group's links): of KP2's head, of commune B.
        "job_id": [make_job(session, a, other_head), make_job(session, b, user_b)],
        "posting_id": [make_posting(session, cons_b)],
        # KP2's too: a group head reaches only its own group's.
        "covenant_id": [make_covenant(session, b, kpb), make_covenant(session, a, kp2)],
    }
    return world


def make_covenant(session, commune, group) -> int:
    """A hương ước of ``group`` posted for comments: its id."""
    from datetime import timedelta

    from consult.audit.service import SYSTEM
    from consult.covenants import service
    from consult.timeutil import utcnow

    covenant = service.create(session, SYSTEM, commune, group_id=group.id, kind="huong_uoc",
                              title=f"Hương ước {group.name}", text="Điều 1. Phạm vi.")
    service.open_comments(session, SYSTEM, covenant, utcnow() + timedelta(days=31))
    return covenant.id


def make_posting(session, consultation) -> int:
    """A posting of ``consultation``'s draft at the commune office, with its photo: its id."""
    from consult.publication.models import OFFICE, Posting
    from consult.timeutil import today, utcnow

    posting = Posting(commune_id=consultation.commune_id, consultation_id=consultation.id, subject="draft",
                      channel=OFFICE, place="Trụ sở", posted_on=today(), confirmed_by="Lê Thị Tâm",
                      photo_name="niem-yet.png", photo_mimetype="image/png", photo=b"\x89PNG\r\n\x1a\n",
                      recorded_by="hệ thống", recorded_at=utcnow())
    session.add(posting)
    session.flush()
    return posting.id


def make_job(session, commune, user) -> int:
    """A finished slips job of ``user``, its PDF already downloaded (the download answers 410): the job's id."""
    from consult.jobs.models import DONE, Job
    from consult.timeutil import utcnow

    now = utcnow()
    job = Job(commune_id=commune.id, kind="slips", title="In phiếu: Biểu quyết", params={}, status=DONE, done=3,
              total=3, result_name="phieu.pdf", result_type="application/pdf",
              created_by_id=user.id, created_by=user.username, created_at=now, finished_at=now,
              expires_at=now.replace(year=now.year + 1))
    session.add(job)
    session.flush()
    return job.id


def _cluster_id(session, opinion_id):
    from consult.reports.models import ClusterMember

    return session.get(ClusterMember, opinion_id).cluster_id


def _vote(session, commune, group):
    """A paper-ballot vote of the group with one stub recorded: (poll, household) ids."""
    from datetime import timedelta

    from consult.audit.service import SYSTEM
    from consult.polls import service
    from consult.timeutil import utcnow

    now = utcnow() - timedelta(minutes=1)
    poll = service.create_poll(session, SYSTEM, commune, service.PollInput(
        title=f"Biểu quyết của {group.name}", question="Đồng ý?", matter_kind="k6", form="ballot", opens_at=now,
        closes_at=now + timedelta(days=3), group_ids=[group.id], chosen_by_head_and_front=True,
        committee=[service.CommitteeInput("A", "Đại diện Ban công tác Mặt trận", True),
                   service.CommitteeInput("B", "Thành viên"), service.CommitteeInput("C", "Thành viên")]))
    service.open_poll(session, SYSTEM, poll)
    slip = service.issue_ballots(session, SYSTEM, poll)[0]
    service.record_stub(session, SYSTEM, poll, code=slip.code)
    return poll.id, slip.household.id


def _proposal(session, commune, group, proposer):
    """A residents' proposal of the group, open for support, with one online support
    waiting to be checked: (proposal, support) ids."""
    from consult.audit.service import SYSTEM
    from consult.proposals import service

    proposal = service.submit_proposal(
        session, commune, group_id=group.id, matter_kind="k6", title=f"Đề xuất của {group.name}",
        content="Đề nghị lắp đèn chiếu sáng hẻm.", name=proposer, address=f"Số 9, {group.name}")
    service.open_for_support(session, SYSTEM, proposal)
    support = service.add_online_support(session, proposal, name=proposer, address=f"Số 9, {group.name}")
    return proposal.id, support.id
