"""proposals: the register's size when a proposal opened for support

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-02 05:20:00

The 10% of Luật Điều 16 is of the group's households as the register stood when the proposal
opened; households imported during the 3 months no longer move the target. Proposals opened
before keep counting against the register now (NULL).
"""
from alembic import op
import sqlalchemy as sa


revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.add_column(sa.Column('households_at_open', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.drop_column('households_at_open')
