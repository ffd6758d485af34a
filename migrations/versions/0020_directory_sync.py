"""directory sync: an organization's directory source URL and interval, the runs with their
diff, and directory entries that stop being listed (deactivated, never deleted)

Revision ID: 0020_directory_sync
Revises: 0019_watchers
Create Date: 2026-11-27 11:30:00

"""
import sqlalchemy as sa
from alembic import op

from autotrack.models.types import LongText, UTCDateTime

revision = '0020_directory_sync'
down_revision = '0019_watchers'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('organizations', sa.Column('directory_url', sa.String(length=500), nullable=True))
    op.add_column('organizations', sa.Column('directory_sync_hours', sa.Integer(), nullable=False,
                                             server_default='24'))
    op.add_column('directory_entries', sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()))
    op.create_table(
        'directory_syncs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('run_key', sa.String(length=80), nullable=False),
        sa.Column('trigger', sa.String(length=12), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('source_url', sa.String(length=500), nullable=False),
        sa.Column('added', sa.Integer(), nullable=False),
        sa.Column('changed', sa.Integer(), nullable=False),
        sa.Column('removed', sa.Integer(), nullable=False),
        sa.Column('diff', LongText, nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('started_at', UTCDateTime(), nullable=False),
        sa.Column('finished_at', UTCDateTime(), nullable=True),
        sa.Column('leased_until', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_directory_syncs_org_id_organizations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_directory_syncs')),
        sa.UniqueConstraint('run_key', name=op.f('uq_directory_syncs_run_key')),
    )
    op.create_index('ix_directory_syncs_org', 'directory_syncs', ['org_id', 'id'])


def downgrade():
    op.drop_table('directory_syncs')
    # Plain drop_column: both databases drop a column in place (SQLite 3.35+), and no index
    # or key uses these.
    op.drop_column('directory_entries', 'active')
    op.drop_column('organizations', 'directory_sync_hours')
    op.drop_column('organizations', 'directory_url')
