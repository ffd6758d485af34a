"""two-factor sign-in: a TOTP secret per user (encrypted), one-time recovery codes (hashed), and
an organization's rule that its admins use it

Revision ID: 0024_two_factor
Revises: 0023_security_events
Create Date: 2026-11-27 13:00:00

"""
import sqlalchemy as sa
from alembic import op

from autotrack.models.types import UTCDateTime

revision = '0024_two_factor'
down_revision = '0023_security_events'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('users', sa.Column('totp_secret', sa.String(length=255), nullable=True))
    op.add_column('users', sa.Column('totp_enabled_at', UTCDateTime(), nullable=True))
    op.add_column('users', sa.Column('totp_last_step', sa.Integer(), nullable=True))
    op.add_column('organizations', sa.Column('require_2fa_for_admins', sa.Boolean(), nullable=False,
                                             server_default=sa.false()))
    op.create_table(
        'recovery_codes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('used_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_recovery_codes_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_codes')),
    )
    op.create_index('ix_recovery_codes_user', 'recovery_codes', ['user_id', 'used_at'])


def downgrade():
    op.drop_table('recovery_codes')
    op.drop_column('organizations', 'require_2fa_for_admins')
    op.drop_column('users', 'totp_last_step')
    op.drop_column('users', 'totp_enabled_at')
    op.drop_column('users', 'totp_secret')
