"""mail: residents told by mail when a draft's results are published

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-02 16:00:00

A resident leaves an address on a public draft; it counts once confirmed from the mail sent to
it, and is deleted when the results mail is queued or its owner stops it. Only a hash of the
link's token is kept.
"""
from alembic import op
import sqlalchemy as sa


revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'result_subscription',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('consultation_id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=200), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('asked_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['consultation_id'], ['consultation.id'],
                                name=op.f('fk_result_subscription_consultation_id_consultation'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_result_subscription')),
        sa.UniqueConstraint('consultation_id', 'email', name=op.f('uq_result_subscription_consultation_id_email')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_result_subscription_token_hash')),
    )
    with op.batch_alter_table('result_subscription', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_result_subscription_consultation_id'), ['consultation_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('result_subscription', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_result_subscription_consultation_id'))
    op.drop_table('result_subscription')
