"""consultations: the footnotes of a draft's parts

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02 04:40:00

A footnote of an uploaded draft is kept apart from the text: stored with the part whose text
carries its reference, shown under that part on the public page and in the report. Parts read
before have none.
"""
from alembic import op
import sqlalchemy as sa


revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('draft_part', schema=None) as batch_op:
        batch_op.add_column(sa.Column('footnotes', sa.JSON(), server_default=sa.text("'[]'"), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('draft_part', schema=None) as batch_op:
        batch_op.drop_column('footnotes')
