"""polls: encrypted ballots, the board's key, paper counts

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 07:48:26.227329

Online ballots become ciphertexts (``cast_ballot``) under a key split among the
vote's board; ``ballot_box`` keeps only the result written at the count; paper
ballots are counted by totals (``paper_count``), so ``scan_conflict`` goes, and
receipts are the ballots' trackers, so ``receipt`` goes. An online vote still
open under the old design cannot move over: close it before upgrading.
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    still_open = bind.execute(sa.text(
        "SELECT count(*) FROM poll WHERE form = 'online' AND status = 'open'")).scalar()
    if still_open:
        raise RuntimeError(f"{still_open} online vote(s) still open under the old ballot design: "
                           "close them (flask --app consult db upgrade 0006 is the current schema) and upgrade again.")
    op.create_table('cast_ballot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('poll_id', sa.Integer(), nullable=False),
    sa.Column('phase', sa.String(length=10), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('ciphertext', sa.LargeBinary(), nullable=False),
    sa.Column('sealed_text', sa.LargeBinary(), nullable=False),
    sa.Column('tracker', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['residential_group.id'], name=op.f('fk_cast_ballot_group_id_residential_group'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['poll_id'], ['poll.id'], name=op.f('fk_cast_ballot_poll_id_poll'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cast_ballot')),
    sa.UniqueConstraint('tracker', name=op.f('uq_cast_ballot_tracker'))
    )
    with op.batch_alter_table('cast_ballot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cast_ballot_poll_id'), ['poll_id'], unique=False)

    op.create_table('paper_count',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('poll_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('issued', sa.Integer(), nullable=False),
    sa.Column('returned', sa.Integer(), nullable=False),
    sa.Column('valid', sa.Integer(), nullable=False),
    sa.Column('invalid', sa.Integer(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('other_texts', sa.JSON(), nullable=False),
    sa.Column('place', sa.String(length=255), nullable=False),
    sa.Column('counters', sa.Text(), nullable=False),
    sa.Column('witnesses', sa.Text(), nullable=False),
    sa.Column('counted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['residential_group.id'], name=op.f('fk_paper_count_group_id_residential_group'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['poll_id'], ['poll.id'], name=op.f('fk_paper_count_poll_id_poll'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_paper_count')),
    sa.UniqueConstraint('poll_id', 'group_id', name=op.f('uq_paper_count_poll_id_group_id'))
    )
    with op.batch_alter_table('paper_count', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_paper_count_poll_id'), ['poll_id'], unique=False)

    op.drop_table('receipt')
    with op.batch_alter_table('scan_conflict', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scan_conflict_poll_id'))

    op.drop_table('scan_conflict')
    with op.batch_alter_table('ballot_box', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ballots', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('counted_at', sa.DateTime(timezone=True), nullable=False,
                                      server_default=sa.func.current_timestamp()))
        batch_op.add_column(sa.Column('counted_by', sa.String(length=200), nullable=False, server_default=''))
        batch_op.drop_column('version')

    with op.batch_alter_table('poll', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_key', sa.LargeBinary(length=32), nullable=True))
        batch_op.add_column(sa.Column('texts_key', sa.LargeBinary(length=32), nullable=True))
        batch_op.add_column(sa.Column('key_threshold', sa.Integer(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('poll', schema=None) as batch_op:
        batch_op.drop_column('key_threshold')
        batch_op.drop_column('texts_key')
        batch_op.drop_column('public_key')

    with op.batch_alter_table('ballot_box', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.INTEGER(), nullable=False, server_default='0'))
        batch_op.drop_column('counted_by')
        batch_op.drop_column('counted_at')
        batch_op.drop_column('ballots')

    op.create_table('scan_conflict',
    sa.Column('id', sa.INTEGER(), nullable=False),
    sa.Column('poll_id', sa.INTEGER(), nullable=False),
    sa.Column('poll_household_id', sa.INTEGER(), nullable=False),
    sa.Column('noted_on', sa.DATE(), nullable=False),
    sa.Column('resolved', sa.BOOLEAN(), nullable=False),
    sa.Column('note', sa.TEXT(), nullable=True),
    sa.ForeignKeyConstraint(['poll_household_id'], ['poll_household.id'], name=op.f('fk_scan_conflict_poll_household_id_poll_household'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['poll_id'], ['poll.id'], name=op.f('fk_scan_conflict_poll_id_poll'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scan_conflict'))
    )
    with op.batch_alter_table('scan_conflict', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scan_conflict_poll_id'), ['poll_id'], unique=False)

    op.create_table('receipt',
    sa.Column('poll_id', sa.INTEGER(), nullable=False),
    sa.Column('code', sa.VARCHAR(length=20), nullable=False),
    sa.ForeignKeyConstraint(['poll_id'], ['poll.id'], name=op.f('fk_receipt_poll_id_poll'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('poll_id', 'code', name=op.f('pk_receipt'))
    )
    with op.batch_alter_table('paper_count', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_paper_count_poll_id'))

    op.drop_table('paper_count')
    with op.batch_alter_table('cast_ballot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cast_ballot_poll_id'))

    op.drop_table('cast_ballot')
