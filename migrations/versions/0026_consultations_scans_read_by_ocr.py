"""consultations: drafts uploaded as scans, read by OCR

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-02 08:20:00

A scanned draft is read by OCR in a background job (``ocr_job_id``); once read, the draft is
marked ``read_by_ocr`` and each part keeps the page it starts on and the mean confidence of its
words, shown on the check page so that the officer corrects what OCR got wrong. Drafts read
before were not scans: they have none.
"""
from alembic import op
import sqlalchemy as sa


revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('consultation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ocr_job_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('read_by_ocr', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_foreign_key(batch_op.f('fk_consultation_ocr_job_id_job'), 'job', ['ocr_job_id'], ['id'],
                                    ondelete='SET NULL')
    with op.batch_alter_table('draft_part', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ocr_page', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('ocr_confidence', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('draft_part', schema=None) as batch_op:
        batch_op.drop_column('ocr_confidence')
        batch_op.drop_column('ocr_page')
    with op.batch_alter_table('consultation', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_consultation_ocr_job_id_job'), type_='foreignkey')
        batch_op.drop_column('read_by_ocr')
        batch_op.drop_column('ocr_job_id')
