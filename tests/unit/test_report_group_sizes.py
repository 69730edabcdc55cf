"""Each group's size kept by the database (migration 0029): after every kind of write to the
groups (made, answered, split, ungrouped, an opinion or a group deleted, the consultation
deleted), on both databases, every size and the workspace's counts equal the counts of the
members themselves."""

import random

from sqlalchemy import delete, func, select

from consult.audit.service import SYSTEM
from consult.consultations.models import Consultation
from consult.opinions.models import Opinion
from consult.opinions.service import add_resident_opinion
from consult.reports import service, workspace
from consult.reports.models import ClusterMember, OpinionCluster
from tests.support.helpers import make_commune, make_consultation, make_group


def counted(session, consultation_id: int) -> dict[str, int]:
    """The same figures from their sources: the groups' members by state, and the opinions."""
    rows = session.execute(select(OpinionCluster.decision, func.count())
                           .join(ClusterMember, ClusterMember.cluster_id == OpinionCluster.id)
                           .where(OpinionCluster.consultation_id == consultation_id)
                           .group_by(OpinionCluster.decision)).all()
    figures = {decision or "undecided": n for decision, n in rows}
    figures["received"] = session.scalar(select(func.count()).select_from(Opinion)
                                         .where(Opinion.consultation_id == consultation_id))
    return figures


def kept(session, consultation) -> dict[str, int]:
    """The workspace's figures, from the kept sizes."""
    session.flush()
    figures = workspace.counts(session, consultation)
    kept = {decision: n for decision, n in figures.by_decision.items() if n}
    if figures.undecided:
        kept["undecided"] = figures.undecided
    return kept


def check(session, c) -> None:
    assert kept(session, c) == {k: v for k, v in counted(session, c.id).items() if v and k != "received"}
    sizes = dict(session.execute(select(ClusterMember.cluster_id, func.count()).group_by(ClusterMember.cluster_id)).all())
    for cluster_id, member_count in session.execute(select(OpinionCluster.id, OpinionCluster.member_count)):
        assert member_count == sizes.get(cluster_id, 0), cluster_id


def test_the_kept_counts_follow_every_write_to_the_groups(session):
    commune = make_commune(session)
    group = make_group(session, commune)
    c = make_consultation(session, commune, [])
    other = make_consultation(session, commune, [], title="Lấy ý kiến dự thảo Quy chế")
    rng = random.Random(29)
    texts = [f"Đề nghị bổ sung quy định về mức đóng góp số {i}" for i in range(6)]
    for i in range(40):
        target = c if i % 4 else other
        add_resident_opinion(session, target, part_id=target.parts[rng.randrange(2)].id, text=rng.choice(texts),
                             name=f"Người dân {i}", group_id=group.id)
    assert kept(session, c) == {}  # received, not yet grouped
    for consultation in (c, other):
        service.sync_clusters(session, consultation)
    check(session, c)
    check(session, other)
    clusters = session.scalars(select(OpinionCluster).where(OpinionCluster.consultation_id == c.id)
                               .order_by(OpinionCluster.id)).all()
    big = max(clusters, key=lambda cl: cl.member_count)
    assert big.member_count > 2
    service.decide(session, SYSTEM, c, big.id, decision="accepted")
    check(session, c)
    service.decide(session, SYSTEM, c, big.id, decision="not_accepted", explanation="Đã có trong Điều 3.")
    check(session, c)
    members = session.scalars(select(ClusterMember.opinion_id).where(ClusterMember.cluster_id == big.id)
                              .order_by(ClusterMember.opinion_id)).all()
    service.split_off(session, SYSTEM, c, big.id, members[-1])
    check(session, c)
    second = next(cl for cl in clusters if cl.id != big.id and cl.member_count > 1)
    service.ungroup(session, SYSTEM, c, second.id)
    check(session, c)
    # An opinion deleted takes its membership with it; a group deleted, its members.
    session.execute(delete(Opinion).where(Opinion.id == members[0]))
    check(session, c)
    session.execute(delete(OpinionCluster).where(OpinionCluster.id == big.id))
    check(session, c)
    assert workspace.counts(session, c).total == sum(n for s, n in counted(session, c.id).items() if s != "received")
    session.execute(delete(Consultation).where(Consultation.id == c.id))
    session.flush()
    check(session, other)
