"""throttles: request counters per key and time window (the API token endpoint's rate limit)

Kept in the database, not in a worker's memory or Redis alone: the limit holds across gunicorn
workers and restarts, and in the embedded mode that has no Redis.

Revision ID: 0007_throttles
Revises: 0006_at_risk_indexes
Create Date: 2026-11-23 14:40:00

"""
import sqlalchemy as sa
from alembic import op

import autotrack.models.types

revision = '0007_throttles'
down_revision = '0006_at_risk_indexes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'throttles',
        sa.Column('key', sa.String(length=190), nullable=False),
        sa.Column('window_start', autotrack.models.types.UTCDateTime(), nullable=False),
        sa.Column('hits', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('key', 'window_start', name=op.f('pk_throttles')),
    )


def downgrade():
    op.drop_table('throttles')
