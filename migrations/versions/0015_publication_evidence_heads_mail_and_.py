"""publication: where and when drafts and results were posted, with evidence; the group head's
mail address and the vote deadline reminders sent to it

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-23 09:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('posting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=10), nullable=False),
    sa.Column('channel', sa.String(length=12), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('place', sa.String(length=300), nullable=False),
    sa.Column('posted_on', sa.Date(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('confirmed_by', sa.String(length=200), nullable=False),
    sa.Column('photo_name', sa.String(length=255), nullable=True),
    sa.Column('photo_mimetype', sa.String(length=60), nullable=True),
    sa.Column('photo', sa.LargeBinary(), nullable=True),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['commune_id'], ['commune.id'], name=op.f('fk_posting_commune_id_commune'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultation.id'], name=op.f('fk_posting_consultation_id_consultation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['residential_group.id'], name=op.f('fk_posting_group_id_residential_group'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_posting'))
    )
    with op.batch_alter_table('posting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_posting_commune_id'), ['commune_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_posting_consultation_id'), ['consultation_id'], unique=False)
    with op.batch_alter_table('residential_group', schema=None) as batch_op:
        batch_op.add_column(sa.Column('head_email', sa.String(length=200), nullable=True))
    with op.batch_alter_table('outgoing_mail', schema=None) as batch_op:
        batch_op.add_column(sa.Column('poll_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('topic', sa.String(length=12), server_default='reply', nullable=False))
        batch_op.create_index(batch_op.f('ix_outgoing_mail_poll_id'), ['poll_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_outgoing_mail_poll_id_poll'), 'poll', ['poll_id'], ['id'],
                                    ondelete='CASCADE')


def downgrade() -> None:
    with op.batch_alter_table('outgoing_mail', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outgoing_mail_poll_id_poll'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outgoing_mail_poll_id'))
        batch_op.drop_column('topic')
        batch_op.drop_column('poll_id')
    with op.batch_alter_table('residential_group', schema=None) as batch_op:
        batch_op.drop_column('head_email')
    with op.batch_alter_table('posting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_posting_consultation_id'))
        batch_op.drop_index(batch_op.f('ix_posting_commune_id'))
    op.drop_table('posting')
