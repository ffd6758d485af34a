"""heartbeats: when each periodic job last completed, for the health report

Revision ID: 0026_heartbeats
Revises: 0025_category_limits
Create Date: 2026-11-27 14:00:00

"""
import sqlalchemy as sa
from alembic import op

from autotrack.models.types import UTCDateTime

revision = '0026_heartbeats'
down_revision = '0025_category_limits'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'heartbeats',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('last_at', UTCDateTime(), nullable=False),
        sa.Column('detail', sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_heartbeats')),
    )


def downgrade():
    op.drop_table('heartbeats')
