"""consultations: the uploaded draft file carried tracked changes

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02 04:15:00

A draft uploaded with Track Changes not yet accepted is read as if they were (deleted and
moved-away text gone, inserted and moved-to text kept); the check page tells the officer so,
from this flag, for as long as the draft is checked. Drafts read before keep false.
"""
from alembic import op
import sqlalchemy as sa


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('consultation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_had_revisions', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('consultation', schema=None) as batch_op:
        batch_op.drop_column('source_had_revisions')
