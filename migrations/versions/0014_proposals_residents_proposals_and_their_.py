"""proposals: residents' proposals and their households' support

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-24 09:12:40.118204
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('proposal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('matter_kind', sa.String(length=4), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('proposer_name', sa.String(length=160), nullable=False),
    sa.Column('proposer_address', sa.String(length=255), nullable=False),
    sa.Column('proposer_phone', sa.String(length=20), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closes_on', sa.Date(), nullable=True),
    sa.Column('reached_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('refused_reason', sa.Text(), nullable=True),
    sa.Column('poll_id', sa.Integer(), nullable=True),
    sa.Column('outcome_note', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('updated_by', sa.String(length=200), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['commune_id'], ['commune.id'], name=op.f('fk_proposal_commune_id_commune'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['residential_group.id'], name=op.f('fk_proposal_group_id_residential_group'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['poll_id'], ['poll.id'], name=op.f('fk_proposal_poll_id_poll'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal'))
    )
    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_commune_id'), ['commune_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposal_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposal_poll_id'), ['poll_id'], unique=False)

    op.create_table('proposal_support',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=True),
    sa.Column('household_code', sa.String(length=40), nullable=True),
    sa.Column('name', sa.String(length=160), nullable=False),
    sa.Column('address', sa.String(length=255), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('confirmed_by', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_proposal_support_household_id_household'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], name=op.f('fk_proposal_support_proposal_id_proposal'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal_support')),
    sa.UniqueConstraint('proposal_id', 'household_id', name=op.f('uq_proposal_support_proposal_id_household_id'))
    )
    with op.batch_alter_table('proposal_support', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_support_household_id'), ['household_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('proposal_support', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_support_household_id'))

    op.drop_table('proposal_support')
    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_poll_id'))
        batch_op.drop_index(batch_op.f('ix_proposal_group_id'))
        batch_op.drop_index(batch_op.f('ix_proposal_commune_id'))

    op.drop_table('proposal')
