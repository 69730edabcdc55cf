"""covenants: hương ước, quy ước drafted, commented, adopted and recognised

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-23 13:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('covenant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('draft_text', sa.Text(), nullable=False),
    sa.Column('final_text', sa.Text(), nullable=True),
    sa.Column('amends_id', sa.Integer(), nullable=True),
    sa.Column('comments_open_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('comments_close_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('poll_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['amends_id'], ['covenant.id'], name=op.f('fk_covenant_amends_id_covenant'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['commune_id'], ['commune.id'], name=op.f('fk_covenant_commune_id_commune'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['residential_group.id'], name=op.f('fk_covenant_group_id_residential_group'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['poll_id'], ['poll.id'], name=op.f('fk_covenant_poll_id_poll'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_covenant'))
    )
    with op.batch_alter_table('covenant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_covenant_commune_id'), ['commune_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_covenant_group_id'), ['group_id'], unique=False)

    op.create_table('covenant_comment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('covenant_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=160), nullable=False),
    sa.Column('address', sa.String(length=255), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['covenant_id'], ['covenant.id'], name=op.f('fk_covenant_comment_covenant_id_covenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_covenant_comment'))
    )
    with op.batch_alter_table('covenant_comment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_covenant_comment_covenant_id'), ['covenant_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('covenant_comment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_covenant_comment_covenant_id'))
    op.drop_table('covenant_comment')
    with op.batch_alter_table('covenant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_covenant_group_id'))
        batch_op.drop_index(batch_op.f('ix_covenant_commune_id'))
    op.drop_table('covenant')
