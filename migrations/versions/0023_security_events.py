"""security events: sign-ins and failures, lockouts, denied access, role and password changes,
ended sessions, for the org admin to review. No foreign keys: a sign-in's event must not take
locks on the user's and organization's rows (ticket creation holds the organization's row while
it reads the user's: the two deadlocked on MariaDB)

Revision ID: 0023_security_events
Revises: 0022_password_tokens
Create Date: 2026-11-27 12:30:00

"""
import sqlalchemy as sa
from alembic import op

from autotrack.models.types import UTCDateTime

revision = '0023_security_events'
down_revision = '0022_password_tokens'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'security_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('detail', sa.String(length=500), nullable=True),
        sa.Column('address', sa.String(length=64), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_security_events')),
    )
    op.create_index('ix_security_events_org', 'security_events', ['org_id', 'id'])
    op.create_index('ix_security_events_user', 'security_events', ['user_id', 'id'])


def downgrade():
    op.drop_table('security_events')
