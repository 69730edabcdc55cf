"""reports: the workspace paged by key: each group's place in the draft, and the indexes of its pages

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 10:00:00

The officer's workspace reads a page of groups in the draft's order (all groups, or only those
of one state) as a range of an index, a group's members a page at a time, and its counts from
the indexes alone. The single-column indexes these replace are their prefixes.
"""
from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('opinion_cluster', schema=None) as batch_op:
        batch_op.add_column(sa.Column('part_position', sa.Integer(), server_default=sa.text('-1'), nullable=False))
    op.execute("UPDATE opinion_cluster SET part_position = COALESCE("
               "(SELECT draft_part.position FROM draft_part WHERE draft_part.id = opinion_cluster.part_id), -1)")
    with op.batch_alter_table('opinion_cluster', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_opinion_cluster_consultation_id'))
        batch_op.create_index('ix_opinion_cluster_consultation_order', ['consultation_id', 'part_position', 'id'],
                              unique=False)
        batch_op.create_index('ix_opinion_cluster_consultation_decision_order',
                              ['consultation_id', 'decision', 'part_position', 'id'], unique=False)
    with op.batch_alter_table('cluster_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cluster_member_cluster_id'))
        batch_op.create_index('ix_cluster_member_cluster_id_opinion_id', ['cluster_id', 'opinion_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cluster_member', schema=None) as batch_op:
        batch_op.drop_index('ix_cluster_member_cluster_id_opinion_id')
        batch_op.create_index(batch_op.f('ix_cluster_member_cluster_id'), ['cluster_id'], unique=False)
    with op.batch_alter_table('opinion_cluster', schema=None) as batch_op:
        batch_op.drop_index('ix_opinion_cluster_consultation_decision_order')
        batch_op.drop_index('ix_opinion_cluster_consultation_order')
        batch_op.create_index(batch_op.f('ix_opinion_cluster_consultation_id'), ['consultation_id'], unique=False)
        batch_op.drop_column('part_position')
