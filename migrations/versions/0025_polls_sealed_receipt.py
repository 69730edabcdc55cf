"""polls: an online ballot's receipt, sealed for the slip it was cast with

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-02 05:30:00

Reopening a slip after voting shows the household's receipt again: it is kept sealed under a
key only the slip gives (its QR token, or its typed code through Argon2id), so the table read
without the slip links no household to a ballot. Ballots cast before have none.
"""
from alembic import op
import sqlalchemy as sa


revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('participation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sealed_receipt', sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('participation', schema=None) as batch_op:
        batch_op.drop_column('sealed_receipt')
