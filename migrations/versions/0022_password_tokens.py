"""password tokens: single-use, expiring links to reset a password or accept an invitation,
kept as hashes

Revision ID: 0022_password_tokens
Revises: 0021_sessions
Create Date: 2026-11-27 12:00:00

"""
import sqlalchemy as sa
from alembic import op

from autotrack.models.types import UTCDateTime

revision = '0022_password_tokens'
down_revision = '0021_sessions'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'password_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('purpose', sa.String(length=8), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('expires_at', UTCDateTime(), nullable=False),
        sa.Column('used_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_password_tokens_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_password_tokens')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_password_tokens_token_hash')),
    )
    op.create_index('ix_password_tokens_user', 'password_tokens', ['user_id', 'used_at'])


def downgrade():
    op.drop_table('password_tokens')
