"""polls: an index of a vote's households in the order of their code

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23 10:55:00.000000

The public list of the households that took part walks it a page at a time.
"""
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_poll_household_poll_code", "poll_household", ["poll_id", "code"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_poll_household_poll_code", table_name="poll_household")
