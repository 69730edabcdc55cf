"""polls: board members' accounts and their sealed key shares, the accounts' share-pickup keys,
an online vote's early stop and its reason

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pickup_public_key', sa.LargeBinary(length=32), nullable=True))
        batch_op.add_column(sa.Column('pickup_salt', sa.LargeBinary(length=16), nullable=True))
        batch_op.add_column(sa.Column('pickup_opslimit', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('pickup_memlimit', sa.Integer(), nullable=True))
    with op.batch_alter_table('committee_member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_committee_member_user_id'), ['user_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_committee_member_user_id_user_account'), 'user_account',
                                    ['user_id'], ['id'], ondelete='SET NULL')
    with op.batch_alter_table('poll', schema=None) as batch_op:
        batch_op.add_column(sa.Column('early_stopped_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('early_stop_reason', sa.Text(), nullable=True))
    op.create_table('key_share_envelope',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('poll_id', sa.Integer(), nullable=False),
    sa.Column('committee_member_id', sa.Integer(), nullable=False),
    sa.Column('sealed', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('picked_up_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lost_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['committee_member_id'], ['committee_member.id'],
                            name=op.f('fk_key_share_envelope_committee_member_id_committee_member'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['poll_id'], ['poll.id'], name=op.f('fk_key_share_envelope_poll_id_poll'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_key_share_envelope')),
    sa.UniqueConstraint('committee_member_id', name=op.f('uq_key_share_envelope_committee_member_id'))
    )
    with op.batch_alter_table('key_share_envelope', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_key_share_envelope_poll_id'), ['poll_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('key_share_envelope', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_key_share_envelope_poll_id'))
    op.drop_table('key_share_envelope')
    with op.batch_alter_table('poll', schema=None) as batch_op:
        batch_op.drop_column('early_stop_reason')
        batch_op.drop_column('early_stopped_at')
    with op.batch_alter_table('committee_member', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_committee_member_user_id_user_account'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_committee_member_user_id'))
        batch_op.drop_column('user_id')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('pickup_memlimit')
        batch_op.drop_column('pickup_opslimit')
        batch_op.drop_column('pickup_salt')
        batch_op.drop_column('pickup_public_key')
