"""polls: the board's key ceremony without a dealer, and the count without the key

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-03 19:30:00

A vote's key made by its board's devices (Pedersen's distributed key generation with Feldman
commitments, ``consult/verify.py``): each member's commitments and proofs, the shares sealed to
the other members' devices, the complaints and the shares revealed to settle them, the sums of
an online phase checked at its close, and each member's proven partial decryption of each sum.
Every column is public; no row holds a secret of the vote key.
"""
from alembic import op
import sqlalchemy as sa



revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'key_ceremony',
        sa.Column('poll_id', sa.Integer(), nullable=False),
        sa.Column('attempt', sa.Integer(), nullable=False),
        sa.Column('members', sa.Integer(), nullable=False),
        sa.Column('threshold', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('joint_key', sa.LargeBinary(length=32), nullable=True),
        sa.ForeignKeyConstraint(['poll_id'], ['poll.id'], name=op.f('fk_key_ceremony_poll_id_poll'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('poll_id', name=op.f('pk_key_ceremony')),
    )
    op.create_table(
        'ceremony_member',
        sa.Column('poll_id', sa.Integer(), nullable=False),
        sa.Column('member', sa.Integer(), nullable=False),
        sa.Column('committee_member_id', sa.Integer(), nullable=False),
        sa.Column('ceremony_key', sa.LargeBinary(length=32), nullable=True),
        sa.Column('commitments', sa.JSON(), nullable=True),
        sa.Column('proofs', sa.JSON(), nullable=True),
        sa.Column('announced_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('shares_sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('public_share', sa.LargeBinary(length=32), nullable=True),
        sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('disqualified', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['committee_member_id'], ['committee_member.id'],
                                name=op.f('fk_ceremony_member_committee_member_id_committee_member'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['poll_id'], ['key_ceremony.poll_id'],
                                name=op.f('fk_ceremony_member_poll_id_key_ceremony'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('poll_id', 'member', name=op.f('pk_ceremony_member')),
    )
    op.create_table(
        'ceremony_share',
        sa.Column('poll_id', sa.Integer(), nullable=False),
        sa.Column('sender', sa.Integer(), nullable=False),
        sa.Column('recipient', sa.Integer(), nullable=False),
        sa.Column('sealed', sa.LargeBinary(), nullable=False),
        sa.Column('complained_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revealed', sa.LargeBinary(length=32), nullable=True),
        sa.Column('upheld', sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(['poll_id'], ['key_ceremony.poll_id'],
                                name=op.f('fk_ceremony_share_poll_id_key_ceremony'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('poll_id', 'sender', 'recipient', name=op.f('pk_ceremony_share')),
    )
    op.create_table(
        'ceremony_tally',
        sa.Column('poll_id', sa.Integer(), nullable=False),
        sa.Column('phase', sa.String(length=10), nullable=False),
        sa.Column('checked', sa.JSON(), nullable=False),
        sa.Column('texts', sa.JSON(), nullable=False),
        sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['poll_id'], ['key_ceremony.poll_id'],
                                name=op.f('fk_ceremony_tally_poll_id_key_ceremony'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('poll_id', 'phase', name=op.f('pk_ceremony_tally')),
    )
    op.create_table(
        'partial_decryption',
        sa.Column('poll_id', sa.Integer(), nullable=False),
        sa.Column('phase', sa.String(length=10), nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=False),
        sa.Column('choice', sa.Integer(), nullable=False),
        sa.Column('member', sa.Integer(), nullable=False),
        sa.Column('m', sa.LargeBinary(length=32), nullable=False),
        sa.Column('c', sa.LargeBinary(length=32), nullable=False),
        sa.Column('v', sa.LargeBinary(length=32), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['poll_id', 'phase'], ['ceremony_tally.poll_id', 'ceremony_tally.phase'],
                                name=op.f('fk_partial_decryption_poll_id_ceremony_tally'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('poll_id', 'phase', 'group_id', 'choice', 'member',
                                name=op.f('pk_partial_decryption')),
    )
    op.create_table(
        'text_partials',
        sa.Column('poll_id', sa.Integer(), nullable=False),
        sa.Column('phase', sa.String(length=10), nullable=False),
        sa.Column('member', sa.Integer(), nullable=False),
        sa.Column('partials', sa.JSON(), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['poll_id', 'phase'], ['ceremony_tally.poll_id', 'ceremony_tally.phase'],
                                name=op.f('fk_text_partials_poll_id_ceremony_tally'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('poll_id', 'phase', 'member', name=op.f('pk_text_partials')),
    )


def downgrade():
    op.drop_table('text_partials')
    op.drop_table('partial_decryption')
    op.drop_table('ceremony_tally')
    op.drop_table('ceremony_share')
    op.drop_table('ceremony_member')
    op.drop_table('key_ceremony')
