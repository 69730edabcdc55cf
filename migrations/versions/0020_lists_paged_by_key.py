"""lists paged by key: the indexes the bulletin, the register, the proposals and the mail walk

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 12:00:00

Each list reads a page as one range of an index in its order (``consult.paging``): a vote's
trackers, a group's households by code, a commune's proposals and mail newest first. The
single-column indexes these replace are their prefixes.
"""
from alembic import op


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cast_ballot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cast_ballot_poll_id'))
        batch_op.create_index('ix_cast_ballot_poll_phase_tracker', ['poll_id', 'phase', 'tracker'], unique=False)
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_household_group_id'))
        batch_op.create_index('ix_household_group_code', ['group_id', 'code'], unique=False)
    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_commune_id'))
        batch_op.create_index('ix_proposal_commune_submitted', ['commune_id', 'submitted_at', 'id'], unique=False)
    with op.batch_alter_table('outgoing_mail', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outgoing_mail_commune_id'))
        batch_op.create_index('ix_outgoing_mail_commune_queued', ['commune_id', 'queued_at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outgoing_mail', schema=None) as batch_op:
        batch_op.drop_index('ix_outgoing_mail_commune_queued')
        batch_op.create_index(batch_op.f('ix_outgoing_mail_commune_id'), ['commune_id'], unique=False)
    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.drop_index('ix_proposal_commune_submitted')
        batch_op.create_index(batch_op.f('ix_proposal_commune_id'), ['commune_id'], unique=False)
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.drop_index('ix_household_group_code')
        batch_op.create_index(batch_op.f('ix_household_group_id'), ['group_id'], unique=False)
    with op.batch_alter_table('cast_ballot', schema=None) as batch_op:
        batch_op.drop_index('ix_cast_ballot_poll_phase_tracker')
        batch_op.create_index(batch_op.f('ix_cast_ballot_poll_id'), ['poll_id'], unique=False)
