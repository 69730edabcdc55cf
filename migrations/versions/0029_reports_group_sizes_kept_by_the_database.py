"""reports: each group's size kept by the database, so the workspace's counts read no member

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-03 17:00:00

Every page of the officer's workspace counted the opinions of each state by joining the
consultation's groups to all their members (the province's whole ``cluster_member`` table,
in PostgreSQL's plan, once it holds 1,000,000 rows: bench/province.py). Now
``opinion_cluster.member_count`` is kept by triggers on ``cluster_member`` (a member added,
removed or moved to another group) in the writing transaction, whichever code path writes,
and the counts are a sum over the consultation's groups read from one index.

The count lives on the group's own row, which answering the group already locks: no row that
all the officers' and residents' writes would share (a per-consultation total would be one,
and two of them taken in different orders a deadlock).
"""
from alembic import op
import sqlalchemy as sa


revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


SQLITE = [
    """CREATE TRIGGER cluster_member_added AFTER INSERT ON cluster_member BEGIN
        UPDATE opinion_cluster SET member_count = member_count + 1 WHERE id = NEW.cluster_id; END""",
    """CREATE TRIGGER cluster_member_removed AFTER DELETE ON cluster_member BEGIN
        UPDATE opinion_cluster SET member_count = member_count - 1 WHERE id = OLD.cluster_id; END""",
    """CREATE TRIGGER cluster_member_moved AFTER UPDATE OF cluster_id ON cluster_member
        WHEN OLD.cluster_id IS NOT NEW.cluster_id BEGIN
        UPDATE opinion_cluster SET member_count = member_count - 1 WHERE id = OLD.cluster_id;
        UPDATE opinion_cluster SET member_count = member_count + 1 WHERE id = NEW.cluster_id; END""",
]

POSTGRESQL = [
    """CREATE FUNCTION cluster_member_count() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('DELETE', 'UPDATE') THEN
            UPDATE opinion_cluster SET member_count = member_count - 1 WHERE id = OLD.cluster_id;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            UPDATE opinion_cluster SET member_count = member_count + 1 WHERE id = NEW.cluster_id;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER cluster_member_added_or_removed AFTER INSERT OR DELETE ON cluster_member
        FOR EACH ROW EXECUTE FUNCTION cluster_member_count()""",
    """CREATE TRIGGER cluster_member_moved AFTER UPDATE OF cluster_id ON cluster_member
        FOR EACH ROW WHEN (OLD.cluster_id IS DISTINCT FROM NEW.cluster_id) EXECUTE FUNCTION cluster_member_count()""",
]


def upgrade() -> None:
    with op.batch_alter_table('opinion_cluster', schema=None) as batch_op:
        batch_op.add_column(sa.Column('member_count', sa.Integer(), server_default='0', nullable=False))
    # What the groups already hold, before the triggers keep it.
    op.execute("""UPDATE opinion_cluster SET member_count =
                  (SELECT COUNT(*) FROM cluster_member WHERE cluster_member.cluster_id = opinion_cluster.id)""")
    with op.batch_alter_table('opinion_cluster', schema=None) as batch_op:
        batch_op.create_index('ix_opinion_cluster_consultation_decision_count',
                              ['consultation_id', 'decision', 'member_count'], unique=False)
    for statement in POSTGRESQL if op.get_bind().dialect.name == 'postgresql' else SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER cluster_member_added_or_removed ON cluster_member")
        op.execute("DROP TRIGGER cluster_member_moved ON cluster_member")
        op.execute("DROP FUNCTION cluster_member_count()")
    else:
        for trigger in ("cluster_member_added", "cluster_member_removed", "cluster_member_moved"):
            op.execute(f"DROP TRIGGER {trigger}")
    with op.batch_alter_table('opinion_cluster', schema=None) as batch_op:
        batch_op.drop_index('ix_opinion_cluster_consultation_decision_count')
        batch_op.drop_column('member_count')
