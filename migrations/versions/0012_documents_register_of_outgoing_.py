"""documents: register of outgoing documents, consultation plan

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23 11:23:31.939308
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('consultation_plan',
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('forms', sa.JSON(), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('method', sa.Text(), nullable=False),
    sa.Column('timeline', sa.Text(), nullable=False),
    sa.Column('assignments', sa.Text(), nullable=False),
    sa.Column('signer_mode', sa.String(length=4), nullable=False),
    sa.Column('signer_name', sa.String(length=160), nullable=False),
    sa.Column('updated_by', sa.String(length=200), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultation.id'], name=op.f('fk_consultation_plan_consultation_id_consultation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('consultation_id', name=op.f('pk_consultation_plan'))
    )
    op.create_table('outgoing_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('symbol', sa.String(length=40), nullable=False),
    sa.Column('subject', sa.String(length=500), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('signer', sa.String(length=160), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['commune_id'], ['commune.id'], name=op.f('fk_outgoing_document_commune_id_commune'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultation.id'], name=op.f('fk_outgoing_document_consultation_id_consultation'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outgoing_document')),
    sa.UniqueConstraint('commune_id', 'year', 'number', name=op.f('uq_outgoing_document_commune_id_year_number')),
    sa.UniqueConstraint('consultation_id', 'kind', name=op.f('uq_outgoing_document_consultation_id_kind'))
    )
    with op.batch_alter_table('outgoing_document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outgoing_document_commune_id'), ['commune_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outgoing_document_consultation_id'), ['consultation_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('outgoing_document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outgoing_document_consultation_id'))
        batch_op.drop_index(batch_op.f('ix_outgoing_document_commune_id'))

    op.drop_table('outgoing_document')
    op.drop_table('consultation_plan')
