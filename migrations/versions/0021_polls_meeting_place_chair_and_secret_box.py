"""polls: a vote of the whole commune told from one of some groups; a meeting's place and chair; a secret ballot's box

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 01:10:00

A vote of several groups is commune-wide only when it covers every group of the commune (the
commune-wide rule of Luật Điều 21 khoản 1 and the UBND's recognition of khoản 1, 2); the votes
made before, whose several groups were all taken as the commune, keep that reading. The documents
of a meeting name its place and who chaired it, and the biên bản kiểm phiếu of a
secret ballot at a meeting says how many ballots were handed out, returned and invalid
(NĐ 59/2023 Điều 3 khoản 5).
"""
from alembic import op
import sqlalchemy as sa


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('poll', schema=None) as batch_op:
        batch_op.add_column(sa.Column('whole_commune', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('place', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('chair', sa.String(length=160), nullable=True))
    op.execute(sa.text("UPDATE poll SET whole_commune = (group_id IS NULL)"))
    with op.batch_alter_table('meeting_count', schema=None) as batch_op:
        batch_op.add_column(sa.Column('issued', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('returned', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('invalid', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('meeting_count', schema=None) as batch_op:
        batch_op.drop_column('invalid')
        batch_op.drop_column('returned')
        batch_op.drop_column('issued')
    with op.batch_alter_table('poll', schema=None) as batch_op:
        batch_op.drop_column('chair')
        batch_op.drop_column('place')
        batch_op.drop_column('whole_commune')
