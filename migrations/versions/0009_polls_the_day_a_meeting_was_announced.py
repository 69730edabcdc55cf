"""polls: the day a meeting was announced to the households

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 10:30:00.000000

A meeting opens only when it was announced at least rules.MEETING_NOTICE_DAYS
days before; meetings from before have no date and keep their state.
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('poll', schema=None) as batch_op:
        batch_op.add_column(sa.Column('announced_on', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('poll', schema=None) as batch_op:
        batch_op.drop_column('announced_on')
