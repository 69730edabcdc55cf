"""polls: elections' seats, recognition, per-group meeting counts, local working days

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 08:05:47.930728

National holidays (Tết Nguyên đán and Giỗ Tổ Hùng Vương by the lunar calendar
included) now come from the ``holidays`` package; the ``holiday`` table, which
held only fixed-date ones for every commune at once, gives way to ``local_day``:
each commune's own days off and weekend days worked. Meeting counts of rows
from before have no group: they belong to the vote's only group.
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('local_day',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['commune_id'], ['commune.id'], name=op.f('fk_local_day_commune_id_commune'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_local_day')),
    sa.UniqueConstraint('commune_id', 'day', name=op.f('uq_local_day_commune_id_day'))
    )
    with op.batch_alter_table('local_day', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_local_day_commune_id'), ['commune_id'], unique=False)

    op.drop_table('holiday')
    with op.batch_alter_table('meeting_count', schema=None) as batch_op:
        batch_op.add_column(sa.Column('group_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_meeting_count_group_id_residential_group'), 'residential_group', ['group_id'], ['id'], ondelete='RESTRICT')

    with op.batch_alter_table('poll', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seats', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('received_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('recognition_number', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('recognised_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('refusal_reason', sa.Text(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('poll', schema=None) as batch_op:
        batch_op.drop_column('refusal_reason')
        batch_op.drop_column('recognised_on')
        batch_op.drop_column('recognition_number')
        batch_op.drop_column('received_on')
        batch_op.drop_column('seats')

    with op.batch_alter_table('meeting_count', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_meeting_count_group_id_residential_group'), type_='foreignkey')
        batch_op.drop_column('group_id')

    op.create_table('holiday',
    sa.Column('day', sa.DATE(), nullable=False),
    sa.Column('name', sa.VARCHAR(length=120), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_holiday'))
    )
    with op.batch_alter_table('local_day', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_local_day_commune_id'))

    op.drop_table('local_day')
