"""polls: every online ballot's proofs, the count's record (what it checked, refused and decrypted)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 21:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cast_ballot', schema=None) as batch_op:
        batch_op.add_column(sa.Column('proofs', sa.LargeBinary(), nullable=False, server_default=sa.text("''")))
    with op.batch_alter_table('ballot_box', schema=None) as batch_op:
        batch_op.add_column(sa.Column('record', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('ballot_box', schema=None) as batch_op:
        batch_op.drop_column('record')
    with op.batch_alter_table('cast_ballot', schema=None) as batch_op:
        batch_op.drop_column('proofs')
