"""canned replies: organization-wide and personal reply texts with placeholders

Revision ID: 0016_canned_replies
Revises: 0015_feedback
Create Date: 2026-11-23 19:20:00

"""
import sqlalchemy as sa
from alembic import op

from autotrack.models.types import UTCDateTime

revision = '0016_canned_replies'
down_revision = '0015_feedback'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'canned_replies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=True),
        sa.Column('title', sa.String(length=120), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_canned_replies_org_id_organizations')),
        sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_canned_replies_owner_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_canned_replies')),
    )
    op.create_index('ix_canned_replies_org_owner', 'canned_replies', ['org_id', 'owner_id', 'title'])


def downgrade():
    op.drop_table('canned_replies')
